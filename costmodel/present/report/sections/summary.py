"""The report's headline: every total, exactly and with its unit, and the arithmetic intensity."""
from __future__ import annotations

from ....sources.analyze import Analysis
from ....core.metrics import total_metrics


def summary(result: Analysis) -> list[dict[str, str]]:
    """The headline figures (every total), each with a unit and exactly, and the arithmetic intensity."""
    totals = result.totals
    rows = []
    for metric in total_metrics():
        value = totals[metric.field]
        exact = metric.exact(value) + (f" at {result.peak_node}" if metric.total == "peak" else "")
        rows.append({"metric": metric.title(result.convention), "value": metric.human(value), "exact": exact})
    intensity = totals["madds"] / totals["memory_access_bytes"] if totals["memory_access_bytes"] else 0.0
    rows.append({"metric": "arithmetic intensity", "value": f"{intensity:.2f}", "exact": "mult-adds per byte moved"})
    return rows

