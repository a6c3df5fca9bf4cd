"""The passes: pure functions of a network at one setting, each returning exact integers per node. They read the
op registry (``ops``) and the metric list (``metrics``) and name no op.

- ``infer_shapes``: every node's input and output shapes (each op's shape rule);
- ``node_counts``: every per-node metric of a node (each op's formulas; ``flops`` under a convention);
- ``buffer_plan``: which buffer holds each node's output and how long it lives (the same at every setting);
- ``activation_schedule``: the activation memory live while each node runs, and its peak.

Memory model of the schedule (stated in docs/commands.md): every node's output is a buffer, except that ops declared as
views (flatten, a channel chunk, dropout at inference) alias their input's buffer, and ops declared as in place
(BatchNorm, activations) write into their input's buffer when they are its only reader (and it is not the network
input). A buffer is live from the step that writes it to the last step that reads it; the network input is live
from the start, the network output to the end. The live memory of a step is the sum of the buffers live at it.

A conditional op (``Op.conditional``: a residual ``ops.Add(if_shapes_match=True)``) always gets a buffer of its own:
where the add is skipped its output is its branch, the same size, so the branch's buffer ending at the add and the add's
starting there hold the same memory, except at the add's own step, where only an add that happens writes a new one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from ..core.ir import INPUT, Network
from ..core.metrics import node_metrics
from ..ops import definition
from ..core.scaling import Width, resolve_width
from ..core.shapes import NodeShapes, Shape, ShapeContext

NODE_METRICS = tuple(metric.name for metric in node_metrics())


def network_input_shape(network: Network, alpha: Any, size: tuple[Any, Any], batch: Any = 1) -> Shape:
    """The N x C x H x W network input at width multiplier ``alpha``, input size ``size`` and ``batch``."""
    channels = cast(Width, network.input_channels)         # ``Network.__post_init__`` made it a width rule
    return Shape.image(batch, resolve_width(channels, alpha, 0), size[0], size[1])


def infer_shapes(network: Network, alpha: float, size: tuple[int, int], batch: int = 1) -> tuple[NodeShapes, ...]:
    """Every node of ``network`` with its shapes, for width multiplier ``alpha``, an input of ``size`` (H, W) and
    ``batch`` images. Raises ``CostModelError`` naming the node where the shapes do not fit."""
    produced: dict[str, Shape] = {INPUT: network_input_shape(network, alpha, size, batch)}
    resolved = []
    for node in network.nodes:
        inputs = tuple(produced[ref] for ref in node.inputs)
        context = ShapeContext(node, alpha, produced)
        output = definition(node.op).shape(node.op, inputs, context)
        produced[node.name] = output
        resolved.append(NodeShapes(node, inputs, output, bool(context.skip)))
    return tuple(resolved)


def node_counts(node: NodeShapes, convention: str) -> tuple[Any, ...]:
    """Every per-node metric of ``node`` (in ``NODE_METRICS`` order), flops under ``convention``; all 0 for a
    conditional residual that is skipped; no params for a node that shares an earlier node's (``Node.shares``)."""
    if node.skipped:
        return (0,) * len(NODE_METRICS)
    op_def = definition(node.op)
    return tuple(0 if metric == "params" and node.node.shares else op_def.formula(metric, convention)(node.op, node)
                 for metric in NODE_METRICS)


@dataclass(frozen=True)
class Interval:
    """A buffer's lifetime: the steps ``first`` to ``last`` (inclusive) hold the output of node ``source`` (-1: the
    network input). ``unless_skipped`` marks the one step where a conditional residual's output exists only if the
    add happens."""

    first: int
    last: int
    source: int
    unless_skipped: bool = False


def buffer_plan(network: Network) -> tuple[Interval, ...]:
    """The structure of the memory model, the same at every width and resolution (see the module docstring).
    Linear in the number of nodes."""
    readers: dict[str, int] = {INPUT: 0}
    for node in network.nodes:
        readers[node.name] = 0
        for ref in node.inputs:
            readers[ref] += 1
    buffer_of: dict[str, str] = {INPUT: INPUT}
    # Per buffer: the reads of all its members, and how many members it has. Every member but the first was made
    # by one read of the buffer; the other reads come from outside.
    reads: dict[str, int] = {INPUT: readers[INPUT]}
    members: dict[str, int] = {INPUT: 1}
    first: dict[str, int] = {INPUT: 0}
    source: dict[str, int] = {INPUT: -1}
    for step, node in enumerate(network.nodes):
        memory = definition(node.op).memory if node.inputs else "buffer"      # a tensor of the weights: its own
        buffer = buffer_of[node.inputs[0]] if node.inputs else node.name
        outside_reads = reads.get(buffer, 0) - (members.get(buffer, 1) - 1)
        if memory == "view" or (memory == "in_place" and buffer != INPUT and outside_reads == 1):
            buffer_of[node.name] = buffer
            reads[buffer] += readers[node.name]
            members[buffer] += 1
        else:
            buffer_of[node.name] = node.name
            reads[node.name] = readers[node.name]
            members[node.name] = 1
            first[node.name] = step
            source[node.name] = step
    last = dict(first)
    for step, node in enumerate(network.nodes):
        for ref in node.inputs:
            buffer = buffer_of[ref]
            if step > last[buffer]:
                last[buffer] = step
    last[buffer_of[network.output]] = len(network.nodes) - 1
    intervals = []
    for buffer, start in first.items():
        index = source[buffer]
        if index >= 0 and network.nodes[index].op.conditional():
            intervals.append(Interval(start, start, index, unless_skipped=True))
            if last[buffer] > start:
                intervals.append(Interval(start + 1, last[buffer], index))
        else:
            intervals.append(Interval(start, last[buffer], index))
    return tuple(intervals)


@dataclass(frozen=True)
class ActivationSchedule:
    """Elements live while each node runs (in execution order), the peak and the first step where it occurs."""

    live: tuple[int, ...]
    peak: int
    peak_step: int


def activation_schedule(plan: tuple[Interval, ...], outputs: tuple[int, ...], skipped: tuple[bool, ...],
                        input_elements: int) -> ActivationSchedule:
    """Live activation memory per step under the memory model, from ``buffer_plan``'s intervals, each node's
    output elements, which nodes are skipped conditional residuals, and the network input's elements."""
    delta = [0] * (len(outputs) + 1)
    for interval in plan:
        size = input_elements if interval.source < 0 else outputs[interval.source]
        if interval.unless_skipped and skipped[interval.source]:
            size = 0
        delta[interval.first] += size
        delta[interval.last + 1] -= size
    live, running = [], 0
    for step in range(len(outputs)):
        running += delta[step]
        live.append(running)
    peak = max(live)
    return ActivationSchedule(tuple(live), peak, live.index(peak))
