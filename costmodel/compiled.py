"""Compiled analysis: a network traced once on symbols, then run as straight-line Python or NumPy.

``analyze`` first counts a network by interpreting the shape rules and formulas on numbers. The second time the
same network is analyzed, it is traced: the same rules and formulas run on ``symbolic`` expressions of alpha and
the input size, and the trace becomes the source of one Python function (``scalar``) that computes every node's
shape and metrics at one setting, or of one NumPy function (``vector``) that computes the totals over a whole grid
of settings at once (``costmodel sweep``). Requirements the rules state (groups divide channels, maps do not shrink
to nothing) are compiled to checks; when one fails, the caller falls back to the interpreter, which raises the
one-line error naming the node.

Nothing here defines a cost: the formulas and rules are the registry's, evaluated on other number types.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from .formulas import formula_for
from .ir import INPUT, Network
from .passes import buffer_plan
from .scaling import resolve_width
from .shapes import NodeShapes, ShapeContext, numel, shape_rule
from .symbolic import Expr, both, render, select, var

METRICS = ("params", "madds", "flops", "memory_access")


class Fallback(Exception):
    """A compiled check failed: interpret this setting to get the error message."""


@dataclass
class _Trace:
    """A traced network: named assignments in order, the checks, and the names of every node's results."""

    assignments: list[tuple[str, Any]]
    checks: list[Any]
    shapes: list[tuple]            # per node: output dims (names or constants)
    groups: list[Any]
    skips: list[Any]               # per node: False, True, or a skip-condition name
    metrics: dict[str, list[Any]]  # per metric: per node (name or constant)
    input_elements: Any


class _Namer:
    """Names every compound value the trace produces, so later expressions refer to it."""

    def __init__(self) -> None:
        self.assignments: list[tuple[str, Any]] = []

    def bind(self, value: Any, prefix: str) -> Any:
        if not isinstance(value, Expr) or value.op == "var":
            return value
        name = f"{prefix}{len(self.assignments)}"
        self.assignments.append((name, value))
        return var(name)


def _trace(network: Network, convention: str) -> _Trace:
    namer = _Namer()
    checks: list[Any] = []
    alpha, height, width = var("alpha"), var("H"), var("W")
    channels = namer.bind(resolve_width(network.input_channels, alpha, 0), "c")
    produced: dict[str, tuple] = {INPUT: (channels, height, width)}
    shapes, groups, skips = [], [], []
    metrics: dict[str, list[Any]] = {metric: [] for metric in METRICS}
    flops_metric = f"flops:{convention}"
    for node in network.nodes:
        inputs = tuple(produced[ref] for ref in node.inputs)
        context = ShapeContext(node, alpha, produced)
        output, group = shape_rule(type(node.op))(node.op, inputs, context)
        checks.extend(context.requirements)
        output = tuple(namer.bind(dim, "d") for dim in output)
        group = namer.bind(group, "g")
        skip = namer.bind(context.skip, "s")
        produced[node.name] = output
        shapes.append(output)
        groups.append(group)
        skips.append(skip)
        resolved = NodeShapes(node, inputs, output, group, False)
        for metric in METRICS:
            name = flops_metric if metric == "flops" else metric
            value = select(skip, 0, formula_for(name, type(node.op))(node.op, resolved))
            metrics[metric].append(namer.bind(value, metric[0]))
    elements = namer.bind(numel(produced[INPUT]), "e")
    return _Trace(namer.assignments, checks, shapes, groups, skips, metrics, elements)


def _live(network: Network, trace: _Trace) -> list[Any]:
    """Per step, the change of live memory: buffers that start minus buffers that ended the step before."""
    starting: dict[int, list[Any]] = {}
    ending: dict[int, list[Any]] = {}
    for interval in buffer_plan(network):
        size: Any = trace.input_elements if interval.source < 0 else numel(trace.shapes[interval.source])
        if interval.unless_skipped:
            size = select(trace.skips[interval.source], 0, size)
        starting.setdefault(interval.first, []).append(size)
        ending.setdefault(interval.last, []).append(size)
    deltas = []
    for step in range(len(network.nodes)):
        deltas.append(sum(starting.get(step, []), 0) - sum(ending.get(step - 1, []), 0))
    return deltas


