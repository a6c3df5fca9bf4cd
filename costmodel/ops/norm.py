"""Batch normalization in inference form: ``y = x * s + b`` per channel (s and b folded from gamma, beta and the
running statistics), on an image or a feature vector.

params 2 per channel with ``affine`` (gamma and beta; the running mean and variance are buffers, not parameters);
FLOPs 2 per element (costmodel), fvcore's 2 per element (1 without affine); memory access input + output + gamma
and beta. It runs in place when it is the only reader of its input.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..ir import Op, check_bool
from ..shapes import NodeShapes, Shape, ShapeContext
from .common import output_elements, per_element, read_write_weights, zero
from .registry import FieldReader, OpDef, SpecForm, register

BATCHNORM_FLOPS = 2   # costmodel: a multiply and an add per element (x * s + b)


@dataclass(frozen=True)
class BatchNorm(Op):
    """Batch normalization in inference form; ``affine`` adds the learned gamma and beta (2 per channel)."""

    affine: bool = True
    op_name: ClassVar[str] = "batchnorm"

    def __post_init__(self) -> None:
        check_bool(self.affine, "affine")


def batchnorm_shape(op: BatchNorm, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    return ctx.layout(inputs[0], "NCHW", "NC")


def batchnorm_params(op: BatchNorm, node: NodeShapes) -> Any:
    """gamma and beta, one each per channel, when affine."""
    return 2 * node.output.channels if op.affine else 0


def fvcore_batchnorm_flops(op: BatchNorm, node: NodeShapes) -> Any:
    """fvcore's batch_norm handle in eval mode: 2 per element with affine, 1 without."""
    return (2 if op.affine else 1) * node.output.numel


def read_batchnorm(layer: FieldReader) -> BatchNorm:
    return BatchNorm(affine=layer.get("affine", bool, True))


def lower_batchnorm(op: BatchNorm, node: NodeShapes, kit: Any) -> Any:
    norm = kit.nn.BatchNorm2d if node.output.layout == "NCHW" else kit.nn.BatchNorm1d
    return norm(node.output.channels, affine=op.affine)


BATCHNORM = register(OpDef(
    BatchNorm,
    shape=batchnorm_shape,
    params=batchnorm_params,
    madds=zero,
    flops={"costmodel": per_element(BATCHNORM_FLOPS), "papers": zero, "fvcore": fvcore_batchnorm_flops,
           "flop_counter": zero},
    memory_access=read_write_weights(batchnorm_params),
    activation=output_elements,
    kinds={"batchnorm": "batch normalization"},
    memory="in_place",
    spec=SpecForm("batchnorm", read_batchnorm, fields="affine"),
    lower=lower_batchnorm,
    examples=(BatchNorm(), BatchNorm(affine=False)),
))
