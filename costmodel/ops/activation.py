"""Element-wise nonlinearities. costmodel's convention charges each its arithmetic per element (``ELEMENTWISE``);
the papers, fvcore and FlopCounterMode count none of them. They run in place when they are the only reader of
their input; their memory access is the input read and the output written."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import CostModelError
from ..shapes import NodeShapes, Shape, ShapeContext
from ..ir import Op
from .common import output_elements, read_write, zero
from .registry import FieldReader, OpDef, SpecForm, register

# FLOPs per element under the costmodel convention, with the arithmetic each one does.
ELEMENTWISE = {
    "relu": 1,        # max(x, 0)
    "relu6": 2,       # min(max(x, 0), 6)
    "hswish": 5,      # x * hsigmoid(x)
    "hsigmoid": 4,    # relu6(x + 3) / 6: add, max, min, multiply
    "sigmoid": 4,     # 1 / (1 + exp(-x)): negate, exp, add, divide
    "silu": 5,        # x * sigmoid(x)
}
ACTIVATIONS = tuple(ELEMENTWISE)
_TORCH = {"relu": "ReLU", "relu6": "ReLU6", "hswish": "Hardswish", "hsigmoid": "Hardsigmoid", "sigmoid": "Sigmoid",
          "silu": "SiLU"}


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
    return getattr(kit.nn, _TORCH[op.function])()


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
