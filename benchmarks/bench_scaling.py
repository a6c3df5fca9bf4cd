"""Targets: analysis time grows linearly with the number of nodes (a generated chain of 10,000 nodes in at most
1 s, time per node at 10,000 at most twice that at 100), and a spec file of 20,000 single-op layers is read and
analyzed in at most 15x the time of one of 2,000 (spec parsing, network checks, buffer plan and counts included)."""
import sys
import tempfile
import time
from pathlib import Path

import costmodel

from chain import chain
from common import median_seconds, verdict


def chain_spec(layers: int, path: Path) -> None:
    """A spec of ``layers`` single-op layers: conv 3x3 to 8 channels, BatchNorm, ReLU, repeated."""
    lines = ['name = "chain"', "resolution = 16"]
    for index in range(layers):
        lines.append("[[layer]]")
        lines += (['op = "conv2d"', "out = 8"], ['op = "batchnorm"'], ['op = "activation"', 'function = "relu"'])[
            index % 3]
    path.write_text("\n".join(lines) + "\n")


def main() -> bool:
    costmodel.analyze(chain(30)).totals               # warm-up: imports, first calls
    per_node, total = {}, {}
    for nodes in (100, 1_000, 10_000):
        networks = iter([chain(nodes) for _ in range(5)])
        seconds = median_seconds(lambda: costmodel.analyze(next(networks)).totals, repeat=5)
        per_node[nodes] = seconds / nodes
        total[nodes] = seconds
        print(f"[scaling] chain of {nodes:>6,} nodes: {seconds * 1e3:8.1f} ms, {seconds / nodes * 1e6:.2f} us per node")
    linear = per_node[10_000] <= 2 * per_node[100]
    fast = total[10_000] <= 1.0
    print(f"[scaling] 10,000 nodes in {total[10_000]:.2f} s (target <= 1 s) {verdict(fast)}; time per node at "
          f"10,000 / at 100 = {per_node[10_000] / per_node[100]:.2f} (linear: <= 2) {verdict(linear)}")
    spec_seconds = {}
    with tempfile.TemporaryDirectory() as directory:
        for layers in (2_000, 20_000):
            path = Path(directory) / f"chain{layers}.toml"
            chain_spec(layers, path)
            costmodel.analyze(str(path)).totals                         # warm-up
            start = time.perf_counter()
            costmodel.analyze(str(path)).totals
            spec_seconds[layers] = time.perf_counter() - start
    ratio = spec_seconds[20_000] / spec_seconds[2_000]
    spec_ok = ratio <= 15
    print(f"[scaling] spec files: 2,000 layers {spec_seconds[2_000]:.3f} s, 20,000 layers {spec_seconds[20_000]:.3f} s: "
          f"{ratio:.1f}x (target <= 15x) {verdict(spec_ok)}")
    return fast and linear and spec_ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
