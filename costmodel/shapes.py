"""Shape inference: every node's input and output shapes at one width multiplier and one input size.

Shapes are tuples of ints: (C, H, W) for feature maps, (F,) for flat vectors. Inference fails with a one-line
``CostModelError`` naming the node when the shapes do not fit: groups that do not divide the channels, an add of
unequal shapes, a map that shrinks to nothing. Widths are resolved through ``scaling.resolve_width`` (the one place
that rounds); the output-size formulas here are exact integer arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .errors import CostModelError
from .ir import (INPUT, Activation, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten,
                 GlobalAvgPool, Linear, Multiply, Network, Node, Op, Pool2d, Split)
from .scaling import Width, resolve_width

Shape = tuple[int, ...]


@dataclass(frozen=True)
class NodeShapes:
    """A node with its resolved input shapes, output shape and (for convolutions) group count."""

    node: Node
    inputs: tuple[Shape, ...]
    output: Shape
    groups: int = 1
    skipped: bool = False      # a conditional residual that does not apply at this width (see ``ir.Add``)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def op(self) -> Op:
        return self.node.op


def numel(shape: Shape) -> int:
    """Number of elements of a tensor of this shape."""
    count = 1
    for size in shape:
        count *= size
    return count


def format_shape(shape: Shape) -> str:
    """``32x112x112`` for a map, ``1000`` for a vector."""
    return "x".join(str(size) for size in shape)


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution (torch): ``floor((D + 2P - d(K - 1) - 1) / S) + 1``."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_output_size(size: int, stride: int) -> int:
    """Output length under TensorFlow's "same" padding: ``ceil(D / S)``."""
    return -(-size // stride)


def pool_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """Output length of torch's max/avg pooling: ``floor`` or ``ceil((D + 2P - K) / S) + 1``; with ``ceil_mode``
    a last window that would start inside the right padding is dropped."""
    span = size + 2 * padding - kernel
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + padding:
        out -= 1
    return out


class _Context:
    """What a shape rule needs besides the op and its input shapes: the node (for messages) and alpha."""

    def __init__(self, node: Node, alpha: float, produced: dict[str, "Shape"]):
        self.node = node
        self.alpha = alpha
        self.produced = produced

    def width(self, width: "Width", in_channels: int) -> int:
        """``width`` resolved for this node (``ChannelsOf`` reads an earlier node's output)."""
        return resolve_width(width, self.alpha, in_channels, lambda ref: self.produced[ref][0])

    def fail(self, message: str) -> CostModelError:
        return CostModelError(f"node {self.node.name!r}: {message}")

    def feature_map(self, shape: Shape) -> tuple[int, int, int]:
        if len(shape) != 3:
            raise self.fail(f"{self.node.op.op_name} needs a C x H x W feature map, got a vector of {shape[0]}")
        return shape  # type: ignore[return-value]

    def positive(self, what: str, value: int, detail: str) -> int:
        if value < 1:
            raise self.fail(f"{what} would be {value} ({detail}); the input is too small for this layer")
        return value


SKIPPED = 0    # the group count a shape rule returns for a node that does not run (a conditional residual)
ShapeRule = Callable[[Op, tuple[Shape, ...], _Context], tuple[Shape, int]]
_RULES: dict[type[Op], ShapeRule] = {}


def _rule(op_type: type[Op]) -> Callable[[ShapeRule], ShapeRule]:
    def register(function: ShapeRule) -> ShapeRule:
        if op_type in _RULES:
            raise RuntimeError(f"duplicate shape rule for {op_type.__name__}")
        _RULES[op_type] = function
        return function
    return register


@_rule(Conv2d)
def _conv(op: Conv2d, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    m, height, width = ctx.feature_map(inputs[0])
    n = m if op.out_channels is None else ctx.width(op.out_channels, m)
    if n < 1:
        raise ctx.fail(f"out_channels resolves to {n}")
    g = m if op.groups == "depthwise" else op.groups
    if m % g or n % g:
        raise ctx.fail(f"groups={g} must divide both in_channels {m} and out_channels {n}")
    sizes = []
    for axis, size in enumerate((height, width)):
        k, s, d = op.kernel[axis], op.stride[axis], op.dilation[axis]
        if op.padding == "same":
            out = same_output_size(size, s)
        else:
            p = 0 if op.padding == "valid" else op.padding[axis]
            out = conv_output_size(size, k, s, p, d)
        detail = f"input {height}x{width}, kernel {op.kernel[0]}x{op.kernel[1]}, stride {s}, padding {op.padding}"
        sizes.append(ctx.positive("output size", out, detail))
    return (n, sizes[0], sizes[1]), g


@_rule(Linear)
def _linear(op: Linear, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    if len(inputs[0]) != 1:
        raise ctx.fail(f"linear needs a flat input, got {format_shape(inputs[0])}; add a flatten before it")
    return (ctx.width(op.out_features, inputs[0][0]),), 1


@_rule(Pool2d)
def _pool(op: Pool2d, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    c, height, width = ctx.feature_map(inputs[0])
    sizes = []
    for axis, size in enumerate((height, width)):
        k, s, p = op.kernel[axis], op.stride[axis], op.padding[axis]
        out = pool_output_size(size, k, s, p, op.ceil_mode)
        detail = f"input {height}x{width}, kernel {op.kernel[0]}x{op.kernel[1]}, stride {s}, padding {p}"
        sizes.append(ctx.positive("output size", out, detail))
    return (c, sizes[0], sizes[1]), 1


@_rule(GlobalAvgPool)
def _global_pool(op: GlobalAvgPool, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    c, _, _ = ctx.feature_map(inputs[0])
    return (c, 1, 1), 1


@_rule(Flatten)
def _flatten(op: Flatten, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    return (numel(inputs[0]),), 1


def _same_shape(op: Op, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    return inputs[0], 1


for _type in (BatchNorm, Activation, Dropout):
    _rule(_type)(_same_shape)


@_rule(ChannelShuffle)
def _shuffle(op: ChannelShuffle, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    c, _, _ = ctx.feature_map(inputs[0])
    if c % op.groups:
        raise ctx.fail(f"groups={op.groups} must divide the {c} channels")
    return inputs[0], 1


@_rule(Split)
def _split(op: Split, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    c, height, width = ctx.feature_map(inputs[0])
    if c % op.chunks:
        raise ctx.fail(f"cannot split {c} channels into {op.chunks} equal chunks")
    return (c // op.chunks, height, width), 1


@_rule(Concat)
def _concat(op: Concat, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    first = inputs[0]
    if any(len(shape) != len(first) or shape[1:] != first[1:] for shape in inputs):
        shapes = ", ".join(format_shape(shape) for shape in inputs)
        raise ctx.fail(f"cannot concatenate along channels inputs of shapes {shapes}")
    return (sum(shape[0] for shape in inputs),) + first[1:], 1


@_rule(Add)
def _add(op: Add, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    if any(shape != inputs[0] for shape in inputs):
        if op.if_shapes_match:
            return inputs[-1], SKIPPED
        shapes = ", ".join(format_shape(shape) for shape in inputs)
        raise ctx.fail(f"cannot add inputs of different shapes {shapes}")
    return inputs[0], 1


@_rule(Multiply)
def _multiply(op: Multiply, inputs: tuple[Shape, ...], ctx: _Context) -> tuple[Shape, int]:
    a, b = inputs
    if a == b:
        return a, 1
    for full, gate in ((a, b), (b, a)):
        if len(full) == 3 and gate == (full[0], 1, 1):
            return full, 1
    raise ctx.fail(f"cannot multiply shapes {format_shape(a)} and {format_shape(b)}; "
                   "they must be equal or one must be C x 1 x 1")


def network_input_shape(network: Network, alpha: float, size: tuple[int, int]) -> Shape:
    """C x H x W of the network input at width multiplier ``alpha`` and input size ``size``."""
    return (resolve_width(network.input_channels, alpha, 0), size[0], size[1])


def infer_shapes(network: Network, alpha: float, size: tuple[int, int]) -> tuple[NodeShapes, ...]:
    """Every node of ``network`` with its shapes, for width multiplier ``alpha`` and an input of ``size`` (H, W)."""
    produced: dict[str, Shape] = {INPUT: network_input_shape(network, alpha, size)}
    resolved = []
    for node in network.nodes:
        inputs = tuple(produced[ref] for ref in node.inputs)
        rule = _RULES.get(type(node.op))
        if rule is None:
            raise CostModelError(f"node {node.name!r}: no shape rule for op {type(node.op).__name__}")
        output, groups = rule(node.op, inputs, _Context(node, alpha, produced))
        produced[node.name] = output
        skipped = groups == SKIPPED
        resolved.append(NodeShapes(node, inputs, output, 1 if skipped else groups, skipped))
    return tuple(resolved)
