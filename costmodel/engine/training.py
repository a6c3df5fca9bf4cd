"""The cost of training: one step's forward and backward mult-adds and FLOPs, the activations autograd saves for
the backward, and the memory of the parameters, their gradients and the optimizer's state.

Model (each op declares its part, ``ops.registry.Backward``):

- a node's output needs a gradient when the node has trainable parameters or any input needs one (the network
  input needs none); the backward runs for those nodes only. A node computes its input gradient when an input
  needs one (per input for a product's factors, ``Backward.per_input``) and its parameters' gradient when it has
  trainable parameters (not ``frozen``);
- the activations saved for the backward are what torch's autograd keeps (``saved_tensors_hooks``): each node
  that needs a gradient saves the tensors its op declares (``Saved``), an input or output as the buffer that holds
  it (a view saves its base's buffer), counted once however many nodes save it; parameters and buffers are the
  model's state, not saved activations. In training every op but a view writes a buffer of its own (dropout
  included);
- parameters, gradients (the trainable parameters') and the optimizer's state (SGD none, momentum one buffer per
  parameter, Adam and AdamW two: torch's ``exp_avg`` and ``exp_avg_sq``; their per-tensor ``step`` counters are
  left out) in the analysis dtype;
- the peak of a step: parameters + gradients + optimizer state + saved activations, plus the largest transient:
  the gradients live at one node's backward (its output's and its inputs'). An estimate of what an allocator
  holds, not a measurement.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from ..core.errors import CostModelError, ParameterError, param
from ..core.ir import INPUT
from ..core.shapes import NodeShapes
from ..ops import Linear, MatMul, Permute, ScaledDotProductAttention, Transpose, definition
from ..ops.attention import runs_flash
from .analysis import DTYPE_BYTES, Analysis
from .views import contiguous, mergeable, view_strides

if TYPE_CHECKING:  # pandas is imported only by to_frame()
    import pandas

# Ops the IR costs as the copy their consumer makes but torch runs as views (in a module as its code wrote it).
TORCH_VIEWS = (Permute, Transpose)
# Optimizer state per trainable parameter, in parameters' units.
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
SAVED_DTYPES = {"int64": 8, "float32": 4}


@dataclass(frozen=True)
class TrainingLayer:
    """One node's training costs. ``saved_bytes``: the bytes this node adds to what the backward keeps (a buffer
    already saved by an earlier node is not counted again)."""

    name: str
    kind: str
    trainable_params: int
    forward_madds: int
    forward_flops: int
    input_madds: int
    input_flops: int
    weight_madds: int
    weight_flops: int
    saved_bytes: int
    recompute_madds: int = 0
    recompute_flops: int = 0

    @property
    def backward_madds(self) -> int:
        return self.input_madds + self.weight_madds

    @property
    def backward_flops(self) -> int:
        return self.input_flops + self.weight_flops


@dataclass(frozen=True)
class Training:
    """One training step of an analysed network: per layer and in total."""

    analysis: Analysis
    optimizer: str
    layers: tuple[TrainingLayer, ...]
    transient_bytes: int
    transient_node: str
    frozen: tuple[str, ...] = ()
    checkpoint: tuple[str, ...] = ()

    @cached_property
    def totals(self) -> dict[str, int]:
        """Summed counts and the memory of a step, in bytes where the name says so."""
        size = DTYPE_BYTES[self.analysis.dtype]
        trainable = sum(layer.trainable_params for layer in self.layers)
        sums = {field: sum(getattr(layer, field) for layer in self.layers)
                for field in ("forward_madds", "forward_flops", "input_madds", "input_flops", "weight_madds",
                              "weight_flops", "saved_bytes", "recompute_madds", "recompute_flops")}
        backward_madds = sums["input_madds"] + sums["weight_madds"]
        backward_flops = sums["input_flops"] + sums["weight_flops"]
        params = self.analysis.totals["params"] * size
        memory = {"params_bytes": params, "gradient_bytes": trainable * size,
                  "optimizer_bytes": OPTIMIZERS[self.optimizer] * trainable * size}
        state = sum(memory.values())
        return {"trainable_params": trainable, **sums, "backward_madds": backward_madds,
                "backward_flops": backward_flops,
                "step_madds": sums["forward_madds"] + backward_madds + sums["recompute_madds"],
                "step_flops": sums["forward_flops"] + backward_flops + sums["recompute_flops"], **memory,
                "transient_bytes": self.transient_bytes,
                "peak_bytes": state + sums["saved_bytes"] + self.transient_bytes}

    def to_dict(self) -> dict[str, Any]:
        """The setting, the totals and every layer, for JSON.

        :returns: a dict of plain values."""
        analysis = self.analysis
        return {"model": analysis.model, "alpha": analysis.alpha, "depth": analysis.depth,
                "input": list(analysis.input_shape.dims), "dtype": analysis.dtype,
                "convention": analysis.convention, "optimizer": self.optimizer, "frozen": list(self.frozen),
                "checkpoint": list(self.checkpoint),
                "totals": self.totals, "transient_node": self.transient_node,
                "layers": [{**vars(layer), "backward_madds": layer.backward_madds,
                            "backward_flops": layer.backward_flops} for layer in self.layers]}

    def to_frame(self) -> "pandas.DataFrame":
        """One row per layer, indexed by name.

        :returns: a pandas DataFrame of every ``TrainingLayer`` field."""
        import pandas

        return pandas.DataFrame([vars(layer) for layer in self.layers]).set_index("name")


def _frozen(name: str, frozen: Iterable[str]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in frozen)


def _laid_out(op: Any, node: NodeShapes) -> tuple[int, ...]:
    """The strides of a new tensor: in order, but for the CPU flash attention kernel's output, which torch lays out
    as (batch, tokens, heads, features) and returns as (batch, heads, tokens, features)."""
    dims = node.output.dims
    if isinstance(op, ScaledDotProductAttention) and len(dims) == 4 and runs_flash(op, node):
        batch, heads, tokens, features = contiguous((dims[0], dims[2], dims[1], dims[3]))
        return (batch, tokens, heads, features)
    return contiguous(dims)


def _folded_copy(op: Any, node: NodeShapes, index: int, strides: tuple[int, ...]) -> int:
    """The elements of the copy torch makes of input ``index`` where it folds axes that do not merge: a product
    (``torch.matmul``) folds its operands' batch axes into one for ``bmm``; a linear layer folds every axis of its
    input but the last. 0 where it folds a view (or folds nothing)."""
    dims = node.inputs[index].dims
    if isinstance(op, MatMul) and len(dims) >= 3 and not mergeable(dims, strides, 0, len(dims) - 3):
        batch = 1
        for size in node.output.dims[:-2]:
            batch *= int(size)
        return batch * int(dims[-2]) * int(dims[-1])
    if isinstance(op, Linear) and len(dims) > 2 and not (mergeable(dims, strides, 0, len(dims) - 2) and
                                                         (strides[-1] == 1 or int(dims[-1]) == 1)):
        return node.inputs[index].numel
    return 0


def _segments(checkpoint: Iterable[Any], nodes: Any, network: str) -> dict[str, str]:
    """The checkpointed segment each node belongs to: a segment is a dotted prefix (``features.3``: the nodes under
    it) or a sequence of node names (named by its first)."""
    segment_of: dict[str, str] = {}
    for item in checkpoint:
        if isinstance(item, str):
            members = [node.name for node in nodes if _frozen(node.name, (item,))]
            label = item
        else:
            members, label = list(item), (list(item) or [""])[0]
        if not members or any(name not in {node.name for node in nodes} for name in members):
            raise ParameterError(param("checkpoint"), f" {item!r} names no node of {network}")
        for name in members:
            segment_of.setdefault(name, label)
    return segment_of


def training(result: Analysis, optimizer: str = "sgd", frozen: Iterable[str] = (), input_grad: bool = False,
             checkpoint: "Iterable[str | Sequence[str]]" = ()) -> Training:
    """The training step of ``result``'s network at its setting (batch, dtype, convention).

    :param result: an analysis (not the fused inference view: its kernels are an inference engine's).
    :param optimizer: ``sgd``, ``momentum``, ``adam`` or ``adamw``.
    :param frozen: node names (or prefixes of a dotted path) whose parameters are not trained, besides the
        network's own ``frozen`` (an imported module's parameters with ``requires_grad`` off).
    :param input_grad: whether the network input needs a gradient too (an adversarial example's, or a network that
        is the later part of a larger one); by default it needs none.
    :param checkpoint: segments recomputed in the backward instead of kept (``torch.utils.checkpoint``), each the
        nodes under a dotted prefix (``features.3``) or a sequence of node names: a segment keeps only the inputs
        it reads from outside, and its forward runs again in the backward (``recompute_*``), when its activations
        live again (the transient).
    :returns: the ``Training``.
    :raises CostModelError: for an unknown optimizer or the fused view."""
    if optimizer not in OPTIMIZERS:
        raise CostModelError(f"unknown optimizer {optimizer!r}; known: {', '.join(OPTIMIZERS)}")
    if result.fused:
        raise CostModelError("training is costed on the network as it is, not on the fused inference view")
    frozen = tuple(frozen)
    nodes = result.network.nodes
    for prefix in frozen:
        if not any(_frozen(node.name, (prefix,)) for node in nodes):
            raise ParameterError(param("frozen"), f" {prefix!r} names no node of {result.network.name} (a node's "
                                 "name, or the start of a dotted path: features.0)")
    frozen += tuple(name for name in result.network.frozen if name not in frozen)
    checkpoint = tuple(checkpoint)
    segment_of = _segments(checkpoint, nodes, result.network.name)
    segment_saved: dict[str, int] = {}        # what each segment would keep: its activations live again
    segment_keys: dict[str, set] = {}
    gradients_at: list[tuple[int, str, str]] = []
    size = DTYPE_BYTES[result.dtype]
    counts = result.counts
    # which buffer holds each node's output (views share their input's), and its bytes
    buffer_of: dict[str, str] = {INPUT: INPUT}
    buffer_bytes: dict[str, int] = {INPUT: result.input_shape.numel * size}
    needs_grad: dict[str, bool] = {INPUT: input_grad}
    saved: set[Any] = set()
    layers = []
    transient, transient_node = 0, ""
    by_name = {layer.name: layer for layer in result.layers}
    torch_views = result.network.torch_views
    strides_of: dict[str, tuple[int, ...]] = {INPUT: contiguous(result.input_shape.dims)}
    for index, node in enumerate(nodes):
        if counts.skips[index]:          # a conditional residual that does not apply: its output is its branch
            buffer_of[node.name] = buffer_of[node.inputs[-1]]
            needs_grad[node.name] = needs_grad[node.inputs[-1]]
            if torch_views:
                strides_of[node.name] = strides_of[node.inputs[-1]]
            continue
        layer = by_name[node.name]
        op_def = definition(node.op)
        backward = op_def.backward
        assert backward is not None                      # register() refuses an op without one
        shapes = NodeShapes(node, layer.input_shapes, layer.output_shape)
        # a view aliases its input's buffer; one that keeps a tensor of its own in training (dropout's mask) writes
        # its output anew
        view = bool(op_def.memory == "view" and node.inputs and not backward.saves(node.op, shapes)) or \
            (torch_views and isinstance(node.op, TORCH_VIEWS))
        if torch_views:                  # a module as written: its views' strides, and the reshapes torch copies
            strides = view_strides(node.op, layer.input_shapes[0].dims, strides_of[node.inputs[0]],
                                   layer.output_shape.dims) if view else None
            view = strides is not None
            strides_of[node.name] = strides if strides is not None else _laid_out(node.op, shapes)
        buffer_of[node.name] = buffer_of[node.inputs[0]] if view else node.name
        if not view:       # a tensor of the weights alone (a learned tensor read as one) is state, not activation
            buffer_bytes[node.name] = layer.output_shape.numel * size if node.inputs else 0
        own_params = op_def.params(node.op, shapes)
        trainable = bool(own_params) and not _frozen(node.name, frozen)
        inputs_need = [needs_grad[ref] for ref in node.inputs]
        needs_grad[node.name] = trainable or any(inputs_need)
        row = dict(input_madds=0, input_flops=0, weight_madds=0, weight_flops=0, saved_bytes=0, recompute_madds=0,
                   recompute_flops=0)
        if needs_grad[node.name]:
            refusal = backward.refuses(node.op, shapes) if backward.refuses else ""
            if refusal:
                raise CostModelError(f"node {node.name!r}: {refusal}")
            times = sum(inputs_need) if backward.per_input else int(any(inputs_need))
            convention = result.convention
            row["input_madds"] = times * backward.formula("madds", "input")(node.op, shapes)
            row["input_flops"] = times * backward.formula("flops", "input", convention)(node.op, shapes)
            if trainable:
                row["weight_madds"] = backward.formula("madds", "weight")(node.op, shapes)
                row["weight_flops"] = backward.formula("flops", "weight", convention)(node.op, shapes)
            # a composite op's inner gradients, which either outer one needs, are counted with its input's
            row["input_madds"] += backward.formula("madds", "internal")(node.op, shapes)
            row["input_flops"] += backward.formula("flops", "internal", convention)(node.op, shapes)
            segment = segment_of.get(node.name, "")
            kept_now: list[tuple[Any, int]] = []
            for number, kept in enumerate(backward.saves(node.op, shapes)):
                if kept.needed_for == "weight" and not trainable:
                    continue
                if kept.needed_for.startswith("input") and not inputs_need[int(kept.needed_for[5:])]:
                    continue
                if kept.tensor == "own":
                    key: Any = (node.name, number)
                    count = kept.elements(node.op, shapes) if kept.elements else 0
                    kept_now.append((key, count * (SAVED_DTYPES[kept.dtype] if kept.dtype else size)))
                elif torch_views and kept.tensor == "input" and \
                        (copied := _folded_copy(node.op, shapes, kept.index, strides_of[node.inputs[kept.index]])):
                    # torch folds the operand's axes for its kernel and, where they do not merge, keeps the copy
                    kept_now.append(((node.name, number), copied * size))
                else:
                    key = buffer_of[node.inputs[kept.index] if kept.tensor == "input" else node.name]
                    kept_now.append((key, buffer_bytes[key]))
            if segment:          # recomputed: the segment keeps the inputs it reads from outside instead
                row["recompute_madds"], row["recompute_flops"] = layer.madds, layer.flops
                keys = segment_keys.setdefault(segment, set())
                for key, nbytes in kept_now:
                    if key not in keys:
                        keys.add(key)
                        segment_saved[segment] = segment_saved.get(segment, 0) + nbytes
                kept_now = [(buffer_of[ref], buffer_bytes[buffer_of[ref]]) for ref in node.inputs
                            if segment_of.get(ref, "") != segment]
            for key, nbytes in kept_now:
                if key not in saved:
                    saved.add(key)
                    row["saved_bytes"] += nbytes
            gradients = (layer.output_shape.numel + sum(shape.numel for shape, need in
                                                        zip(layer.input_shapes, inputs_need) if need)) * size
            gradients_at.append((gradients, node.name, segment))
        layers.append(TrainingLayer(node.name, layer.kind, own_params if trainable and not node.shares else 0,
                                    layer.madds, layer.flops, **row))
    for gradients, name, segment in gradients_at:        # a segment's activations live again during its backward
        live = gradients + segment_saved.get(segment, 0)
        if live > transient:
            transient, transient_node = live, name
    labels = tuple(item if isinstance(item, str) else (list(item) or [""])[0] for item in checkpoint)
    return Training(result, optimizer, tuple(layers), transient, transient_node, frozen, labels)
