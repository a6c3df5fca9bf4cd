"""Predicted latency from a calibrated device profile (``costmodel calibrate``; ``table --device PROFILE``).

A profile holds, per layer kind and per variant of a kind whose cost the counts do not tell apart
(``kernel_key``), a linear model of a kernel's latency fitted on measured kernels of varied shapes:

    latency (us) = overhead_us + us_per_mmadd * madds / 10^6 + us_per_mb * memory access bytes / 10^6

(a layer takes its key's model, else its kind's, else ``default``). The terms are what the hardware pays for: a fixed
cost per kernel launch, arithmetic, and traffic; a kind's coefficients say which dominates it (a depthwise convolution's
traffic, a pointwise one's arithmetic). A layer inside a network costs more than its kernel timed alone, and the
profile's **context** says how much, fitted on whole synthetic networks (``latency.synthetic``, issue 25):

    layer latency (us) = scale x kernel latency + us_per_layer

A kernel whose traffic does not fit in the machine's cache streams it from memory, at a lower bandwidth (measured
here: an element-wise add or ReLU6 costs 21-30 us per 10^6 bytes up to about 10 MB of traffic and 50-65 us beyond
about 20 MB). A profile fitted with a **cache threshold** (``cache_mb``) adds, to a kernel whose memory access
exceeds it, ``us_per_mb_beyond`` per 10^6 bytes of all its traffic; calibrate picks the threshold among
``CACHE_CANDIDATES`` that fits its kernels best. A profile without one prices all traffic alike.

A network's predicted latency is the sum over its layers, in the view the profile was measured in (``view``: torch's
eager CPU runs every node, "unfused"; an engine that fuses, "fused"). A profile without a context (calibrated
before it) has scale 1 and nothing per layer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..core.errors import CostModelError
from ..core.tomlfiles import number_in

TERMS = ("overhead_us", "us_per_mmadd", "us_per_mb")
BEYOND = "us_per_mb_beyond"     # the extra cost per 10^6 bytes of a kernel whose traffic exceeds the cache threshold
# the cache thresholds calibrate tries, in 10^6 bytes of a kernel's memory access (None: no threshold)
CACHE_CANDIDATES: "tuple[float | None, ...]" = (None, 4.0, 6.0, 8.0, 12.0, 16.0, 24.0, 32.0, 48.0, 64.0)
MAX_CACHE_MB = 1e6            # 1 TB: past any cache
MEMORY_BOUND = ("batchnorm", "activation", "add", "mul", "concat", "shuffle")
VIEWS = ("unfused", "fused")
# what ran the kernels a profile was measured on: torch's eager CPU (every profile before issue 25's item 3), or ONNX
# Runtime's CPU provider (``calibrate --engine onnxruntime``), which runs the fused view
ENGINES = ("torch", "onnxruntime")
# what each kernel's measured time is: the minimum of its runs (the timing protocol, ``protocol.py``), or the median
# (profiles calibrated before issue 25, which say nothing and are read as medians)
STATISTICS = ("min", "median")
CALL_ONLY = ("flatten", "reshape", "split", "dropout")
# Bounds of a profile file. A real CPU's terms are a few us per kernel, about 10^2 to 10^4 us per 10^6 mult-adds
# and 10^1 to 10^4 us per 10^6 bytes (a microcontroller's, 10^5 to 10^6); 10^9 us (1,000 s) is past anything
# measured, and keeps every prediction finite at the largest counts costmodel takes.
MAX_US = 1e9
MAX_SAMPLES = 10**9           # kernels measured for one kind
MAX_THREADS = 4096            # the largest machines have a few thousand hardware threads
_UNITS = ("us per kernel", "us per 10^6 mult-adds", "us per 10^6 bytes")
_PROFILE_FIELDS = ("name", "description", "view", "threads", "statistic", "cache_mb", "engine")
_CONTEXT_FIELDS = ("scale", "us_per_layer", "networks")
MAX_SCALE = 100.0             # a layer in a network at most 100 times its kernel alone
_KIND_FIELDS = (*TERMS, BEYOND, "samples")


def _count(field: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CostModelError(f"{field} must be an integer in [{low}, {high:,}], got {value!r}")


@dataclass(frozen=True)
class KernelModel:
    """A kernel's latency model (``TERMS``, and ``us_per_mb_beyond`` past a profile's cache threshold); built only
    with every term a number in [0, ``MAX_US``] (stored as a float) and ``samples`` an integer in [0,
    ``MAX_SAMPLES``], else ``CostModelError`` naming the field."""

    overhead_us: float
    us_per_mmadd: float
    us_per_mb: float
    samples: int = 0
    us_per_mb_beyond: float = 0.0

    def __post_init__(self) -> None:
        for term, unit in zip((*TERMS, BEYOND), (*_UNITS, _UNITS[2])):
            value = getattr(self, term)
            if not number_in(value, 0, MAX_US):
                raise CostModelError(f"{term} must be a number in [0, {MAX_US:g}] ({unit}), got {value!r}")
            object.__setattr__(self, term, float(value) + 0.0)      # -0.0 is 0.0
        _count("samples", self.samples, 0, MAX_SAMPLES)

    def microseconds(self, madds: int, memory_bytes: int, cache_mb: "float | None" = None) -> float:
        """A kernel's predicted latency: ``overhead_us + us_per_mmadd * madds / 10^6 + us_per_mb * bytes / 10^6``,
        plus ``us_per_mb_beyond * bytes / 10^6`` when the bytes exceed ``cache_mb`` x 10^6.

        :param madds: the kernel's mult-adds.
        :param memory_bytes: the kernel's memory access in bytes.
        :param cache_mb: the profile's cache threshold in 10^6 bytes (None: no threshold).
        :returns: microseconds."""
        latency = self.overhead_us + self.us_per_mmadd * madds / 1e6 + self.us_per_mb * memory_bytes / 1e6
        if cache_mb is not None and memory_bytes / 1e6 > cache_mb:
            latency += self.us_per_mb_beyond * memory_bytes / 1e6
        return latency


@dataclass(frozen=True)
class Profile:
    """A device's calibrated kernel models."""

    name: str
    description: str
    view: str
    threads: int
    kinds: Mapping[str, KernelModel]
    statistic: str = "median"         # of each kernel's runs, as measured (``STATISTICS``)
    scale: float = 1.0                # the context: a layer's kernel latency times this, plus us_per_layer
    us_per_layer: float = 0.0
    networks: int = 0                 # synthetic networks the context was fitted on (0: no context)
    cache_mb: "float | None" = None   # the cache threshold in 10^6 bytes of a kernel's traffic (None: none)
    engine: str = "torch"             # what ran the kernels (``ENGINES``)

    def __post_init__(self) -> None:
        """Built only when every field is right (``CostModelError`` naming the field otherwise), so that every
        profile prices every layer with finite numbers and ``to_toml`` writes a file that loads back."""
        for field in ("name", "description"):
            if not isinstance(getattr(self, field), str):
                raise CostModelError(f"{field} must be a string, got {getattr(self, field)!r}")
        if self.view not in VIEWS:
            raise CostModelError(f"view must be one of {', '.join(VIEWS)}, got {self.view!r}")
        if self.engine not in ENGINES:
            raise CostModelError(f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}")
        if self.engine == "onnxruntime" and self.view != "fused":
            raise CostModelError(f"view must be 'fused' for the onnxruntime engine (it folds BatchNorm and fuses "
                                 f"activations), got {self.view!r}")
        if self.statistic not in STATISTICS:
            raise CostModelError(f"statistic must be one of {', '.join(STATISTICS)}, got {self.statistic!r}")
        if not number_in(self.scale, 0, MAX_SCALE) or self.scale == 0:
            raise CostModelError(f"scale must be a number in (0, {MAX_SCALE:g}], got {self.scale!r}")
        if not number_in(self.us_per_layer, 0, MAX_US):
            raise CostModelError(f"us_per_layer must be a number in [0, {MAX_US:g}], got {self.us_per_layer!r}")
        object.__setattr__(self, "scale", float(self.scale))
        object.__setattr__(self, "us_per_layer", float(self.us_per_layer) + 0.0)
        if self.cache_mb is not None:
            if not number_in(self.cache_mb, 0, MAX_CACHE_MB) or self.cache_mb == 0:
                raise CostModelError(f"cache_mb must be a number in (0, {MAX_CACHE_MB:g}] (10^6 bytes), "
                                     f"got {self.cache_mb!r}")
            object.__setattr__(self, "cache_mb", float(self.cache_mb))
        _count("networks", self.networks, 0, MAX_SAMPLES)
        _count("threads", self.threads, 1, MAX_THREADS)
        if not isinstance(self.kinds, Mapping) or "default" not in self.kinds or \
                not all(isinstance(kind, str) and isinstance(model, KernelModel) for kind, model in self.kinds.items()):
            raise CostModelError("kinds must map kind names to KernelModels, 'default' among them")

    @property
    def fused(self) -> bool:
        """Whether the profile was measured on the fused view (``fusion.fuse``), and so prices that view."""
        return self.view == "fused"

    def priced(self, analysis: Any, other: Any = None) -> Any:
        """What this profile prices: the analysis of the view it was measured in (the one place that decides).

        :param analysis: an ``Analysis``, in either view.
        :param other: the same setting in the other view, where the caller has it: an ``Analysis``, or a
            ``setting.Setting`` to analyze. Not needed when ``analysis`` is unfused (its fused view is made here).
        :returns: ``analysis`` when it is in the profile's view, else the other view.
        """
        from ..sources.analyze import analyze, fused_view
        from ..sources.setting import Setting

        if analysis.fused == self.fused:
            return analysis
        if other is None:
            if analysis.fused:
                raise CostModelError(f"profile {self.name!r} prices the unfused view: give the unfused analysis")
            return fused_view(analysis)
        if isinstance(other, Setting):
            return analyze(other.but(fused=self.fused))
        if other.fused != self.fused:
            raise CostModelError(f"profile {self.name!r} prices the {self.view} view: the other analysis is not of it")
        return other

    def model(self, key: str, kind: str) -> KernelModel:
        """The model of a kernel.

        :param key: the kernel's key (``kernel_key``).
        :param kind: the kernel's layer kind.
        :returns: the ``KernelModel`` of its key, else of its kind, else the default."""
        return self.kinds.get(key) or self.kinds.get(kind) or self.kinds["default"]

    def layer_ms(self, analysis: Any) -> list[float]:
        """The predicted latency of each layer.

        :param analysis: an ``Analysis`` in the view the profile was measured in (``priced`` picks it).
        :returns: milliseconds per layer, in the layers' order (bytes in the analysis's dtype): ``scale`` x the
            layer's kernel model + ``us_per_layer`` for each kernel the engine runs for it (one, but on ONNX
            Runtime a SiLU or GELU the fused view fused: ``engine_kernels``)."""
        return [(self.scale * kernel + self.us_per_layer * count) / 1e3 for kernel, count in self._kernels(analysis)]

    def kernel_us(self, analysis: Any) -> list[float]:
        """Each layer's kernel latency alone, without the context.

        :param analysis: an ``Analysis`` in the view the profile was measured in.
        :returns: microseconds per layer, in the layers' order."""
        return [kernel for kernel, _ in self._kernels(analysis)]

    def kernels_run(self, analysis: Any) -> int:
        """How many kernels the engine runs for an analysis's layers (what ``us_per_layer`` is paid on).

        :param analysis: an ``Analysis`` in the view the profile was measured in.
        :returns: the layers' count, and one more for each activation the engine runs apart."""
        return sum(count for _, count in self._kernels(analysis))

    def _kernels(self, analysis: Any) -> "list[tuple[float, int]]":
        """Each layer's kernel latency and how many kernels the engine runs for it."""
        ops = {node.name: node.op for node in analysis.network.nodes}
        found = []
        for layer in analysis.layers:
            op = ops[layer.name]
            latency = self.model(kernel_key(op, layer.kind, layer.output_shape), layer.kind) \
                .microseconds(layer.madds, layer.memory_access_bytes, self.cache_mb)
            apart = separate_activation(op, self.engine)
            if apart:       # a kernel of its own: it reads the layer's output and writes as much
                latency += self.model(f"activation.{apart}", "activation") \
                    .microseconds(0, 2 * layer.activation_bytes, self.cache_mb)
            found.append((latency, 2 if apart else 1))
        return found

    def to_toml(self) -> str:
        """The profile as a device file.

        :returns: the TOML text ``devices.load_profile`` reads back to an equal profile."""
        lines = ["[profile]", f"name = {_quote(self.name)}", f"description = {_quote(self.description)}",
                 f"view = {_quote(self.view)}", f"threads = {self.threads}",
                 f"statistic = {_quote(self.statistic)}"]
        if self.engine != "torch":
            lines.append(f"engine = {_quote(self.engine)}")
        if self.cache_mb is not None:
            lines.append(f"cache_mb = {self.cache_mb!r}")
        lines.append("")
        if self.networks or self.scale != 1.0 or self.us_per_layer:
            lines += ["[context]", f"scale = {self.scale!r}", f"us_per_layer = {self.us_per_layer!r}",
                      f"networks = {self.networks}", ""]
        for kind, model in self.kinds.items():
            lines.append(f"[kinds.{_key(kind)}]")
            lines.extend(f"{term} = {getattr(model, term)!r}" for term in TERMS)
            if self.cache_mb is not None or model.us_per_mb_beyond:
                lines.append(f"{BEYOND} = {model.us_per_mb_beyond!r}")
            lines.append(f"samples = {model.samples}")
            lines.append("")
        return "\n".join(lines)


