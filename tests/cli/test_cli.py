"""The command line: outputs, formats, files, and the error contract (one line, status 2, no traceback)."""
import csv
import io
import json
from pathlib import Path
import subprocess
import sys

import pytest

import costmodel

from costmodel.ops import kind_titles

from helpers import run




def test_table_text(capsys):
    status, out, err = run(["table", "mobilenet_v1", "--alpha", "0.75"], capsys)
    assert status == 0 and err == ""
    assert "mult-adds" in out and "325,400,448" in out and "325.40M" in out
    assert "2,585,560" in out
    assert "input 3x224x224" in out
    # the convention in one short line under the table; --explain states it in full (what each op counts)
    line = next(line for line in out.splitlines() if line.endswith("--explain says more"))
    assert line == "FLOPs (costmodel): 2 per multiply-accumulate + bias adds + element-wise ops; --explain says more"
    assert "ReLU6" not in out
    status, out, err = run(["table", "mobilenet_v1", "--explain"], capsys)
    assert "FLOPs convention 'costmodel': 2 FLOPs per multiply-accumulate" in out and "ReLU6 2" in out


def test_every_conventions_line_fits_100_columns(capsys):
    from costmodel.core.conventions import CONVENTIONS

    for name in CONVENTIONS:
        status, out, err = run(["table", "mobilenet_v2", "--convention", name], capsys)
        line = next(line for line in out.splitlines() if line.endswith("--explain says more"))
        assert status == 0 and line.startswith(f"FLOPs ({name}): ") and len(line) <= 100


def test_table_json_schema(capsys):
    status, out, _ = run(["table", "mobilenet_v1", "--alpha", "0.75", "--rho", "0.714", "--format", "json"], capsys)
    assert status == 0
    document = json.loads(out)
    assert {"model", "alpha", "resolution", "convention", "totals", "layers"} <= set(document)
    assert document["model"] == "mobilenet_v1" and document["alpha"] == 0.75 and document["resolution"] == 160
    assert document["convention"] == "costmodel"
    assert set(document["totals"]) == {"params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes"}
    assert all(isinstance(value, int) for value in document["totals"].values())
    layer = document["layers"][0]
    assert {"name", "kind", "output_shape", "params", "madds", "flops", "memory_access_bytes"} <= set(layer)
    assert layer["output_shape"] == [24, 80, 80]
    assert {layer["kind"] for layer in document["layers"]} <= set(kind_titles())
    assert sum(layer["madds"] for layer in document["layers"]) == document["totals"]["madds"]
    # 160x160 at alpha 0.75: the 224 count scaled by (160/224)^2 exactly for the convolutions
    fc = 768 * 1000
    assert (document["totals"]["madds"] - fc) * 224 * 224 == (325_400_448 - fc) * 160 * 160


