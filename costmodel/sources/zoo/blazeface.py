"""BlazeFace's feature extractor (the front-camera model's backbone, no detection heads).

Source: V. Bazarevsky, Y. Kartynnik, A. Vakunov, K. Raveendran and M. Grundmann, "BlazeFace: Sub-millisecond Neural
Face Detection on Mobile GPUs", arXiv:1907.05047 (2019), Table 4 (feature extractor) and Figure 1 (BlazeBlock and
double BlazeBlock). The table gives kernels and widths but not the normalization or biases; those follow the widely
used PyTorch reimplementation of the paper's network, tkat0/PyTorch_BlazeFace ``blazeface/model.py`` (node names are
its module paths):

- stem: 5x5 stride-2 conv to 24 + BN + ReLU (``features.0-2``). Table 4 prints 5x5x3x24; the reimplementation uses
  3x3, and this module follows the table;
- a single BlazeBlock: 5x5 depthwise (the block's stride) + BN, 1x1 projection + BN (``conv1.0-3``); a double
  BlazeBlock continues with ReLU, 5x5 depthwise + BN, 1x1 expansion + BN (``conv2.0-4``); the 1x1 of ``conv1``
  reduces to 24 there. Every conv has a bias, as in the reimplementation (before BN it is redundant, but counted);
- the shortcut is the block input, through a 2x2 stride-2 max pool (``mp``) in a stride-2 block, zero-padded with
  channels when the block widens (24 -> 48, 48 -> 96); the sum goes through a ReLU (``act``).

The zero channel padding (``F.pad``) is not an op of the IR. Where a block doubles its width, adding the padded
shortcut is the same as adding the pooled shortcut to the first half of the branch and concatenating the second
half: ``relu(cat(branch[:c] + pool(x), branch[c:]))`` (``shortcut.0``/``shortcut.1`` split, ``shortcut.add``,
``shortcut.cat``). The values and the params and mult-adds are those of the reference; the element-wise counts are
not: the reference writes the padded C_out x h x w shortcut and adds C_out x h x w elements (half of them zeros),
this form adds C_in x h x w and copies C_out x h x w in the concat.

Table 4 (one row per block below) ends at 8x8x96; the first detection head of the paper reads the 16x16x96 map of
the third double block. The option ``output`` selects the network's end: ``8x8`` (default, the whole extractor) or
``16x16`` (the extractor up to that map). Input 128x128x3; any resolution divisible by 16 (the max-pool shortcut and
the stride-2 depthwise conv agree only on even maps); no width multiplier.
"""
from __future__ import annotations

from typing import Any

from ..builder import GraphBuilder, conv_bn_act
from ...core.ir import Network
from ...ops import Activation, Add, Concat, Pool2d, Split
from .entry import ModelEntry, ModelOption

SOURCE = "Bazarevsky et al. 2019 (arXiv:1907.05047), Table 4; tkat0/PyTorch_BlazeFace model.py"

# Table 4, one row per line: (layer/block, input size, stride, 1x1 widths: projection, then expansion if double).
TABLE_4: tuple[tuple[Any, ...], ...] = (       # the paper's rows: layer, input, stride, output channels
    ("Convolution", "128x128x3", 2, (24,)),          # 5x5x3x24
    ("Single BlazeBlock", "64x64x24", 1, (24,)),     # 5x5x24x1, 1x1x24x24
    ("Single BlazeBlock", "64x64x24", 1, (24,)),
    ("Single BlazeBlock", "64x64x24", 2, (48,)),     # 5x5x24x1 (stride 2), 1x1x24x48
    ("Single BlazeBlock", "32x32x48", 1, (48,)),
    ("Single BlazeBlock", "32x32x48", 1, (48,)),
    ("Double BlazeBlock", "32x32x48", 2, (24, 96)),  # 5x5x48x1 (stride 2), 1x1x48x24, 5x5x24x1, 1x1x24x96
    ("Double BlazeBlock", "16x16x96", 1, (24, 96)),
    ("Double BlazeBlock", "16x16x96", 1, (24, 96)),  # its output, 16x16x96, feeds the first detection head
    ("Double BlazeBlock", "16x16x96", 2, (24, 96)),
    ("Double BlazeBlock", "8x8x96", 1, (24, 96)),
    ("Double BlazeBlock", "8x8x96", 1, (24, 96)),
)
OUTPUTS = {"8x8": len(TABLE_4) - 1, "16x16": 8}      # the last Table 4 row of each choice