# the activations ONNX Runtime's CPU provider runs as kernels of their own, not in the convolution or linear layer
# before them as costmodel's fused view does (measured on every zoo network: ``benchmarks/ort_fusion.py``):
# x * sigmoid(x) (``com.microsoft.QuickGelu``) and GELU (``Gelu``); it fuses ReLU, ReLU6, h-swish, h-sigmoid,
# sigmoid and leaky ReLU
UNFUSED_BY_ENGINE = {"onnxruntime": ("silu", "gelu", "gelu_tanh")}


def separate_activation(op: Any, engine: str) -> str:
    """The activation of a fused kernel that ``engine`` runs as a kernel of its own (``UNFUSED_BY_ENGINE``).

    :param op: a layer's op (an ``ops.Fused`` kernel, or any other).
    :param engine: the engine (``ENGINES``).
    :returns: the activation's function, or "" (none, or fused by the engine)."""
    activation = getattr(op, "activation", "")
    if getattr(op, "op_name", "") == "fused" and activation in UNFUSED_BY_ENGINE.get(engine, ()):
        return str(activation)
    return ""


def kernel_key(op: Any, kind: str, output: Any = None) -> str:
    """The name a profile prices a kernel by: its kind, refined where kernels of one kind differ in cost by more
    than their counts say, as ``kind.variant``: an activation by its function (a GELU costs several times a ReLU of
    the same size); a pool by max or average, window and stride (the work per output grows with the window, which
    memory access does not count); a depthwise or group convolution by its kernel size; a convolution on a 1x1 map
    (squeeze-and-excite's) and a linear layer on one vector (a matrix-vector product, against a matrix product over
    tokens) by the ``output`` shape. The views that copy nothing
    (``CALL_ONLY``) are one key, ``view``, whose cost is the call."""
    if kind in CALL_ONLY:
        return "view"
    function = getattr(op, "function", None)
    if kind == "activation" and isinstance(function, str):
        return f"activation.{function}"
    mode, window = getattr(op, "mode", None), getattr(op, "kernel", None)
    if not isinstance(window, tuple):         # a fused kernel's ``kernel`` is its op, not a window
        window = None
    if kind == "pool" and isinstance(mode, str) and window:
        return f"pool.{mode}.{window[0]}x{window[1]}s{op.stride[0]}"
    dims = tuple(getattr(output, "dims", ()))
    if kind in ("conv", "pointwise", "group") and len(dims) == 4 and dims[2] * dims[3] == 1:
        return f"{kind}.on_vector"
    if kind in ("depthwise", "group") and window:
        return f"{kind}.{window[0]}x{window[1]}"
    if kind == "linear" and dims:
        return "linear.vector" if len(dims) == 2 else "linear.tokens"
    return kind


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _quote(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped (a lone surrogate, which
    is not text, becomes U+FFFD), so that every name is written as a string that reads back the same."""
    out = []
    for char in text:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code < 0xE000:
            out.append("\ufffd")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _key(kind: str) -> str:
    """A kind as a TOML key: bare when it can be, quoted otherwise (``"activation.relu"``)."""
    return kind if _BARE_KEY.fullmatch(kind) else _quote(kind)


def _kernel_model(path: str, kind: str, table: Any) -> KernelModel:
    """One ``[kinds.<kind>]`` table, every field checked."""
    where = f"{path}: [kinds.{_key(kind)}]"
    if not isinstance(table, dict):
        raise CostModelError(f"{where} must be a table of {', '.join(_KIND_FIELDS)}, got {table!r}")
    for field in table:
        if field not in _KIND_FIELDS:
            hint = f' (a kind with a dot in its name is quoted: [kinds."{kind}.{field}"])' \
                if isinstance(table[field], dict) else f" (known: {', '.join(_KIND_FIELDS)})"
            raise CostModelError(f"{where} unknown field {field!r}{hint}")
    for term, unit in zip(TERMS, _UNITS):
        if term not in table:
            raise CostModelError(f"{where} missing field {term!r} ({unit})")
    try:
        return KernelModel(**{term: table[term] for term in TERMS}, samples=table.get("samples", 0),
                           us_per_mb_beyond=table.get(BEYOND, 0.0))
    except CostModelError as error:
        raise CostModelError(f"{where} {error}") from None


def profile_from(document: Mapping[str, Any], path: str) -> Profile:
    """The profile in a parsed device file (its ``[profile]`` and ``[kinds.*]`` tables, as ``costmodel calibrate``
    writes them), every field checked. ``devices.load_profile`` reads the file.

    :param document: the file's TOML document (``tomlfiles.read_toml``).
    :param path: the file, for messages, and the profile's name (its stem) when ``[profile]`` gives none.
    :returns: the profile.
    :raises CostModelError: one line naming the file, the table and the field: a table missing, an unknown field,
        a term that is not a number in [0, ``MAX_US``] (NaN and infinity included), ``samples`` not an integer in
        [0, ``MAX_SAMPLES``], ``threads`` not one in [1, ``MAX_THREADS``], a ``view`` not in ``VIEWS``, a
        ``statistic`` not in ``STATISTICS`` (a file without one was calibrated with medians), an ``engine`` not in
        ``ENGINES`` or one that does not run the ``view`` (a file without one was measured on torch), a ``[context]``
        with a field missing, unknown or out of range (a file without one has scale 1 and nothing per layer), a
        name or a description that is not a string.
    """
    header = document.get("profile")
    kinds = document.get("kinds")
    if not isinstance(header, dict) or not isinstance(kinds, dict) or "default" not in kinds:
        raise CostModelError(f"{path}: a device profile needs a [profile] table and [kinds.*] tables, "
                             "[kinds.default] among them (costmodel calibrate writes one)")
    unknown = sorted(set(header) - set(_PROFILE_FIELDS))
    if unknown:
        raise CostModelError(f"{path}: [profile] unknown field {unknown[0]!r} (known: {', '.join(_PROFILE_FIELDS)})")
    models = {kind: _kernel_model(path, kind, table) for kind, table in kinds.items()}
    context = document.get("context", {"scale": 1.0, "us_per_layer": 0.0, "networks": 0})
    if not isinstance(context, dict):
        raise CostModelError(f"{path}: [context] must be a table of {', '.join(_CONTEXT_FIELDS)}")
    for field in context:
        if field not in _CONTEXT_FIELDS:
            raise CostModelError(f"{path}: [context] unknown field {field!r} (known: {', '.join(_CONTEXT_FIELDS)})")
    for field in _CONTEXT_FIELDS:
        if field not in context:
            raise CostModelError(f"{path}: [context] missing field {field!r}")
    try:
        profile = Profile(header.get("name", Path(path).stem), header.get("description", ""),
                          header.get("view", "unfused"), header.get("threads", 1), models,
                          header.get("statistic", "median"), cache_mb=header.get("cache_mb"),
                          engine=header.get("engine", "torch"))
    except CostModelError as error:
        raise CostModelError(f"{path}: [profile] {error}") from None
    try:
        return replace(profile, scale=context["scale"], us_per_layer=context["us_per_layer"],
                       networks=context["networks"])
    except CostModelError as error:
        raise CostModelError(f"{path}: [context] {error}") from None


def fit(samples: "list[tuple[str, str, int, int, float]]", name: str, description: str, threads: int,
        view: str = "unfused", statistic: str = "min",
        caches: "Sequence[float | None]" = CACHE_CANDIDATES, engine: str = "torch") -> Profile:
    """The profile of measured kernels: (kind, kernel key, madds, memory access bytes, microseconds) each. Per kind
    and per key that refines a kind, the least squares fit of the terms with every coefficient kept >= 0 (a term
    that fits negative is dropped and the rest refitted); ``default`` fits the memory-bound kinds' samples
    (``MEMORY_BOUND``). Each cache threshold of ``caches`` is tried (``us_per_mb_beyond`` fitted with it); the
    profile keeps the one whose fits have the least sum of squared relative errors over the memory-bound kinds'
    kernels (streaming kernels, whose time is their traffic: where a threshold shows cleanly), and every kind is
    fitted with it.

    :param samples: the measured kernels.
    :param name: the profile's name.
    :param description: what was measured, where.
    :param threads: the threads the kernels ran on.
    :param view: the view the kernels were measured in (``VIEWS``).
    :param statistic: what each kernel's time is of its runs (``STATISTICS``).
    :param caches: the cache thresholds to try, in 10^6 bytes (None: no threshold; ``(None,)`` fits none).
    :param engine: what ran the kernels (``ENGINES``).
    :returns: the ``Profile``."""
    by_kind: dict[str, list[tuple[int, int, float]]] = {}
    for kind, key, madds, memory, microseconds in samples:
        by_kind.setdefault(kind, []).append((madds, memory, microseconds))
        if key != kind:
            by_kind.setdefault(key, []).append((madds, memory, microseconds))
    # a kind the profile has not measured (a view, a pad, a resize) is priced as memory-bound work
    by_kind["default"] = [(m, b, t) for kind, _, m, b, t in samples if kind in MEMORY_BOUND]
    best: "tuple[float, float | None, dict[str, KernelModel]] | None" = None
    for cache in caches:
        models, error = _fit_kinds(by_kind, cache)
        if best is None or error < best[0] * (1 - 1e-6) - 1e-12:        # a threshold must fit better, not tie
            best = (error, cache, models)
    if best is None:
        raise CostModelError("no cache threshold to fit with")
    return Profile(name, description, view, threads, best[2], statistic, cache_mb=best[1], engine=engine)


def _fit_kinds(by_kind: "dict[str, list[tuple[int, int, float]]]",
               cache: "float | None") -> "tuple[dict[str, KernelModel], float]":
    """Each kind's kernel model with the cache threshold ``cache`` (or none), and the sum over the memory-bound
    kinds' kernels of the squared relative error of their fits."""
    import numpy

    models, error = {}, 0.0
    for kind, rows in by_kind.items():
        features = numpy.array([[1.0, m / 1e6, b / 1e6, b / 1e6 if cache is not None and b / 1e6 > cache else 0.0]
                                for m, b, _ in rows])
        times = numpy.array([t for _, _, t in rows])
        kept = [0, 1, 2, 3] if cache is not None else [0, 1, 2]
        while True:
            solution, *_ = numpy.linalg.lstsq(features[:, kept], times, rcond=None)
            if (solution >= 0).all() or len(kept) == 1:
                break
            kept.pop(int(numpy.argmin(solution)))
        if not numpy.isfinite(solution).all():
            raise CostModelError(f"the measured {kind} kernels give no finite fit (a time that is not finite?)")
        coefficients = [0.0, 0.0, 0.0, 0.0]
        for index, value in zip(kept, solution):
            coefficients[index] = max(float(value), 0.0)
        models[kind] = KernelModel(coefficients[0], coefficients[1], coefficients[2], samples=len(rows),
                                   us_per_mb_beyond=coefficients[3])
        if kind.split(".")[0] in MEMORY_BOUND:
            predicted = features @ numpy.array(coefficients)
            error += float((((predicted - times) / numpy.maximum(times, 1e-9)) ** 2).sum())
    return models, error


def fit_context(rows: "list[tuple[float, int, float]]") -> tuple[float, float]:
    """The context of a profile from whole networks: (scale, us_per_layer) minimizing the relative error of
    ``scale x kernel_ms + us_per_layer x layers / 1000`` against the measured ms, each term kept >= 0 (a term that
    fits negative is dropped and the other refitted).

    :param rows: per network, (the sum of its layers' kernel models in ms, its layers, its measured ms)
    :returns: (scale, us_per_layer)
    :raises CostModelError: with no row, or a measured time that is not positive"""
    import numpy

    if not rows or any(not measured > 0 for _, _, measured in rows):
        raise CostModelError("the context needs networks measured with positive times")
    features = numpy.array([[kernel / measured, layers / 1e3 / measured] for kernel, layers, measured in rows])
    target = numpy.ones(len(rows))
    solution, *_ = numpy.linalg.lstsq(features, target, rcond=None)
    scale, per_layer = float(solution[0]), float(solution[1])
    if per_layer < 0:
        scale, per_layer = float(numpy.linalg.lstsq(features[:, :1], target, rcond=None)[0][0]), 0.0
    elif scale <= 0:           # a scale that fits at or below 0 means nothing: 1, and the rest per layer
        residual = target - features[:, 0]
        scale, per_layer = 1.0, max(float(numpy.linalg.lstsq(features[:, 1:], residual, rcond=None)[0][0]), 0.0)
    if not (numpy.isfinite(scale) and numpy.isfinite(per_layer) and 0 < scale <= MAX_SCALE and per_layer <= MAX_US):
        raise CostModelError(f"the measured networks give no context in range (scale {scale!r}, "
                             f"{per_layer!r} us per layer)")
    return scale, per_layer
