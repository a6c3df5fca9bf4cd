"""Element-wise nonlinearities. costmodel's convention charges each its arithmetic per element (``ELEMENTWISE``);
the papers, fvcore and FlopCounterMode count none of them. They run in place when they are the only reader of
their input; their memory access is the input read and the output written."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.shapes import NodeShapes, Shape, ShapeContext
from ..core.ir import Op
from .common import costmodel_only, output_elements, per_element, read_write, zero
from .registry import Backward, FieldReader, OpDef, Saved, SpecForm, register, saves_output

# FLOPs per element under the costmodel convention, with the arithmetic each one does.
ELEMENTWISE = {
    "relu": 1,        # max(x, 0)
    "relu6": 2,       # min(max(x, 0), 6)
    "hswish": 5,      # x * hsigmoid(x)
    "hsigmoid": 4,    # relu6(x + 3) / 6: add, max, min, multiply
    "sigmoid": 4,     # 1 / (1 + exp(-x)): negate, exp, add, divide
    "silu": 5,        # x * sigmoid(x)
    "gelu": 5,        # x * (1 + erf(x / sqrt(2))) / 2: divide, erf, add, multiply, halve
    "gelu_tanh": 9,   # x * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2: cube (2), scale, add, scale, tanh, add,
                      # multiply, halve
    "leaky_relu": 2,  # max(x, s x): a multiply and a comparison
    "tanh": 1,        # tanh(x)
}
ACTIVATIONS = tuple(ELEMENTWISE)
# The backward per element under the costmodel convention: the derivative times the output gradient g, with the
# arithmetic each does, from what torch saves (``SAVES_OUTPUT``: the output y; the others: the input x).
BACKWARD = {
    "relu": 1,        # g where y > 0: a select
    "relu6": 2,       # g where 0 < x < 6: two comparisons' select
    "hswish": 5,      # g (2x + 3) / 6 between -3 and 3, g above, 0 below: multiply, add, scale, compare, select
    "hsigmoid": 3,    # g / 6 between -3 and 3: compare, compare, scale
    "sigmoid": 3,     # g y (1 - y): subtract, multiply, multiply
    "silu": 9,        # g s (1 + x (1 - s)) with s = sigmoid(x) recomputed (4): subtract, multiply, add, multiply,
                      # multiply
    "gelu": 8,        # g (Phi(x) + x phi(x)): erf (Phi, 3), exp of -x^2/2 (phi, 3), multiply-add (2)
    "gelu_tanh": 14,  # g d/dx of the tanh form: the forward's tanh recomputed (7), its derivative (1 - t^2, 2) times
                      # the inner derivative (3 x^2 scaled and offset, 3), multiply by g (1), plus 1 for the sum
    "leaky_relu": 2,  # g or s g: a comparison and a select
    "tanh": 3,        # g (1 - y^2): square, subtract, multiply
}
SAVES_OUTPUT = ("relu", "sigmoid", "tanh")       # torch's derivatives of these read the output (y), the rest the input
_TORCH = {"relu": ("ReLU", {}), "relu6": ("ReLU6", {}), "hswish": ("Hardswish", {}), "hsigmoid": ("Hardsigmoid", {}),
          "sigmoid": ("Sigmoid", {}), "silu": ("SiLU", {}), "gelu": ("GELU", {}),
          "gelu_tanh": ("GELU", {"approximate": "tanh"}), "leaky_relu": ("LeakyReLU", {}), "tanh": ("Tanh", {})}


@dataclass(frozen=True)
class Activation(Op):
    """An element-wise nonlinearity: one of ``ACTIVATIONS``."""

    function: str = "relu"
    op_name: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        if self.function not in ACTIVATIONS:
            raise CostModelError(f"unknown activation {self.function!r}; known: {', '.join(ACTIVATIONS)}")


def same_shape(op: Any, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    return inputs[0]


def activation_flops(op: Activation, node: NodeShapes) -> Any:
    """The activation's per-element cost from ``ELEMENTWISE`` times the elements."""
    return ELEMENTWISE[op.function] * node.output.numel


def activation_saves(op: Activation, node: NodeShapes) -> "tuple[Saved, ...]":
    """The output for ReLU, sigmoid and tanh (their derivatives are functions of it), the input otherwise."""
    return (Saved("output" if op.function in SAVES_OUTPUT else "input"),)


def activation_backward(op: Activation, node: NodeShapes) -> Any:
    """``BACKWARD``'s per-element cost of the function times the elements."""
    return BACKWARD[op.function] * node.output.numel


def read_activation(layer: FieldReader) -> Activation:
    return Activation(layer.get("function", str, required=True))


def lower_activation(op: Activation, node: NodeShapes, kit: Any) -> Any:
    name, arguments = _TORCH[op.function]
    return getattr(kit.nn, name)(**arguments)


ACTIVATION = register(OpDef(
    Activation,
    shape=same_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": activation_flops, "papers": zero,
           "fvcore": zero,          # unsupported by fvcore (counted 0 and reported), except ReLU, ignored on purpose
           "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=activation_saves, input_flops=costmodel_only(activation_backward)),
    kinds={"activation": "activation"},
    memory="in_place",
    spec=SpecForm("activation", read_activation, fields=f"function ({', '.join(ACTIVATIONS)})"),
    lower=lower_activation,
    examples=tuple(Activation(function) for function in ACTIVATIONS),
))


SOFTMAX_FLOPS = 5   # costmodel, per element: the row's max, subtract it, exp, the row's sum, divide
SOFTMAX_BACKWARD = 4  # costmodel, per element: y (g - sum(y g)): multiply, the row's sum, subtract, multiply


@dataclass(frozen=True)
class Softmax(Op):
    """``softmax(x, dim)``: each row along ``dim`` exponentiated and divided by its sum (attention's weights)."""

    dim: int = -1
    op_name: ClassVar[str] = "softmax"

    def __post_init__(self) -> None:
        if isinstance(self.dim, bool) or not isinstance(self.dim, int):
            raise CostModelError(f"softmax dim must be an integer, got {self.dim!r}")


def softmax_shape(op: Softmax, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    ctx.axis(inputs[0], op.dim)
    return inputs[0]


def softmax_flops(op: Softmax, node: NodeShapes) -> Any:
    """5 per element: the row's maximum, the subtraction, exp, the row's sum and the division (numerically
    stable softmax)."""
    return SOFTMAX_FLOPS * node.output.numel


SOFTMAX = register(OpDef(
    Softmax,
    shape=softmax_shape,
    params=zero,
    madds=zero,
    flops=costmodel_only(softmax_flops),    # fvcore: aten::softmax is unsupported; FlopCounterMode counts none
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=saves_output, input_flops=costmodel_only(per_element(SOFTMAX_BACKWARD))),
    kinds={"softmax": "softmax"},
    spec=SpecForm("softmax", lambda layer: Softmax(layer.get("dim", int, -1)), fields="dim"),
    lower=lambda op, node, kit: kit.nn.Softmax(dim=op.dim),
    examples=(Softmax(), Softmax(1)),
))
