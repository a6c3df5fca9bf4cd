"""Issue 25, item 1: how still each statistic holds on this shared machine. Every zoo network (lowered to torch, with
weights of a trained network's scale, one thread, one image at its base size) runs in interleaved rounds for
``--seconds`` (each round runs each network once, in turn); the run is cut into ``--windows`` windows of equal
rounds, and for each network the table gives the minimum and the median of all its runs and how far each moved
between windows (the largest window's value over the smallest, less one: ``protocol.measured``).

Run by hand (needs torch; about ``--seconds`` plus a minute to build the networks), with nothing else running:

    python benchmarks/bench_timing_stability.py [--seconds 180] [--windows 6] [--only REGEX]

Prints a Markdown table for docs/benchmarks.md and the median over the networks of each spread.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import time

import torch

from costmodel.latency.bench_worker import realistic_weights
from costmodel.latency.protocol import measured
from costmodel.lowering.to_torch import to_torch
from costmodel.sources.zoo import MODELS


def main(argv: "list[str]") -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="how long the rounds run")
    parser.add_argument("--windows", type=int, default=6, help="windows the run is cut into")
    parser.add_argument("--only", default=None, help="a regular expression the network's name must match")
    args = parser.parse_args(argv)
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
                start = clock()
                module(x)
                samples[name].append((clock() - start) * 1e3)
            rounds += 1
    print(f"{len(networks)} networks, {rounds} interleaved rounds in {args.seconds:.0f} s, {args.windows} windows, "
          f"1 thread, torch {torch.__version__}\n")
    print("| network | min (ms) | min's spread between windows | median (ms) | median's spread between windows |")
    print("|---|---|---|---|---|")
    spreads, median_spreads = [], []
    for name, taken in samples.items():
        figure = measured(taken, args.windows)
        spreads.append(figure.spread)
        median_spreads.append(figure.median_spread)
        print(f"| {name} | {figure.value:.2f} | {figure.spread:.1%} | {figure.median:.2f} | "
              f"{figure.median_spread:.1%} |")
    print(f"\nover the {len(networks)} networks: the minimum's spread median {statistics.median(spreads):.1%} "
          f"(largest {max(spreads):.1%}); the median's spread median {statistics.median(median_spreads):.1%} "
          f"(largest {max(median_spreads):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
