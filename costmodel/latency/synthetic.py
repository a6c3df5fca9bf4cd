"""Synthetic networks made of the zoo's blocks, on which a latency predictor learns what a kernel timed alone does not
show: the cost of a layer in the context of a network (issue 25). They are drawn with a fixed seed, so every machine
measures the same ones, and none of them is a zoo network: the predictor is scored on the zoo and on imported modules,
never on what it was fitted on.

A network is a stem (a strided 3x3 convolution), two to five stages of one block type each (the first block of a
stage strided, widths growing), and a classifier head. The block types are the zoo's own builders: MobileNetV2's and
V3's inverted residual (with and without squeeze-and-excite), ShuffleNet V2's unit, ResNet's bottleneck (plain and
grouped), GhostNet's bottleneck, MobileNetV4's universal inverted bottleneck, EfficientFormer's pooling meta block,
BlazeFace's block, Xception-style separable convolutions, VGG-style plain convolutions, and MobileViT's block (a
transformer over patches).
"""
from __future__ import annotations

import random
from typing import Callable, Iterator

from ..core.ir import Network
from ..core.scaling import Scaled
from ..sources.builder import GraphBuilder, classifier, conv_bn_act, inverted_residual
from ..sources.zoo import blazeface, efficientformer, ghostnet, mobilenet_v4, mobilevit, resnet, shufflenet_v2

RESOLUTIONS = (96, 128, 160, 192, 224)
Block = Callable[[GraphBuilder, str, str, int, int, int, random.Random], str]


def _inverted(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
              rng: random.Random) -> str:
    se = rng.random() < 0.4
    return inverted_residual(builder, prefix, x, Scaled(out), Scaled(rng.choice((3, 4, 6)) * width), rng.choice((3, 5)),
                             stride,
                             rng.choice(("relu6", "hswish", "silu")), se=se)


def _shuffle(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
             rng: random.Random) -> str:
    return shufflenet_v2.inverted_residual(builder, prefix, x, out // 2, stride)  # type: ignore[arg-type]


def _bottleneck(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
                rng: random.Random) -> str:
    groups = rng.choice((1, 1, 8, 32))
    inner = max(groups, (out // 4) // groups * groups) if groups > 1 else out // 4
    resnet._bottleneck(builder, prefix, inner, out, stride, groups, project=stride > 1 or width != out,
                       variant="v1.5")
    return builder.last


def _ghost(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
           rng: random.Random) -> str:
    return ghostnet.ghost_bottleneck(builder, prefix, x, width, rng.choice((3, 5)), rng.choice((3, 6)) * width // 2,
                                     out, 0.25 if rng.random() < 0.4 else 0, stride)


def _uib(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
         rng: random.Random) -> str:
    start, mid = rng.choice(((3, 3), (0, 3), (3, 0), (5, 5), (0, 0)))
    return mobilenet_v4.universal_inverted_bottleneck(builder, prefix, x, start, mid, stride,
                                                      rng.choice((2.0, 4.0)), Scaled(out), False)


def _meta(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
          rng: random.Random) -> str:
    if stride > 1 or width != out:          # EfficientFormer's downsampling: a strided 3x3 convolution
        x = conv_bn_act(builder, f"{prefix}.down", out, kernel=3, stride=stride, activation=None, x=x)
    return efficientformer.meta_block_4d(builder, prefix, x)


def _blaze(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
           rng: random.Random) -> str:
    widths = (out,) if rng.random() < 0.5 else (max(8, out // 4), out)
    return blazeface.blaze_block(builder, prefix, x, width, stride, widths)


def _separable(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
               rng: random.Random) -> str:
    conv_bn_act(builder, f"{prefix}.dw", None, kernel=3, stride=stride, groups="depthwise", x=x)
    return conv_bn_act(builder, f"{prefix}.pw", out, kernel=1)


def _plain(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
           rng: random.Random) -> str:
    return conv_bn_act(builder, prefix, out, kernel=3, stride=stride, x=x, bn=rng.random() < 0.5)


def _mobilevit(builder: GraphBuilder, prefix: str, x: str, width: int, out: int, stride: int,
               rng: random.Random) -> str:
    if stride > 1 or width != out:
        x = mobilevit.inverted_residual(builder, f"{prefix}.down", x, out, stride, 2.0, residual=False)
    return mobilevit.mobilevit_block(builder, prefix, x, out, rng.choice((64, 96, 144)), rng.choice((1, 2)))


BLOCKS: dict[str, Block] = {"inverted_residual": _inverted, "shuffle_v2": _shuffle, "bottleneck": _bottleneck,
                            "ghost": _ghost, "uib": _uib, "meta_4d": _meta, "blaze": _blaze,
                            "separable": _separable, "plain": _plain, "mobilevit": _mobilevit}


def networks(count: int, seed: int = 0) -> Iterator[Network]:
    """``count`` synthetic networks, each named ``synthetic<i>_<blocks>``.

    :param count: how many
    :param seed: the random seed (the same networks for the same seed on every machine)
    :returns: the networks, each at its own base resolution"""
    rng = random.Random(seed)
    names = list(BLOCKS)
    for index in range(count):
        resolution = rng.choice(RESOLUTIONS)
        builder = GraphBuilder()
        width = rng.choice((16, 24, 32, 48, 64))
        x = conv_bn_act(builder, "stem", width, kernel=3, stride=2, x="input")
        kinds = []
        for stage in range(rng.randint(2, 5)):
            kind = rng.choice(names)
            kinds.append(kind)
            # each stage starts strided and doubles the width (the first may widen less; a BlazeBlock doubles)
            out = width * 2 if stage or kind == "blaze" else width + 8 * rng.randint(0, 2)
            for block in range(rng.randint(1, 3)):
                x = BLOCKS[kind](builder, f"stage{stage}.{block}", x, width if block == 0 else out, out,
                                 2 if block == 0 else 1, rng)
            width = out
        classifier(builder, 1000, x=x)
        yield builder.build(f"synthetic{index}_{'-'.join(kinds)}", input_channels=3,
                            base_resolution=(resolution, resolution))
