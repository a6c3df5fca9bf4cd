"""The layer-spec IR: a network is immutable data, a named DAG of nodes, each an op with its attributes.

Nothing here computes a cost or a shape; ``shapes`` resolves widths and sizes, ``passes`` counts. Ops keep their
widths symbolic (see ``scaling``) so one network describes every width multiplier and every input resolution.

Nodes are listed in execution order; a node's inputs name earlier nodes, or ``input`` (the network input). Node
names are dotted paths (``blocks.3.dw.conv``) that a torch lowering can reuse as module names, so no name may be
both a node and the parent of another node.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import ClassVar, Union

from .errors import CostModelError
from .scaling import ChannelsOf, Scaled, Width, as_width

Pair = tuple[int, int]
INPUT = "input"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")


def _pair(value: object, what: str, minimum: int) -> Pair:
    """An int or a pair of ints, each at least ``minimum``, as an (h, w) pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise CostModelError(f"{what} must be an integer or a pair of integers, got {value!r}")
    if any(v < minimum for v in pair):
        raise CostModelError(f"{what} must be at least {minimum}, got {value!r}")
    return pair  # type: ignore[return-value]


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CostModelError(f"{what} must be a positive integer, got {value!r}")
    return value


class Op:
    """Base of every op. ``arity`` is the (min, max) number of inputs; ``op_name`` the name spec files use."""

    arity: ClassVar[tuple[int, float]] = (1, 1)
    op_name: ClassVar[str] = ""


@dataclass(frozen=True)
class Conv2d(Op):
    """2-D convolution. ``out_channels=None`` keeps the input width (a depthwise layer); ``groups="depthwise"``
    means one group per input channel at every width. ``padding`` is an (h, w) pair or ``"same"`` (TensorFlow's:
    output = ceil(input / stride)) or ``"valid"`` (no padding)."""

    out_channels: Width | None = None
    kernel: Pair = (3, 3)
    stride: Pair = (1, 1)
    padding: Union[Pair, str] = (0, 0)
    dilation: Pair = (1, 1)
    groups: Union[int, str] = 1
    bias: bool = False
    op_name: ClassVar[str] = "conv2d"

    def __post_init__(self) -> None:
        if self.out_channels is not None:
            object.__setattr__(self, "out_channels", as_width(self.out_channels))
        object.__setattr__(self, "kernel", _pair(self.kernel, "kernel", 1))
        object.__setattr__(self, "stride", _pair(self.stride, "stride", 1))
        object.__setattr__(self, "dilation", _pair(self.dilation, "dilation", 1))
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise CostModelError(f"padding must be a pair of integers, 'same' or 'valid', got {self.padding!r}")
        else:
            object.__setattr__(self, "padding", _pair(self.padding, "padding", 0))
        if self.groups != "depthwise":
            _positive_int(self.groups, "groups")
        if not isinstance(self.bias, bool):
            raise CostModelError(f"bias must be true or false, got {self.bias!r}")


@dataclass(frozen=True)
class Linear(Op):
    """Fully connected layer on a flat input."""

    out_features: Width = 1000
    bias: bool = True
    op_name: ClassVar[str] = "linear"

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_features", as_width(self.out_features))
        if not isinstance(self.bias, bool):
            raise CostModelError(f"bias must be true or false, got {self.bias!r}")


@dataclass(frozen=True)
class BatchNorm(Op):
    """Batch normalization in inference form; ``affine`` adds the learned gamma and beta (2 per channel)."""

    affine: bool = True
    op_name: ClassVar[str] = "batchnorm"


ACTIVATIONS = ("relu", "relu6", "hswish", "hsigmoid", "sigmoid", "silu")


@dataclass(frozen=True)
class Activation(Op):
    """An element-wise nonlinearity: one of ``ACTIVATIONS``."""

    function: str = "relu"
    op_name: ClassVar[str] = "activation"

    def __post_init__(self) -> None:
        if self.function not in ACTIVATIONS:
            raise CostModelError(f"unknown activation {self.function!r}; known: {', '.join(ACTIVATIONS)}")


@dataclass(frozen=True)
class Pool2d(Op):
    """Max or average pooling with torch's semantics (``ceil_mode``; padding at most half the kernel).
    ``stride`` defaults to the kernel."""

    mode: str = "max"
    kernel: Pair = (2, 2)
    stride: Pair | None = None
    padding: Pair = (0, 0)
    ceil_mode: bool = False
    op_name: ClassVar[str] = "pool"

    def __post_init__(self) -> None:
        if self.mode not in ("max", "avg"):
            raise CostModelError(f"pool mode must be 'max' or 'avg', got {self.mode!r}")
        object.__setattr__(self, "kernel", _pair(self.kernel, "kernel", 1))
        object.__setattr__(self, "stride", _pair(self.kernel if self.stride is None else self.stride, "stride", 1))
        object.__setattr__(self, "padding", _pair(self.padding, "padding", 0))
        if any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise CostModelError(f"pool padding {self.padding} exceeds half the kernel {self.kernel}")


@dataclass(frozen=True)
class GlobalAvgPool(Op):
    """Average over the whole map: C x H x W -> C x 1 x 1."""

    op_name: ClassVar[str] = "global_avg_pool"


@dataclass(frozen=True)
class AdaptiveAvgPool(Op):
    """Average pooling to a fixed ``output`` size (torch's AdaptiveAvgPool2d): output cell i of an axis of length
    D averages input rows floor(i D / o) to ceil((i + 1) D / o) - 1; windows overlap when o does not divide D."""

    output: Pair = (7, 7)
    op_name: ClassVar[str] = "adaptive_avg_pool"

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", _pair(self.output, "output", 1))


