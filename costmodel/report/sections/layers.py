"""The report's per-layer table: every layer's exact counts and its shares of the totals."""
from __future__ import annotations

from typing import Any

from ...analysis import Analysis
from ...metrics import layer_metrics, summed_metrics
from ...shapes import format_shape


def layer_columns() -> dict[str, list[str]]:
    """The per-layer table's metric columns and share columns."""
    return {"values": [metric.heading for metric in layer_metrics()],
            "shares": [f"{metric.label} share" for metric in summed_metrics()]}


def layer_rows(result: Analysis) -> list[dict[str, Any]]:
    """One row per layer with exact counts and shares of the totals (shares as numbers for sorting)."""
    totals = result.totals
    rows = []
    for index, layer in enumerate(result.layers):
        rows.append({
            "index": index, "name": layer.name, "kind": layer.kind, "output": format_shape(layer.output_shape),
            "values": [layer.field(metric.field) for metric in layer_metrics()],
            "shares": [100 * layer.field(metric.field) / totals[metric.field] if totals[metric.field] else 0.0
                       for metric in summed_metrics()],
        })
    return rows

