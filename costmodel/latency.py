"""Predicted latency from a calibrated device profile (``costmodel calibrate``; ``table --device PROFILE``).

A profile holds, per layer kind and per variant of a kind whose cost the counts do not tell apart
(``kernel_key``), a linear model of a kernel's latency fitted on measured kernels of varied shapes:

    latency (us) = overhead_us + us_per_mmadd * madds / 10^6 + us_per_mb * memory access bytes / 10^6

(a layer takes its key's model, else its kind's, else ``default``). The terms are what the hardware pays for: a fixed cost per
kernel launch, arithmetic, and traffic; a kind's coefficients say which dominates it (a depthwise convolution's
traffic, a pointwise one's arithmetic). A network's predicted latency is the sum over its layers, in the view the
profile was measured in (``view``: torch's eager CPU runs every node, "unfused"; an engine that fuses, "fused").
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import CostModelError

TERMS = ("overhead_us", "us_per_mmadd", "us_per_mb")
MEMORY_BOUND = ("batchnorm", "activation", "add", "mul", "concat", "shuffle")
VIEWS = ("unfused", "fused")
CALL_ONLY = ("flatten", "reshape", "split", "dropout")


@dataclass(frozen=True)
class KernelModel:
    overhead_us: float
    us_per_mmadd: float
    us_per_mb: float
    samples: int = 0

    def microseconds(self, madds: int, memory_bytes: int) -> float:
        return self.overhead_us + self.us_per_mmadd * madds / 1e6 + self.us_per_mb * memory_bytes / 1e6


@dataclass(frozen=True)
class Profile:
    """A device's calibrated kernel models."""

    name: str
    description: str
    view: str
    threads: int
    kinds: Mapping[str, KernelModel]

    def model(self, key: str, kind: str) -> KernelModel:
        """The model of a kernel: its key's (``kernel_key``), else its kind's, else the default."""
        return self.kinds.get(key) or self.kinds.get(kind) or self.kinds["default"]

    def layer_ms(self, analysis: Any) -> list[float]:
        """Predicted milliseconds of each layer of ``analysis`` (its dtype's bytes)."""
        ops = {node.name: node.op for node in analysis.network.nodes}
        return [self.model(kernel_key(ops[layer.name], layer.kind, layer.output_shape), layer.kind)
                .microseconds(layer.madds, layer.memory_access_bytes) / 1e3 for layer in analysis.layers]

    def to_toml(self) -> str:
        lines = ["[profile]", f"name = {_quote(self.name)}", f"description = {_quote(self.description)}",
                 f'view = "{self.view}"', f"threads = {self.threads}", ""]
        for kind, model in self.kinds.items():
            lines.append(f"[kinds.{_quote(kind) if '.' in kind else kind}]")
            lines.extend(f"{term} = {getattr(model, term)!r}" for term in TERMS)
            lines.append(f"samples = {model.samples}")
            lines.append("")
        return "\n".join(lines)


