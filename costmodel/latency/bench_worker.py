"""The child process of ``costmodel bench`` (``python -m costmodel.latency.bench_worker``): it reads one request as JSON
on standard input, runs the model with torch on this machine's CPU, and writes the timings as JSON on standard output
(``{"error": message}`` where the request cannot be run). Progress goes to standard error.

A zoo network or spec file runs as its lowering (``to_torch``), timed node by node; an imported module runs as it
is, timed per module call with forward hooks. The whole network is timed in runs of its own, without the per-layer
clock, in interleaved rounds with the layer-clocked runs (``latency.protocol``). Every run is under
``torch.inference_mode``, after warm-up runs. The worker returns every run's time; the parent summarizes them.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from typing import Any

from ..core.errors import CostModelError, first_line

class _Progress:
    def __init__(self, label: str, total: int, shown: bool):
        self.label, self.total, self.shown, self.done = label, total, shown, 0

    def step(self) -> None:
        self.done += 1
        if self.shown:
            filled = 30 * self.done // self.total
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total}")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def _analyzed(request: dict[str, Any]) -> "tuple[Any, dict[str, str], dict[str, Any], Any]":
    """A bench request's model analyzed at its setting, with torch's threads set: (the analysis, each layer's kind
    by name, the setting's arguments, a seeded random input of the model's shape)."""
    import torch

    from ..sources.analyze import analyze

    torch.set_num_threads(request["threads"])
    arguments = {key: request[key] for key in ("alpha", "rho", "resolution", "batch", "depth")}
    result = analyze(request["model"], options=request["options"], **arguments)
    kinds = {layer.name: layer.kind for layer in result.layers}
    x = torch.randn(tuple(result.input_shape.dims), generator=torch.Generator().manual_seed(1))
    return result, kinds, arguments, x


def run(request: dict[str, Any]) -> dict[str, Any]:
    """The timings of one request (see ``bench.Request``)."""
    import torch

    from ..sources.model_source import ONNX, model_source

    model = request["model"]
    result, kinds, arguments, x = _analyzed(request)
    source = model_source(model)
    if source.imported:
        if source.kind == ONNX:
            raise CostModelError(f"{result.model} is an ONNX graph: torch's engine runs torch modules; the "
                                 "onnxruntime engine runs the graph as it is")
        captured = source.imported_entry(request["options"]).model
        module = captured.module
        if getattr(captured, "saved_program", None) is None:      # a saved program runs as exported (eval)
            module.eval()
    else:
        from ..lowering.to_torch import to_torch

        module = to_torch(model, options=request["options"], **arguments)
        realistic_weights(module, torch.Generator().manual_seed(0))
    warmup, repeats, per_round = request["warmup"], request["repeats"], request["per_round"]
    per_layer = request.get("per_layer", True)
    progress = _Progress(f"bench {result.model}", warmup + repeats * (2 if per_layer else 1), request["progress"])
    clock = time.perf_counter_ns
    whole: list[float] = []
    per_layer_ms: dict[str, list[float]] = {}
    with torch.inference_mode():
        x = x.clone()
        for _ in range(warmup):
            module(x)
            progress.step()
        while len(whole) < repeats:         # rounds: runs of the whole network, then as many layer-clocked runs
            runs = min(per_round, repeats - len(whole))
            for _ in range(runs):
                start = clock()
                module(x)
                whole.append((clock() - start) / 1e6)
                progress.step()
            for _ in range(runs if per_layer else 0):
                for name, nanoseconds in _layer_times(module, x, clock, source.imported, kinds).items():
                    if name in kinds:          # not the lowering's no-op of a residual add the analysis skips
                        per_layer_ms.setdefault(name, []).append(nanoseconds / 1e6)
                progress.step()
    layers = [{"name": name, "kind": kinds[name], "samples_ms": samples} for name, samples in per_layer_ms.items()]
    return {"model": result.model, "alpha": result.alpha, "resolution": list(result.resolution),
            "batch": result.batch, "threads": request["threads"], "warmup": warmup, "repeats": repeats,
            "per_round": per_round, "imported": source.imported, "torch": torch.__version__, "samples_ms": whole,
            "layers": layers}


def run_onnxruntime(request: dict[str, Any]) -> dict[str, Any]:
    """The timings of one request on ONNX Runtime (``bench --engine onnxruntime``): the network lowered to torch (an
    imported module as it is, with its own weights), exported to ONNX (an ONNX file as it is), run by ONNX Runtime's
    CPU provider with its default optimizations (``ORT_ENABLE_ALL``) in two sessions, one plain (the whole
    network's runs) and one with its profiler on (each kernel's time in each run), in interleaved rounds. Each
    kernel of the graph ONNX Runtime runs is a row, named after the first costmodel node it computes
    (``ort_graph.engine_kernels``, through the module paths the exporter or the file's scopes give), its kind the
    kinds of the nodes it computes (``conv+batchnorm``); a kernel of the engine's own (a layout reorder) is named
    ``(engine) <its node name>``, its kind its op."""
    import numpy
    import onnx
    import onnxruntime
    import torch

    from ..sources.model_source import ONNX, model_source
    from ..lowering.to_torch import to_torch
    from .ort_graph import engine_kernels, export, node_times, session_options

    model = request["model"]
    result, kinds, arguments, x = _analyzed(request)
    source = model_source(model)
    with tempfile.TemporaryDirectory() as folder:
        if source.kind == ONNX:
            path = str(source.argument)
        else:
            if source.imported:
                captured = source.imported_entry(request["options"]).model
                module = captured.module
                if getattr(captured, "saved_program", None) is None:      # a saved program runs as exported
                    module.eval()
            else:
                module = to_torch(model, options=request["options"], **arguments)
                realistic_weights(module, torch.Generator().manual_seed(0))
            path = os.path.join(folder, "model.onnx")
            try:
                export(module, x, path)
            except Exception as error:        # torch's exporter raises its own errors, not one base class
                raise CostModelError(f"torch could not export {result.model} to ONNX: {first_line(error)}") from None
        optimized_path = os.path.join(folder, "optimized.onnx")
        try:                                # onnxruntime's errors derive from Exception alone
            plain = onnxruntime.InferenceSession(path, session_options(request["threads"], "all", optimized_path),
                                                 providers=["CPUExecutionProvider"])
            profiled = onnxruntime.InferenceSession(
                path, session_options(request["threads"], "all", profile_prefix=os.path.join(folder, "profile")),
                providers=["CPUExecutionProvider"])
        except Exception as error:
            raise CostModelError(f"onnxruntime could not load {result.model}: {first_line(error)}") from None
        kernels = engine_kernels(onnx.load(path, load_external_data=False),
                                 onnx.load(optimized_path, load_external_data=False), result.network, kinds)
        inputs = plain.get_inputs()
        if len(inputs) != 1:
            raise CostModelError(f"{result.model} takes {len(inputs)} inputs; bench feeds one")
        feed = {inputs[0].name: numpy.ascontiguousarray(x.numpy())}
        warmup, repeats = request["warmup"], request["repeats"]
        progress = _Progress(f"bench {result.model} (onnxruntime)", warmup + 2 * repeats, request["progress"])
        clock = time.perf_counter_ns
        whole: list[float] = []
        try:
            for _ in range(warmup):
                plain.run(None, feed)
                progress.step()
            profiled.run(None, feed)                # its first run, not among the profiled runs kept
            while len(whole) < repeats:
                start = clock()
                plain.run(None, feed)
                whole.append((clock() - start) / 1e6)
                progress.step()
                profiled.run(None, feed)
                progress.step()
        except Exception as error:
            raise CostModelError(f"onnxruntime could not run {result.model}: {first_line(error)}") from None
        per_run = node_times(profiled)[1:]         # the first: warm-up
    layers = []
    for kernel in kernels:
        samples = [run.get(kernel.name, (0.0, ""))[0] / 1e3 for run in per_run]
        if kernel.covers:
            kind = "+".join(dict.fromkeys(kinds[name] for name in kernel.covers))
            layers.append({"name": kernel.covers[0], "kind": kind, "samples_ms": samples, "op": kernel.op,
                           "covers": list(kernel.covers)})
        else:
            layers.append({"name": f"(engine) {kernel.name}", "kind": kernel.op.rsplit(".", 1)[-1],
                           "samples_ms": samples, "op": kernel.op, "covers": []})
    return {"model": result.model, "alpha": result.alpha, "resolution": list(result.resolution),
            "batch": result.batch, "threads": request["threads"], "warmup": warmup, "repeats": repeats,
            "per_round": 1, "imported": source.imported, "torch": torch.__version__, "samples_ms": whole,
            "layers": layers,
            "engine": "onnxruntime", "engine_version": onnxruntime.__version__}


def _layer_times(module: Any, x: Any, clock: Any, imported: bool, kinds: dict[str, str]) -> dict[str, int]:
    """One timed run: nanoseconds per node (a lowered network) or per module call named as a node."""
    if not imported:
        return module.timed(x, clock)
    times: dict[str, int] = {}
    starts: dict[str, int] = {}
    handles = []
    for name, sub in module.named_modules():
        if name in kinds:
            handles.append(sub.register_forward_pre_hook(lambda m, a, name=name: starts.__setitem__(name, clock())))
            handles.append(sub.register_forward_hook(
                lambda m, a, out, name=name: times.__setitem__(name, times.get(name, 0) + clock() - starts[name])))
    try:
        module(x)
    finally:
        for handle in handles:
            handle.remove()
    return times


def realistic_weights(module: Any, generator: Any) -> None:
    """Weights of a trained network's scale, in place: each matrix or kernel drawn from N(0, 2 / fan-in) (He), each
    norm's scale 1 and each bias 0, so activations keep their magnitude from layer to layer. (Weights of a fixed
    small scale shrink them layer by layer into subnormal floats, which a CPU computes many times slower.)"""
    import torch

    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if parameter.dim() > 1:
                fan_in = parameter[0].numel()
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
            else:
                parameter.fill_(1.0 if name.rsplit(".", 1)[-1] == "weight" else 0.0)


def prepare_kernels(networks: "list[Any]", seed: int) -> "list[tuple[Any, str, Any, Any]]":
    """Each one-op network of ``calibration.samples`` as (its ``op`` layer's costs, its kernel key
    (``latency.kernel_key``), its lowering, an input)."""
    import torch

    from ..sources.analyze import analyze
    from .profiles import kernel_key
    from ..lowering.to_torch import to_torch

    generator = torch.Generator().manual_seed(seed)
    kernels = []
    for network in networks:
        layer = next(layer for layer in analyze(network).layers if layer.name == "op")
        module = to_torch(network)
        realistic_weights(module, generator)
        op = next(node.op for node in network.nodes if node.name == "op")
        x = torch.randn(module.example_input().shape, generator=generator)
        kernels.append((layer, kernel_key(op, layer.kind, layer.output_shape), module, x))
    return kernels


def time_kernels(kernels: "list[tuple[Any, str, Any, Any]]", warmup: int, repeats: int, burst: int = 3,
                 progress: "_Progress | None" = None, each_pass: "Any | None" = None) -> "list[list[float]]":
    """Microseconds of each kernel's op in ``repeats`` timed runs, taken in passes over all the kernels: in each
    pass a kernel runs once untimed and then ``burst`` times timed, each timed run after another kernel's run, as a
    layer runs after another in a network whose code stays warm from one inference to the next. The passes spread
    a kernel's runs over the whole measurement, so that a change of the machine's speed meanwhile reaches every
    kernel alike. Each timed run reads an input just written (a copy made before it), as a layer reads its
    producer's output. ``each_pass`` (a callable), where given, runs after each pass, in the same rounds."""
    import torch

    clock = time.perf_counter_ns
    times: list[list[float]] = [[] for _ in kernels]
    with torch.inference_mode():
        for _, _, module, x in kernels:
            for _ in range(warmup):
                module.timed(x, clock)
        while len(times[0]) < repeats:
            runs = min(burst, repeats - len(times[0]))
            for index, (_, _, module, x) in enumerate(kernels):
                _, _, before, before_x = kernels[index - 1]
                module.timed(x, clock)
                for _ in range(runs):
                    before.timed(before_x, clock)       # another kernel between, as another layer in a network
                    times[index].append(module.timed(x.clone(), clock)["op"] / 1e3)
            if each_pass is not None:
                each_pass()
            if progress is not None:
                progress.step()
    return times


