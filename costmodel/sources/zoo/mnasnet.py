"""MnasNet-A1: the mobile network found by platform-aware architecture search.

Source: M. Tan et al., "MnasNet: Platform-Aware Neural Architecture Search for Mobile", arXiv:1807.11626, Figure 7
(the A1 architecture) and Table 1 (3.9M parameters, 312M mult-adds at 224). Layer for layer as timm's
``efficientnet.py`` (``mnasnet_a1``, ported from the authors' TensorFlow code; node names are its module paths):
the EfficientNet family's blocks (``efficientnet``) with ReLU, squeeze-and-excite only where marked, the first
block without a residual, and a 1x1 head to 1280 that does not scale with alpha:

| stage | block | repeats | kernel | stride | expansion | channels | SE |
|---|---|---|---|---|---|---|---|
| 0 | SepConv | 1 | 3 | 1 | 1 | 16 | - |
| 1 | MBConv6 | 2 | 3 | 2 | 6 | 24 | - |
| 2 | MBConv3 | 3 | 5 | 2 | 3 | 40 | 0.25 |
| 3 | MBConv6 | 4 | 3 | 2 | 6 | 80 | - |
| 4 | MBConv6 | 2 | 3 | 1 | 6 | 112 | 0.25 |
| 5 | MBConv6 | 3 | 5 | 2 | 6 | 160 | 0.25 |
| 6 | MBConv6 | 1 | 3 | 1 | 6 | 320 | - |

alpha is the channel multiplier (the authors' "depth multiplier", which scales widths); ``--depth`` scales the
repeats as EfficientNet's code does.
"""
from __future__ import annotations

from ...core.ir import Network
from ...core.scaling import Scaled
from .efficientnet import efficientnet_family
from .entry import ModelEntry

SOURCE = "Tan et al. 2019 (arXiv:1807.11626), Figure 7 and Table 1; timm efficientnet.py (mnasnet_a1)"

A1 = (
    ("ds", 1, 3, 1, 1, 16, 0.0),
    ("ir", 2, 3, 2, 6, 24, 0.0),
    ("ir", 3, 5, 2, 3, 40, 0.25),
    ("ir", 4, 3, 2, 6, 80, 0.0),
    ("ir", 2, 3, 1, 6, 112, 0.25),
    ("ir", 3, 5, 2, 6, 160, 0.25),
    ("ir", 1, 3, 1, 6, 320, 0.0),
)


def mnasnet_a1(num_classes: int = 1000, depth: float = 1.0) -> Network:
    return efficientnet_family("mnasnet_a1", A1, "relu", 1.0, depth, Scaled(1280), num_classes,
                               "MnasNet-A1 (Figure 7): SepConv and MBConv blocks, SE in three stages, ReLU", SOURCE,
                               noskip_first=True)


ENTRIES = (
    ModelEntry("mnasnet_a1", mnasnet_a1, "MnasNet-A1: searched MBConv network with SE in three stages (3.9M params)",
               SOURCE, accepts_depth=True),
)
