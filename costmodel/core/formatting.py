"""Formatting at the edges: units for people (K/M/G, kB/MB/GB, decimal), and one table type rendered as aligned
text, Markdown or CSV. Counts stay exact integers until they reach these functions."""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any

from .errors import CostModelError

_PREFIXES = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on (escape sequences, carriage returns, other controls)
    shown escaped, as Python writes it in a string: ``\x1b[2J`` stays visible and harmless."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _non_finite(value: Any, where: str = "") -> "str | None":
    """Where in a JSON document the first NaN or infinity is (``latency.total_ms``), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "the document"
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, (list, tuple)) else ()
    for key, item in items:
        found = _non_finite(item, f"{where}.{key}" if where else str(key))
        if found:
            return found
    return None


def json_text(document: Any) -> str:
    """``document`` as strict JSON text (indented, ending in a newline): a NaN or an infinity, which JSON cannot
    hold, is an error rather than the ``NaN`` / ``Infinity`` that strict parsers refuse.

    :param document: dicts, lists, strings, numbers, booleans and None.
    :returns: the JSON text.
    :raises CostModelError: one line naming where the value that is not finite is.
    """
    try:
        return json.dumps(document, indent=2, allow_nan=False) + "\n"
    except ValueError:
        raise CostModelError(f"cannot write JSON: {_non_finite(document)} is not a finite number "
                             "(JSON holds no NaN or infinity)") from None


def si(value: float, digits: int = 2) -> str:
    """``325400448 -> '325.40M'`` (decimal prefixes K, M, G, T)."""
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f}{prefix}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def si_bytes(value: int, digits: int = 2) -> str:
    """``4816896 -> '4.82 MB'`` (decimal: 1 MB = 10^6 bytes)."""
    for scale, prefix in _PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f} {'k' if prefix == 'K' else prefix}B"
    return f"{value} B"


def grouped(value: int) -> str:
    """``325400448 -> '325,400,448'``."""
    return f"{value:,}"


def echoed(value: object) -> str:
    """``value`` as a message repeats it: its repr, or for an integer past 10^30 its order of magnitude (``about
    10^400``): an integer of more than 4,300 digits has no repr."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        return f"{'-' if value < 0 else ''}about 10^{int(abs(value).bit_length() * 0.30103)}"
    return repr(value)


def percent(fraction: float) -> str:
    """``0.948574 -> '94.86%'``."""
    return f"{100 * fraction:.2f}%"


@dataclass
class Table:
    """Rows of strings under column titles; ``align`` holds 'l' or 'r' per column (default: first left, rest
    right)."""

    columns: tuple[str, ...]
    rows: list[tuple[str, ...]] = field(default_factory=list)
    align: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.align:
            self.align = ("l",) + ("r",) * (len(self.columns) - 1)

    def add(self, *cells: object) -> None:
        if len(cells) != len(self.columns):
            raise ValueError(f"row has {len(cells)} cells for {len(self.columns)} columns")
        self.rows.append(tuple(str(cell) for cell in cells))

    def _shown(self) -> list[tuple[str, ...]]:
        return [tuple(printable(cell) for cell in row) for row in self.rows]

    def text(self) -> str:
        """Columns padded to their widest cell, two spaces apart, a rule under the titles."""
        rows = self._shown()
        widths = [max(len(cell) for cell in column) for column in zip(self.columns, *rows)]

        def line(cells: tuple[str, ...]) -> str:
            padded = (cell.ljust(width) if how == "l" else cell.rjust(width)
                      for cell, width, how in zip(cells, widths, self.align))
            return "  ".join(padded).rstrip()

        rule = "  ".join("-" * width for width in widths)
        return "\n".join([line(self.columns), rule] + [line(row) for row in rows]) + "\n"

    def markdown(self) -> str:
        """A GitHub-flavoured Markdown table; ``|`` in a cell is escaped."""
        def line(cells: tuple[str, ...]) -> str:
            return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

        rule = "|" + "|".join("---:" if how == "r" else "---" for how in self.align) + "|"
        return "\n".join([line(self.columns), rule] + [line(row) for row in self._shown()]) + "\n"

    def csv(self) -> str:
        """RFC 4180 CSV with a header row and ``\\n`` line ends."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return buffer.getvalue()
