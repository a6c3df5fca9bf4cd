"""``costmodel fit``: the settings of a network that meet a budget, and the front a designer chooses from.

The width multiplier alpha and the resolution multiplier rho exist so that a designer can trade accuracy for cost
(MobileNetV1, Section 4.2; EfficientNet's compound scaling adds depth). ``fit`` answers the inverse of ``table``:
given limits on the exact counts ("at most 150M mult-adds and 2 MB of peak activations"), which settings of a grid
of alpha x resolution (x depth) meet every limit, and which of those are maximal: no other setting that meets the
limits is at least as wide, at least as large an input and at least as deep. Those are the front: each is a best
choice for some preference between width, resolution and depth.

The grid is counted at once by the sweep engine (``sweep``): every total at every point, exact. Feasibility is a
comparison of those integers with the limits, and the front is found on the grid's (depth, alpha, resolution) axes
with a cumulative "any feasible setting at least this large" (three passes of a suffix OR), so that the whole search
takes a few array operations whatever the grid's size.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from ..core.errors import CostModelError, ParameterError, param
from ..core.formatting import counted
from ..core.metrics import total_metrics
from ..core.units import BYTES, COUNT, TIME, parse_quantity

# the limits fit accepts, by option name: the total each limits (its unit, a count or bytes, is the metric's own)
LIMITS = {"max_params": "params", "max_madds": "madds", "max_flops": "flops",
          "max_memory_access": "memory_access_bytes", "max_peak_memory": "peak_activation_bytes"}
FIELDS = tuple(metric.field for metric in total_metrics())
DEFAULT_ALPHAS = tuple((25 + 5 * i) / 100 for i in range(26))      # 0.25 to 1.5 by 0.05, each as typed
DEFAULT_DEPTHS = tuple((10 + i) / 10 for i in range(11))            # 1 to 2 by 0.1

MAX_PRICED = 5_000            # settings a latency limit may analyze and price, each a whole analysis


def read_limits(given: Mapping[str, Any]) -> dict[str, int]:
    """The limits on totals, from the limits by parameter name.

    :param given: {parameter name in ``LIMITS``: a number, or text with a unit (``"150M"``, ``"2MB"``)}; None is
        not given.
    :returns: {total field: most allowed}, each read by ``units.parse_quantity`` as a count or as bytes as its
        metric is.
    """
    in_bytes = {metric.field: metric.in_bytes for metric in total_metrics()}
    return {field: parse_quantity(given[name], BYTES if in_bytes[field] else COUNT, name)
            for name, field in LIMITS.items() if given.get(name) is not None}


@dataclass(frozen=True)
class Front:
    """What ``fit`` found: the grid it searched, the limits, and the front's settings with every total, largest
    mult-adds first."""

    model: str
    limits: Mapping[str, int]
    alphas: tuple[float, ...]
    resolutions: tuple[int, ...]
    depths: "tuple[float, ...] | None"
    feasible: int                      # settings of the grid that meet every limit
    rows: tuple[dict[str, Any], ...]   # the front
    max_latency_ms: float | None = None
    profile: str = ""                  # the device profile's name, with a latency limit
    least: Mapping[str, int] = dataclasses.field(default_factory=dict)    # each limited total's least on the grid
    max_train_bytes: int | None = None     # most bytes of a training step's peak (``engine.training``)
    optimizer: str = "sgd"                 # whose state that peak holds

    @property
    def points(self) -> int:
        return len(self.alphas) * len(self.resolutions) * len(self.depths or (1,))

    def columns(self) -> tuple[str, ...]:
        """The columns of the front's table.

        :returns: depth, alpha, resolution, every total, the predicted latency (with a latency limit), a training
            step's peak (with a training-memory limit) and the published accuracy (for a model with published
            figures)."""
        published = ("published_top1", "published_setting", "published_source") \
            if any("published_top1" in row for row in self.rows) else ()
        return (("depth", "alpha", "resolution") + FIELDS +
                (("latency_ms",) if self.max_latency_ms is not None else ()) +
                (("train_peak_bytes",) if self.max_train_bytes is not None else ()) + published)

    def to_frame(self) -> Any:
        """The front as a table.

        :returns: a pandas DataFrame, one row per setting (the columns of ``columns``)."""
        import pandas

        return pandas.DataFrame(list(self.rows), columns=list(self.columns()))

    frame = to_frame          # its name before every result had ``to_frame``

    def to_dict(self) -> dict[str, Any]:
        """The front as JSON holds it.

        :returns: the model, the limits, the grid (its alphas, resolutions and depths), how many points it has and
            how many met the limits, and the front's rows."""
        limits: dict[str, Any] = dict(self.limits)
        if self.max_latency_ms is not None:
            limits["latency_ms"] = self.max_latency_ms
            limits["profile"] = self.profile
        if self.max_train_bytes is not None:
            limits["train_peak_bytes"] = self.max_train_bytes
            limits["optimizer"] = self.optimizer
        return {"model": self.model, "limits": limits, "grid": {
            "alpha": list(self.alphas), "resolution": list(self.resolutions),
            "depth": list(self.depths) if self.depths is not None else None},
            "points": self.points, "feasible": self.feasible, "front": [dict(row) for row in self.rows]}


