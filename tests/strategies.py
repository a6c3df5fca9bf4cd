"""Hypothesis strategies: valid networks built step by step (tracking shapes so every step fits), and malformed
spec documents."""
from __future__ import annotations

import json

from hypothesis import strategies as st

from costmodel.sources.builder import GraphBuilder
from costmodel.ops import (Activation, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten,
                           GlobalAvgPool, Interpolate, LayerNorm, Linear, Multiply, PatchFold, PatchUnfold, Permute,
                           Pool2d, ScaledDotProductAttention, Select, Split, Transpose, Unflatten, spec_names)
from costmodel.core.scaling import ChannelsOf, Scaled, Squeezed

ACTIVATIONS = ["relu", "relu6", "hswish", "hsigmoid", "sigmoid", "silu"]


@st.composite
def networks(draw, min_steps: int = 1, max_steps: int = 10):
    """A valid network at every alpha in [0.1, 2] and every resolution from its base up: convolutions keep padding
    k // 2 (maps never vanish), pools only where the map is at least the kernel, channel shuffles and splits only
    after widths that are multiples of 8 at every alpha (make_divisible), group convolutions only at fixed widths."""
    builder = GraphBuilder()
    channels = draw(st.integers(1, 8))
    size = base = draw(st.integers(8, 48))      # the tracked map size, from the base resolution
    x = "input"
    divisible = False                    # the current width is a multiple of 8 at every alpha
    for step in range(draw(st.integers(min_steps, max_steps))):
        kind = draw(st.sampled_from(["conv", "depthwise", "group", "pool", "residual", "concat", "se", "shuffle",
                                     "split", "bn_act", "dropout", "attention", "patches"]))
        name = f"s{step}"
        if kind in ("conv", "shuffle", "split") or (kind in ("concat",) and not divisible):
            rule = draw(st.sampled_from(["fixed", "mobilenet_v1", "make_divisible"]))
            if kind in ("shuffle", "split"):
                rule = "make_divisible"
            k = draw(st.sampled_from([1, 3, 5]))
            stride = draw(st.sampled_from([1, 2])) if size >= 4 else 1
            x = builder.add(f"{name}.conv", Conv2d(Scaled(draw(st.integers(1, 48)), rule), kernel=k, stride=stride,
                                                   padding=k // 2, bias=draw(st.booleans())), x)
            size = (size + 2 * (k // 2) - k) // stride + 1
            divisible = rule == "make_divisible"
        if kind == "depthwise":
            x = builder.add(f"{name}.dw", Conv2d(None, kernel=3, padding=1, groups="depthwise"), x)
        elif kind == "group":
            groups = draw(st.sampled_from([2, 4]))
            x = builder.add(f"{name}.fix", Conv2d(8 * groups, kernel=1), x)
            x = builder.add(f"{name}.group", Conv2d(4 * groups, kernel=3, padding=1, groups=groups), x)
            divisible = False
        elif kind == "pool" and size >= 3:
            k = draw(st.sampled_from([2, 3]))
            stride = draw(st.sampled_from([1, 2]))
            padding = draw(st.integers(0, k // 2))
            ceil = draw(st.booleans())
            x = builder.add(name, Pool2d(draw(st.sampled_from(["max", "avg"])), k, stride, padding, ceil), x)
            span = size + 2 * padding - k
            size = (-(-span // stride) + 1) if ceil else span // stride + 1
            if ceil and (size - 1) * stride >= size + padding:
                size -= 1
            size = max(size, 1)
        elif kind == "residual":
            branch = builder.add(f"{name}.branch", Conv2d(ChannelsOf(x), kernel=3, padding=1), x)
            x = builder.add(f"{name}.add", Add(if_shapes_match=draw(st.booleans())), (x, branch))
        elif kind == "concat" and divisible:
            a = builder.add(f"{name}.a", Conv2d(Scaled(16, "make_divisible"), kernel=1), x)
            b = builder.add(f"{name}.b", Conv2d(Scaled(8, "make_divisible"), kernel=3, padding=1), x)
            x = builder.add(f"{name}.cat", Concat(), (a, b))
        elif kind == "se":
            builder.add(f"{name}.pool", GlobalAvgPool(), x)
            builder.add(f"{name}.fc1", Conv2d(Squeezed(4, 8), kernel=1, bias=True))
            builder.add(f"{name}.act", Activation("relu"))
            builder.add(f"{name}.fc2", Conv2d(ChannelsOf(x), kernel=1, bias=True))
            gate = builder.add(f"{name}.gate", Activation("hsigmoid"))
            x = builder.add(f"{name}.mul", Multiply(), (x, gate))
        elif kind == "shuffle":
            x = builder.add(f"{name}.shuffle", ChannelShuffle(draw(st.sampled_from([2, 4, 8]))), x)
        elif kind == "split":
            x = builder.add(f"{name}.split", Split(2, draw(st.integers(0, 1))), x)
            divisible = False
        elif kind == "bn_act":
            x = builder.add(f"{name}.bn", BatchNorm(affine=draw(st.booleans())), x)
            x = builder.add(f"{name}.act", Activation(draw(st.sampled_from(ACTIVATIONS))), x)
        elif kind == "dropout":
            x = builder.add(f"{name}.dropout", Dropout(0.2), x)
        elif kind == "attention":
            # the map as tokens, a pre-norm attention block of 2 heads with a residual, and back to the map
            image = x
            builder.add(f"{name}.flat", Flatten(2), x)
            tokens = builder.add(f"{name}.tokens", Transpose(1, 2))
            builder.add(f"{name}.norm", LayerNorm(affine=draw(st.booleans())))
            builder.add(f"{name}.qkv", Linear(48))
            builder.add(f"{name}.split", Unflatten(-1, (3, 2, -1)))
            heads = builder.add(f"{name}.heads", Permute((0, 2, 3, 1, 4)))
            q, k, v = (builder.add(f"{name}.{part}", Select(1, i), heads) for i, part in enumerate("qkv"))
            builder.add(f"{name}.sdpa", ScaledDotProductAttention(), (q, k, v))
            builder.add(f"{name}.merge", Transpose(1, 2))
            builder.add(f"{name}.joined", Flatten(2))
            branch = builder.add(f"{name}.proj", Linear(ChannelsOf(tokens)))
            builder.add(f"{name}.add", Add(), (tokens, branch))
            builder.add(f"{name}.channels", Transpose(1, 2))
            x = builder.add(f"{name}.map", Unflatten(-1, ("H", "W"), like=image))
        elif kind == "patches":
            # MobileViT: resize to whole 2 x 2 patches where needed, unfold, a token-wise linear, fold, resize back
            image = x
            resized = builder.add(f"{name}.resize", Interpolate("bilinear", multiple=2, if_needed=True), x)
            builder.add(f"{name}.unfold", PatchUnfold(2))
            builder.add(f"{name}.mix", Linear(ChannelsOf(image)))
            builder.add(f"{name}.act", Activation("gelu"))
            builder.add(f"{name}.fold", PatchFold(2, like=resized))
            x = builder.add(f"{name}.restore", Interpolate("bilinear", like=image, if_needed=True))
    builder.add("head.pool", GlobalAvgPool(), x)
    builder.add("head.flatten", Flatten())
    builder.add("head.fc", Linear(draw(st.integers(1, 20)), bias=draw(st.booleans())))
    return builder.build("generated", input_channels=channels, base_resolution=base)


FIELD_NAMES = ["name", "op", "block", "input", "inputs", "out", "kernel", "stride", "padding", "groups", "bias", "bn",
               "act", "fixed", "mode", "function", "p", "chunks", "index", "output", "affine", "ceil_mode",
               "dilation", "if_shapes_match", "kernal", "colour", "layer", "dims", "sizes", "like", "dim", "dim0",
               "dim1", "start", "end", "stop", "pads", "patch", "scale", "multiple", "if_needed", "heads", "factor",
               "channels_first", "output_padding"]
OP_NAMES = [*spec_names(), "warp"]
TEXT = st.sampled_from(OP_NAMES + ["same", "valid", "auto", "depthwise", "relu", "gelu", "max", "avg", "a", "b",
                                   "input", "layer0", "ir_r2_k3_s2_e6_c24", "cn_c8", "ds_k3_c16_se", "xx_c1", "ir_c0",
                                   "", "<script>", "a.b", "1x"]) | st.text(max_size=8)
SCALAR = (st.integers(-3, 40) | st.floats(-2, 50) | st.sampled_from([float("nan"), float("inf"), float("-inf")])
          | st.booleans() | TEXT)
VALUE = SCALAR | st.lists(st.integers(-2, 9) | TEXT, max_size=3)


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value > 0 else "-inf") if abs(value) == float("inf") else \
            repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return str(value)


@st.composite
def spec_documents(draw):
    """TOML text of a spec with plausible but often wrong fields and values."""
    lines = []
    for key in draw(st.lists(st.sampled_from(["name", "input_channels", "resolution", "width_rule", "activation",
                                              "description", "junk"]), max_size=5, unique=True)):
        value = draw(st.sampled_from(["make_divisible", "mobilenet_v1", "fixed", "v9"]) if key == "width_rule" else
                     VALUE)
        lines.append(f"{key} = {toml_value(value)}")
    for _ in range(draw(st.integers(0, 5))):
        lines.append("[[layer]]")
        fields = draw(st.lists(st.sampled_from(FIELD_NAMES), max_size=6, unique=True))
        for key in fields:
            value = draw(st.sampled_from(OP_NAMES) if key == "op" else VALUE)
            lines.append(f"{key} = {toml_value(value)}")
    return "\n".join(lines) + "\n"
