"""``costmodel sweep``: every total at every point of a width x resolution grid, computed at once.

The grid program (``grid``) counts a whole grid with a few matrix products; each point equals what ``costmodel
table`` gives for it (exact integers, whatever their size). A network whose counts do not separate into width and
size parts is counted point by point instead. The CSV is written by a vectorized writer, not a row loop.
"""
from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..sources.analyze import analyze
from ..core.conventions import CONVENTIONS
from ..engine.counting import count, plan_of
from ..core.errors import CostModelError, within
from ..core.metrics import total_metrics
from ..sources.settle import check_scales, settle
from ..core.ranges import MAX_DEPTHS, MAX_POINTS, Range, check_grid, parse_range  # noqa: F401 (sweep's own names)
from ..engine.analysis import DTYPE_BYTES
from ..core.scaling import MAX_ALPHA, check_batch, check_depth, input_size, parse_resolution

FIELDS = tuple(metric.field for metric in total_metrics())


def parse_resolutions(text: str) -> "Range | list[Any]":
    """A resolution range (``96:320:8``), one size (``224``) or one non-square size (``160x224``), counted and
    checked as ``parse_range`` does."""
    if "x" in text.lower():
        return [parse_resolution(text)]
    return parse_range(text, "resolution", integer=True)


CSV_TILE = 16_384        # rows of the CSV made at once (a table of about 1.5 MB: in the cache)


