"""HTML design-review reports: one network (``write_report``) or several side by side (``write_comparison``).

Imports matplotlib and jinja2, so nothing on the path of ``costmodel table`` imports this package.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..fileio import write_atomic
from .compare import compare_context
from .page import report_context
from ..devices import load_target
from .html import render_page


def write_report(path: str, model: Any, alpha: float = 1.0, rho: float | None = None, resolution: Any = None,
                 options: Mapping[str, Any] | None = None, device: str = "pixel1-big-core",
                 dtype: str = "float32", cross_check: bool = True, batch: int = 1, depth: float = 1.0,
                 measure: bool = False, fused: bool = False) -> str:
    """Render the report of ``model`` and write it to ``path`` atomically; returns the HTML. ``device``: a preset,
    or a TOML file with a roofline (``[device]``) and/or a calibrated profile (``[profile]``)."""
    target = load_target(device)
    context = report_context(model, alpha=alpha, rho=rho, resolution=resolution, options=options,
                             device=target.device, dtype=dtype, cross_check=cross_check, batch=batch,
                             depth=depth, profile=target.profile, measure=measure, fused=fused)
    page = render_page("report.html", context)
    write_atomic(path, page)
    return page


def write_comparison(path: str, specs: Sequence[str], device: str = "pixel1-big-core",
                     dtype: str = "float32", batch: int = 1, fused: bool = False,
                     timeout: "float | None" = None) -> str:
    """Render the comparison of ``specs`` (``MODEL[:key=value,...]``) and write it to ``path``; returns the HTML.
    ``timeout``: the seconds an imported module's own code may run (None: no limit)."""
    target = load_target(device)
    page = render_page("compare.html", compare_context(specs, device=target.device, dtype=dtype, batch=batch,
                                                        profile=target.profile, fused=fused, timeout=timeout))
    write_atomic(path, page)
    return page


__all__ = ["compare_context", "report_context", "render_page", "write_comparison", "write_report"]
