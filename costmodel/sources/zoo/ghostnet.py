"""GhostNet: bottlenecks of Ghost modules, half of whose maps come from cheap depthwise operations.

Source: K. Han et al., "GhostNet: More Features from Cheap Operations", arXiv:1911.11907, Table 1 (the
architecture) and the ImageNet comparison (GhostNet 1.0x: 5.2M weights, 141M FLOPs, which its README calls
MAdds). Layer for layer as timm's ``ghostnet.py`` (``ghostnet_100``; node names are its module paths):

- ``conv_stem`` 3x3 stride 2 to 16, ``bn1``, ``act1`` (ReLU);
- a Ghost module (``ghost1``, ``ghost2``) of output width n: ``primary_conv`` a 1x1 to ``ceil(n / 2)`` + BN
  (+ ReLU in ``ghost1``), ``cheap_operation`` a 3x3 depthwise on that + BN (+ ReLU), both concatenated (``cat``)
  and cut to n channels (``slice``);
- a Ghost bottleneck (``#exp`` = n of ``ghost1``, ``#out``): ``ghost1``, a stride-2 depthwise ``conv_dw`` +
  ``bn_dw`` where the stride is 2, squeeze-and-excite (``se``: the mean, a 1x1 to ``make_divisible(exp / 4, 4)``,
  ReLU, a 1x1 back, a hard-sigmoid gate), ``ghost2`` (linear), and the shortcut: the identity, or a depthwise k x k
  with the stride + BN + a 1x1 to #out + BN where the widths or the stride change; ``add``;
- ``blocks.9.0`` a 1x1 to 960 + BN + ReLU, ``global_pool``, ``conv_head`` a 1x1 to 1280 with bias, ``act2``,
  ``flatten``, ``classifier``.

Widths are ``make_divisible(c x alpha, 4)`` (the paper's "width multiplier"); the model comes at 0.5x, 1.0x and
1.3x (the paper's and timm's), where the shortcuts are the same. Table 1 lists every block, so there is no repeat
count to scale: the model takes no ``--depth``.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network
from ...ops import Activation, Add, BatchNorm, Concat, Conv2d, Flatten, GlobalAvgPool, Slice
from ...core.scaling import Scaled, Squeezed
from .efficientnet import squeeze_excite
from .entry import ModelEntry

SOURCE = "Han et al. 2020 (arXiv:1911.11907), Table 1; timm ghostnet.py (ghostnet_100)"
WIDTHS = (0.5, 1.0, 1.3)

# Table 1, per stage: (kernel, #exp, #out, SE ratio, stride) of each bottleneck.
TABLE_1 = (
    ((3, 16, 16, 0, 1),),
    ((3, 48, 24, 0, 2),),
    ((3, 72, 24, 0, 1),),
    ((5, 72, 40, 0.25, 2),),
    ((5, 120, 40, 0.25, 1),),
    ((3, 240, 80, 0, 2),),
    ((3, 200, 80, 0, 1), (3, 184, 80, 0, 1), (3, 184, 80, 0, 1), (3, 480, 112, 0.25, 1), (3, 672, 112, 0.25, 1)),
    ((5, 672, 160, 0.25, 2),),
    ((5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1), (5, 960, 160, 0, 1), (5, 960, 160, 0.25, 1)),
)


def _width(channels: int) -> Scaled:
    return Scaled(channels, "make_divisible_4")


def ghost_module(builder: GraphBuilder, prefix: str, x: str, out: int, relu: bool) -> str:
    """timm's ``GhostModule`` (ratio 2, 3x3 cheap operation) of output width ``out``."""
    names = ("0", "1", "2" if relu else None)
    primary = conv_bn_act(builder, f"{prefix}.primary_conv", Scaled(out, "ghost_primary"), kernel=1,
                          activation="relu" if relu else None, names=names, x=x)
    cheap = conv_bn_act(builder, f"{prefix}.cheap_operation", None, kernel=3, groups="depthwise",
                        activation="relu" if relu else None, names=names, x=primary)
    builder.add(f"{prefix}.cat", Concat(), (primary, cheap))
    return builder.add(f"{prefix}.slice", Slice(1, 0, _width(out)))


def ghost_bottleneck(builder: GraphBuilder, prefix: str, x: str, in_channels: int, kernel: int, expansion: int,
                     out: int, se: float, stride: int) -> str:
    """timm's ``GhostBottleneck``."""
    last = ghost_module(builder, f"{prefix}.ghost1", x, expansion, relu=True)
    if stride > 1:
        builder.add(f"{prefix}.conv_dw", Conv2d(None, kernel=kernel, stride=stride, padding=(kernel - 1) // 2,
                                                groups="depthwise"), last)
        last = builder.add(f"{prefix}.bn_dw", BatchNorm())
    if se:
        last = squeeze_excite(builder, f"{prefix}.se", last, Squeezed(4, 4), "relu", gate="hsigmoid")
    last = ghost_module(builder, f"{prefix}.ghost2", last, out, relu=False)
    shortcut = x
    if in_channels != out or stride != 1:
        conv_bn_act(builder, f"{prefix}.shortcut", None, kernel=kernel, stride=stride, groups="depthwise",
                    activation=None, names=("0", "1", None), x=x)
        shortcut = conv_bn_act(builder, f"{prefix}.shortcut", _width(out), kernel=1, activation=None,
                               names=("2", "3", None))
    return builder.add(f"{prefix}.add", Add(), (last, shortcut))


def ghostnet(num_classes: int = 1000) -> Network:
    builder = GraphBuilder()
    x = conv_bn_act(builder, "", _width(16), kernel=3, stride=2, names=("conv_stem", "bn1", "act1"))
    in_channels = 16
    for stage, blocks in enumerate(TABLE_1):
        for index, (kernel, expansion, out, se, stride) in enumerate(blocks):
            x = ghost_bottleneck(builder, f"blocks.{stage}.{index}", x, in_channels, kernel, expansion, out, se,
                                 stride)
            in_channels = out
    conv_bn_act(builder, f"blocks.{len(TABLE_1)}.0", _width(960), kernel=1, names=("conv", "bn1", "bn1.act"), x=x)
    builder.add("global_pool.pool", GlobalAvgPool())
    builder.add("conv_head", Conv2d(Scaled(1280), kernel=1, bias=True))
    builder.add("act2", Activation("relu"))
    classifier(builder, num_classes, "classifier", (("flatten", Flatten()),))
    return builder.build("ghostnet", source=SOURCE,
                         description="GhostNet (Table 1): Ghost bottlenecks with SE, widths x alpha (0.5, 1, 1.3)")


ENTRIES = (
    ModelEntry("ghostnet", ghostnet,
               "GhostNet: Ghost modules (half the maps from cheap depthwise ops) + SE; alpha 0.5, 1 or 1.3",
               SOURCE, alpha_choices=WIDTHS),
)
