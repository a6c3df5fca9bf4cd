"""The values of a captured graph as the importer walks it, and the mapper that makes its nodes (``GraphMapper``;
the zoo's ``builder.GraphBuilder`` is the other way to a network: nodes appended by hand). No torch here.

A graph value is a ``Tensor`` (a costmodel node and its shape), a ``Learned`` tensor (a parameter or buffer read
in ``forward``), the pieces of a chunk or a split (``Chunks``) or a permute that moves the batch axis
(``Permuted``), both made into nodes when they are read; or a plain Python value (a size, a tuple of sizes).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from ...core.errors import CostModelError, ParameterError, param
from ...core.ir import INPUT, Node, Op, node_name
from ...ops import (Add, Broadcast, Flatten, LayerScale, LearnedTerm, Multiply, Opaque, Pad, Permute, PositionEmbedding,
                   Scale,
                   Select, Shift, Subtract, Transpose, Unflatten, Weights, definition)
from ...core.shapes import NodeShapes, Shape, ShapeContext
from .reshape import reshape_steps


@dataclass(frozen=True)
class Tensor:
    """A tensor of the captured graph: the costmodel node that makes it, and its shape at the asked size."""

    node: str
    shape: Shape


@dataclass(frozen=True)
class Learned:
    """A parameter or buffer read as a tensor (``get_attr``): its qualified name, sizes and whether it is a
    parameter; ``expanded`` after ``expand`` (a class token broadcast over the batch); ``dtype``: its element type
    where known (an index buffer's integers)."""

    name: str
    sizes: tuple[int, ...]
    parameter: bool
    expanded: bool = False
    dtype: Any = None


@dataclass(frozen=True)
class Derived:
    """A tensor the weights alone make: by views, indexing, permutes and concatenation of learned tensors (a
    relative position bias gathered from its table by an index buffer), or by arithmetic, whose nodes (``Weights``
    and the ops on it) count once per forward pass. Its sizes, element type, the learned tensors it reads (not
    counted yet), the nodes whose outputs it moves (``sources``), whether it is the whole output of its one
    source (``whole``: what an op on it reads as that node's tensor), and the parameters those nodes count
    (``made_of``: a convolution whose filter they standardize holds none of its own)."""

    sizes: tuple[int, ...]
    reads: tuple[Learned, ...]
    dtype: Any = None
    sources: tuple[str, ...] = ()
    whole: bool = False
    made_of: tuple[Learned, ...] = ()


@dataclass(frozen=True)
class Permuted:
    """A permute that moves the batch axis (``dims[0] != 0``), kept unmade until it is unbound or indexed along
    its first axis (timm's ``qkv.permute(2, 0, 3, 1, 4).unbind(0)``)."""

    source: Tensor
    dims: tuple[int, ...]


@dataclass(frozen=True)
class Chunks:
    """The pieces of ``torch.chunk`` / ``torch.split`` along ``dim``: each is made when it is read."""

    source: Tensor
    sizes: tuple[int, ...]
    dim: int


# the permute of MobileViT's unfold (N C h ph w pw -> N ph pw h w C) and fold (N ph pw h w C -> N C h ph w pw)
PATCH_ORDER = {"unfold": (0, 3, 5, 2, 4, 1), "fold": (0, 5, 3, 1, 4, 2)}


@dataclass(frozen=True)
class Pending:
    """A tensor whose nodes wait for its reader, so that a pattern of several calls becomes the one op it is:

    - ``pad``: a zero padding (``data``: torch's pads) that a convolution without padding reads is TensorFlow's
      "same" padding of that convolution where the sizes match (timm's ``Conv2dSame``, costmodel's lowering);
    - ``grouped`` / ``shuffled``: the channels viewed as (groups, C / groups) (``data``: (groups,)), then those two
      axes swapped; viewed back as C channels, a channel shuffle (ShuffleNet's ``view``, ``transpose``, ``view``);
    - ``merged``: the batch merged with the axes after it (``data``: their sizes), as attention over patches holds
      them (MobileViT); attention reads it, and the view that splits them again ends it;
    - ``patches``: a view of a map into patches (``data``: "unfold" or "fold", the 6-D view's sizes, whether it
      is permuted yet): MobileViT's unfold (N C H W -> N (ph pw) L C) or fold as view, permute, view;
    - ``expanded``: a broadcast view (``expand_as``; ``data``: its sizes), which an element-wise op reads as its
      source.

    Any other reader makes the nodes first (``make``), named ``name``."""

    kind: str
    source: "Tensor"
    name: str
    data: tuple = ()

    @property
    def sizes(self) -> tuple:
        dims = tuple(int(size) for size in self.source.shape.dims)
        if self.kind in ("grouped", "shuffled"):
            groups = self.data[0]
            pair = (groups, dims[1] // groups) if self.kind == "grouped" else (dims[1] // groups, groups)
            return (dims[0], *pair, *dims[2:])
        if self.kind == "merged":
            return (dims[0] * math.prod(self.data[1:]), *dims[len(self.data):])
        if self.kind == "patches":
            direction, view, permuted = self.data
            return tuple(view[d] for d in PATCH_ORDER[direction]) if permuted else tuple(view)
        if self.kind == "expanded":
            return tuple(self.data)
        padded = list(dims)
        pads = self.data
        for i in range(len(pads) // 2):
            padded[-1 - i] += pads[2 * i] + pads[2 * i + 1]
        return tuple(padded)


@dataclass
class GraphMapper:
    """A captured graph's nodes made so far, with their shapes, names and what they hold."""

    nodes: list[Node] = field(default_factory=list)
    produced: dict[str, Shape] = field(default_factory=dict)
    names: set[str] = field(default_factory=set)
    claimed: set[str] = field(default_factory=set)        # parameters counted by a node
    strict: bool = False
    owners: dict[str, str] = field(default_factory=dict)  # parameter -> the node that counts it
    fresh: list[str] = field(default_factory=list)        # claimed for the next node with parameters
    again: list[str] = field(default_factory=list)        # claimed before: the next such node shares them
    suffixes: dict[str, int] = field(default_factory=dict)   # base -> the first suffix not yet tried

    def state(self) -> tuple:
        """What ``restore`` needs to take back every node and claim made after this call."""
        return (len(self.nodes), dict(self.produced), set(self.names), set(self.claimed), dict(self.owners),
                list(self.fresh), list(self.again), dict(self.suffixes))

    def restore(self, state: tuple) -> None:
        """Take back what was made since ``state`` (``state()``)."""
        count, self.produced, self.names, self.claimed, self.owners, self.fresh, self.again, self.suffixes = state
        del self.nodes[count:]

    def name(self, base: str) -> str:
        """``base``, or the first of ``base_1``, ``base_2``... not taken. Names are never given back, so the search
        goes on from the last suffix given for ``base``: naming n nodes is linear in n, not quadratic. A character
        a node name may not hold (``core.ir``: a module named ``"stage one"``) becomes ``_``."""
        base = node_name(base)
        name = base
        if name in self.names or name == INPUT:
            n = self.suffixes.get(base, 1)
            name = f"{base}_{n}"
            while name in self.names or name == INPUT:
                n += 1
                name = f"{base}_{n}"
            self.suffixes[base] = n + 1
        self.names.add(name)
        return name

    def add(self, base: str, op: Op, inputs: "tuple[Tensor, ...]", shares: str = "") -> Tensor:
        """Make a node of ``op`` on ``inputs`` named after ``base``; its shape rule runs now. ``shares``: the node
        that counts its parameters (its filter's values computed there)."""
        node = Node(self.name(base), op, tuple(t.node for t in inputs), shares)
        context = ShapeContext(node, 1.0, self.produced)
        shapes = tuple(t.shape for t in inputs)
        shape = definition(op).shape(op, shapes, context)
        if context.skip:
            raise CostModelError(f"node {node.name!r}: a conditional op cannot be imported")
        if (self.fresh or self.again) and definition(op).params(op, NodeShapes(node, shapes, shape)):
            for name in self.fresh:
                self.owners[name] = node.name
            if self.again and not self.fresh:       # its parameters are an earlier node's (a module called again)
                node = Node(node.name, op, node.inputs, shares=self.owners.get(self.again[0], ""))
            self.fresh, self.again = [], []
        self.nodes.append(node)
        self.produced[node.name] = shape
        return Tensor(node.name, shape)

    def op_of(self, name: str) -> "Op | None":
        """The op of node ``name`` (the latest nodes first: what a call reads was made last)."""
        return next((node.op for node in reversed(self.nodes) if node.name == name), None)

    def chain(self, base: str, ops: "list[Op]", x: Tensor) -> Tensor:
        """``ops`` applied one after the other (a reshape's steps), named ``base``, ``base_1``, ..."""
        for op in ops:
            x = self.add(base, op, (x,))
        return x

    def opaque(self, base: str, target: str, inputs: "tuple[Tensor, ...]", sizes: "tuple[int, ...]",
               params: int = 0) -> Tensor:
        """A node costmodel has no formula for: kept with its shape and parameters, listed as not counted."""
        if self.strict:
            raise ParameterError(f"{base}: costmodel cannot count {target} (", param("strict"), ")")
        return self.add(base, Opaque(target, tuple(sizes[1:]), params), inputs)

    def claim_learned(self, *values: Any) -> None:
        """The parameters among ``values`` (learned tensors) are counted by the node made next."""
        for value in values:
            if isinstance(value, Learned) and value.parameter:
                self.claim(value.name, math.prod(value.sizes))

    def latest_map(self, fits: "Callable[[int, int], bool]") -> "str | None":
        """The last node made whose output is a map (N x C x H x W) with ``fits(H, W)``: the map a view or a bias
        table refers back to (MobileViT's fold, EfficientFormer's attention bias)."""
        for node in reversed(self.nodes):
            shape = self.produced[node.name]
            if shape.layout == "NCHW" and fits(int(shape.dims[2]), int(shape.dims[3])):
                return node.name
        return None

    def begin(self) -> None:
        """A new call starts: claims of the last one that made no node with parameters are forgotten."""
        self.fresh, self.again = [], []

    def claim(self, name: str, count: int) -> int:
        """Mark the parameter ``name`` (of ``count`` elements) as counted by a node: ``count`` the first time, 0
        after (a module or tensor read twice holds its parameters once)."""
        if name in self.claimed:
            self.again.append(name)
            return 0
        self.claimed.add(name)
        self.fresh.append(name)
        return count


class MappedModel:
    """A captured graph (a torch module's, an ONNX file's) mapped onto costmodel's ops at each asked input size:
    ``network(size)`` maps it once per size (``_map``, the subclass's)."""

    input_size: "tuple[int, ...]"
    _networks: "dict[tuple[int, int], Any]"

    @property
    def resolution(self) -> tuple[int, int]:
        return self.input_size[1], self.input_size[2]

    def network(self, resolution: "tuple[int, int] | None" = None) -> Any:
        """The ``Network`` at input size ``resolution`` (H, W; default the capture's)."""
        height, width = resolution or self.resolution
        size = (height, width)
        if size not in self._networks:
            self._networks[size] = self._map(size)
        return self._networks[size]

    def _map(self, size: tuple[int, int]) -> Any:
        raise NotImplementedError


def elementwise(builder: GraphMapper, name: str, function: str, a: Tensor, b: Any) -> "Tensor | None":
    """``a`` (a tensor) ``function`` ("add", "sub", "mul", "div") ``b``, as the importers read it: with a number, a
    shift or a scale; with a learned tensor, a position embedding (added, one value per element of a sample), a
    layer scale (multiplied, one per channel) or any other term the weights make (``learned_operand``); with a
    tensor, the element-wise op: a squeeze-excite gate (N x C x 1 x 1) multiplies a map, other shapes broadcast.
    None where it is none of these."""
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        if function in ("add", "sub"):
            return builder.add(name, Shift(float(b) if function == "add" else -float(b)), (a,))
        if function == "mul" or (function == "div" and b != 0):
            return builder.add(name, Scale(float(b) if function == "mul" else 1.0 / float(b)), (a,))
        return None
    if isinstance(b, (Learned, Derived)):
        return learned_operand(builder, name, function, a, b)
    if isinstance(b, Tensor):
        same = a.shape == b.shape
        if same and function == "add":
            return builder.add(name, Add(), (a, b))
        if same and function == "sub":
            return builder.add(name, Subtract(), (a, b))
        if function == "mul" and (same or _gate(a.shape, b.shape) or _gate(b.shape, a.shape)):
            return builder.add(name, Multiply(), (a, b))
        return builder.add(name, Broadcast(function), (a, b))
    return None


def learned_operand(builder: GraphMapper, name: str, function: str, a: Tensor,
                     b: "Learned | Derived") -> "Tensor | None":
    """``a`` with a tensor the weights alone make: a position embedding or a layer scale (a parameter of those
    shapes), else a ``LearnedTerm`` where it broadcasts into ``a`` without growing it (its parameters counted
    here, once), else None."""
    if isinstance(b, Learned) and b.parameter and not b.expanded:
        sample = tuple(int(size) for size in a.shape.dims[1:])
        if function == "add" and b.sizes in (sample, (1, *sample)):
            builder.claim_learned(b)
            return builder.add(name, PositionEmbedding(), (a,))
        channels = a.shape.channels if "C" in a.shape.layout else None
        if function == "mul" and math.prod(b.sizes) == channels and max(b.sizes) == channels:
            builder.claim_learned(b)
            return builder.add(name, LayerScale(), (a,))
    sizes = tuple(int(size) for size in b.sizes) or (1,)         # a scalar is one value
    while len(sizes) > 1 and sizes[0] == 1:
        sizes = sizes[1:]
    dims = tuple(int(size) for size in a.shape.dims)
    if len(sizes) > len(dims) or any(size not in (1, dim) for size, dim in zip(reversed(sizes), reversed(dims))):
        return None
    return builder.add(name, LearnedTerm(function, sizes, claim_reads(builder, b)), (a,))


def weights_tensor(builder: GraphMapper, name: str, value: "Learned | Derived") -> Tensor:
    """``value`` as a tensor an op reads: the node that computed it, or a ``Weights`` node (reading the learned
    values not counted yet, moving the computed tensors it is a view of)."""
    if isinstance(value, Derived) and value.whole:
        return Tensor(value.sources[0], builder.produced[value.sources[0]])
    sources = value.sources if isinstance(value, Derived) else ()
    op = Weights(tuple(int(size) for size in value.sizes), claim_reads(builder, value))
    return builder.add(value.name if isinstance(value, Learned) else f"{name}_operand", op,
                       tuple(Tensor(source, builder.produced[source]) for source in sources))


def learned_reads(value: "Learned | Derived") -> "tuple[Learned, ...]":
    """The parameters and buffers a tensor the weights make reads (a learned tensor reads itself)."""
    return value.reads if isinstance(value, Derived) else (value,)


def claim_reads(builder: GraphMapper, value: "Learned | Derived") -> int:
    """Claim the parameters ``value`` reads for the node made next; their values not counted before."""
    return sum(builder.claim(read.name, math.prod(read.sizes)) for read in dict.fromkeys(learned_reads(value))
               if read.parameter)


def _gate(full: Shape, gate: Shape) -> bool:
    """``gate`` is one value per channel of the map ``full`` (squeeze-excite's N x C x 1 x 1)."""
    return full.layout == gate.layout == "NCHW" and tuple(gate.dims[2:]) == (1, 1) and \
        gate.dims[1] == full.dims[1] and tuple(full.dims[2:]) != (1, 1)


def make(builder: GraphMapper, value: Any) -> Any:
    """``value`` with its pending nodes made (``Pending``); other values as they are, in tuples and lists too."""
    if isinstance(value, (tuple, list)):
        return type(value)(make(builder, item) for item in value)
    if not isinstance(value, Pending):
        return value
    if value.kind == "pad":
        return builder.add(value.name, Pad(value.data), (value.source,))
    if value.kind == "expanded":          # read by anything but an element-wise op: a copy costmodel does not map
        return builder.opaque(value.name, "Tensor.expand", (value.source,), value.sizes)
    if value.kind == "merged":            # read by anything but attention: the batch merged with the next axes
        return builder.add(value.name, Flatten(0, len(value.data) - 1), (value.source,))
    if value.kind == "patches":
        direction, view, permuted = value.data
        steps = reshape_steps(tuple(int(d) for d in value.source.shape.dims), tuple(view))
        if steps is None:
            return builder.opaque(value.name, "view into patches", (value.source,), tuple(view))
        viewed = builder.chain(value.name, steps, value.source)
        return builder.add(value.name, Permute(PATCH_ORDER[direction]), (viewed,)) if permuted else viewed
    groups = value.data[0]
    grouped = builder.add(value.name, Unflatten(1, (groups, -1)), (value.source,))
    if value.kind == "grouped":
        return grouped
    return builder.add(value.name, Transpose(1, 2), (grouped,))


def select_permuted(builder: GraphMapper, name: str, value: Any, index: int) -> Any:
    """Piece ``index`` of a permute that brought axis ``dims[0]`` before the batch: that axis selected from the
    source, then the other axes permuted (the batch first again)."""
    axis = value.dims[0]
    picked = builder.add(name, Select(axis, index % value.source.shape.dims[axis]), (value.source,))
    rest = tuple(d - (d > axis) for d in value.dims[1:])
    if rest == tuple(range(len(rest))):
        return picked
    if rest[0] != 0:
        return None
    return builder.add(name, Permute(rest), (picked,))


def tensors(values: Any) -> "tuple[Tensor, ...]":
    """The tensors among ``values`` (nested tuples, lists and dicts of call arguments), in order."""
    if isinstance(values, Tensor):
        return (values,)
    if isinstance(values, (tuple, list)):
        return tuple(t for value in values for t in tensors(value))
    if isinstance(values, dict):
        return tuple(t for value in values.values() for t in tensors(value))
    return ()
