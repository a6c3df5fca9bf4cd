"""``fit``'s page and plot: every front against the published accuracies (``plots.front_chart``), and the page
with the chart and each front's table. Imports matplotlib."""
from __future__ import annotations

from typing import Any, Sequence

from .. import fronts as present_fronts


def front_plot(fronts: Sequence[Any], path: Any = None) -> str:
    """Every front on one chart (``plots.front_chart``) with each model's published accuracies at their exact
    mult-adds; a front setting has an accuracy on the chart only where it is itself a published setting.

    :param fronts: ``design.fit.Front`` results.
    :param path: where a PNG is written (a file name or a binary stream), if given.
    :returns: the chart as the page embeds it.
    """
    from ...sources.analyze import analyze
    from ...design.published import published_points
    from .plots import front_chart

    families = []
    for front in fronts:
        published = [(analyze(p.model, alpha=p.alpha, resolution=p.resolution, depth=p.depth,
                              options=dict(p.options)).totals["madds"], p.top1, p.label)
                     for p in published_points() if p.model == front.model and not p.options]
        rows = [(row["madds"], row.get("published_top1")) for row in front.rows]
        families.append((front.model, published, rows))
    return front_chart(families, fronts[0].limits.get("madds"), path)


def fronts_page(fronts: Sequence[Any]) -> str:
    """The fronts as a self-contained HTML page: the chart of ``front_plot`` and each front's table (a long front's
    ``fronts.shown_rows``, with every row a click away).

    :param fronts: ``design.fit.Front`` results, under the same limits.
    :returns: the page.
    """
    from .html import render_page

    tables = []
    for front in fronts:
        columns = present_fronts.shown_columns(front)
        shown, left_out = present_fronts.shown_rows(front)

        def cells(rows: Sequence[Any]) -> list[list[str]]:
            return [[present_fronts.cell(name, row.get(name)) for name in columns] for row in rows]

        tables.append({"model": front.model, "summary": present_fronts.summary(front), "columns": columns,
                       "setting_column": columns.index("published_setting") if "published_setting" in columns
                       else -1, "rows": cells(shown), "left_out": left_out.split("; --all")[0],
                       "every_row": cells(front.rows) if left_out else []})
    return render_page("fit.html", {"title": "costmodel fit: " + ", ".join(front.model for front in fronts),
                                    "limits": present_fronts.describe_limits(fronts[0]),
                                    "chart": front_plot(fronts), "fronts": tables})
