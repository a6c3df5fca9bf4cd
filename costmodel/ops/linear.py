"""Fully connected layers, on a feature vector (N x C) or on every token of a sequence (N x L x C).

With M input features, N output features and B rows (the batch, times the tokens): params ``M N`` (+ N biases),
mult-adds ``M N B``, memory access input + output + weights.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..ir import Op, check_bool
from ..scaling import Width, as_width
from ..shapes import NodeShapes, Shape, ShapeContext, format_shape
from .common import output_elements, read_write_weights, scaled
from .registry import FieldReader, OpDef, SpecForm, register


@dataclass(frozen=True)
class Linear(Op):
    """Fully connected layer over the channels of a flat input or of each token."""

    out_features: Width = 1000
    bias: bool = True
    op_name: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_features", as_width(self.out_features))
        check_bool(self.bias, "bias")


def linear_shape(op: Linear, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    if x.layout == "NCHW":
        raise ctx.fail(f"linear needs a flat input, got {format_shape(x)}; add a flatten before it")
    n = ctx.width(op.out_features, x.channels)
    ctx.require(n >= 1, lambda: f"out_features resolves to {n}")
    return x.with_size(C=n)


def linear_params(op: Linear, node: NodeShapes) -> Any:
    """``M * N`` weights plus N biases."""
    m, n = node.inputs[0].channels, node.output.channels
    return m * n + (n if op.bias else 0)


def linear_madds(op: Linear, node: NodeShapes) -> Any:
    """``M * N`` per row (per image, or per token)."""
    return node.inputs[0].channels * node.output.numel


def linear_flops(op: Linear, node: NodeShapes) -> Any:
    """``2 M N`` per row, plus N bias additions."""
    return 2 * linear_madds(op, node) + (node.output.numel if op.bias else 0)


def read_linear(layer: FieldReader) -> Linear:
    return Linear(layer.width("out"), bias=layer.get("bias", bool, True))


def lower_linear(op: Linear, node: NodeShapes, kit: Any) -> Any:
    return kit.nn.Linear(node.inputs[0].channels, node.output.channels, bias=op.bias)


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
    kinds={"linear": "fully connected"},
    spec=SpecForm("linear", read_linear, fields="out (features or \"num_classes\"), bias, fixed"),
    lower=lower_linear,
    examples=(Linear(10), Linear(7, bias=False)),
    example_input="NC",
))