@dataclass(frozen=True)
class Flatten(Op):
    """C x H x W -> (C*H*W,): a view."""

    op_name: ClassVar[str] = "flatten"


@dataclass(frozen=True)
class Dropout(Op):
    """Identity at inference."""

    p: float = 0.5
    op_name: ClassVar[str] = "dropout"

    def __post_init__(self) -> None:
        if isinstance(self.p, bool) or not isinstance(self.p, (int, float)) or not 0 <= self.p < 1:
            raise CostModelError(f"dropout p must be in [0, 1), got {self.p!r}")


@dataclass(frozen=True)
class ChannelShuffle(Op):
    """ShuffleNet's channel shuffle: reshape to (g, C/g), transpose, flatten (a copy)."""

    groups: int = 2
    op_name: ClassVar[str] = "channel_shuffle"

    def __post_init__(self) -> None:
        _positive_int(self.groups, "groups")


@dataclass(frozen=True)
class Split(Op):
    """The ``index``-th of ``chunks`` equal channel chunks of the input (a view, like ``torch.chunk``)."""

    chunks: int = 2
    index: int = 0
    op_name: ClassVar[str] = "split"

    def __post_init__(self) -> None:
        _positive_int(self.chunks, "chunks")
        if isinstance(self.index, bool) or not isinstance(self.index, int) or not 0 <= self.index < self.chunks:
            raise CostModelError(f"split index must be in [0, {self.chunks}), got {self.index!r}")


@dataclass(frozen=True)
class Concat(Op):
    """Concatenation along channels."""

    arity: ClassVar[tuple[int, float]] = (2, float("inf"))
    op_name: ClassVar[str] = "concat"


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


@dataclass(frozen=True)
class Multiply(Op):
    """Element-wise product of two inputs; one may be C x 1 x 1 and broadcast (squeeze-excite's scaling)."""

    arity: ClassVar[tuple[int, float]] = (2, 2)
    op_name: ClassVar[str] = "multiply"


OPS: tuple[type[Op], ...] = (Conv2d, Linear, BatchNorm, Activation, Pool2d, GlobalAvgPool, AdaptiveAvgPool, Flatten,
                             Dropout,
                             ChannelShuffle, Split, Concat, Add, Multiply)


@dataclass(frozen=True)
class Node:
    """One op applied to the outputs of the nodes named in ``inputs``."""

    name: str
    op: Op
    inputs: tuple[str, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise CostModelError(f"node name {self.name!r} is not a dotted path of identifiers")
        if self.name == INPUT:
            raise CostModelError(f"node name {INPUT!r} is reserved for the network input")
        if not isinstance(self.op, Op):
            raise CostModelError(f"node {self.name!r}: op must be an Op, got {type(self.op).__name__}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        low, high = self.op.arity
        if not low <= len(self.inputs) <= high:
            wanted = f"{low}" if low == high else f"at least {low}"
            raise CostModelError(f"node {self.name!r}: {self.op.op_name} takes {wanted} input(s), "
                                 f"got {len(self.inputs)}")


@dataclass(frozen=True)
class Network:
    """A named DAG of nodes in execution order, with the input it expects at alpha = rho = 1.

    ``base_resolution`` is the (H, W) the paper uses (224 x 224 for most); ``output`` names the node whose result
    the network returns (default: the last node). ``input_channels`` is fixed for an image network (3) and may be
    a ``Scaled`` width for a fragment of a larger network whose input thins with alpha too (the MobileNetV1
    paper's Table 3 studies one 14 x 14 x 512 layer).
    """

    name: str
    nodes: tuple[Node, ...]
    input_channels: "int | Scaled" = 3
    base_resolution: Pair = (224, 224)
    output: str = ""
    description: str = ""
    source: str = ""
    metadata: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "base_resolution", _pair(self.base_resolution, "base_resolution", 1))
        object.__setattr__(self, "input_channels", as_width(self.input_channels))
        if not isinstance(self.input_channels, Scaled):
            raise CostModelError("input_channels must be an integer or a Scaled width")
        if not self.nodes:
            raise CostModelError(f"network {self.name!r} has no nodes")
        seen: set[str] = set()
        for node in self.nodes:
            if node.name in seen:
                raise CostModelError(f"node {node.name!r} is defined twice")
            width = getattr(node.op, "out_channels", None) or getattr(node.op, "out_features", None)
            width_refs = (width.ref,) if isinstance(width, ChannelsOf) else ()
            for ref, what in [(r, "input") for r in node.inputs] + [(r, "channels_of") for r in width_refs]:
                if ref != INPUT and ref not in seen:
                    where = "later" if any(n.name == ref for n in self.nodes) else "nowhere"
                    raise CostModelError(f"node {node.name!r}: {what} {ref!r} is defined {where}; "
                                         f"it must name an earlier node or {INPUT!r}")
            seen.add(node.name)
        for name in sorted(seen):
            prefix = name
            while "." in prefix:
                prefix = prefix.rsplit(".", 1)[0]
                if prefix in seen:
                    raise CostModelError(f"node {prefix!r} is also the parent of node {name!r}; "
                                         "a name cannot be both a layer and a group of layers")
        if not self.output:
            object.__setattr__(self, "output", self.nodes[-1].name)
        elif self.output not in seen:
            raise CostModelError(f"network output {self.output!r} is not a node")

    @cached_property
    def derived(self) -> dict:
        """Scratch space for what the passes derive from this immutable network once (its memory plan, its
        compiled programs); not part of the network's value."""
        return {}

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each node in execution order."""
        return {node.name: i for i, node in enumerate(self.nodes)}

    def __len__(self) -> int:
        return len(self.nodes)
