"""Counts over a whole grid of widths and input sizes at once, from a network's trace (``trace``).

Every count separates into a width part and a size part: a convolution's mult-adds are
``(k_h k_w C_in(alpha) C_out(alpha) / g) x (N H_out(r) W_out(r))``, a tensor's elements ``C(alpha) x N H(r) W(r)``,
and the rounding rules act on one factor each. So ``separate`` writes each metric's network total as a sum of
terms ``coef x w(alpha) x s(r)``; over a grid of alphas and sizes the total is then one matrix product,
``(alphas x width factors) @ (size factors x sizes)``. Conditions split the same way: a residual that applies when
the channels (alpha) and the maps (r) match contributes ``[channels match] x [maps match]``. The activation memory
live at a step is such a sum too (which buffers are live is fixed by the graph), so the peak is a running maximum
over the steps of small matrix products, after dropping the steps another step dominates.

Exactness. Factors are evaluated with NumPy in float64 while a bound on every intermediate value stays below 2^53
(there, float64 integer arithmetic is exact, and the float arithmetic of the rounding rules is Python's own); the
products run in float64 (BLAS) below 2^53, in int64 below 2^63, and in Python integers beyond. A network whose
counts do not separate (``NotSeparable``) is counted point by point by the caller.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..core.symbolic import SIZE, WIDTH, Expr, four_digits, select, topological
from .trace import Trace

EXACT_FLOAT = 2.0 ** 53
EXACT_INT64 = 2.0 ** 63 - 2.0 ** 12
ONE = -1                          # the key of the factor 1 (a term that does not depend on that side)

Operand = tuple[str, Any]       # ("v", the slot of an earlier step) or ("c", a constant)
Terms = dict  # {(width factor key, size factor key): coefficient}; a key is an expression id, or ONE


class NotSeparable(Exception):
    """A count that is not a sum of width-part x size-part products."""


def _merge(into: Terms, terms: Terms, sign: int = 1) -> None:
    for key, coef in terms.items():
        total = into.get(key, 0) + sign * coef
        if total:
            into[key] = total
        else:
            into.pop(key, None)


class Separator:
    """Writes expressions as sums of width-part x size-part terms (memoized per expression). ``factors`` maps each
    factor key to its expression."""

    def __init__(self) -> None:
        self.memo: dict[int, Terms] = {}
        self.factors: dict[int, Expr] = {}

    def key(self, factor: Expr) -> int:
        self.factors[factor.id] = factor
        return factor.id

    def times(self, a: int, b: int) -> int:
        """The key of the product of two factors (in a canonical order, so equal products are one expression)."""
        if a == ONE:
            return b
        if b == ONE:
            return a
        first, second = sorted((a, b))
        return self.key(self.factors[first] * self.factors[second])

    def product(self, left: Terms, right: Terms) -> Terms:
        result: Terms = {}
        for (w1, s1), c1 in left.items():
            for (w2, s2), c2 in right.items():
                _merge(result, {(self.times(w1, w2), self.times(s1, s2)): c1 * c2})
        return result

    def terms(self, value: Any) -> Terms:
        if not isinstance(value, Expr):
            if isinstance(value, bool) or not isinstance(value, int):
                raise NotSeparable(f"constant {value!r}")
            return {(ONE, ONE): value} if value else {}
        found = self.memo.get(value.id)
        if found is not None:
            return found
        if value.deps == WIDTH:
            result: Terms = {(self.key(value), ONE): 1}
        elif value.deps == SIZE:
            result = {(ONE, self.key(value)): 1}
        elif value.op == "+":
            result = dict(self.terms(value.args[0]))
            _merge(result, self.terms(value.args[1]))
        elif value.op == "-":
            result = dict(self.terms(value.args[0]))
            _merge(result, self.terms(value.args[1]), -1)
        elif value.op == "*":
            result = self.product(self.terms(value.args[0]), self.terms(value.args[1]))
        elif value.op == "select":
            condition, if_true, if_false = value.args
            indicator = self.indicator(condition)
            result = self.product(indicator, self.terms(if_true))
            otherwise = {(ONE, ONE): 1}
            _merge(otherwise, indicator, -1)
            _merge(result, self.product(otherwise, self.terms(if_false)))
        else:
            raise NotSeparable(f"{value.op} of width and size")
        self.memo[value.id] = result
        return result

    def indicator(self, condition: Any) -> Terms:
        """1 where ``condition`` holds, 0 elsewhere, as terms."""
        if not isinstance(condition, Expr):
            return {(ONE, ONE): 1} if condition else {}
        if condition.deps == WIDTH:
            return {(self.key(select(condition, 1, 0)), ONE): 1}
        if condition.deps == SIZE:
            return {(ONE, self.key(select(condition, 1, 0))): 1}
        if condition.op == "and":
            return self.product(self.indicator(condition.args[0]), self.indicator(condition.args[1]))
        if condition.op == "not":
            result = {(ONE, ONE): 1}
            _merge(result, self.indicator(condition.args[0]), -1)
            return result
        raise NotSeparable(f"condition {condition.op} of width and size")


@dataclass(frozen=True)
class Column:
    """A sum of terms grouped by size factor: ``parts[i] = (size factor index, [(width factor index, coef)])``."""

    parts: tuple[tuple[int, tuple[tuple[int, int], ...]], ...]


class _Program:
    """Expressions of one kind of variable, compiled once into a flat NumPy function (one operation a line), so
    that an evaluation runs a grid's values through every rule at NumPy speed. A first pass over plain floats
    bounds every intermediate magnitude from the largest input: below 2^53 the float64 evaluation is exact (and
    float64's floor of a quotient of integers is the integer quotient); above, Python's integers are used point
    by point."""

    def __init__(self, outputs: list[Any]):
        order = topological(outputs)
        slot = {expr.id: index for index, expr in enumerate(order)}
        self.steps: list[tuple[str, tuple[Operand, ...]]] = [
            (expr.op, tuple(("v", slot[arg.id]) if isinstance(arg, Expr) else ("c", arg) for arg in expr.args))
            for expr in order]
        self.outputs: list[Operand] = [("v", slot[out.id]) if isinstance(out, Expr) else ("c", out)
                                       for out in outputs]
        lines = ["def run(env):"]
        for index, (op, args) in enumerate(self.steps):
            if op == "var":
                lines.append(f"    v{index} = env[{args[0][1]!r}]")
                continue
            a = [f"v{value}" if kind == "v" else repr(float(value)) for kind, value in args]
            lines.append(f"    v{index} = {_NUMPY[op](*a)}")
        one = "env['_one']"
        lines.append("    return [" + "".join(f"v{value}, " if kind == "v" else f"{one} * {float(value)!r}, "
                                          for kind, value in self.outputs) + "]")
        namespace: dict[str, Any] = {
            "_floor": np.floor, "_rint": np.rint, "_not": np.logical_not, "_and": np.logical_and, "_where": np.where,
            "_maximum": np.maximum, "_remainder": np.remainder, "_gcd": _gcd,
            "_four_digits": np.vectorize(four_digits, otypes=[float])}
        exec(compile("\n".join(lines) + "\n", "<costmodel grid program>", "exec"), namespace)
        self._run: Callable[[dict[str, Any]], list[Any]] = namespace["run"]

        self._bounds: dict[tuple, bool] = {}
        self._out: "np.ndarray | None" = None
        self._one: "np.ndarray | None" = None

    def bounds_ok(self, env: dict[str, "np.ndarray"]) -> bool:
        """Whether every intermediate value stays below 2^53 in magnitude for inputs of these largest magnitudes
        (cached per largest magnitudes)."""
        largest = {name: float(np.abs(value).max(initial=0.0)) for name, value in env.items()}
        key = tuple(sorted(largest.items()))
        if key not in self._bounds:
            bounds: list[float] = []
            ok = True
            for op, args in self.steps:
                bound = largest[args[0][1]] if op == "var" else \
                    _bound(op, [bounds[a] if kind == "v" else abs(float(a)) for kind, a in args], args)
                if bound >= EXACT_FLOAT:
                    ok = False
                    break
                bounds.append(bound)
            if len(self._bounds) > 64:
                self._bounds.clear()
            self._bounds[key] = ok
        return self._bounds[key]

    def run(self, env: dict[str, "np.ndarray"], length: int) -> "np.ndarray":
        """Each output at every point, as an (outputs x points) array of exact integers: float64 when every
        intermediate value is bounded below 2^53, else Python integers."""
        if not self.bounds_ok(env):
            return self._run_exact(env, length)
        if self._out is None or self._out.shape[1] != length:        # kept between runs: no page faults
            self._out, self._one = np.empty((len(self.outputs), length)), np.ones(length)
        for row, value in enumerate(self._run({**env, "_one": self._one})):
            self._out[row] = value
        return self._out

    def _run_exact(self, env: dict[str, "np.ndarray"], length: int) -> "np.ndarray":
        """Python's own arithmetic, point by point: exact at any size."""
        result = np.empty((len(self.outputs), length), dtype=object)
        for point in range(length):
            values: list[Any] = []
            for op, args in self.steps:
                if op == "var":
                    name = args[0][1]
                    value = env[name][point]
                    values.append(float(value) if name == "alpha" else int(value))
                    continue
                a = [values[v] if kind == "v" else v for kind, v in args]
                if op == "floor_int":
                    values.append(int(a[0]))
                elif op == "round_even":
                    values.append(round(a[0]))
                elif op == "four_digits":
                    values.append(four_digits(a[0]))
                elif op == "not":
                    values.append(not a[0])
                elif op == "select":
                    values.append(a[1] if a[0] else a[2])
                else:
                    values.append(_SCALAR[op](a[0], a[1]))
            for row, (kind, value) in enumerate(self.outputs):
                result[row, point] = int(values[value] if kind == "v" else value)
        return result


_NUMPY: dict[str, Callable[..., str]] = {
    **{op: (lambda a, b, op=op: f"{a} {op} {b}") for op in ("+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=")},
    "//": lambda a, b: f"_floor({a} / {b})",
    "%": lambda a, b: f"_remainder({a}, {b})",
    "and": lambda a, b: f"_and({a}, {b})",
    "maximum": lambda a, b: f"_maximum({a}, {b})",
    "gcd": lambda a, b: f"_gcd({a}, {b})",
    "floor_int": lambda a: f"_floor({a})",
    "round_even": lambda a: f"_rint({a})",
    "four_digits": lambda a: f"_four_digits({a})",
    "not": lambda a: f"_not({a})",
    "select": lambda c, a, b: f"_where({c}, {a}, {b})",
}


class GridProgram:
    """A trace separated once; ``evaluate`` counts it over any grid of alphas and sizes.

    Every sum to evaluate (a metric's total, a step's live memory) is a list of slots, one per size factor it
    uses; a slot's width part is a column of ``W @ M`` (width factors at every alpha, times the slots' coefficient
    matrix), and the sum is that slot block times the size factors at every size."""

    def __init__(self, trace: Trace):
        self.trace = trace
        separator = self.separator = Separator()
        self.width_factors: dict[int, int] = {}     # factor key -> column, in first-use order
        self.size_factors: dict[int, int] = {}
        self.metrics: dict[str, Column] = {}
        for metric, values in trace.metrics.items():
            total: Terms = {}
            for value in values:
                _merge(total, separator.terms(value))
            self.metrics[metric] = self._column(total)
        width_checks, size_checks = [], []
        for check in trace.checks:
            if check.deps == WIDTH:
                width_checks.append(select(check, 1, 0))
            elif check.deps == SIZE:
                size_checks.append(select(check, 1, 0))
            else:
                raise NotSeparable("a requirement on width and size together")
        self.steps = self._steps(separator)
        width = self._factors(self.width_factors)
        size = self._factors(self.size_factors)
        self.width_program = _Program(width + width_checks)
        self.size_program = _Program(size + size_checks)
        self.n_width, self.n_size = len(width), len(size)
        self._slots()

    def _column(self, terms: Terms) -> Column:
        by_size: dict[int, list[tuple[int, int]]] = {}
        for (width, size), coef in terms.items():
            w = self.width_factors.setdefault(width, len(self.width_factors))
            s = self.size_factors.setdefault(size, len(self.size_factors))
            by_size.setdefault(s, []).append((w, coef))
        return Column(tuple((s, tuple(parts)) for s, parts in sorted(by_size.items())))

    def _factors(self, keys: dict[int, int]) -> list[Any]:
        return [1 if key == ONE else self.separator.factors[key] for key in keys]

    def _steps(self, separator: Separator) -> list[Column]:
        """The distinct live sets of the execution order, without those another one contains."""
        steps = len(self.trace.outputs)
        starting: list[list[Terms]] = [[] for _ in range(steps)]
        ending: list[list[Terms]] = [[] for _ in range(steps + 1)]
        for interval, size in self.trace.buffers:
            terms = separator.terms(size)
            starting[interval.first].append(terms)
            ending[interval.last + 1].append(terms)
        live: Terms = {}
        snapshots: dict[tuple, Terms] = {}
        for step in range(steps):
            for terms in ending[step]:
                _merge(live, terms, -1)
            for terms in starting[step]:
                _merge(live, terms)
            key = tuple(sorted((w, s, c) for (w, s), c in live.items()))
            snapshots.setdefault(key, dict(live))
        sets = list(snapshots.values())
        kept = [live_set for live_set in sets if not any(
            other is not live_set and _contains(other, live_set) for other in sets)]
        return [self._column(live_set) for live_set in kept]

    def _slots(self) -> None:
        """The coefficient matrix of every slot, and which slots each metric and each group of steps reads."""
        slots: list[tuple[int, tuple[tuple[int, int], ...]]] = []

        def place(column: Column) -> tuple[list[int], list[int]]:
            first = len(slots)
            slots.extend(column.parts)
            return list(range(first, len(slots))), [s for s, _ in column.parts]

        self.metric_slots = {metric: place(column) for metric, column in self.metrics.items()}
        # Steps whose live memory has a single size factor: the peak over them is the largest width part times it.
        # Steps with several size factors are grouped by them, so that a step another one of its group outweighs
        # at every alpha of a grid can be dropped before any product.
        single: dict[int, list[int]] = {}
        groups: dict[tuple[int, ...], list[list[int]]] = {}
        for column in self.steps:
            indices, sizes = place(column)
            if len(sizes) == 1:
                single.setdefault(sizes[0], []).extend(indices)
            elif sizes:
                groups.setdefault(tuple(sizes), []).append(indices)
        self.single_steps = sorted(single.items())
        self.step_groups = sorted(groups.items())
        self.widest = max([len(slots) for slots, _ in self.metric_slots.values()] +
                          [len(sizes) for sizes, _ in self.step_groups] + [1])
        self.coefficients = np.zeros((self.n_width, len(slots)))
        for index, (_, parts) in enumerate(slots):
            for w, coef in parts:
                self.coefficients[w, index] += coef
        self.coefficients_t = np.ascontiguousarray(self.coefficients.T)
        self.abs_coefficients_t = np.abs(self.coefficients_t)

    def evaluate(self, alphas: "np.ndarray", heights: "np.ndarray", widths: "np.ndarray", batch: int
                 ) -> tuple[dict[str, Any], Any, "np.ndarray", "np.ndarray"]:
        """(each metric's totals and the peak, as (alphas x sizes) arrays of exact integers; and the failed-check
        masks over alphas and over sizes)."""
        width_values = self.width_program.run({"alpha": alphas}, len(alphas))            # (factors x alphas)
        size_values = self.size_program.run({"H": heights, "W": widths, "N": np.full(len(heights), float(batch))},
                                            len(heights))                               # (factors x sizes)
        failed_alpha = (width_values[self.n_width:] == 0).any(axis=0)
        failed_size = (size_values[self.n_size:] == 0).any(axis=0)
        factors_w, factors_s = width_values[:self.n_width], size_values[:self.n_size]
        exact = factors_w.dtype == object or factors_s.dtype == object
        if not exact:
            width_max = np.abs(factors_w).max(axis=1, initial=0.0)
            slot_bounds = self.abs_coefficients_t @ width_max
            exact = bool(slot_bounds.max(initial=0.0) >= EXACT_FLOAT)
        if exact:
            parts = _objects(self.coefficients_t) @ _objects(factors_w)
            size_max = slot_bounds = None
        else:
            # (slots x alphas); every partial sum is below 2^53
            parts = np.matmul(self.coefficients_t, factors_w, out=self._work_array("parts", (len(self.coefficients_t),
                                                                                             len(alphas))))
            size_max = np.abs(factors_s).max(axis=1, initial=0.0)

        # One bound for every product below: each sums at most ``widest`` slot x size terms.
        small = size_max is not None and float(slot_bounds.max(initial=0.0)) * float(size_max.max(initial=0.0)) * \
            self.widest < EXACT_FLOAT

        shape = (len(alphas), factors_s.shape[1])
        buffers = self._buffers(shape) if small else None       # reused: fresh big arrays cost page faults

        def product(slots: Any, sizes: Any, part: Any = None, out: Any = None) -> Any:
            left = parts[slots].T if part is None else part      # (alphas x slots)
            right = factors_s[sizes]                             # (slots x sizes)
            if small:
                if left.shape[1] == 1:
                    return np.multiply(left, right, out=out)
                return np.matmul(left, right, out=out)
            if size_max is None:
                return _product(left, right, None, None)
            return _product(left, right, slot_bounds[slots] if part is None else
                            slot_bounds[slots].max(initial=0.0)[None], size_max[sizes])

        if buffers is not None:
            scratch, peak = buffers
            peak.fill(0.0)
            totals = {metric: product(slots, sizes, out=scratch).astype(np.int64)
                      for metric, (slots, sizes) in self.metric_slots.items()}
        else:
            scratch = None
            totals = {metric: _integers(product(slots, sizes)) for metric, (slots, sizes) in self.metric_slots.items()}
            peak = np.zeros(shape)
        for size, slots in self.single_steps:
            peak = _maximum(peak, product(slots, [size], parts[slots].max(axis=0)[:, None], out=scratch))
        for sizes, members in self.step_groups:
            for slots in members:
                peak = _maximum(peak, product(slots, list(sizes), out=scratch))
        return totals, _integers(peak), failed_alpha, failed_size

    def _buffers(self, shape: tuple[int, int]) -> tuple["np.ndarray", "np.ndarray"]:
        """Two float64 work arrays of ``shape``, kept between evaluations of the same grid shape."""
        return self._work_array("scratch", shape), self._work_array("peak", shape)

    def _work_array(self, name: str, shape: tuple[int, int]) -> "np.ndarray":
        """A float64 work array kept between evaluations (a fresh large array costs a page fault every 4 kB)."""
        work = self.__dict__.setdefault("_work", {})
        if name not in work or work[name].shape != shape:
            work[name] = np.empty(shape)
        return work[name]


def _integers(values: "np.ndarray") -> "np.ndarray":
    """Exact integers as a C-ordered int64 array (from float64 or int64), or as Python integers past int64."""
    if values.dtype == object:
        if values.size and max(values.max(), -values.min()) < 2 ** 63:
            return values.astype(np.int64, order="C")
        return np.ascontiguousarray(values)
    return values.astype(np.int64, order="C")


def _contains(big: Terms, small: Terms) -> bool:
    """Every term of ``small`` is in ``big`` at least as often, and all coefficients are positive, so ``big`` is at
    least ``small`` wherever the factors are non-negative (sizes and widths are)."""
    if len(small) > len(big) or any(coef < 0 for coef in big.values()) or any(c < 0 for c in small.values()):
        return False
    return all(big.get(key, 0) >= coef for key, coef in small.items())


def _product(left: "np.ndarray", right: "np.ndarray", left_bound: Any, right_bound: Any) -> "np.ndarray":
    """``left @ right`` exactly: float64 (BLAS) below 2^53, int64 below 2^63, Python integers beyond. The bounds
    are the largest magnitudes of left's columns and right's rows (None: a side holds Python integers)."""
    if left_bound is not None:
        bound = float(np.asarray(left_bound) @ np.asarray(right_bound)) if len(right_bound) else 0.0
        if bound < EXACT_FLOAT:
            return left @ right                       # exact integers in float64
        if bound < EXACT_INT64:
            return left.astype(np.int64) @ right.astype(np.int64)
    return _objects(left) @ _objects(right)


def _objects(values: "np.ndarray") -> "np.ndarray":
    """Exact integers as Python integers (from float64 holding exact integers, int64, or objects)."""
    return values if values.dtype == object else values.astype(np.int64).astype(object)


def _maximum(a: "np.ndarray", b: "np.ndarray") -> "np.ndarray":
    """The element-wise maximum, exactly (float64 holds exact integers below 2^53; beyond, int64 or objects);
    into ``a`` where the types allow."""
    if a.dtype == b.dtype and a.dtype != object:
        return np.maximum(a, b, out=a)
    if a.dtype == object or b.dtype == object:
        return np.maximum(_integers(a).astype(object), _integers(b).astype(object))
    return np.maximum(a.astype(np.int64), b.astype(np.int64))


def _gcd(a: Any, b: Any) -> Any:
    """``gcd`` of float64 arrays holding exact integers (below 2^53), as float64."""
    return np.gcd(np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)).astype(np.float64)


_SCALAR: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "//": lambda a, b: a // b,
    "/": lambda a, b: a / b, "%": lambda a, b: a % b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b, "and": lambda a, b: a and b, "maximum": max, "gcd": math.gcd}


def _bound(op: str, bounds: list[float], args: tuple) -> float:
    """An upper bound on the magnitude of ``op`` of values bounded by ``bounds``."""
    if op in ("+", "-"):
        return bounds[0] + bounds[1]
    if op == "*":
        return bounds[0] * bounds[1]
    if op == "//":
        return bounds[0] + 1
    if op == "/":
        kind, divisor = args[1]
        return bounds[0] / abs(divisor) if kind == "c" and divisor else math.inf
    if op == "%":
        return bounds[1]
    if op in ("floor_int", "round_even"):
        return bounds[0] + 1
    if op == "four_digits":
        return bounds[0] * 1.001
    if op in ("maximum", "select"):
        return max(bounds[-2:])
    if op == "gcd":
        return max(bounds)
    return 1.0          # comparisons and logic
