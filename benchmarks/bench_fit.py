"""Issue 16: ``fit`` searches a 100,000-point grid in well under a second (the sweep engine counts the grid at
once; the front is three suffix ORs). Run by hand: prints the seconds per model for about 100,000 points."""
import sys
import time

from costmodel.design.fit import search
from costmodel.design.sweep import parse_range

GRIDS = {"mobilenet_v1": ("0.25:1.5:0.005", "96:496:1"), "mobilenet_v2": ("0.25:1.5:0.005", "96:496:1"),
         "efficientnet_b0": ("0.5:1.5:0.01", "96:496:1")}


def main() -> None:
    for model, (alphas, resolutions) in GRIDS.items():
        a, r = parse_range(alphas, "alpha", False), parse_range(resolutions, "resolution", True)
        search(model, {"madds": 300_000_000}, a[:2], r[:2], [1.0])  # warm
        start = time.perf_counter()
        front = search(model, {"madds": 300_000_000, "peak_activation_bytes": 4_000_000}, a, r,
                       [1.0])
        seconds = time.perf_counter() - start
        print(f"| {model} | {front.points:,} | {front.feasible:,} | {len(front.rows)} | {seconds:.2f} s |")


if __name__ == "__main__":
    print("| model | grid points | meet the limits | on the front | seconds |\n|---|---|---|---|---|")
    main()
    sys.exit(0)