def default_grid(model: Any, options: Mapping[str, Any] | None = None) -> tuple[list[float], list[int],
                                                                              "list[float] | None"]:
    """The grid ``fit`` searches unless told: alpha 0.25 to 1.5 by 0.05 (the model's own widths where it comes in a
    few; 1 where it does not scale with alpha), resolution from 96 to 1.5 x the base size by 8 (the base alone
    where the input is fixed), and depth 1 to 2 by 0.1 only where the model's family published depth scaling
    (EfficientNet's compound scaling; ``ModelEntry.published_depth``): elsewhere a deeper setting is one no paper
    trained, so depth is searched only when asked for.

    :param model: a zoo name, a spec file, an import argument or a ``Network``.
    :param options: the model's own options.
    :returns: (alphas, resolutions, depths or None: no depth axis)."""
    from ..sources.settle import settle

    setting = settle(model, options=options)
    network, entry = setting.network, setting.entry
    if entry is not None and entry.alpha_choices:
        alphas = list(entry.alpha_choices)
    elif (entry is None or entry.accepts_alpha) and network.scales_with_alpha:
        alphas = list(DEFAULT_ALPHAS)
    else:
        alphas = [1.0]
    base = network.base_resolution[0]
    if entry is not None and not entry.accepts_resolution:
        resolutions = [base]
    else:
        resolutions = list(range(96, max(96, int(1.5 * base)) + 1, 8))
    depths = list(DEFAULT_DEPTHS) if entry is not None and entry.published_depth else None
    return alphas, resolutions, depths


