"""Run every benchmark and print its figures against the targets (README, "Speed").

    python benchmarks/run_all.py      # needs the test extras (torch, fvcore) for the fvcore comparison
"""
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(__file__))

import bench_analysis  # noqa: E402
import bench_import  # noqa: E402
import bench_import_growth  # noqa: E402
import bench_scaling  # noqa: E402
import bench_startup  # noqa: E402
import bench_sweep  # noqa: E402

if __name__ == "__main__":
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    results = [bench_analysis.main(), bench_sweep.main(), bench_startup.main(), bench_scaling.main(),
               bench_import.main(), bench_import_growth.main()]
    print("all targets met" if all(results) else "some targets missed")
    sys.exit(0 if all(results) else 1)
