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
from typing import Any

import numpy as np

from .symbolic import SIZE, WIDTH, Expr, select, topological
from .trace import Trace

EXACT_FLOAT = 2.0 ** 53
EXACT_INT64 = 2.0 ** 63 - 2.0 ** 12
ONE = -1                          # the key of the factor 1 (a term that does not depend on that side)

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


class GridProgram:
    """A trace separated once; ``evaluate`` counts it over any grid of alphas and sizes."""

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
        self.width_checks, self.size_checks = [], []
        for check in trace.checks:
            if check.deps == WIDTH:
                self.width_checks.append(check)
            elif check.deps == SIZE:
                self.size_checks.append(check)
            else:
                raise NotSeparable("a requirement on width and size together")
        self.steps = self._steps(separator)

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

    def evaluate(self, alphas: "np.ndarray", heights: "np.ndarray", widths: "np.ndarray", batch: int
                 ) -> tuple[dict[str, Any], Any, "np.ndarray", "np.ndarray"]:
        """(each metric's totals and the peak, as (alphas x sizes) arrays of exact integers; and the failed-check
        masks over alphas and over sizes)."""
        width_values = _evaluate(self._factors(self.width_factors), {"alpha": alphas}, len(alphas))
        size_values = _evaluate(self._factors(self.size_factors),
                                {"H": heights, "W": widths, "N": np.full(len(heights), float(batch))},
                                len(heights))
        failed_alpha = _failures(self.width_checks, {"alpha": alphas}, len(alphas))
        failed_size = _failures(self.size_checks, {"H": heights, "W": widths,
                                                   "N": np.full(len(heights), float(batch))}, len(heights))
        totals = {metric: _total(column, width_values, size_values) for metric, column in self.metrics.items()}
        peak = None
        for column in self.steps:
            live = _total(column, width_values, size_values)
            peak = live if peak is None else np.maximum(peak, live)
        return totals, peak, failed_alpha, failed_size


def _contains(big: Terms, small: Terms) -> bool:
    """Every term of ``small`` is in ``big`` at least as often, and all coefficients are positive, so ``big`` is at
    least ``small`` wherever the factors are non-negative (sizes and widths are)."""
    if len(small) > len(big) or any(coef < 0 for coef in big.values()) or any(c < 0 for c in small.values()):
        return False
    return all(big.get(key, 0) >= coef for key, coef in small.items())


_UFUNCS = {"+": np.add, "-": np.subtract, "*": np.multiply, "//": np.floor_divide, "/": np.true_divide,
           "%": np.remainder, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
           "==": np.equal, "!=": np.not_equal, "and": np.logical_and, "maximum": np.maximum}
_SCALAR = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "//": lambda a, b: a // b,
           "/": lambda a, b: a / b, "%": lambda a, b: a % b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
           ">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b,
           "!=": lambda a, b: a != b, "and": lambda a, b: a and b, "maximum": max}


def _bound(op: str, bounds: list[float], args: tuple) -> float:
    """An upper bound on the magnitude of ``op`` of values bounded by ``bounds``."""
    if op in ("+", "-"):
        return bounds[0] + bounds[1]
    if op == "*":
        return bounds[0] * bounds[1]
    if op == "//":
        return bounds[0] + 1
    if op == "/":
        divisor = args[1]
        return bounds[0] / abs(divisor) if not isinstance(divisor, Expr) and divisor else math.inf
    if op == "%":
        return bounds[1]
    if op in ("floor_int", "round_even"):
        return bounds[0] + 1
    if op in ("maximum", "select"):
        return max(bounds[-2:])
    return 1.0          # comparisons and logic


