"""Issue 25, item 2: a latency predictor scored honestly. It is fitted only on one-op kernels
(``calibration.samples``) and on synthetic networks built from the zoo's blocks (``latency.synthetic``), and scored on
every zoo network and on imported third-party modules (bfmd's backbones), none of which it saw.

Run by hand (needs torch and bfmd; about ``--seconds`` plus a minute to build everything), with nothing else running:

    python benchmarks/bench_latency.py [--threads 1] [--seconds 150] [--synthetic 24] [--save FILE.json]
    python benchmarks/bench_latency.py --from FILE.json          # the tables of a saved run, re-fitted
    python benchmarks/bench_latency.py --engine onnxruntime      # everything on ONNX Runtime (issue 25, item 3)

On ONNX Runtime (``--engine onnxruntime``, needs costmodel[onnxruntime]) the kernels are timed as ``costmodel
calibrate --engine onnxruntime`` times them (each in a session of its own, by its profiler, less an empty node's
time per node; ``latency.ort_kernels``), every network is exported and timed whole in a session of its own, and the
predictor prices the fused view.

Everything is timed in the same interleaved rounds, so that the machine's speed reaches kernels, synthetic and scored
networks alike: each round times one pass over the kernels (``bench_worker.time_kernels``: a burst of 3 runs each)
and one run of every network, right after an untimed run of the same network, and every figure is the minimum of
its runs (``latency.protocol``), with the steady heap of ``bench_worker.steady_heap``. The untimed run matters: the
first run of a network after all the others is slower by tens of microseconds per layer (a synthetic network of 67
layers: 10.1-10.3 ms against 6.1-6.5 ms for the run after it), which a network running in a loop, as ``bench``
measures it, does not pay. The predictor:

    network latency = scale x (sum over its layers of the kernel model of the layer) + us_per_layer x layers

with ``scale`` and ``us_per_layer`` (the per-layer context: what a layer costs inside a network beyond the kernel
timed alone) fitted by least squares on the synthetic networks' relative errors, each kept >= 0
(``profiles.fit_context``, as ``costmodel calibrate`` fits them). Printed: the kernel
sum alone, the predictor, and a FLOPs-proportional baseline (one constant, fitted on the same synthetic networks),
each network's measured minimum with its spread between windows, and the summary (share within +-10%, median and
worst error).
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any


IMPORTED = {       # third-party modules (bfmd 0.0.3), imported as costmodel imports them, at 224 x 224
    "bfmd.mobilenet:mobilenet": "bfmd MobileNet",
    "bfmd.mobilenetv2:mobilenetv2": "bfmd MobileNetV2",
    "bfmd.mobilenetv3:Mobilenet_v3_large": "bfmd MobileNetV3-Large",
    "bfmd.mobilenetv3:Mobilenet_v3_small": "bfmd MobileNetV3-Small",
    "bfmd.mobilenext:MobileNeXt": "bfmd MobileNeXt",
    "bfmd.efficientnet_pytorch:EfficientNet.from_name:model_name='efficientnet-b0'": "bfmd EfficientNet-B0",
    "bfmd.shufflenetv2:shufflenetv2": "bfmd ShuffleNetV2",
}
INPUT = {"input": "3x224x224"}


@functools.lru_cache(maxsize=None)
def _analysis(name: str) -> Any:
    """The analysis of a zoo network, an imported module or a synthetic network (by its name), made once."""
    import costmodel
    from costmodel.latency.synthetic import networks

    if name.startswith("synthetic"):
        index = int(name[len("synthetic"):].split("_", 1)[0])
        return costmodel.analyze(list(networks(index + 1, 0))[index])
    return costmodel.analyze(name, options=INPUT if name in IMPORTED else None)


def measure(seconds: float, threads: int, synthetic: int) -> dict[str, Any]:
    """Every run's time of every kernel and network, in interleaved rounds for ``seconds``."""
    from costmodel.latency.bench_worker import steady_heap

    heap = steady_heap()
    import torch

    from costmodel.latency.bench_worker import prepare_kernels, realistic_weights, time_kernels
    from costmodel.latency.calibration import samples
    from costmodel.latency.synthetic import networks
    from costmodel.lowering.to_torch import to_torch
    from costmodel.sources.importer.entry import imported_entry
    from costmodel.sources.zoo import MODELS

    torch.set_num_threads(threads)
    kernels = prepare_kernels(list(samples(24, 0)), 0)
    built: dict[str, tuple[Any, Any, str]] = {}         # name: (module, input, role)
    generator = torch.Generator().manual_seed(0)
    for network in networks(synthetic, 0):
        module = to_torch(network)
        realistic_weights(module, generator)
        built[network.name] = (module, torch.randn(module.example_input().shape, generator=generator), "fit")
    for name in MODELS:
        module = to_torch(name)
        realistic_weights(module, generator)
        built[name] = (module, torch.randn(module.example_input().shape, generator=generator), "zoo")
    for name in IMPORTED:
        module = imported_entry(name, INPUT).model.module.eval()
        built[name] = (module, torch.randn((1, 3, 224, 224), generator=generator), "imported")
    kernel_runs: list[list[float]] = [[] for _ in kernels]
    runs: dict[str, list[float]] = {name: [] for name in built}
    layer_runs: dict[str, list[dict[str, float]]] = {name: [] for name, (_, _, role) in built.items() if role == "fit"}
    clock = time.perf_counter_ns
    with torch.inference_mode():
        for module, x, _ in built.values():
            module(x), module(x)
        start, rounds = time.monotonic(), 0
        while time.monotonic() - start < seconds or rounds < 5:
            for index, times in enumerate(time_kernels(kernels, 0 if rounds else 2, 3)):
                kernel_runs[index].extend(times)
            for name, (module, x, role) in built.items():
                module(x)               # warm: after the other networks, a first run is slower (see the docstring)
                began = clock()
                module(x)
                runs[name].append((clock() - began) / 1e6)
                if role == "fit":           # and a run with a clock around each layer
                    layer_runs[name].append({layer: ns / 1e6 for layer, ns in module.timed(x, clock).items()})
            rounds += 1
            print(f"round {rounds}, {time.monotonic() - start:.0f} s", file=sys.stderr)
    return {"threads": threads, "torch": torch.__version__, "heap": heap, "rounds": rounds, "seconds": seconds,
            "kernels": [[layer.kind, key, layer.madds, layer.memory_access_bytes, times]
                        for (layer, key, _, _), times in zip(kernels, kernel_runs)],
            "networks": {name: {"role": role, "runs": runs[name], "layer_runs": layer_runs.get(name)}
                         for name, (_, _, role) in built.items()}}


