"""The presentation layer: every result costmodel computes, rendered in the same formats the same way.

``render(result, fmt)`` takes any result (an ``Analysis``, a ``Sweep``, a ``fit`` front or several, a ``bench``
measurement, a ``verify`` comparison, a reproduced paper table or several) and gives it as text, CSV, JSON or
Markdown (``FORMATS``); the command line's ``--format`` is this one argument for every command. The results keep
only their data (rows and totals, ``to_dict()``, ``to_frame()``); how each is laid out lives here, one module per
kind of result (``analyses.py``, ``fronts.py``, ``benchmarks.py``, ``verification.py``, ``reproductions.py``). The
HTML pages (report, compare, fit), their sections and plots are in ``report/``.
"""
from __future__ import annotations

from typing import Any

from ..core.errors import ParameterError, param

FORMATS = ("text", "csv", "json", "markdown")


def _kind(result: Any) -> str:
    """The kind of ``result``, by its type's name (no result's module is imported to find it)."""
    first = result[0] if isinstance(result, (list, tuple)) and result else result
    name = type(first).__name__
    kinds = {"Analysis": "analysis", "Sweep": "sweep", "Front": "front", "Benchmark": "benchmark",
             "Verification": "verification", "Reproduction": "page", "LatencyTable": "page", "MeasuredTable": "page",
             "Advice": "advice", "Training": "training"}
    if name not in kinds:
        raise ParameterError(param("result"), f" must be a costmodel result (an Analysis, Training, Sweep, Front, "
                                              f"Advice, Benchmark, Verification or reproduced table), got {name}")
    return kinds[name]


def render(result: Any, fmt: str = "text", *, per_layer: bool = False, by_kind: bool = False,
           every_row: bool = False, top: "int | None" = None, explain: bool = False, by_module: bool = False,
           max_depth: "int | None" = None, sort: "str | None" = None) -> str:
    """``result`` as text, CSV, JSON or Markdown.

    :param result: an ``Analysis``, a training step (``engine.training.Training``), a ``Sweep``, a
        ``design.fit.Front`` (or a list of them: several models' fronts), a ``design.advise.Advice``, a
        ``bench.Benchmark``, a ``verify.Verification``, or a reproduced paper table (or a list of them).
    :param fmt: one of ``FORMATS``.
    :param per_layer: an analysis's table of layers too (CSV: that table alone).
    :param by_kind: an analysis's totals per layer kind too (CSV: that table alone).
    :param every_row: a front's text and Markdown list every setting (by default a long front shows a dozen,
        ``fronts.shown_rows``), and an advice's every edit tried (CSV and JSON always hold every one).
    :param top: the layers an analysis's per-layer table lists (every one by default), or the edits an advice's text
        and Markdown list (10 by default).
    :param explain: an analysis's text states its FLOPs convention in full (by default one short line).
    :param by_module: an analysis's layers rolled up the module tree too, to ``max_depth`` levels (CSV: that
        table alone).
    :param max_depth: the deepest module listed.
    :param sort: the per-layer metric an analysis's layers are sorted by, largest first.
    :returns: the text.
    :raises ParameterError: for a format not in ``FORMATS``, CSV of several results (a CSV holds one table), or a
        format a sweep does not take (a sweep is CSV or JSON: a table of a million rows is not for reading).
    """
    if fmt not in FORMATS:
        raise ParameterError(param("format"), f" must be one of {', '.join(FORMATS)}, got {fmt!r}")
    kind = _kind(result)
    several = isinstance(result, (list, tuple))
    if several and len(result) > 1 and fmt == "csv":
        raise ParameterError("CSV holds one table: give one result, or ", param("format"), " text, JSON or Markdown")
    if kind == "analysis":
        from .analyses import render as render_analysis

        return render_analysis(result, fmt, per_layer=per_layer, by_kind=by_kind, explain=explain,
                               by_module=by_module, max_depth=max_depth, sort=sort, top=top)
    if kind == "training":
        from .training import render as render_training

        return render_training(result, fmt, per_layer=per_layer, sort=sort, top=top)
    if kind == "sweep":
        if fmt == "csv":
            return result.csv()
        if fmt != "json":
            raise ParameterError("a sweep is CSV or JSON (", param("format"), f" csv or json), not {fmt}")
        from ..core.formatting import json_text

        return json_text(result.to_dict())
    if kind == "front":
        from .fronts import render as render_fronts

        return render_fronts(list(result) if several else [result], fmt, every_row)
    if kind == "advice":
        from .advice import render as render_advice

        return render_advice(result, fmt, 10 if top is None else top, every_row)
    if kind == "benchmark":
        from .benchmarks import render as render_benchmark

        return render_benchmark(result, fmt)
    if kind == "verification":
        from .verification import render as render_verification

        return render_verification(result, fmt)
    from .reproductions import render as render_pages

    return render_pages(list(result) if several else [result], fmt)
