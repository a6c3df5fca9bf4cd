"""A paper's printed figures beside costmodel's exact counts, with the difference and a verdict.

Papers print rounded figures, and not consistently: the MobileNetV1 paper rounds most (568.7M -> 569) and truncates
some (290.7M -> 290). A figure agrees when costmodel's exact count is within one unit of the last
printed digit of the printed value (569 vs 568.74: within 1; 0.27 vs 0.2668: within 0.01). Where a figure does not,
the row carries a note with the derivation of the difference.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ..core.formatting import Table, grouped

TOLERANCE_NOTE = ("A figure agrees when costmodel's exact count is within one unit of the paper's last printed "
                  "digit: the paper mixes rounding (568.7M printed 569) and truncation (290.7M printed 290).")


class TablePage:
    """What every reproduced table (a reproduction, the latency table, a measured table) gives as data: its
    title, source, table as shown, and notes (``present.reproductions`` lays it out)."""

    def page_notes(self) -> list[str]:
        """The page's notes."""
        all_notes = getattr(self, "all_notes", None)
        return list(all_notes() if all_notes is not None else self.notes())  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """The paper, table, title, source, the table's columns and rows (as shown) and the notes."""
        table = self.table_view()  # type: ignore[attr-defined]
        return {"paper": self.paper, "table": self.table, "title": self.title,  # type: ignore[attr-defined]
                "source": self.source, "columns": list(table.columns),  # type: ignore[attr-defined]
                "rows": [list(row) for row in table.rows], "notes": self.page_notes()}

    def to_frame(self) -> Any:
        """The table as shown, as a pandas DataFrame (one column per column of the table)."""
        import pandas

        table = self.table_view()  # type: ignore[attr-defined]
        return pandas.DataFrame([list(row) for row in table.rows], columns=list(table.columns))


@dataclass(frozen=True)
class Figure:
    """One printed figure (``printed``, in units of ``scale``) and costmodel's exact count of the same thing:
    ``exact / scale`` in the printed units (a share in percent is ``Figure(m, "94.86", 100 * part, total)``)."""

    metric: str
    printed: str
    exact: int
    scale: int = 10**6
    detail: str = ""      # shown as the exact value instead of ``exact`` (e.g. "10,838,016 / 568,740,352")
    significant: int = 0  # > 0: the paper prints this many significant digits ("1600" for 1605.6 with 2)
    zeros_rounded: bool = False   # a whole number's trailing zeros are rounding ("15300": unit 100)

    @property
    def decimals(self) -> int:
        return len(self.printed.split(".")[1]) if "." in self.printed else 0

    @property
    def unit(self) -> Fraction:
        """One unit in the last printed digit, or in the last significant digit when ``significant`` is set."""
        if self.zeros_rounded and "." not in self.printed:
            digits = self.printed.lstrip("-")
            return Fraction(10) ** (len(digits) - len(digits.rstrip("0")))
        if self.significant:
            places = len(str(abs(int(Fraction(self.printed)))))
            return Fraction(10) ** max(places - self.significant, -self.decimals)
        return Fraction(1, 10**self.decimals)

    @property
    def difference(self) -> Fraction:
        """costmodel minus paper, in the printed units (exact)."""
        return Fraction(self.exact, self.scale) - Fraction(self.printed)

    @property
    def agrees(self) -> bool:
        return abs(self.difference) <= self.unit

    def costmodel_text(self) -> str:
        """costmodel's value in the printed units, two digits finer than the paper prints."""
        return f"{self.exact / self.scale:.{self.decimals + 2}f}"

    def difference_text(self) -> str:
        return f"{float(self.difference):+.{self.decimals + 2}f}"


@dataclass(frozen=True)
class Row:
    """One row of a paper's table: its label as printed, the setting costmodel analyzed, and its figures."""

    label: str
    setting: str
    figures: tuple[Figure, ...]
    note: str = ""


@dataclass(frozen=True)
class Reproduction(TablePage):
    """A paper's table reproduced: title, source, rows, notes, and the command that regenerates it."""

    paper: str
    table: str
    title: str
    source: str
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()

    @property
    def agrees(self) -> bool:
        return all(figure.agrees for row in self.rows for figure in row.figures)

    def table_view(self) -> Table:
        """One column group per metric any row prints; a row that does not print a metric leaves it empty."""
        metrics = list(dict.fromkeys(figure.metric for row in self.rows for figure in row.figures))
        columns = ["row", "costmodel setting"]
        for metric in metrics:
            columns += [f"paper {metric}", f"costmodel {metric}", "exact", "difference", "agrees"]
        table = Table(tuple(columns), align=("l", "l") + ("r", "r", "r", "r", "l") * len(metrics))
        for row in self.rows:
            cells: list[str] = [row.label, row.setting]
            figures = {figure.metric: figure for figure in row.figures}
            for metric in metrics:
                figure = figures.get(metric)
                if figure is None:
                    cells += ["-"] * 5
                    continue
                cells += [figure.printed, figure.costmodel_text(), figure.detail or grouped(figure.exact),
                          figure.difference_text(),
                          "yes" if figure.agrees else "NO"]
            table.add(*cells)
        return table

    def all_notes(self) -> list[str]:
        row_notes = [f"{row.label}: {row.note}" for row in self.rows if row.note]
        return [TOLERANCE_NOTE, *self.notes, *row_notes]

    def command(self) -> str:
        return f"costmodel reproduce {self.paper} --table {self.table} --write"

    def verdict(self) -> str:
        """Whether every figure agrees, in a few words."""
        return "every figure agrees" if self.agrees else "some figures differ; each such row has a note"
