"""A traced network (``trace``) compiled to one straight-line Python function that counts it at one setting.

``counting`` interprets a network's first analyses; from its ``COMPILE_AFTER``-th, it runs this function instead:
``evaluate(alpha, H, W, N)`` returns every node's output sizes, skips and per-node metrics and the live activation
memory of every step, with Python's own integers and floats, so the counts are exactly the interpreter's. The
requirements the rules state (groups divide channels, maps do not shrink to nothing) are compiled to checks; when
one fails the function raises ``Fallback`` and the caller interprets the setting, which raises the one-line error
naming the node.

The source is flat: every subexpression used more than once, or nested deeper than ``MAX_DEPTH``, is its own local,
so no generated line nests deeply, whatever the network. Nothing here defines a cost.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from ..core.symbolic import Expr, four_digits, topological
from .trace import Trace

MAX_DEPTH = 24
_INFIX = {"+", "-", "*", "//", "/", "%", "<", "<=", ">", ">=", "==", "!=", "and"}


class Fallback(Exception):
    """A compiled check failed (or the arithmetic did): interpret this setting to get the error message."""


def _deltas(trace: Trace) -> list[Any]:
    """Per step, the change of live memory: buffers that start minus buffers that ended the step before."""
    steps = len(trace.outputs)
    starting: list[list[Any]] = [[] for _ in range(steps)]
    ending: list[list[Any]] = [[] for _ in range(steps + 1)]
    for interval, size in trace.buffers:
        starting[interval.first].append(size)
        ending[interval.last + 1].append(size)
    deltas = []
    for step in range(steps):
        delta: Any = 0
        for size in starting[step]:
            delta = delta + size
        for size in ending[step]:
            delta = delta - size
        deltas.append(delta)
    return deltas


class _Source:
    """Python source of a DAG of expressions in topological order: each node becomes text, inlined into its one
    reader when shallow, else assigned to a local."""

    def __init__(self, roots: list[Any]):
        self.order = topological(roots)
        uses: dict[int, int] = {}
        for expr in self.order:
            for arg in expr.args:
                if isinstance(arg, Expr):
                    uses[arg.id] = uses.get(arg.id, 0) + 1
        for root in roots:
            if isinstance(root, Expr):
                uses[root.id] = uses.get(root.id, 0) + 2      # roots are read where they are returned
        self.lines: list[str] = []
        self.text: dict[int, str] = {}
        depth: dict[int, int] = {}
        for expr in self.order:
            if expr.op == "var":
                self.text[expr.id], depth[expr.id] = expr.args[0], 0
                continue
            parts = [self.text[arg.id] if isinstance(arg, Expr) else repr(arg) for arg in expr.args]
            text = _expression(expr.op, parts)
            level = 1 + max((depth[arg.id] for arg in expr.args if isinstance(arg, Expr)), default=0)
            if uses.get(expr.id, 0) > 1 or level > MAX_DEPTH:
                name = f"v{len(self.lines)}"
                self.lines.append(f"    {name} = {text}")
                text, level = name, 0
            self.text[expr.id], depth[expr.id] = text, level

    def of(self, value: Any) -> str:
        return self.text[value.id] if isinstance(value, Expr) else repr(value)

    def tuple(self, values: Any) -> str:
        return "(" + "".join(f"{self.of(value)}, " for value in values) + ")"


def _expression(op: str, parts: list[str]) -> str:
    if op in _INFIX:
        return f"({parts[0]} {op} {parts[1]})"
    if op == "not":
        return f"(not {parts[0]})"
    if op == "floor_int":
        return f"int({parts[0]})"
    if op == "round_even":
        return f"round({parts[0]})"
    if op == "four_digits":
        return f"_four_digits({parts[0]})"
    if op == "maximum":
        return f"max({parts[0]}, {parts[1]})"
    if op == "gcd":
        return f"_gcd({parts[0]}, {parts[1]})"
    if op == "select":
        return f"({parts[1]} if {parts[0]} else {parts[2]})"
    raise ValueError(f"cannot compile {op!r}")


def source(trace: Trace) -> str:
    """The Python source of ``evaluate(alpha, H, W, N)`` for ``trace``."""
    deltas = _deltas(trace)
    metrics = list(trace.metrics.values())
    roots: list[Any] = [*trace.input.dims, *(dim for shape in trace.outputs for dim in shape.dims), *trace.skips,
                        *(value for values in metrics for value in values), *trace.checks, *deltas]
    code = _Source(roots)
    lines = ["def evaluate(alpha, H, W, N):", *code.lines]
    for check in trace.checks:
        lines.append(f"    if not {code.of(check)}: raise _Fallback")
    live = "0"
    lives = []
    for step, delta in enumerate(deltas):
        if not (type(delta) is int and delta == 0):
            lines.append(f"    live{step} = {live} + {code.of(delta)}")
            live = f"live{step}"
        lives.append(live)
    outputs = "(" + "".join(f"{code.tuple(shape.dims)}, " for shape in trace.outputs) + ")"
    lines.append(f"    return ({code.tuple(trace.input.dims)}, {outputs}, {code.tuple(trace.skips)}, "
                 f"({''.join(code.tuple(values) + ', ' for values in metrics)}), ({''.join(f'{v}, ' for v in lives)}))")
    return "\n".join(lines) + "\n"


def compile_trace(trace: Trace) -> Callable[..., Any]:
    """The compiled ``evaluate(alpha, H, W, N)`` of ``trace``. Raises ``Fallback`` when the source cannot be
    compiled (the caller keeps interpreting)."""
    try:
        code = compile(source(trace), f"<costmodel {trace.network.name} {trace.convention}>", "exec")
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError) as error:
        raise Fallback(str(error)) from None
    namespace: dict[str, Any] = {"_Fallback": Fallback, "_gcd": math.gcd, "_four_digits": four_digits}
    exec(code, namespace)
    raw = namespace["evaluate"]

    def evaluate(alpha: float, height: int, width: int, batch: int) -> Any:
        try:
            return raw(alpha, height, width, batch)
        except (ArithmeticError, RecursionError) as error:
            raise Fallback(str(error)) from None

    return evaluate
