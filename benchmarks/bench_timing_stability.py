"""Issue 25, item 1: how still each statistic holds on this shared machine. Every zoo network (lowered to torch, with
weights of a trained network's scale, one thread, one image at its base size) runs in interleaved rounds for
``--seconds`` (each round runs each network ``--per-round`` times in a row, in turn); the run is cut into
``--windows`` windows of equal rounds, and for each network the table gives the minimum and the median of all its
runs and how far each moved between windows (the largest window's value over the smallest, less one:
``protocol.measured``).

Run by hand (needs torch; about ``--seconds`` plus a minute to build the networks), with nothing else running:

    python benchmarks/bench_timing_stability.py [--seconds 180] [--windows 6] [--per-round 1] [--only REGEX]
        [--heap steady|system] [--samples FILE.json]
    python benchmarks/bench_timing_stability.py --from-samples FILE.json [--windows 6]

Prints a Markdown table for docs/benchmarks.md and the median over the networks of each spread.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time

from costmodel.latency.protocol import measured
from costmodel.sources.zoo import MODELS


def main(argv: "list[str]") -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long the rounds run")
    parser.add_argument("--windows", type=int, default=6, help="windows the run is cut into")
    parser.add_argument("--per-round", type=int, default=1, help="runs of a network in a row in each round")
    parser.add_argument("--samples", default=None, help="also write every run's time (ms), in order, as JSON")
    parser.add_argument("--from-samples", default=None, metavar="FILE",
                        help="print the tables of a --samples file instead of running (no torch needed)")
    parser.add_argument("--heap", choices=("steady", "system"), default="steady",
                        help="steady: glibc's mmap threshold fixed, as bench does (bench_worker.steady_heap)")
    parser.add_argument("--only", default=None, help="a regular expression the network's name must match")
    args = parser.parse_args(argv)
    if args.from_samples:
        with open(args.from_samples) as saved:
            document = json.load(saved)
        print(f"{len(document['samples_ms'])} networks, {document.get('rounds', '?')} interleaved rounds of "
              f"{document['per_round']} run(s) each, {args.windows} windows (from {args.from_samples})\n")
        report(document["samples_ms"], args.windows)
        return 0
    from costmodel.latency.bench_worker import realistic_weights, steady_heap

    heap = steady_heap() if args.heap == "steady" else "system"
    import torch

    from costmodel.lowering.to_torch import to_torch
    torch.set_num_threads(1)
    names = [name for name in MODELS if args.only is None or re.search(args.only, name)]
    networks = {}
    with torch.inference_mode():
        for name in names:
            module = to_torch(name)
            realistic_weights(module, torch.Generator().manual_seed(0))
            x = torch.randn(module.example_input().shape, generator=torch.Generator().manual_seed(1))
            for _ in range(3):                              # warm-up
                module(x)
            networks[name] = (module, x)
        samples: dict[str, list[float]] = {name: [] for name in networks}
        clock, rounds = time.perf_counter, 0
        deadline = clock() + args.seconds
        while clock() < deadline or rounds < args.windows:
            for name, (module, x) in networks.items():
                for _ in range(args.per_round):
                    start = clock()
                    module(x)
                    samples[name].append((clock() - start) * 1e3)
            rounds += 1
    if args.samples:
        with open(args.samples, "w") as out:
            json.dump({"per_round": args.per_round, "windows": args.windows, "seconds": args.seconds, "heap": heap,
                       "rounds": rounds, "torch": torch.__version__, "samples_ms": samples}, out)
    print(f"{len(networks)} networks, {rounds} interleaved rounds of {args.per_round} run(s) each in "
          f"{args.seconds:.0f} s, {args.windows} windows, 1 thread, torch {torch.__version__}, {heap} heap\n")
    report(samples, args.windows)
    return 0


def report(samples: "dict[str, list[float]]", windows: int) -> None:
    """The Markdown table of each network's minimum and median with their spreads between windows, the median
    over the networks of each spread, and how much of the minimum's spread is the machine's speed as a whole: each
    window's machine factor is the median over the networks of that window's minimum over the run's, and the
    spread left once each window's minima are divided by it is what no statistic of one network's runs removes."""
    print("| network | min (ms) | min's spread between windows | median (ms) | median's spread between windows |")
    print("|---|---|---|---|---|")
    figures = {name: measured(taken, windows) for name, taken in samples.items()}
    for name, figure in figures.items():
        print(f"| {name} | {figure.value:.2f} | {figure.spread:.1%} | {figure.median:.2f} | "
              f"{figure.median_spread:.1%} |")
    spreads = [figure.spread for figure in figures.values()]
    median_spreads = [figure.median_spread for figure in figures.values()]
    print(f"\nover the {len(figures)} networks: the minimum's spread median {statistics.median(spreads):.1%} "
          f"(largest {max(spreads):.1%}); the median's spread median {statistics.median(median_spreads):.1%} "
          f"(largest {max(median_spreads):.1%})")
    count = min(len(figure.windows) for figure in figures.values())
    machine = [statistics.median(figure.windows[w] / figure.value for figure in figures.values())
               for w in range(count)]
    left = [max(figure.windows[w] / machine[w] for w in range(count)) /
            min(figure.windows[w] / machine[w] for w in range(count)) - 1 for figure in figures.values()]
    print(f"the machine's speed per window (the median over the networks of the window's minimum over the run's): "
          f"{', '.join(f'{factor:.3f}' for factor in machine)}; with it divided out, the minimum's spread median "
          f"{statistics.median(left):.1%} (largest {max(left):.1%})")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
