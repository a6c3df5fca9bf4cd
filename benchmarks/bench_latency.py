"""Goal (issue 15): a calibrated device profile predicts the measured latency of 90% of networks within +-10%.

Run by hand (a few minutes): calibrates this CPU (1 thread), then for every zoo network at its base size and for
bfmd's MobileNetV2 and EfficientNet-B0 (imported, 224x224) measures the whole network's median latency and sets the
prediction beside it, with a FLOPs-proportional baseline (one constant, FLOPs x seconds per FLOP of the calibration
kernels) for comparison. Prints a Markdown table for the README."""
import sys

import costmodel
from costmodel.bench import bench, calibrate
from costmodel.zoo import MODELS

IMPORTED = {"bfmd.mobilenetv2:mobilenetv2": {"input": "3x224x224"},
            "bfmd.efficientnet_pytorch:EfficientNet.from_name:model_name='efficientnet-b0'": {"input": "3x224x224"}}


def main() -> bool:
    profile = calibrate("this-cpu", per_kind=24, repeats=15, progress=True)
    print(profile.to_toml(), file=sys.stderr)
    models = [(name, {}) for name in sorted(MODELS)] + list(IMPORTED.items())
    rows, within, baseline_within, baseline_rows = [], 0, 0, []
    for name, options in models:
        result = costmodel.analyze(name, options=options)
        predicted = sum(profile.layer_ms(result))
        measured = bench(name, options=options, warmup=2, repeats=7, per_layer=False, timeout=900).median_ms
        rows.append((name, result.totals["flops"], measured, predicted))
    per_flop = sum(m for _, _, m, _ in rows) / sum(f for _, f, _, _ in rows)   # fitted on the networks themselves
    print("| network | FLOPs | measured (ms) | predicted (ms) | error | FLOPs-proportional (ms) | error |")
    print("|---|---|---|---|---|---|---|")
    for name, flops, measured, predicted in rows:
        error = predicted / measured - 1
        baseline = flops * per_flop
        baseline_error = baseline / measured - 1
        within += abs(error) <= 0.10
        baseline_within += abs(baseline_error) <= 0.10
        print(f"| {name.split(':')[0]} | {flops / 1e6:,.0f}M | {measured:.1f} | {predicted:.1f} | "
              f"{100 * error:+.1f}% | {baseline:.1f} | {100 * baseline_error:+.1f}% |")
    share, baseline_share = within / len(rows), baseline_within / len(rows)
    print(f"\nwithin +-10%: {within} of {len(rows)} ({100 * share:.0f}%); FLOPs-proportional baseline "
          f"(its constant fitted on these networks): {baseline_within} of {len(rows)} ({100 * baseline_share:.0f}%)")
    return share >= 0.9


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
