"""Symbolic integer arithmetic: the same shape rules and cost formulas that count one network at one setting also
run, on these expressions, to trace the network once (``trace``); the trace is then compiled to straight-line
Python (``compiled``) or evaluated over whole grids of settings (``grid``). There is one formula per (metric, op);
this module only lets it run on symbols.

The helpers ``floor_int``, ``maximum``, ``gcd``, ``select``, ``round_even``, ``both`` and ``negate`` are what rules
use instead of ``int``, ``max``, ``math.gcd``, ``x if c else y``, ``round``, ``and`` and ``not``: on Python numbers
they are exactly those; on an ``Expr`` they build a node of the expression. ``four_digits`` is ``%.3e`` read back
(fvcore's einsum count).

Expressions are hash-consed: building the same expression twice gives the same object, so structural equality is
identity and a trace is a DAG with no duplicate subexpressions. Each expression records which kinds of variables it
depends on (``WIDTH``: alpha; ``SIZE``: the input's height, width and batch), which is what lets ``grid`` split a
count into a width part times a size part.
"""
from __future__ import annotations

import itertools
import math
import weakref
from typing import TYPE_CHECKING, Any, Iterable

WIDTH = 1       # depends on alpha
SIZE = 2        # depends on the input size or the batch

_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")
_BINARY = {"+": "__add__", "-": "__sub__", "*": "__mul__", "//": "__floordiv__", "/": "__truediv__",
           "%": "__mod__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__", "==": "__eq__",
           "!=": "__ne__"}

_TABLE: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()
_IDS = itertools.count()


class Expr:
    """A node of an integer expression: a variable, an operator or a helper call on other nodes and constants.
    Create them with ``var`` and the operators and helpers, never directly."""

    __slots__ = ("op", "args", "id", "deps", "__weakref__")

    op: str
    args: tuple
    id: int
    deps: int

    def __bool__(self) -> bool:
        raise TypeError("a symbolic expression has no truth value; use select()")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Expr({self.op}, {self.args!r})" if self.op != "var" else f"var({self.args[0]!r})"

    if TYPE_CHECKING:       # installed by ``_install_operators``: every operator makes an expression
        def __add__(self, other: Any) -> "Expr": ...
        def __radd__(self, other: Any) -> "Expr": ...
        def __sub__(self, other: Any) -> "Expr": ...
        def __rsub__(self, other: Any) -> "Expr": ...
        def __mul__(self, other: Any) -> "Expr": ...
        def __rmul__(self, other: Any) -> "Expr": ...
        def __floordiv__(self, other: Any) -> "Expr": ...
        def __rfloordiv__(self, other: Any) -> "Expr": ...
        def __truediv__(self, other: Any) -> "Expr": ...
        def __rtruediv__(self, other: Any) -> "Expr": ...
        def __mod__(self, other: Any) -> "Expr": ...
        def __rmod__(self, other: Any) -> "Expr": ...
        def __lt__(self, other: Any) -> "Expr": ...
        def __le__(self, other: Any) -> "Expr": ...
        def __gt__(self, other: Any) -> "Expr": ...
        def __ge__(self, other: Any) -> "Expr": ...
        def __neg__(self) -> "Expr": ...


def _key(value: Any) -> Any:
    return value.id if isinstance(value, Expr) else (type(value).__name__, value)


def make(op: str, args: tuple, deps: int = 0) -> Expr:
    """The one expression ``op(*args)`` (hash-consed)."""
    key = (op,) + tuple(_key(arg) for arg in args)
    found = _TABLE.get(key)
    if found is not None:
        return found
    expr = Expr.__new__(Expr)
    expr.op, expr.args, expr.id = op, args, next(_IDS)
    for arg in args:
        if isinstance(arg, Expr):
            deps |= arg.deps
    expr.deps = deps
    _TABLE[key] = expr
    return expr


def var(name: str, kind: int = 0) -> Expr:
    """A variable; ``kind`` is WIDTH or SIZE."""
    return make("var", (name,), kind)


def is_symbolic(*values: Any) -> bool:
    return any(isinstance(value, Expr) for value in values)


def _const(value: Any, number: Any) -> bool:
    return not isinstance(value, Expr) and value == number


