"""``fit``'s fronts (``design.fit.Front``) as text, CSV, JSON and Markdown: the front's table with each setting's exact
totals, what the limits were, and why nothing fits when nothing does."""
from __future__ import annotations

from typing import Any, Sequence

from ..core.formatting import Table, counted, grouped, json_text, printable, si_bytes
from ..core.metrics import total_metrics

LONG = 20           # a front of more rows than this is shown in part (``shown_rows``)
SHOWN = 12          # resolutions a long front's text shows
FOOTNOTE = ("front: no other setting that meets the limits is at least as wide, at least as large an input and at "
            "least as deep; largest mult-adds first")


def describe_limits(front: Any) -> str:
    """The limits of ``front`` in words: ``mult-adds <= 150.00 M, ...``."""
    names = {metric.field: metric for metric in total_metrics()}
    parts = [f"{names[field].label} <= {names[field].human(limit)}" for field, limit in front.limits.items()]
    if front.max_latency_ms is not None:
        parts.append(f"predicted latency on {printable(front.profile)} <= {front.max_latency_ms:g} ms")
    if front.max_train_bytes is not None:
        parts.append(f"training peak ({front.optimizer}) <= {si_bytes(front.max_train_bytes)}")
    return ", ".join(parts)


def shortfall(front: Any) -> str:
    """Why nothing fits, for a front with no rows: each limit with the least the grid reaches."""
    names = {metric.field: metric for metric in total_metrics()}
    over = [f"the least {names[field].label} on the grid is {names[field].human(value)}"
            for field, value in front.least.items() if value > front.limits[field]]
    return "; ".join(over) or "no setting meets all the limits at once"


def summary(front: Any) -> str:
    """The first line of the text: how many settings are on the front and how many meet the limits."""
    grid = " x ".join(counted(len(values), noun) for values, noun in
                      ((front.depths, "depth"), (front.alphas, "alpha"), (front.resolutions, "resolution"))
                      if values is not None)
    meet = "meets" if front.feasible == 1 else "meet"
    return (f"{front.model}: {counted(len(front.rows), 'setting')} on the front; {front.feasible:,} of the "
            f"{counted(front.points, 'setting')} of the grid ({grid}) {meet} {describe_limits(front)}")


def shown_columns(front: Any) -> tuple[str, ...]:
    """The columns a table shows (the published accuracy's source goes to a note)."""
    return tuple(name for name in front.columns() if name != "published_source")


def shown_rows(front: Any, every_row: bool = False) -> tuple[list[dict[str, Any]], str]:
    """The rows of ``front`` a person reads, and a note on those left out.

    A front over alpha x resolution (x depth) can hold dozens of settings (efficientnet_b0 under 300M mult-adds:
    78). Unless ``every_row``, a front of more than ``LONG`` rows is shown as the setting with the most mult-adds
    at each resolution (the one that spends the budget fullest there), at most ``SHOWN`` resolutions spread evenly
    from the smallest to the largest, and every setting that is itself published.

    :param front: a ``design.fit.Front``.
    :param every_row: every setting of the front.
    :returns: (the rows shown, in the front's order; a note saying how many were left out and how they were
        chosen, "" when none was)."""
    rows = list(front.rows)
    if every_row or len(rows) <= LONG:
        return rows, ""
    best: dict[int, dict[str, Any]] = {}
    for row in rows:                     # largest mult-adds first: the first row at each resolution is its best
        best.setdefault(row["resolution"], row)
    resolutions = sorted(best)
    if len(resolutions) > SHOWN:
        step = (len(resolutions) - 1) / (SHOWN - 1)
        resolutions = sorted({resolutions[round(index * step)] for index in range(SHOWN)})
    chosen = {id(best[resolution]) for resolution in resolutions}
    chosen |= {id(row) for row in rows if row.get("published_top1") is not None}
    shown = [row for row in rows if id(row) in chosen]
    if len(shown) == len(rows):
        return rows, ""
    published = ", and every published setting" if any(row.get("published_top1") is not None
                                                      for row in rows) else ""
    note = (f"{len(shown)} of the front's {len(rows)} settings shown: the one with the most mult-adds at each of "
            f"{counted(len(resolutions), 'resolution')} from {resolutions[0]} to {resolutions[-1]}{published}; "
            "--all lists every one")
    return shown, note


def table(front: Any, rows: "Sequence[dict[str, Any]] | None" = None) -> Table:
    """The front's table, a row per setting (``rows``, default every one), numbers as people read them."""
    shown = shown_columns(front)
    result = Table(shown, align=tuple("l" if name == "published_setting" else "r" for name in shown))
    for row in front.rows if rows is None else rows:
        result.add(*(cell(name, row.get(name)) for name in shown))
    return result


def _sources(front: Any) -> list[str]:
    sources = sorted({row["published_source"] for row in front.rows if row.get("published_source")})
    if not any("published_top1" in row for row in front.rows):
        return []
    note = ("published_top1: the ImageNet top-1 accuracy published for that very setting (alpha, resolution and "
            "depth); costmodel does not estimate accuracy, so a setting no paper trained shows none")
    return [note + (", from " + "; ".join(sources) if sources else "")]


def text(front: Any, every_row: bool = False) -> str:
    """The summary, the table (``shown_rows``) and what the front is."""
    rows, left_out = shown_rows(front, every_row)
    lines = [summary(front), "", table(front, rows).text().rstrip("\n"), "", *([left_out] if left_out else []),
             FOOTNOTE, *_sources(front)]
    return "\n".join(lines) + "\n"


def markdown(front: Any, every_row: bool = False) -> str:
    """The text's content as Markdown: a heading, the summary, the table and the notes."""
    rows, left_out = shown_rows(front, every_row)
    lines = [f"# costmodel fit: {front.model}", "", summary(front) + ".", "",
             table(front, rows).markdown().rstrip("\n"), "", *([f"- {left_out}."] if left_out else []),
             f"- {FOOTNOTE}.", *(f"- {note}." for note in _sources(front))]
    return "\n".join(lines) + "\n"


def csv(front: Any) -> str:
    """Every column of the front (``Front.columns``), exact numbers, a row per setting."""
    lines = [",".join(front.columns())]
    lines += [",".join(_csv_cell(row.get(name, "")) for name in front.columns()) for row in front.rows]
    return "\n".join(lines) + "\n"


def render(fronts: Sequence[Any], fmt: str, every_row: bool = False) -> str:
    """One front or several (``fit --compare``) in ``fmt``; CSV holds one front (``present.render`` refuses
    several). Text and Markdown show a long front's ``shown_rows`` unless ``every_row``; CSV and JSON hold every
    row."""
    if fmt == "json":
        return json_text(fronts[0].to_dict() if len(fronts) == 1 else {"fronts": [f.to_dict() for f in fronts]})
    if fmt == "csv":
        return csv(fronts[0])
    return "\n".join((markdown if fmt == "markdown" else text)(front, every_row) for front in fronts)


def cell(name: str, value: Any) -> str:
    """One value of the front as a table shows it."""
    if value is None:
        return "-"
    if name == "published_top1":
        return f"{value:g}%"
    if name == "published_setting":
        return str(value)
    if name in ("alpha", "depth"):
        return f"{value:g}"
    if name == "latency_ms":
        return f"{value:.2f}"
    return str(value) if name == "resolution" else grouped(value)


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and any(mark in value for mark in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return repr(value) if isinstance(value, float) else str(value)