def _depthwise_separable(builder: GraphBuilder, prefix: str, first: int, stride: int, out: int,
                         x: str | None = None) -> str:
    """``prefix.<first>`` 5x5 depthwise + BN, then 1x1 to ``out`` + BN, with biases as in the reimplementation."""
    conv_bn_act(builder, prefix, None, kernel=5, stride=stride, groups="depthwise", bias=True, activation=None,
                names=(str(first), str(first + 1), None), x=x)
    return conv_bn_act(builder, prefix, out, kernel=1, bias=True, activation=None,
                       names=(str(first + 2), str(first + 3), None))


def blaze_block(builder: GraphBuilder, prefix: str, x: str, in_channels: int, stride: int,
                widths: tuple[int, ...]) -> str:
    """A single (one width) or double (projection and expansion widths) BlazeBlock on ``x``."""
    branch = _depthwise_separable(builder, f"{prefix}.conv1", 0, stride, widths[0], x)
    if len(widths) == 2:
        builder.add(f"{prefix}.conv2.0", Activation("relu"))
        branch = _depthwise_separable(builder, f"{prefix}.conv2", 1, 1, widths[1])
    shortcut = x
    if stride == 2:
        shortcut = builder.add(f"{prefix}.mp", Pool2d("max", 2, 2), x)
    out_channels = widths[-1]
    if out_channels == in_channels:
        builder.add(f"{prefix}.add", Add(), (branch, shortcut))
    else:       # out = 2 x in: the zero-padded shortcut meets the branch's first half only
        assert out_channels == 2 * in_channels, (prefix, in_channels, out_channels)
        first = builder.add(f"{prefix}.shortcut.0", Split(2, 0), branch)
        second = builder.add(f"{prefix}.shortcut.1", Split(2, 1), branch)
        summed = builder.add(f"{prefix}.shortcut.add", Add(), (first, shortcut))
        builder.add(f"{prefix}.shortcut.cat", Concat(), (summed, second))
    return builder.add(f"{prefix}.act", Activation("relu"))


def blazeface_backbone(output: str = "8x8") -> Network:
    """BlazeFace's feature extractor (Table 4) up to the ``output`` map (8x8x96 or 16x16x96)."""
    builder = GraphBuilder()
    (_, _, stride, (stem,)), *blocks = TABLE_4[:OUTPUTS[output] + 1]
    last = conv_bn_act(builder, "features", stem, kernel=5, stride=stride, bias=True, names=("0", "1", "2"))
    in_channels = stem
    for index, (_, _, stride, widths) in enumerate(blocks, start=3):
        last = blaze_block(builder, f"features.{index}", last, in_channels, stride, widths)
        in_channels = widths[-1]
    return builder.build("blazeface_backbone", base_resolution=128, source=SOURCE,
                         description=f"BlazeFace feature extractor (Table 4) to the {output}x96 map")


ENTRIES = (
    ModelEntry("blazeface_backbone", blazeface_backbone,
               "BlazeFace's feature extractor: 5x5 conv, 5 single and 6 double BlazeBlocks to 8x8x96 (no heads)",
               SOURCE, accepts_alpha=False, classifier=False,
               options=(ModelOption("output", str, "8x8", tuple(OUTPUTS),
                                    "the map the network ends on: 8x8x96 (default, all of Table 4) or the "
                                    "16x16x96 map of the third double block"),)),
)
