"""Issue 24: the importer on the models people use (timm's and torchvision's classification zoos, torchvision's
detection, segmentation and video models), each counted exactly or refused in one line.

Run by hand in a virtualenv that has timm, torchvision, fvcore and costmodel (never in CI):

    python -m venv /work/zoo-venv
    /work/zoo-venv/bin/pip install torch==2.14.1 torchvision==0.29.1 timm==1.0.31 fvcore onnx
    /work/zoo-venv/bin/pip install -e .
    /work/zoo-venv/bin/python benchmarks/import_coverage.py -o coverage.csv [--only REGEX] [--timeout 300]
    /work/zoo-venv/bin/python benchmarks/import_coverage.py --markdown coverage.csv     # the docs' tables

Each model runs in a child process of its own (this script with ``--one SOURCE NAME``) under a time limit, in eval
mode, on one image of the model's default input size. The child builds the model with random weights, counts its
parameters (``sum(p.numel())`` over ``module.parameters()``, which counts a shared tensor once), runs fvcore's
``FlopCountAnalysis`` as its documentation does, with autograd on (under ``torch.no_grad`` torch's
``nn.MultiheadAttention`` takes a fused fast path that fvcore counts as 0 whole: torchvision's ViTs), and torch's
``FlopCounterMode`` under ``torch.no_grad`` (inference; with grad on where it fails so), imports it with
``costmodel.from_torch`` and analyzes the network under the ``fvcore`` and ``flop_counter`` conventions. A model is
**exact** when costmodel's parameters, fvcore-convention FLOPs and flop_counter-convention FLOPs equal the three
references. Otherwise the row says why: ``refused`` (a ``CostModelError``: its one line), ``traceback`` (any other
exception: its type, message and where it was raised), ``uncounted`` (imported, with calls costmodel has no
formula for), ``inexact`` (imported, with a count that differs), ``timeout`` or ``crash`` (the child died), or
``reference`` (fvcore or FlopCounterMode could not count the model; costmodel's own result is still recorded).

The CSV has one row per model; the summary printed at the end counts the statuses per source and lists every model
that is not exact with its reason. The timings in the CSV are one run each, for orientation: the speed targets are
measured by ``benchmarks/bench_import.py``'s protocol (interleaved rounds, a low order statistic).
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

SOURCES = ("torchvision", "timm", "detection", "segmentation", "video")
FIELDS = ("source", "model", "input", "status", "reason", "params", "costmodel_params", "fvcore",
          "costmodel_fvcore", "flop_counter", "costmodel_flop_counter", "uncounted", "note", "capture", "nodes",
          "build_s", "import_s", "analyze_s", "fvcore_s", "child_s")
# timm: per model module (a family), up to three models, smallest first by name; a family whose every model is large
# keeps its first
PER_TIMM_MODULE = 3
SMALL = ("atto", "femto", "pico", "nano", "tiny", "xxs", "mini", "xs", "small", "b0", "s0", "m0", "050", "075",
         "100", "_s", "18", "26", "34", "lite")
TOO_LARGE = re.compile(r"giant|gigantic|huge|large|xxl|_xl|_e\b|_g\b|_h\b|_l\d?\b|269|154|\d{3}m\b|so400m|"
                       r"_3[0-9]{2}\b|_4[0-9]{2}\b|_5[0-9]{2}\b|_6[0-9]{2}\b|_1024|clip|siglip")
# and the models people use most, whatever the rule above picks
POPULAR = ("resnet50", "resnext50_32x4d", "seresnet50", "ecaresnet50d", "efficientnet_b0", "efficientnet_lite0",
           "mobilenetv2_100", "mobilenetv3_large_100", "mobilenetv4_conv_small", "mobilenetv4_hybrid_medium",
           "mnasnet_100", "fbnetc_100", "ghostnet_100", "regnety_016", "convnext_tiny", "convnextv2_atto",
           "vit_small_patch16_224", "vit_base_patch16_224", "deit_small_patch16_224", "swin_tiny_patch4_window7_224",
           "mobilevit_s", "efficientvit_b0", "levit_128", "mixer_b16_224", "poolformer_s12", "maxvit_tiny_tf_224",
           "coatnet_0_rw_224", "pit_ti_224", "eca_nfnet_l0", "repvgg_a0", "dm_nfnet_f0")
DETECTION = ("ssdlite320_mobilenet_v3_large", "retinanet_resnet50_fpn", "fcos_resnet50_fpn", "ssd300_vgg16",
             "fasterrcnn_mobilenet_v3_large_320_fpn")
SEGMENTATION = ("deeplabv3_mobilenet_v3_large", "lraspp_mobilenet_v3_large", "fcn_resnet50", "deeplabv3_resnet50")
VIDEO = ("r3d_18",)


# --- the sample ------------------------------------------------------------------------------------------------

def _timm_sample() -> list[str]:
    import timm

    def smallness(name: str) -> tuple[int, str]:
        ranks = [rank for rank, token in enumerate(SMALL) if token in name]
        return (min(ranks) if ranks else len(SMALL), name)

    chosen = []
    for module in sorted(timm.list_modules()):
        names = timm.list_models(module=module)
        kept = [name for name in names if not TOO_LARGE.search(name)] or names[:1]
        chosen += sorted(kept, key=smallness)[:PER_TIMM_MODULE]
    known = set(timm.list_models())
    return chosen + [name for name in POPULAR if name in known and name not in chosen]


def sample() -> list[tuple[str, str]]:
    """(source, model name) for every model of the benchmark, in a fixed order."""
    import torchvision

    models = [("torchvision", name) for name in sorted(torchvision.models.list_models(module=torchvision.models))]
    models += [("timm", name) for name in _timm_sample()]
    models += [("detection", name) for name in DETECTION]
    models += [("segmentation", name) for name in SEGMENTATION]
    models += [("video", name) for name in VIDEO]
    return models


# --- one model, in the child ---------------------------------------------------------------------------------------

def _build(source: str, name: str):
    """The model in eval mode and its input size (C, H, W; C, T, H, W for video)."""
    if source == "timm":
        import timm

        model = timm.create_model(name, pretrained=False)
        size = tuple(model.pretrained_cfg.get("input_size", (3, 224, 224)))
    else:
        import torchvision

        model = torchvision.models.get_model(name, weights=None, weights_backbone=None) \
            if source in ("detection", "segmentation") else torchvision.models.get_model(name, weights=None)
        size = {"inception_v3": (3, 299, 299), "ssdlite320_mobilenet_v3_large": (3, 320, 320),
                "ssd300_vgg16": (3, 300, 300), "r3d_18": (3, 16, 112, 112)}.get(name, (3, 224, 224))
    return model.eval(), size


def _where(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    return f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def _first_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]


def _flop_counter(model, x) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        model(x)
    return int(counter.get_total_flops())


def one(source: str, name: str) -> dict:
    """Every figure of one model (the child's work)."""
    import warnings

    import torch

    import costmodel
    from costmodel.core.errors import CostModelError
    from costmodel.lowering.verify import quiet_reference_tools

    torch.manual_seed(0)
    row: dict = {"source": source, "model": name}
    start = time.perf_counter()
    model, size = _build(source, name)
    row["build_s"] = round(time.perf_counter() - start, 3)
    row["input"] = "x".join(map(str, size))
    # a detection model's post-processing depends on the data: its backbone (with the FPN) is what is counted
    part = "backbone" if source == "detection" else None
    whole, model = model, (model.get_submodule(part) if part else model)
    if part:
        row["note"] = f"counted: its sub-module {part}"
    row["params"] = sum(p.numel() for p in model.parameters())
    x = torch.zeros(1, *size)
    references = []
    with torch.no_grad(), quiet_reference_tools(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from fvcore.nn import FlopCountAnalysis

            start = time.perf_counter()
            with torch.enable_grad():           # fvcore as documented: under no_grad nn.MultiheadAttention's fast
                row["fvcore"] = int(FlopCountAnalysis(model, x).unsupported_ops_warnings(False)    # path counts 0
                                    .uncalled_modules_warnings(False).tracer_warnings("none").total())
            row["fvcore_s"] = round(time.perf_counter() - start, 3)
        except Exception as error:          # noqa: BLE001 (a reference tool's failure is a result)
            references.append(f"fvcore: {_first_line(error)}")
        try:
            row["flop_counter"] = _flop_counter(model, x)
        except Exception as error:          # noqa: BLE001
            # FlopCounterMode's own assertion under no_grad on some models (PiT, CaiT: "Expected gradient function
            # to be set"); the count of the same forward with grad on, said so in the row
            try:
                with torch.enable_grad():
                    row["flop_counter"] = _flop_counter(model, x)
                row["note"] = f"FlopCounterMode counted with grad on ({_first_line(error)} under no_grad)"
            except Exception as again:      # noqa: BLE001
                references.append(f"FlopCounterMode: {_first_line(again)}")
        try:
            from costmodel.sources.importer.torch_graph import TorchModel

            start = time.perf_counter()
            imported = TorchModel(whole, size, submodule=part)
            network = imported.network()
            row["import_s"] = round(time.perf_counter() - start, 3)
            row["capture"] = imported.capture
            row["nodes"] = len(network.nodes)
            start = time.perf_counter()
            fvcore_view = costmodel.analyze(network, convention="fvcore")
            counter_view = costmodel.analyze(network, convention="flop_counter")
            row["analyze_s"] = round(time.perf_counter() - start, 3)
        except CostModelError as error:
            row["status"], row["reason"] = "refused", str(error)
            return row
        except Exception as error:          # noqa: BLE001 (a traceback is what the benchmark counts)
            row["status"], row["reason"] = "traceback", _first_line(error) + _where(error)
            return row
    row["costmodel_params"] = fvcore_view.totals["params"]
    row["costmodel_fvcore"] = fvcore_view.totals["flops"]
    row["costmodel_flop_counter"] = counter_view.totals["flops"]
    uncounted = fvcore_view.not_counted()
    row["uncounted"] = "; ".join(f"{call} x{count}" for call, count in sorted(uncounted.items()))
    differs = [what for what, ours, theirs in (("params", row["costmodel_params"], row["params"]),
                                                ("fvcore", row["costmodel_fvcore"], row.get("fvcore")),
                                                ("flop_counter", row["costmodel_flop_counter"],
                                                 row.get("flop_counter")))
               if theirs is not None and ours != theirs]
    if references:
        row["status"], row["reason"] = "reference", "; ".join(references)
    elif not differs:
        row["status"], row["reason"] = "exact", ""
    elif uncounted:
        row["status"], row["reason"] = "uncounted", f"differs in {', '.join(differs)}; uncounted: {row['uncounted']}"
    else:
        row["status"], row["reason"] = "inexact", f"differs in {', '.join(differs)}"
    return row


# --- the parent ----------------------------------------------------------------------------------------------------

def run_child(source: str, name: str, timeout: float) -> dict:
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, __file__, "--one", source, name], capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    except subprocess.TimeoutExpired:
        return {"source": source, "model": name, "status": "timeout", "reason": f"past {timeout:g} s",
                "child_s": round(time.perf_counter() - start, 1)}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1][:300]
        return {"source": source, "model": name, "status": "crash", "reason": f"exit {done.returncode}: {tail}",
                "child_s": round(time.perf_counter() - start, 1)}
    row = json.loads(lines[-1])
    row["child_s"] = round(time.perf_counter() - start, 1)
    return row


