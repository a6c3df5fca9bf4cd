"""The report's memory section: activation size per layer and live memory over the execution order
(MobileNetV2's Table 3 view)."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis
from ....core.formatting import grouped, si_bytes
from .. import plots
from .digest import BARS, bins


def memory(result: Analysis) -> dict[str, Any]:
    """Activation size per layer and the live memory over the execution order (the MobileNetV2 Table 3 view)."""
    names = [layer.name for layer in result.layers]
    live = [layer.live_activation_bytes for layer in result.layers]
    peak_index = names.index(result.peak_node) if result.peak_node in names else live.index(max(live))
    by_size: dict[str, int] = {}
    for layer in result.layers:
        if layer.output_shape.layout == "NCHW":
            size = f"{layer.output_shape.size('H')}x{layer.output_shape.size('W')}"
            by_size[size] = max(by_size.get(size, 0), layer.activation_bytes)
    activation = [layer.activation_bytes for layer in result.layers]
    if len(names) <= BARS:
        chart = plots.memory_chart(names, activation, live, peak_index)
    else:           # each bar the largest of a run of layers, so the peak stays the peak
        runs = bins(len(names))
        chart = plots.memory_chart([names[run[0]] for run in runs], [max(activation[i] for i in run) for run in runs],
                                   [max(live[i] for i in run) for run in runs],
                                   next(n for n, run in enumerate(runs) if peak_index in run),
                                   f"layers in execution order, in runs of {len(runs[0])} (each bar the largest)")
    return {
        "chart": chart,
        "peak": si_bytes(result.totals["peak_activation_bytes"]), "peak_node": result.peak_node,
        "largest_by_size": [{"size": size, "bytes": grouped(value), "human": si_bytes(value)}
                            for size, value in by_size.items()],
    }

