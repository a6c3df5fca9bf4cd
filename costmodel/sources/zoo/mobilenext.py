"""MobileNeXt: MobileNetV2's layout with sandglass blocks.

Source: D. Zhou, Q. Hou, Y. Chen, J. Feng and S. Yan, "Rethinking Bottleneck Structure for Efficient Mobile Network
Design", arXiv:2007.02269 (2020), Table 2 (architecture) and Figure 3 (the sandglass block). Layer for layer as the
authors' reference code, yitu-opensource/MobileNeXt ``mobilenext/codebase/models/mnext.py`` (the code that
zhoudaquan/rethinking_bottleneck_design adapts; node names are its module paths):

- stem: 3x3 stride-2 conv + BN + ReLU6 (``features.0``);
- a sandglass block from M to N channels with reduction t: 3x3 depthwise + BN + ReLU6, 1x1 reduction to the hidden
  width + BN (linear), 1x1 expansion to N + BN + ReLU6, 3x3 depthwise (the block's stride) + BN (linear), and an
  identity shortcut when the stride is 1 and M = N (``features.<i>.conv.0-9``, ``features.<i>.add``);
- the code departs from that form in three cases, which this module follows: a stage's first block with t = 6 and
  M != N keeps only the two 1x1 convs (stride 1: ``conv.0-4``) or drops the leading depthwise conv (stride 2:
  ``conv.0-6``), unless the stage has a single stride-1 block (144 and 1280), which keeps the full form without a
  shortcut; the t = 2 block (96) always has the full form, its stride on the last depthwise conv;
- hidden width: ``M // t``, but if that is below N / 6, ``make_divisible(ceil(N / 6), 16)``;
- head: global average pool, dropout 0.2, fully connected to 1000 with bias; no softmax (no parameters, no
  mult-adds). No convolution has a bias.

Widths are ``make_divisible(c * alpha, 8)`` (the 1280 block: ``make_divisible(1280 * max(1, alpha), 8)``, never
thinned), as in the code. The hidden widths depend on both the rounded input and output widths of their block, which
no width rule sees at once, so they are tabulated at the multipliers the authors publish (0.35, 0.5, 0.75, 1.0,
1.4; README of zhoudaquan/rethinking_bottleneck_design), computed with the code's rule; other alphas are refused.
(The code's ``make_divisible(., 4)`` at alpha = 0.1 is therefore never needed.)

Table 2 prints the 960 stage with b = 2 blocks; the code builds 3 (``[6, 960, 3, 1]``). The default follows the
code; the option ``blocks_960=2`` gives the printed table.
"""
from __future__ import annotations

from typing import Any

from ..builder import TORCHVISION, GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...ops import Add, Dropout
from ...core.scaling import Scaled, Tabulated, WIDTH_RULES, Width, sandglass_hidden, scaled_repeats
from .entry import ModelEntry, ModelOption

SOURCE = "Zhou et al. 2020 (arXiv:2007.02269), Table 2; yitu-opensource/MobileNeXt mnext.py"
ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.4)

# Table 2, one row per line: (input, operator, t, output channels, b, s). The 960 row's b is the option.
TABLE_2: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("224x224x3", "conv2d 3x3", None, 32, 1, 2),
    ("112x112x32", "sandglass", 2, 96, 1, 2),
    ("56x56x96", "sandglass", 6, 144, 1, 1),
    ("56x56x144", "sandglass", 6, 192, 3, 2),
    ("28x28x192", "sandglass", 6, 288, 3, 2),
    ("14x14x288", "sandglass", 6, 384, 4, 1),
    ("14x14x384", "sandglass", 6, 576, 4, 2),
    ("7x7x576", "sandglass", 6, 960, 2, 1),        # b = 2 as printed; the code has 3
    ("7x7x960", "sandglass", 6, 1280, 1, 1),
    ("7x7x1280", "avgpool 7x7", None, None, 1, None),
    ("1x1x1280", "conv2d 1x1", None, "k", 1, None),   # the classifier: a fully connected layer to k classes
)


