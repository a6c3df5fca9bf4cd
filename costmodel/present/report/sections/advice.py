"""The report's advice: where the network's cost sits (its top layers by mult-adds, by memory access and, with a
device profile, by predicted latency) and what to change: ``costmodel advise``'s what-if edits, each recounted
exactly, the top ones by what they save, grouped by stage.

It reads the same fused inference view as the review (``analyze.fused_view``): an engine folds BatchNorm and fuses
activations, so the bottlenecks and the savings are those of the kernels that run."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis
from ....core.formatting import grouped, percent
from ....sources.analyze import fused_view

TOP = 5
EDITS = 10           # what-if edits the report lists


def _top(result: Analysis, values: "list[float]", unit: str, total: float, top: int) -> list[dict[str, str]]:
    ranked = sorted(zip(result.layers, values), key=lambda pair: -pair[1])[:top]
    return [{"name": layer.name, "kind": layer.kind,
             "value": f"{value:.3f} ms" if unit == "ms" else f"{grouped(int(value))}{unit}",
             "share": percent(value / total) if total else "-"} for layer, value in ranked if value]


def bottlenecks(result: Analysis, profile: Any = None, top: int = TOP,
                fused: "Analysis | None" = None) -> dict[str, list[dict[str, str]]]:
    """The ``top`` layers of the fused view of ``result`` (``fused``, made here when not given) by mult-adds, by
    memory access and (given a ``latency.Profile``) by predicted latency, each with its share of the network's
    total. A profile measured unfused prices ``result`` as it is: give the unfused analysis."""
    fused = fused or fused_view(result)
    lists = {"mult-adds": _top(fused, [layer.madds for layer in fused.layers], "", fused.totals["madds"], top),
             "memory access": _top(fused, [layer.memory_access_bytes for layer in fused.layers], " B",
                                   fused.totals["memory_access_bytes"], top)}
    if profile is not None:            # priced in the view the profile was measured in
        priced = profile.priced(result, fused)
        milliseconds = profile.layer_ms(priced)
        lists[f"predicted latency on {profile.name}"] = _top(priced, milliseconds, "ms", sum(milliseconds), top)
    return lists


def what_to_change(advice: Any, top: int = EDITS) -> dict[str, Any]:
    """The report's advice: the ``top`` what-if edits of ``advice`` (``design.advise.Advice``) that save most, each
    recounted exactly, grouped by stage in the network's order (the network's own edits last), one line per edit.

    :param advice: the ``Advice`` of the network (counted on the fused view, as an engine runs it).
    :param top: how many edits.
    :returns: {"ranked_by": what the saving is, "rows": [{"stage", "change", "saving", "madds", "params",
        "peak", "trades"}], "shown", "count": every edit that saves, "not_applicable": ["what: why"]}."""
    shown = advice.top(top)
    order = {name: index for index, name in enumerate(advice.stage_names)}
    grouped_rows = sorted(shown, key=lambda s: (order.get(s.stage, len(order)), -s.saving(advice.ranked_by)))
    totals = advice.totals

    def delta(value: int, total: int, unit: str = "") -> str:
        if not value:
            return "0"
        return f"{value:+,}{unit} ({value / total:+.1%})" if total else f"{value:+,}{unit}"

    rows = []
    previous = None
    for suggestion in grouped_rows:
        if advice.ranked_by == "latency_ms":
            ms = suggestion.latency_ms or 0.0
            saving = f"{ms:+.3f} ms ({ms / advice.latency_ms:+.1%})" if advice.latency_ms else f"{ms:+.3f} ms"
        else:
            saving = delta(suggestion.deltas["memory_access_bytes"], totals["memory_access_bytes"], " B")
        rows.append({"stage": suggestion.stage if suggestion.stage != previous else "",
                     "change": suggestion.change, "saving": saving,
                     "madds": delta(suggestion.deltas["madds"], totals["madds"]),
                     "params": delta(suggestion.deltas["params"], totals["params"]),
                     "peak": delta(suggestion.deltas["peak_activation_bytes"], totals["peak_activation_bytes"], " B"),
                     "trades": suggestion.trades + (f" [{suggestion.guideline}]" if suggestion.guideline else "")})
        previous = suggestion.stage
    title = f"predicted latency on {advice.profile}" if advice.ranked_by == "latency_ms" else "memory access"
    return {"ranked_by": title, "rows": rows, "shown": len(rows),
            "count": len(advice.top(len(advice.suggestions))),
            "not_applicable": [f"{what}: {why}" for what, why in advice.not_applicable]}
