"""Target: in-process analysis of mobilenet_v2 at one (alpha, resolution), all passes, at least 1000x faster than
fvcore's FlopCountAnalysis(...).total() on the lowered module, measured in the same run (medians after warm-up)."""
import sys

import costmodel
from costmodel.lowering.to_torch import to_torch
from costmodel.lowering.verify import quiet_reference_tools

from common import median_seconds, verdict


def main() -> bool:
    with quiet_reference_tools():
        from fvcore.nn import FlopCountAnalysis
        module = to_torch("mobilenet_v2")
        x = module.example_input()

        def fvcore_total():
            (FlopCountAnalysis(module, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
             .tracer_warnings("none").total())

        for _ in range(2):
            fvcore_total()
        fvcore = median_seconds(fvcore_total, repeat=7)

    def analysis():
        costmodel.analyze("mobilenet_v2", alpha=1.0, resolution=224).totals

    for _ in range(5):
        analysis()                                   # warm-up: the third analysis compiles the network
    ours = median_seconds(analysis, repeat=9, number=200)
    with_rows = median_seconds(lambda: costmodel.analyze("mobilenet_v2", resolution=224).layers, repeat=5,
                               number=50)
    ratio = fvcore / ours
    ok = ratio >= 1000
    print(f"[analysis] mobilenet_v2 1.0 @224: costmodel {ours * 1e6:.1f} us (all passes; {with_rows * 1e6:.0f} us "
          f"with the per-layer rows built), fvcore FlopCountAnalysis.total() {fvcore * 1e3:.1f} ms: "
          f"{ratio:,.0f}x faster (target >= 1000x) {verdict(ok)}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
