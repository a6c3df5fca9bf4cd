"""The report's advice: where the network's cost sits (its top layers by mult-adds, by memory access and, with a
device profile, by predicted latency) and what to change, ranked by what each change would save.

It reads the same fused inference view as the review (``analyze.fused_view``): an engine folds BatchNorm and fuses
activations, so the bottlenecks and the savings are those of the kernels that run."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis
from ....core.formatting import grouped, percent
from ....sources.analyze import fused_view
from .review import review

TOP = 5


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


def recommendations(result: Analysis, reviewed: "dict[str, Any] | None" = None) -> list[dict[str, str]]:
    """Every flagged finding of the review (``reviewed``, ``review.review`` of ``result``, made here when not
    given) as a change to make, ranked by the memory access it would save (its share of the fused network's);
    findings whose saving the counts cannot say (G3) come last."""
    fused = fused_view(result)
    total = fused.totals["memory_access"]
    sections = reviewed if reviewed is not None else review(fused)
    flagged = [finding for section in sections.values() for finding in section["findings"] if finding.flagged]
    return [{"layer": finding.layer, "guideline": finding.guideline, "advice": finding.advice,
             "saving": f"{grouped(finding.cost)} elements ({percent(finding.cost / total)} of the network's)"
             if finding.cost else "-"}
            for finding in sorted(flagged, key=lambda finding: -finding.cost)]
