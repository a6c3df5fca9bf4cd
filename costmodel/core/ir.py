"""The layer-spec IR: a network is immutable data, a named DAG of nodes, each an op with its attributes.

The ops themselves live in ``costmodel.ops``, one module per family, each declaring everything costmodel knows
about its ops. Nothing here computes a cost or a shape. Ops keep their widths symbolic (see ``scaling``) so one
network describes every width multiplier and every input resolution.

Nodes are listed in execution order; a node's inputs name earlier nodes, or ``input`` (the network input). Node
names are dotted paths (``blocks.3.dw.conv``) that a torch lowering reuses as module names. A node may also be the
parent of others, as a module with its own parameters and children is (timm's ``BatchNormAct2d`` at ``bn`` with its
activation at ``bn.act``; an attention module's biases beside its ``qkv``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import CostModelError, ParameterError, within
from .scaling import MAX_CHANNELS, MAX_RESOLUTION, MAX_SIZE, ChannelsOf, Rounded, Scaled, Tabulated, as_width

Pair = tuple[int, int]
INPUT = "input"
# a dotted path of names of letters, digits, "_" and "-" (torch names modules so: torchvision's RegNet has block1-0)
_NAME = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_NOT_IN_A_NAME = re.compile(r"[^A-Za-z0-9_.-]")


def node_name(path: str) -> str:
    """``path`` (an imported module's or graph node's) with every character a node name may not hold made ``_``
    (a module named ``"stage one"`` becomes ``stage_one``)."""
    return _NOT_IN_A_NAME.sub("_", path)


def pair_of(value: object, what: str, minimum: int, maximum: int = MAX_SIZE) -> Pair:
    """An int or a pair of ints, each in [minimum, maximum], as an (h, w) pair."""
    pair = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) for v in pair):
        raise CostModelError(f"{what} must be an integer or a pair of integers, got {value!r}")
    if any(v < minimum for v in pair):
        raise CostModelError(f"{what} must be at least {minimum}, got {value!r}")
    if any(v > maximum for v in pair):
        raise CostModelError(f"{what} must be at most {maximum:,}, got {value!r}")
    return pair


def positive_int(value: object, what: str, maximum: int = MAX_CHANNELS) -> int:
    """``value``, which must be an integer in [1, maximum]."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CostModelError(f"{what} must be a positive integer, got {value!r}")
    if value > maximum:
        raise CostModelError(f"{what} must be at most {maximum:,}, got {value!r}")
    return value


def index_int(value: object, what: str, stop: int) -> int:
    """``value``, which must be an integer in [0, stop)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < stop:
        raise CostModelError(f"{what} must be an integer in [0, {stop:,}), got {value!r}")
    return value


def probability(value: object, what: str) -> float:
    """``value``, which must be a number in [0, 1) (a dropout rate)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise CostModelError(f"{what} must be in [0, 1), got {value!r}")
    return value


def check_number(value: object, what: str) -> float:
    """``value``, which must be a finite number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise CostModelError(f"{what} must be a finite number, got {value!r}")
    return value


def check_bool(value: object, what: str) -> bool:
    """``value``, which must be True or False."""
    if not isinstance(value, bool):
        raise CostModelError(f"{what} must be true or false, got {value!r}")
    return value


_NODE_MESSAGE = re.compile(r"^node '([^']+)'")


def locate(message: str, origins: "dict[str, str]") -> str:
    """``message`` prefixed with the origin of the node it begins by naming (``node 'x': ...``), if known; where the
    origin names the layer as the node is named (``net.toml:9: layer 'x'``), the node is not named twice."""
    match = _NODE_MESSAGE.match(message)
    if match and match.group(1) in origins:
        origin = origins[match.group(1)]
        if origin.endswith(f"layer {match.group(1)!r}"):
            return f"{origin}{message[match.end():]}"
        return f"{origin}: {message}"
    return message


class Op:
    """Base of every op: a frozen dataclass declared in an ``ops`` module. ``arity`` is the (min, max) number of
    inputs; ``op_name`` the name spec files and messages use."""

    arity: ClassVar[tuple[int, float]] = (1, 1)
    op_name: ClassVar[str] = ""
    if TYPE_CHECKING:       # every op is a dataclass (``dataclasses.fields`` and ``replace`` take any op)
        __dataclass_fields__: ClassVar[dict[str, "dataclasses.Field[Any]"]]

    def conditional(self) -> bool:
        """True for an op that may not happen at some settings (its shape rule sets ``ShapeContext.skip``)."""
        return False

    def not_counted(self) -> str:
        """What this op stands for when costmodel has no formula for it ("" for every op it counts): an imported
        call kept with its shape and parameters (``ops.Opaque``), listed in every output."""
        return ""

    def refs(self) -> tuple[tuple[str, str], ...]:
        """The earlier nodes whose output shape this op reads without reading their data, as (field, node) pairs:
        a ``ChannelsOf`` width's node, and the node named by a ``like`` field (an op that restores an earlier map
        size, such as MobileViT's fold back to the map it unfolded)."""
        refs = []
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, ChannelsOf):
                refs.append(("channels_of", value.ref))
            elif item.name == "like" and isinstance(value, str) and value:
                refs.append(("like", value))
        return tuple(refs)


