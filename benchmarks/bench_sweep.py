"""Target: `costmodel sweep MODEL --alpha 0.25:1.4:0.001 --resolution 96:320:8` (33,379 points) at least 100,000
points per second after start-up, for mobilenet_v1 and mobilenet_v2 (CSV written included)."""
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from costmodel.sweep import parse_range, sweep

from common import median_seconds, verdict

ALPHAS, RESOLUTIONS = "0.25:1.4:0.001", "96:320:8"


def main() -> bool:
    alphas = parse_range(ALPHAS, "alpha", integer=False)
    resolutions = parse_range(RESOLUTIONS, "resolution", integer=True)
    ok = True
    for model in ("mobilenet_v1", "mobilenet_v2"):
        sweep(model, alphas[:4], resolutions)        # start-up: import NumPy, compile the network's grid program
        seconds = median_seconds(lambda: sweep(model, alphas, resolutions).csv(), repeat=5)
        points = len(alphas) * len(resolutions)
        rate = points / seconds
        with tempfile.TemporaryDirectory() as directory:
            start = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "costmodel"), "sweep", model, "--alpha", ALPHAS,
                            "--resolution", RESOLUTIONS, "-o", str(Path(directory) / "grid.csv")], check=True,
                           capture_output=True)
            wall = time.perf_counter() - start
        ok &= rate >= 100_000
        print(f"[sweep] {model}: {points:,} points in {seconds * 1e3:.1f} ms after start-up = {rate:,.0f} points/s "
              f"(target >= 100,000) {verdict(rate >= 100_000)}; the whole command {wall:.2f} s wall")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
