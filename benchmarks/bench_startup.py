"""Target: cold start of `costmodel table mobilenet_v1 --alpha 0.75` at most 2x the wall time of
`python -c "import click, numpy"` on the same machine (medians of repeated runs)."""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import verdict

RUNS = 15


# An installed package has its bytecode compiled by pip; an editable checkout gets it on the first run, unless the
# environment says not to write it (PYTHONDONTWRITEBYTECODE), which would measure compiling the sources instead.
ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def wall(command: list[str]) -> float:
    subprocess.run(command, check=True, capture_output=True, env=ENVIRONMENT)  # writes the bytecode
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=ENVIRONMENT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> bool:
    baseline = wall([sys.executable, "-c", "import click, numpy"])
    table = wall([str(Path(sys.executable).parent / "costmodel"), "table", "mobilenet_v1", "--alpha", "0.75"])
    ratio = table / baseline
    ok = ratio <= 2
    print(f"[startup] costmodel table mobilenet_v1 --alpha 0.75: {table * 1e3:.0f} ms; python -c 'import click, "
          f"numpy': {baseline * 1e3:.0f} ms; ratio {ratio:.2f} (target <= 2) {verdict(ok)}")
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
