"""MobileNetV3-Large and MobileNetV3-Small.

Source: A. Howard et al., "Searching for MobileNetV3", arXiv:1905.02244, Table 1 (Large) and Table 2 (Small).
Layer for layer as the reference implementation torchvision ``models/mobilenetv3.py`` (node names are its module
paths):

- every width (the expansion widths of the table included) is ``make_divisible(c * alpha, 8)``;
- a bneck: 1x1 expansion + BN + NL (absent when the expansion width equals the input width), k x k depthwise (the
  stride) + BN + NL, squeeze-and-excite when marked, 1x1 projection + BN (linear); a residual add when the stride
  is 1 and the rounded input and output widths are equal;
- squeeze-and-excite: global average pool, 1x1 to ``make_divisible(exp // 4, 8)`` with bias + ReLU, 1x1 back to
  exp with bias + hard-sigmoid, and a channel-wise multiply;
- NL is ReLU (RE) or h-swish (HS); the stem is a 3x3 stride-2 conv to 16 with h-swish;
- head: 1x1 to 6 x the last bneck width + BN + h-swish, global average pool, fully connected to the penultimate
  width (Large 1280, Small 1024, both scaled by alpha as in torchvision) + h-swish, dropout 0.2, fully connected to
  1000. The paper's tables draw the two head layers as "conv2d 1x1, NBN" (no BatchNorm): the same cost.

Widths below alpha = 1 follow one of the two reference implementations (option ``reference``); at alpha = 1 they
are the same network:

- ``torchvision`` (default): the expansion width is ``make_divisible(exp * alpha, 8)`` and the penultimate FC
  width is scaled too;
- ``tfslim`` (TF-slim ``mobilenet_v3.py``, whose checkpoints the paper's Table 3 reports): the expansion width is
  the table's factor exp / in times the block's rounded input width, ``make_divisible(M * exp / in, 8)``, and the
  penultimate width is kept at full size (``finegrain_classification_mode``). Large 0.75 counts 140.0M mult-adds
  and 3.38M params under the first rule, 154.6M and 3.99M under the second (the paper prints 155M and 4.0M).

Table 2 prints Small's penultimate width as 1280, while the TF-slim and torchvision code use 1024; the option
``last_channel`` selects the paper's (1280) or the code's (1024, default). Table 2 also marks SE on Small's last
1x1 conv (576); neither reference implementation has it there, and neither does this one.
"""
from __future__ import annotations

from ..builder import TORCHVISION, GraphBuilder, classifier, conv_bn_act, inverted_residual, pooled
from ...core.ir import Network
from ...ops import Activation, Dropout, Linear
from ...core.scaling import Expanded, Scaled
from .entry import ModelEntry, ModelOption

SOURCE = "Howard et al. 2019 (arXiv:1905.02244), Tables 1 and 2; torchvision mobilenetv3.py"
_NL = {"RE": "relu", "HS": "hswish"}

# Table 1 (Large), one bneck per line: (input, kernel, exp, out, SE, NL, s).
LARGE = (
    ("112x112x16", 3, 16, 16, False, "RE", 1),
    ("112x112x16", 3, 64, 24, False, "RE", 2),
    ("56x56x24", 3, 72, 24, False, "RE", 1),
    ("56x56x24", 5, 72, 40, True, "RE", 2),
    ("28x28x40", 5, 120, 40, True, "RE", 1),
    ("28x28x40", 5, 120, 40, True, "RE", 1),
    ("28x28x40", 3, 240, 80, False, "HS", 2),
    ("14x14x80", 3, 200, 80, False, "HS", 1),
    ("14x14x80", 3, 184, 80, False, "HS", 1),
    ("14x14x80", 3, 184, 80, False, "HS", 1),
    ("14x14x80", 3, 480, 112, True, "HS", 1),
    ("14x14x112", 3, 672, 112, True, "HS", 1),
    ("14x14x112", 5, 672, 160, True, "HS", 2),
    ("7x7x160", 5, 960, 160, True, "HS", 1),
    ("7x7x160", 5, 960, 160, True, "HS", 1),
)

