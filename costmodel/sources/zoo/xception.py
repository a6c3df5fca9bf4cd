"""Xception: entry flow, eight middle-flow blocks and exit flow of depthwise separable convolutions.

Source: F. Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", arXiv:1610.02357 (2016),
Figure 5, in the variant without the optional fully connected layers before the classifier (the paper's Table 3
counts 22,855,952 parameters for it). Layer for layer as the reference implementation Keras
``keras/applications/xception.py`` (node names are its layer names; each ``SeparableConv2D`` is two nodes,
``<name>.depthwise`` and ``<name>.pointwise``, and the unnamed shortcut layers are ``block<n>_residual.conv`` and
``block<n>_residual.bn``):

- a separable convolution is a 3x3 depthwise conv then a 1x1 conv, with no nonlinearity between them and no bias
  (``use_bias=False``), followed by BN; each is preceded by a ReLU except the first of block 2 (which follows
  block 1's ReLU) and followed by one only in block 14;
- block 1: 3x3 stride-2 conv to 32 and 3x3 conv to 64, both "valid" (299 -> 149 -> 147), without bias, each with
  BN and ReLU;
- blocks 2, 3, 4 and 13 (entry flow and exit flow): two separable convs, a 3x3 stride-2 max pool ("same": output
  ceil(D/2)), and a shortcut of a 1x1 stride-2 conv without bias + BN added to the pooled branch; blocks 3, 4 and
  13 start with a ReLU while their shortcut reads the block input before it;
- blocks 5-12 (middle flow): ReLU + separable conv + BN, three times, added to the block input; all 728 wide;
- block 14: separable convs to 1536 and 2048, each with BN and ReLU; global average pool; fully connected to
  1000 with bias. The softmax is omitted (no parameters, no mult-adds).

Keras' "same" 3x3 stride-2 max pool pads asymmetrically where the map is even; torch's padding 1 gives the same
output size, ceil(D/2), and the same window count, which is all the counts depend on. No width multiplier.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...ops import Activation, Add, BatchNorm, Conv2d, Pool2d
from ...core.scaling import scaled_repeats
from .entry import ModelEntry

SOURCE = "Chollet 2016 (arXiv:1610.02357), Figure 5; Keras applications/xception.py"

# Figure 5, one block per line: (block, flow, separable conv widths, stride-2 shortcut width or None).
FIGURE_5 = (
    (2, "entry", (128, 128), 128),
    (3, "entry", (256, 256), 256),
    (4, "entry", (728, 728), 728),
    *((block, "middle", (728, 728, 728), None) for block in range(5, 13)),   # "Repeated 8 times"
    (13, "exit", (728, 1024), 1024),
)
EXIT_CONVS = (1536, 2048)   # block 14: SeparableConv 1536 + ReLU, SeparableConv 2048 + ReLU


def separable(builder: GraphBuilder, name: str, out: int, x: str | None = None) -> str:
    """Keras' ``SeparableConv2D(out, 3, padding="same", use_bias=False)`` and its BN (``<name>_bn``)."""
    builder.add(f"{name}.depthwise", Conv2d(None, kernel=3, padding=1, groups="depthwise"), x)
    builder.add(f"{name}.pointwise", Conv2d(out, kernel=1))
    return builder.add(f"{name}_bn", BatchNorm())


def _stem(builder: GraphBuilder) -> str:
    """Block 1: two "valid" 3x3 convs (the first with stride 2), each + BN + ReLU."""
    for index, (out, stride) in enumerate(((32, 2), (64, 1)), start=1):
        name = f"block1_conv{index}"
        last = conv_bn_act(builder, "", out, kernel=3, stride=stride, padding="valid",
                           names=(name, f"{name}_bn", f"{name}_act"))
    return last


def _block(builder: GraphBuilder, block: int, widths: tuple[int, ...], shortcut: int | None, x: str) -> str:
    """An entry/exit block (``shortcut`` wide stride-2 1x1 shortcut, max pool) or a middle block (identity)."""
    prefix = f"block{block}"
    residual = x
    if shortcut is not None:
        residual = conv_bn_act(builder, f"{prefix}_residual", shortcut, kernel=1, stride=2, padding="same",
                               activation=None, x=x)
    last = x
    for index, out in enumerate(widths, start=1):
        if block != 2 or index != 1:     # block 2 starts on block 1's ReLU
            last = builder.add(f"{prefix}_sepconv{index}_act", Activation("relu"), last)
        last = separable(builder, f"{prefix}_sepconv{index}", out, last)
    if shortcut is not None:
        last = builder.add(f"{prefix}_pool", Pool2d("max", 3, 2, padding=1))
    return builder.add(f"{prefix}_add", Add(), (last, residual))


def xception(num_classes: int = 1000, depth: float = 1.0) -> Network:
    """Xception (Figure 5) at 299 x 299 with a ``num_classes``-way classifier; at ``depth`` the middle flow is
    repeated ``ceil(depth x 8)`` times (its blocks numbered on, the exit flow after them)."""
    builder = GraphBuilder()
    last = _stem(builder)
    entry = [row for row in FIGURE_5 if row[1] == "entry"]
    middle = [row for row in FIGURE_5 if row[1] == "middle"]
    exit_ = [row for row in FIGURE_5 if row[1] == "exit"]
    repeats = scaled_repeats(len(middle), depth)
    first = middle[0][0]
    rows = entry + [(first + i, "middle", middle[0][2], None) for i in range(repeats)]
    rows += [(first + repeats + i, "exit", widths, shortcut) for i, (_, _, widths, shortcut) in enumerate(exit_)]
    for block, _, widths, shortcut in rows:
        last = _block(builder, block, widths, shortcut, last)
    final = rows[-1][0] + 1
    for index, out in enumerate(EXIT_CONVS, start=1):
        separable(builder, f"block{final}_sepconv{index}", out)
        builder.add(f"block{final}_sepconv{index}_act", Activation("relu"))
    classifier(builder, num_classes, "predictions", pooled("avg_pool"))
    return builder.build("xception", base_resolution=299, source=SOURCE, depth=depth,
                         description="Xception: entry, 8x middle and exit flows of separable convs (Figure 5)")


ENTRIES = (
    ModelEntry("xception", xception,
               "Xception: separable convs in entry / middle (8x) / exit flows, 299x299, no optional FC layers",
               SOURCE, accepts_alpha=False, accepts_depth=True),
)
