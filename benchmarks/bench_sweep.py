"""Targets, on the README's grid (alpha 0.25:1.4:0.001 x resolution 96:320:8, 33,379 points), for mobilenet_v1 and
mobilenet_v2:

- ``costmodel.design.sweep.sweep(model, alphas, resolutions)`` in process: at least 10,000,000 points/s (the grid program
  built, as after a first sweep of the model);
- the whole ``costmodel sweep`` command, CSV written to a file, after start-up (run in process after a first,
  small command has imported everything): at least 1,000,000 points/s. The whole command's wall time in a new
  process, start-up included, is printed beside it."""
import contextlib
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from costmodel.cli import main as cli
from costmodel.design.sweep import parse_range, sweep

from common import median_seconds, verdict

ALPHAS, RESOLUTIONS = "0.25:1.4:0.001", "96:320:8"


def _command(arguments: list[str]) -> None:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            cli(arguments)
        except SystemExit as done:
            assert done.code == 0, done.code


def main() -> bool:
    alphas = parse_range(ALPHAS, "alpha", integer=False)
    resolutions = parse_range(RESOLUTIONS, "resolution", integer=True)
    points = len(alphas) * len(resolutions)
    ok = True
    with tempfile.TemporaryDirectory() as directory:
        target = str(Path(directory) / "grid.csv")
        for model in ("mobilenet_v1", "mobilenet_v2"):
            sweep(model, alphas[:4], resolutions)          # builds the model's grid program
            seconds = median_seconds(lambda: sweep(model, alphas, resolutions), repeat=31)
            rate = points / seconds
            _command(["sweep", model, "--alpha", "0.25", "--resolution", RESOLUTIONS, "-o", target])   # start-up
            command = median_seconds(lambda: _command(["sweep", model, "--alpha", ALPHAS, "--resolution",
                                                       RESOLUTIONS, "-o", target]), repeat=11)
            command_rate = points / command
            start = time.perf_counter()
            subprocess.run([str(Path(sys.executable).parent / "costmodel"), "sweep", model, "--alpha", ALPHAS,
                            "--resolution", RESOLUTIONS, "-o", target], check=True, capture_output=True)
            wall = time.perf_counter() - start
            ok &= rate >= 10_000_000 and command_rate >= 1_000_000
            print(f"[sweep] {model}: {points:,} points, sweep() {seconds * 1e3:.2f} ms = {rate:,.0f} points/s "
                  f"(target >= 10,000,000) {verdict(rate >= 10_000_000)}; the command with its CSV "
                  f"{command * 1e3:.1f} ms after start-up = {command_rate:,.0f} points/s (target >= 1,000,000) "
                  f"{verdict(command_rate >= 1_000_000)}; {wall:.2f} s wall in a new process")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