@dataclass(frozen=True)
class Node:
    """One op applied to the outputs of the nodes named in ``inputs``. ``shares``: the earlier node whose
    parameters this one uses again (a torch module called twice): its work counts, its parameters do not."""

    name: str
    op: Op
    inputs: tuple[str, ...]
    shares: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise CostModelError(f"node name {self.name!r} is not a dotted path of names (letters, digits, _ and -)")
        if self.name == INPUT:
            raise CostModelError(f"node name {INPUT!r} is reserved for the network input")
        if not isinstance(self.op, Op):
            raise CostModelError(f"node {self.name!r}: op must be an Op, got {type(self.op).__name__}")
        object.__setattr__(self, "inputs", tuple(self.inputs))
        low, high = self.op.arity
        if not low <= len(self.inputs) <= high:
            wanted = f"{low} input{'' if low == 1 else 's'}" if low == high else f"at least {low} inputs"
            raise CostModelError(f"node {self.name!r}: {self.op.op_name} takes {wanted}, got {len(self.inputs)}")


@dataclass(frozen=True)
class Network:
    """A named DAG of nodes in execution order, with the input it expects at alpha = rho = 1.

    ``base_resolution`` is the (H, W) the paper uses (224 x 224 for most); ``output`` names the node whose result
    the network returns (default: the last node). ``input_channels`` is fixed for an image network (3) and may be
    a ``Scaled`` width for a fragment of a larger network whose input thins with alpha too (the MobileNetV1
    paper's Table 3 studies one 14 x 14 x 512 layer). The input is an image, N x C x H x W. ``depth`` is the depth
    multiplier the network was built at: its stages' repeats are ``scaling.scaled_repeats`` of the paper's (a
    network at another depth has other nodes, so depth is a property of the built network, not a symbol).
    ``frozen`` names the nodes whose parameters are not trained (an imported module's with ``requires_grad`` off).
    ``torch_views``: the network is a torch module as its code wrote it (an import), whose permutes and transposes
    are views of their input's storage; the IR costs each as the copy its consumer makes, as the zoo's lowering
    does (the training step's saved bytes read this).
    """

    name: str
    nodes: tuple[Node, ...]
    input_channels: "int | Scaled" = 3
    base_resolution: Pair = (224, 224)
    output: str = ""
    description: str = ""
    source: str = ""
    depth: float = 1.0
    origins: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    frozen: tuple[str, ...] = ()
    torch_views: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "nodes", tuple(self.nodes))
        object.__setattr__(self, "frozen", tuple(self.frozen))
        object.__setattr__(self, "base_resolution", pair_of(self.base_resolution, "base_resolution", 1, MAX_RESOLUTION))
        object.__setattr__(self, "input_channels", as_width(self.input_channels))
        if not isinstance(self.input_channels, Scaled):
            raise CostModelError("input_channels must be an integer or a Scaled width")
        if not self.nodes:
            raise CostModelError(f"network {self.name!r} has no nodes")
        seen: set[str] = set()
        for node in self.nodes:
            if node.name in seen:
                raise CostModelError(f"node {node.name!r} is defined twice")
            refs = [(ref, "input") for ref in node.inputs] + [(ref, what) for what, ref in node.op.refs()]
            if node.shares:
                refs.append((node.shares, "shares"))
            for ref, what in refs:
                if ref != INPUT and ref not in seen:
                    where = "later" if any(n.name == ref for n in self.nodes) else "nowhere"
                    raise CostModelError(f"node {node.name!r}: {what} {ref!r} is defined {where}; "
                                         f"it must name an earlier node or {INPUT!r}")
            seen.add(node.name)
        if not self.output:
            object.__setattr__(self, "output", self.nodes[-1].name)
        elif self.output not in seen:
            raise CostModelError(f"network output {self.output!r} is not a node")

    @cached_property
    def origin(self) -> dict[str, str]:
        """Where each node was written, for messages (``net.toml:12: layer 'stem'``), when it is known."""
        return dict(self.origins)

    def locate(self, error: CostModelError) -> CostModelError:
        """Where an error happened, for a message that names a node.

        :param error: an error whose message may name a node of this network.
        :returns: ``error``, prefixed with where its node was written when that is known (a spec file's line)."""
        match = _NODE_MESSAGE.match(str(error))
        if match and match.group(1) in self.origin:
            if not isinstance(error, ParameterError):
                return CostModelError(locate(str(error), self.origin))
            return within(f"{self.origin[match.group(1)]}: ", error)
        return error

    @cached_property
    def scales_with_alpha(self) -> bool:
        """Whether alpha changes any width: some width scales by a rule or is tabulated per alpha (widths that
        follow other widths, expansions and squeezes, change only through those)."""
        def scales(width: object) -> bool:
            if isinstance(width, Rounded):
                return scales(width.width)
            return isinstance(width, Tabulated) or isinstance(width, Scaled) and width.rule != "fixed"

        return scales(self.input_channels) or any(
            scales(getattr(node.op, item.name)) for node in self.nodes
            for item in dataclasses.fields(node.op))

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each node in execution order."""
        return {node.name: i for i, node in enumerate(self.nodes)}

    def __len__(self) -> int:
        return len(self.nodes)
