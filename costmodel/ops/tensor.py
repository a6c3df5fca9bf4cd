"""Data movement: concatenation, a channel chunk, channel shuffle, flatten, and dropout (an identity at inference).

None does arithmetic, so no convention counts a FLOP; their cost is memory. Flatten, a channel chunk and dropout
are views at inference (nothing read or written; they alias their input's buffer); concatenation and channel shuffle
(a reshape, transpose and reshape: ShuffleNet's, a copy) read their inputs and write their output.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError, shorten
from ..core.ir import Op, Pair, index_int, pair_of, positive_int, probability
from ..core.scaling import MAX_CHANNELS, MAX_SIZE, Width, as_width
from ..core.symbolic import both
from ..core.shapes import NodeShapes, Shape, ShapeContext, describe_layout, format_shape, free_letter
from .common import NO_FLOPS, costmodel_only, output_elements, read_write, zero
from .elementwise import all_equal
from .registry import NO_BACKWARD, Backward, Example, FieldReader, OpDef, Saved, SpecForm, register

MAX_RANK = 8
# A view at inference: nothing computed, read or written; the output aliases the input's buffer.
_VIEW = dict(params=zero, madds=zero, flops=NO_FLOPS, memory_access=zero, activation=output_elements, memory="view",
             backward=NO_BACKWARD)       # the gradient is reshaped, sliced back or passed on: no arithmetic


def check_dim(value: object, what: str) -> int:
    """A torch dim: an integer in [-MAX_RANK, MAX_RANK)."""
    if isinstance(value, bool) or not isinstance(value, int) or not -MAX_RANK <= value < MAX_RANK:
        raise CostModelError(f"{what} must be an axis index in [{-MAX_RANK}, {MAX_RANK}), got {value!r}")
    return value


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
        index_int(self.index, "split index", self.chunks)


@dataclass(frozen=True)
class ChannelShuffle(Op):
    """ShuffleNet's channel shuffle: reshape to (g, C/g), transpose, flatten (a copy)."""

    groups: int = 2
    op_name: ClassVar[str] = "channel_shuffle"

    def __post_init__(self) -> None:
        positive_int(self.groups, "groups")


@dataclass(frozen=True)
class Flatten(Op):
    """``torch.flatten(x, start, end)``: the axes ``start`` to ``end`` merged into one, a view. The default merges
    every axis but the batch: N x C x H x W (or N x L x C) -> N x (C*H*W); ``start=2`` turns a map into
    N x C x (H*W), the first step to tokens. ``start=0`` merges the batch with the axes after it (windowed
    attention's (N windows) x tokens x C, LeViT's (N L) x C): the first axis is then the batch of what follows,
    and every count, which reads whole tensors, stays that of the N images."""

    start: int = 1
    end: int = -1
    op_name: ClassVar[str] = "flatten"

    def __post_init__(self) -> None:
        check_dim(self.start, "start")
        check_dim(self.end, "end")


@dataclass(frozen=True)
class Dropout(Op):
    """Identity at inference."""

    p: float = 0.5
    op_name: ClassVar[str] = "dropout"

    def __post_init__(self) -> None:
        probability(self.p, "dropout p")


def concat_shape(op: Concat, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    first = inputs[0]
    shapes = lambda: ", ".join(format_shape(shape) for shape in inputs)  # noqa: E731
    if any(shape.layout != first.layout for shape in inputs):
        raise ctx.fail(f"cannot concatenate along channels inputs of shapes {shapes()}")
    ctx.channels(first)
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
    params=zero, madds=zero, flops=NO_FLOPS,
    memory_access=read_write,
    activation=output_elements,
    backward=NO_BACKWARD,
    kinds={"concat": "concatenation"},
    spec=SpecForm("concat", lambda layer: Concat()),
    lower=lambda op, node, kit: kit.Function(lambda *xs, axis=_channel_axis(node): kit.torch.cat(xs, dim=axis)),
    examples=(Concat(),),
))


