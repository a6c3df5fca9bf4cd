"""The report's per-layer table: every layer's exact counts and its shares of the totals (for a network of more than
``digest.FULL`` layers, its stages and the ``digest.TOP`` layers with the most mult-adds)."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis
from ....core.metrics import layer_metrics, summed_metrics
from ....core.shapes import format_shape
from .digest import stages, summarised, top_rows


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



def layers_section(result: Analysis) -> dict[str, Any]:
    """The layers table's columns and rows, the number of layers, and for a summarised report the roll-up by stage
    (None otherwise) and only the layers that cost most (by mult-adds, then memory access)."""
    rows = layer_rows(result)
    large = summarised(result)
    if large:
        rows = top_rows(rows, key=lambda row: (row["values"][_MADDS], row["values"][_ACCESS]))
    return {"layer_columns": layer_columns(), "layers": rows, "layer_count": len(result.layers),
            "stages": stages(result) if large else None}


_MADDS = [metric.field for metric in layer_metrics()].index("madds")
_ACCESS = [metric.field for metric in layer_metrics()].index("memory_access_bytes")