def test_table_csv_views(capsys):
    _, out, _ = run(["table", "mobilenet_v1", "--format", "csv"], capsys)
    (total,) = list(csv.DictReader(io.StringIO(out)))
    assert total["madds"] == "568740352" and total["params"] == "4231976" and total["resolution"] == "224"
    _, out, _ = run(["table", "mobilenet_v1", "--format", "csv", "--per-layer"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 27 * 3 + 3 and rows[0]["output_shape"] == "32x112x112"
    assert sum(int(row["madds"]) for row in rows) == 568_740_352
    _, out, _ = run(["table", "mobilenet_v1", "--format", "csv", "--by-kind"], capsys)
    kinds = {row["kind"]: row for row in csv.DictReader(io.StringIO(out))}
    assert kinds["pointwise"]["layers"] == "13" and kinds["depthwise"]["layers"] == "13"
    status, _, err = run(["table", "mobilenet_v1", "--format", "csv", "--by-kind", "--per-layer"], capsys)
    assert status == 2 and "one table" in err


def test_table_markdown_and_views(capsys):
    _, out, _ = run(["table", "mobilenet_v1", "--format", "markdown", "--by-kind", "--per-layer"], capsys)
    assert out.startswith("# mobilenet_v1")
    assert "| pointwise | 13 | 3,139,584 | 74.19% | 539,492,352 | 94.86% |" in out
    assert "| Logits | linear | 1024 | 1000 | 1,025,000 | 1,024,000 |" in out
    _, out, _ = run(["table", "mobilenet_v1", "--per-layer", "--by-kind"], capsys)
    assert "Conv2d_13_pointwise.conv" in out and "94.86%" in out


def test_conventions_and_dtypes(capsys):
    _, out, _ = run(["table", "mobilenet_v1", "--convention", "papers", "--format", "json"], capsys)
    totals = json.loads(out)["totals"]
    assert totals["flops"] == totals["madds"] == 568_740_352
    _, out, _ = run(["table", "mobilenet_v1", "--dtype", "int8", "--format", "json"], capsys)
    assert json.loads(out)["totals"]["peak_activation_bytes"] == (32 + 64) * 112 * 112


def test_output_file_is_written_atomically(tmp_path, capsys):
    target = tmp_path / "v1.json"
    status, out, err = run(["table", "mobilenet_v1", "--format", "json", "-o", str(target)], capsys)
    assert status == 0 and out == "" and "wrote" in err
    assert json.loads(target.read_text())["totals"]["madds"] == 568_740_352
    before = target.read_text()
    status, _, err = run(["table", "no_such_model", "--format", "json", "-o", str(target)], capsys)
    assert status == 2 and target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["v1.json"]       # no temporary file left behind
    status, _, err = run(["table", "mobilenet_v1", "-o", str(tmp_path / "missing" / "x.txt")], capsys)
    assert status == 2 and "missing" in err and "does not exist" in err


@pytest.mark.parametrize("argv, message", [
    (["table", "mobilenet_v9"], "unknown model 'mobilenet_v9'; did you mean mobilenet_v"),
    (["table", "mobilenet_v1", "--alpha", "0"], "alpha must be in (0, 10]"),
    (["table", "mobilenet_v1", "--alpha", "nan"], "alpha must be in (0, 10]"),
    (["table", "mobilenet_v1", "--alpha", "inf"], "alpha must be in (0, 10]"),
    (["table", "mobilenet_v1", "--alpha", "abc"], "'abc' is not a valid float"),
    (["table", "mobilenet_v1", "--rho", "0.5", "--resolution", "160"], "give rho or resolution, not both"),
    (["table", "mobilenet_v1", "--rho", "-1"], "rho must be in (0, 10]"),
    (["table", "mobilenet_v1", "--resolution", "0"], "resolution must be in [1, 8192]"),
    (["table", "mobilenet_v1", "--format", "xml"], "Invalid value for '--format'"),
    (["table", "mobilenet_v1", "--bogus"], "No such option"),
    (["table", "mobilenet_v1", "-O", "groups"], "must be written name=value"),
    (["table", "mobilenet_v1", "-O", "groups=3"], "has no option 'groups'"),
    (["table"], "Missing argument 'MODEL'"),
    (["frobnicate"], "No such command 'frobnicate'"),
    (["reproduce", "mobilenet_v1", "--table", "12", "--no-write"], "has no reproduction of table '12'"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, capsys):
    status, out, err = run(argv, capsys)
    assert status == 2
    assert err.startswith("costmodel: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_list(capsys):
    status, out, _ = run(["list"], capsys)
    assert status == 0
    for name in ("mobilenet_v1", "mobilenet_v1_conv", "mobilenet_v1_shallow"):
        assert name in out
    assert "arXiv:1704.04861" in out
    _, out, _ = run(["list", "--format", "json"], capsys)
    assert [entry["name"] for entry in json.loads(out)][:3] == ["mobilenet_v1", "mobilenet_v1_conv",
                                                              "mobilenet_v1_shallow"]


def test_reproduce_prints_and_writes_the_reports_only_when_asked(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = run(["reproduce", "mobilenet_v1", "--table", "6"], capsys)
    assert status == 0 and "Table 6" in out and err == "" and not (tmp_path / "reports").exists()
    status, out, err = run(["reproduce", "mobilenet_v1", "--table", "6", "--write"], capsys)
    assert status == 0 and (tmp_path / "reports" / "mobilenet_v1" / "table6.md").exists()
    assert f"costmodel: wrote {Path('reports') / 'mobilenet_v1' / 'table6.md'}" in err
    status, out, err = run(["reproduce", "mobilenet_v1", "--table", "all", "--reports-dir", str(tmp_path)], capsys)
    assert status == 0
    assert "Table 3" in out and "Table 6" in out and "Table 7" in out
    assert sorted(p.name for p in (tmp_path / "mobilenet_v1").iterdir()) == [f"table{n}.md" for n in range(2, 10)] + \
        ["tablelatency.md"]
    status, out, _ = run(["reproduce", "mobilenet_v1", "--table", "6", "--no-write", "--format", "markdown"], capsys)
    assert out.startswith("# MobileNetV1 paper, Table 6")


def test_reproduce_names_its_papers_and_tables(capsys):
    from costmodel.reproduce import PAPERS

    status, out, err = run(["reproduce", "--list"], capsys)
    assert status == 0
    assert "mobilenet_v1: tables 2, 3, 4, 5, 6, 7, 8, 9, latency" in out
    assert "  --table 6: MobileNetV1 paper, Table 6: MobileNet width multiplier" in out
    assert "shufflenet_v2: tables 5, 1, 2, 3, 4" in out and [line.split(":")[0] for line in out.splitlines()
                                                               if not line.startswith(" ")] == list(PAPERS)
    status, out, err = run(["reproduce", "--help"], capsys)
    assert status == 0 and "PAPER is one of: " + ", ".join(PAPERS) + " (" in " ".join(out.split())
    status, out, err = run(["reproduce"], capsys)
    assert status == 2 and "give a PAPER: one of mobilenet_v1" in err and "--list" in err


def test_help_and_version(capsys):
    status, out, _ = run(["--help"], capsys)
    assert status == 0 and "table" in out and "reproduce" in out
    status, out, _ = run(["--version"], capsys)
    assert status == 0 and "0.1.0" in out


def test_python_dash_m_and_a_clean_start():
    """``python -m costmodel table`` works and imports no torch, onnx, matplotlib, fvcore, pandas, NumPy or jinja2 on
    the way."""
    probe = ("import sys, runpy\n"
             "sys.argv = ['costmodel', 'table', 'mobilenet_v1', '--alpha', '0.75']\n"
             "try:\n    runpy.run_module('costmodel', run_name='__main__')\n"
             "except SystemExit as e:\n    assert e.code == 0, e.code\n"
             "heavy = sorted(m for m in ('torch', 'onnx', 'matplotlib', 'fvcore', 'pandas', 'numpy', 'jinja2')\n"
             "               if m in sys.modules)\n"
             "print('HEAVY', heavy)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "325,400,448" in result.stdout
    assert "HEAVY []" in result.stdout


def test_reproduce_and_fit_without_html_or_a_plot_import_no_plotting():
    """The counted reproductions (the latency page's roofline among them) and fit's text need neither matplotlib
    nor jinja2."""
    probe = ("import sys\n"
             "from costmodel.reproduce import reproductions\n"
             "from costmodel.design.fit import search\n"
             "reproductions('mobilenet_v1')\n"
             "from costmodel.present import render\n"
             "render(search('mobilenet_v1', {'madds': 150_000_000}, depths=[1.0]))\n"
             "print('HEAVY', sorted(m for m in ('matplotlib', 'jinja2', 'torch') if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stdout


def test_output_files_get_the_usual_mode(tmp_path, capsys):
    import os
    import stat
    target = tmp_path / "out.csv"
    run(["table", "mobilenet_v1", "--format", "csv", "-o", str(target)], capsys)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_a_python_file_without_its_factory_is_refused_in_one_line_and_not_run(tmp_path, capsys):
    model = tmp_path / "mymodel.py"
    marker = tmp_path / "ran"
    model.write_text(f"open({str(marker)!r}, 'w').write('ran')\ndef build():\n    return None\n")
    status, out, err = run(["table", str(model)], capsys)
    assert status == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert f"a Python file needs the function that builds the model after a colon: {model}:build" in err
    assert not marker.exists()


def test_a_spec_error_names_an_unnamed_layer_one_way(tmp_path, capsys):
    spec = tmp_path / "net.toml"
    spec.write_text('name = "n"\ninput_channels = 3\nresolution = 32\n'
                    '[[layer]]\nop = "conv2d"\nout = 8\nkernel = 3\n'
                    '[[layer]]\nop = "conv2d"\nout = 8\nkernel = 3\ngroups = 3\n')
    status, out, err = run(["table", str(spec)], capsys)
    # the second layer has no name: its node is 'layer1', and the message calls it that, once (not "layer #2:
    # node 'layer1'")
    assert status == 2 and f"{spec}:8: layer 'layer1': groups=3 must divide both in_channels 8" in err
    assert err.count("layer1") == 1


def test_table_by_module_rolls_the_layers_up_the_module_tree(capsys):
    result = costmodel.analyze("mobilenet_v2")
    rows = {row["module"]: row for row in result.by_module()}
    # features.2 by hand: 1x1 16 -> 96 at 112x112, 3x3 depthwise 96 at 56x56 (stride 2), 1x1 96 -> 24 at 56x56
    assert rows["features.2"]["madds"] == 16 * 96 * 112 ** 2 + 9 * 96 * 56 ** 2 + 96 * 24 * 56 ** 2 == 29_202_432
    assert rows[""]["madds"] == result.totals["madds"] and rows[""]["layers"] == len(result.layers)
    top = [row for row in result.by_module() if row["depth"] == 1]
    assert sum(row["params"] for row in top) == result.totals["params"]        # each layer in one top module
    assert {row["depth"] for row in result.by_module(max_depth=1)} == {0, 1}
    status, out, err = run(["table", "mobilenet_v2", "--max-depth", "2"], capsys)
    table = out.split("\n\nmetric")[0]
    assert status == 0 and "  features.2 " in table and f"{29_202_432:,}" in table and "features.2.conv" not in table
    status, out, err = run(["table", "mobilenet_v2", "--by-module", "--format", "csv"], capsys)
    assert out.splitlines()[0].startswith("module,depth,layers,params,madds")


def test_table_sorts_and_cuts_the_layers_and_shows_their_inputs(capsys):
    result = costmodel.analyze("mobilenet_v2")
    largest = sorted(result.layers, key=lambda layer: -layer.madds)[:3]
    status, out, err = run(["table", "mobilenet_v2", "--sort", "madds", "--top", "3"], capsys)
    assert status == 0
    names = [line.split()[0] for line in out.splitlines() if line.startswith("features") or line.startswith("class")]
    assert names == [layer.name for layer in largest]
    assert "the 3 layers with the most madds of 153; the total is every layer's" in out
    # the input column: features.2's expansion reads 16 x 112 x 112
    status, out, err = run(["table", "mobilenet_v2", "--per-layer"], capsys)
    line = next(line for line in out.splitlines() if line.startswith("features.2.conv.0.0 "))
    assert line.split()[2:4] == ["16x112x112", "96x112x112"]
    status, out, err = run(["table", "mobilenet_v2", "--sort", "speed"], capsys)
    assert status == 2 and "--sort must be a layer's column: one of params, madds" in err