class _Emitter:
    """Renders assignments, hoisting every compound subexpression used more than once into a local."""

    def __init__(self, expressions: list[Any], dialect: str):
        self.dialect = dialect
        self.lines: list[str] = []
        self.names: dict[tuple, str] = {}
        self.uses: dict[tuple, int] = {}
        self.aliases: dict[str, str] = {}
        for expression in expressions:
            self._count(expression)

    def _count(self, value: Any) -> None:
        if isinstance(value, Expr) and value.op != "var":
            key = value.key()
            self.uses[key] = self.uses.get(key, 0) + 1
            if self.uses[key] == 1:
                for arg in value.args:
                    self._count(arg)

    def lower(self, value: Any) -> Any:
        if not isinstance(value, Expr):
            return value
        if value.op == "var":
            return var(self.aliases.get(value.args[0], value.args[0]))
        key = value.key()
        if key in self.names:
            return var(self.names[key])
        lowered = Expr(value.op, tuple(self.lower(arg) for arg in value.args))
        if self.uses.get(key, 0) > 1:
            name = f"x{len(self.names)}"
            self.lines.append(f"    {name} = {render(lowered, self.dialect)}")
            self.names[key] = name
            return var(name)
        return lowered

    def assign(self, name: str, value: Any) -> None:
        lowered = self.lower(value)
        if isinstance(lowered, Expr) and lowered.op == "var":
            self.aliases[name] = lowered.args[0]       # no copy: later uses of ``name`` read the same local
            return
        self.lines.append(f"    {name} = {render(lowered, self.dialect)}")
        if isinstance(value, Expr):
            self.names.setdefault(value.key(), name)

    def render(self, value: Any) -> str:
        return render(self.lower(value), self.dialect)


def _tuple(values: list[Any], emitter: _Emitter) -> str:
    return "(" + ", ".join(emitter.render(value) for value in values) + ("," if len(values) == 1 else "") + ")"


def _source(network: Network, convention: str, dialect: str) -> str:
    """The Python source of the compiled evaluator (see ``compile_network``)."""
    trace = _trace(network, convention)
    deltas = _live(network, trace)
    checks: list[Any] = []
    seen: set = set()
    for check in trace.checks:
        if check.key() not in seen:
            seen.add(check.key())
            checks.append(check)
    condition: Any = True
    for check in checks:
        condition = both(condition, check)
    expressions = [value for _, value in trace.assignments] + [condition] + deltas
    emitter = _Emitter(expressions, dialect)
    for name, value in trace.assignments:
        emitter.assign(name, value)
    lines = ["def evaluate(alpha, H, W):"] + emitter.lines
    emitter.lines = lines
    if condition is not True:
        lines.append(f"    _check({emitter.render(condition)})")
    lines += ["    live = 0", "    peak = -1", "    peak_step = 0"] if dialect == "python" else \
        ["    live = 0", "    peak = 0"]
    for step, delta in enumerate(deltas):
        if not (isinstance(delta, int) and delta == 0):
            lines.append(f"    live = live + {emitter.render(delta)}")
        if dialect == "python":
            lines.append(f"    if live > peak: peak = live; peak_step = {step}")
        else:
            lines.append("    peak = _np.maximum(peak, live)")
    if dialect == "python":
        shapes = "(" + ", ".join(_tuple(list(shape), emitter) for shape in trace.shapes) + ",)"
        metrics = ", ".join(_tuple(trace.metrics[metric], emitter) for metric in METRICS)
        lines.append(f"    return ({emitter.render(trace.input_elements)}, {shapes}, {_tuple(trace.groups, emitter)}, "
                     f"{_tuple(trace.skips, emitter)}, ({metrics}), peak, peak_step)")
    else:
        for metric in METRICS:
            terms = [emitter.render(value) for value in trace.metrics[metric]
                     if not (isinstance(value, int) and value == 0)]
            lines.append(f"    total_{metric} = " + (" + ".join(terms) if terms else "0"))
        lines.append("    return total_params, total_madds, total_flops, total_memory_access, peak")
    return "\n".join(lines) + "\n"


def _check_scalar(condition: Any) -> None:
    if not condition:
        raise Fallback()


def compile_network(network: Network, convention: str, dialect: str = "python") -> Callable[..., Any]:
    """The compiled evaluator of ``network`` under ``convention``: ``dialect="python"`` counts one setting
    ``evaluate(alpha, H, W)``; ``"numpy"`` counts arrays of settings and reports failed checks through the
    returned function's ``failed`` mask. Cached on the network."""
    key = ("compiled", convention, dialect)
    function = network.derived.get(key)
    if function is not None:
        return function
    source = _source(network, convention, dialect)
    namespace: dict[str, Any] = {}
    if dialect == "python":
        namespace["_check"] = _check_scalar
        exec(compile(source, f"<costmodel {network.name} {convention}>", "exec"), namespace)
        function = namespace["evaluate"]
    else:
        import numpy

        namespace["_np"] = numpy
        exec(compile(source, f"<costmodel {network.name} {convention} numpy>", "exec"), namespace)
        raw = namespace["evaluate"]

        def function(alpha: Any, height: Any, width: Any) -> tuple[Any, ...]:
            failed = [False]

            def check(condition: Any) -> None:
                failed[0] = failed[0] | ~numpy.asarray(condition, dtype=bool)

            namespace["_check"] = check
            totals = raw(alpha, height, width)
            return totals + (failed[0],)

    network.derived[key] = function
    return function
