"""The report's roll-up by layer kind, with its charts (cost by kind; cost and params by depth)."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis
from ....core.formatting import percent
from ....core.metrics import summed_metrics
from ....ops import kind_titles
from .. import plots
from .digest import BARS, bins



def kind_rows(result: Analysis) -> list[dict[str, Any]]:
    """The per-kind roll-up: each summed metric with its share."""
    titles = kind_titles()
    return [{"kind": kind, "title": titles[kind], "layers": row["layers"],
             "cells": [(row[metric.field], percent(row[f"{metric.field}_share"])) for metric in summed_metrics()]}
            for kind, row in result.by_kind().items()]



def kinds_section(result: Analysis) -> dict[str, Any]:
    """The roll-up table, the chart of each kind's share of mult-adds, params and memory access, and the chart of
    the cost of every layer with mult-adds (attention's included) in execution order."""
    kinds = kind_rows(result)
    by_kind = result.by_kind()
    # every layer with mult-adds, whatever its kind (attention's matrix products too; BatchNorm has none)
    weighted = [layer for layer in result.layers if layer.madds]
    return {
        "kind_columns": [metric.heading for metric in summed_metrics()],
        "kinds": kinds,
        "kind_chart": plots.by_kind_chart([k["kind"] for k in kinds],
                                          [by_kind[k["kind"]]["madds_share"] for k in kinds],
                                          [by_kind[k["kind"]]["params_share"] for k in kinds],
                                          [by_kind[k["kind"]]["memory_access_bytes_share"] for k in kinds]),
        "depth_chart": _depth_chart(weighted) if weighted else "",
    }


def _depth_chart(weighted: list[Any]) -> str:
    """The mult-adds and parameters of the layers with mult-adds, in execution order; past ``digest.BARS`` layers,
    each bar sums a run of them and takes the kind of its costliest layer."""
    if len(weighted) <= BARS:
        return plots.depth_chart([l.name for l in weighted], [l.madds for l in weighted],
                                 [l.params for l in weighted], [l.kind for l in weighted])
    runs = [[weighted[i] for i in run] for run in bins(len(weighted))]
    return plots.depth_chart([run[0].name for run in runs], [sum(l.madds for l in run) for run in runs],
                             [sum(l.params for l in run) for run in runs],
                             [max(run, key=lambda l: l.madds).kind for run in runs],
                             f"layers with mult-adds in execution order, summed in runs of "
                             f"{len(runs[0])} (color: the kind of each run's costliest layer)")
