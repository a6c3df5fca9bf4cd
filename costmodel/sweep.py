"""``costmodel sweep``: every metric at every point of a width x resolution grid, computed at once.

The network's program is compiled for NumPy (``compiled``): one call evaluates a block of alphas against every
resolution, with the reference code's rounding applied element by element, so each point equals what
``costmodel table`` gives for it. Exact integers throughout (64-bit, far above any count the bounds allow).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from .analysis import DTYPE_BYTES, analyze, settle
from .errors import CostModelError
from .scaling import MAX_RESOLUTION, check_alpha
from .zoo import MODELS

MAX_POINTS = 1_000_000       # 56 bytes a point in memory, about 60 in the CSV
COLUMNS = ("alpha", "resolution", "params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")


def parse_range(text: str, what: str, integer: bool) -> list[Any]:
    """``"0.25:1.4:0.05"`` (stop inclusive) or a single value, as a list of floats (or ints). Decimal steps are
    exact: ``0.25 + 3 x 0.05`` is the float ``0.4``, as typed."""
    parts = text.split(":")
    if len(parts) not in (1, 3):
        raise CostModelError(f"--{what} must be VALUE or START:STOP:STEP, got {text!r}")
    try:
        numbers = [Decimal(part.strip()) for part in parts]
    except InvalidOperation:
        raise CostModelError(f"--{what} must be numbers, got {text!r}") from None
    if any(not number.is_finite() for number in numbers):
        raise CostModelError(f"--{what} must be finite numbers, got {text!r}")
    if integer and any(number != number.to_integral_value() for number in numbers):
        raise CostModelError(f"--{what} must be whole numbers of pixels, got {text!r}")
    if len(numbers) == 1:
        values = numbers
    else:
        start, stop, step = numbers
        if step <= 0:
            raise CostModelError(f"--{what} step must be positive, got {text!r}")
        if stop < start:
            raise CostModelError(f"--{what} range is reversed (stop {stop} < start {start}), got {text!r}")
        count = int((stop - start) / step) + 1
        if count > MAX_POINTS:
            raise CostModelError(f"--{what} has {count:,} values, more than the limit of {MAX_POINTS:,}")
        values = [start + i * step for i in range(count)]
    return [int(value) for value in values] if integer else [float(value) for value in values]


@dataclass(frozen=True)
class Sweep:
    """The grid (alphas x resolutions) and each metric as a flat NumPy array, alpha-major (exact 64-bit ints)."""

    model: str
    convention: str
    dtype: str
    alphas: tuple[float, ...]
    resolutions: tuple[int, ...]
    columns: dict[str, Any]

    @property
    def points(self) -> int:
        return len(self.alphas) * len(self.resolutions)

    def csv(self) -> str:
        """One row per point: alpha, resolution and every metric (alpha as typed: the shortest repr)."""
        parts = [",".join(COLUMNS) + "\n"]
        total = len(self.columns["alpha"])
        for start in range(0, total, 65536):
            rows = zip(*(self.columns[name][start:start + 65536].tolist() for name in COLUMNS))
            parts.append("".join(f"{alpha!r},{resolution},{p},{m},{f},{a},{k}\n"
                                 for alpha, resolution, p, m, f, a, k in rows))
        return "".join(parts)


def _progress(total: int) -> Any:
    if sys.stderr.isatty() and total > 1:
        import click
        return click.progressbar(length=total, label="sweep", file=sys.stderr)
    return None


def sweep(model: Any, alphas: list[float], resolutions: list[int], *, convention: str = "costmodel",
          dtype: str = "float32", options: Mapping[str, Any] | None = None, block: int = 128) -> Sweep:
    """Every metric of ``model`` at every (alpha, resolution) of the grid."""
    import numpy

    from .compiled import compile_network

    if not alphas or not resolutions:
        raise CostModelError("the sweep grid is empty")
    if len(alphas) * len(resolutions) > MAX_POINTS:
        raise CostModelError(f"{len(alphas) * len(resolutions):,} points is more than the limit of {MAX_POINTS:,}")
    for resolution in resolutions:
        if not 1 <= resolution <= MAX_RESOLUTION:
            raise CostModelError(f"resolution must be in [1, {MAX_RESOLUTION}], got {resolution}")
    # The model must accept each alpha and the resolutions (the same messages as costmodel table).
    network, _, _ = settle(model, alphas[0], None, None, options)
    entry = MODELS.get(model) if isinstance(model, str) else None
    for alpha in dict.fromkeys(alphas):
        check_alpha(alpha)
        if entry is not None:
            entry.check_alpha(alpha)
    if entry is not None and not entry.accepts_resolution and set(resolutions) != {network.base_resolution[0]}:
        raise CostModelError(f"model {network.name!r} has a fixed input size of {network.base_resolution[0]}")
    evaluate = compile_network(network, convention, "numpy")
    bytes_per_element = DTYPE_BYTES[dtype]
    height = numpy.asarray(resolutions, dtype=numpy.int64)[None, :]
    parts: dict[str, list] = {name: [] for name in COLUMNS}       # blocks of arrays, joined at the end
    bar = _progress(len(alphas))
    try:
        for start in range(0, len(alphas), block):
            chunk = alphas[start:start + block]
            alpha = numpy.asarray(chunk, dtype=numpy.float64)[:, None]
            *totals, peak, failed = evaluate(alpha, height, height)
            if numpy.any(failed):
                row, column = (int(i) for i in numpy.argwhere(numpy.broadcast_to(failed, (len(chunk), len(resolutions))))[0])
                point = f"alpha={chunk[row]:g}, resolution={resolutions[column]}"
                try:
                    analyze(network, alpha=chunk[row], resolution=resolutions[column])
                except CostModelError as error:       # the interpreter names the node and what does not fit
                    raise CostModelError(f"{point}: {error}") from None
                raise CostModelError(f"{point}: the network does not fit at this setting")
            shape = (len(chunk), len(resolutions))
            params, madds, flops, memory = (numpy.broadcast_to(numpy.asarray(t, dtype=numpy.int64), shape)
                                            for t in totals)
            peak = numpy.broadcast_to(numpy.asarray(peak, dtype=numpy.int64), shape)
            parts["alpha"].append(numpy.repeat(numpy.asarray(chunk, dtype=numpy.float64), len(resolutions)))
            parts["resolution"].append(numpy.tile(numpy.asarray(resolutions, dtype=numpy.int64), len(chunk)))
            parts["params"].append(params.ravel())
            parts["madds"].append(madds.ravel())
            parts["flops"].append(flops.ravel())
            parts["memory_access_bytes"].append((memory * bytes_per_element).ravel())
            parts["peak_activation_bytes"].append((peak * bytes_per_element).ravel())
            if bar is not None:
                bar.update(len(chunk))
    finally:
        if bar is not None:
            bar.render_finish()
    columns = {name: numpy.concatenate(blocks) for name, blocks in parts.items()}
    return Sweep(network.name, convention, dtype, tuple(alphas), tuple(resolutions), columns)