def _rule(channels: int) -> str:
    return "make_divisible_head" if channels == 1280 else "make_divisible"


def _width(channels: int) -> Scaled:
    return Scaled(channels, _rule(channels))


def _hidden(in_channels: int, out_channels: int, t: int) -> Tabulated:
    """``scaling.sandglass_hidden`` of the rounded widths at each published alpha."""
    return Tabulated(tuple(
        (alpha, sandglass_hidden(WIDTH_RULES[_rule(in_channels)](in_channels, alpha),
                             WIDTH_RULES[_rule(out_channels)](out_channels, alpha), t))
        for alpha in ALPHAS))


def sandglass(builder: GraphBuilder, prefix: str, x: str, in_channels: int, out_channels: int, t: int,
              stride: int, keep_3x3: bool) -> str:
    """One block of the code's ``SGBlock(inp, oup, stride, t, keep_3x3)`` (see the module docstring). The code
    compares rounded widths; at the published alphas distinct table widths never round to the same width, so
    comparing the table's widths gives the same forms."""
    full = t == 2 or in_channels == out_channels or keep_3x3
    position = 0                       # the code's ``nn.Sequential`` numbers conv, BN and ReLU6 in one run

    def unit(out: "Width | None", kernel: int, stride: int = 1, activation: "str | None" = None) -> str:
        nonlocal position
        names = (str(position), str(position + 1), str(position + 2) if activation else None)
        last = conv_bn_act(builder, f"{prefix}.conv", out, kernel=kernel, stride=stride,
                           groups="depthwise" if out is None else 1, activation=activation, names=names,
                           x=x if position == 0 else None)
        position += 3 if activation else 2
        return last

    if full:
        unit(None, 3, activation="relu6")
    unit(_hidden(in_channels, out_channels, t), 1)
    last = unit(_width(out_channels), 1, activation="relu6")
    if full or stride == 2:
        last = unit(None, 3, stride)
    if stride == 1 and in_channels == out_channels and not keep_3x3:
        last = builder.add(f"{prefix}.add", Add(), (last, x))
    return last


def mobilenext(blocks_960: int = 3, num_classes: int = 1000, depth: float = 1.0) -> Network:
    """MobileNeXt (Table 2) with ``blocks_960`` blocks in the 960 stage (the code's 3 or the table's 2); at
    ``depth`` each row's b blocks become ``ceil(depth x b)``."""
    builder = GraphBuilder()
    rows = iter(TABLE_2)
    _, _, _, stem, _, stride = next(rows)
    last = conv_bn_act(builder, "features.0", _width(stem), kernel=3, stride=stride, activation="relu6",
                       names=TORCHVISION)
    in_channels, block = stem, 1
    for _, operator, t, out, b, s in rows:
        if operator != "sandglass":
            break
        b = scaled_repeats(blocks_960 if out == 960 else b, depth)
        for repeat in range(b):
            keep_3x3 = repeat == 0 and b == 1 and s == 1
            last = sandglass(builder, f"features.{block}", last, in_channels, out, t, s if repeat == 0 else 1,
                             keep_3x3)
            in_channels, block = out, block + 1
    classifier(builder, num_classes, "classifier.1", pooled("avgpool", ("classifier.0", Dropout(0.2))))
    return builder.build("mobilenext", source=SOURCE, depth=depth,
                         description=f"MobileNeXt: sandglass blocks (Table 2), {blocks_960} blocks of 960")


ENTRIES = (
    ModelEntry("mobilenext", mobilenext,
               "MobileNeXt: sandglass blocks (dw, 1x1 reduce, 1x1 expand, dw) as in the authors' code (960 stage: "
               "3 blocks by default); alpha 0.35/0.5/0.75/1/1.4 (default 1)",
               SOURCE, alpha_choices=ALPHAS, accepts_depth=True,
               options=(ModelOption("blocks_960", int, 3, (2, 3),
                                    "blocks in the 960 stage: 3 as the authors' code builds (default), 2 as "
                                    "Table 2 prints"),)),
)
