"""The kernels ``costmodel calibrate`` measures: one-op networks of varied shapes per layer kind, sampled with a
fixed seed (the same kernels on every machine, so profiles compare). Each network's op is the node named ``op``.
"""
from __future__ import annotations

import random
from typing import Iterator

from ..sources.builder import GraphBuilder
from ..core.ir import Network
from ..ops import (Activation, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool,
                  LayerNorm, LayerScale, Linear, MatMul, Multiply, PatchUnfold, Permute, Pool2d,
                  ScaledDotProductAttention, Softmax, Split, Transpose, Unflatten)


def _image(channels: int, size: int, ops: "list[tuple]", name: str) -> Network:
    builder = GraphBuilder()
    for node, op, inputs in ops:
        builder.add(node, op, inputs)
    return builder.build(name, input_channels=channels, base_resolution=(size, size))


def samples(per_kind: int = 24, seed: int = 0) -> Iterator[Network]:
    """``per_kind`` networks of each measured kind: conv, pointwise (on a map and on a 1x1 map), depthwise, group (1x1
    and 3x3), linear (on one vector and over tokens), batchnorm, two activations (the functions in turn), two pools (max
    and average, 2x2 and 3x3, stride 1 and 2), global_pool, add, mul, concat, shuffle, layernorm, softmax, matmul,
    attention, layer scale, patches, a copying transpose, and the views (flatten, reshape, split, dropout) whose cost is
    the call alone. Then a quarter as many again of the kinds a network runs on its large maps (pointwise, depthwise,
    batchnorm, activations, add, mul, concat) at 160 and 224 pixels, whose traffic (5-90 MB) passes the
    cache, for the profile's cache threshold (``profiles.fit``); and as many of the kinds of a classic network's wide
    stages (ResNet's, ResNeXt's, Xception's: 64-2048 channels from 112 down to 7 pixels, 32-group convolutions, and
    classifiers of up to 9216 x 4096 weights), whose shapes the kernels above do not reach."""
    rng = random.Random(seed)
    sizes = (7, 14, 28, 56, 112)
    widths = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
    functions = ("relu", "relu6", "hswish", "hsigmoid", "sigmoid", "silu", "gelu")
    for index in range(per_kind):
        size = rng.choice(sizes)
        c_in, c_out = rng.choice(widths), rng.choice(widths)
        if size >= 56:              # the wide layers of a network run at its small maps
            c_in, c_out = min(c_in, 128), min(c_out, 128)
        stride = rng.choice((1, 2))
        kernel = rng.choice((3, 5))
        yield _image(c_in, size, [("op", Conv2d(rng.choice(widths[:6]), kernel, stride, kernel // 2), ("input",))],
                     f"conv{index}")
        yield _image(c_in, size, [("op", Conv2d(c_out, 1), ("input",))], f"pointwise{index}")
        # a 1x1 convolution on a 1x1 map, as squeeze-and-excite's
        yield _image(rng.choice(widths), 1, [("op", Conv2d(rng.choice(widths[:8]), 1, bias=True), ("input",))],
                     f"pointwise_on_vector{index}")
        yield _image(c_in, size, [("op", Conv2d(None, kernel, stride, kernel // 2, groups="depthwise"),
                                   ("input",))], f"depthwise{index}")
        groups, group_kernel = rng.choice((2, 3, 4, 8, 32)), rng.choice((1, 3))
        channels = groups * rng.choice((4, 8, 16, 32, 64)) if groups < 32 else 32 * rng.choice((4, 8, 16))
        yield _image(channels, min(size, 56), [("op", Conv2d(channels, group_kernel, 1, group_kernel // 2,
                                                             groups=groups), ("input",))], f"group{index}")
        vector = rng.choice(widths + (1280, 1536, 2048))
        yield _image(vector, 1, [("flat", Flatten(1), ("input",)),
                                 ("op", Linear(rng.choice((10, 100, 1000, 1280))), ("flat",))], f"linear{index}")
        yield _image(c_in, size, [("op", BatchNorm(), ("input",))], f"batchnorm{index}")
        for turn in range(2):
            function = functions[(2 * index + turn) % len(functions)]
            yield _image(c_in, size, [("op", Activation(function), ("input",))], f"activation{index}_{turn}")
        for turn in range(2):
            pool_kernel = rng.choice((2, 3))
            yield _image(c_in, size, [("op", Pool2d(rng.choice(("max", "avg")), pool_kernel, rng.choice((1, 2)),
                                                    pool_kernel // 2 if pool_kernel == 3 else 0,
                                                    count_include_pad=rng.choice((True, False))), ("input",))],
                         f"pool{index}_{turn}")
        yield _image(c_in, size, [("op", GlobalAvgPool(), ("input",))], f"global_pool{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Add(), ("input", "other"))],
                     f"add{index}")
        yield _image(c_in, size, [("gate", GlobalAvgPool(), ("input",)), ("op", Multiply(), ("input", "gate"))],
                     f"mul{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Concat(), ("input", "other"))],
                     f"concat{index}")
        yield _image(2 * (c_in // 2), size, [("op", ChannelShuffle(2), ("input",))], f"shuffle{index}")
        yield _image(c_in, size, [("op", LayerScale(), ("input",))], f"scale{index}")
        yield _image(c_in, 2 * (size // 2), [("op", PatchUnfold(2), ("input",))], f"patches{index}")
        view = rng.choice((Flatten(1), Unflatten(1, (2, -1)), Split(2), Dropout()))
        yield _image(2 * (c_in // 2), size, [("op", view, ("input",))], f"view{index}")
        tokens = [("flat", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flat",))]
        side = rng.choice((7, 14, 16, 28))
        token_width = rng.choice((64, 96, 128, 192, 256, 384, 448))
        yield _image(token_width, side, tokens + [("op", LayerNorm(), ("tokens",))], f"layernorm{index}")
        yield _image(token_width, side, tokens + [("op", Permute((0, 2, 1)), ("tokens",))], f"permute{index}")
        # a linear layer over tokens (a matrix product, as in attention's projections and MLPs)
        yield _image(token_width, side, tokens + [("op", Linear(rng.choice((64, 192, 384, 768, 1536))),
                                                   ("tokens",))], f"token_linear{index}")
        heads = rng.choice((1, 2, 4, 8))
        dim = rng.choice((64, 96, 128, 192, 256))
        split = [("flat", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flat",)),
                 ("split", Unflatten(-1, (heads, -1)), ("tokens",)), ("q", Transpose(1, 2), ("split",))]
        yield _image(dim, side, split + [("k", Transpose(-2, -1), ("q",)), ("op", MatMul(), ("q", "k"))],
                     f"matmul{index}")
        yield _image(dim, side, split + [("k", Transpose(-2, -1), ("q",)), ("scores", MatMul(), ("q", "k")),
                                         ("op", Softmax(-1), ("scores",))], f"softmax{index}")
        yield _image(dim, side, split + [("op", ScaledDotProductAttention(), ("q", "q", "q"))], f"attention{index}")
    yield from _large_maps(max(per_kind // 4, 1), random.Random(seed + 1), functions)
    yield from _wide_stages(max(per_kind // 4, 1), random.Random(seed + 2))


# (map size, channels) of the large-map kernels, in turn: traffic from a few MB to past any cache (an add of two
# 96 x 224 x 224 maps moves 57.8 MB)
LARGE_MAPS = ((224, 96), (160, 16), (224, 48), (160, 64), (224, 24), (160, 96))


def _large_maps(count: int, rng: random.Random, functions: "tuple[str, ...]") -> Iterator[Network]:
    """``count`` kernels of each kind a network runs on its large maps (``LARGE_MAPS`` in turn: the largest reaches
    96 x 224 x 224) and a pointwise convolution's output width drawn from 16-96."""
    for index in range(count):
        size, c_in = LARGE_MAPS[index % len(LARGE_MAPS)]
        c_out = rng.choice((16, 24, 48, 96))
        yield _image(c_in, size, [("op", Conv2d(c_out, 1), ("input",))], f"large_pointwise{index}")
        yield _image(c_in, size, [("op", Conv2d(None, 3, rng.choice((1, 2)), 1, groups="depthwise"), ("input",))],
                     f"large_depthwise{index}")
        yield _image(c_in, size, [("op", BatchNorm(), ("input",))], f"large_batchnorm{index}")
        yield _image(c_in, size, [("op", Activation(functions[index % len(functions)]), ("input",))],
                     f"large_activation{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Add(), ("input", "other"))],
                     f"large_add{index}")
        gate = GlobalAvgPool() if index % 2 else Activation("relu")       # a channel gate, or a map as large
        yield _image(c_in, size, [("gate", gate, ("input",)), ("op", Multiply(), ("input", "gate"))],
                     f"large_mul{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Concat(), ("input", "other"))],
                     f"large_concat{index}")


# (map size, widths) of the stages of a classic wide network
WIDE_STAGES = ((112, (64, 128)), (56, (128, 256, 512)), (28, (256, 512, 1024)), (14, (512, 1024, 2048)),
               (7, (1024, 2048)))

# (inputs, outputs) of the wide classifiers, in turn: AlexNet's and VGG's first (151 MB of weights), their second,
# their last, ResNet-50's
CLASSIFIERS = ((9216, 4096), (4096, 4096), (4096, 1000), (2048, 1000))


def _wide_stages(count: int, rng: random.Random) -> Iterator[Network]:
    """``count`` kernels of each kind of a wide network's stages (``WIDE_STAGES``) and its classifier."""
    for index in range(count):
        size, widths = rng.choice(WIDE_STAGES)
        c_in, c_out = rng.choice(widths), rng.choice(widths)
        yield _image(c_in, size, [("op", Conv2d(c_out, 1), ("input",))], f"wide_pointwise{index}")
        yield _image(c_in, size, [("op", Conv2d(c_in, 3, 1, 1, groups=32), ("input",))], f"wide_group{index}")
        yield _image(c_in, size, [("op", Conv2d(None, 3, 1, 1, groups="depthwise"), ("input",))],
                     f"wide_depthwise{index}")
        yield _image(c_in, size, [("op", BatchNorm(), ("input",))], f"wide_batchnorm{index}")
        yield _image(c_in, size, [("op", Activation("relu"), ("input",))], f"wide_activation{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Add(), ("input", "other"))],
                     f"wide_add{index}")
        vector, classes = CLASSIFIERS[index % len(CLASSIFIERS)]
        yield _image(vector, 1, [("flat", Flatten(1), ("input",)), ("op", Linear(classes), ("flat",))],
                     f"wide_linear{index}")
