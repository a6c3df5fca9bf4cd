"""Counting a network at one setting: every node's output shape and per-node metrics, and the live activation
memory of every step, as plain tuples (``Counts``) that ``engine.analysis.Analysis`` presents.

The first analyses of a network interpret its shape rules and formulas node by node (``passes``). From its
``COMPILE_AFTER``-th analysis, a network of up to ``COMPILE_LIMIT`` nodes is traced and compiled to straight-line
Python (``trace``, ``compiled``), which counts the same in a fraction of the time; when the compiled program cannot
run a setting (a requirement fails), the interpreter counts it and raises the error naming the node.

What is derived from a network once (its buffer plan, traces, compiled programs, layouts) is kept in a
``NetworkPlan`` beside the network, in a cache keyed by the network's identity that forgets a network when it is
garbage: the networks themselves stay immutable values.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any, Callable

from .compiled import Fallback
from ..core.ir import INPUT, Network
from .passes import (NODE_METRICS, Interval, activation_schedule, buffer_plan, infer_shapes, network_input_shape,
                     node_counts)
from ..core.shapes import Shape

# Compiling costs about as much as a few dozen interpreted counts, so a network is compiled on its COMPILE_AFTER-th
# analysis, and only up to COMPILE_LIMIT nodes (larger ones are interpreted, linearly).
COMPILE_AFTER = 3
COMPILE_LIMIT = 2000


class NetworkPlan:
    """What is derived from one network once: its buffer plan, its output layouts, and per convention its trace
    and compiled program (``None`` once compiling has failed)."""

    def __init__(self, network: Network):
        self.uses = 0
        self._network = weakref.ref(network)
        self._buffers: "tuple[Interval, ...] | None" = None
        self.layouts: "tuple[str, ...] | None" = None
        self.traces: dict[str, Any] = {}
        self._rows: "list[tuple[Any, tuple[int, ...], Any, str | None]] | None" = None
        self.programs: dict[str, "Callable[..., Any] | None"] = {}
        self.grids: dict[str, Any] = {}

    @property
    def buffers(self) -> tuple[Interval, ...]:
        if self._buffers is None:
            network = self._network()
            assert network is not None
            self._buffers = buffer_plan(network)
        return self._buffers

    @property
    def rows(self) -> "list[tuple[Any, tuple[int, ...], Any, str | None]]":
        """Per node: the node, the positions of its inputs (-1: the network input), its op's declaration, and its
        kind when the op has only one."""
        if self._rows is None:
            from ..ops import definition

            network = self._network()
            assert network is not None
            position = {INPUT: -1, **{node.name: i for i, node in enumerate(network.nodes)}}
            rows = []
            for node in network.nodes:
                op_def = definition(node.op)
                kind = next(iter(op_def.kinds)) if op_def.kind is None else None
                rows.append((node, tuple(position[ref] for ref in node.inputs), op_def, kind))
            self._rows = rows
        return self._rows

    def trace(self, convention: str) -> Any:
        """The network traced under ``convention`` (``trace.trace``); raises what the trace raises."""
        found = self.traces.get(convention)
        if found is None:
            from .trace import trace

            network = self._network()
            assert network is not None
            found = self.traces[convention] = trace(network, convention, self.buffers)
            self.layouts = found.layouts
        return found

    def program(self, convention: str) -> "Callable[..., Any] | None":
        """The compiled counting program, or None when the network cannot be compiled."""
        if convention not in self.programs:
            from .compiled import compile_trace
            from ..core.errors import CostModelError

            try:
                self.programs[convention] = compile_trace(self.trace(convention))
            except (CostModelError, Fallback, RecursionError):
                self.programs[convention] = None
        return self.programs[convention]


    def grid(self, convention: str) -> Any:
        """The grid program (``grid.GridProgram``), or None when the counts do not separate into width and size
        parts (or the network does not trace)."""
        if convention not in self.grids:
            from ..core.errors import CostModelError
            from .grid import GridProgram, NotSeparable

            try:
                self.grids[convention] = GridProgram(self.trace(convention))
            except (CostModelError, NotSeparable, RecursionError):
                self.grids[convention] = None
        return self.grids[convention]


_PLANS: dict[int, tuple["weakref.ref[Network]", NetworkPlan]] = {}


def plan_of(network: Network) -> NetworkPlan:
    """The plan of ``network`` (by identity; dropped when the network is garbage)."""
    key = id(network)
    entry = _PLANS.get(key)
    if entry is not None and entry[0]() is network:
        return entry[1]
    plan = NetworkPlan(network)
    _PLANS[key] = (weakref.ref(network, _forget(key)), plan)
    return plan


def _forget(key: int, plans: "dict[int, Any]" = _PLANS) -> "Callable[[Any], None]":
    """The callback that drops the plan at ``key`` when its network is garbage (``plans`` bound now: it outlives
    the module's globals at exit)."""
    def forget(_: Any) -> None:
        plans.pop(key, None)
    return forget


@dataclass(frozen=True)
class Counts:
    """Every node's output sizes and per-node metrics at one setting, and the live memory of every step (in
    elements), as the interpreter or the compiled program gives them: the raw material of an ``Analysis``.
    ``metrics[k][i]`` is node i's value of the k-th of ``passes.NODE_METRICS``."""

    input: tuple
    outputs: tuple[tuple, ...]
    layouts: tuple[str, ...]
    skips: tuple[bool, ...]
    metrics: tuple[tuple[int, ...], ...]
    live: tuple[int, ...]

    @property
    def peak(self) -> int:
        return max(self.live)

    @property
    def peak_step(self) -> int:
        """The first step at which the peak is live."""
        return self.live.index(self.peak)

    def metric(self, name: str) -> tuple[int, ...]:
        return self.metrics[NODE_METRICS.index(name)]

    def output(self, index: int) -> Shape:
        return Shape(self.layouts[index], self.outputs[index])


def count(network: Network, alpha: float, size: tuple[int, int], batch: int, convention: str) -> Counts:
    """Every count of ``network`` at one setting: interpreted, or by its compiled program (see the module
    docstring)."""
    plan = plan_of(network)
    plan.uses += 1
    if plan.uses >= COMPILE_AFTER and len(network.nodes) <= COMPILE_LIMIT:
        program = plan.program(convention)
        if program is not None:
            try:
                inputs, outputs, skips, metrics, live = program(alpha, size[0], size[1], batch)
            except Fallback:
                pass
            else:
                return Counts(inputs, outputs, plan.layouts, skips, metrics, live)  # type: ignore[arg-type]
    return interpret(network, alpha, size, batch, convention, plan)


def compiled_counts(network: Network, alpha: float, size: tuple[int, int], batch: int, convention: str) -> Counts:
    """Count with the compiled program only (for tests and benchmarks): raises ``compiled.Fallback`` where a check
    fails or where the network cannot be compiled."""
    plan = plan_of(network)
    program = plan.program(convention)
    if program is None:
        raise Fallback(f"network {network.name!r} cannot be compiled")
    inputs, outputs, skips, metrics, live = program(alpha, size[0], size[1], batch)
    assert plan.layouts is not None
    return Counts(inputs, outputs, plan.layouts, skips, metrics, live)


def interpret(network: Network, alpha: float, size: tuple[int, int], batch: int, convention: str,
              plan: "NetworkPlan | None" = None) -> Counts:
    """Count by evaluating the shape rules and formulas on numbers, node by node."""
    plan = plan or plan_of(network)
    shapes = infer_shapes(network, alpha, size, batch)
    per_node = [node_counts(node, convention) for node in shapes]
    outputs = tuple(node.output.numel for node in shapes)
    skips = tuple(node.skipped for node in shapes)
    schedule = activation_schedule(plan.buffers, outputs, skips,
                                   network_input_shape(network, alpha, size, batch).numel)
    if plan.layouts is None:
        plan.layouts = tuple(node.output.layout for node in shapes)
    return Counts(network_input_shape(network, alpha, size, batch).dims, tuple(node.output.dims for node in shapes),
                  plan.layouts, skips, tuple(zip(*per_node)), schedule.live)
