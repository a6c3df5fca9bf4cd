"""Formatting at the edges: units for people (K/M/G, kB/MB/GB, decimal), and one table type rendered as aligned
text, Markdown or CSV. Counts stay exact integers until they reach these functions."""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

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


def counted(count: int, noun: str, plural: "str | None" = None) -> str:
    """``1 setting``, ``2 settings``, ``1,024 layers``: a count with its noun in the number it takes.

    :param count: how many.
    :param noun: the noun for one.
    :param plural: the noun for several (default: ``noun`` + "s").
    :returns: the text."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


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

    def text_within(self, width: int = 100, starts: "Sequence[int]" = ()) -> str:
        """``text()``, or where that is wider than ``width`` columns, the table in parts that each fit: each part
        repeats the first column, and a blank line separates the parts. The columns from each index in ``starts``
        to the next are kept together where they fit (a paper's figure, costmodel's, the difference); a column too
        wide to fit beside the first gets a part of its own without the first column (its cells name their rows,
        as a setting does), the rows in the same order.

        :param width: the most columns a line may take.
        :param starts: the indexes where groups of columns begin (none: each column is its own group).
        :returns: the text."""
        whole = self.text()
        if max(len(line) for line in whole.splitlines()) <= width:
            return whole
        rows = self._shown()
        widths = [max(len(cell) for cell in column) for column in zip(self.columns, *rows)]
        bounds = sorted({1, *(start for start in starts if 1 <= start < len(self.columns))}) + [len(self.columns)]
        groups = [list(range(first, last)) for first, last in zip(bounds, bounds[1:])]
        parts: list[list[int]] = []
        used = widths[0]
        for group in groups:
            for index in group if widths[0] + sum(2 + widths[i] for i in group) > width else [group]:
                columns = index if isinstance(index, list) else [index]
                size = sum(2 + widths[i] for i in columns)
                if parts and used + size <= width:
                    parts[-1].extend(columns)
                    used += size
                else:
                    parts.append(list(columns))
                    used = widths[0] + size
        texts = []
        for part in parts:
            keep = [0, *part] if widths[0] + sum(2 + widths[i] for i in part) <= width else part
            table = Table(tuple(self.columns[i] for i in keep), align=tuple(self.align[i] for i in keep))
            table.rows = [tuple(row[i] for i in keep) for row in self.rows]
            texts.append(table.text())
        return "\n".join(texts)

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
