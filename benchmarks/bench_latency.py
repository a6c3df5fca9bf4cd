"""Goal (issue 15): a calibrated device profile predicts the measured latency of 90% of networks within +-10%.

Run by hand (about 10 minutes; needs torch, and bfmd for the two imported networks): for every zoo network at its
base size, and for bfmd's MobileNetV2 and EfficientNet-B0 (imported, 224x224), the whole network's median latency
beside the latency a profile of this CPU predicts, with a FLOPs-proportional baseline (its one constant fitted on
these networks) for comparison. Prints a Markdown table for the README.

The calibration kernels (``calibration.samples``) are timed in passes between the networks' runs, and the profile
is fitted on all those passes, so calibration and measurement span the same minutes. Each network's runs sit
between three passes; the ratio of those passes' time to the median pass says how fast the machine ran while the
network was measured, and the "normalised" error divides that speed out of the measurement. (On this 2-core VM the
speed of the same work changes by up to 50% within minutes.)"""
import statistics
import sys
import time

import torch

import costmodel
from costmodel.bench_worker import prepare_kernels, realistic_weights, time_kernels
from costmodel.calibration import samples
from costmodel.latency import fit
from costmodel.torch_lowering import to_torch
from costmodel.zoo import MODELS

IMPORTED = {"bfmd.mobilenetv2:mobilenetv2": {"input": "3x224x224"},
            "bfmd.efficientnet_pytorch:EfficientNet.from_name:model_name='efficientnet-b0'": {"input": "3x224x224"}}
ROUNDS, RUNS = 3, 3


def module_of(name: str, options: dict) -> torch.nn.Module:
    if name in MODELS:
        module = to_torch(name)
        realistic_weights(module, torch.Generator().manual_seed(0))
        return module
    from costmodel.importer.entry import imported_entry

    return imported_entry(name, options).model.module.eval()


def main() -> bool:
    torch.set_num_threads(1)
    kernels = prepare_kernels(list(samples(24, 0)), 0)
    pass_times: list[float] = []
    kernel_times: list[list[float]] = [[] for _ in kernels]

    def probe() -> float:
        times = time_kernels(kernels, 0, 3)
        for index, runs in enumerate(times):
            kernel_times[index].extend(runs)
        pass_times.append(sum(statistics.median(runs) for runs in times))
        return pass_times[-1]

    probe()
    rows = []
    models = [(name, {}) for name in sorted(MODELS)] + list(IMPORTED.items())
    for number, (name, options) in enumerate(models, 1):
        result = costmodel.analyze(name, options=options)
        module = module_of(name, options)
        x = torch.randn(tuple(result.input_shape.dims), generator=torch.Generator().manual_seed(1))
        whole, probes = [], []
        with torch.inference_mode():
            module(x), module(x)
            for _ in range(ROUNDS):
                probes.append(probe())
                for _ in range(RUNS):
                    start = time.perf_counter_ns()
                    module(x)
                    whole.append((time.perf_counter_ns() - start) / 1e6)
        rows.append((name.split(":")[0], result, statistics.median(whole), statistics.median(probes)))
        print(f"{number}/{len(models)} {rows[-1][0]}: {rows[-1][2]:.1f} ms", file=sys.stderr)
    profile = fit([(layer.kind, key, layer.madds, layer.memory_access_bytes, statistics.median(runs))
                   for (layer, key, _, _), runs in zip(kernels, kernel_times)], "this-cpu", "bench_latency.py", 1)
    reference = statistics.median(pass_times)
    per_flop = sum(m for _, _, m, _ in rows) / sum(r.totals["flops"] for _, r, _, _ in rows)
    print(f"calibration passes: {len(pass_times)}, each {min(pass_times) / 1e3:.0f} to {max(pass_times) / 1e3:.0f} ms "
          f"(median {reference / 1e3:.0f} ms)\n")
    print("| network | FLOPs | measured (ms) | speed | predicted (ms) | error | normalised error | "
          "FLOPs-proportional (ms) | error | normalised error |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    counts = {"raw": 0, "normalised": 0, "baseline raw": 0, "baseline normalised": 0}
    for name, result, measured, probes in rows:
        speed = probes / reference                     # > 1: the machine ran slower than its median
        predicted = sum(profile.layer_ms(result))
        baseline = result.totals["flops"] * per_flop
        errors = {"raw": predicted / measured - 1, "normalised": predicted * speed / measured - 1,
                  "baseline raw": baseline / measured - 1, "baseline normalised": baseline * speed / measured - 1}
        for key, error in errors.items():
            counts[key] += abs(error) <= 0.10
        print(f"| {name} | {result.totals['flops'] / 1e6:,.0f}M | {measured:.1f} | {1 / speed:.2f}x | "
              f"{predicted:.1f} | {100 * errors['raw']:+.1f}% | {100 * errors['normalised']:+.1f}% | {baseline:.1f} | "
              f"{100 * errors['baseline raw']:+.1f}% | {100 * errors['baseline normalised']:+.1f}% |")
    total = len(rows)
    print("\nwithin +-10%: " + ", ".join(f"{key} {count} of {total} ({100 * count / total:.0f}%)"
                                          for key, count in counts.items()))
    return counts["normalised"] >= 0.9 * total


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
