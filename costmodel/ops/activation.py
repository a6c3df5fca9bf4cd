"""Element-wise nonlinearities. costmodel's convention charges each its arithmetic per element (``ELEMENTWISE``);
the papers, fvcore and FlopCounterMode count none of them. They run in place when they are the only reader of
their input; their memory access is the input read and the output written."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.shapes import NodeShapes, Shape, ShapeContext
from ..core.ir import Op
from .common import costmodel_only, output_elements, read_write, zero
from .registry import FieldReader, OpDef, SpecForm, register

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
    kinds={"activation": "activation"},
    memory="in_place",
    spec=SpecForm("activation", read_activation, fields=f"function ({', '.join(ACTIVATIONS)})"),
    lower=lower_activation,
    examples=tuple(Activation(function) for function in ACTIVATIONS),
))


SOFTMAX_FLOPS = 5   # costmodel, per element: the row's max, subtract it, exp, the row's sum, divide


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
    kinds={"softmax": "softmax"},
    spec=SpecForm("softmax", lambda layer: Softmax(layer.get("dim", int, -1)), fields="dim"),
    lower=lambda op, node, kit: kit.nn.Softmax(dim=op.dim),
    examples=(Softmax(), Softmax(1)),
))
