"""The kernels ``costmodel calibrate`` measures: one-op networks of varied shapes per layer kind, sampled with a
fixed seed (the same kernels on every machine, so profiles compare). Each network's op is the node named ``op``.
"""
from __future__ import annotations

import random
from typing import Iterator

from .builder import GraphBuilder
from .ir import Network
from .ops import (Activation, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Flatten, GlobalAvgPool, LayerNorm,
                  Linear, MatMul, Multiply, Pool2d, ScaledDotProductAttention, Transpose, Unflatten)


def _image(channels: int, size: int, ops: "list[tuple]", name: str) -> Network:
    builder = GraphBuilder()
    for node, op, inputs in ops:
        builder.add(node, op, inputs)
    return builder.build(name, input_channels=channels, base_resolution=(size, size))


def samples(per_kind: int = 24, seed: int = 0) -> Iterator[Network]:
    """``per_kind`` networks of each measured kind (conv, pointwise, depthwise, group, linear (on one vector and
    over tokens), batchnorm, activation, pool, global_pool, add, mul, concat, shuffle, layernorm, matmul,
    attention)."""
    rng = random.Random(seed)
    sizes = (7, 14, 28, 56, 112)
    widths = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
    for index in range(per_kind):
        size = rng.choice(sizes)
        c_in, c_out = rng.choice(widths), rng.choice(widths)
        small = min(c_in, 128) if size >= 56 else c_in
        stride = rng.choice((1, 2))
        kernel = rng.choice((3, 5))
        yield _image(small, size, [("op", Conv2d(rng.choice(widths[:6]), kernel, stride, kernel // 2), ("input",))],
                     f"conv{index}")
        yield _image(c_in, size, [("op", Conv2d(c_out, 1), ("input",))], f"pointwise{index}")
        yield _image(c_in, size, [("op", Conv2d(None, kernel, stride, kernel // 2, groups="depthwise"),
                                   ("input",))], f"depthwise{index}")
        groups = rng.choice((2, 3, 4, 8))
        yield _image(24 * groups, size, [("op", Conv2d(24 * groups, 1, groups=groups), ("input",))], f"group{index}")
        yield _image(c_in, 1, [("flat", Flatten(1), ("input",)),
                               ("op", Linear(rng.choice((10, 100, 1000, 1280))), ("flat",))], f"linear{index}")
        yield _image(c_in, size, [("op", BatchNorm(), ("input",))], f"batchnorm{index}")
        function = rng.choice(("relu", "relu6", "hswish", "hsigmoid", "sigmoid", "silu", "gelu"))
        yield _image(c_in, size, [("op", Activation(function), ("input",))], f"activation{index}")
        yield _image(c_in, size, [("op", Pool2d(rng.choice(("max", "avg")), 3, 2, 1), ("input",))], f"pool{index}")
        yield _image(c_in, size, [("op", GlobalAvgPool(), ("input",))], f"global_pool{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Add(), ("input", "other"))],
                     f"add{index}")
        yield _image(c_in, size, [("gate", GlobalAvgPool(), ("input",)), ("op", Multiply(), ("input", "gate"))],
                     f"mul{index}")
        yield _image(c_in, size, [("other", Activation("relu"), ("input",)), ("op", Concat(), ("input", "other"))],
                     f"concat{index}")
        yield _image(2 * (c_in // 2), size, [("op", ChannelShuffle(2), ("input",))], f"shuffle{index}")
        tokens = [("flat", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flat",))]
        side = rng.choice((7, 14, 16, 28))
        yield _image(c_in, side, tokens + [("op", LayerNorm(), ("tokens",))], f"layernorm{index}")
        # a linear layer over tokens (a matrix product, as in attention's projections and MLPs)
        yield _image(c_in, side, tokens + [("op", Linear(rng.choice((64, 192, 384, 768))), ("tokens",))],
                     f"token_linear{index}")
        heads = rng.choice((1, 2, 4))
        dim = rng.choice((64, 96, 128, 192))
        split = [("flat", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flat",)),
                 ("split", Unflatten(-1, (heads, -1)), ("tokens",)), ("q", Transpose(1, 2), ("split",))]
        yield _image(dim, side, split + [("k", Transpose(-2, -1), ("q",)), ("op", MatMul(), ("q", "k"))],
                     f"matmul{index}")
        yield _image(dim, side, split + [("op", ScaledDotProductAttention(), ("q", "q", "q"))], f"attention{index}")
