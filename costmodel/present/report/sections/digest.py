"""How a report stays readable, and bounded in time and size, for a network of many layers.

Up to ``FULL`` layers a report lists every layer in every table. A larger network (a spec of one block repeated
thousands of times) is summarised: its layers table becomes a roll-up per stage (``stages``) and the ``TOP`` layers
that cost most, in execution order; the roofline, latency, review and cross-check tables keep their ``TOP`` most
telling rows (``top_rows``), each table saying how many it leaves out; and a chart along the depth draws at most
``BARS`` bars (``bins``: each bar the largest, or the sum, of a run of consecutive layers). No count changes: the
totals, shares and the roll-up by kind are those of every layer.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ....sources.analyze import Analysis
from ....core.metrics import summed_metrics

FULL = 1_000          # layers a report lists one by one
TOP = 100             # rows a summarised table keeps
BARS = 500            # bars a chart along the depth draws


def summarised(result: Analysis) -> bool:
    """Whether the report of ``result`` summarises its layers (more than ``FULL``)."""
    return len(result.layers) > FULL


def top_rows(rows: Sequence[Any], key: Callable[[Any], Any], keep: int = TOP) -> list[Any]:
    """The ``keep`` rows with the largest ``key``, in their original order."""
    if len(rows) <= keep:
        return list(rows)
    chosen = set(sorted(range(len(rows)), key=lambda index: key(rows[index]), reverse=True)[:keep])
    return [row for index, row in enumerate(rows) if index in chosen]


def stage_of(name: str, depth: int) -> str:
    """The first ``depth`` dotted parts of a node name (its stage at that depth)."""
    return ".".join(name.split(".")[:depth])


def stages(result: Analysis) -> list[dict[str, Any]]:
    """The layers rolled up by stage: the shallowest prefix of the node names (``features``, then
    ``features.3``...) that parts the network into more than one group, at most ``TOP`` of them. Each stage: its
    name, first and last layer index, layer count, and each summed metric with its share of the total (``cells``:
    (value, percent) pairs)."""
    names = [layer.name for layer in result.layers]
    deepest = max(name.count(".") + 1 for name in names)
    depth = 1
    while depth < deepest and len({stage_of(name, depth) for name in names}) == 1:
        depth += 1
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        groups.setdefault(stage_of(name, depth), []).append(index)
    if len(groups) > TOP:           # too many to read: consecutive runs of layers instead
        size = -(-len(names) // TOP)
        groups = {f"layers {start}-{min(start + size, len(names)) - 1}": list(range(start, min(start + size,
                                                                                               len(names))))
                  for start in range(0, len(names), size)}
    totals = result.totals
    rows = []
    for stage, indices in groups.items():
        values = [sum(result.layers[i].field(metric.field) for i in indices) for metric in summed_metrics()]
        rows.append({"stage": stage, "first": indices[0], "last": indices[-1], "layers": len(indices),
                     "cells": [(value, 100 * value / totals[metric.field] if totals[metric.field] else 0.0)
                               for value, metric in zip(values, summed_metrics())]})
    return rows


def bins(count: int, bars: int = BARS) -> list[range]:
    """``count`` consecutive positions in at most ``bars`` runs of equal length (the last may be shorter)."""
    size = max(1, -(-count // bars))
    return [range(start, min(start + size, count)) for start in range(0, count, size)]
