"""The axes of a sweep or fit grid: ranges as typed (``0.25:1.4:0.05``), counted without being listed, and the
limits on a grid's size, checked from the axes' lengths before any value is made or any network built.

A range's numbers are read as exact decimals (ASCII digits, a point, an exponent) and checked in this order: the
step is positive and the range not reversed; the count, ``floor((stop - start) / step) + 1``, is at most
``MAX_POINTS`` (first to 40 digits, which costs the same whatever the exponents: ``1e-999999999`` as a step is
refused at once); the start and the stop lie in what the axis admits (``scaling``'s bounds: alpha, rho and depth
in (0, 10], resolutions in [1, 8192]). Only then is the count made exact, with integers of a few hundred digits
at most.
"""
from __future__ import annotations

import operator
import re
from collections.abc import Sequence as SequenceABC
from decimal import MAX_EMAX, MIN_EMIN, ROUND_FLOOR, Context, Decimal, Inexact, InvalidOperation
from typing import Any

from .errors import CostModelError, Parameter, ParameterError, param
from .scaling import MAX_ALPHA, MAX_DEPTH, MAX_RESOLUTION, MAX_RHO

MAX_POINTS = 1_000_000       # points of a sweep or fit grid: about 60 bytes a point in the CSV
MAX_DEPTHS = 100             # depths of a grid: a network is built and counted for each
MAX_RANGE_LENGTH = 200       # characters of a range as typed

# what each axis admits: (least, most, least included)
AXES = {"alpha": (0, MAX_ALPHA, False), "rho": (0, MAX_RHO, False), "depth": (0, MAX_DEPTH, False),
        "resolution": (1, MAX_RESOLUTION, True)}
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_EXAMPLE = {"alpha": "0.25:1.4:0.05", "rho": "0.5:1:0.25", "depth": "1:2:0.1", "resolution": "96:320:8"}


def interval(what: str) -> str:
    """The values axis ``what`` admits, as an interval: ``(0, 10]``, ``[1, 8192]``."""
    least, most, closed = AXES[what]
    return f"{'[' if closed else '('}{least:g}, {most:g}]"


class Range(SequenceABC):
    """The values of a range (``START:STOP:STEP``, stop inclusive, or one value), counted without being listed:
    ``len`` is exact at once and the values are made when first read (then kept). Value i is ``start + i x
    step`` in exact decimal arithmetic, then the nearest float (or the integer): ``0.25 + 3 x 0.05`` is the float
    ``0.4``, as typed. Equal to a list, tuple or Range of the same values. Made by ``parse_range``."""

    def __init__(self, text: str, start: int, step: int, exponent: int, length: int, integer: bool):
        """Value i is ``(start + i x step) x 10^exponent`` (integers); ``length`` values."""
        self.text, self.integer = text, integer
        self._start, self._step, self._length = start, step, length
        self._scale = 10 ** abs(exponent)
        self._divide = exponent < 0
        self._values: "tuple[Any, ...] | None" = None

    def __len__(self) -> int:
        return self._length

    def _value(self, index: int) -> Any:
        units = self._start + index * self._step
        if not self._divide:
            exact = units * self._scale
            return exact if self.integer else float(exact)
        return units // self._scale if self.integer else units / self._scale     # int / int: correctly rounded

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._value(i) for i in range(self._length)[index]]
        position = operator.index(index)
        if position < 0:
            position += self._length
        if not 0 <= position < self._length:
            raise IndexError("Range index out of range")
        return self._values[position] if self._values is not None else self._value(position)

    def values(self) -> tuple[Any, ...]:
        """Every value, made once."""
        if self._values is None:
            self._values = tuple(self._value(i) for i in range(self._length))
        return self._values

    def __iter__(self) -> Any:
        return iter(self.values())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, (Range, list, tuple)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Range {self.text!r}: {self._length:,} value{'' if self._length == 1 else 's'}>"


def parse_range(text: str, what: str, integer: bool) -> "Range | list[Any]":
    """``"0.25:1.4:0.05"`` (stop inclusive) or a single value, for the axis ``what`` (``alpha``, ``rho``,
    ``depth`` or ``resolution``; ``integer``: whole numbers), as a ``Range`` of floats (or ints), counted and
    checked without listing it; or a comma list of such (``"0.35,0.5,1"``, ``"96,128:224:32"``) as the list of
    their values in the order given, each once. One line naming the parameter ``what`` where the text is not such a
    range, the count passes ``MAX_POINTS`` or a value lies outside what the axis admits (``interval``)."""
    named = param(what)
    if not isinstance(text, str):
        raise ParameterError(named, f" must be text like {_EXAMPLE[what]}, got {type(text).__name__}")
    if len(text) > MAX_RANGE_LENGTH:
        raise ParameterError(named, f" is {len(text):,} characters long, more than the limit of {MAX_RANGE_LENGTH}: "
                             f"give VALUE or START:STOP:STEP, like {_EXAMPLE[what]}")
    if "," in text:
        listed: list[Any] = []
        seen: set[Any] = set()
        for part in text.split(","):
            if not part.strip():
                raise ParameterError(named, f" has an empty item in its list, got {text!r}")
            part_range = parse_range(part.strip(), what, integer)
            if len(listed) + len(part_range) > MAX_POINTS:
                raise ParameterError(named, f" {text!r} has more than the limit of {MAX_POINTS:,} values")
            for value in part_range:
                if value not in seen:
                    seen.add(value)
                    listed.append(value)
        return listed
    parts = text.split(":")
    if len(parts) not in (1, 3):
        raise ParameterError(named, f" must be VALUE or START:STOP:STEP, got {text!r}")
    numbers = [_number(part, text, named, what) for part in parts]
    if integer and any(number != number.to_integral_value() for number in numbers):
        raise ParameterError(named, f" must be whole numbers of pixels, got {text!r}")
    if len(numbers) == 1:
        start = stop = numbers[0]
        step = Decimal(1)
    else:
        start, stop, step = numbers
        if step <= 0:
            raise ParameterError(named, f" step must be positive, got {text!r}")
        if stop < start:
            raise ParameterError(named, f" range is reversed (stop {stop} < start {start}), got {text!r}")
        _refuse_too_many(start, stop, step, text, named)
    _check_bounds(start, stop, text, named, what)
    # exact, with integers no longer than the text: start and stop are bounded, and a step past both is one value
    exponent = min(_exponent(start), _exponent(stop))
    if stop == start or step.adjusted() > 10:
        length, step_units = 1, 0
    else:
        exponent = min(exponent, _exponent(step))
        step_units = _units(step, exponent)
        length = (_units(stop, exponent) - _units(start, exponent)) // step_units + 1
        if length > MAX_POINTS:
            raise ParameterError(named, f" {text!r} has {length:,} values, more than the limit of {MAX_POINTS:,}")
    return Range(text, _units(start, exponent), step_units, exponent, length, integer)