def search(model: Any, limits: Mapping[str, Any], alphas: "Sequence[float] | None" = None,
           resolutions: "Sequence[int] | None" = None, depths: "Sequence[float] | None" = None, *,
           options: Mapping[str, Any] | None = None, batch: int = 1, convention: str = "costmodel",
           dtype: str = "float32", max_latency_ms: float | None = None, profile: Any = None,
           max_train_bytes: int | None = None, optimizer: str = "sgd") -> Front:
    """The front of ``model`` under ``limits`` over a grid: the settings that meet every limit and that no other such
    setting dominates (at least as wide, large and deep).

    :param model: a zoo name, a spec file, an import argument or a ``Network``.
    :param limits: {field: most allowed}, fields of ``costmodel table``'s totals (``read_limits`` reads units).
    :param alphas: the width multipliers to try (None: ``default_grid``'s).
    :param resolutions: the input sizes to try (None: ``default_grid``'s).
    :param depths: the depth multipliers to try (None: ``default_grid``'s).
    :param options: the model's own options.
    :param batch: images per batch.
    :param convention: what FLOPs count.
    :param dtype: the element type bytes are counted in.
    :param max_latency_ms: most predicted latency, with ``profile``.
    :param profile: a calibrated ``latency.Profile``, which prices each setting (with ``max_latency_ms``).
    :param max_train_bytes: most bytes of a training step's peak at ``batch`` (``engine.training``: parameters,
        gradients, ``optimizer``'s state, saved activations and the largest transient).
    :param optimizer: the optimizer of that step.
    :returns: the ``Front``.
    :raises ParameterError: for a latency limit without a profile (or the reverse), or no limit at all."""
    import numpy as np

    from ..core.ranges import check_grid
    from .sweep import sweep

    if (max_latency_ms is None) != (profile is None):
        raise ParameterError("a latency limit needs a device profile and a profile needs a latency limit: give ",
                             param("max_latency_ms"), " with ", param("profile", "PROFILE"),
                             " (costmodel calibrate writes one)")
    if not limits and max_latency_ms is None and max_train_bytes is None:
        names = ("max_madds", "max_params", "max_flops", "max_memory_access", "max_peak_memory", "max_latency_ms",
                 "max_train_memory")
        raise ParameterError("fit needs at least one limit (", *_listed([param(name) for name in names]), ")")
    unknown = sorted(set(limits) - set(FIELDS))
    if unknown:
        raise CostModelError(f"unknown limit {unknown[0]!r}; limits are on {', '.join(FIELDS)}")
    # the axes given, counted before the default grid builds the model: one line for a grid past MAX_POINTS
    check_grid(depths, alphas, resolutions)
    default_alphas, default_resolutions, default_depths = default_grid(model, options)
    alphas = _ascending(alphas, "alphas") if alphas is not None else default_alphas
    resolutions = _ascending(resolutions, "resolutions") if resolutions is not None else default_resolutions
    depths = _ascending(depths, "depths") if depths is not None else default_depths
    if profile is not None or max_train_bytes is not None:
        _check_priced(len(depths or (1,)), len(alphas), len(resolutions))
    result = sweep(model, alphas, resolutions, batch=batch, convention=convention, dtype=dtype, options=options,
                   depths=depths)
    shape = (len(depths or (1,)), len(alphas), len(resolutions))
    feasible = np.ones(shape, dtype=bool)
    for field, limit in limits.items():
        feasible &= (np.asarray(result.columns[field]) <= limit).reshape(shape)
    least = {field: int(np.asarray(result.columns[field]).min()) for field in limits}
    latency = None
    if profile is not None and max_latency_ms is not None:         # given together (checked above)
        latency = _LatencyLimit(model, alphas, resolutions, depths, profile,
                                dict(options=options, batch=batch, dtype=dtype))
        feasible &= latency.within(feasible, max_latency_ms)
    training = None
    if max_train_bytes is not None:
        training = _TrainingLimit(model, alphas, resolutions, depths, optimizer,
                                  dict(options=options, batch=batch, dtype=dtype, convention=convention))
        feasible &= training.within(feasible, max_train_bytes)
    # any feasible setting in the orthant at least as deep, wide and large as each point
    reach = feasible.copy()
    for axis in range(3):
        reach = np.flip(np.logical_or.accumulate(np.flip(reach, axis), axis=axis), axis)
    front = feasible.copy()
    for axis in range(3):
        beyond = np.zeros(shape, dtype=bool)
        index = [slice(None)] * 3
        index[axis] = slice(0, -1)
        source = [slice(None)] * 3
        source[axis] = slice(1, None)
        beyond[tuple(index)] = reach[tuple(source)]
        front &= ~beyond
    rows = []
    for flat in np.flatnonzero(front.ravel()):
        d, a, r = np.unravel_index(flat, shape)
        row: dict[str, Any] = {"depth": float(depths[d]) if depths is not None else 1.0}
        row["alpha"], row["resolution"] = float(alphas[a]), int(resolutions[r])
        for field in FIELDS:
            row[field] = int(result.columns[field][flat])
        if latency is not None:
            row["latency_ms"] = latency.milliseconds(int(d), int(a), int(r))
        if training is not None:
            row["train_peak_bytes"] = int(training.value(int(d), int(a), int(r)))
        if isinstance(model, str):
            row.update(published_accuracy(model, options, row))
        rows.append(row)
    rows.sort(key=lambda row: (-row["madds"], -row["alpha"], -row["resolution"]))
    return Front(result.model, dict(limits), tuple(alphas), tuple(resolutions),
                 tuple(depths) if depths is not None else None, int(feasible.sum()), tuple(rows),
                 max_latency_ms, profile.name if profile is not None else "", least, max_train_bytes, optimizer)


