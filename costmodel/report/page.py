"""The single-network report (``costmodel report``): its sections, each built by its own module in
``report/sections`` from one analysis, put together as the values the template lays out. Nothing here formats
HTML."""
from __future__ import annotations

from typing import Any, Mapping

from ..analysis import Analysis, analyze
from ..conventions import CONVENTIONS
from ..views import input_text
from .devices import Device
from .sections.advice import bottlenecks, recommendations
from .sections.crosscheck import fvcore_section
from .sections.kinds import kinds_section
from .sections.layers import layer_columns, layer_rows
from .sections.latency import roofline
from .sections.memory import memory
from .sections.review import fused_view, review
from .sections.scaling import width_resolution_grid
from .sections.summary import summary


def depth_text(result: Analysis) -> str:
    return f", depth={result.depth:g}" if result.depth != 1.0 else ""


def report_context(model: Any, alpha: float = 1.0, rho: float | None = None, resolution: Any = None,
                   options: Mapping[str, Any] | None = None, device: Device | None = None,
                   dtype: str = "float32", cross_check: bool = True, batch: int = 1, depth: float = 1.0
                   ) -> dict[str, Any]:
    """Everything the single-network report shows."""
    from .devices import load_device

    device = device or load_device()
    result = analyze(model, alpha=alpha, rho=rho, resolution=resolution, options=options, dtype=dtype, batch=batch,
                     depth=depth)
    fused = fused_view(result)          # what the review and the advice read
    return {
        "title": f"{result.model} design review",
        "model": result.model, "description": result.network.description, "source": result.network.source,
        "setting": f"alpha={result.alpha:g}{depth_text(result)}, input {input_text(result)}, {dtype}",
        "options": ", ".join(f"{k}={v}" for k, v in (options or {}).items()),
        "convention": CONVENTIONS[result.convention].summary,
        "summary": summary(result),
        "layer_columns": layer_columns(),
        "layers": layer_rows(result),
        **kinds_section(result),
        "grid": width_resolution_grid(model, result),
        "memory": memory(result),
        "roofline": roofline(result, device),
        "bottlenecks": bottlenecks(fused),
        "recommendations": recommendations(fused),
        "review": review(fused),
        "fvcore": fvcore_section(result, alpha, rho, resolution, batch, model, options) if cross_check else
        {"available": False, "note": "the fvcore cross-check was not requested."},
    }