def calibrate(request: dict[str, Any]) -> dict[str, Any]:
    """Every kernel of ``calibration.samples`` timed alone: (kind, key, madds, memory access bytes, every run's
    microseconds in time order); and ``request["networks"]`` synthetic networks (``latency.synthetic``) timed whole
    once per pass over the kernels, each timed run right after an untimed one (a network's first run after others
    is slower than in a loop): {name: every run's milliseconds}. The parent takes each minimum and spread
    (``protocol.measured``)."""
    import torch

    from ..lowering.to_torch import to_torch
    from .calibration import samples
    from .synthetic import networks

    if request.get("engine") == "onnxruntime":
        return calibrate_onnxruntime(request)
    torch.set_num_threads(request["threads"])
    kernels = prepare_kernels(list(samples(request["per_kind"], request["seed"])), request["seed"])
    generator = torch.Generator().manual_seed(request["seed"])
    built = []
    for network in networks(request.get("networks", 0), request["seed"]):
        module = to_torch(network)
        realistic_weights(module, generator)
        built.append((network.name, module, torch.randn(module.example_input().shape, generator=generator)))
    runs: dict[str, list[float]] = {name: [] for name, _, _ in built}
    clock = time.perf_counter_ns

    def time_networks() -> None:
        for name, module, x in built:
            module(x)
            start = clock()
            module(x)
            runs[name].append((clock() - start) / 1e6)

    burst = 3
    progress = _Progress("calibrate", -(-request["repeats"] // burst), request["progress"])
    with torch.inference_mode():
        for _, module, x in built:
            module(x)
        times = time_kernels(kernels, request["warmup"], request["repeats"], burst, progress, time_networks)
    measured = [[layer.kind, key, layer.madds, layer.memory_access_bytes, samples_us]
                for (layer, key, _, _), samples_us in zip(kernels, times)]
    return {"samples": measured, "networks": runs, "torch": torch.__version__}


# timed runs of each network a pass on ONNX Runtime, after its untimed run: a network there runs in a few
# milliseconds, and a minimum of one run a pass (5 at the defaults) moved 15-20% from one calibration to the next
NETWORK_RUNS = 3


def calibrate_onnxruntime(request: dict[str, Any]) -> dict[str, Any]:
    """``calibrate`` on ONNX Runtime (``ort_kernels``): every kernel of ``calibration.samples`` in a session of its
    own, an empty session (its runs: ``"empty_us"``), and the synthetic networks each in a session, all timed in the
    same passes; the answer as ``calibrate``'s, with ``"engine_version"``."""
    import torch

    from ..lowering.to_torch import to_torch
    from .calibration import samples
    from .synthetic import networks

    threads = request["threads"]
    torch.set_num_threads(threads)
    with torch.no_grad():
        kernels = prepare_kernels(list(samples(request["per_kind"], request["seed"])), request["seed"])
        generator = torch.Generator().manual_seed(request["seed"])
        lowered = []
        for network in networks(request.get("networks", 0), request["seed"]):
            module = to_torch(network).eval()
            realistic_weights(module, generator)
            lowered.append((network.name, module, torch.randn(module.example_input().shape, generator=generator)))
    folder = tempfile.mkdtemp(prefix="costmodel-calibrate-")
    try:
        return _calibrate_sessions(request, kernels, lowered, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _calibrate_sessions(request: dict[str, Any], kernels: "list[tuple[Any, str, Any, Any]]",
                        lowered: "list[tuple[str, Any, Any]]", folder: str) -> dict[str, Any]:
    """``calibrate_onnxruntime``'s sessions made, run and read, the profilers writing in ``folder``."""
    import onnxruntime
    import torch

    from .ort_kernels import empty_session, kernel_sessions, network_session, op_alone, profiled_runs, run_in_passes

    threads = request["threads"]
    try:                    # onnxruntime's errors derive from Exception alone; torch's exporter raises its own
        sessions = kernel_sessions([op_alone(module, x) for _, _, module, x in kernels], threads, folder)
        sessions.append(empty_session(threads, folder))
        built = [(name, *network_session(module, x, threads)) for name, module, x in lowered]
    except Exception as error:
        raise CostModelError(f"the calibration kernels could not be exported and loaded in onnxruntime: "
                             f"{first_line(error)}") from None
    runs: dict[str, list[float]] = {name: [] for name, _, _ in built}
    clock = time.perf_counter_ns

    def time_networks() -> None:
        for name, session, feed in built:
            session.run(None, feed)
            for _ in range(NETWORK_RUNS):
                start = clock()
                session.run(None, feed)
                runs[name].append((clock() - start) / 1e6)

    burst = 3
    progress = _Progress("calibrate (onnxruntime)", -(-request["repeats"] // burst), request["progress"])
    for _, session, feed in built:
        session.run(None, feed)
    try:
        run_in_passes(sessions, request["warmup"], request["repeats"], burst, progress, time_networks)
        profiled = [profiled_runs(session, request["warmup"]) for session, _ in sessions]
    except Exception as error:
        raise CostModelError(f"onnxruntime could not run a calibration kernel: {first_line(error)}") from None
    measured = [[layer.kind, key, layer.madds, layer.memory_access_bytes, samples_us]
                for (layer, key, _, _), (samples_us, _) in zip(kernels, profiled)]
    return {"samples": measured, "nodes": [nodes for _, nodes in profiled[:-1]], "empty_us": profiled[-1][0],
            "networks": runs, "torch": torch.__version__, "engine_version": onnxruntime.__version__}


def microbench(request: dict[str, Any]) -> dict[str, Any]:
    """ShuffleNetV2's micro-benchmark networks of one table (``reproduce.microbench``), or zoo settings
    (``request["networks"]``: model and alpha each, every timed run right after an untimed one), each timed whole:
    rounds that run every network once in turn, so that a change of the machine's speed reaches every row alike."""
    import torch

    from ..reproduce.microbench import settings
    from ..lowering.to_torch import to_torch

    torch.set_num_threads(request["threads"])
    networks: list[Any]
    if "table" in request:
        networks = [setting.network for setting in settings(request["table"])]
        label = f"table {request['table']}"
    else:           # zoo settings, each run once untimed before its timed run, as a network runs in a loop
        networks = [{"model": row["model"], "alpha": row["alpha"]} for row in request["networks"]]
        label = "networks"
    untimed = "table" not in request
    modules, inputs = [], []
    for index, network in enumerate(networks):
        module = to_torch(network["model"], alpha=network["alpha"]) if isinstance(network, dict) else \
            to_torch(network)
        realistic_weights(module, torch.Generator().manual_seed(index))
        modules.append(module)
        inputs.append(torch.randn(module.example_input().shape, generator=torch.Generator().manual_seed(index)))
    progress = _Progress(label, request["warmup"] + request["repeats"], request["progress"])
    clock = time.perf_counter_ns
    times: list[list[float]] = [[] for _ in networks]
    with torch.inference_mode():
        for round_ in range(request["warmup"] + request["repeats"]):
            for index, (module, x) in enumerate(zip(modules, inputs)):
                if untimed:
                    module(x)
                start = clock()
                module(x)
                if round_ >= request["warmup"]:
                    times[index].append((clock() - start) / 1e6)
            progress.step()
    return {"torch": torch.__version__, "rows": [{"samples_ms": samples} for samples in times]}


def die_with_parent(parent: int, seconds: "float | None") -> None:
    """End this process when the costmodel that started it (``parent``) ends, however it ends (a SIGKILL
    included: Linux's parent-death signal, and a thread that watches the parent's pid where that is missing), and
    after ``seconds`` of its own (None: no deadline), so that it never runs on as an orphan."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)         # PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):        # not Linux: the thread below alone
        pass
    if os.getppid() != parent:                           # the parent died before the signal was asked for
        os._exit(1)
    end = None if seconds is None else time.monotonic() + seconds

    def watch() -> None:
        while end is None or time.monotonic() < end:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.2)
        os._exit(124)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


# glibc's mallopt parameters, and the largest mmap threshold it takes on a 64-bit machine (HEAP_MAX_SIZE / 2)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD = 32 * 1024 * 1024
STEADY_HEAP = "steady"           # what ``steady_heap`` returns where it took


def steady_heap() -> str:
    """Make every tensor of up to 32 MB come from the process's heap, reused run after run, rather than fresh pages
    from the kernel: glibc's malloc serves a large block by mmap, and a fresh mapping costs a page fault per 4 kB
    page when first written, which the next free returns; glibc raises that threshold as blocks are freed, so
    whether a run pays the faults depends on which networks ran before it. Networks of different sizes in
    interleaved rounds then measure the allocator's history: ShuffleNetV2's Table 4 networks at c = 128 took 22 to
    43 ms by default and 17 to 20 ms with the threshold fixed (three runs of each, interleaved), the same in every
    run. A deployed engine plans or reuses its buffers; so does one network running in a steady loop. With the
    threshold fixed at glibc's largest (32 MB) and the heap never trimmed, every run reuses the memory freed by the
    last, whatever ran before.

    :returns: ``STEADY_HEAP``, or ``"system"`` where the C library is not glibc (its malloc left as it is)"""
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return "system"
    taken = mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) == 1
    taken = mallopt(_M_TRIM_THRESHOLD, 2**31 - 1) == 1 and taken
    return STEADY_HEAP if taken else "system"


def main() -> None:
    heap = steady_heap()                     # before torch allocates anything
    request = json.loads(sys.stdin.read())
    if "parent" in request:
        die_with_parent(request["parent"], request.get("deadline"))
    try:
        if request.get("calibrate"):
            answer = calibrate(request)
        elif request.get("microbench"):
            answer = microbench(request)
        elif request.get("engine") == "onnxruntime":
            answer = run_onnxruntime(request)
        else:
            answer = run(request)
    except CostModelError as error:
        answer = {"error": str(error)}
    except (RuntimeError, MemoryError) as error:        # what torch raises for a module it cannot run
        answer = {"error": f"torch could not run {request.get('model', 'the benchmark')}: {first_line(error)}"}
    answer.setdefault("heap", heap)
    sys.stdout.write(json.dumps(answer))


if __name__ == "__main__":
    main()