# Table 2 (Small), one bneck per line: (input, kernel, exp, out, SE, NL, s).
SMALL = (
    ("112x112x16", 3, 16, 16, True, "RE", 2),
    ("56x56x16", 3, 72, 24, False, "RE", 2),
    ("28x28x24", 3, 88, 24, False, "RE", 1),
    ("28x28x24", 5, 96, 40, True, "HS", 2),
    ("14x14x40", 5, 240, 40, True, "HS", 1),
    ("14x14x40", 5, 240, 40, True, "HS", 1),
    ("14x14x40", 5, 120, 48, True, "HS", 1),
    ("14x14x48", 5, 144, 48, True, "HS", 1),
    ("14x14x48", 5, 288, 96, True, "HS", 2),
    ("7x7x96", 5, 576, 96, True, "HS", 1),
    ("7x7x96", 5, 576, 96, True, "HS", 1),
)


def _width(channels: int) -> Scaled:
    return Scaled(channels, "make_divisible")


def bneck(builder: GraphBuilder, prefix: str, x: str, kernel: int, exp: int, out: int, se: bool, nl: str,
          stride: int, in_channels: int, reference: str) -> str:
    """One MobileNetV3 block (see the module docstring) whose table input width is ``in_channels``."""
    expansion = None
    if exp != in_channels:
        expansion = _width(exp) if reference == "torchvision" else Expanded(exp / in_channels, 8)
    return inverted_residual(builder, prefix, x, _width(out), expansion, kernel=kernel, stride=stride,
                             activation=_NL[nl], se=se, container="block", nested_projection=True)


def _mobilenet_v3(name: str, table: tuple, last_channel: int, reference: str, description: str,
                  num_classes: int) -> Network:
    builder = GraphBuilder()
    last = conv_bn_act(builder, "features.0", _width(16), kernel=3, stride=2, activation="hswish",
                       names=TORCHVISION)
    in_channels = 16
    for index, (_, kernel, exp, out, se, nl, stride) in enumerate(table, start=1):
        last = bneck(builder, f"features.{index}", last, kernel, exp, out, se, nl, stride, in_channels, reference)
        in_channels = out
    conv_bn_act(builder, f"features.{len(table) + 1}", _width(6 * in_channels), kernel=1, activation="hswish",
                names=TORCHVISION)
    penultimate = _width(last_channel) if reference == "torchvision" else Scaled(last_channel)
    classifier(builder, num_classes, "classifier.3", pooled(
        "avgpool", ("classifier.0", Linear(penultimate)), ("classifier.1", Activation("hswish")),
        ("classifier.2", Dropout(0.2))))
    return builder.build(name, source=SOURCE, description=description)


def mobilenet_v3_large(reference: str = "torchvision", num_classes: int = 1000) -> Network:
    """MobileNetV3-Large (Table 1), widths below alpha 1 by ``reference``'s rules."""
    return _mobilenet_v3("mobilenet_v3_large", LARGE, 1280, reference, "MobileNetV3-Large (Table 1)", num_classes)


def mobilenet_v3_small(last_channel: int = 1024, reference: str = "torchvision", num_classes: int = 1000) -> Network:
    """MobileNetV3-Small (Table 2) with the code's penultimate width 1024, or the paper's 1280."""
    return _mobilenet_v3("mobilenet_v3_small", SMALL, last_channel, reference,
                         f"MobileNetV3-Small (Table 2), penultimate width {last_channel}", num_classes)


_REFERENCE = ModelOption("reference", str, "torchvision", ("torchvision", "tfslim"),
                         "whose width rules below alpha 1: torchvision's (exp scaled directly, head scaled) or "
                         "TF-slim's (exp = factor x rounded input, penultimate width kept)")

ENTRIES = (
    ModelEntry("mobilenet_v3_large", mobilenet_v3_large,
               "MobileNetV3-Large: bnecks with SE (hard-sigmoid) and h-swish; torchvision's width rules",
               SOURCE, options=(_REFERENCE,)),
    ModelEntry("mobilenet_v3_small", mobilenet_v3_small,
               "MobileNetV3-Small; penultimate width 1024 as in the reference code (the paper prints 1280)",
               SOURCE,
               options=(ModelOption("last_channel", int, 1024, (1024, 1280),
                                    "penultimate FC width: 1024 (TF-slim, torchvision) or 1280 (paper's Table 2)"),
                        _REFERENCE)),
)
