"""The op registry: one declaration per op, collected from the family modules, as fvcore's handle table maps each
op to its handler. The passes, the spec reader, the torch lowering, the views and the reports read this registry
and name no op; adding an op means declaring it in its family's module (or a new one listed in ``ops/__init__``).

An ``OpDef`` says, in one place, everything costmodel knows about an op: its data (a frozen dataclass), its shape
rule, one formula per metric (``flops`` once per convention), its layer kind, how it holds activation memory, its
spec-file form and its torch lowering. ``register`` refuses a declaration with a missing convention or a duplicate
op, spec name or kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Protocol

from ..core.conventions import CONVENTIONS
from ..core.errors import CostModelError, MissingFormulaError
from ..core.ir import Op
from ..core.shapes import NodeShapes, Shape, ShapeContext

Formula = Callable[[Any, NodeShapes], Any]
ShapeRule = Callable[[Any, tuple[Shape, ...], ShapeContext], Shape]
KindRule = Callable[[Any, NodeShapes], str]
Lowering = Callable[[Any, NodeShapes, Any], Any]

# How an op's output holds activation memory (the model of ``passes.activation_schedule``):
MEMORY = {
    "buffer": "a new buffer",
    "view": "a view of its input's buffer (flatten, a channel chunk, dropout at inference)",
    "in_place": "in place in its input's buffer when it is that buffer's only reader (BatchNorm, activations)",
}


class FieldReader(Protocol):
    """What a spec form reads a layer's fields through (``spec`` implements it; every error names the file, line,
    layer and field)."""

    def get(self, field: str, kind: "type | tuple[type, ...]", default: Any = None, required: bool = False) -> Any:
        """The field's value, checked against ``kind``."""

    def pair(self, field: str, default: Any) -> Any:
        """An integer or a list of two integers (kept as an int or an (h, w) tuple)."""

    def width(self, field: str, required: bool = True, allow: tuple[str, ...] = ()) -> Any:
        """A number of channels as a width that scales with alpha by the network's rule (``fixed = true``: does
        not scale); ``"num_classes"`` is the network's classes; a string in ``allow`` is returned as it is."""

    def has(self, field: str) -> bool:
        """Whether the layer gives ``field``."""

    def ref(self, field: str) -> str:
        """The node of the earlier layer (or ``input``) the field names, for a ``like``."""

    def fail(self, message: str) -> CostModelError:
        """An error naming the file, line and layer."""


@dataclass(frozen=True)
class SpecForm:
    """How a spec file writes the op: ``op = "<name>"`` and the fields ``read`` takes through a ``FieldReader``.
    ``node`` is the op node's name suffix when ``bn`` or ``act`` add nodes after it (``b1.conv``, ``b1.bn``)."""

    name: str
    read: Callable[[FieldReader], Op]
    fields: str = ""
    node: str = ""


@dataclass(frozen=True)
class Example:
    """A small network around one op, for the completeness tests (``tests/ops``, ``tests/verify``): the op reads
    an input of ``layout`` made from the network's image input (``NCHW`` as it is, ``NC`` flattened, ``NLC`` as
    tokens, ``NCL`` as channels by tokens, ``NHWC`` permuted; default: the OpDef's ``example_input``), or the nodes
    of ``prelude``
    ((name, op, inputs) triples, reading ``input`` or one another) named in ``inputs``."""

    op: Op
    layout: str = ""
    prelude: tuple = ()
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Saved:
    """A tensor an op keeps for its backward pass, as torch's autograd saves it (``saved_tensors_hooks`` sees it):
    ``input`` number ``index``, the op's ``output``, or a tensor of its ``own`` of ``elements`` (a formula) of
    ``dtype`` ("" for the network's element type; ``"int64"`` for max pooling's indices, ``"float32"`` for
    normalization statistics). An input or output is the buffer that holds it (a view saves its base's), counted once
    however many ops save it.

    ``needed_for`` says which gradient needs it, as torch saves a tensor only for a gradient it computes: "" any
    (a convolution saves its input whatever needs a gradient), ``"weight"`` the parameters' (a linear layer's
    input), ``"input0"`` / ``"input1"`` that input's (each factor of a product for the other's gradient)."""

    tensor: str
    index: int = 0
    elements: "Formula | None" = None
    dtype: str = ""
    needed_for: str = ""


def saves_nothing(op: Any, node: NodeShapes) -> tuple[Saved, ...]:
    """No tensor kept: the backward needs only shapes (add, a view, a copy, a mean)."""
    return ()


def saves_input(op: Any, node: NodeShapes) -> tuple[Saved, ...]:
    """The first input (a convolution's for its weight gradient, an activation's to evaluate its derivative)."""
    return (Saved("input"),)


def saves_output(op: Any, node: NodeShapes) -> tuple[Saved, ...]:
    """The output (ReLU's, sigmoid's, tanh's and softmax's derivatives are functions of their output)."""
    return (Saved("output"),)


@dataclass(frozen=True)
class Backward:
    """An op's backward pass: the multiply-accumulates and FLOPs (per convention, as the forward's) of the gradient
    of its inputs and of its parameters, and what it saves for them (``saves(op, node)``). The input gradient is
    computed only where an input needs one (some earlier op has trainable parameters); the parameter gradient only
    for trainable parameters. ``refuses(op, node)``: why the op cannot train at this setting ("" when it can; as
    BatchNorm cannot with one value per channel). ``per_input``: the input formulas give one input's gradient,
    computed for each input that needs one (a product's factors); otherwise they give the whole input gradient,
    computed once if any input needs one."""

    saves: Callable[[Any, NodeShapes], "tuple[Saved, ...]"] = saves_nothing
    per_input: bool = False
    input_madds: "Formula | None" = None
    weight_madds: "Formula | None" = None
    input_flops: "Mapping[str, Formula] | None" = None
    weight_flops: "Mapping[str, Formula] | None" = None
    internal_madds: "Formula | None" = None
    internal_flops: "Mapping[str, Formula] | None" = None
    refuses: "Callable[[Any, NodeShapes], str] | None" = None

    def formula(self, metric: str, part: str, convention: str = "") -> Formula:
        """The ``part`` ("input", "weight" or "internal") gradient's ``metric`` ("madds", or "flops" under
        ``convention``); a part the op does not declare costs nothing. "internal": the gradients inside a composite
        op that any of its outer gradients needs (multi-head attention's out-projection and attention)."""
        declared = getattr(self, f"{part}_{metric}")
        if declared is None:
            return _nothing
        return declared[convention] if metric == "flops" else declared