def _number(part: str, text: str, named: Parameter, what: str) -> Decimal:
    """One number of a range: ASCII digits, a point, an exponent (no underscores, other digits, nan or inf)."""
    stripped = part.strip()
    if not _NUMBER.fullmatch(stripped):
        try:
            finite = Decimal(stripped).is_finite()
        except (InvalidOperation, ValueError):
            finite = True
        if not finite:
            raise ParameterError(named, f" must be finite numbers, got {text!r}")
        raise ParameterError(named, f" must be numbers like {_EXAMPLE[what]} (digits 0-9, a point, an exponent), "
                             f"got {text!r}")
    try:
        return Decimal(stripped)
    except InvalidOperation:           # an exponent past Decimal's own, +-999,999,999,999,999,999
        raise ParameterError(named, f" must be in {interval(what)}, got {text!r}") from None


def _refuse_too_many(start: Decimal, stop: Decimal, step: Decimal, text: str, named: Parameter) -> None:
    """Refuse a range of more than ``MAX_POINTS`` values, worked out to 40 digits rounded down (so never more
    than the true count, and at once whatever the exponents). The count is named exactly where the subtraction
    was exact (the whole part of a quotient rounded down to 40 digits is then exact below 10^39), else to three
    digits."""
    context = Context(prec=40, rounding=ROUND_FLOOR, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])
    difference = context.subtract(stop, start)
    exact = not context.flags[Inexact]
    quotient = context.divide(difference, step)
    if quotient < MAX_POINTS:
        return
    shown = f"{int(quotient) + 1:,}" if exact and quotient.adjusted() < 39 else f"about {quotient:.3g}"
    raise ParameterError(named, f" {text!r} has {shown} values, more than the limit of {MAX_POINTS:,}")


def _check_bounds(start: Decimal, stop: Decimal, text: str, named: Parameter, what: str) -> None:
    """Every value lies between start and stop: both in what the axis admits, as typed and as floats (a positive
    number too small for a float is 0)."""
    least, most, closed = AXES[what]
    low_ok = start >= least if closed else (start > least and float(start) > least)
    if not (low_ok and stop <= Decimal(most)):
        raise ParameterError(named, f" must be in {interval(what)}, got {text!r}")


def _exponent(number: Decimal) -> int:
    """The exponent of ``number``'s last digit (a finite number's)."""
    exponent = number.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _units(number: Decimal, exponent: int) -> int:
    """``number`` as a whole number of ``10^exponent`` (``exponent`` at most the number's own)."""
    sign, digits, own = number.as_tuple()
    assert isinstance(own, int), number            # a finite number: no 'n', 'N' or 'F'
    units = int("".join(map(str, digits)) or "0") * 10 ** (own - exponent)
    return -units if sign else units


def check_grid(depths: Any, alphas: Any, sizes: Any, size_noun: str = "resolution") -> int:
    """The number of points of the grid depths x alphas x sizes (None: an axis not given, one value), from the
    axes' lengths alone: nothing is listed and no network built. One line where an axis is not a sequence or is
    empty, the grid has more than ``MAX_POINTS`` points (naming each axis's length) or more than ``MAX_DEPTHS``
    depths."""
    axes = [(values, noun) for values, noun in ((depths, "depth"), (alphas, "alpha"), (sizes, size_noun))
            if values is not None]
    lengths = []
    for values, noun in axes:
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
            raise CostModelError(f"{noun}s must be a sequence of numbers, got {type(values).__name__}")
        lengths.append(len(values))
    if 0 in lengths:
        raise CostModelError("the sweep grid is empty")
    points = 1
    for length in lengths:
        points *= length
    if points > MAX_POINTS:
        shown = " x ".join(f"{length:,} {noun}{'' if length == 1 else 's'}"
                           for length, (_, noun) in zip(lengths, axes))
        raise CostModelError(f"the grid has {shown} = {points:,} points, more than the limit of {MAX_POINTS:,}")
    if depths is not None and len(depths) > MAX_DEPTHS:
        raise CostModelError(f"the grid has {len(depths):,} depths, more than the limit of {MAX_DEPTHS} (a network "
                             "is built and counted for each depth): give a coarser depth step")
    return points
