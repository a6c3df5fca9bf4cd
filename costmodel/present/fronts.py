"""``fit``'s fronts (``design.fit.Front``) as text, CSV, JSON and Markdown: the front's table with each setting's exact
totals, what the limits were, and why nothing fits when nothing does."""
from __future__ import annotations

from typing import Any, Sequence

from ..core.formatting import Table, grouped, json_text, printable
from ..core.metrics import total_metrics

FOOTNOTE = ("front: no other setting that meets the limits is at least as wide, at least as large an input and at "
            "least as deep; largest mult-adds first")


def describe_limits(front: Any) -> str:
    """The limits of ``front`` in words: ``mult-adds <= 150.00 M, ...``."""
    names = {metric.field: metric for metric in total_metrics()}
    parts = [f"{names[field].label} <= {names[field].human(limit)}" for field, limit in front.limits.items()]
    if front.max_latency_ms is not None:
        parts.append(f"predicted latency on {printable(front.profile)} <= {front.max_latency_ms:g} ms")
    return ", ".join(parts)


def shortfall(front: Any) -> str:
    """Why nothing fits, for a front with no rows: each limit with the least the grid reaches."""
    names = {metric.field: metric for metric in total_metrics()}
    over = [f"the least {names[field].label} on the grid is {names[field].human(value)}"
            for field, value in front.least.items() if value > front.limits[field]]
    return "; ".join(over) or "no setting meets all the limits at once"


def summary(front: Any) -> str:
    """The first line of the text: how many settings are on the front and how many meet the limits."""
    grid = " x ".join(_counted(len(values), noun) for values, noun in
                      ((front.depths, "depth"), (front.alphas, "alpha"), (front.resolutions, "resolution"))
                      if values is not None)
    return (f"{front.model}: {len(front.rows)} settings on the front; {front.feasible:,} of the {front.points:,} "
            f"settings of the grid ({grid}) meet {describe_limits(front)}")


def shown_columns(front: Any) -> tuple[str, ...]:
    """The columns a table shows (the published accuracy's source goes to a note)."""
    return tuple(name for name in front.columns() if name != "published_source")


def table(front: Any) -> Table:
    """The front's table, a row per setting, numbers as people read them."""
    shown = shown_columns(front)
    result = Table(shown, align=tuple("l" if name == "published_setting" else "r" for name in shown))
    for row in front.rows:
        result.add(*(cell(name, row.get(name)) for name in shown))
    return result


def _sources(front: Any) -> list[str]:
    sources = sorted({row["published_source"] for row in front.rows if row.get("published_source")})
    if not sources:
        return []
    return ["published_top1: the ImageNet top-1 accuracy published for the setting named beside it (the same "
            "setting, or the nearest published one: not interpolated), from " + "; ".join(sources)]


def text(front: Any) -> str:
    """The summary, the table and what the front is."""
    lines = [summary(front), "", table(front).text().rstrip("\n"), "", FOOTNOTE, *_sources(front)]
    return "\n".join(lines) + "\n"


def markdown(front: Any) -> str:
    """The text's content as Markdown: a heading, the summary, the table and the notes."""
    lines = [f"# costmodel fit: {front.model}", "", summary(front) + ".", "", table(front).markdown().rstrip("\n"),
             "", f"- {FOOTNOTE}.", *(f"- {note}." for note in _sources(front))]
    return "\n".join(lines) + "\n"


def csv(front: Any) -> str:
    """Every column of the front (``Front.columns``), exact numbers, a row per setting."""
    lines = [",".join(front.columns())]
    lines += [",".join(_csv_cell(row.get(name, "")) for name in front.columns()) for row in front.rows]
    return "\n".join(lines) + "\n"


def render(fronts: Sequence[Any], fmt: str) -> str:
    """One front or several (``fit --compare``) in ``fmt``; CSV holds one front (``present.render`` refuses
    several)."""
    if fmt == "json":
        return json_text(fronts[0].to_dict() if len(fronts) == 1 else {"fronts": [f.to_dict() for f in fronts]})
    if fmt == "csv":
        return csv(fronts[0])
    return "\n".join((markdown if fmt == "markdown" else text)(front) for front in fronts)


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    if isinstance(value, str) and any(mark in value for mark in ',"\n'):
        return '"' + value.replace('"', '""') + '"'
    return repr(value) if isinstance(value, float) else str(value)