@dataclass(frozen=True)
class Sweep:
    """The grid (depths x alphas x input sizes, depth-major then alpha-major) and every total as a flat NumPy array
    of exact integers (int64, or Python integers where a count passes 2^63); ``columns`` also holds ``alpha``,
    ``resolution`` (ints, or ``"HxW"`` strings when a size is not square), for a sweep over rho ``rho``, and for a
    sweep over depth ``depth`` (``depths`` is None otherwise: the network at its own depth)."""

    model: str
    convention: str
    dtype: str
    batch: int
    alphas: tuple[float, ...]
    sizes: tuple[tuple[int, int], ...]
    rhos: "tuple[float, ...] | None"
    columns: dict[str, Any]
    depths: "tuple[float, ...] | None" = None

    @property
    def points(self) -> int:
        return len(self.depths or (1,)) * len(self.alphas) * len(self.sizes)

    @property
    def resolutions(self) -> tuple[Any, ...]:
        return tuple(h if h == w else f"{h}x{w}" for h, w in self.sizes)

    def header(self) -> tuple[str, ...]:
        """The columns of the sweep's table.

        :returns: depth (when depths were given), alpha, rho (when rhos were given), resolution, then every
            total."""
        return ((("depth",) if self.depths is not None else ()) + ("alpha",) +
                (("rho",) if self.rhos is not None else ()) + ("resolution",) + FIELDS)

    def to_dict(self) -> dict[str, Any]:
        """The sweep as JSON holds it.

        :returns: the setting and every column (``header``'s order), a value per point."""
        return {"model": self.model, "convention": self.convention, "dtype": self.dtype, "batch": self.batch,
                "points": self.points, "columns": {name: self.columns[name].tolist() for name in self.header()}}

    def to_frame(self) -> Any:
        """The sweep as a table.

        :returns: a pandas DataFrame, a row per point, the columns of ``header`` (integers as int64, or Python integers
            past 2^63)."""
        import pandas

        return pandas.DataFrame({name: self.columns[name] for name in self.header()})

    def csv(self) -> str:
        """The sweep as CSV text (``csv_bytes``, decoded).

        :returns: one row per point: the depth, alpha (each as typed: the shortest repr), rho, the resolution and every
            total."""
        return self.csv_bytes().decode("ascii")

    def csv_bytes(self) -> bytes:
        """The CSV of ``csv`` as ASCII bytes, made a few thousand rows at a time (so that the work stays in the
        processor's cache) in a table of bytes: each row's texts left-aligned and its integers right-aligned in
        fixed-width fields, the padding NUL bytes dropped (about a million rows a second here).

        :returns: the CSV's bytes."""
        import numpy as np

        count, alphas = len(self.sizes), len(self.alphas)
        row = np.arange(self.points)
        columns: list[tuple[str, Any, Any]] = []        # (kind, data, each row's index into data)
        if self.depths is not None:
            columns.append(("text", _ascii([repr(depth) for depth in self.depths]), row // (alphas * count)))
        columns.append(("text", _ascii([repr(alpha) for alpha in self.alphas]), row // count % alphas))
        if self.rhos is not None:
            columns.append(("text", _ascii([repr(rho) for rho in self.rhos]), row % count))
        columns.append(("text", _ascii([str(size) for size in self.resolutions]), row % count))
        for name in FIELDS:
            values = np.asarray(self.columns[name]).ravel()
            if values.dtype == object:      # past int64: Python's own digits
                columns.append(("text", _ascii([str(value) for value in values.tolist()]), row))
            else:
                columns.append(("int", values.astype(np.int64, copy=False), None))
        # each field then its comma (a newline last), as wide as its longest text or number
        layout, cursor = [], 0
        for kind, data, _ in columns:
            width = _digits(data) if kind == "int" else data.shape[1]
            layout.append((cursor, width))
            cursor += width + 1
        parts = [",".join(self.header()).encode("ascii") + b"\n"]
        tile = np.zeros((min(CSV_TILE, self.points), cursor), dtype=np.uint8)
        for first in range(0, self.points, CSV_TILE):
            rows = slice(first, min(first + CSV_TILE, self.points))
            table = tile[:rows.stop - rows.start]
            for (kind, data, index), (start, width) in zip(columns, layout):
                table[:, start:start + width] = data[index[rows]] if kind == "text" else _digit_bytes(data[rows], width)
                table[:, start + width] = ord(",")
            table[:, cursor - 1] = ord("\n")
            parts.append(table.tobytes().translate(None, b"\0"))
        return b"".join(parts)


def _ascii(texts: list[str]) -> Any:
    """The ASCII of ``texts``, one text a row, left-aligned and padded with NUL bytes."""
    import numpy as np

    width = max(len(text) for text in texts)
    table = np.zeros((len(texts), width), dtype=np.uint8)
    for i, text in enumerate(texts):
        data = text.encode("ascii")
        table[i, :len(data)] = np.frombuffer(data, dtype=np.uint8)
    return table


def _digits(values: Any) -> int:
    """Digits of the largest of ``values`` (non-negative integers)."""
    return max(1, len(str(int(values.max(initial=0)))))


_DIGITS: list[Any] = []


def _digit_words() -> Any:
    """The ASCII of four digits in one 32-bit word each (in memory order): 0000 .. 9999 with their zeros (a group
    inside a number), then 0 .. 9999 with NUL bytes for leading zeros (a number's first group), then four NULs."""
    import numpy as np

    if not _DIGITS:
        numbers = np.arange(10_000)
        characters = np.stack([(numbers // 10 ** (3 - i)) % 10 + 48 for i in range(4)], axis=1).astype(np.uint8)
        digits = 1 + (numbers >= 10) + (numbers >= 100) + (numbers >= 1000)         # 0 has one digit
        leading = characters * (np.arange(4)[None, :] >= 4 - digits[:, None])
        table = np.concatenate([characters, leading.astype(np.uint8), np.zeros((1, 4), dtype=np.uint8)])
        _DIGITS.append(np.ascontiguousarray(table).view(np.uint32)[:, 0])
    return _DIGITS[0]


def _digit_bytes(values: Any, width: int) -> Any:
    """The decimal digits of non-negative int64 ``values``, one row of ``width`` bytes a value, right-aligned: NUL
    bytes before a number's first digit (four digits at a time, by ``_digit_words``)."""
    import numpy as np

    chunks = -(-width // 4)
    words = np.empty((len(values), chunks), dtype=np.uint32)
    lookup, rest = _digit_words(), values
    for chunk in range(chunks - 1, -1, -1):
        high = rest // 10_000
        index = rest - high * 10_000 + np.where(high == 0, 10_000, 0)
        if chunk < chunks - 1:            # a group past the number's first digit: blank
            index[rest == 0] = 20_000
        words[:, chunk] = lookup[index]
        rest = high
    return words.view(np.uint8)[:, 4 * chunks - width:]


def _progress(total: int) -> Any:
    if sys.stderr.isatty() and total > 1:
        import click
        return click.progressbar(length=total, label="sweep", file=sys.stderr)
    return None


def _check_alphas(alphas: Any, entry: Any) -> None:
    """The same checks as ``costmodel table``'s, for an array of alphas."""
    import numpy as np

    from ..core.scaling import check_alpha

    if not np.isfinite(alphas).all():
        check_alpha(float(alphas[~np.isfinite(alphas)][0]))
    lowest, highest = float(alphas.min()), float(alphas.max())
    if not (0 < lowest and highest <= MAX_ALPHA):
        check_alpha(lowest if not 0 < lowest else highest)
    if entry is not None:
        if not entry.accepts_alpha and (lowest != 1.0 or highest != 1.0):
            entry.check_alpha(lowest if lowest != 1.0 else highest)
        if entry.alpha_choices:
            for alpha in sorted(set(alphas.tolist()) - set(entry.alpha_choices)):
                entry.check_alpha(alpha)


def sweep(model: Any, alphas: Sequence[float], resolutions: "Sequence[Any] | None" = None, *,
          rhos: "Sequence[float] | None" = None, batch: int = 1, convention: str = "costmodel",
          dtype: str = "float32", options: Mapping[str, Any] | None = None,
          depths: "Sequence[float] | None" = None) -> Sweep:
    """Every total of ``model`` at every (depth, alpha, size) of a grid. The grid is sized from the axes' lengths first
    (``ranges.check_grid``): past ``MAX_POINTS`` points or ``MAX_DEPTHS`` depths it is refused before any value is
    listed or any network built. Depths that build the same network share its count.

    :param model: a zoo name, a spec file, an import argument or a ``Network``.
    :param alphas: the width multipliers (a sequence or a ``Range``).
    :param resolutions: the input sizes (ints or (H, W)); None for the base size (or ``rhos``).
    :param rhos: resolution multipliers of the base size, instead of ``resolutions``.
    :param batch: images per batch.
    :param convention: what FLOPs count.
    :param dtype: the element type bytes are counted in.
    :param options: the model's own options.
    :param depths: depth multipliers (a network per depth, each counted over the whole alpha x size grid), or None
        for depth 1.
    :returns: the ``Sweep``: a column per total and per axis, a value per point (depth-major, then alpha).
    :raises CostModelError: one line, for a grid too large or a setting the model refuses."""
    import numpy as np

    if convention not in CONVENTIONS:
        raise CostModelError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")
    if resolutions is not None and rhos is not None:
        raise CostModelError("give resolutions or rhos, not both")
    # the grid's size from the axes' lengths, before any value is listed or any network built
    check_grid(depths, alphas, rhos if rhos is not None else resolutions, "rho" if rhos is not None else "resolution")
    alphas = list(alphas) if isinstance(alphas, Range) else alphas          # a range's values listed only now
    resolutions = list(resolutions) if isinstance(resolutions, Range) else resolutions
    rhos = list(rhos) if isinstance(rhos, Range) else rhos
    depths = list(depths) if isinstance(depths, Range) else depths
    try:
        alpha_values = np.asarray(alphas, dtype=np.float64)
    except (TypeError, ValueError):
        raise CostModelError("alphas must be numbers") from None
    if alpha_values.ndim != 1:
        raise CostModelError("alphas must be a flat sequence of numbers")
    alphas = alpha_values.tolist()
    batch = check_batch(batch)
    if depths is not None:
        depths = [check_depth(depth) for depth in depths]
    networks, entry = _networks(model, options, depths)
    network = networks[0]
    _check_alphas(alpha_values, entry)
    if entry is None and (alpha_values != 1.0).any():
        check_scales(network, float(alpha_values[alpha_values != 1.0][0]))
    if rhos is not None:
        sizes = [input_size(network.base_resolution, rho=rho) for rho in rhos]
    elif resolutions is not None:
        sizes = [input_size(network.base_resolution, resolution=resolution) for resolution in resolutions]
    else:
        sizes = [network.base_resolution]
    if entry is not None and not entry.accepts_resolution and set(sizes) != {network.base_resolution}:
        base = network.base_resolution
        raise CostModelError(f"model {network.name!r} has a fixed input size of "
                             f"{base[0] if base[0] == base[1] else f'{base[0]}x{base[1]}'}")
    if hasattr(entry, "at"):            # an imported module: each size is mapped, and must give the same nodes
        for size in sizes:
            if entry.at(size).nodes != network.nodes:
                raise CostModelError(f"{network.name}: at {size[0]}x{size[1]} the module maps to other nodes (an "
                                     "op costmodel does not count keeps a fixed shape); count each size with "
                                     "costmodel table")
    counted: dict[int, dict[str, Any]] = {}        # each network once, whatever depths share it
    for each in networks:
        if id(each) not in counted:
            counted[id(each)] = _grid_totals(each, alpha_values, sizes, batch, convention)
    parts = [counted[id(each)] for each in networks]
    width = DTYPE_BYTES[dtype]
    columns = _Columns(alphas, sizes, rhos, depths)
    for metric in total_metrics():
        values = _concatenate([part[metric.name].ravel() for part in parts])
        columns[metric.field] = _times(values, width) if metric.in_bytes else values
    return Sweep(network.name, convention, dtype, batch, tuple(alphas), tuple(sizes),
                 tuple(rhos) if rhos is not None else None, columns,
                 tuple(depths) if depths is not None else None)


def _networks(model: Any, options: Mapping[str, Any] | None, depths: "list[float] | None") -> tuple[list[Any], Any]:
    """The network at each depth (depth 1 where None), and what the model accepts (``settle.Settled.entry``); a
    network that equals the one of the depth before (the same nodes: the depths round to the same repeats) is that
    same object, so that it is counted once."""
    networks: list[Any] = []
    entry = None
    for depth in depths or (1.0,):
        settled = settle(model, options=options, depth=depth)
        network, entry = settled.network, entry or settled.entry
        if networks and _same_nodes(networks[-1], network):
            network = networks[-1]
        networks.append(network)
    return networks, entry


def _same_nodes(first: Any, second: Any) -> bool:
    """Whether two networks count alike: the same nodes, input and output (their depths may differ)."""
    return first is second or (first.nodes == second.nodes and first.input_channels == second.input_channels and
                               first.base_resolution == second.base_resolution and first.output == second.output)


def _concatenate(arrays: list[Any]) -> Any:
    """One array of the per-depth arrays (Python integers if any holds them)."""
    import numpy as np

    if len(arrays) == 1:
        return arrays[0]
    if any(array.dtype == object for array in arrays):
        return np.concatenate([array.astype(object) for array in arrays])
    return np.concatenate(arrays)


class _Columns(dict):
    """The sweep's columns: the metrics, and the grid's own columns (``alpha``, ``resolution``, ``rho``) made
    when first read."""

    def __init__(self, alphas: Sequence[float], sizes: list[tuple[int, int]], rhos: "Sequence[float] | None",
                 depths: "Sequence[float] | None" = None):
        super().__init__()
        self._grid = (alphas, sizes, rhos, depths)

    def __missing__(self, key: str) -> Any:
        import numpy as np

        alphas, sizes, rhos, depths = self._grid
        layers = len(depths) if depths is not None else 1
        if key == "alpha":
            value = np.tile(np.repeat(np.asarray(alphas, dtype=np.float64), len(sizes)), layers)
        elif key == "resolution":
            square = all(h == w for h, w in sizes)
            value = np.tile(np.asarray([h if square else f"{h}x{w}" for h, w in sizes],
                                       dtype=np.int64 if square else object), len(alphas) * layers)
        elif key == "rho" and rhos is not None:
            value = np.tile(np.asarray(rhos, dtype=np.float64), len(alphas) * layers)
        elif key == "depth" and depths is not None:
            value = np.repeat(np.asarray(depths, dtype=np.float64), len(alphas) * len(sizes))
        else:
            raise KeyError(key)
        self[key] = value
        return value


def _times(values: Any, factor: int) -> Any:
    """``values * factor`` (in place: ``values`` is the sweep's own array), in Python integers where int64 would
    overflow."""
    import numpy as np

    if values.dtype != object and len(values) and int(values.max()) >= (2 ** 63 - 1) // factor:
        values = values.astype(object)
    if values.dtype == object or not values.flags.writeable:
        return values * factor
    values *= np.int64(factor)
    return values


def _grid_totals(network: Any, alphas: Any, sizes: list[tuple[int, int]], batch: int,
                 convention: str) -> dict[str, Any]:
    """Every total over the grid, by the grid program, or point by point where the network does not separate."""
    import numpy as np

    program = plan_of(network).grid(convention)
    if program is not None:
        heights = np.asarray([h for h, _ in sizes], dtype=np.float64)
        widths = np.asarray([w for _, w in sizes], dtype=np.float64)
        sums, peak, failed_alpha, failed_size = program.evaluate(alphas, heights, widths, batch)
        if failed_alpha.any() or failed_size.any():
            failed = failed_alpha[:, None] | failed_size[None, :]
            row, column = (int(i) for i in np.argwhere(failed)[0])
            _fail(network, float(alphas[row]), sizes[column], batch)
        shape = (len(alphas), len(sizes))
        totals = {metric: values if values.shape == shape else np.broadcast_to(values, shape)
                  for metric, values in sums.items()}
        totals["peak_activation"] = peak if peak.shape == shape else np.broadcast_to(peak, shape)
        return totals
    return _point_by_point(network, alphas.tolist(), sizes, batch, convention)


def _fail(network: Any, alpha: float, size: tuple[int, int], batch: int) -> None:
    """Raise the interpreter's message for a grid point that does not fit."""
    point = f"alpha={alpha:g}, resolution={size[0] if size[0] == size[1] else f'{size[0]}x{size[1]}'}"
    try:
        analyze(network, alpha=alpha, resolution=size, batch=batch)
    except CostModelError as error:       # the interpreter names the node and what does not fit
        raise within(f"{point}: ", error) from None
    raise CostModelError(f"{point}: the network does not fit at this setting")


def _point_by_point(network: Any, alphas: list[float], sizes: list[tuple[int, int]], batch: int,
                    convention: str) -> dict[str, Any]:
    import numpy as np

    names = [metric.name for metric in total_metrics()]
    values: dict[str, list[int]] = {name: [] for name in names}
    bar = _progress(len(alphas))
    try:
        for alpha in alphas:
            for size in sizes:
                try:
                    counts = count(network, alpha, size, batch, convention)
                except CostModelError:
                    _fail(network, alpha, size, batch)
                for name in names:
                    values[name].append(counts.peak if name == "peak_activation" else sum(counts.metric(name)))
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.render_finish()
    shape = (len(alphas), len(sizes))
    result = {}
    for name, numbers in values.items():
        dtype = np.int64 if max(numbers) < 2 ** 63 else object
        result[name] = np.asarray(numbers, dtype=dtype).reshape(shape)
    return result


class _CallableModule(types.ModuleType):
    """This module, callable as its ``sweep``: ``costmodel.sweep(...)`` is the function, as ``costmodel.analyze`` and
    ``costmodel.fit`` are, while ``costmodel.sweep.sweep`` and ``import costmodel.sweep`` (its path before it moved)
    keep working."""

    def __call__(self, *args: Any, **kwargs: Any) -> Sweep:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
