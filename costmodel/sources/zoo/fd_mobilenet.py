"""FD-MobileNet: MobileNet with fast downsampling (32x within the first 12 layers).

Source: Z. Qin, Z. Zhang, X. Chen and Y. Peng, "FD-MobileNet: Improved MobileNet with a Fast Downsampling
Strategy", arXiv:1802.03750 (2018), Table 1. Layer for layer as the authors' reference code, qinzheng93/FD-MobileNet
``pyvision/models/ImageNet/MobileNet.py`` (``fast_downsampling_mobilenet``; node names are its module paths):

- a 3x3 stride-2 conv to 32, then 11 depthwise separable layers (3x3 depthwise with the row's stride, 1x1 conv),
  every conv without bias and followed by BN and ReLU; the stride-2 depthwise layers are the first, second,
  fourth and sixth separable layers, so the map is 7x7 after 12 layers (MobileNetV1 reaches 7x7 after 25);
- head: average pool over the 7x7 map (the code's ``AvgPool2d(7)``, a global pool at 224), fully connected to
  1000 with bias; no softmax (no parameters, no mult-adds).

Widths are ``int(c * alpha)`` as in the code (``width_mul``): MobileNetV1's truncation without its floor of 8, the
same widths at every alpha >= 0.25. The paper's complexities: 144, 40 and 12 MFLOPs (mult-adds) at 1x, 0.5x and
0.25x.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...core.scaling import Scaled
from .entry import ModelEntry

SOURCE = "Qin et al. 2018 (arXiv:1802.03750), Table 1; qinzheng93/FD-MobileNet MobileNet.py"

# Table 1, one row per line: (input size, operator, stride, output channels at 1x). The "4x" row is unrolled.
TABLE_1 = (
    ("224x224x3", "conv", 2, 32),       # Conv 3x3
    ("112x112x32", "sep", 2, 64),       # DWConv 3x3 / s2, Conv 1x1
    ("56x56x64", "sep", 2, 128),
    ("28x28x128", "sep", 1, 128),
    ("28x28x128", "sep", 2, 256),
    ("14x14x256", "sep", 1, 256),
    ("14x14x256", "sep", 2, 512),       # 32x downsampling reached: the depthwise conv of layer 12
    ("7x7x512", "sep", 1, 512),         # 4x  DWConv 3x3 / s1, Conv 1x1
    ("7x7x512", "sep", 1, 512),
    ("7x7x512", "sep", 1, 512),
    ("7x7x512", "sep", 1, 512),
    ("7x7x512", "sep", 1, 1024),
)                                       # AvgPool 7x7, FC 1000: the head below


def _conv_bn_relu(builder: GraphBuilder, kind: str, index: "int | str", out: "Scaled | None", stride: int = 1
                  ) -> str:
    """The code's ``features.<kind>conv_<i>``, ``<kind>norm_<i>``, ``<kind>relu_<i>`` (kind ``dw_``, ``pw_`` or
    none): a 3x3 (depthwise when ``out`` is None) or 1x1 convolution, BN and ReLU."""
    names = tuple(f"{kind}{part}_{index}" for part in ("conv", "norm", "relu"))
    return conv_bn_act(builder, "features", out, kernel=3 if out is None or kind == "" else 1, stride=stride,
                       groups="depthwise" if out is None else 1, names=names)  # type: ignore[arg-type]


def fd_mobilenet(num_classes: int = 1000) -> Network:
    """FD-MobileNet (Table 1) with a ``num_classes``-way classifier."""
    builder = GraphBuilder()
    (_, _, stride, out), *rows = TABLE_1
    _conv_bn_relu(builder, "", 0, Scaled(out, "truncate"), stride)
    for index, (_, _, stride, out) in enumerate(rows):
        _conv_bn_relu(builder, "dw_", index, None, stride)
        _conv_bn_relu(builder, "pw_", index, Scaled(out, "truncate"))
    classifier(builder, num_classes, "classifier", pooled("pool"))
    return builder.build("fd_mobilenet", source=SOURCE,
                         description="FD-MobileNet: a 3x3 conv and 11 separable layers, 32x down in 12 layers")


ENTRIES = (
    ModelEntry("fd_mobilenet", fd_mobilenet,
               "FD-MobileNet: MobileNetV1 layers with fast downsampling (7x7 after 12 layers); widths int(c*alpha)",
               SOURCE),
)
