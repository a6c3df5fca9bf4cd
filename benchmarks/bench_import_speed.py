"""Issue 24's speed targets: import plus analysis (``TorchModel(...).network()`` then ``costmodel.analyze``) at most
0.2x of one fvcore analysis (``FlopCountAnalysis(...).total()``) of the same module at the median, at most 1x for the
slowest model, on a sample of ``import_coverage``'s models. Run by hand in a virtualenv with timm and torchvision, on
a quiet machine (never with tests or other benchmarks running), never in CI:

    /work/zoo-venv/bin/python benchmarks/bench_import_speed.py [--every 6] [--include REGEX] [--rounds 5]

Each model runs in a child process of its own: built once, each tool called once to warm up (lazy imports, fvcore's
first trace), then ``--rounds`` interleaved rounds (fvcore, costmodel, then torch.fx's own ``Tracer().trace`` where
it traces the module: what any fx capture costs before it maps or counts anything); a figure is the minimum over the
rounds (this machine's noise only adds time), printed with the spread of costmodel's rounds (max / min). A model whose
fvcore analysis takes more than 20 s is timed in one round. The sample: every ``--every``-th model of the coverage
sample (every source and family, in its order) and every model matching ``--include``.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import import_coverage  # noqa: E402


def one(source: str, name: str, rounds: int) -> dict:
    """The timings of one model (the child's work)."""
    import warnings

    import torch

    import costmodel
    from costmodel.lowering.verify import quiet_reference_tools
    from costmodel.sources.importer.torch_graph import TorchModel, _defaults
    from fvcore.nn import FlopCountAnalysis

    torch.manual_seed(0)
    model, size = import_coverage._build(source, name)
    part = "backbone" if source == "detection" else None
    counted = model.get_submodule(part) if part else model
    x = torch.zeros(1, *size)

    def fvcore() -> None:
        with torch.enable_grad():
            (FlopCountAnalysis(counted, x).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
             .tracer_warnings("none").total())

    def stock_fx() -> None:           # torch.fx's own trace, with no mapping or counting: what an fx capture costs
        torch.fx.Tracer().trace(counted, concrete_args=_defaults(counted) or None)

    def ours() -> str:
        imported = TorchModel(model, size, submodule=part)
        costmodel.analyze(imported.network()).totals
        return imported.capture

    times: dict[str, list[float]] = {"fvcore": [], "costmodel": [], "fx": []}
    try:
        stock_fx()
    except Exception:                   # noqa: BLE001 - a module fx cannot trace (costmodel traces it at one size)
        del times["fx"]
    with torch.no_grad(), quiet_reference_tools(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        fvcore()
        if time.perf_counter() - start > 20:
            rounds = 1
        try:
            capture = ours()
        except costmodel.CostModelError as error:
            return {"source": source, "model": name, "refused": str(error)[:200]}
        for _ in range(rounds):
            for label, call in (("fvcore", fvcore), ("costmodel", ours), ("fx", stock_fx)):
                if label not in times:
                    continue
                start = time.perf_counter()
                call()
                times[label].append(time.perf_counter() - start)
    return {"source": source, "model": name, "capture": capture.split(" (")[0].split(",")[0],
            "fvcore_s": min(times["fvcore"]), "costmodel_s": min(times["costmodel"]),
            "spread": max(times["costmodel"]) / min(times["costmodel"]), "rounds": rounds,
            "fx_s": min(times["fx"]) if "fx" in times else None}


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(argv[1], argv[2], int(argv[3]))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=int, default=6)
    parser.add_argument("--include", default=None, help="a regular expression of source/model always timed")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("-o", "--output", default=None, help="a JSON lines file of the rows")
    args = parser.parse_args(argv)
    everything = import_coverage.sample()
    models = [model for index, model in enumerate(everything) if index % args.every == 0 or
              (args.include and re.search(args.include, f"{model[0]}/{model[1]}"))]
    rows = []
    for index, (source, name) in enumerate(models, 1):
        done = subprocess.run([sys.executable, __file__, "--one", source, name, str(args.rounds)],
                              capture_output=True, text=True, timeout=1800)
        try:
            row = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"[{index}/{len(models)}] {source}/{name}: not timed ({(done.stderr or '').strip()[-200:]})")
            continue
        if "refused" in row:
            print(f"[{index}/{len(models)}] {source}/{name}: refused, not timed ({row['refused']})")
            continue
        row["ratio"] = row["costmodel_s"] / row["fvcore_s"]
        row["fx_ratio"] = row["fx_s"] / row["fvcore_s"] if row.get("fx_s") else None
        stock = f", torch.fx's own trace {row['fx_ratio']:.2f}x" if row["fx_ratio"] else ""
        rows.append(row)
        print(f"[{index}/{len(models)}] {source}/{name}: costmodel {row['costmodel_s'] * 1e3:.0f} ms "
              f"(spread {row['spread']:.2f}), fvcore {row['fvcore_s'] * 1e3:.0f} ms: {row['ratio']:.2f}x"
              f"{stock} [{row['capture']}]", flush=True)
        if args.output:
            with open(args.output, "a") as handle:
                handle.write(json.dumps(row) + "\n")
    if not rows:
        return 1
    ratios = [row["ratio"] for row in rows]
    slowest = max(rows, key=lambda row: row["ratio"])
    median = statistics.median(ratios)
    print(f"\n{len(rows)} models: median {median:.2f}x of fvcore (target <= 0.2x), slowest {slowest['ratio']:.2f}x "
          f"({slowest['source']}/{slowest['model']}, {slowest['capture']}; target <= 1x), "
          f"{sum(ratio > 1 for ratio in ratios)} slower than fvcore")
    traced = [row for row in rows if row["fx_ratio"]]
    if traced:
        print(f"  torch.fx's own trace alone (no mapping, no counting) of the {len(traced)} models it traces: median "
              f"{statistics.median(row['fx_ratio'] for row in traced):.2f}x of fvcore; costmodel's whole import of "
              f"the same models: median {statistics.median(row['ratio'] for row in traced):.2f}x")
    for capture in sorted({row["capture"] for row in rows}):
        group = [row["ratio"] for row in rows if row["capture"] == capture]
        print(f"  {capture}: {len(group)} models, median {statistics.median(group):.2f}x, worst {max(group):.2f}x")
    return 0 if median <= 0.2 and slowest["ratio"] <= 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
