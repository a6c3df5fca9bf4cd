"""Issue 28: how far the usual estimates of training cost are from the exact figures, on zoo networks at batch 32.

- memory: torchinfo's "Forward/backward pass size" (every leaf module's output bytes, doubled "for the gradients")
  against the activations autograd really saves (``costmodel table --training``: equal to what
  ``saved_tensors_hooks`` records, checked on every zoo network by ``tests/verify/test_training_zoo.py``);
- compute: DeepSpeed's profiler's rule, 3 x the forward, against the exact forward + backward (costmodel's
  convention), and FlopCounterMode's own backward (which counts a grouped convolution's weight gradient g times).

Needs torch and torchinfo (``pip install torchinfo``); prints a Markdown table. Run by hand:
``python benchmarks/training_estimates.py``."""
import sys
import warnings

import costmodel

NETWORKS = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "shufflenet_v2", "efficientnet_b0",
            "resnet50", "mobilevit_s", "vit_tiny")
BATCH = 32


def torchinfo_bytes(name: str, batch: int) -> int:
    """torchinfo 1.8's "Forward/backward pass size" in bytes: twice the output bytes of every leaf module."""
    import torchinfo

    from costmodel.lowering.to_torch import to_torch

    module = to_torch(name, batch=batch)
    result = costmodel.analyze(name, batch=batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = torchinfo.summary(module, input_size=tuple(result.input_shape.dims), verbose=0, device="cpu")
    return int(summary.total_output_bytes)


def main() -> None:
    rows = ["| network | saved activations (exact) | torchinfo's estimate | ratio | step FLOPs (exact) | "
            "3 x forward | ratio | FlopCounterMode's backward / exact |",
            "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name in NETWORKS:
        step = costmodel.analyze(name, batch=BATCH, training=True).totals
        counter = costmodel.analyze(name, batch=BATCH, convention="flop_counter", training=True).totals
        exact_backward = costmodel.analyze(name, batch=BATCH, convention="flop_counter", training=True)
        true_backward = 2 * (exact_backward.totals["input_madds"] + exact_backward.totals["weight_madds"])
        estimate = torchinfo_bytes(name, BATCH)
        three = 3 * step["forward_flops"]
        rows.append(f"| {name} | {step['saved_bytes'] / 1e6:,.1f} MB | {estimate / 1e6:,.1f} MB | "
                    f"{estimate / step['saved_bytes']:.2f} | {step['step_flops'] / 1e9:,.1f} G | {three / 1e9:,.1f} G | "
                    f"{three / step['step_flops']:.2f} | {counter['backward_flops'] / true_backward:.2f} |")
        print(rows[-1], file=sys.stderr)
    print("\n".join(rows))


if __name__ == "__main__":
    main()
