"""Goal (issue 15): a calibrated device profile predicts the measured latency of 90% of networks within +-10%.

Run by hand (about 10 minutes; needs torch, and bfmd for the two imported networks): for every zoo network at its
base size, and for bfmd's MobileNetV2 and EfficientNet-B0 (imported, 224x224), the whole network's median latency
beside the latency a profile of this CPU predicts, with a FLOPs-proportional baseline (its one constant fitted on
these networks) for comparison. Prints a Markdown table for the README.

Calibration and measurement are interleaved over the whole run, because this 2-core VM's speed changes by up to
50% within minutes: every network is built first, then each round times one pass over the calibration kernels
(``calibration.samples``) and two runs of every network in turn. The profile is fitted on all the passes, and each
network's figure is the median of its runs in every round, so both span the same minutes.

The "speed" column compares the passes run in the rounds with their median; it only describes the run."""
import statistics
import sys
import time
from pathlib import Path

from costmodel.latency.bench_worker import steady_heap

steady_heap()                # before torch allocates: as bench and calibrate run
import torch  # noqa: E402

import costmodel  # noqa: E402
from costmodel.latency.bench_worker import prepare_kernels, realistic_weights, time_kernels  # noqa: E402
from costmodel.latency.calibration import samples  # noqa: E402
from costmodel.latency import fit  # noqa: E402
from costmodel.lowering.to_torch import to_torch  # noqa: E402
from costmodel.sources.zoo import MODELS  # noqa: E402

IMPORTED = {"bfmd.mobilenetv2:mobilenetv2": {"input": "3x224x224"},
            "bfmd.efficientnet_pytorch:EfficientNet.from_name:model_name='efficientnet-b0'": {"input": "3x224x224"}}
ROUNDS, RUNS = 9, 2


def module_of(name: str, options: dict) -> torch.nn.Module:
    if name in MODELS:
        module = to_torch(name)
        realistic_weights(module, torch.Generator().manual_seed(0))
        return module
    from costmodel.sources.importer.entry import imported_entry

    return imported_entry(name, options).model.module.eval()


def main() -> bool:
    torch.set_num_threads(1)
    kernels = prepare_kernels(list(samples(24, 0)), 0)
    kernel_times: list[list[float]] = [[] for _ in kernels]
    pass_times: list[float] = []
    models = [(name, {}) for name in sorted(MODELS)] + list(IMPORTED.items())
    built = []
    for name, options in models:
        result = costmodel.analyze(name, options=options)
        module = module_of(name, options)
        x = torch.randn(tuple(result.input_shape.dims), generator=torch.Generator().manual_seed(1))
        built.append((name, result, module, x, []))
    with torch.inference_mode():
        for _, _, module, x, _ in built:
            module(x), module(x)
        for round_ in range(ROUNDS):
            times = time_kernels(kernels, 0, 3)
            for index, runs in enumerate(times):
                kernel_times[index].extend(runs)
            pass_times.append(sum(statistics.median(runs) for runs in times))
            for _, _, module, x, whole in built:
                for _ in range(RUNS):
                    start = time.perf_counter_ns()
                    module(x)
                    whole.append((time.perf_counter_ns() - start) / 1e6)
            print(f"round {round_ + 1}/{ROUNDS}", file=sys.stderr)
    rows = [(name.split(":")[0], result, statistics.median(whole)) for name, result, _, _, whole in built]
    profile = fit([(layer.kind, key, layer.madds, layer.memory_access_bytes, statistics.median(runs))
                   for (layer, key, _, _), runs in zip(kernels, kernel_times)], "this-cpu", "bench_latency.py", 1,
                  statistic="median")
    if len(sys.argv) > 1:                        # where to keep the profile fitted here, to look at it
        Path(sys.argv[1]).write_text(profile.to_toml(), encoding="utf-8")
    per_flop = sum(m for _, _, m in rows) / sum(r.totals["flops"] for _, r, m in rows)
    print(f"calibration passes: {len(pass_times)}, each {min(pass_times) / 1e3:.0f} to {max(pass_times) / 1e3:.0f} ms "
          f"(median {statistics.median(pass_times) / 1e3:.0f} ms)\n")
    print("| network | FLOPs | measured (ms) | predicted (ms) | error | FLOPs-proportional (ms) | error |")
    print("|---|---|---|---|---|---|---|")
    within = baseline_within = 0
    errors = []
    for name, result, measured in rows:
        predicted = sum(profile.layer_ms(result))
        baseline = result.totals["flops"] * per_flop
        error, baseline_error = predicted / measured - 1, baseline / measured - 1
        errors.append(error)
        within += abs(error) <= 0.10
        baseline_within += abs(baseline_error) <= 0.10
        print(f"| {name} | {result.totals['flops'] / 1e6:,.0f}M | {measured:.1f} | {predicted:.1f} | "
              f"{100 * error:+.1f}% | {baseline:.1f} | {100 * baseline_error:+.1f}% |")
    total = len(rows)
    print(f"\nwithin +-10%: {within} of {total} ({100 * within / total:.0f}%), median error "
          f"{100 * statistics.median(errors):+.1f}%; FLOPs-proportional baseline (its constant fitted on these "
          f"networks): {baseline_within} of {total} ({100 * baseline_within / total:.0f}%)")
    return within >= 0.9 * total


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