def _listed(items: Sequence[Any]) -> list[Any]:
    """``items`` with ", " between them."""
    return [piece for index, item in enumerate(items) for piece in ((", ", item) if index else (item,))]


def _check_priced(depths: int, alphas: int, resolutions: int) -> None:
    """A latency or training-memory limit analyzes settings one by one (``_MonotoneLimit``): at most a bisection over
    the resolutions per (depth, alpha); one line where that could pass ``MAX_PRICED``, before any is analyzed."""
    steps = max(1, math.ceil(math.log2(resolutions + 1)))
    priced = depths * alphas * steps
    if priced > MAX_PRICED:
        grid = f"{counted(depths, 'depth')} x {counted(alphas, 'alpha')} x {counted(steps, 'bisection step')} " \
            f"over {counted(resolutions, 'resolution')}"
        raise CostModelError(f"a latency or training-memory limit analyzes up to {priced:,} settings of this grid "
                             f"({grid}), more than the limit of {MAX_PRICED:,}: give fewer depths or alphas")


def _ascending(values: Any, name: str) -> list[Any]:
    """The distinct values of a grid axis, ascending; resolutions are whole numbers (fit searches square sizes).
    One line naming the first value that is not such a number."""
    kind = numbers.Integral if name == "resolutions" else numbers.Real
    for value in values:
        if isinstance(value, bool) or not isinstance(value, kind):
            what = "whole numbers of pixels (fit searches square sizes)" if name == "resolutions" else "numbers"
            raise ParameterError(param(name), f" must be {what}, got {value!r}")
    return sorted({int(value) for value in values} if name == "resolutions" else set(values))


def published_accuracy(model: str, options: Mapping[str, Any] | None,
                       row: Mapping[str, Any]) -> "dict[str, Any]":
    """The published accuracy of ``row``'s very setting of ``model`` (same options, alpha, resolution and depth).

    costmodel counts costs; it does not estimate accuracy. A setting that no paper trained gets no accuracy, not
    the figure of a published setting near it (alpha 1.45 at 152 pixels is not alpha 1.4 at 224).

    :param model: a zoo name.
    :param options: the model's own options, as given (typed by ``typed_option`` before they are compared).
    :param row: a setting: {"alpha", "resolution", "depth" (default 1)}.
    :returns: {"published_top1", "published_setting", "published_source"}: the figure, the paper's name of the
        setting and where it is printed; the three are None for a setting not published, and the dict is empty
        for a model with no published accuracy at all."""
    from .published import published_points, typed_option

    typed = {name: typed_option(model, name, value) for name, value in (options or {}).items()}
    candidates = [point for point in published_points() if point.model == model and dict(point.options) == typed]
    if not candidates:
        return {}
    for point in candidates:
        if (math.isclose(point.alpha, row["alpha"], rel_tol=1e-9) and
                (point.resolution or 224) == row["resolution"] and
                math.isclose(point.depth, row.get("depth", 1.0), rel_tol=1e-9)):
            return {"published_top1": point.top1, "published_setting": point.label,
                    "published_source": point.source}
    return {"published_top1": None, "published_setting": None, "published_source": None}


class _MonotoneLimit:
    """A limit on a value that each grid setting is analyzed for (``value``, once per setting), which grows with the
    resolution at each (depth, alpha): predicted latency, a training step's peak."""

    def __init__(self, model: Any, alphas: Sequence[float], resolutions: Sequence[int],
                 depths: "Sequence[float] | None", arguments: Mapping[str, Any]):
        self.model, self.alphas, self.resolutions, self.depths = model, alphas, resolutions, depths or (1.0,)
        self.arguments = arguments
        self.known: dict[tuple[int, int, int], float] = {}

    def measure(self, result: Any) -> float:
        raise NotImplementedError

    def analyze(self, d: int, a: int, r: int) -> Any:
        from ..sources.analyze import analyze

        return analyze(self.model, alpha=self.alphas[a], resolution=self.resolutions[r], depth=self.depths[d],
                       **self.arguments)

    def value(self, d: int, a: int, r: int) -> float:
        key = (int(d), int(a), int(r))
        if key not in self.known:
            self.known[key] = self.measure(self.analyze(*key))
        return self.known[key]

    def within(self, feasible: Any, limit: float) -> Any:
        """Which settings of ``feasible`` (the count limits met) have a value of at most ``limit``. Every count grows
        with the resolution and so do these values, so at each (depth, alpha) they are the resolutions up to a
        largest one, found by bisection: about log2(resolutions) analyses per (depth, alpha)."""
        import numpy as np

        within = np.zeros(feasible.shape, dtype=bool)
        for d in range(feasible.shape[0]):
            for a in range(feasible.shape[1]):
                allowed = np.flatnonzero(feasible[d, a])      # a prefix: the counts grow with the resolution
                low, high = 0, len(allowed)
                while low < high:                              # the first resolution over the limit
                    middle = (low + high) // 2
                    if self.value(d, a, int(allowed[middle])) <= limit:
                        low = middle + 1
                    else:
                        high = middle
                within[d, a, allowed[:low]] = True
        return within


