"""Symbolic integer arithmetic: the same shape rules and cost formulas that count one network at one setting also
trace, on these expressions, the program that ``compiled`` turns into straight-line Python (one setting) or NumPy
(a whole width x resolution grid). There is one formula per (metric, op); this module only lets it run on symbols.

The helpers ``floor_int``, ``maximum``, ``select`` and ``round_even`` are what rules use instead of ``int``,
``max``, ``x if c else y`` and ``round``: on Python numbers they are exactly those; on NumPy arrays they are the
element-wise equivalents; on an ``Expr`` they build a node of the expression.
"""
from __future__ import annotations

from typing import Any

_BINARY = {"+": "__add__", "-": "__sub__", "*": "__mul__", "//": "__floordiv__", "/": "__truediv__",
           "%": "__mod__", "<": "__lt__", "<=": "__le__", ">": "__gt__", ">=": "__ge__", "==": "__eq__",
           "!=": "__ne__"}
_PRECEDENCE = {"or": 1, "and": 2, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4, "+": 6, "-": 6, "*": 7,
               "//": 7, "/": 7, "%": 7}


class Expr:
    """A node of an integer expression: a variable, a constant, an operator or a helper call."""

    __slots__ = ("op", "args", "_key")

    def __init__(self, op: str, args: tuple):
        self.op = op
        self.args = args
        self._key = None

    def key(self) -> tuple:
        """A structural identity, for simplifying ``x // x`` and for common subexpressions."""
        if self._key is None:
            self._key = (self.op, tuple(a.key() if isinstance(a, Expr) else ("const", type(a).__name__, a)
                                        for a in self.args))
        return self._key

    def __bool__(self) -> bool:
        raise TypeError("a symbolic expression has no truth value; use select()")

    __hash__ = None  # type: ignore[assignment]


def var(name: str) -> Expr:
    return Expr("var", (name,))


def is_symbolic(*values: Any) -> bool:
    return any(isinstance(value, Expr) for value in values)


def _is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "shape")


def _binary(op: str, a: Any, b: Any) -> Any:
    """``a <op> b`` where at least one side is an Expr, with the trivial simplifications folded."""
    a_const, b_const = not isinstance(a, Expr), not isinstance(b, Expr)
    if op == "*":
        if (a_const and a == 0) or (b_const and b == 0):
            return 0
        if a_const and a == 1:
            return b
        if b_const and b == 1:
            return a
    if op == "//" and b_const and b == 1:
        return a
    if op == "//" and not a_const and not b_const and a.key() == b.key():
        return 1
    if op == "%" and ((b_const and b == 1) or (not a_const and not b_const and a.key() == b.key())):
        return 0
    if op == "+" and a_const and a == 0:
        return b
    if op in ("+", "-") and b_const:
        if b == 0:
            return a
        # (x + c1) + c2, (x - c1) - c2, ...: one constant
        if not a_const and a.op in ("+", "-") and not isinstance(a.args[1], Expr):
            inner = a.args[1] if a.op == "+" else -a.args[1]
            total = inner + b if op == "+" else inner - b
            return a.args[0] if total == 0 else Expr("+", (a.args[0], total)) if total > 0 else \
                Expr("-", (a.args[0], -total))
    if op in ("==", "<=", ">=") and not a_const and not b_const and a.key() == b.key():
        return True
    return Expr(op, (a, b))


def _install_operators() -> None:
    for op, name in _BINARY.items():
        setattr(Expr, name, lambda self, other, op=op: _binary(op, self, other))
        if op not in ("<", "<=", ">", ">=", "==", "!="):
            setattr(Expr, "__r" + name[2:], lambda self, other, op=op: _binary(op, other, self))
    Expr.__neg__ = lambda self: Expr("-", (0, self))  # type: ignore[assignment]


_install_operators()


def floor_int(x: Any) -> Any:
    """``int(x)`` of a non-negative number (truncation is floor there)."""
    if isinstance(x, Expr):
        return Expr("floor_int", (x,))
    if _is_array(x):
        import numpy
        return numpy.floor(x).astype(numpy.int64)
    return int(x)


def round_even(x: Any) -> Any:
    """Python's ``round(x)``: to the nearest integer, halves to even."""
    if isinstance(x, Expr):
        return Expr("round_even", (x,))
    if _is_array(x):
        import numpy
        return numpy.rint(x).astype(numpy.int64)
    return round(x)


def maximum(a: Any, b: Any) -> Any:
    if is_symbolic(a, b):
        return Expr("maximum", (a, b))
    if _is_array(a) or _is_array(b):
        import numpy
        return numpy.maximum(a, b)
    return max(a, b)


def _same(a: Any, b: Any) -> bool:
    """Structurally the same value (two equal constants, or two identical expressions)."""
    if isinstance(a, Expr) and isinstance(b, Expr):
        return a.key() == b.key()
    return not isinstance(a, Expr) and not isinstance(b, Expr) and not _is_array(a) and not _is_array(b) and a == b


def select(condition: Any, if_true: Any, if_false: Any) -> Any:
    """``if_true if condition else if_false``."""
    if isinstance(condition, bool):
        return if_true if condition else if_false
    if is_symbolic(condition, if_true, if_false):
        if _same(if_true, if_false):
            return if_true
        return Expr("select", (condition, if_true, if_false))
    if _is_array(condition):
        import numpy
        return numpy.where(condition, if_true, if_false)
    return if_true if condition else if_false


def negate(condition: Any) -> Any:
    """Logical not."""
    if isinstance(condition, Expr):
        return Expr("not", (condition,))
    if _is_array(condition):
        return ~condition
    return not condition


def both(a: Any, b: Any) -> Any:
    """Logical and."""
    for x, y in ((a, b), (b, a)):
        if isinstance(x, bool):
            return y if x else False
    if is_symbolic(a, b):
        return Expr("and", (a, b))
    if _is_array(a) or _is_array(b):
        return a & b
    return a and b


def render(value: Any, dialect: str = "python") -> str:
    """Python source of ``value``: plain Python (``dialect="python"``) or NumPy element-wise (``"numpy"``)."""
    if not isinstance(value, Expr):
        return repr(value)
    op, args = value.op, value.args
    if op == "var":
        return args[0]
    parts = [render(arg, dialect) for arg in args]
    if op in _PRECEDENCE:
        if dialect == "numpy" and op in ("and", "or"):
            return f"(({parts[0]}) {'&' if op == 'and' else '|'} ({parts[1]}))"
        return f"({parts[0]} {op} {parts[1]})"
    if op == "not":
        return f"(not {parts[0]})" if dialect == "python" else f"(~{parts[0]})"
    if dialect == "python":
        if op == "floor_int":
            return f"int({parts[0]})"
        if op == "round_even":
            return f"round({parts[0]})"
        if op == "maximum":
            return f"max({parts[0]}, {parts[1]})"
        if op == "select":
            return f"({parts[1]} if {parts[0]} else {parts[2]})"
    else:
        if op == "floor_int":
            return f"_np.floor({parts[0]}).astype(_np.int64)"
        if op == "round_even":
            return f"_np.rint({parts[0]}).astype(_np.int64)"
        if op == "maximum":
            return f"_np.maximum({parts[0]}, {parts[1]})"
        if op == "select":
            return f"_np.where({parts[0]}, {parts[1]}, {parts[2]})"
    raise ValueError(f"cannot render {op!r}")