def summary(rows: list[dict]) -> str:
    lines = []
    for source in SOURCES:
        group = [row for row in rows if row["source"] == source]
        if not group:
            continue
        counts: dict[str, int] = {}
        for row in group:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        shown = ", ".join(f"{status} {count}" for status, count in sorted(counts.items(), key=lambda kv: -kv[1]))
        lines.append(f"{source}: {len(group)} models: {shown}")
    exact = sum(row["status"] == "exact" for row in rows)
    lines.append(f"all: {exact} of {len(rows)} exact ({100 * exact / max(len(rows), 1):.1f}%), "
                 f"{sum(row['status'] == 'traceback' for row in rows)} tracebacks")
    lines.append("")
    for row in rows:
        if row["status"] != "exact":
            lines.append(f"{row['source']}/{row['model']}: {row['status']}: {row.get('reason', '')}"[:400])
    return "\n".join(lines)


def markdown(rows: list[dict]) -> str:
    """The summary as Markdown, for the docs: a table of statuses per source, then every model that is not exact
    with its status and reason."""
    statuses = ("exact", "uncounted", "inexact", "reference", "refused", "traceback", "timeout", "crash")
    lines = ["| source | models | " + " | ".join(statuses) + " |", "|---" * (len(statuses) + 2) + "|"]
    for source in (*SOURCES, "all"):
        group = [row for row in rows if source in ("all", row["source"])]
        if group:
            counts = [sum(row["status"] == status for row in group) for status in statuses]
            lines.append(f"| {source} | {len(group)} | " + " | ".join(map(str, counts)) + " |")
    lines += ["", "| model | status | reason |", "|---|---|---|"]
    for row in rows:
        if row["status"] != "exact":
            reason = (row.get("reason") or "").replace("|", "\\|")
            lines.append(f"| {row['source']}/{row['model']} | {row['status']} | {reason[:300]} |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--one"]:
        print(json.dumps(one(argv[1], argv[2])))
        return
    if argv[:1] == ["--markdown"]:                 # the summary of a CSV written before, for the docs
        with open(argv[1], newline="") as handle:
            print(markdown(list(csv.DictReader(handle))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", default="coverage.csv")
    parser.add_argument("--only", default=None, help="a regular expression the source/model must match")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--jobs", type=int, default=1, help="models run at once (the timings then overlap)")
    parser.add_argument("--list", action="store_true", help="print the sample and stop")
    args = parser.parse_args(argv)
    models = [(source, name) for source, name in sample()
              if args.only is None or re.search(args.only, f"{source}/{name}")]
    if args.list:
        print("\n".join(f"{source}/{name}" for source, name in models), f"\n{len(models)} models", sep="")
        return
    from concurrent.futures import ThreadPoolExecutor

    rows = []
    with open(args.output, "w", newline="") as handle, ThreadPoolExecutor(max(args.jobs, 1)) as pool:
        writer = csv.DictWriter(handle, FIELDS, extrasaction="ignore")
        writer.writeheader()
        done = pool.map(lambda model: run_child(*model, args.timeout), models)
        for index, ((source, name), row) in enumerate(zip(models, done), 1):
            rows.append(row)
            writer.writerow(row)
            handle.flush()
            print(f"[{index}/{len(models)}] {source}/{name}: {row['status']} {row.get('reason', '')}"[:200],
                  flush=True)
    print()
    print(summary(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