def measure_onnxruntime(seconds: float, threads: int, synthetic: int, onnx_folder: str) -> dict[str, Any]:
    """``measure`` on ONNX Runtime (``--engine onnxruntime``): the kernels as ``calibrate --engine onnxruntime``
    times them (each in a session of its own with its profiler on, ``latency.ort_kernels``; an empty node's time
    beside them), and every network exported (torch's TorchScript exporter) and timed whole in a session of its own,
    in the same interleaved rounds. A module torch cannot export, or ONNX Runtime cannot load, is left out with a
    line saying why. The imported modules' ONNX files are kept in ``onnx_folder``: each is scored twice, as
    costmodel imports the module and as it imports the file (``"onnx_files"``: the module's name to its file)."""
    import onnxruntime
    import torch

    from costmodel.latency.bench_worker import NETWORK_RUNS, prepare_kernels, realistic_weights, steady_heap
    from costmodel.latency.calibration import samples
    from costmodel.latency.ort_kernels import (empty_session, kernel_sessions, network_session, op_alone,
                                               profiled_runs, run_in_passes)
    from costmodel.latency.synthetic import networks
    from costmodel.lowering.to_torch import to_torch
    from costmodel.sources.importer.entry import imported_entry
    from costmodel.sources.zoo import MODELS

    def onnx_file(name: str) -> str:
        return os.path.abspath(os.path.join(onnx_folder, f"{IMPORTED[name].replace(' ', '_')}.onnx"))

    heap = steady_heap()
    torch.set_num_threads(threads)
    folder = tempfile.mkdtemp(prefix="bench-latency-")
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        kernels = prepare_kernels(list(samples(24, 0)), 0)
        sessions = kernel_sessions([op_alone(module, x) for _, _, module, x in kernels], threads, folder)
        sessions.append(empty_session(threads, folder))
        built: dict[str, tuple[Any, Any, str]] = {}         # name: (session, feed, role)
        candidates = [(network.name, lambda network=network: to_torch(network), "fit")
                      for network in networks(synthetic, 0)]
        candidates += [(name, lambda name=name: to_torch(name), "zoo") for name in MODELS]
        candidates += [(name, lambda name=name: imported_entry(name, INPUT).model.module, "imported")
                       for name in IMPORTED]
        for name, make, role in candidates:
            module = make().eval()
            if role != "imported":
                realistic_weights(module, generator)
            shape = (1, 3, 224, 224) if role == "imported" else module.example_input().shape
            keep = onnx_file(name) if role == "imported" else None
            try:
                session, feed = network_session(module, torch.randn(shape, generator=generator), threads, keep)
            except Exception as error:         # torch's exporter and onnxruntime raise their own errors
                print(f"left out {name}: {str(error).splitlines()[0][:200]}", file=sys.stderr)
                continue
            built[name] = (session, feed, role)
    runs: dict[str, list[float]] = {name: [] for name in built}
    clock = time.perf_counter_ns
    for session, feed, _ in built.values():
        session.run(None, feed), session.run(None, feed)
    start, rounds = time.monotonic(), 0
    while time.monotonic() - start < seconds or rounds < 5:
        run_in_passes(sessions, 0 if rounds else 2, 3, 3)
        for name, (session, feed, _) in built.items():
            session.run(None, feed)
            for _ in range(NETWORK_RUNS):         # as calibrate --engine onnxruntime times its networks
                began = clock()
                session.run(None, feed)
                runs[name].append((clock() - began) / 1e6)
        rounds += 1
        print(f"round {rounds}, {time.monotonic() - start:.0f} s", file=sys.stderr)
    profiled = [profiled_runs(session, 2) for session, _ in sessions]
    return {"threads": threads, "torch": torch.__version__, "heap": heap, "rounds": rounds, "seconds": seconds,
            "engine": "onnxruntime", "engine_version": onnxruntime.__version__,
            "empty_us": profiled[-1][0],
            "kernels": [[layer.kind, key, layer.madds, layer.memory_access_bytes, times, nodes]
                        for (layer, key, _, _), (times, nodes) in zip(kernels, profiled)],
            "networks": {name: {"role": role, "runs": runs[name], "layer_runs": None}
                         for name, (_, _, role) in built.items()},
            "onnx_files": {name: onnx_file(name) for name, (_, _, role) in built.items() if role == "imported"}}


