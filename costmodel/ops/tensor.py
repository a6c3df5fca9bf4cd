"""Data movement: concatenation, a channel chunk, channel shuffle, flatten, and dropout (an identity at inference).

None does arithmetic, so no convention counts a FLOP; their cost is memory. Flatten, a channel chunk and dropout
are views at inference (nothing read or written; they alias their input's buffer); concatenation and channel shuffle
(a reshape, transpose and reshape: ShuffleNet's, a copy) read their inputs and write their output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import CostModelError
from ..ir import Op, positive_int
from ..shapes import NodeShapes, Shape, ShapeContext, format_shape
from .common import output_elements, read_write, zero
from .elementwise import all_equal
from .registry import FieldReader, OpDef, SpecForm, register

_NONE = {"costmodel": zero, "papers": zero, "fvcore": zero, "flop_counter": zero}   # no arithmetic


@dataclass(frozen=True)
class Concat(Op):
    """Concatenation along channels."""

    arity: ClassVar[tuple[int, float]] = (2, float("inf"))
    op_name: ClassVar[str] = "concat"


@dataclass(frozen=True)
class Split(Op):
    """The ``index``-th of ``chunks`` equal channel chunks of the input (a view, like ``torch.chunk``)."""

    chunks: int = 2
    index: int = 0
    op_name: ClassVar[str] = "split"

    def __post_init__(self) -> None:
        positive_int(self.chunks, "chunks")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or not 0 <= self.index < self.chunks:
            raise CostModelError(f"split index must be in [0, {self.chunks}), got {self.index!r}")


@dataclass(frozen=True)
class ChannelShuffle(Op):
    """ShuffleNet's channel shuffle: reshape to (g, C/g), transpose, flatten (a copy)."""

    groups: int = 2
    op_name: ClassVar[str] = "channel_shuffle"

    def __post_init__(self) -> None:
        positive_int(self.groups, "groups")


@dataclass(frozen=True)
class Flatten(Op):
    """N x C x H x W (or N x L x C) -> N x (C*H*W): a view."""

    op_name: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Dropout(Op):
    """Identity at inference."""

    p: float = 0.5
    op_name: ClassVar[str] = "dropout"

    def __post_init__(self) -> None:
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not 0 <= self.p < 1:
            raise CostModelError(f"dropout p must be in [0, 1), got {self.p!r}")


def concat_shape(op: Concat, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    first = inputs[0]
    shapes = lambda: ", ".join(format_shape(shape) for shape in inputs)  # noqa: E731
    if any(shape.layout != first.layout for shape in inputs):
        raise ctx.fail(f"cannot concatenate along channels inputs of shapes {shapes()}")
    axis = first.layout.index("C")
    ctx.require(all_equal([(shape.dims[i], first.dims[i]) for shape in inputs[1:] for i in range(len(first.dims))
                           if i != axis]),
                lambda: f"cannot concatenate along channels inputs of shapes {shapes()}")
    total: Any = 0
    for shape in inputs:
        total = total + shape.channels
    return first.with_size(C=total)


def _channel_axis(node: NodeShapes) -> int:
    return node.output.layout.index("C")


CONCAT = register(OpDef(
    Concat,
    shape=concat_shape,
    params=zero, madds=zero, flops=_NONE,
    memory_access=read_write,
    activation=output_elements,
    kinds={"concat": "concatenation"},
    spec=SpecForm("concat", lambda layer: Concat()),
    lower=lambda op, node, kit: kit.Function(lambda *xs, axis=_channel_axis(node): kit.torch.cat(xs, dim=axis)),
    examples=(Concat(),),
))


def split_shape(op: Split, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    c = x.channels
    ctx.require(c % op.chunks == 0, lambda: f"cannot split {c} channels into {op.chunks} equal chunks")
    return x.with_size(C=c // op.chunks)


def read_split(layer: FieldReader) -> Split:
    return Split(layer.get("chunks", int, 2), layer.get("index", int, required=True))


SPLIT = register(OpDef(
    Split,
    shape=split_shape,
    params=zero, madds=zero, flops=_NONE,
    memory_access=zero,      # a view: nothing read or written
    activation=output_elements,
    kinds={"split": "channel split"},
    memory="view",
    spec=SpecForm("split", read_split, fields="chunks, index"),
    lower=lambda op, node, kit: kit.Function(
        lambda x, axis=_channel_axis(node): x.chunk(op.chunks, dim=axis)[op.index]),
    examples=(Split(2, 0), Split(2, 1)),
))


def shuffle_shape(op: ChannelShuffle, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.layout(inputs[0], "NCHW")
    c = x.channels
    ctx.require(c % op.groups == 0, lambda: f"groups={op.groups} must divide the {c} channels")
    return x


def _shuffle(groups: int) -> Any:
    def shuffle(x: Any) -> Any:
        n, c, h, w = x.shape
        return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)
    return shuffle


SHUFFLE = register(OpDef(
    ChannelShuffle,
    shape=shuffle_shape,
    params=zero, madds=zero, flops=_NONE,
    memory_access=read_write,    # the transpose is a copy
    activation=output_elements,
    kinds={"shuffle": "channel shuffle"},
    spec=SpecForm("channel_shuffle", lambda layer: ChannelShuffle(layer.get("groups", int, required=True)),
                  fields="groups"),
    lower=lambda op, node, kit: kit.Function(_shuffle(op.groups)),
    examples=(ChannelShuffle(2),),
))


def flatten_shape(op: Flatten, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.layout(inputs[0], "NCHW", "NLC", "NC")
    features: Any = 1
    for size in x.sample:
        features = features * size
    return Shape.features(x.batch, features)


FLATTEN = register(OpDef(
    Flatten,
    shape=flatten_shape,
    params=zero, madds=zero, flops=_NONE,
    memory_access=zero,
    activation=output_elements,
    kinds={"flatten": "flatten"},
    memory="view",
    spec=SpecForm("flatten", lambda layer: Flatten()),
    lower=lambda op, node, kit: kit.nn.Flatten(1),
    examples=(Flatten(),),
))


DROPOUT = register(OpDef(
    Dropout,
    shape=lambda op, inputs, ctx: inputs[0],
    params=zero, madds=zero, flops=_NONE,
    memory_access=zero,
    activation=output_elements,
    kinds={"dropout": "dropout"},
    memory="view",
    spec=SpecForm("dropout", lambda layer: Dropout(layer.get("p", (int, float), 0.5)), fields="p"),
    lower=lambda op, node, kit: kit.nn.Dropout(op.p),
    examples=(Dropout(0.2),),
))
