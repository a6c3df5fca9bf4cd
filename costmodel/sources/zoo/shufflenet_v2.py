"""ShuffleNet V2 at the four widths of the paper's Table 5.

Source: N. Ma, X. Zhang, H.-T. Zheng and J. Sun, "ShuffleNet V2: Practical Guidelines for Efficient CNN
Architecture Design", arXiv:1807.11164 (2018), Table 5. Layer for layer as the reference implementation torchvision
``models/shufflenetv2.py`` (node names are its module paths):

- stem: 3x3 stride-2 conv to 24 + BN + ReLU (``conv1.0-2``), 3x3 stride-2 max pool with padding 1 (``maxpool``);
- a stride-1 unit (Figure 3(c)) splits its c input channels in two halves (``x.chunk(2)``: chunk 0 passes through,
  chunk 1 enters ``branch2``), ``branch2`` is 1x1 conv + BN + ReLU, 3x3 depthwise + BN, 1x1 conv + BN + ReLU, all
  c/2 wide; the halves are concatenated and channel-shuffled with 2 groups;
- a stride-2 unit (Figure 3(d)) has no split: ``branch1`` is 3x3 stride-2 depthwise + BN, 1x1 conv to c/2 + BN +
  ReLU; ``branch2`` as above with the stride on its depthwise conv and its first 1x1 reading the whole input;
  concat and shuffle as above;
- head: 1x1 conv + BN + ReLU (``conv5``), global average pool (``x.mean([2, 3])``), fully connected to 1000 with
  bias (``fc``), no softmax (no parameters, no mult-adds). No convolution has a bias.

The paper tabulates each width instead of scaling one, so alpha (``--alpha``) selects a column of Table 5: 0.5,
1.0 (default), 1.5 or 2.0; other values are refused. Every convolution is 1x1 or depthwise, so a unit of c output
channels at h x w costs hw(c/2)(c/2 + 9 + c/2) mult-adds in its stride-1 form.
"""
from __future__ import annotations

from typing import Any

from ..builder import TORCHVISION, GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...ops import ChannelShuffle, Concat, Pool2d, Split
from ...core.scaling import Tabulated, scaled_repeats
from .entry import ModelEntry

SOURCE = "Ma et al. 2018 (arXiv:1807.11164), Table 5; torchvision shufflenetv2.py"
ALPHAS = (0.5, 1.0, 1.5, 2.0)

# Table 5, one row per line: (layer, output size, kernel, stride, repeat, output channels at 0.5x, 1x, 1.5x, 2x).
TABLE_5: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("Conv1", "112x112", 3, 2, 1, (24, 24, 24, 24)),
    ("MaxPool", "56x56", 3, 2, 1, (24, 24, 24, 24)),
    ("Stage2", "28x28", None, 2, 4, (48, 116, 176, 244)),      # stride 2 once, then 1 (repeat 1 + 3)
    ("Stage3", "14x14", None, 2, 8, (96, 232, 352, 488)),      # repeat 1 + 7
    ("Stage4", "7x7", None, 2, 4, (192, 464, 704, 976)),       # repeat 1 + 3
    ("Conv5", "7x7", 1, 1, 1, (1024, 1024, 1024, 2048)),
    ("GlobalPool", "1x1", 7, None, None, None),
    ("FC", None, None, None, None, (1000, 1000, 1000, 1000)),
)


def _columns(channels: tuple[int, ...], divisor: int = 1) -> Tabulated:
    """One width per column of Table 5 (divided by ``divisor``: a branch is half its unit's width)."""
    return Tabulated(tuple((alpha, c // divisor) for alpha, c in zip(ALPHAS, channels)))


def _numbered(index: int, activation: bool = True) -> tuple[str, str, "str | None"]:
    """torchvision's ``nn.Sequential`` positions of a conv at ``index``, its BN and its ReLU."""
    return str(index), str(index + 1), str(index + 2) if activation else None


def _branch2(builder: GraphBuilder, prefix: str, x: str, half: Tabulated, stride: int) -> str:
    """1x1 + BN + ReLU, 3x3 depthwise (``stride``) + BN, 1x1 + BN + ReLU, all ``half`` wide."""
    conv_bn_act(builder, prefix, half, kernel=1, names=_numbered(0), x=x)
    conv_bn_act(builder, prefix, None, kernel=3, stride=stride, groups="depthwise", activation=None,
                names=_numbered(3, False))
    return conv_bn_act(builder, prefix, half, kernel=1, names=_numbered(5))


def inverted_residual(builder: GraphBuilder, prefix: str, x: str, half: Tabulated, stride: int) -> str:
    """One ShuffleNet V2 unit (torchvision's ``InvertedResidual``) whose branches are ``half`` wide; returns the
    shuffled output."""
    if stride == 1:
        left = builder.add(f"{prefix}.chunk.0", Split(2, 0), x)           # x1, passed through
        second = builder.add(f"{prefix}.chunk.1", Split(2, 1), x)         # x2, into branch2
        right = _branch2(builder, f"{prefix}.branch2", second, half, 1)
    else:
        conv_bn_act(builder, f"{prefix}.branch1", None, kernel=3, stride=stride, groups="depthwise",
                    activation=None, names=_numbered(0, False), x=x)
        left = conv_bn_act(builder, f"{prefix}.branch1", half, kernel=1, names=_numbered(2))
        right = _branch2(builder, f"{prefix}.branch2", x, half, stride)
    builder.add(f"{prefix}.cat", Concat(), (left, right))
    return builder.add(f"{prefix}.channel_shuffle", ChannelShuffle(2))


def shufflenet_v2(num_classes: int = 1000, depth: float = 1.0) -> Network:
    """ShuffleNet V2 (Table 5); alpha selects the column; at ``depth`` each stage's units become
    ``ceil(depth x repeat)``."""
    builder = GraphBuilder()
    rows = {row[0]: row for row in TABLE_5}
    conv_bn_act(builder, "conv1", _columns(rows["Conv1"][5]), kernel=3, stride=2, names=TORCHVISION)
    last = builder.add("maxpool", Pool2d("max", 3, 2, padding=1))
    for stage in ("Stage2", "Stage3", "Stage4"):
        _, _, _, stride, repeat, channels = rows[stage]
        half = _columns(channels, 2)          # torchvision's branch_features = oup // 2
        for index in range(scaled_repeats(repeat, depth)):
            last = inverted_residual(builder, f"stage{stage[-1]}.{index}", last, half, stride if index == 0 else 1)
    conv_bn_act(builder, "conv5", _columns(rows["Conv5"][5]), kernel=1, names=TORCHVISION)
    classifier(builder, num_classes, "fc", pooled("mean"))
    return builder.build("shufflenet_v2", source=SOURCE, depth=depth,
                         description="ShuffleNet V2: channel split, concat and shuffle units (Table 5)")


ENTRIES = (
    ModelEntry("shufflenet_v2", shufflenet_v2,
               "ShuffleNet V2: channel split + shuffle units; alpha picks Table 5's column (default 1.0)",
               SOURCE, alpha_choices=ALPHAS, accepts_depth=True),
)