def kernel_key(op: Any, kind: str, output: Any = None) -> str:
    """The name a profile prices a kernel by: its kind, refined where kernels of one kind differ in cost by more
    than their counts say, as ``kind.variant``: an activation by its function (a GELU costs several times a ReLU of
    the same size); a pool by max or average, window and stride (the work per output grows with the window, which
    memory access does not count); a depthwise or group convolution by its kernel size; a convolution on a 1x1 map (squeeze-and-excite's) and a linear layer on one vector (a matrix-vector
    product, against a matrix product over tokens) by the ``output`` shape. The views that copy nothing
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


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_profile(path: str) -> Profile:
    """The profile of a TOML file written by ``costmodel calibrate``; one line naming the file and field where it
    is malformed."""
    try:
        document = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CostModelError(f"device profile {path!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CostModelError(f"cannot read device profile {path!r}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise CostModelError(f"{path}: invalid TOML: {error}") from None
    header = document.get("profile")
    kinds = document.get("kinds")
    if not isinstance(header, dict) or not isinstance(kinds, dict) or "default" not in kinds:
        raise CostModelError(f"{path}: a device profile needs a [profile] table and [kinds.*] tables, "
                             "[kinds.default] among them (costmodel calibrate writes one)")
    view = header.get("view", "unfused")
    if view not in VIEWS:
        raise CostModelError(f"{path}: [profile] view must be one of {', '.join(VIEWS)}, got {view!r}")
    threads = header.get("threads", 1)
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise CostModelError(f"{path}: [profile] threads must be a positive integer, got {threads!r}")
    models = {}
    for kind, table in kinds.items():
        if not isinstance(table, dict):
            raise CostModelError(f"{path}: [kinds.{kind}] must be a table")
        values = []
        for term in TERMS:
            value = table.get(term)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or \
                    value < 0:
                raise CostModelError(f"{path}: [kinds.{kind}] {term} must be a number >= 0, got {value!r}")
            values.append(float(value))
        models[kind] = KernelModel(*values, samples=int(table.get("samples", 0)))
    return Profile(str(header.get("name", Path(path).stem)), str(header.get("description", "")), view, threads,
                   models)


def fit(samples: "list[tuple[str, str, int, int, float]]", name: str, description: str, threads: int,
        view: str = "unfused") -> Profile:
    """The profile of measured kernels: (kind, kernel key, madds, memory access bytes, microseconds) each. Per kind
    and per key that refines a kind, the least squares fit of the three terms with every coefficient kept >= 0 (a
    term that fits negative is dropped and the rest refitted); ``default`` fits the memory-bound kinds' samples
    (``MEMORY_BOUND``)."""
    import numpy

    by_kind: dict[str, list[tuple[int, int, float]]] = {}
    for kind, key, madds, memory, microseconds in samples:
        by_kind.setdefault(kind, []).append((madds, memory, microseconds))
        if key != kind:
            by_kind.setdefault(key, []).append((madds, memory, microseconds))
    # a kind the profile has not measured (a view, a pad, a resize) is priced as memory-bound work
    by_kind["default"] = [(m, b, t) for kind, _, m, b, t in samples if kind in MEMORY_BOUND]
    models = {}
    for kind, rows in by_kind.items():
        features = numpy.array([[1.0, m / 1e6, b / 1e6] for m, b, _ in rows])
        times = numpy.array([t for _, _, t in rows])
        kept = [0, 1, 2]
        while True:
            solution, *_ = numpy.linalg.lstsq(features[:, kept], times, rcond=None)
            if (solution >= 0).all() or len(kept) == 1:
                break
            kept.pop(int(numpy.argmin(solution)))
        coefficients = [0.0, 0.0, 0.0]
        for index, value in zip(kept, solution):
            coefficients[index] = max(float(value), 0.0)
        models[kind] = KernelModel(*coefficients, samples=len(rows))
    return Profile(name, description, view, threads, models)


def latency_section(analysis: Any, profile: Profile, fmt: str, per_layer: bool) -> Any:
    """The predicted latency of ``analysis`` on ``profile``: a dict for JSON, text or Markdown otherwise."""
    from .formatting import Table

    layer_ms = profile.layer_ms(analysis)
    total = sum(layer_ms)
    if fmt == "json":
        return {"profile": profile.name, "view": profile.view, "total_ms": total,
                "layers_ms": {layer.name: ms for layer, ms in zip(analysis.layers, layer_ms)}}
    lines = []
    if per_layer:
        table = Table(("name", "kind", "predicted (ms)", "share"), align=("l", "l", "r", "r"))
        for layer, ms in zip(analysis.layers, layer_ms):
            table.add(layer.name, layer.kind, f"{ms:.3f}", f"{100 * ms / total:.1f}%" if total else "-")
        lines.append(table.markdown() if fmt == "markdown" else table.text())
    lines.append(f"predicted latency on {profile.name} ({profile.view} view, {profile.threads} thread(s)): "
                 f"{total:.2f} ms\n")
    return "\n".join(lines)