class _LatencyLimit(_MonotoneLimit):
    """The predicted latency of grid settings, as ``table --device`` gives it (``Profile.layer_ms`` of an analysis
    in the profile's view)."""

    def __init__(self, model: Any, alphas: Sequence[float], resolutions: Sequence[int],
                 depths: "Sequence[float] | None", profile: Any, arguments: Mapping[str, Any]):
        super().__init__(model, alphas, resolutions, depths, {**arguments, "fused": profile.fused})
        self.profile = profile

    def measure(self, result: Any) -> float:
        return sum(self.profile.layer_ms(result))

    def milliseconds(self, d: int, a: int, r: int) -> float:
        return self.value(d, a, r)


class _TrainingLimit(_MonotoneLimit):
    """The peak bytes of a training step at each grid setting (``engine.training``)."""

    def __init__(self, model: Any, alphas: Sequence[float], resolutions: Sequence[int],
                 depths: "Sequence[float] | None", optimizer: str, arguments: Mapping[str, Any]):
        super().__init__(model, alphas, resolutions, depths, arguments)
        self.optimizer = optimizer

    def measure(self, result: Any) -> float:
        from ..engine.training import training

        return training(result, self.optimizer).totals["peak_bytes"]


def fit(model: Any, *, max_params: Any = None, max_madds: Any = None, max_flops: Any = None,
        max_memory_access: Any = None, max_peak_memory: Any = None, alphas: "Sequence[float] | None" = None,
        resolutions: "Sequence[int] | None" = None, depths: "Sequence[float] | None" = None,
        options: Mapping[str, Any] | None = None, batch: int = 1, convention: str = "costmodel",
        dtype: str = "float32", max_latency: Any = None, device: Any = None, max_train_memory: Any = None,
        optimizer: str = "sgd") -> Any:
    """The front of ``model`` under the limits given: the settings of the grid that meet every limit and that no other
    such setting dominates (at least as wide, large and deep).

        >>> costmodel.fit("mobilenet_v1", max_madds="150M")          # doctest: +SKIP

    :param model: a zoo name, a spec file, an import argument or a ``Network``.
    :param max_params: most parameters (a number, or a string with a unit: ``"2M"``).
    :param max_madds: most mult-adds (``"150M"``).
    :param max_flops: most FLOPs under ``convention``.
    :param max_memory_access: most bytes of memory access (``"50MB"``).
    :param max_peak_memory: most bytes of peak activation memory (``"1MB"``).
    :param alphas: the width multipliers to try (default: the model's grid, ``default_grid``).
    :param resolutions: the input sizes to try (default: the model's grid).
    :param depths: the depth multipliers to try (default: the model's grid, 1 alone for a model without stages).
    :param options: the model's own options.
    :param batch: images per batch.
    :param convention: what FLOPs count.
    :param dtype: the element type bytes are counted in.
    :param max_latency: most predicted latency (``"20ms"``), with ``device``.
    :param device: a calibrated profile: a file written by ``costmodel calibrate`` or a ``latency.Profile``.
    :param max_train_memory: most bytes of a training step's peak at ``batch`` (``"24GB"``).
    :param optimizer: the optimizer of that step (``sgd``, ``momentum``, ``adam``, ``adamw``).
    :returns: a pandas DataFrame, one row per setting of the front with every exact total, largest mult-adds
        first.
    :raises ParameterError: naming the parameter, for a limit that cannot be read or no limit at all."""
    limits = read_limits({"max_params": max_params, "max_madds": max_madds, "max_flops": max_flops,
                          "max_memory_access": max_memory_access, "max_peak_memory": max_peak_memory})
    profile = device
    if isinstance(device, str):
        from ..latency.devices import load_profile

        profile = load_profile(device)
    latency = parse_quantity(max_latency, TIME, "max_latency") if max_latency is not None else None
    train = parse_quantity(max_train_memory, BYTES, "max_train_memory") if max_train_memory is not None else None
    return search(model, limits, alphas, resolutions, depths, options=options, batch=batch, convention=convention,
                  dtype=dtype, max_latency_ms=latency, profile=profile, max_train_bytes=train,
                  optimizer=optimizer).to_frame()


