"""Fully connected layers, on a feature vector (N x C), on every token of a sequence (N x L x C), or on the last
axis of a tensor of any rank (torch's ``nn.Linear``).

With M input features, N output features and B rows (the batch, times the tokens, times any other leading axes):
params ``M N`` (+ N biases), mult-adds ``M N B``, memory access input + output + weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.ir import Op, check_bool
from ..core.scaling import Scaled, Width, as_width
from ..core.shapes import NodeShapes, Shape, ShapeContext, format_shape
from .common import output_elements, read_write_weights, scaled, weighted_backward
from .registry import Example, FieldReader, OpDef, Saved, SpecForm, register


@dataclass(frozen=True)
class Linear(Op):
    """Fully connected layer over the channels of a flat input or of each token."""

    out_features: Width = Scaled(1000)
    bias: bool = True
    op_name: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_features", as_width(self.out_features))
        check_bool(self.bias, "bias")


def linear_shape(op: Linear, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    if x.layout == "NCHW":
        raise ctx.fail(f"linear needs a flat input, got {format_shape(x)}; add a flatten before it")
    n = ctx.width(op.out_features, x.dims[-1])
    ctx.require(n >= 1, lambda: f"out_features resolves to {n}")
    return Shape(x.layout, x.dims[:-1] + (n,))


def linear_params(op: Linear, node: NodeShapes) -> Any:
    """``M * N`` weights plus N biases."""
    m, n = node.inputs[0].dims[-1], node.output.dims[-1]
    return m * n + (n if op.bias else 0)


def linear_madds(op: Linear, node: NodeShapes) -> Any:
    """``M * N`` per row (per image, per token)."""
    return node.inputs[0].dims[-1] * node.output.numel


def linear_flops(op: Linear, node: NodeShapes) -> Any:
    """``2 M N`` per row, plus N bias additions."""
    return 2 * linear_madds(op, node) + (node.output.numel if op.bias else 0)


def read_linear(layer: FieldReader) -> Linear:
    return Linear(layer.width("out"), bias=layer.get("bias", bool, True))


def lower_linear(op: Linear, node: NodeShapes, kit: Any) -> Any:
    return kit.nn.Linear(node.inputs[0].dims[-1], node.output.dims[-1], bias=op.bias)


LINEAR = register(OpDef(
    Linear,
    shape=linear_shape,
    params=linear_params,
    madds=linear_madds,
    flops={
        "costmodel": linear_flops,
        "papers": linear_madds,
        "fvcore": linear_madds,                      # fvcore's linear handle: numel(x) * out_features
        "flop_counter": scaled(2, linear_madds),     # FlopCounterMode's addmm: 2 per multiply-accumulate
    },
    memory_access=read_write_weights(linear_params),
    activation=output_elements,
    # addmm saves the input for the weight's gradient only (and the weight for the input's)
    backward=weighted_backward(linear_madds, lambda op, node: 1, lambda op: op.bias,
                               lambda op, node: (Saved("input", needed_for="weight"),)),
    kinds={"linear": "fully connected"},
    spec=SpecForm("linear", read_linear, fields="out (features or \"num_classes\"), bias, fixed"),
    lower=lower_linear,
    examples=(Linear(10), Linear(7, bias=False), Example(Linear(12), layout="NLC"),
              Example(Linear(5), layout="NCL")),
    example_input="NC",
))
