"""Dump the output of every costmodel command over the zoo, the examples and the imported seeds into a folder, so
that a restructuring can show that no number and no byte changed: run it before and after, then ``diff -r``.

    python tools/dump_outputs.py /tmp/before          # on the old tree
    python tools/dump_outputs.py /tmp/after           # on the new tree
    diff -r /tmp/before /tmp/after

Each command runs in this process through ``costmodel.cli.main``; a file per command holds its exit status, its
standard output and its standard error (or the file it wrote). Commands that need torch, fvcore or onnx are skipped,
with a note, where those are missing. About two minutes on the project's machine.
"""
from __future__ import annotations

import contextlib
import io
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(str(path) for path in (ROOT / "examples").glob("*.toml"))
PROFILES = Path(tempfile.gettempdir()) / "costmodel-dump-profiles"


def profiles() -> "dict[str, str]":
    """Two made-up calibrated profiles, one measured on each view, written to ``PROFILES``: {view: path}."""
    from costmodel.latency import KernelModel, Profile

    PROFILES.mkdir(exist_ok=True)
    paths = {}
    for view in ("unfused", "fused"):
        kinds = {"default": KernelModel(2.0, 1.5, 0.75), "depthwise": KernelModel(3.0, 4.0, 1.25),
                 "pointwise": KernelModel(1.0, 0.5, 2.0)}
        path = PROFILES / f"{view}.toml"
        path.write_text(Profile(f"made-up-{view}", "a made-up profile", view, 1, kinds).to_toml())
        paths[view] = str(path)
    return paths


