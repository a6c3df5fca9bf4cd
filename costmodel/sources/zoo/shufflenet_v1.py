"""ShuffleNet (V1) with g = 1, 2, 3, 4 or 8 groups at the scale factors s = 0.25, 0.5, 1, 1.5, 2.

Source: X. Zhang, X. Zhou, M. Lin and J. Sun, "ShuffleNet: An Extremely Efficient Convolutional Neural Network for
Mobile Devices", arXiv:1707.01083 (2017), Table 1 (architecture and complexity per g) and Section 3.3 (s x scales
every width). Layer for layer as the authors' reference code, megvii-model/ShuffleNet-Series ``ShuffleNetV1/``
(``network.py``, ``blocks.py``; node names are its module paths):

- stem: 3x3 stride-2 conv + BN + ReLU (``first_conv.0-2``), 3x3 stride-2 max pool with padding 1 (``maxpool``);
- a unit with c_in inputs and c outputs (Figure 2): 1x1 group conv to the bottleneck m + BN + ReLU, channel shuffle
  (g groups; none when g = 1), 3x3 depthwise conv + BN (no ReLU), 1x1 group conv + BN (no ReLU), each conv
  without bias; Stage 2's first 1x1 conv is not grouped ("the number of input channels is relatively small");
- stride 1: ``relu(branch + x)``; stride 2 (each stage's first unit): the branch's last 1x1 conv gives c - c_in
  channels, the shortcut is a 3x3 stride-2 average pool with padding 1 (``branch_proj``), and the output is
  ``cat(branch_proj(x), relu(branch))`` (the reference applies the ReLU to the branch only; the pooled shortcut
  is already non-negative);
- head: global average pool (the reference's ``AvgPool2d(7)`` at 224), fully connected to 1000 without bias
  (``classifier.0``, as in the reference), no softmax (no parameters, no mult-adds).

The paper's "FLOPs" are mult-adds; a stride-1 unit of c channels at h x w costs hw(2cm/g + 9m).

Widths. Table 1 gives the stage widths c at s = 1 for each g; "ShuffleNet s x" multiplies them by s. The bottleneck
is m = c // 4 ("1/4 of the output channels", ``mid_channels = output_channel // 4`` in the code). The reference
code tabulates g = 3 and g = 8 at s = 0.5, 1, 1.5, 2 (stem 12/16, 24, 24, 48; stages s x Table 1); the rule below
reproduces all eight of its settings and extends them to the other (g, s) pairs:

- stage widths: c = s x Table 1 (always an integer multiple of g: Table 1's widths are multiples of 4g);
- stem: the code's per-scale width (s = 0.5: 12, 1: 24, 1.5: 24, 2: 48; s = 0.25, absent from the code: 24 x 0.25
  = 6 by the paper's rule), rounded up to a multiple of g, as the code does for g = 8 at 0.5 (12 -> 16). The stem
  must be a multiple of g because Stage 2's first unit produces c - stem channels with a g-group conv. (The
  paper's Table 2 puts 0.25x at about 13 MFLOPs: a 12-wide stem would count 13.2-13.4M for g = 1-3, the 6-wide one
  counts 11.0-12.4M; the code, which would settle it, has no 0.25x.);
- bottleneck: m = c // 4, rounded up to a multiple of g when it is not one (the group convs need g | m), the same
  direction as the code's one rounding (the stem above). This happens only where the code has no setting: g = 2
  at s = 0.25 (Stage 3: 25 -> 26), 0.5 and 1.5 (Stage 2: 25 -> 26, 75 -> 76), and g = 4 at s = 0.25 (Stages 2
  and 3: 17 -> 20, 34 -> 36), 0.5 and 1.5 (Stage 2: 34 -> 36, 102 -> 104). The paper's Table 5 prints 38 MFLOPs
  for 0.5x with g = 4: these widths count 37.47M (rounding down to 32 would give 36.47M).

alpha selects s: 0.25, 0.5, 1.0 (default), 1.5 or 2.0; other values are refused. The option ``groups`` selects g
(default 3, the setting the paper and the code single out).
"""
from __future__ import annotations

from typing import Any, Callable

from ..builder import TORCHVISION, GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...ops import Activation, Add, ChannelShuffle, Concat, Pool2d
from ...core.scaling import Tabulated, round_up_to_multiple, scaled_repeats
from .entry import ModelEntry, ModelOption

SOURCE = "Zhang et al. 2017 (arXiv:1707.01083), Table 1; megvii-model/ShuffleNet-Series ShuffleNetV1"
SCALES = (0.25, 0.5, 1.0, 1.5, 2.0)
GROUPS = (1, 2, 3, 4, 8)

# Table 1, one row per line: (layer, output size, kernel, stride, repeat, output channels for g = 1, 2, 3, 4, 8).
TABLE_1: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("Conv1", "112x112", 3, 2, 1, (24, 24, 24, 24, 24)),
    ("MaxPool", "56x56", 3, 2, 1, None),
    ("Stage2", "28x28", None, 2, 4, (144, 200, 240, 272, 384)),    # stride 2 once, then 1 (repeat 1 + 3)
    ("Stage3", "14x14", None, 2, 8, (288, 400, 480, 544, 768)),    # repeat 1 + 7
    ("Stage4", "7x7", None, 2, 4, (576, 800, 960, 1088, 1536)),    # repeat 1 + 3
    ("GlobalPool", "1x1", 7, None, None, None),
    ("FC", None, None, None, None, (1000, 1000, 1000, 1000, 1000)),
)
# The reference code's stem width per scale before rounding to a multiple of g (its g = 8 model has 16 at 0.5x);
# 0.25x is not in the code: 24 x 0.25 by the paper's rule.
STEM = {0.25: 6, 0.5: 12, 1.0: 24, 1.5: 24, 2.0: 48}