def _nothing(op: Any, node: NodeShapes) -> int:
    return 0


NO_BACKWARD = Backward()     # data movement, add: the gradient passes through (or is cut, or summed) for free


@dataclass(frozen=True)
class OpDef:
    """Everything costmodel knows about one op.

    ``kinds`` maps every kind the op can have to its title, in the order the per-kind view lists them; ``kind``
    picks one for a resolved node when there are several. ``lower(op, node, kit)`` returns the torch module of a
    resolved node, from the torch names ``kit`` carries (the op module never imports torch; ``kit.reference(name)``
    is the output shape of another node, for a ``like``). ``examples`` are small
    instances (ops, or ``Example`` records) the completeness tests build small networks from; ``example_input`` is
    the layout a bare op example reads. ``backward`` (required) is the op's backward pass for training: its
    gradients' costs and the tensors it saves (``Backward``)."""

    op: "type[Op]"
    shape: ShapeRule
    params: Formula
    madds: Formula
    flops: Mapping[str, Formula]
    memory_access: Formula
    activation: Formula
    kinds: Mapping[str, str]
    spec: SpecForm
    lower: Lowering
    backward: "Backward | None" = None
    kind: "KindRule | None" = None
    memory: str = "buffer"
    examples: tuple = field(default=(), compare=False)
    example_input: str = "NCHW"

    def formula(self, metric: str, convention: str = "") -> Formula:
        """The formula of ``metric`` (for ``flops``, under ``convention``)."""
        if metric == "flops":
            try:
                return self.flops[convention]
            except KeyError:
                raise MissingFormulaError(f"no flops formula under convention {convention!r} for op "
                                          f"{self.op.__name__}") from None
        formula = getattr(self, metric, None)
        if formula is None or not callable(formula):
            raise MissingFormulaError(f"no {metric} formula for op {self.op.__name__}")
        return formula


_BY_TYPE: dict[type, OpDef] = {}
_BY_SPEC_NAME: dict[str, OpDef] = {}
_KIND_TITLES: dict[str, str] = {}


def register(definition: OpDef) -> OpDef:
    """Add ``definition`` to the registry. A duplicate op or spec name, a kind declared with two titles, a missing
    convention, an unknown memory behaviour, or several kinds without a kind rule is a defect: RuntimeError."""
    name = definition.op.__name__
    if definition.op in _BY_TYPE:
        raise RuntimeError(f"op {name} is registered twice")
    if definition.spec.name in _BY_SPEC_NAME:
        raise RuntimeError(f"spec name {definition.spec.name!r} is registered twice")
    if definition.op.op_name != definition.spec.name:
        raise RuntimeError(f"op {name}: op_name {definition.op.op_name!r} differs from its spec name")
    missing = sorted(set(CONVENTIONS) - set(definition.flops))
    extra = sorted(set(definition.flops) - set(CONVENTIONS))
    if missing or extra:
        raise RuntimeError(f"op {name}: flops conventions missing {missing}, unknown {extra}")
    if definition.backward is None:
        raise RuntimeError(f"op {name} declares no backward")
    for part in ("input", "weight", "internal"):
        flops = getattr(definition.backward, f"{part}_flops")
        if flops is not None and set(flops) != set(CONVENTIONS):
            raise RuntimeError(f"op {name}: backward {part} flops conventions {sorted(flops)} are not "
                               f"{sorted(CONVENTIONS)}")
    if definition.memory not in MEMORY:
        raise RuntimeError(f"op {name}: unknown memory behaviour {definition.memory!r}")
    if not definition.kinds or (len(definition.kinds) > 1 and definition.kind is None):
        raise RuntimeError(f"op {name}: several kinds need a kind rule")
    for kind, title in definition.kinds.items():
        if _KIND_TITLES.get(kind, title) != title:
            raise RuntimeError(f"op {name}: kind {kind!r} is already declared with another title")
    _BY_TYPE[definition.op] = definition
    _BY_SPEC_NAME[definition.spec.name] = definition
    for kind, title in definition.kinds.items():
        _KIND_TITLES.setdefault(kind, title)       # a kind shared by several ops keeps its first place
    return definition


def definition(op: "Op | type") -> OpDef:
    """The declaration of ``op`` (an instance or a type)."""
    op_type = op if isinstance(op, type) else type(op)
    try:
        return _BY_TYPE[op_type]
    except KeyError:
        raise MissingFormulaError(f"op {op_type.__name__} is not registered") from None


def definitions() -> tuple[OpDef, ...]:
    """Every registered op, in registration order."""
    return tuple(_BY_TYPE.values())


def spec_form(name: str) -> "OpDef | None":
    """The op whose spec name is ``name``."""
    return _BY_SPEC_NAME.get(name)


def spec_names() -> tuple[str, ...]:
    return tuple(_BY_SPEC_NAME)


def kind_titles() -> dict[str, str]:
    """Every layer kind with its title, in the order of the per-kind view."""
    return dict(_KIND_TITLES)
