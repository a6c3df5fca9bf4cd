"""Shape inference: every node's input and output shapes at one width multiplier and one input size.

Shapes are tuples of ints: (C, H, W) for feature maps, (F,) for flat vectors. Inference fails with a one-line
``CostModelError`` naming the node when the shapes do not fit: groups that do not divide the channels, an add of
unequal shapes, a map that shrinks to nothing. Widths are resolved through ``scaling.resolve_width`` (the one place
that rounds); the output-size formulas here are exact integer arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .errors import CostModelError
from .ir import (INPUT, Activation, AdaptiveAvgPool, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten,
                 GlobalAvgPool, Linear, Multiply, Network, Node, Op, Pool2d, Split)
from .scaling import Width, resolve_width
from .symbolic import both, negate, select

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
    return select((out - 1) * stride >= size + padding, out - 1, out)


class ShapeContext:
    """What a shape rule needs besides the op and its input shapes: the node (for messages), alpha, earlier
    outputs, and where its requirements go. Evaluated on numbers, a failed requirement raises at once with its
    message; traced on symbols (``compiled``), the requirements are collected as conditions to check."""

    def __init__(self, node: Node, alpha: Any, produced: dict[str, "Shape"]):
        self.node = node
        self.alpha = alpha
        self.produced = produced
        self.requirements: list[Any] = []
        self.skip: Any = False        # a conditional residual that does not apply

    def width(self, width: "Width", in_channels: Any) -> Any:
        """``width`` resolved for this node (``ChannelsOf`` reads an earlier node's output)."""
        return resolve_width(width, self.alpha, in_channels, lambda ref: self.produced[ref][0])

    def fail(self, message: str) -> CostModelError:
        return CostModelError(f"node {self.node.name!r}: {message}")

    def require(self, condition: Any, message: Callable[[], str]) -> None:
        """``condition`` must hold; ``message()`` says what is wrong when it does not."""
        if isinstance(condition, bool) or type(condition).__module__ == "numpy" and not hasattr(condition, "shape"):
            if not condition:
                raise self.fail(message())
        else:
            self.requirements.append(condition)

    def feature_map(self, shape: Shape) -> tuple[Any, Any, Any]:
        if len(shape) != 3:
            raise self.fail(f"{self.node.op.op_name} needs a C x H x W feature map, got a vector of {shape[0]}")
        return shape  # type: ignore[return-value]

    def positive(self, what: str, value: Any, detail: Callable[[], str]) -> Any:
        self.require(value >= 1, lambda: f"{what} would be {value} ({detail()}); the input is too small for this "
                                          "layer")
        return value


ShapeRule = Callable[[Op, tuple[Shape, ...], ShapeContext], tuple[Shape, Any]]
_RULES: dict[type[Op], ShapeRule] = {}


def shape_rule(op_type: type[Op]) -> ShapeRule:
    """The registered shape rule of ``op_type``."""
    try:
        return _RULES[op_type]
    except KeyError:
        raise CostModelError(f"no shape rule for op {op_type.__name__}") from None


def _rule(op_type: type[Op]) -> Callable[[ShapeRule], ShapeRule]:
    def register(function: ShapeRule) -> ShapeRule:
        if op_type in _RULES:
            raise RuntimeError(f"duplicate shape rule for {op_type.__name__}")
        _RULES[op_type] = function
        return function
    return register


def _ones(sizes: tuple) -> bool:
    """Sizes known to be 1 when the rules run (a pooled map's), as opposed to sizes that vary with the input."""
    return all(type(size) is int and size == 1 for size in sizes)


def _all_equal(pairs: list[tuple[Any, Any]]) -> Any:
    """True when every pair is equal (a condition on symbols or arrays)."""
    result: Any = True
    for a, b in pairs:
        equal = a == b
        result = equal if result is True else both(result, equal)
    return result


@_rule(Conv2d)
def _conv(op: Conv2d, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    m, height, width = ctx.feature_map(inputs[0])
    n = m if op.out_channels is None else ctx.width(op.out_channels, m)
    ctx.require(n >= 1, lambda: f"out_channels resolves to {n}")
    g = m if op.groups == "depthwise" else op.groups
    if op.groups != "depthwise":
        ctx.require(m % g == 0, lambda: f"groups={g} must divide both in_channels {m} and out_channels {n}")
    if op.groups != 1:
        ctx.require(n % g == 0, lambda: f"groups={g} must divide both in_channels {m} and out_channels {n}")
    sizes = []
    for axis, size in enumerate((height, width)):
        k, s, d = op.kernel[axis], op.stride[axis], op.dilation[axis]
        if op.padding == "same":
            out = same_output_size(size, s)
        else:
            p = 0 if op.padding == "valid" else op.padding[axis]
            out = conv_output_size(size, k, s, p, d)
        detail = (lambda s=s: f"input {height}x{width}, kernel {op.kernel[0]}x{op.kernel[1]}, stride {s}, "
                              f"padding {op.padding}")
        sizes.append(ctx.positive("output size", out, detail))
    return (n, sizes[0], sizes[1]), g


@_rule(Linear)
def _linear(op: Linear, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    if len(inputs[0]) != 1:
        raise ctx.fail(f"linear needs a flat input, got {format_shape(inputs[0])}; add a flatten before it")
    n = ctx.width(op.out_features, inputs[0][0])
    ctx.require(n >= 1, lambda: f"out_features resolves to {n}")
    return (n,), 1


@_rule(Pool2d)
def _pool(op: Pool2d, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    c, height, width = ctx.feature_map(inputs[0])
    sizes = []
    for axis, size in enumerate((height, width)):
        k, s, p = op.kernel[axis], op.stride[axis], op.padding[axis]
        out = pool_output_size(size, k, s, p, op.ceil_mode)
        detail = (lambda s=s, p=p: f"input {height}x{width}, kernel {op.kernel[0]}x{op.kernel[1]}, stride {s}, "
                                   f"padding {p}")
        sizes.append(ctx.positive("output size", out, detail))
    return (c, sizes[0], sizes[1]), 1


@_rule(GlobalAvgPool)
def _global_pool(op: GlobalAvgPool, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    c, _, _ = ctx.feature_map(inputs[0])
    return (c, 1, 1), 1


@_rule(AdaptiveAvgPool)
def _adaptive_pool(op: AdaptiveAvgPool, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    c, _, _ = ctx.feature_map(inputs[0])
    return (c, op.output[0], op.output[1]), 1


def adaptive_window_total(size: Any, output: int) -> Any:
    """The summed window lengths of adaptive pooling along one axis: sum over i < o of
    ``ceil((i + 1) D / o) - floor(i D / o)`` (D when o divides D; more when the windows overlap)."""
    total: Any = 0
    for i in range(output):
        total = total + (-(-(i + 1) * size // output) - (i * size // output))
    return total


@_rule(Flatten)
def _flatten(op: Flatten, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    return (numel(inputs[0]),), 1


def _same_shape(op: Op, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    return inputs[0], 1


for _type in (BatchNorm, Activation, Dropout):
    _rule(_type)(_same_shape)


@_rule(ChannelShuffle)
def _shuffle(op: ChannelShuffle, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    c, _, _ = ctx.feature_map(inputs[0])
    ctx.require(c % op.groups == 0, lambda: f"groups={op.groups} must divide the {c} channels")
    return inputs[0], 1


@_rule(Split)
def _split(op: Split, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    c, height, width = ctx.feature_map(inputs[0])
    ctx.require(c % op.chunks == 0, lambda: f"cannot split {c} channels into {op.chunks} equal chunks")
    return (c // op.chunks, height, width), 1


@_rule(Concat)
def _concat(op: Concat, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    first = inputs[0]
    shapes = lambda: ", ".join(format_shape(shape) for shape in inputs)  # noqa: E731
    if any(len(shape) != len(first) for shape in inputs):
        raise ctx.fail(f"cannot concatenate along channels inputs of shapes {shapes()}")
    ctx.require(_all_equal([(shape[axis], first[axis]) for shape in inputs[1:] for axis in range(1, len(first))]),
                lambda: f"cannot concatenate along channels inputs of shapes {shapes()}")
    total: Any = 0
    for shape in inputs:
        total = total + shape[0]
    return (total,) + tuple(first[1:]), 1


@_rule(Add)
def _add(op: Add, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    shapes = lambda: ", ".join(format_shape(shape) for shape in inputs)  # noqa: E731
    if any(len(shape) != len(inputs[0]) for shape in inputs):
        if op.if_shapes_match:
            ctx.skip = True
            return inputs[-1], 1
        raise ctx.fail(f"cannot add inputs of different shapes {shapes()}")
    equal = _all_equal([(shape[axis], inputs[0][axis]) for shape in inputs[1:] for axis in range(len(inputs[0]))])
    if op.if_shapes_match:
        ctx.skip = negate(equal)
        return inputs[-1], 1
    ctx.require(equal, lambda: f"cannot add inputs of different shapes {shapes()}")
    return inputs[0], 1


@_rule(Multiply)
def _multiply(op: Multiply, inputs: tuple[Shape, ...], ctx: ShapeContext) -> tuple[Shape, Any]:
    a, b = inputs
    message = lambda: (f"cannot multiply shapes {format_shape(a)} and {format_shape(b)}; "  # noqa: E731
                       "they must be equal or one must be C x 1 x 1")
    if len(a) != len(b):
        raise ctx.fail(message())
    for full, gate in ((a, b), (b, a)):
        # a C x 1 x 1 gate broadcasts over a C x H x W map (squeeze-excite); the 1s are known when the rules run
        if len(full) == 3 and _ones(gate[1:]) and not _ones(full[1:]):
            ctx.require(full[0] == gate[0], message)
            return full, 1
    ctx.require(_all_equal(list(zip(a, b))), message)
    return a, 1


def network_input_shape(network: Network, alpha: float, size: tuple[int, int]) -> Shape:
    """C x H x W of the network input at width multiplier ``alpha`` and input size ``size``."""
    return (resolve_width(network.input_channels, alpha, 0), size[0], size[1])


def infer_shapes(network: Network, alpha: float, size: tuple[int, int]) -> tuple[NodeShapes, ...]:
    """Every node of ``network`` with its shapes, for width multiplier ``alpha`` and an input of ``size`` (H, W)."""
    produced: dict[str, Shape] = {INPUT: network_input_shape(network, alpha, size)}
    resolved = []
    for node in network.nodes:
        inputs = tuple(produced[ref] for ref in node.inputs)
        context = ShapeContext(node, alpha, produced)
        output, groups = shape_rule(type(node.op))(node.op, inputs, context)
        produced[node.name] = output
        resolved.append(NodeShapes(node, inputs, output, groups, bool(context.skip)))
    return tuple(resolved)