def _evaluate(factors: list[Any], env: dict[str, "np.ndarray"], length: int) -> "np.ndarray":
    """Each factor's value at every point: a (points x factors) array of exact integers (float64 when every
    intermediate value is bounded below 2^53, else Python integers)."""
    order = topological(factors)
    values: dict[int, Any] = {}
    bounds: dict[int, float] = {}
    exact = True
    for expr in order:
        if expr.op == "var":
            value = env[expr.args[0]]
            values[expr.id], bounds[expr.id] = value, float(np.max(np.abs(value))) if length else 0.0
            continue
        args = [values[arg.id] if isinstance(arg, Expr) else arg for arg in expr.args]
        arg_bounds = [bounds[arg.id] if isinstance(arg, Expr) else abs(float(arg)) for arg in expr.args]
        bound = _bound(expr.op, arg_bounds, expr.args)
        bounds[expr.id] = bound
        if bound >= EXACT_FLOAT:
            exact = False
            break
        op = expr.op
        if op == "floor_int":
            values[expr.id] = np.floor(args[0])
        elif op == "round_even":
            values[expr.id] = np.rint(args[0])
        elif op == "not":
            values[expr.id] = np.logical_not(args[0])
        elif op == "select":
            values[expr.id] = np.where(args[0], args[1], args[2])
        else:
            values[expr.id] = _UFUNCS[op](args[0], args[1])
    if exact:
        columns = [np.broadcast_to(np.asarray(values[f.id] if isinstance(f, Expr) else f, dtype=np.float64),
                                   (length,)) for f in factors]
        return np.stack(columns, axis=1) if columns else np.zeros((length, 0))
    return _evaluate_exact(factors, order, env, length)


def _evaluate_exact(factors: list[Any], order: list[Expr], env: dict[str, "np.ndarray"], length: int
                    ) -> "np.ndarray":
    """Python's own arithmetic, point by point: exact at any size."""
    result = np.empty((length, len(factors)), dtype=object)
    for point in range(length):
        values: dict[int, Any] = {}
        for expr in order:
            if expr.op == "var":
                value = env[expr.args[0]][point]
                values[expr.id] = float(value) if expr.args[0] == "alpha" else int(value)
                continue
            args = [values[arg.id] if isinstance(arg, Expr) else arg for arg in expr.args]
            op = expr.op
            if op == "floor_int":
                values[expr.id] = int(args[0])
            elif op == "round_even":
                values[expr.id] = round(args[0])
            elif op == "not":
                values[expr.id] = not args[0]
            elif op == "select":
                values[expr.id] = args[1] if args[0] else args[2]
            else:
                values[expr.id] = _SCALAR[op](args[0], args[1])
        for j, factor in enumerate(factors):
            result[point, j] = int(values[factor.id]) if isinstance(factor, Expr) else factor
    return result


def _failures(checks: list[Any], env: dict[str, "np.ndarray"], length: int) -> "np.ndarray":
    """True where any of ``checks`` fails."""
    failed = np.zeros(length, dtype=bool)
    if checks:
        values = _evaluate([select(check, 1, 0) for check in checks], env, length)
        failed = np.any(values == 0, axis=1)
    return failed


def _width_part(parts: tuple[tuple[int, int], ...], width_values: "np.ndarray") -> "np.ndarray":
    indices = [w for w, _ in parts]
    coefs = np.array([c for _, c in parts], dtype=width_values.dtype)
    return width_values[:, indices] @ coefs


def _total(column: Column, width_values: "np.ndarray", size_values: "np.ndarray") -> Any:
    """``sum over parts of (width part) x (size factor)`` over the grid, exactly."""
    if not column.parts:
        return np.zeros((width_values.shape[0], size_values.shape[0]), dtype=np.int64)
    sizes = [s for s, _ in column.parts]
    objects = width_values.dtype == object or size_values.dtype == object
    if objects:
        left = np.stack([_width_part(parts, width_values) for _, parts in column.parts], axis=1)
        return left.astype(object) @ size_values[:, sizes].T.astype(object)
    bound_w = np.array([sum(abs(c) * float(np.max(np.abs(width_values[:, w]), initial=0.0)) for w, c in parts)
                        for _, parts in column.parts])
    if bound_w.max(initial=0.0) >= EXACT_FLOAT:
        return _total(column, width_values.astype(object), size_values.astype(object))
    left = np.stack([_width_part(parts, width_values) for _, parts in column.parts], axis=1)
    right = size_values[:, sizes].T
    bound = float(bound_w @ np.max(np.abs(right), axis=1, initial=0.0))
    if bound < EXACT_FLOAT:
        return (left @ right).astype(np.int64)
    if bound < EXACT_INT64:
        return left.astype(np.int64) @ right.astype(np.int64)
    return left.astype(np.int64).astype(object) @ right.astype(np.int64).astype(object)