@dataclass(frozen=True)
class BatchFit:
    """The largest batch whose training step fits a memory limit at one setting (``largest_batch``). A step's peak
    is ``fixed_bytes + per_sample_bytes * batch`` exactly (parameters, gradients and optimizer state, and
    normalization statistics, do not grow with the batch; every activation and gradient does)."""

    model: str
    alpha: float
    resolution: tuple[int, int]
    depth: float
    optimizer: str
    limit_bytes: int
    batch: int
    peak_bytes: int
    next_peak_bytes: int
    fixed_bytes: int
    per_sample_bytes: int

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON holds it.

        :returns: every field."""
        return {**dataclasses.asdict(self), "resolution": list(self.resolution)}


def largest_batch(model: Any, max_train_memory: Any, *, alpha: "float | None" = None,
                  resolution: "int | None" = None, depth: "float | None" = None,
                  options: Mapping[str, Any] | None = None, optimizer: str = "sgd", dtype: str = "float32",
                  frozen: Sequence[str] = ()) -> BatchFit:
    """The largest batch whose training step's peak (``engine.training``) is at most ``max_train_memory`` at one
    setting. The peak is affine in the batch, read from batches 2 and 3, and the answer is checked exactly: the peak
    at it is within the limit and at one more it is not.

        >>> costmodel.largest_batch("mobilenet_v2", "24GB", optimizer="adam")       # doctest: +SKIP

    :param model: a zoo name, a spec file, an import argument or a ``Network``.
    :param max_train_memory: the most bytes (``"24GB"``).
    :param alpha: the width multiplier.
    :param resolution: the input size (square).
    :param depth: the depth multiplier.
    :param options: the model's own options.
    :param optimizer: whose state the step holds (``sgd``, ``momentum``, ``adam``, ``adamw``).
    :param dtype: the element type bytes are counted in.
    :param frozen: nodes whose parameters are not trained.
    :returns: the ``BatchFit``.
    :raises CostModelError: when not even a batch of 1 fits (or a batch of 1 cannot train: BatchNorm)."""
    from ..engine.training import training
    from ..sources.analyze import analyze

    limit = parse_quantity(max_train_memory, BYTES, "max_train_memory")

    def peak(batch: int) -> tuple[int, Any]:
        result = analyze(model, alpha=alpha, resolution=resolution, depth=depth, options=options, batch=batch,
                         dtype=dtype)
        return training(result, optimizer, frozen).totals["peak_bytes"], result

    two, result = peak(2)
    per_sample = peak(3)[0] - two
    fixed = two - 2 * per_sample
    batch = (limit - fixed) // per_sample if per_sample > 0 else 0
    if batch < 1:
        raise CostModelError(f"not even a batch of 1 of {result.model} fits {limit:,} bytes in training: a step holds "
                             f"{fixed:,} bytes whatever the batch and {per_sample:,} per image")
    at, after = peak(batch)[0], peak(batch + 1)[0]
    if not at <= limit < after:          # the affine model is exact; a failure here is a defect
        raise RuntimeError(f"the training peak is not affine in the batch: {at} at {batch}, {after} at {batch + 1}")
    return BatchFit(result.model, result.alpha, result.resolution, result.depth, optimizer, limit, batch, at, after,
                    fixed, per_sample)
