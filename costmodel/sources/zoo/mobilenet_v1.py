"""MobileNetV1 and the paper's two comparison variants.

Source: A. G. Howard et al., "MobileNets: Efficient Convolutional Neural Networks for Mobile Vision Applications",
arXiv:1704.04861 (2017). Table 1 gives the body; Table 4 compares it with the same network built from full 3x3
convolutions; Table 5 with a shallower one (the five 14x14x512 separable layers removed).

As in the reference implementation (TF-slim ``nets/mobilenet_v1.py``): every convolution has no bias and is
followed by BatchNorm and a ReLU; widths are ``max(int(c * alpha), 8)``; the head is a global average pool and a
1000-way fully connected layer with bias. Node names follow TF-slim's (``Conv2d_3_depthwise``).

Table 1 prints row 26 as "Conv dw / s2" on a 7x7x1024 input; a 7x7 map cannot halve again while staying 7x7, and
every reference implementation uses stride 1 there. So does this one.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...core.scaling import Scaled, scaled_repeats
from .entry import ModelEntry

SOURCE = "Howard et al. 2017, arXiv:1704.04861, Table 1"

# Table 1, one row per line: (row, type, stride, output channels). The "5x" bracket (rows 14-23) is unrolled.
TABLE_1 = (
    ("1", "conv", 2, 32),     # Conv / s2      3x3x3x32        224x224x3
    ("2", "dw", 1, 32),       # Conv dw / s1   3x3x32 dw       112x112x32
    ("3", "pw", 1, 64),       # Conv / s1      1x1x32x64       112x112x32
    ("4", "dw", 2, 64),       # Conv dw / s2   3x3x64 dw       112x112x64
    ("5", "pw", 1, 128),      # Conv / s1      1x1x64x128      56x56x64
    ("6", "dw", 1, 128),      # Conv dw / s1   3x3x128 dw      56x56x128
    ("7", "pw", 1, 128),      # Conv / s1      1x1x128x128     56x56x128
    ("8", "dw", 2, 128),      # Conv dw / s2   3x3x128 dw      56x56x128
    ("9", "pw", 1, 256),      # Conv / s1      1x1x128x256     28x28x128
    ("10", "dw", 1, 256),     # Conv dw / s1   3x3x256 dw      28x28x256
    ("11", "pw", 1, 256),     # Conv / s1      1x1x256x256     28x28x256
    ("12", "dw", 2, 256),     # Conv dw / s2   3x3x256 dw      28x28x256
    ("13", "pw", 1, 512),     # Conv / s1      1x1x256x512     14x14x256
    ("14", "dw", 1, 512),     # 5x  Conv dw / s1   3x3x512 dw      14x14x512
    ("15", "pw", 1, 512),     #     Conv / s1      1x1x512x512     14x14x512
    ("16", "dw", 1, 512),
    ("17", "pw", 1, 512),
    ("18", "dw", 1, 512),
    ("19", "pw", 1, 512),
    ("20", "dw", 1, 512),
    ("21", "pw", 1, 512),
    ("22", "dw", 1, 512),
    ("23", "pw", 1, 512),
    ("24", "dw", 2, 512),     # Conv dw / s2   3x3x512 dw      14x14x512
    ("25", "pw", 1, 1024),    # Conv / s1      1x1x512x1024    7x7x512
    ("26", "dw", 1, 1024),    # Conv dw / s2 as printed; s1 in every implementation (see the module docstring)
    ("27", "pw", 1, 1024),    # Conv / s1      1x1x1024x1024   7x7x1024
)                             # Avg Pool 7x7, FC 1024x1000, Softmax: the head below
SHALLOW_ROWS = frozenset(str(row) for row in range(14, 24))   # Table 5: the five 14x14x512 separable layers


def _width(channels: int) -> Scaled:
    return Scaled(channels, "mobilenet_v1")


def _head(builder: GraphBuilder, num_classes: int) -> None:
    """Avg Pool 7x7 (a global pool at 224), FC 1024 x classes (TF-slim's ``Logits``); the softmax has no cost."""
    classifier(builder, num_classes, "Logits", pooled("AvgPool"))


def _separable(name: str, description: str, source: str, num_classes: int,
               skip: frozenset[str] = frozenset(), depth: float = 1.0) -> Network:
    """Table 1's rows, except those in ``skip``, as convolutions with BN and ReLU; each depthwise separable pair
    keeps its TF-slim name (``Conv2d_<n>_depthwise``, ``Conv2d_<n>_pointwise``) even when earlier pairs are
    skipped. At ``depth`` the "5x" pairs at 14x14x512 (rows 14-23) become ``ceil(depth x 5)``, numbered on."""
    builder = GraphBuilder()
    block = 0
    rows = list(TABLE_1)
    if depth != 1.0:
        first = next(i for i, row in enumerate(rows) if row[0] in SHALLOW_ROWS)
        pair = rows[first:first + 2]
        rows[first:first + len(SHALLOW_ROWS)] = pair * scaled_repeats(len(SHALLOW_ROWS) // 2, depth)
    for row, kind, stride, out in rows:
        block += kind == "dw"
        if row in skip:
            continue
        if kind == "conv":
            conv_bn_act(builder, "Conv2d_0", _width(out), kernel=3, stride=stride)
        elif kind == "dw":
            conv_bn_act(builder, f"Conv2d_{block}_depthwise", None, kernel=3, stride=stride, groups="depthwise")
        else:
            conv_bn_act(builder, f"Conv2d_{block}_pointwise", _width(out), kernel=1)
    _head(builder, num_classes)
    return builder.build(name, description=description, source=source, depth=depth)


def mobilenet_v1(num_classes: int = 1000, depth: float = 1.0) -> Network:
    """MobileNetV1 as in Table 1: a 3x3 convolution and 13 depthwise separable layers (at ``depth``, the five
    repeated ones scaled)."""
    return _separable("mobilenet_v1", "MobileNetV1: a 3x3 convolution and 13 depthwise separable layers (Table 1)",
                      SOURCE, num_classes, depth=depth)


def mobilenet_v1_shallow(num_classes: int = 1000) -> Network:
    """Table 5's "Shallow MobileNet": Table 1 without the five 14x14x512 separable layers (rows 14-23).
    The remaining layers keep their TF-slim names (Conv2d_6_* is followed by Conv2d_12_*)."""
    return _separable("mobilenet_v1_shallow",
                      "MobileNetV1 without the five 14x14x512 separable layers (Table 5's Shallow MobileNet)",
                      "Howard et al. 2017, arXiv:1704.04861, Tables 1 and 5", num_classes, SHALLOW_ROWS)


def mobilenet_v1_conv(num_classes: int = 1000) -> Network:
    """Table 4's "Conv MobileNet": each depthwise separable pair (dw stride s, then 1x1 to N) replaced by one full
    3x3 convolution with stride s to N channels, each followed by BatchNorm and ReLU."""
    builder = GraphBuilder()
    block = 0
    for index, (row, kind, stride, out) in enumerate(TABLE_1):
        if kind == "conv":
            conv_bn_act(builder, "Conv2d_0", _width(out), kernel=3, stride=stride)
        elif kind == "dw":
            block += 1
            pointwise_out = TABLE_1[index + 1][3]
            conv_bn_act(builder, f"Conv2d_{block}", _width(pointwise_out), kernel=3, stride=stride)
    _head(builder, num_classes)
    return builder.build("mobilenet_v1_conv", source="Howard et al. 2017, arXiv:1704.04861, Tables 1 and 4",
                         description="MobileNetV1 with full 3x3 convolutions instead of separable ones (Table 4)")


ENTRIES = (
    ModelEntry("mobilenet_v1", mobilenet_v1,
               "MobileNetV1: 3x3 conv + 13 depthwise separable layers, BN + ReLU, 1000 classes",
               "Howard et al. 2017 (arXiv:1704.04861), Table 1; TF-slim mobilenet_v1.py", accepts_depth=True),
    ModelEntry("mobilenet_v1_conv", mobilenet_v1_conv,
               "MobileNetV1 with full 3x3 convolutions in place of the separable layers",
               "Howard et al. 2017 (arXiv:1704.04861), Table 4"),
    ModelEntry("mobilenet_v1_shallow", mobilenet_v1_shallow,
               "MobileNetV1 without the five 14x14x512 separable layers",
               "Howard et al. 2017 (arXiv:1704.04861), Table 5"),
)