def split_shape(op: Split, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    c = ctx.channels(x)
    ctx.require(c % op.chunks == 0, lambda: f"cannot split {c} channels into {op.chunks} equal chunks")
    return x.with_size(C=c // op.chunks)


def read_split(layer: FieldReader) -> Split:
    return Split(layer.get("chunks", int, 2), layer.get("index", int, required=True))


SPLIT = register(OpDef(
    Split,
    shape=split_shape,
    kinds={"split": "channel split"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("split", read_split, fields="chunks, index"),
    lower=lambda op, node, kit: kit.Function(
        lambda x, axis=_channel_axis(node): x.chunk(op.chunks, dim=axis)[op.index]),
    examples=(Split(2, 0), Split(2, 1)),
))


def shuffle_shape(op: ChannelShuffle, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
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
    params=zero, madds=zero, flops=NO_FLOPS,
    memory_access=read_write,    # the transpose is a copy
    activation=output_elements,
    backward=NO_BACKWARD,
    kinds={"shuffle": "channel shuffle"},
    spec=SpecForm("channel_shuffle", lambda layer: ChannelShuffle(layer.get("groups", int, required=True)),
                  fields="groups"),
    lower=lambda op, node, kit: kit.Function(_shuffle(op.groups)),
    examples=(ChannelShuffle(2), Example(ChannelShuffle(2), layout="NHWC")),
))


def merged_letter(layout: str, start: int, end: int) -> str:
    """The name of the axis that merges ``layout[start:end + 1]``: the batch N of a group that starts with it, the
    features C when only the batch is left, the tokens L of a merged map H W, the channels C of merged trailing
    axes, else a letter of its own."""
    kept = layout[:start] + layout[end + 1:]
    group = layout[start:end + 1]
    if len(group) == 1 or start == 0:
        return group[0]
    if kept == "N":
        return "C"
    if group == "HW" and "L" not in kept:
        return "L"
    if end == len(layout) - 1 and "C" not in kept:
        return "C"
    if kept == "NHW" and start == 1:
        return "C"          # channels split for a shuffle, merged back: N x (G*D) x H x W is an image again
    return free_letter(kept)


def flatten_shape(op: Flatten, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    start, end = ctx.axis(x, op.start, "start", batch=True), ctx.axis(x, op.end, "end", batch=True)
    if start > end:
        raise ctx.fail(f"flatten start={op.start} comes after end={op.end} in a {describe_layout(x.layout)} of "
                       f"{format_shape(x)}")
    merged: Any = 1
    for size in x.dims[start:end + 1]:
        merged = merged * size
    layout = x.layout[:start] + merged_letter(x.layout, start, end) + x.layout[end + 1:]
    if len(layout) == 4 and layout.startswith("NC") and not {"H", "W"} & set(layout):
        layout = "NCHW"     # patches folded back into a map (MobileViT's fold as views): an image again
    return Shape(layout, x.dims[:start] + (merged,) + x.dims[end + 1:])


FLATTEN = register(OpDef(
    Flatten,
    shape=flatten_shape,
    kinds={"flatten": "flatten"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("flatten", lambda layer: Flatten(layer.get("start", int, 1), layer.get("end", int, -1)),
                  fields="start, end"),
    lower=lambda op, node, kit: kit.nn.Flatten(op.start, op.end),
    examples=(Flatten(), Flatten(2), Flatten(1, 2), Example(Flatten(2), layout="NLC"),
              Example(Flatten(0, 1), layout="NLC")),
))


def dropout_saves(op: Dropout, node: NodeShapes) -> "tuple[Saved, ...]":
    """In training, dropout (p > 0) keeps its scaled mask: a tensor of the input's size and element type (torch's
    CPU kernel multiplies by a mask of the input's type; p = 0 returns the input and keeps nothing)."""
    return (Saved("own", elements=output_elements),) if op.p > 0 else ()


# The gradient times the mask: one multiply per element.
DROPOUT_BACKWARD = Backward(saves=dropout_saves, input_flops=costmodel_only(output_elements))


DROPOUT = register(OpDef(
    Dropout,
    shape=lambda op, inputs, ctx: inputs[0],
    kinds={"dropout": "dropout"},
    **{**_VIEW, "backward": DROPOUT_BACKWARD},  # type: ignore[arg-type]
    spec=SpecForm("dropout", lambda layer: Dropout(layer.get("p", (int, float), 0.5)), fields="p"),
    lower=lambda op, node, kit: kit.nn.Dropout(op.p),
    examples=(Dropout(0.2),),
))


# Reshaping. Views (nothing read or written) where torch returns one: unflatten, select, slice, unsqueeze, drop
# path; a permute or transpose is counted as the copy its consumer (a reshape, ``.contiguous()``, a mobile runtime's
# transpose) makes of it: every element read and written once (the lowering makes it, so that the tensors torch's
# kernels see have the strides costmodel assumes). Sizes of new axes may be -1 (what the others leave)
# or "H" / "W": the height or width of the map of the node named by ``like`` (tokens back to a map).

@dataclass(frozen=True)
class Unflatten(Op):
    """``x.unflatten(dim, sizes)``: the axis ``dim`` split into ``sizes`` (integers, one of them may be -1 for the
    rest, or "H" / "W" for the map size of the node ``like``). A view. The batch axis 0 splits only as
    ``(-1, ...)``: a batch merged with other axes (``Flatten(0, ...)``) split again, the batch first."""

    dim: int = -1
    sizes: tuple = (-1,)
    like: str = ""
    op_name: ClassVar[str] = "unflatten"

    def __post_init__(self) -> None:
        check_dim(self.dim, "dim")
        sizes = tuple(self.sizes) if isinstance(self.sizes, (tuple, list)) else (self.sizes,)
        object.__setattr__(self, "sizes", sizes)
        if not 1 <= len(sizes) <= MAX_RANK:
            raise CostModelError(f"unflatten needs 1 to {MAX_RANK} sizes, got {self.sizes!r}")
        for size in sizes:
            if size in ("H", "W"):
                if not self.like:
                    raise CostModelError(f"unflatten size {size!r} needs 'like', the node whose map size it takes")
            elif size != -1:
                positive_int(size, "an unflatten size")
        if sum(1 for size in sizes if size == -1) > 1:
            raise CostModelError(f"unflatten takes at most one size of -1, got {list(sizes)}")
        if not isinstance(self.like, str):
            raise CostModelError(f"like must be a node name, got {self.like!r}")


def _image_letters(split: str, kept: str, count: int) -> str:
    """The names of an image's axes where a split makes one: features into a C x H x W map (``x.view(n, c, 1, 1)``,
    a decoder's first map), tokens into an H x W map; "" otherwise (the new axes get letters of their own)."""
    if "H" in kept or "W" in kept:
        return ""
    if split == "C" and kept == "N" and count == 3:
        return "CHW"
    if split == "L" and kept == "NC" and count == 2:
        return "HW"
    return ""


def unflatten_shape(op: Unflatten, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    axis = ctx.axis(x, op.dim, batch=True)
    if axis == 0 and op.sizes[0] != -1:
        raise ctx.fail(f"splitting the batch axis keeps the batch first: sizes must start with -1, got "
                       f"{list(op.sizes)}")
    total = x.dims[axis]
    sizes: list[Any] = []
    if op.like:
        reference = ctx.reference(op.like)
        if "H" not in reference.layout or "W" not in reference.layout:
            raise ctx.fail(f"like={op.like!r} must name a map (N x C x H x W), got a "
                           f"{describe_layout(reference.layout)} of {format_shape(reference)}")
    for size in op.sizes:
        sizes.append(ctx.reference(op.like).size(size) if size in ("H", "W") else size)
    known: Any = 1
    for size in sizes:
        if not (type(size) is int and size == -1):
            known = known * size
    if any(type(size) is int and size == -1 for size in sizes):
        ctx.require(total % known == 0, lambda: f"cannot split an axis of {total} into {list(op.sizes)}")
        sizes = [total // known if type(size) is int and size == -1 else size for size in sizes]
    else:
        ctx.require(total == known, lambda: f"cannot split an axis of {total} into {list(op.sizes)}")
    kept = x.layout[:axis] + x.layout[axis + 1:]
    letters = _image_letters(x.layout[axis], kept, len(op.sizes)) if not op.like else ""
    if not letters:
        for size in op.sizes:
            letter = size if size in ("H", "W") and size not in kept + letters else free_letter(kept + letters)
            letters += "N" if axis == 0 and not letters else letter
    return Shape(x.layout[:axis] + letters + x.layout[axis + 1:], x.dims[:axis] + tuple(sizes) + x.dims[axis + 1:])


def read_unflatten(layer: FieldReader) -> Unflatten:
    sizes = layer.get("sizes", list, required=True)
    return Unflatten(layer.get("dim", int, -1), tuple(sizes), like=layer.ref("like") if layer.has("like") else "")


def lower_unflatten(op: Unflatten, node: NodeShapes, kit: Any) -> Any:
    axis = node.inputs[0].axis(op.dim)
    sizes = node.output.dims[axis:axis + len(op.sizes)]
    return kit.Function(lambda x: x.unflatten(axis, sizes))


UNFLATTEN = register(OpDef(
    Unflatten,
    shape=unflatten_shape,
    kinds={"reshape": "reshape (flatten, unflatten, select, slice)"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("unflatten", read_unflatten, fields="dim, sizes (integers, one -1, \"H\" / \"W\" with like), like"),
    lower=lower_unflatten,
    examples=(Unflatten(1, (2, -1)), Example(Unflatten(-1, (2, 1, -1)), layout="NLC"),
              Example(Unflatten(-1, ("H", "W"), like="input"), layout="NCL"),
              Example(Unflatten(0, (-1, 2)), prelude=(("flat", Flatten(2), ("input",)), ("rows", Flatten(0, 1),
                                                                                          ("flat",))))),
))


@dataclass(frozen=True)
class Permute(Op):
    """``x.permute(dims)``: the axes reordered; the batch stays first (``dims[0] == 0``). Counted as a copy."""

    dims: tuple = (0, 1)
    op_name: ClassVar[str] = "permute"

    def __post_init__(self) -> None:
        dims = tuple(self.dims) if isinstance(self.dims, (tuple, list)) else (self.dims,)
        object.__setattr__(self, "dims", dims)
        for dim in dims:
            check_dim(dim, "a permute dim")
        if not 2 <= len(dims) <= MAX_RANK:
            raise CostModelError(f"permute needs 2 to {MAX_RANK} dims, got {self.dims!r}")


def permute_shape(op: Permute, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    order = [x.axis(dim) for dim in op.dims]
    if len(order) != x.rank or sorted(order) != list(range(x.rank)):
        raise ctx.fail(f"dims {list(op.dims)} are not a permutation of the {x.rank} axes of a "
                       f"{describe_layout(x.layout)} of {format_shape(x)}")
    if order[0] != 0:
        raise ctx.fail(f"dims {list(op.dims)} move the batch axis; costmodel keeps it first")
    return Shape("".join(x.layout[i] for i in order), tuple(x.dims[i] for i in order))


@dataclass(frozen=True)
class Transpose(Op):
    """``x.transpose(dim0, dim1)``: two axes swapped (neither the batch). Counted as a copy."""

    dim0: int = -2
    dim1: int = -1
    op_name: ClassVar[str] = "transpose"

    def __post_init__(self) -> None:
        check_dim(self.dim0, "dim0")
        check_dim(self.dim1, "dim1")


def transpose_shape(op: Transpose, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    a, b = ctx.axis(x, op.dim0, "dim0"), ctx.axis(x, op.dim1, "dim1")
    order = list(range(x.rank))
    order[a], order[b] = b, a
    return Shape("".join(x.layout[i] for i in order), tuple(x.dims[i] for i in order))


def _permutation(op: Any, node: NodeShapes) -> list[int]:
    x = node.inputs[0]
    if isinstance(op, Permute):
        return [x.axis(dim) for dim in op.dims]
    order = list(range(x.rank))
    a, b = x.axis(op.dim0), x.axis(op.dim1)
    order[a], order[b] = b, a
    return order


_COPY = dict(params=zero, madds=zero, flops=NO_FLOPS, memory_access=read_write, activation=output_elements,
             kinds={"permute": "permute / transpose (a copy)"}, backward=NO_BACKWARD)

PERMUTE = register(OpDef(
    Permute,
    shape=permute_shape,
    spec=SpecForm("permute", lambda layer: Permute(tuple(layer.get("dims", list, required=True))), fields="dims"),
    lower=lambda op, node, kit: kit.Function(lambda x, order=_permutation(op, node): x.permute(*order).contiguous()),
    examples=(Permute((0, 2, 3, 1)), Example(Permute((0, 2, 1)), layout="NLC")),
    **_COPY,  # type: ignore[arg-type]
))

TRANSPOSE = register(OpDef(
    Transpose,
    shape=transpose_shape,
    spec=SpecForm("transpose", lambda layer: Transpose(layer.get("dim0", int, -2), layer.get("dim1", int, -1)),
                  fields="dim0, dim1"),
    lower=lambda op, node, kit: kit.Function(lambda x, a=node.inputs[0].axis(op.dim0),
                                             b=node.inputs[0].axis(op.dim1): x.transpose(a, b).contiguous()),
    examples=(Transpose(), Example(Transpose(1, 2), layout="NCL")),
    **_COPY,  # type: ignore[arg-type]
))


@dataclass(frozen=True)
class Select(Op):
    """``x.select(dim, index)`` (one of ``x.unbind(dim)``): the axis ``dim`` removed at ``index``. A view."""

    dim: int = 1
    index: int = 0
    op_name: ClassVar[str] = "select"

    def __post_init__(self) -> None:
        check_dim(self.dim, "dim")
        index_int(self.index, "select index", MAX_CHANNELS)


def select_shape(op: Select, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    axis = ctx.axis(x, op.dim)
    if x.rank == 2:
        raise ctx.fail(f"select would leave only the batch of a {describe_layout(x.layout)} of {format_shape(x)}")
    size = x.dims[axis]
    ctx.require(op.index < size, lambda: f"index {op.index} is out of range for an axis of {size}")
    return Shape(x.layout[:axis] + x.layout[axis + 1:], x.dims[:axis] + x.dims[axis + 1:])


SELECT = register(OpDef(
    Select,
    shape=select_shape,
    kinds={"reshape": "reshape (flatten, unflatten, select, slice)"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("select", lambda layer: Select(layer.get("dim", int, 1), layer.get("index", int, required=True)),
                  fields="dim, index"),
    lower=lambda op, node, kit: kit.Function(lambda x, axis=node.inputs[0].axis(op.dim): x.select(axis, op.index)),
    examples=(Select(1, 2), Example(Select(1, 0), layout="NLC")),
))


@dataclass(frozen=True)
class Slice(Op):
    """``x[..., start:stop]`` along ``dim``: ``stop`` a width (it may scale with alpha, as GhostNet's output
    channels do) or None for the end. A view."""

    dim: int = 1
    start: int = 0
    stop: "Width | None" = None
    op_name: ClassVar[str] = "slice"

    def __post_init__(self) -> None:
        check_dim(self.dim, "dim")
        index_int(self.start, "slice start", MAX_CHANNELS)
        if self.stop is not None:
            object.__setattr__(self, "stop", as_width(self.stop))


def slice_shape(op: Slice, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    axis = ctx.axis(x, op.dim)
    size = x.dims[axis]
    stop = size if op.stop is None else ctx.width(op.stop, size)
    ctx.require(both(op.start < stop, stop <= size),
                lambda: f"slice [{op.start}:{stop}] is empty or out of range for an axis of {size}")
    return Shape(x.layout, x.dims[:axis] + (stop - op.start,) + x.dims[axis + 1:])


def read_slice(layer: FieldReader) -> Slice:
    stop = layer.width("stop", required=False) if layer.has("stop") else None
    return Slice(layer.get("dim", int, 1), layer.get("start", int, 0), stop)


def lower_slice(op: Slice, node: NodeShapes, kit: Any) -> Any:
    axis = node.inputs[0].axis(op.dim)
    length = node.output.dims[axis]
    return kit.Function(lambda x: x.narrow(axis, op.start, length))


SLICE = register(OpDef(
    Slice,
    shape=slice_shape,
    kinds={"reshape": "reshape (flatten, unflatten, select, slice)"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("slice", read_slice, fields="dim, start, stop (a width; default: the end), fixed"),
    lower=lower_slice,
    examples=(Slice(1, 0, 3), Slice(1, 1), Example(Slice(-1, 1, 3), layout="NLC")),
))


@dataclass(frozen=True)
class Unsqueeze(Op):
    """``x.unsqueeze(dim)``: a new axis of size 1 (multi-query attention's single key head). A view."""

    dim: int = 1
    op_name: ClassVar[str] = "unsqueeze"

    def __post_init__(self) -> None:
        check_dim(self.dim, "dim")


def unsqueeze_shape(op: Unsqueeze, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    axis = op.dim + x.rank + 1 if op.dim < 0 else op.dim
    if not 1 <= axis <= x.rank:
        raise ctx.fail(f"dim={op.dim} is out of range for a new axis of a {describe_layout(x.layout)} of "
                       f"{format_shape(x)}")
    return Shape(x.layout[:axis] + free_letter(x.layout) + x.layout[axis:], x.dims[:axis] + (1,) + x.dims[axis:])


UNSQUEEZE = register(OpDef(
    Unsqueeze,
    shape=unsqueeze_shape,
    kinds={"reshape": "reshape (flatten, unflatten, select, slice)"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("unsqueeze", lambda layer: Unsqueeze(layer.get("dim", int, 1)), fields="dim"),
    lower=lambda op, node, kit: kit.Function(lambda x, axis=node.output.axis(op.dim): x.unsqueeze(axis)),
    examples=(Unsqueeze(1), Example(Unsqueeze(-1), layout="NLC")),
))


@dataclass(frozen=True)
class Pad(Op):
    """``F.pad(x, pads, mode)``: ``pads`` in torch's order, (left, right) of the last axis, then (top, bottom) of
    the one before, ...; ``mode`` what fills them: zeros (``"constant"``), or the edge's values (``"reflect"``,
    ``"replicate"``, ``"circular"``: ResNet-Blur's and TResNet's blur pool). A negative pad crops (NASNet's shift
    by one pixel, ``(-1, 1, -1, 1)``). A copy either way."""

    pads: tuple = (1, 1, 1, 1)
    mode: str = "constant"
    op_name: ClassVar[str] = "pad"

    def __post_init__(self) -> None:
        pads = tuple(self.pads) if isinstance(self.pads, (tuple, list)) else (self.pads,)
        object.__setattr__(self, "pads", pads)
        if not pads or len(pads) % 2 or len(pads) > 2 * (MAX_RANK - 1):
            raise CostModelError(f"pad needs (before, after) pairs, last axis first, got {self.pads!r}")
        for pad in pads:
            if isinstance(pad, bool) or not isinstance(pad, int) or not -MAX_SIZE <= pad <= MAX_SIZE:
                raise CostModelError(f"a padding must be an integer in [{-MAX_SIZE:,}, {MAX_SIZE:,}] (a negative one "
                                     f"crops), got {pad!r}")
        if self.mode not in PAD_MODES:
            raise CostModelError(f"a pad mode is one of {', '.join(PAD_MODES)}, got {shorten(repr(self.mode))}")


PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad_shape(op: Pad, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    axes = len(op.pads) // 2
    if axes >= x.rank:
        raise ctx.fail(f"pads {list(op.pads)} reach the batch axis of a {describe_layout(x.layout)} of "
                       f"{format_shape(x)}")
    dims = list(x.dims)
    for i in range(axes):
        dims[x.rank - 1 - i] = dims[x.rank - 1 - i] + op.pads[2 * i] + op.pads[2 * i + 1]
        if op.pads[2 * i] < 0 or op.pads[2 * i + 1] < 0:
            ctx.require(dims[x.rank - 1 - i] >= 1, lambda: f"pads {list(op.pads)} crop a {describe_layout(x.layout)} "
                                                          f"of {format_shape(x)} to nothing")
    return Shape(x.layout, tuple(dims))


def pad_saves(op: Pad, node: NodeShapes) -> "tuple[Saved, ...]":
    """Zero padding keeps nothing (its gradient is a slice); reflect, replicate and circular keep the input (torch's
    derivatives of those pads read it)."""
    return () if op.mode == "constant" else (Saved("input"),)


def pad_backward(op: Pad, node: NodeShapes) -> Any:
    """Zero padding: none (a slice of the gradient); the others: one addition per output element (each padded
    element's gradient added to the element it copies)."""
    return 0 if op.mode == "constant" else node.output.numel


PAD = register(OpDef(
    Pad,
    shape=pad_shape,
    params=zero, madds=zero, flops=NO_FLOPS,   # no arithmetic; fvcore does not count aten::pad (unsupported)
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=pad_saves, input_flops=costmodel_only(pad_backward)),
    kinds={"pad": "padding"},
    spec=SpecForm("pad", lambda layer: Pad(tuple(layer.get("pads", list, required=True)),
                                           layer.get("mode", str, "constant")),
                  fields="pads ([left, right, top, bottom, ...], last axis first), mode (constant: zeros, the "
                         "default; reflect, replicate, circular)"),
    lower=lambda op, node, kit: kit.Function(lambda x: kit.F.pad(x, op.pads, mode=op.mode)),
    examples=(Pad((1, 2, 0, 1)), Pad((1, 1)), Pad((1, 1, 2, 0), "reflect"), Pad((-1, 1, -1, 1))),
))


# MobileViT's unfold of a map into patches and its fold back (Mehta & Rastegari 2022, Section 3.1): an
# N x C x H x W map becomes P = ph pw sequences of N' = (H / ph)(W / pw) tokens, one per pixel position inside a
# patch (N x P x N' x C, which the reference code holds as (N P) x N' x C), so that attention runs between the
# patches; the fold is the inverse. Each is a copy (its reshapes and transposes).

@dataclass(frozen=True)
class PatchUnfold(Op):
    """MobileViT's unfold: N x C x H x W -> N x (ph pw) x (H W / (ph pw)) x C. H and W must be multiples of the
    patch (the network resizes the map first where they are not)."""

    patch: Pair = (2, 2)
    op_name: ClassVar[str] = "unfold_patches"

    def __post_init__(self) -> None:
        object.__setattr__(self, "patch", pair_of(self.patch, "patch", 1))


@dataclass(frozen=True)
class PatchFold(Op):
    """MobileViT's fold: N x (ph pw) x N' x C -> N x C x H x W, H and W those of the map ``like`` (the one that was
    unfolded)."""

    patch: Pair = (2, 2)
    like: str = ""
    op_name: ClassVar[str] = "fold_patches"

    def __post_init__(self) -> None:
        object.__setattr__(self, "patch", pair_of(self.patch, "patch", 1))
        if not isinstance(self.like, str) or not self.like:
            raise CostModelError("fold_patches needs 'like', the map it folds back to")


def unfold_shape(op: PatchUnfold, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    batch, channels, height, width = ctx.layout(inputs[0], "NCHW").dims
    ph, pw = op.patch
    ctx.require(both(height % ph == 0, width % pw == 0),
                lambda: f"the {height}x{width} map is not a whole number of {ph}x{pw} patches")
    return Shape("NPLC", (batch, ph * pw, (height // ph) * (width // pw), channels))


def fold_shape(op: PatchFold, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.layout(inputs[0], "NPLC")
    reference = ctx.layout(ctx.reference(op.like), "NCHW")
    height, width = reference.size("H"), reference.size("W")
    ph, pw = op.patch
    ctx.require(all_equal([(x.size("P"), ph * pw), (x.size("L") * ph * pw, height * width),
                           (height % ph, 0), (width % pw, 0)]),
                lambda: f"{format_shape(x)} patches of {ph}x{pw} do not fold into the {height}x{width} map of "
                        f"{op.like!r}")
    return Shape.image(x.batch, x.channels, height, width)


def _unfold(ph: int, pw: int) -> Any:
    def unfold(x: Any) -> Any:
        n, c, h, w = x.shape
        x = x.reshape(n, c, h // ph, ph, w // pw, pw).permute(0, 3, 5, 2, 4, 1)
        return x.reshape(n, ph * pw, (h // ph) * (w // pw), c)
    return unfold


def _fold(ph: int, pw: int, h: int, w: int) -> Any:
    def fold(x: Any) -> Any:
        n, _, _, c = x.shape
        x = x.reshape(n, ph, pw, h // ph, w // pw, c).permute(0, 5, 3, 1, 4, 2)
        return x.reshape(n, c, h, w)
    return fold


UNFOLD = register(OpDef(
    PatchUnfold,
    shape=unfold_shape,
    params=zero, madds=zero, flops=NO_FLOPS,
    memory_access=read_write,
    activation=output_elements,
    backward=NO_BACKWARD,
    kinds={"patches": "unfold / fold patches (a copy)"},
    spec=SpecForm("unfold_patches", lambda layer: PatchUnfold(layer.pair("patch", 2)), fields="patch"),
    lower=lambda op, node, kit: kit.Function(_unfold(*op.patch)),
    examples=(PatchUnfold((2, 2)), PatchUnfold((1, 2))),
))

FOLD = register(OpDef(
    PatchFold,
    shape=fold_shape,
    params=zero, madds=zero, flops=NO_FLOPS,
    memory_access=read_write,
    activation=output_elements,
    backward=NO_BACKWARD,
    kinds={"patches": "unfold / fold patches (a copy)"},
    spec=SpecForm("fold_patches", lambda layer: PatchFold(layer.pair("patch", 2), layer.ref("like")),
                  fields="patch, like (the layer whose map it restores)"),
    lower=lambda op, node, kit: kit.Function(_fold(op.patch[0], op.patch[1], node.output.size("H"),
                                                   node.output.size("W"))),
    examples=(Example(PatchFold((2, 2), like="input"), prelude=(("unfold", PatchUnfold((2, 2)), ("input",)),),
                      inputs=("unfold",)),),
))


@dataclass(frozen=True)
class DropPath(Op):
    """Stochastic depth (drop path): the identity at inference."""

    p: float = 0.0
    op_name: ClassVar[str] = "drop_path"

    def __post_init__(self) -> None:
        probability(self.p, "drop path p")


DROP_PATH = register(OpDef(
    DropPath,
    shape=lambda op, inputs, ctx: inputs[0],
    kinds={"dropout": "dropout"},
    **_VIEW,  # type: ignore[arg-type]
    spec=SpecForm("drop_path", lambda layer: DropPath(layer.get("p", (int, float), 0.0)), fields="p"),
    lower=lambda op, node, kit: kit.nn.Identity(),
    examples=(DropPath(0.1),),
))
