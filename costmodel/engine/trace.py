"""A network traced once on symbols: the shape rules and formulas of every node run on ``symbolic`` expressions of
alpha (a width variable) and the input's height, width and batch (size variables), as torch.fx's shape propagation
runs a graph on proxies. The result is every node's output shape, skip condition and metrics, the conditions the
rules require, and each activation buffer's size, as expressions: what ``compiled`` turns into straight-line Python
for one setting and ``grid`` evaluates over whole grids of settings.

Nothing here defines a cost: the rules and formulas are the registry's, evaluated on another number type. A rule
that fails on symbols (a static mistake, such as a linear layer on an image) fails the trace; the caller then
interprets the network, which raises the error naming the node.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.ir import INPUT, Network
from ..ops import definition
from .passes import NODE_METRICS, Interval, buffer_plan, network_input_shape
from ..core.shapes import NodeShapes, Shape, ShapeContext
from ..core.symbolic import SIZE, WIDTH, conjuncts, select, var

ALPHA, HEIGHT, WIDTH_, BATCH = var("alpha", WIDTH), var("H", SIZE), var("W", SIZE), var("N", SIZE)


@dataclass(frozen=True)
class Trace:
    """A network's counts as expressions of ``alpha``, ``H``, ``W`` and ``N``.

    ``outputs[i]`` is node i's output shape and ``skips[i]`` whether it is a conditional op that does not happen
    (``False``, ``True`` or a condition); ``metrics[m][i]`` is node i's count of the per-node metric m (0 where
    skipped); ``checks`` are the conditions the shape rules require, split into their conjuncts; ``buffers`` pairs
    each interval of the buffer plan with the elements its buffer holds."""

    network: Network
    convention: str
    input: Shape
    outputs: tuple[Shape, ...]
    skips: tuple[Any, ...]
    metrics: dict[str, tuple[Any, ...]]
    checks: tuple[Any, ...]
    buffers: tuple[tuple[Interval, Any], ...]

    @property
    def layouts(self) -> tuple[str, ...]:
        return tuple(shape.layout for shape in self.outputs)


def trace(network: Network, convention: str, plan: "tuple[Interval, ...] | None" = None) -> Trace:
    """Trace ``network`` with flops under ``convention`` (``plan``: its buffer plan, if already made)."""
    input_shape = network_input_shape(network, ALPHA, (HEIGHT, WIDTH_), BATCH)
    produced: dict[str, Shape] = {INPUT: input_shape}
    outputs: list[Any] = []
    skips: list[Any] = []
    checks: list[Any] = []
    metrics: dict[str, list[Any]] = {metric: [] for metric in NODE_METRICS}
    for node in network.nodes:
        op_def = definition(node.op)
        inputs = tuple(produced[ref] for ref in node.inputs)
        context = ShapeContext(node, ALPHA, produced)
        output = op_def.shape(node.op, inputs, context)
        for requirement in context.requirements:
            checks.extend(term for term in conjuncts(requirement) if term is not True)
        produced[node.name] = output
        outputs.append(output)
        skips.append(context.skip)
        resolved = NodeShapes(node, inputs, output)
        for metric in NODE_METRICS:
            value = 0 if metric == "params" and node.shares else op_def.formula(metric, convention)(node.op, resolved)
            metrics[metric].append(select(context.skip, 0, value))
    buffers = []
    for interval in plan if plan is not None else buffer_plan(network):
        size: Any = input_shape.numel if interval.source < 0 else outputs[interval.source].numel
        if interval.unless_skipped:
            size = select(skips[interval.source], 0, size)
        buffers.append((interval, size))
    unique: dict[int, Any] = {}
    for check in checks:
        unique.setdefault(id(check), check)
    return Trace(network, convention, input_shape, tuple(outputs), tuple(skips),
                 {metric: tuple(values) for metric, values in metrics.items()}, tuple(unique.values()),
                 tuple(buffers))
