"""The report's scaling section: mult-adds over a grid of width multiplier and resolution, against the
papers' alpha^2 rho^2 law."""
from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any, Sequence

from ....sources.analyze import Analysis, analyze
from ....core.errors import CostModelError
from ....design.sweep import sweep
from ....sources.zoo import MODELS
from .. import plots


GRID_ALPHAS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.4)


GRID_SCALES = (3 / 7, 4 / 7, 5 / 7, 6 / 7, 1.0, 8 / 7)      # 96 .. 256 at a base of 224


def progress(items: Sequence[Any], label: str) -> Any:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    if sys.stderr.isatty() and len(items) > 8:
        import click
        return click.progressbar(items, label=label, file=sys.stderr)
    return nullcontext(items)


def _grid_axes(model: Any, network: Any, alpha: float) -> tuple[tuple[float, ...], tuple[int, ...]]:
    entry = MODELS.get(model) if isinstance(model, str) else None
    base = network.base_resolution
    if (entry is not None and not entry.accepts_alpha) or not network.scales_with_alpha:
        alphas: tuple[float, ...] = (1.0,)
    elif entry is not None and entry.alpha_choices:
        alphas = entry.alpha_choices
    else:
        alphas = tuple(sorted(set(GRID_ALPHAS) | {alpha}))
    if entry is not None and not entry.accepts_resolution:
        resolutions: tuple[int, ...] = (base[0],)
    else:
        resolutions = tuple(sorted({max(8, round(base[0] * scale / 8) * 8) for scale in GRID_SCALES}))
    return alphas, resolutions


def width_resolution_grid(model: Any, result: Analysis) -> dict[str, Any]:
    """Mult-adds over a grid of alpha and resolution, and the exact cost against the ideal alpha^2 rho^2 law."""
    network = result.network
    base = network.base_resolution
    alphas, resolutions = _grid_axes(model, network, result.alpha)
    points = [(a, r) for a in alphas for r in resolutions]
    madds: dict[tuple[float, int], int] = {}
    failures: list[str] = []
    try:            # the whole grid at once (the sweep engine: exact, equal to analyze at every point)
        grid = sweep(network, list(alphas), list(resolutions))
        madds = {point: int(value) for point, value in zip(points, grid.columns["madds"])}
    except CostModelError:          # a setting the network refuses: point by point, to name each
        with progress(points, "width x resolution grid") as bar:
            for alpha, resolution in bar:
                try:
                    madds[(alpha, resolution)] = analyze(network, alpha=alpha, resolution=resolution).totals["madds"]
                except CostModelError as error:
                    failures.append(f"alpha={alpha:g}, {resolution}: {error}")
    reference = analyze(network).totals["madds"]
    ideal, exact = [], []
    worst = (1.0, "")
    for (alpha, resolution), value in madds.items() if reference else ():  # no mult-adds: no law to compare
        law = alpha ** 2 * (resolution / base[0]) ** 2
        ideal.append(law)
        exact.append(value / reference)
        ratio = value / reference / law
        if abs(ratio - 1) > abs(worst[0] - 1):
            worst = (ratio, (f"alpha={alpha:g}, " if len(alphas) > 1 else "") + f"{resolution}x{resolution}")
    matrix = [[madds.get((a, r), 0) for r in resolutions] for a in alphas]
    return {
        "alphas": [f"{a:g}" for a in alphas], "resolutions": list(resolutions), "matrix": matrix,
        # a heatmap over alpha only where the network scales with alpha (one row is not a map)
        "heatmap": plots.grid_heatmap(alphas, resolutions, matrix) if len(alphas) > 1 and len(madds) > 1 else "",
        "law": plots.law_chart(ideal, exact, "alpha^2 rho^2" if len(alphas) > 1 else "rho^2")
        if len(ideal) > 1 else "",
        "worst_ratio": f"{worst[0]:.3f}", "worst_at": worst[1], "failures": failures,
        "points": len(madds),
    }

