"""Issue 25, item 3: costmodel's fused view against the graph ONNX Runtime actually runs, for every zoo network.

Each zoo network (at its default setting) is lowered to torch, exported with torch's ``torch.export``-based exporter,
and optimized by ONNX Runtime (CPU provider, ``ORT_ENABLE_ALL``, as its sessions run by default); each node of the
optimized graph is mapped onto the costmodel nodes it computes (``latency.ort_graph``) and the groups are compared
with costmodel's fused view (``engine.fusion``). Printed: per network, the fused view's kernels, the engine's (and
how many of those are its own layout reorders), and how many groups differ; then every kind of difference, with
how often it occurs and in which networks.

Run by hand (needs torch, onnx, onnxscript and onnxruntime; about 5 minutes, mostly the exporter):

    python benchmarks/ort_fusion.py [--level all|extended|basic] [--threads 1] [MODEL ...]
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time


def main(argv: "list[str]") -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--level", choices=("basic", "extended", "all"), default="all")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("models", nargs="*", help="zoo models (default: every one)")
    args = parser.parse_args(argv)

    import onnx
    import torch

    import costmodel
    from costmodel.latency.bench_worker import realistic_weights
    from costmodel.latency.ort_graph import differences, engine_kernels, engine_only, export, fused_groups, \
        optimized_graph
    from costmodel.lowering.to_torch import to_torch
    from costmodel.sources.zoo import MODELS

    torch.set_num_threads(args.threads)
    patterns: dict[str, list[str]] = collections.defaultdict(list)
    start = time.perf_counter()
    print(f"ONNX Runtime {__import__('onnxruntime').__version__}, level {args.level}, {args.threads} thread(s); "
          f"torch {torch.__version__}\n")
    print("| network | fused view | engine kernels | engine's own | groups that differ |")
    print("|---|---|---|---|---|")
    totals = collections.Counter()
    for name in args.models or sorted(MODELS):
        result = costmodel.analyze(name)
        module = to_torch(name)
        realistic_weights(module, torch.Generator().manual_seed(0))
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.onnx")
            try:
                export(module, torch.zeros(module.example_input().shape), path)
            except Exception as error:          # an export torch cannot make: say so, go on
                print(f"| {name} | export failed: {type(error).__name__}: {str(error).splitlines()[0][:80]} |||")
                continue
            optimized = optimized_graph(path, args.threads, args.level)
            exported = onnx.load(path, load_external_data=False)
        kinds = {layer.name: layer.kind for layer in result.layers}
        kernels = engine_kernels(exported, optimized, result.network, kinds)
        found = differences(kernels, result.network, kinds)
        own = engine_only(kernels)
        groups = [group for group in fused_groups(result.network) if any(member in kinds for member in group)]
        for difference in found:
            patterns[difference.pattern].append(name)
        totals.update({"fused": len(groups), "engine": len(kernels), "own": len(own), "differ": len(found)})
        print(f"| {name} | {len(groups)} | {len(kernels)} | {len(own)} | {len(found)} |")
    print(f"| **all** | {totals['fused']} | {totals['engine']} | {totals['own']} | {totals['differ']} |")
    print(f"\n{len(patterns)} kinds of difference (costmodel's fused kernels -> the engine's), "
          f"{time.perf_counter() - start:.0f} s:\n")
    print("| costmodel -> ONNX Runtime | times | networks |")
    print("|---|---|---|")
    for pattern, names in sorted(patterns.items(), key=lambda item: -len(item[1])):
        counted = collections.Counter(names)
        where = ", ".join(f"{network} ({count})" if count > 1 else network for network, count in counted.items())
        print(f"| `{pattern}` | {len(names)} | {where} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
