"""Measured latency (``costmodel bench MODEL``): the model run with torch on this machine's CPU, per layer and whole.

The run happens in a child process (``bench_worker``) under a time limit, so that a model too slow for the limit,
or one that exhausts memory, ends in one line and leaves this process as it was. Each figure is the minimum of
``repeats`` runs after ``warmup`` runs, with its spread between windows of the run (``latency.protocol``): the
whole network in runs of its own, each layer in runs with a clock around each layer, the two kinds of run in
interleaved rounds. The whole network's time less the layers' sum is a row of its own: the time between the layers'
clocks (the dispatch from one layer to the next and, in an imported module, the functions between module calls).
No torch import here.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.errors import CostModelError, ParameterError, first_line, param
from ..core.formatting import counted, echoed
from ..sources.importer.user_code import check_seconds
from ..core.scaling import MAX_BATCH, check_alpha, check_depth, input_size
from ..sources.setting import setting_of
from .profiles import ENGINES
from .protocol import PER_ROUND, WINDOWS, Measured, measured

# the counts bench, calibrate and the micro-benchmarks take: (least, most)
COUNTS = {"warmup": (0, 10_000), "repeats": (1, 10_000), "threads": (1, 1_024), "per_kind": (2, 1_000),
          "batch": (1, MAX_BATCH), "windows": (1, 100), "networks": (0, 1_000)}
WHOLE = "(whole network)"
BETWEEN = "(between layers)"      # the whole network's time less its layers' sum


@dataclass(frozen=True)
class LayerTiming:
    """One layer's time: ``time.value`` is the minimum of its runs in milliseconds. On ONNX Runtime a row is one
    kernel of the graph it runs: ``op`` is its op and ``covers`` the costmodel nodes it computes (none: a kernel of
    the engine's own)."""

    name: str
    kind: str
    time: Measured
    op: str = ""
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Benchmark:
    """What ``bench`` measured: the whole network's latency and each layer's, in milliseconds, each the minimum of
    ``repeats`` runs with its spread between ``windows`` windows of the run (``latency.protocol``)."""

    model: str
    alpha: float
    resolution: tuple[int, int]
    batch: int
    threads: int
    warmup: int
    repeats: int
    windows: int
    per_round: int
    imported: bool
    torch: str
    whole: Measured
    layers: tuple[LayerTiming, ...]
    layers_total: "Measured | None"       # the layers' times summed in each layer-clocked run (None: not timed)
    heap: str = "steady"                  # "steady": tensors reuse the heap (bench_worker.steady_heap); or "system"
    engine: str = "torch"                 # ``ENGINES``: what ran the network
    engine_version: str = ""              # ONNX Runtime's version, where it ran the network

    @property
    def layers_ms(self) -> float:
        """The layers' sum in milliseconds: the minimum over the layer-clocked runs of the layers' times summed in
        the run (not the sum of each layer's minimum, which picks each layer's luckiest run and so falls short of
        any one run)."""
        return self.layers_total.value if self.layers_total is not None else 0.0

    @property
    def between_ms(self) -> float:
        """The whole network's minimum less the layers' sum (``BETWEEN``), in milliseconds: the time outside every
        layer's clock (the dispatch from one layer to the next, and an imported module's functions between module
        calls). Negative where the layers' clocks cost more than that time."""
        return self.whole.value - self.layers_ms

    def between_means(self) -> str:
        """What the ``BETWEEN`` row holds, for this kind of model.

        :returns: a phrase"""
        if self.engine == "onnxruntime":
            return "the engine's dispatch from one kernel to the next and what its profiler does not see"
        if self.imported:
            return "the functions between module calls and the dispatch from one call to the next"
        return "the dispatch from one layer to the next"

    def to_dict(self) -> dict[str, Any]:
        """The measurement as JSON holds it.

        :returns: the setting, the threads, runs, windows and torch version, the whole network's figure
            (``Measured.to_dict``), each layer's (name, kind and its figure), and the time between the layers."""
        return {"model": self.model, "alpha": self.alpha, "resolution": list(self.resolution), "batch": self.batch,
                "threads": self.threads, "warmup": self.warmup, "repeats": self.repeats, "windows": self.windows,
                "per_round": self.per_round, "torch": self.torch, "heap": self.heap, "engine": self.engine,
                "engine_version": self.engine_version, "whole": self.whole.to_dict(),
                "layers": [{"name": layer.name, "kind": layer.kind, **layer.time.to_dict(),
                            **({"op": layer.op, "covers": list(layer.covers)} if self.engine != "torch" else {})}
                           for layer in self.layers],
                "layers_total": self.layers_total.to_dict() if self.layers_total is not None else None,
                "between_layers_ms": self.between_ms}

    def to_frame(self) -> Any:
        """The measurement as a table.

        :returns: a pandas DataFrame: the whole network's row (named ``(whole network)``), each layer's, then the
            time between the layers (``(between layers)``: no spread of its own); columns name, kind, min_ms,
            spread (a fraction), median_ms."""
        import pandas

        rows: list[tuple[str, str, float, "float | None", "float | None"]] = [
            (WHOLE, "", self.whole.value, self.whole.spread, self.whole.median)]
        rows += [(layer.name, layer.kind, layer.time.value, layer.time.spread, layer.time.median)
                 for layer in self.layers]
        if self.layers:
            rows.append((BETWEEN, "", self.between_ms, None, None))
        return pandas.DataFrame(rows, columns=["name", "kind", "min_ms", "spread", "median_ms"])


def bench(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
          resolution: Any = None, *, batch: "int | None" = None, options: "Mapping[str, Any] | None" = None,
          depth: "float | None" = None, warmup: int = 5, repeats: int = 30, threads: int = 1, timeout: float = 600.0,
          progress: bool = False, per_layer: bool = True, windows: int = WINDOWS, engine: str = "torch") -> Benchmark:
    """A model's latency measured on this CPU, in a child process under a time limit. Needs torch (and, for
    ``engine="onnxruntime"``, onnxruntime, onnx and onnxscript).

    :param model_or_setting: a ``Setting`` whose model is a zoo name, spec file or import argument, or that model
        (with the setting's fields from the other arguments).
    :param alpha: the width multiplier.
    :param rho: the resolution multiplier.
    :param resolution: the input in pixels instead.
    :param batch: images per batch.
    :param options: the model's own options.
    :param depth: the depth multiplier.
    :param warmup: runs before timing.
    :param repeats: timed runs of the whole network (and as many layer-clocked runs), in interleaved rounds of
        ``protocol.PER_ROUND`` runs of each.
    :param threads: torch's intra-op threads.
    :param timeout: seconds for the whole child (import, lowering, every run).
    :param progress: a progress bar on standard error.
    :param per_layer: each layer timed too (False: the whole network only).
    :param windows: the windows the runs are cut into for each figure's spread (``protocol.measured``).
    :param engine: what runs the network (``ENGINES``): torch's eager CPU, each layer timed with a clock around
        it; or ONNX Runtime (the network or imported module exported to ONNX, an ONNX file as it is), each kernel
        of the graph it runs timed by its profiler and named after the first costmodel node it computes
        (``ort_graph``).
    :returns: the ``Benchmark``: the whole network's minimum and spread, and each layer's.
    :raises ParameterError: naming ``timeout`` when the child does not finish in time."""
    setting = setting_of(model_or_setting, alpha=alpha, rho=rho, resolution=resolution, batch=batch,
                         options=options, depth=depth)
    model = setting.model
    _check_counts(warmup=warmup, repeats=repeats, threads=threads, batch=setting.batch, windows=windows)
    check_seconds(timeout)
    check_alpha(setting.alpha), check_depth(setting.depth), input_size((1, 1), setting.rho, setting.resolution)
    if engine not in ENGINES:
        raise ParameterError(param("engine"), f" must be one of {', '.join(ENGINES)}, got {echoed(engine)}")
    if engine == "onnxruntime":
        _needs("onnxruntime", "onnx", "onnxscript")
    request = {"model": model, "alpha": setting.alpha, "rho": setting.rho, "resolution": setting.resolution,
               "batch": setting.batch, "options": setting.options, "depth": setting.depth, "warmup": warmup,
               "repeats": repeats, "threads": threads, "progress": progress, "per_layer": per_layer,
               "per_round": PER_ROUND, "engine": engine}
    answer = run_child(request, timeout, f"bench: {model}")
    timed = answer.pop("layers")
    layers = tuple(LayerTiming(layer["name"], layer["kind"], measured(layer["samples_ms"], windows),
                               layer.get("op", ""), tuple(layer.get("covers", ())))
                   for layer in timed)
    # each layer has one time per layer-clocked run (a module called twice: both calls summed)
    sums = [sum(run) for run in zip(*(layer["samples_ms"] for layer in timed))]
    answer["resolution"] = tuple(answer["resolution"])
    whole = measured(answer.pop("samples_ms"), windows)
    total = measured(sums, windows) if sums else None
    return Benchmark(layers=layers, whole=whole, windows=windows, layers_total=total, **answer)


def _needs(*packages: str) -> None:
    """One line naming the packages ONNX Runtime's engine needs that are not installed (found without importing)."""
    import importlib.util

    missing = [package for package in packages if importlib.util.find_spec(package) is None]
    if missing:
        raise CostModelError(f"the onnxruntime engine needs {', '.join(missing)}, not installed: "
                             "pip install 'costmodel[onnxruntime]'")


def _check_counts(**counts: Any) -> None:
    """Each count (``warmup=5``, ...) is an integer in its ``COUNTS`` range; one line naming the parameter and the
    range otherwise, before any child process starts."""
    for name, value in counts.items():
        least, most = COUNTS[name]
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ParameterError(param(name), f" must be an integer >= {least}, got {echoed(value)} (it takes "
                                              f"{least} to {most:,})")
        if value > most:
            raise ParameterError(param(name), f" must be at most {most:,}, got {echoed(value)} (it takes {least} to "
                                              f"{most:,})")


def run_child(request: Mapping[str, Any], timeout: float, what: str) -> dict[str, Any]:
    """The answer of ``bench_worker`` to ``request``, run in a child process within ``timeout`` seconds; one line
    (``what`` ...) where it does not finish or fails."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:       # found without importing it
        raise CostModelError(f"{what} runs torch, which is not installed: pip install torch==2.13.0 (the CPU build)")
    environment = {**os.environ, "OMP_NUM_THREADS": str(request["threads"])}
    progress = request.get("progress", False)
    # the child ends with this process, however it ends, and a little after the time limit on its own
    request = {**request, "parent": os.getpid(), "deadline": timeout + 10}
    try:          # the progress bar is the child's standard error, shown as it is written
        finished = subprocess.run([sys.executable, "-m", "costmodel.latency.bench_worker"], input=json.dumps(request),
                                  stdout=subprocess.PIPE, stderr=None if progress else subprocess.PIPE, text=True,
                                  timeout=timeout, env=environment)
    except subprocess.TimeoutExpired:
        raise ParameterError(f"{what} did not finish within ", param("timeout"), f" {timeout:g} s") from None
    try:
        answer = json.loads(finished.stdout)
    except ValueError:
        lines = (finished.stderr or "").strip().splitlines()
        detail = lines[-1] if lines else f"exit status {finished.returncode}"
        raise CostModelError(f"{what} failed ({first_line(RuntimeError(detail))})") from None
    if "error" in answer:
        raise CostModelError(answer["error"])
    return answer


def calibrate(name: str = "this-cpu", *, threads: int = 1, per_kind: int = 24, warmup: int = 3, repeats: int = 15,
              timeout: float = 900.0, progress: bool = False, windows: int = WINDOWS, networks: int = 24,
              engine: str = "torch") -> Any:
    """A device profile of this CPU: kernels of each layer kind measured in a child process, each kind's latency model
    fitted on them, and the context (``profiles.fit_context``: what a layer costs in a network beyond its kernel
    alone) fitted on ``networks`` synthetic networks (``latency.synthetic``) timed whole in the same rounds. Each
    figure is the minimum of its runs (``protocol.measured``), and the profile's description says how far the
    kernels' minima moved between windows of the run (the median over the kernels).

    On ONNX Runtime (``engine="onnxruntime"``) each kernel runs in a session of its own and the networks in theirs
    (``ort_kernels``); a kernel's time is the minimum over its runs of its nodes' times by the session's profiler,
    less what the profiler gives an empty node (a ReLU of one number) for each node, and the profile prices the
    fused view, which that engine runs.

    :param name: the profile's name.
    :param threads: the engine's intra-op threads.
    :param per_kind: kernels measured per kind.
    :param warmup: runs before timing each kernel.
    :param repeats: timed runs of each kernel (each network: one run per 3 of a kernel's).
    :param timeout: seconds for the whole child.
    :param progress: a progress bar on standard error.
    :param windows: the windows each kernel's runs are cut into for its spread.
    :param networks: synthetic networks the context is fitted on (0: none; scale 1, nothing per layer).
    :param engine: what runs the kernels and networks (``ENGINES``).
    :returns: the ``latency.Profile`` (statistic ``min``)."""
    import platform
    import statistics
    from dataclasses import replace

    from ..sources.analyze import analyze
    from .profiles import fit, fit_context
    from .synthetic import networks as synthetic_networks

    _check_counts(threads=threads, per_kind=per_kind, repeats=repeats, warmup=warmup, windows=windows,
                  networks=networks)
    check_seconds(timeout)
    if engine not in ENGINES:
        raise ParameterError(param("engine"), f" must be one of {', '.join(ENGINES)}, got {echoed(engine)}")
    if engine == "onnxruntime":
        _needs("onnxruntime", "onnx")
    request = {"calibrate": True, "threads": threads, "per_kind": per_kind, "seed": 0, "warmup": warmup,
               "repeats": repeats, "progress": progress, "networks": networks, "engine": engine}
    answer = run_child(request, timeout, "calibrate")
    kernels = [(kind, key, madds, memory, measured(runs, windows)) for kind, key, madds, memory, runs
               in answer["samples"]]
    parts = len(kernels[0][-1].windows)
    within = f" ({parts} windows within a median {statistics.median(k[-1].spread for k in kernels):.1%})" \
        if parts > 1 else ""
    runs = len(answer["samples"][0][-1])       # on ONNX Runtime, every run a kernel's profiler saw: ~2 x repeats
    runs_text = f"each the min of {runs} run{'s' if runs != 1 else ''}{within}"
    nodes = answer.get("nodes", [0] * len(kernels))
    if engine == "onnxruntime":
        empty = measured(answer["empty_us"], windows).value
        ran = (f"onnxruntime {answer['engine_version']} (CPU provider, all optimizations; torch {answer['torch']} "
               f"exported)")
        runs_text = f"profiled, {runs_text}, less {empty:.1f} us a node (an empty node's)"
    else:
        empty = 0.0
        ran = f"torch {answer['torch']} eager on the CPU"
    description = (f"{platform.machine()} {platform.processor() or ''}".strip() +
                   f", {counted(threads, 'thread')}, {ran}, {len(kernels)} kernels "
                   f"({per_kind} per kind, more on large maps and a wide network's stages), "
                   f"{runs_text}, {answer['heap']} heap")
    profile = fit([(kind, key, madds, memory, max(figure.value - count * empty, 0.0))
                   for (kind, key, madds, memory, figure), count in zip(kernels, nodes)],
                  name, description, threads, statistic="min",
                  view="fused" if engine == "onnxruntime" else "unfused", engine=engine)
    if not networks:
        return profile
    rows = []
    for network in synthetic_networks(networks, 0):
        result = profile.priced(analyze(network))
        rows.append((sum(profile.layer_ms(result)), profile.kernels_run(result),
                     measured(answer["networks"][network.name], windows).value))
    scale, per_layer = fit_context(rows)
    return replace(profile, scale=scale, us_per_layer=per_layer, networks=networks,
                   description=f"{description}; context fitted on {networks} synthetic networks")


def networks_whole(networks: "list[tuple[str, float]]", *, threads: int = 1, warmup: int = 3, repeats: int = 30,
                   timeout: float = 900.0, progress: bool = False, windows: int = WINDOWS) -> dict[str, Any]:
    """Zoo networks, each timed whole on this CPU in a child process, in interleaved rounds (each round runs every
    network once, in turn, each timed run right after an untimed run of the same network).

    :param networks: (zoo model, width multiplier) each, at its default resolution.
    :param threads: the intra-op threads every network runs on.
    :param warmup: untimed rounds first.
    :param repeats: timed rounds: each network's runs.
    :param timeout: seconds the child may take, from start to end.
    :param progress: whether to show a progress bar (on standard error).
    :param windows: how many windows each network's runs are cut into, for its spread.
    :returns: {"torch": version, "heap": ``bench_worker.steady_heap``'s answer, "rows": [``Measured``, ...]}, a
        figure in milliseconds for each network given, in its order."""
    rows = [{"model": model, "alpha": alpha} for model, alpha in networks]
    return _timed_whole({"networks": rows}, "the networks' measurement", threads, warmup, repeats, timeout, progress,
                        windows)


def microbench(table: str, *, threads: int = 1, warmup: int = 3, repeats: int = 30, timeout: float = 900.0,
               progress: bool = False, windows: int = WINDOWS) -> dict[str, Any]:
    """ShuffleNetV2's micro-benchmark networks of Table ``table`` (``reproduce.microbench``) timed on this CPU in a
    child process, in interleaved rounds (each round runs every network once, in turn).

    :param table: the table, "1" to "4".
    :param threads: torch's intra-op threads.
    :param warmup: rounds before timing.
    :param repeats: timed rounds.
    :param timeout: seconds for the whole child.
    :param progress: a progress bar on standard error.
    :param windows: the windows each network's runs are cut into for its spread.
    :returns: {"torch": version, "heap": ``bench_worker.steady_heap``'s answer, "rows": [``Measured``, ...]} in the
        table's row order, in milliseconds."""
    return _timed_whole({"table": table}, f"the Table {table} micro-benchmark", threads, warmup, repeats, timeout,
                        progress, windows)


def _timed_whole(which: "dict[str, Any]", what: str, threads: int, warmup: int, repeats: int, timeout: float,
                 progress: bool, windows: int) -> dict[str, Any]:
    """The worker's ``microbench`` for ``which`` networks (a table, or zoo settings), each network's runs as a
    ``Measured``."""
    _check_counts(threads=threads, repeats=repeats, warmup=warmup, windows=windows)
    check_seconds(timeout)
    request = {"microbench": True, **which, "threads": threads, "warmup": warmup, "repeats": repeats,
               "progress": progress}
    answer = run_child(request, timeout, what)
    return {"torch": answer["torch"], "heap": answer.get("heap", "system"),
            "rows": [measured(row["samples_ms"], windows) for row in answer["rows"]]}
