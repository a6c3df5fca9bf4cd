"""Cost passes: pure functions of a network's resolved shapes, each returning exact integers per node.

- ``node_metrics``: params, madds, flops (under a convention) and memory access of every node, from the formula
  registry;
- ``activation_schedule``: the activation memory live while each node runs, and its peak over the execution order.

A skipped conditional residual (``ir.Add(if_shapes_match=True)`` whose shapes differ) is a view of the branch it
passes through.

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
from .ir import INPUT, Activation, BatchNorm, Dropout, Flatten, Network, Split
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


def activation_schedule(network: Network, shapes: tuple[NodeShapes, ...], input_elements: int) -> ActivationSchedule:
    """Live activation memory per step under the module's memory model (see the module docstring), for a network
    input of ``input_elements`` elements."""
    readers: dict[str, int] = {INPUT: 0}
    for node in network.nodes:
        readers[node.name] = 0
        for ref in node.inputs:
            readers[ref] += 1

    buffer_of: dict[str, str] = {INPUT: INPUT}
    members: dict[str, list[str]] = {INPUT: [INPUT]}
    size: dict[str, int] = {INPUT: input_elements}
    start: dict[str, int] = {INPUT: 0}
    for step, node in enumerate(shapes):
        op = node.op
        # A skipped conditional residual passes its last input through; everything else reads its first.
        source = buffer_of[node.node.inputs[-1] if node.skipped else node.node.inputs[0]]
        # Every member but the first was made by one read of the buffer; the other reads come from outside.
        outside_reads = sum(readers[ref] for ref in members[source]) - (len(members[source]) - 1)
        alias = node.skipped or isinstance(op, _VIEWS) or (
            isinstance(op, _IN_PLACE) and source != INPUT and outside_reads == 1)
        if alias:
            buffer_of[node.name] = source
            members[source].append(node.name)
        else:
            buffer_of[node.name] = node.name
            members[node.name] = [node.name]
            size[node.name] = numel(node.output)
            start[node.name] = step

    last = len(shapes) - 1
    end = {buffer: start[buffer] for buffer in size}
    for step, node in enumerate(shapes):
        for ref in node.node.inputs:
            buffer = buffer_of[ref]
            end[buffer] = max(end[buffer], step)
    end[buffer_of[network.output]] = last

    delta = [0] * (len(shapes) + 1)
    for buffer, elements in size.items():
        delta[start[buffer]] += elements
        delta[end[buffer] + 1] -= elements
    live, running = [], 0
    for step in range(len(shapes)):
        running += delta[step]
        live.append(running)
    peak = max(live)
    return ActivationSchedule(tuple(live), peak, shapes[live.index(peak)].name)