def commands() -> "list[tuple[str, list[str]]]":
    """(file name, argv) of every command dumped."""
    from costmodel.sources.zoo import MODELS

    runs: list[tuple[str, list[str]]] = [("list.json", ["list", "--format", "json"]), ("list.txt", ["list"])]
    for name, entry in MODELS.items():
        runs.append((f"table/{name}.txt", ["table", name]))
        runs.append((f"table/{name}.json", ["table", name, "--format", "json"]))
        runs.append((f"table/{name}.layers.csv", ["table", name, "--per-layer", "--format", "csv"]))
        runs.append((f"table/{name}.kinds.md", ["table", name, "--by-kind", "--format", "markdown"]))
        runs.append((f"table/{name}.fused.json", ["table", name, "--fused", "--format", "json"]))
        for convention in ("papers", "fvcore", "flop_counter"):
            runs.append((f"table/{name}.{convention}.json", ["table", name, "--convention", convention,
                                                             "--format", "json"]))
        setting = []
        if entry.accepts_alpha:
            setting += ["--alpha", f"{entry.alpha_choices[0]:g}" if entry.alpha_choices else "0.75"]
        if entry.accepts_resolution:
            setting += ["--resolution", "160x192"]
        if entry.accepts_depth:
            setting += ["--depth", "1.3"]
        runs.append((f"table/{name}.setting.json", ["table", name, *setting, "--batch", "3", "--dtype", "float16",
                                                    "--format", "json"]))
        if entry.accepts_alpha and not entry.alpha_choices and entry.accepts_resolution:
            runs.append((f"sweep/{name}.csv", ["sweep", name, "--alpha", "0.5:1:0.25", "--resolution", "128:224:32"]))
    for index, path in enumerate(EXAMPLES):
        runs.append((f"spec/{index}.json", ["table", path, "--per-layer", "--format", "json"]))
        runs.append((f"spec/{index}.sweep.csv", ["sweep", path, "--alpha", "0.5:1:0.5", "--resolution", "96:128:32"]))
    runs += [
        ("sweep/depth.csv", ["sweep", "efficientnet_b0", "--depth", "1:1.4:0.2", "--alpha", "1:1.2:0.1",
                             "--resolution", "224:256:16"]),
        ("sweep/rho.csv", ["sweep", "mobilenet_v2", "--alpha", "0.35:1.4:0.35", "--rho", "0.5:1:0.25"]),
        ("fit/mobilenet_v1.json", ["fit", "mobilenet_v1", "--max-madds", "150M", "--format", "json"]),
        ("fit/mobilenet_v2.txt", ["fit", "mobilenet_v2", "--max-madds", "150M", "--max-peak-memory", "2MB",
                                  "--depth", "1"]),
        ("fit/compare.json", ["fit", "mobilenet_v1", "--max-madds", "300M", "--depth", "1", "--compare",
                              "mobilenet_v2", "--compare", "efficientnet_b0", "--format", "json"]),
        ("fit/efficientnet.csv", ["fit", "efficientnet_b0", "--max-madds", "600M", "--max-params", "8M",
                                  "--format", "csv"]),
    ]
    from costmodel.reproduce import PAPERS

    runs += [(f"reproduce/{paper}.md", ["reproduce", paper, "--no-write", "--format", "markdown"]) for paper in PAPERS]
    runs += [
        ("report/mobilenet_v2.html", ["report", "mobilenet_v2", "--no-fvcore", "-o", "{out}"]),
        ("report/mobilenet_v1.fused.html", ["report", "mobilenet_v1", "--alpha", "0.75", "--fused", "--no-fvcore",
                                            "--device", "raspberry-pi-4", "-o", "{out}"]),
        ("report/mobilevit_xs.html", ["report", "mobilevit_xs", "--no-fvcore", "-o", "{out}"]),
        ("report/spec.html", ["report", EXAMPLES[0], "--no-fvcore", "-o", "{out}"]),
        ("compare.html", ["compare", "mobilenet_v1:alpha=0.75", "mobilenet_v2", "shufflenet_v2:alpha=1.5",
                          "shufflenet_v1:alpha=2,groups=8", "-o", "{out}"]),
    ]
    priced = profiles()
    for view, path in priced.items():
        runs += [
            (f"latency/table.{view}.txt", ["table", "mobilenet_v1", "--alpha", "0.5", "--device", path]),
            (f"latency/table.{view}.fused.json", ["table", "mobilenet_v2", "--fused", "--per-layer", "--device", path,
                                                  "--format", "json"]),
            (f"latency/table.{view}.layers.md", ["table", "shufflenet_v2", "--per-layer", "--device", path,
                                                 "--format", "markdown"]),
            (f"latency/fit.{view}.json", ["fit", "mobilenet_v1", "--max-latency", "8ms", "--device", path,
                                          "--alpha", "0.25:1:0.25", "--resolution", "96:224:32", "--format", "json"]),
            (f"latency/reproduce.{view}.md", ["reproduce", "mobilenet_v2", "--table", "latency", "--device", path,
                                              "--no-write", "--format", "markdown"]),
            (f"latency/report.{view}.html", ["report", "mobilenet_v2", "--no-fvcore", "--device", path,
                                             "-o", "{out}"]),
            (f"latency/compare.{view}.html", ["compare", "mobilenet_v1", "mobilenet_v2:alpha=0.5", "--device", path,
                                              "-o", "{out}"]),
        ]
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is missing: the imported modules are skipped", file=sys.stderr)
    else:
        for module in ("bfmd.mobilenetv2:mobilenetv2", "bfmd.mobilenetv3:Mobilenet_v3_small"):
            runs.append((f"import/{module}.json", ["table", module, "--input", "3x32x32", "--per-layer",
                                                   "--format", "json"]))
        runs.append(("verify/mobilenet_v2.json", ["verify", "mobilenet_v2", "--format", "json"]))
        runs.append(("verify/resnet50.flopcounter.json", ["verify", "resnet50", "--against", "flopcounter",
                                                          "--format", "json"]))
    return runs


def run(argv: "list[str]", output: Path) -> str:
    """The exit status, standard output and standard error of one command (the file it wrote in place of
    ``{out}``), with the scratch folder's name and the checkout's path removed."""
    from costmodel.cli import main

    with tempfile.TemporaryDirectory() as scratch:
        written = Path(scratch) / output.name
        argv = [str(written) if part == "{out}" else part for part in argv]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main(argv)
                status = 0
            except SystemExit as done:
                status = done.code
        text = f"exit status {status}\n--- stdout\n{out.getvalue()}--- stderr\n{err.getvalue()}"
        if written.exists():
            text += f"--- {output.name}\n{written.read_text()}"
        return text.replace(scratch, "SCRATCH").replace(str(ROOT), "ROOT")


def main(folder: str) -> None:
    target = Path(folder)
    runs = commands()
    for number, (name, argv) in enumerate(runs, start=1):
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(run(argv, path))
        print(f"\r{number}/{len(runs)} {name:60}", end="", file=sys.stderr)
    print(f"\nwrote {len(runs)} outputs to {target}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
