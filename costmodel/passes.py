"""Cost passes: pure functions of a network's resolved shapes, each returning exact integers per node.

- ``node_metrics``: params, madds, flops (under a convention) and memory access of every node, from the formula
  registry;
- ``activation_schedule``: the activation memory live while each node runs, and its peak over the execution order.

A conditional residual (``ir.Add(if_shapes_match=True)``) is a buffer of its own that, where the add is skipped,
holds nothing at the add's step (its output is then its branch, whose buffer is live there).

Memory model of ``activation_schedule`` (stated in the README): every node's output is a buffer, except that views
(flatten, a channel split, dropout at inference) alias their input's buffer, and BatchNorm and activations run in
place when they are the only reader of their input's buffer (which is not the network input). A buffer is live from
the step that writes it to the last step that reads it; the network input is live from the start, the network
output to the end. The live memory of a step is the sum of the buffers live at that step.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import conventions as _conventions  # noqa: F401  (registers the flops formulas)
from .formulas import formula_for
from .ir import INPUT, Activation, Add, BatchNorm, Dropout, Flatten, Network, Split
from .shapes import NodeShapes, numel

_VIEWS = (Flatten, Dropout, Split)
_IN_PLACE = (BatchNorm, Activation)


@dataclass(frozen=True)
class NodeMetrics:
    """Exact counts of one node (memory access in elements)."""

    params: int
    madds: int
    flops: int
    memory_access: int


def node_metrics(node: NodeShapes, convention: str) -> NodeMetrics:
    """Every per-node metric of ``node``, flops under ``convention``."""
    op_type = type(node.op)
    return NodeMetrics(
        params=formula_for("params", op_type)(node.op, node),
        madds=formula_for("madds", op_type)(node.op, node),
        flops=formula_for(f"flops:{convention}", op_type)(node.op, node),
        memory_access=formula_for("memory_access", op_type)(node.op, node),
    )


@dataclass(frozen=True)
class ActivationSchedule:
    """Elements live while each node runs (in execution order), the peak and the first node where it occurs."""

    live: tuple[int, ...]
    peak: int
    peak_node: str


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

    A conditional residual (``Add(if_shapes_match=True)``) always gets a buffer of its own: where it is skipped
    its output is its branch, the same size, so the branch's buffer ending at the add and the add's starting
    there hold the same memory, except at the add's own step, where only an add that happens writes a new one."""
    cached = network.derived.get("buffer_plan")
    if cached is not None:
        return cached
    readers: dict[str, int] = {INPUT: 0}
    for node in network.nodes:
        readers[node.name] = 0
        for ref in node.inputs:
            readers[ref] += 1
    index = {INPUT: -1, **{node.name: i for i, node in enumerate(network.nodes)}}
    buffer_of: dict[str, str] = {INPUT: INPUT}
    members: dict[str, list[str]] = {INPUT: [INPUT]}
    first: dict[str, int] = {INPUT: 0}
    for step, node in enumerate(network.nodes):
        op = node.op
        source = buffer_of[node.inputs[0]]
        # Every member but the first was made by one read of the buffer; the other reads come from outside.
        outside_reads = sum(readers[ref] for ref in members[source]) - (len(members[source]) - 1)
        alias = isinstance(op, _VIEWS) or (isinstance(op, _IN_PLACE) and source != INPUT and outside_reads == 1)
        if alias:
            buffer_of[node.name] = source
            members[source].append(node.name)
        else:
            buffer_of[node.name] = node.name
            members[node.name] = [node.name]
            first[node.name] = step
    last = {buffer: first[buffer] for buffer in first}
    for step, node in enumerate(network.nodes):
        for ref in node.inputs:
            last[buffer_of[ref]] = max(last[buffer_of[ref]], step)
    last[buffer_of[network.output]] = len(network.nodes) - 1
    intervals = []
    for buffer, start in first.items():
        op = None if buffer == INPUT else network.nodes[index[buffer]].op
        if isinstance(op, Add) and op.if_shapes_match:
            intervals.append(Interval(start, start, index[buffer], unless_skipped=True))
            if last[buffer] > start:
                intervals.append(Interval(start + 1, last[buffer], index[buffer]))
        else:
            intervals.append(Interval(start, last[buffer], index[buffer]))
    plan = tuple(intervals)
    network.derived["buffer_plan"] = plan
    return plan


def activation_schedule(network: Network, shapes: tuple[NodeShapes, ...], input_elements: int) -> ActivationSchedule:
    """Live activation memory per step under the module's memory model (see the module docstring), for a network
    input of ``input_elements`` elements."""
    sizes = [numel(node.output) for node in shapes]
    delta = [0] * (len(shapes) + 1)
    for interval in buffer_plan(network):
        size = input_elements if interval.source < 0 else sizes[interval.source]
        if interval.unless_skipped and shapes[interval.source].skipped:
            size = 0
        delta[interval.first] += size
        delta[interval.last + 1] -= size
    live, running = [], 0
    for step in range(len(shapes)):
        running += delta[step]
        live.append(running)
    peak = max(live)
    return ActivationSchedule(tuple(live), peak, shapes[live.index(peak)].name)