def stem_width(groups: int, scale: float) -> int:
    """The stem's width: the code's per-scale width rounded up to a multiple of g (``ceil(w / g) * g``)."""
    return round_up_to_multiple(STEM[scale], groups)


def stage_width(groups: int, scale: float, stage: str) -> int:
    """A stage's output width c: s times Table 1's width for g groups."""
    channels = next(row[5] for row in TABLE_1 if row[0] == stage)[GROUPS.index(groups)]
    width = channels * scale
    assert width == int(width) and int(width) % groups == 0, (stage, groups, scale)
    return int(width)


def bottleneck_width(groups: int, channels: int) -> int:
    """The bottleneck m: ``channels // 4``, rounded up to a multiple of g (``ceil(m / g) * g``)."""
    return round_up_to_multiple(channels // 4, groups)


def widths(groups: int, scale: float) -> dict[str, int]:
    """The stem's and each stage's output width for g = ``groups`` at scale ``scale``."""
    return {"Conv1": stem_width(groups, scale),
            **{stage: stage_width(groups, scale, stage) for stage in ("Stage2", "Stage3", "Stage4")}}


def _columns(groups: int, width: Callable[[dict[str, int]], int]) -> Tabulated:
    """A width at every scale, ``width`` of that scale's ``widths``."""
    return Tabulated(tuple((scale, width(widths(groups, scale))) for scale in SCALES))


def shuffle_unit(builder: GraphBuilder, prefix: str, x: str, groups: int, first_group: bool, stride: int,
                 mid: Tabulated, branch_out: Tabulated) -> str:
    """One ShuffleNet unit (Figure 2 (b) at stride 1, (c) at stride 2) on ``x``; returns its output."""
    main = f"{prefix}.branch_main_1"
    conv_bn_act(builder, main, mid, kernel=1, groups=1 if first_group else groups, names=TORCHVISION, x=x)
    last = conv_bn_act(builder, main, None, kernel=3, stride=stride, groups="depthwise", activation=None,
                       names=("3", "4", None))
    if groups > 1:
        last = builder.add(f"{prefix}.channel_shuffle", ChannelShuffle(groups))
    last = conv_bn_act(builder, f"{prefix}.branch_main_2", branch_out, kernel=1, groups=groups, activation=None,
                       names=("0", "1", None), x=last)
    if stride == 1:
        builder.add(f"{prefix}.add", Add(), (last, x))
        return builder.add(f"{prefix}.relu", Activation("relu"))
    branch = builder.add(f"{prefix}.relu", Activation("relu"))
    shortcut = builder.add(f"{prefix}.branch_proj", Pool2d("avg", 3, 2, padding=1), x)
    return builder.add(f"{prefix}.cat", Concat(), (shortcut, branch))


def shufflenet_v1(groups: int = 3, num_classes: int = 1000, depth: float = 1.0) -> Network:
    """ShuffleNet with ``groups`` groups (Table 1's column g); alpha selects the scale factor s; at ``depth`` each
    stage's units (the stride-2 one included) become ``ceil(depth x repeat)``."""
    builder = GraphBuilder()
    conv_bn_act(builder, "first_conv", _columns(groups, lambda w: w["Conv1"]), kernel=3, stride=2,
                names=TORCHVISION)
    last = builder.add("maxpool", Pool2d("max", 3, 2, padding=1))
    previous, unit = "Conv1", 0
    for stage, _, _, stride, repeat, _ in TABLE_1[2:5]:
        # ``_columns`` calls each width function at once, so the loop's variables are read while they hold
        mid = _columns(groups, lambda w: bottleneck_width(groups, w[stage]))
        for index in range(scaled_repeats(repeat, depth)):
            if index == 0:      # stride 2: the branch adds c - c_in channels to the pooled shortcut
                branch_out = _columns(groups, lambda w: w[stage] - w[previous])
            else:
                branch_out = _columns(groups, lambda w: w[stage])
            last = shuffle_unit(builder, f"features.{unit}", last, groups, stage == "Stage2" and index == 0,
                                stride if index == 0 else 1, mid, branch_out)
            unit += 1
        previous = stage
    classifier(builder, num_classes, "classifier.0", pooled("globalpool"), bias=False)
    return builder.build("shufflenet_v1", source=SOURCE, depth=depth,
                         description=f"ShuffleNet (V1), g = {groups} (Table 1)")


ENTRIES = (
    ModelEntry("shufflenet_v1", shufflenet_v1,
               "ShuffleNet (V1): pointwise group convs + channel shuffle; g=3 and alpha = scale s = 1 by default",
               SOURCE, alpha_choices=SCALES, accepts_depth=True,
               options=(ModelOption("groups", int, 3, GROUPS, "groups g of the 1x1 group convolutions "
                                    "(Table 1's columns; 3 is the paper's and the code's default)"),)),
)