def _binary(op: str, a: Any, b: Any) -> Any:
    """``a <op> b`` where at least one side is an Expr, with the trivial simplifications folded."""
    a_const, b_const = not isinstance(a, Expr), not isinstance(b, Expr)
    if op == "*":
        if _const(a, 0) or _const(b, 0):
            return 0
        if _const(a, 1):
            return b
        if _const(b, 1):
            return a
    if op == "//":
        if _const(b, 1):
            return a
        if a is b:
            return 1
    if op == "%" and (_const(b, 1) or a is b):
        return 0
    if op == "+" and _const(a, 0):
        return b
    if op in ("+", "-") and b_const:
        if b == 0:
            return a
        # (x + c1) + c2, (x - c1) - c2, ...: one constant
        if not a_const and a.op in ("+", "-") and not isinstance(a.args[1], Expr):
            inner = a.args[1] if a.op == "+" else -a.args[1]
            total = inner + b if op == "+" else inner - b
            if total == 0:
                return a.args[0]
            return make("+", (a.args[0], total)) if total > 0 else make("-", (a.args[0], -total))
    if op in ("==", "<=", ">=") and a is b:
        return True
    if op in ("!=", "<", ">") and a is b:
        return False
    return make(op, (a, b))


def _install_operators() -> None:
    for op, name in _BINARY.items():
        setattr(Expr, name, lambda self, other, op=op: _binary(op, self, other))
        if op not in _COMPARISONS:
            setattr(Expr, "__r" + name[2:], lambda self, other, op=op: _binary(op, other, self))
    setattr(Expr, "__neg__", lambda self: _binary("-", 0, self))


_install_operators()


def floor_int(x: Any) -> Any:
    """``int(x)`` of a non-negative number (truncation is floor there)."""
    return make("floor_int", (x,)) if isinstance(x, Expr) else int(x)


def round_even(x: Any) -> Any:
    """Python's ``round(x)``: to the nearest integer, halves to even."""
    return make("round_even", (x,)) if isinstance(x, Expr) else round(x)


def four_digits(x: Any) -> Any:
    """``x`` rounded to 4 significant decimal digits, as printf's ``%.3e`` prints it (halves to even), as a
    float: numpy's einsum cost as fvcore reads it."""
    return make("four_digits", (x,)) if isinstance(x, Expr) else float(f"{x:.3e}")


def maximum(a: Any, b: Any) -> Any:
    if is_symbolic(a, b):
        return b if a is b else make("maximum", (a, b))
    return max(a, b)


def gcd(a: Any, b: Any) -> Any:
    """The greatest common divisor of two non-negative integers."""
    if is_symbolic(a, b):
        return a if a is b else make("gcd", (a, b))
    return math.gcd(a, b)


def select(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true if condition else if_false``."""
    if isinstance(condition, Expr):
        if if_true is if_false or (not is_symbolic(if_true, if_false) and type(if_true) is type(if_false)
                                   and if_true == if_false):
            return if_true
        return make("select", (condition, if_true, if_false))
    return if_true if condition else if_false


def negate(condition: Any) -> Any:
    """Logical not."""
    if isinstance(condition, Expr):
        return condition.args[0] if condition.op == "not" else make("not", (condition,))
    return not condition


def both(a: Any, b: Any) -> Any:
    """Logical and."""
    for x, y in ((a, b), (b, a)):
        if not isinstance(x, Expr):
            return y if x else False
    return a if a is b else make("and", (a, b))


def conjuncts(condition: Any) -> list[Any]:
    """The terms of a conjunction (``both(a, both(b, c))`` -> ``[a, b, c]``)."""
    terms, stack = [], [condition]
    while stack:
        value = stack.pop()
        if isinstance(value, Expr) and value.op == "and":
            stack.extend(reversed(value.args))
        else:
            terms.append(value)
    return terms


def topological(roots: Iterable[Any]) -> list[Expr]:
    """Every expression ``roots`` reach, each after its arguments (creation order is such an order)."""
    seen: dict[int, Expr] = {}
    stack = [root for root in roots if isinstance(root, Expr)]
    while stack:
        expr = stack.pop()
        if expr.id in seen:
            continue
        seen[expr.id] = expr
        stack.extend(arg for arg in expr.args if isinstance(arg, Expr) and arg.id not in seen)
    return [seen[key] for key in sorted(seen)]
