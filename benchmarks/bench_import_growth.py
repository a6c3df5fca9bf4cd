"""Targets (issue 22, item 4): importing is linear in the graph's size. An ONNX chain of unnamed Relu nodes (the
file read, checked and mapped at its own size) and a torch module of as many calls (a forward applying torch.relu
n times, and an nn.Sequential of n ReLUs: the fx trace, then the mapping) are imported at 1,000, 10,000 and 100,000
nodes; the time per node at 100,000 is at most twice that at 10,000 for each (a quadratic step would make it 10x).
Before issue 22 the ONNX chain took 5.8 s at 5,000 nodes, 55 s at 20,000, and did not finish 100,000 in 300 s; a
torch forward of 20,000 calls took 31 s. The minimum of a few runs; the ONNX files are written before timing.

    python benchmarks/bench_import_growth.py      # needs onnx, and torch for the torch forwards
"""
import sys
import tempfile
import time
from pathlib import Path

from common import verdict

SIZES = (1_000, 10_000, 100_000)


def min_seconds(function, repeat: int) -> float:
    """The fastest of ``repeat`` calls of ``function``."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def relu_chain(nodes: int, path: Path) -> None:
    """An ONNX file of ``nodes`` unnamed Relu nodes, one after the other, on a 1 x 3 x 8 x 8 input."""
    import onnx
    from onnx import TensorProto, helper

    chain = [helper.make_node("Relu", [f"v{i - 1}" if i else "x"], [f"v{i}"]) for i in range(nodes)]
    graph = helper.make_graph(chain, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info(f"v{nodes - 1}", TensorProto.FLOAT, [1, 3, 8, 8])])
    onnx.save(helper.make_model(graph), str(path))


def _report(label: str, seconds: "dict[int, float]") -> bool:
    for nodes, took in seconds.items():
        print(f"[import growth] {label}, {nodes:>7,} nodes: {took:7.2f} s, {took / nodes * 1e6:6.1f} us per node")
    growth = (seconds[SIZES[-1]] / SIZES[-1]) / (seconds[SIZES[-2]] / SIZES[-2])
    ok = growth <= 2
    print(f"[import growth] {label}: time per node at {SIZES[-1]:,} / at {SIZES[-2]:,} = {growth:.2f} "
          f"(linear: <= 2) {verdict(ok)}")
    return ok


def onnx_chains() -> bool:
    from costmodel.sources.importer.onnx_graph import OnnxModel

    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for nodes in SIZES:
            path = Path(folder) / f"chain{nodes}.onnx"
            relu_chain(nodes, path)
            seconds[nodes] = min_seconds(lambda: OnnxModel(str(path)).network(), 3 if nodes < 100_000 else 2)
    return _report("ONNX chain of unnamed Relu nodes", seconds)


def torch_forwards() -> bool:
    import torch
    from torch import nn

    from costmodel.sources.importer.torch_graph import TorchModel

    class Relus(nn.Module):
        """A forward that applies torch.relu ``calls`` times."""

        def __init__(self, calls: int):
            super().__init__()
            self.calls = calls

        def forward(self, x):
            for _ in range(self.calls):
                x = torch.relu(x)
            return x

    ok = True
    for label, make in (("torch forward of torch.relu calls", Relus),
                        ("torch nn.Sequential of ReLUs", lambda n: nn.Sequential(*[nn.ReLU() for _ in range(n)]))):
        seconds, traced = {}, {}
        for nodes in SIZES:
            module = make(nodes)
            runs = []
            for _ in range(2 if nodes < 100_000 else 1):
                start = time.perf_counter()
                model = TorchModel(module, (3, 8, 8))
                middle = time.perf_counter()
                model.network()
                runs.append((time.perf_counter() - start, middle - start))
            seconds[nodes], traced[nodes] = min(runs)
        ok &= _report(label, seconds)
        print(f"[import growth] {label}: of which torch.fx's trace at {SIZES[-1]:,} nodes "
              f"{traced[SIZES[-1]]:.2f} s, the mapping {seconds[SIZES[-1]] - traced[SIZES[-1]]:.2f} s")
    return ok


def main() -> bool:
    ok = onnx_chains()
    try:
        import torch  # noqa: F401
    except ImportError:
        print("[import growth] torch is not installed: the torch forwards are skipped")
        return ok
    return torch_forwards() and ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
