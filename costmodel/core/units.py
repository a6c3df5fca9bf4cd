"""Quantities with units, as people type them: counts (``150M``), byte sizes (``2MB``, ``1.5GiB``) and times
(``20ms``), read exactly.

A quantity is a decimal number with an optional exponent and a unit, read as an exact ``Decimal`` and scaled by
the unit's exact factor, so that ``0.1G`` is 100,000,000 and never 99,999,999.99: counts take K, M, G, T (powers
of 10), sizes B, kB, MB, GB (powers of 10) and KiB, MiB, GiB (powers of 2), times ms, s and us. Counts and sizes
are whole numbers, rounded down (a limit of 1.5 elements admits 1); times are milliseconds as floats. Every
quantity lies in (0, ``MAX_QUANTITY``] of its unit; a number far past that (``1e999999999``) is refused before any
arithmetic is done on it.
"""
from __future__ import annotations

import math
import re
from decimal import MIN_EMIN, Context, Decimal, InvalidOperation
from typing import Any

from .errors import ParameterError, param
from .formatting import echoed

COUNT, BYTES, TIME = "count", "bytes", "time"
UNITS: dict[str, dict[str, "int | Decimal"]] = {
    COUNT: {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12},
    BYTES: {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30},
    TIME: {"ms": Decimal(1), "s": Decimal(1000), "us": Decimal("0.001")},
}
EXAMPLES = {COUNT: "150M (K, M, G)", BYTES: "2MB (kB, MB, GB, KiB, MiB)", TIME: "20ms (ms, s, us)"}
MAX_QUANTITY = 10**30          # the largest quantity, in its unit (a count, bytes or milliseconds)
MAX_TEXT_LENGTH = 100          # characters of a quantity as typed
_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?\s*([A-Za-z]*)\s*$")


def parse_quantity(value: Any, kind: str, parameter: str) -> Any:
    """A count, a byte size or a time, typed with its unit or given as a number.

    :param value: text such as ``"150M"``, ``"2MB"``, ``"20ms"``; or a number, in the kind's base unit (a count,
        bytes, milliseconds).
    :param kind: ``COUNT``, ``BYTES`` or ``TIME``.
    :param parameter: the name of the parameter ``value`` was given as, for the message.
    :returns: an int (a count or bytes, rounded down) or a float (milliseconds).
    :raises ParameterError: naming ``parameter``, where ``value`` cannot be read or is not in (0, ``MAX_QUANTITY``].
    """
    units, example = UNITS[kind], EXAMPLES[kind]
    bounds = "(0, 1e30]" + {COUNT: "", BYTES: " bytes", TIME: " ms"}[kind]
    shown = echoed(value)
    out_of_bounds = ParameterError(param(parameter), f" must be in {bounds}, like {example}, got {shown}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise ParameterError(param(parameter), f" must be a finite number like {example}, got {shown}")
        if abs(value) > MAX_QUANTITY * 10**10:
            raise out_of_bounds
        number, unit = Decimal(value), ("ms" if kind == TIME else "")          # exact: an int, or a float's value
    else:
        text = str(value)
        if len(text) > MAX_TEXT_LENGTH:
            raise ParameterError(param(parameter), f" is {len(text):,} characters long, more than the limit of "
                                                   f"{MAX_TEXT_LENGTH}: give a number with a unit like {example}")
        match = _QUANTITY.match(text)
        unit = match.group(3).lower() if match else ""
        if not match or unit not in units:
            raise ParameterError(param(parameter), f" must be a number with a unit like {example}, got {shown}")
        try:
            number = Decimal(f"{match.group(1)}e{match.group(2) or 0}")
        except InvalidOperation:       # an exponent past Decimal's own
            raise out_of_bounds from None
        if number.adjusted() > 40:     # far past the limit: no arithmetic on it
            raise out_of_bounds
    scaled = Context(prec=200, Emin=MIN_EMIN).multiply(number, Decimal(units[unit]))   # exact for what is typed
    if not 0 < scaled <= MAX_QUANTITY:
        raise out_of_bounds
    result = float(scaled) if kind == TIME else int(scaled)
    if not result > 0:                 # a count below 1, or a time too small for a float
        raise ParameterError(param(parameter), f" must be more than 0, like {example}, got {shown}")
    return result


def parse_count(value: Any, parameter: str = "count") -> int:
    """A count: ``"150M"`` is 150,000,000 (``parse_quantity`` of a ``COUNT``).

    :param value: a number, or a string with a unit (K, M, G, T).
    :param parameter: the name an error gives.
    :returns: the count, rounded down."""
    return parse_quantity(value, COUNT, parameter)


def parse_bytes(value: Any, parameter: str = "size") -> int:
    """A size in bytes: ``"2MB"`` is 2,000,000 and ``"1KiB"`` 1,024 (``parse_quantity`` of ``BYTES``).

    :param value: a number of bytes, or a string with a unit (B, kB, MB, GB, KiB, MiB, GiB).
    :param parameter: the name an error gives.
    :returns: the bytes, rounded down."""
    return parse_quantity(value, BYTES, parameter)


def parse_milliseconds(value: Any, parameter: str = "time") -> float:
    """A time in milliseconds: ``"20ms"`` is 20.0 and ``"0.5s"`` 500.0 (``parse_quantity`` of a ``TIME``).

    :param value: a number of milliseconds, or a string with a unit (ms, s, us).
    :param parameter: the name an error gives.
    :returns: the milliseconds."""
    return parse_quantity(value, TIME, parameter)
