"""HTML design-review reports: one network (``write_report``) or several side by side (``write_comparison``).

Imports matplotlib and jinja2, so nothing on the path of ``costmodel table`` imports this package.
"""
from __future__ import annotations

from typing import Any, Sequence

from ...core.fileio import write_atomic
from .compare import compare_context
from .page import report_context
from ...latency.devices import load_target
from .html import render_page


def write_report(path: str, setting: Any, device: str = "pixel1-big-core", cross_check: bool = True,
                 measure: bool = False, training: "str | None" = None, **fields: Any) -> str:
    """Render the report of ``setting`` (a ``Setting``, or a model with the setting's ``fields``) and write it to
    ``path`` atomically; returns the HTML. ``device``: a preset, or a TOML file with a roofline (``[device]``)
    and/or a calibrated profile (``[profile]``); ``training``: an optimizer's name, for a training section."""
    target = load_target(device)
    context = report_context(setting, device=target.device, cross_check=cross_check, profile=target.profile,
                             measure=measure, training=training, **fields)
    page = render_page("report.html", context)
    write_atomic(path, page)
    return page


def write_comparison(path: str, specs: Sequence[str], device: str = "pixel1-big-core",
                     timeout: "float | None" = None, **fields: Any) -> str:
    """Render the comparison of ``specs`` (``MODEL[:key=value,...]``, over the common setting ``fields``: batch,
    dtype, fused) and write it to ``path``; returns the HTML. ``timeout``: the seconds an imported module's own code
    may run (None: no limit)."""
    target = load_target(device)
    page = render_page("compare.html", compare_context(specs, device=target.device, profile=target.profile,
                                                        timeout=timeout, **fields))
    write_atomic(path, page)
    return page


__all__ = ["compare_context", "report_context", "render_page", "write_comparison", "write_report"]
