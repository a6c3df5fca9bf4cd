"""The report's latency section: each layer against a device's roofs, with an estimated time per layer and
in total."""
from __future__ import annotations

from typing import Any

from ...analysis import Analysis
from ...formatting import percent
from .. import plots
from ..devices import Device


def roofline(result: Analysis, device: Device) -> dict[str, Any]:
    """Each layer against the device's roofs, with an estimated time per layer and in total."""
    rows, intensity, attainable, kinds = [], [], [], []
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
    return {
        "device": device, "rows": rows, "total_ms": f"{total_seconds * 1e3:.2f}",
        "memory_bound_share": percent(memory_bound / total_seconds) if total_seconds else "0.00%",
        "ridge": f"{device.ridge:.1f}",
        "chart": plots.roofline_chart(device.peak_gflops, device.bandwidth_gbps, intensity, attainable, kinds),
    }

