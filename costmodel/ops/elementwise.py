"""Element-wise arithmetic: the residual add, squeeze-excite's channel-wise multiply, a difference, and a constant
scale.

No parameters, no mult-adds; costmodel's convention charges one operation per output element and input beyond the
first; the papers, fvcore (unsupported ops) and FlopCounterMode count 0. Memory access: every input read once, the
output written once (ShuffleNetV2's guideline G4: element-wise ops are memory-bound).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.ir import Op, check_bool, check_number
from ..core.shapes import NodeShapes, Shape, ShapeContext, format_shape
from ..core.symbolic import both, negate
from .common import costmodel_only, elementwise_backward, output_elements, read_write, zero
from .pool import Mean
from .registry import NO_BACKWARD, Backward, Example, FieldReader, OpDef, Saved, SpecForm, register


@dataclass(frozen=True)
class Add(Op):
    """Element-wise sum of equally shaped inputs (residual connections).

    ``if_shapes_match`` makes it the reference code's conditional residual (torchvision's ``use_res_connect = stride
    == 1 and inp == oup``): where rounding gives the shortcut and the branch different widths, the add does not
    happen, the output is the last input, and the node is not a layer of that analysis. MobileNetV2 at alpha 0.25
    has a residual in its first block (make_divisible(32 * 0.25) = make_divisible(16 * 0.25) = 8) that it lacks at
    alpha 1."""

    if_shapes_match: bool = False
    arity: ClassVar[tuple[int, float]] = (2, float("inf"))
    op_name: ClassVar[str] = "add"

    def __post_init__(self) -> None:
        check_bool(self.if_shapes_match, "if_shapes_match")

    def conditional(self) -> bool:
        return self.if_shapes_match


@dataclass(frozen=True)
class Multiply(Op):
    """Element-wise product of two inputs; one may be N x C x 1 x 1 and broadcast (squeeze-excite's scaling)."""

    arity: ClassVar[tuple[int, float]] = (2, 2)
    op_name: ClassVar[str] = "multiply"


def all_equal(pairs: list[tuple[Any, Any]]) -> Any:
    """True when every pair is equal (a condition on symbols too)."""
    result: Any = True
    for a, b in pairs:
        result = both(result, a == b)
    return result


def broadcasts_into(sizes: tuple, dims: tuple) -> Any:
    """Whether a tensor of ``sizes`` broadcasts into one of ``dims`` without growing it: no more axes, and each
    size, aligned from the right, 1 or equal (a condition on symbols too)."""
    if len(sizes) > len(dims):
        return False
    return all_equal([(size, dim) for size, dim in zip(reversed(sizes), reversed(dims)) if size != 1])


def _ones(sizes: tuple) -> bool:
    """Sizes known to be 1 when the rules run (a pooled map's), as opposed to sizes that vary with the input."""
    return all(type(size) is int and size == 1 for size in sizes)


def add_shape(op: Add, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    first = inputs[0]
    shapes = lambda: ", ".join(format_shape(shape) for shape in inputs)  # noqa: E731
    if any(shape.layout != first.layout for shape in inputs):
        if op.if_shapes_match:
            ctx.skip = True
            return inputs[-1]
        raise ctx.fail(f"cannot add inputs of different shapes {shapes()}")
    equal = all_equal([(shape.dims[axis], first.dims[axis]) for shape in inputs[1:] for axis in range(len(first.dims))])
    if op.if_shapes_match:
        ctx.skip = negate(equal)
        return inputs[-1]
    ctx.require(equal, lambda: f"cannot add inputs of different shapes {shapes()}")
    return first


def add_flops(op: Add, node: NodeShapes) -> Any:
    """``n - 1`` additions per output element for n inputs."""
    return (len(node.inputs) - 1) * node.output.numel


def read_add(layer: FieldReader) -> Add:
    return Add(if_shapes_match=layer.get("if_shapes_match", bool, False))


def _sum(*xs: Any) -> Any:
    total = xs[0]
    for x in xs[1:]:
        total = total + x
    return total


ADD = register(OpDef(
    Add,
    shape=add_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": add_flops, "papers": zero, "fvcore": zero, "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=NO_BACKWARD,                    # the gradient passes to each input as it is
    kinds={"add": "element-wise add"},
    spec=SpecForm("add", read_add, fields="if_shapes_match"),
    lower=lambda op, node, kit: kit.Function(_sum),
    examples=(Add(), Add(if_shapes_match=True)),
))


def multiply_shape(op: Multiply, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    a, b = inputs
    message = lambda: (f"cannot multiply shapes {format_shape(a)} and {format_shape(b)}; "  # noqa: E731
                       "they must be equal or one must be C x 1 x 1")
    if a.layout != b.layout:
        raise ctx.fail(message())
    for full, gate in ((a, b), (b, a)):
        # an N x C x 1 x 1 gate broadcasts over an N x C x H x W map (squeeze-excite); the 1s are known when the
        # rules run
        if full.layout == "NCHW" and _ones(gate.dims[2:]) and not _ones(full.dims[2:]):
            ctx.require(all_equal([(full.batch, gate.batch), (full.channels, gate.channels)]), message)
            return full
    ctx.require(all_equal(list(zip(a.dims, b.dims))), message)
    return a


def product_saves(op: Any, node: NodeShapes) -> "tuple[Saved, ...]":
    """Each factor, for the other's gradient (torch saves a factor only when the other needs a gradient)."""
    return (Saved("input", 0, needed_for="input1"), Saved("input", 1, needed_for="input0"))


# Each factor's gradient: the output gradient times the other factor, one multiply per output element (a factor
# broadcast over the output, a squeeze-excite's scale, sums it there: a multiply-accumulate per element).
PRODUCT_BACKWARD = Backward(saves=product_saves, per_input=True, input_flops=costmodel_only(output_elements))


MULTIPLY = register(OpDef(
    Multiply,
    shape=multiply_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": output_elements,     # one multiply per output element
           "papers": zero, "fvcore": zero, "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=PRODUCT_BACKWARD,
    kinds={"mul": "element-wise multiply"},
    spec=SpecForm("multiply", lambda layer: Multiply()),
    lower=lambda op, node, kit: kit.Function(lambda a, b: a * b),
    examples=(Multiply(),),
))


@dataclass(frozen=True)
class Subtract(Op):
    """Element-wise difference of two equally shaped inputs, the first minus the second (PoolFormer's and
    EfficientFormer's token mixer: ``pool(x) - x``)."""

    arity: ClassVar[tuple[int, float]] = (2, 2)
    op_name: ClassVar[str] = "subtract"


def subtract_shape(op: Subtract, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    a, b = inputs
    if a.layout != b.layout:
        raise ctx.fail(f"cannot subtract inputs of different shapes {format_shape(a)}, {format_shape(b)}")
    ctx.require(all_equal(list(zip(a.dims, b.dims))),
                lambda: f"cannot subtract inputs of different shapes {format_shape(a)}, {format_shape(b)}")
    return a


SUBTRACT = register(OpDef(
    Subtract,
    shape=subtract_shape,
    params=zero,
    madds=zero,
    flops=costmodel_only(output_elements),     # one subtraction per element; aten::sub is unsupported by fvcore
    memory_access=read_write,
    activation=output_elements,
    backward=elementwise_backward(1),        # the second input's gradient is -g
    kinds={"add": "element-wise add"},
    spec=SpecForm("subtract", lambda layer: Subtract()),
    lower=lambda op, node, kit: kit.Function(lambda a, b: a - b),
    examples=(Subtract(),),
))


@dataclass(frozen=True)
class Scale(Op):
    """Multiplication by a constant ``factor``; None is attention's ``1 / sqrt(E)`` for the E features of the last
    axis (``q * head_dim ** -0.5``)."""

    factor: "float | None" = None
    op_name: ClassVar[str] = "scale"

    def __post_init__(self) -> None:
        if self.factor is not None:
            check_number(self.factor, "scale factor")


SCALE = register(OpDef(
    Scale,
    shape=lambda op, inputs, ctx: inputs[0],
    params=zero,
    madds=zero,
    flops=costmodel_only(output_elements),     # one multiply per element; aten::mul is unsupported by fvcore
    memory_access=read_write,
    activation=output_elements,
    backward=elementwise_backward(1),        # g times the constant
    kinds={"mul": "element-wise multiply"},
    spec=SpecForm("scale", lambda layer: Scale(layer.get("factor", (int, float))),
                  fields="factor (default 1 / sqrt(features of the last axis))"),
    lower=lambda op, node, kit: kit.Function(
        lambda x, factor=node.output.dims[-1] ** -0.5 if op.factor is None else op.factor: x * factor),
    examples=(Scale(0.125), Scale()),
))


@dataclass(frozen=True)
class Shift(Op):
    """Addition of a constant ``value`` (``x + 3`` in a hard sigmoid written out: ``relu6(x + 3) / 6``)."""

    value: float = 0.0
    op_name: ClassVar[str] = "shift"

    def __post_init__(self) -> None:
        check_number(self.value, "shift value")


SHIFT = register(OpDef(
    Shift,
    shape=lambda op, inputs, ctx: inputs[0],
    params=zero,
    madds=zero,
    flops=costmodel_only(output_elements),     # one addition per element; aten::add is unsupported by fvcore
    memory_access=read_write,
    activation=output_elements,
    backward=NO_BACKWARD,
    kinds={"add": "element-wise add"},
    spec=SpecForm("shift", lambda layer: Shift(layer.get("value", (int, float), required=True)), fields="value"),
    lower=lambda op, node, kit: kit.Function(lambda x, value=op.value: x + value),
    examples=(Shift(3.0),),
))


@dataclass(frozen=True)
class Broadcast(Op):
    """An element-wise ``function`` (add, sub, mul, div) of two tensors under torch's broadcasting rules: sizes are
    compared from the last axis, and a size of 1 (or a missing axis) stretches to the other's (``x + x.mean((2, 3),
    keepdim=True)``; ``a / b`` of an imported module)."""

    function: str = "add"
    arity: ClassVar[tuple[int, float]] = (2, 2)
    op_name: ClassVar[str] = "broadcast"

    def __post_init__(self) -> None:
        if self.function not in BROADCAST_FUNCTIONS:
            raise CostModelError(f"unknown broadcast function {self.function!r}; known: "
                                 f"{', '.join(BROADCAST_FUNCTIONS)}")


BROADCAST_FUNCTIONS = ("add", "sub", "mul", "div")


def broadcast_shape(op: Broadcast, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    a, b = inputs
    longer = a if a.rank >= b.rank else b
    dims = list(longer.dims)
    for offset in range(1, min(a.rank, b.rank) + 1):
        x, y = a.dims[-offset], b.dims[-offset]
        if type(x) is int and x == 1:
            dims[-offset] = y
            continue
        if type(y) is int and y == 1:
            dims[-offset] = x
            continue
        ctx.require(x == y, lambda: f"cannot broadcast shapes {format_shape(a)} and {format_shape(b)}")
        dims[-offset] = x
    return Shape(longer.layout, tuple(dims))


def _broadcast_lowering(op: Broadcast, node: NodeShapes, kit: Any) -> Any:
    functions = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
                 "div": lambda x, y: x / y}
    return kit.Function(functions[op.function])


def broadcast_saves(op: Broadcast, node: NodeShapes) -> "tuple[Saved, ...]":
    """mul: each factor for the other's gradient; div: the divisor for both gradients and the dividend for the
    divisor's (torch's derivatives of div); add and sub: nothing."""
    if op.function == "mul":
        return product_saves(op, node)
    if op.function == "div":
        return (Saved("input", 0, needed_for="input1"), Saved("input", 1))
    return ()


def broadcast_backward(op: Broadcast, node: NodeShapes) -> Any:
    """Per output element: add 0, sub 1 (negate), mul 2 (each factor's multiply), div 4 (g / b; and -g a / b^2:
    multiply, divide, negate)."""
    return {"add": 0, "sub": 1, "mul": 2, "div": 4}[op.function] * node.output.numel


BROADCAST = register(OpDef(
    Broadcast,
    shape=broadcast_shape,
    params=zero,
    madds=zero,
    flops=costmodel_only(output_elements),     # one operation per output element; fvcore skips aten::add and mul
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=broadcast_saves, input_flops=costmodel_only(broadcast_backward)),
    kinds={"broadcast": "element-wise, broadcast"},
    spec=SpecForm("broadcast", lambda layer: Broadcast(layer.get("function", str, "add")),
                  fields="function (add, sub, mul, div)"),
    lower=_broadcast_lowering,
    examples=(Example(Broadcast("add"), prelude=(("pooled", Mean((2, 3), keepdim=True), ("input",)),),
                      inputs=("input", "pooled")),
              Example(Broadcast("div"), prelude=(("pooled", Mean((2, 3), keepdim=True), ("input",)),),
                      inputs=("pooled", "input"))),
))
