"""The report's latency section: each layer against a device's roofs, with an estimated time per layer and
in total."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis
from ....core.formatting import percent
from .. import plots
from .digest import summarised, top_rows
from ....latency.devices import Device


def roofline(result: Analysis, device: Device) -> dict[str, Any]:
    """Each layer against the device's roofs, with an estimated time per layer and in total."""
    rows: list[dict[str, Any]] = []
    intensity: list[float] = []
    attainable: list[float] = []
    kinds: list[str] = []
    total_seconds = 0.0
    for layer in result.layers:
        if layer.flops == 0 and layer.memory_access_bytes == 0:
            continue
        seconds = device.seconds(layer.flops, layer.memory_access_bytes)
        total_seconds += seconds
        ai = layer.flops / layer.memory_access_bytes if layer.memory_access_bytes else 0.0
        bound = "compute" if ai >= device.ridge else "memory"
        rows.append({"name": layer.name, "kind": layer.kind, "flops": layer.flops,
                     "bytes": layer.memory_access_bytes, "intensity": f"{ai:.2f}", "bound": bound,
                     "microseconds": f"{seconds * 1e6:.1f}", "seconds": seconds})
        intensity.append(ai)
        attainable.append(min(device.peak_gflops, ai * device.bandwidth_gbps))
        kinds.append(layer.kind)
    for row in rows:
        row["share"] = percent(row["seconds"] / total_seconds) if total_seconds else "0.00%"
    memory_bound = sum(row["seconds"] for row in rows if row["bound"] == "memory")
    if summarised(result):          # a repeated block's layers are one point, drawn once
        points = list(dict.fromkeys(zip(intensity, attainable, kinds)))
        intensity, attainable, kinds = [p[0] for p in points], [p[1] for p in points], [p[2] for p in points]
    return {
        "device": device, "rows": _shown(result, rows, "seconds"), "row_count": len(rows),
        "total_ms": f"{total_seconds * 1e3:.2f}",
        "memory_bound_share": percent(memory_bound / total_seconds) if total_seconds else "0.00%",
        "ridge": f"{device.ridge:.1f}",
        "chart": plots.roofline_chart(device.peak_gflops, device.bandwidth_gbps, intensity, attainable, kinds),
    }



def _shown(result: Analysis, rows: "list[dict[str, Any]]", key: str) -> "list[dict[str, Any]]":
    """Every row, or for a summarised report (``digest``) those that take the most time."""
    return top_rows(rows, key=lambda row: row[key]) if summarised(result) else rows


def predicted(result: Analysis, profile: Any, measured: Any = None) -> dict[str, Any]:
    """The latency a calibrated ``profile`` (``latency.Profile``) predicts per layer and in total, priced in the
    view the profile was measured in; with ``measured`` (a ``bench.Benchmark`` of the same model), each layer's
    and the whole network's measured minimum (with its spread between windows) beside it."""
    priced = profile.priced(result)
    layer_ms = profile.layer_ms(priced)
    total = sum(layer_ms)
    times = {layer.name: layer.time.value for layer in measured.layers} if measured is not None else {}
    rows = [{"name": layer.name, "kind": layer.kind, "predicted_us": f"{1e3 * ms:.1f}",
             "measured_us": f"{1e3 * times[layer.name]:.1f}" if layer.name in times else "",
             "share": percent(ms / total) if total else "0.00%", "ms": ms}
            for layer, ms in zip(priced.layers, layer_ms)]
    section = {"profile": profile, "total_ms": f"{total:.2f}", "rows": _shown(result, rows, "ms"),
               "row_count": len(rows), "measured": measured is not None}
    if measured is not None:
        section["measured_ms"] = f"{measured.whole.value:.2f}"
        section["measured_how"] = measured.whole.how()
        section["error"] = f"{100 * (total / measured.whole.value - 1):+.1f}%"
    return section
