"""Target: analysis time grows linearly with the number of nodes; a generated chain of 10,000 nodes is analyzed in
at most 1 s. Each chain is analyzed once, cold (a new network: no compiled program), after a warm-up of the
interpreter on another network."""
import sys

import costmodel

from chain import chain
from common import median_seconds, verdict


def main() -> bool:
    costmodel.analyze(chain(30)).totals               # warm-up: imports, first calls
    per_node = {}
    total = {}
    for nodes in (100, 1_000, 10_000):
        networks = iter([chain(nodes) for _ in range(5)])
        seconds = median_seconds(lambda: costmodel.analyze(next(networks)).totals, repeat=5)
        per_node[nodes] = seconds / nodes
        total[nodes] = seconds
        print(f"[scaling] {nodes:>6,} nodes: {seconds * 1e3:8.1f} ms, {seconds / nodes * 1e6:.2f} us per node")
    linear = per_node[10_000] <= 2 * per_node[100]
    fast = total[10_000] <= 1.0
    print(f"[scaling] 10,000 nodes in {total[10_000]:.2f} s (target <= 1 s) {verdict(fast)}; time per node at "
          f"10,000 / at 100 = {per_node[10_000] / per_node[100]:.2f} (linear: <= 2) {verdict(linear)}")
    return fast and linear


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