def _layer_samples(document: dict[str, Any]) -> "list[tuple[str, str, int, int, float]]":
    """Each layer of each synthetic network as a kernel sample, in context: (kind, key, madds, bytes, us), its time
    in the layer-clocked run whose layers summed least (the quietest run: its layers' times add up to that run)."""
    from costmodel.latency.profiles import kernel_key

    layers = []
    for name, entry in document["networks"].items():
        if not entry.get("layer_runs"):
            continue
        result = _analysis(name)
        ops = {node.name: node.op for node in result.network.nodes}
        quietest = min(entry["layer_runs"], key=lambda run: sum(run.values()))
        for layer in result.layers:
            if layer.name in quietest:
                layers.append((layer.kind, kernel_key(ops[layer.name], layer.kind, layer.output_shape), layer.madds,
                               layer.memory_access_bytes, 1e3 * quietest[layer.name]))
    return layers


def report(document: dict[str, Any], windows: int, fit_on: str, cache: bool = True) -> None:
    from costmodel.latency import CACHE_CANDIDATES, fit, fit_context
    from costmodel.latency.protocol import measured

    engine = document.get("engine", "torch")
    empty = measured(document["empty_us"], windows).value if engine == "onnxruntime" else 0.0
    kernels = [(kind, key, madds, memory, max(measured(times, windows).value - empty * (rest[0] if rest else 0), 0.0))
               for kind, key, madds, memory, times, *rest in document["kernels"]]
    if fit_on != "kernels" and engine == "onnxruntime":
        raise SystemExit("--fit-on layers and both need the layers timed in place, which the onnxruntime run "
                         "does not take")
    if fit_on == "layers":
        kernels = _layer_samples(document)
    elif fit_on == "both":
        kernels = kernels + _layer_samples(document)
    profile = fit(kernels, "this-cpu", "bench_latency.py", document["threads"],
                  caches=CACHE_CANDIDATES if cache else (None,),
                  view="fused" if engine == "onnxruntime" else "unfused", engine=engine)
    rows = {}
    for name, entry in document["networks"].items():
        result = profile.priced(_analysis(name))
        figure = measured(entry["runs"], windows)
        rows[name] = (entry["role"], figure, sum(profile.layer_ms(result)), profile.kernels_run(result),
                      result.totals["flops"])
    for name, path in document.get("onnx_files", {}).items():     # the same runs, the module imported from ONNX
        if not os.path.exists(path):
            print(f"left out {path}: not found (the ONNX files of a saved run stay where it wrote them)")
            continue
        result = profile.priced(_analysis(path))
        rows[path] = ("onnx", measured(document["networks"][name]["runs"], windows), sum(profile.layer_ms(result)),
                      profile.kernels_run(result), result.totals["flops"])
    fitting = [(kernel_ms, layers, figure.value) for role, figure, kernel_ms, layers, _ in rows.values()
               if role == "fit"]
    scale, us_per_layer = fit_context(fitting)
    per_flop_terms = [(flops / figure.value) for role, figure, _, _, flops in rows.values() if role == "fit"]
    per_flop = sum(per_flop_terms) / sum(term * term for term in per_flop_terms)      # relative least squares
    ran = f"onnxruntime {document['engine_version']} (fused view; kernels less {empty:.1f} us a node)" \
        if engine == "onnxruntime" else f"torch {document['torch']}"
    print(f"{len(document['networks'])} networks and {len(kernels)} kernels, {document['rounds']} interleaved "
          f"rounds in {document['seconds']:.0f} s, {document['threads']} thread(s), {ran}, "
          f"{document['heap']} heap, {windows} windows\n")
    threshold = "none" if profile.cache_mb is None else f"{profile.cache_mb:g} MB"
    print(f"cache threshold {threshold}; fitted on {len(fitting)} synthetic networks: scale {scale:.3f}, "
          f"{us_per_layer:.1f} us per layer; "
          f"FLOPs-proportional: {per_flop * 1e9:.3f} ms per GFLOP\n")
    print("| network | role | kernels | GFLOPs | measured (ms) | spread | kernel sum | error | predicted | error | "
          "FLOPs-proportional | error |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    errors: dict[str, dict[str, list[float]]] = {}
    for name, (role, figure, kernel_ms, layers, flops) in rows.items():
        predicted = scale * kernel_ms + us_per_layer * layers / 1e3
        baseline = per_flop * flops
        value = figure.value
        errs = {"kernel sum": kernel_ms / value - 1, "predicted": predicted / value - 1,
                "FLOPs-proportional": baseline / value - 1}
        group = {"fit": "fit", "onnx": "imported from their ONNX files"}.get(role, "scored")
        for what, error in errs.items():
            errors.setdefault(group, {}).setdefault(what, []).append(error)
        errors.setdefault(group, {}).setdefault("spread", []).append(figure.spread)
        label = IMPORTED.get(name, os.path.basename(name) if role == "onnx" else name)
        print(f"| {label} | {role} | {layers} | {flops / 1e9:.2f} | {value:.2f} | {figure.spread:.1%} | "
              f"{kernel_ms:.2f} | {errs['kernel sum']:+.1%} | {predicted:.2f} | {errs['predicted']:+.1%} | "
              f"{baseline:.2f} | {errs['FLOPs-proportional']:+.1%} |")
    print()
    for group, found in errors.items():
        count = len(found["predicted"])
        print(f"{group} ({count} networks): measurement spread median {statistics.median(found['spread']):.1%} "
              f"(largest {max(found['spread']):.1%})")
        for what in ("kernel sum", "predicted", "FLOPs-proportional"):
            values = found[what]
            within = sum(abs(error) <= 0.10 for error in values)
            worst = max(values, key=abs)
            print(f"  {what}: {within} of {count} within +-10% ({within / count:.0%}), median error "
                  f"{statistics.median(values):+.1%}, median |error| {statistics.median(map(abs, values)):.1%}, "
                  f"worst {worst:+.1%}")


def main(argv: "list[str]") -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=150.0, help="how long the rounds run")
    parser.add_argument("--synthetic", type=int, default=24, help="synthetic networks to fit on")
    parser.add_argument("--windows", type=int, default=5)
    parser.add_argument("--fit-on", choices=("kernels", "layers", "both"), default="kernels",
                        help="the kernel models' data: one-op kernels, the synthetic networks' layers, or both")
    parser.add_argument("--no-cache", action="store_true",
                        help="fit the kernel models without a cache threshold (as profiles before it)")
    parser.add_argument("--engine", choices=("torch", "onnxruntime"), default="torch",
                        help="what runs the kernels and networks (onnxruntime: each exported, the fused view priced)")
    parser.add_argument("--save", default=None, help="also write every run's time as JSON")
    parser.add_argument("--from", dest="saved", default=None, help="report a saved run instead of measuring")
    args = parser.parse_args(argv)
    if args.saved:
        with open(args.saved) as saved:
            document = json.load(saved)
    else:
        if args.engine == "onnxruntime":
            folder = f"{args.save}.onnx" if args.save else tempfile.mkdtemp(prefix="bench-latency-onnx-")
            os.makedirs(folder, exist_ok=True)
            document = measure_onnxruntime(args.seconds, args.threads, args.synthetic, folder)
        else:
            document = measure(args.seconds, args.threads, args.synthetic)
        if args.save:
            with open(args.save, "w") as out:
                json.dump(document, out)
    report(document, args.windows, args.fit_on, not args.no_cache)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
