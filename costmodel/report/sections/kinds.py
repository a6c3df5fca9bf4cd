"""The report's roll-up by layer kind, with its charts (cost by kind; cost and params by depth)."""
from __future__ import annotations

from typing import Any

from ...analysis import Analysis
from ...formatting import percent
from ...metrics import summed_metrics
from ...ops import kind_titles
from .. import plots


WEIGHTED = ("conv", "pointwise", "depthwise", "group", "linear")


def kind_rows(result: Analysis) -> list[dict[str, Any]]:
    """The per-kind roll-up: each summed metric with its share."""
    titles = kind_titles()
    return [{"kind": kind, "title": titles[kind], "layers": row["layers"],
             "cells": [(row[metric.field], percent(row[f"{metric.field}_share"])) for metric in summed_metrics()]}
            for kind, row in result.by_kind().items()]



def kinds_section(result: Analysis) -> dict[str, Any]:
    """The roll-up table, the chart of each kind's share of mult-adds, params and memory access, and the chart of
    the weighted layers' cost in execution order."""
    kinds = kind_rows(result)
    by_kind = result.by_kind()
    weighted = [layer for layer in result.layers if layer.kind in WEIGHTED]
    return {
        "kind_columns": [metric.heading for metric in summed_metrics()],
        "kinds": kinds,
        "kind_chart": plots.by_kind_chart([k["kind"] for k in kinds], [by_kind[k["kind"]]["madds_share"] for k in kinds],
                                          [by_kind[k["kind"]]["params_share"] for k in kinds],
                                          [by_kind[k["kind"]]["memory_access_bytes_share"] for k in kinds]),
        "depth_chart": plots.depth_chart([l.name for l in weighted], [l.madds for l in weighted],
                                         [l.params for l in weighted], [l.kind for l in weighted])
        if weighted else "",
    }
