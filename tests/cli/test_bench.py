"""costmodel bench: the model run on this CPU in a child process. Nothing here asserts a speed (speed is measured
in benchmarks/): the runs have every layer and no other, each figure is the minimum of its runs with its windows,
the settings asked, and bad input ends in one line."""
import json
import platform
import re

import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

pytest.importorskip("torch")

import costmodel  # noqa: E402
from helpers import run  # noqa: E402


def test_a_zoo_network_is_timed_layer_by_layer(tmp_path, capsys):
    target = tmp_path / "bench.json"
    status, out, err = run(["bench", "mobilenet_v1", "--alpha", "0.25", "--resolution", "32", "--warmup", "1",
                            "--repeats", "4", "--windows", "2", "--threads", "1", "--format", "json", "-o",
                            str(target)], capsys)
    assert status == 0, err
    document = json.loads(target.read_text())
    nodes = [layer.name for layer in costmodel.analyze("mobilenet_v1", alpha=0.25, resolution=32).layers]
    assert [layer["name"] for layer in document["layers"]] == nodes
    assert document["layers"][0]["kind"] == "conv" and document["layers"][1]["kind"] == "batchnorm"
    assert (document["repeats"], document["warmup"], document["threads"], document["resolution"],
            document["windows"]) == (4, 1, 1, [32, 32], 2)
    if platform.libc_ver()[0] == "glibc":         # tensors reuse the heap: bench_worker.steady_heap
        assert document["heap"] == "steady"
    for timing in (document["whole"], *document["layers"]):
        assert timing["statistic"] == "min" and timing["runs"] == 4 and len(timing["windows"]) == 2
        assert 0 < timing["value"] == min(timing["windows"]) <= timing["median"]
        assert timing["spread"] == pytest.approx(max(timing["windows"]) / min(timing["windows"]) - 1)
    # the layers' sum is taken run by run, so it is at least the sum of the layers' minima
    assert document["layers_total"]["runs"] == 4
    assert document["layers_total"]["value"] >= sum(layer["value"] for layer in document["layers"]) * (1 - 1e-12)
    assert document["between_layers_ms"] == pytest.approx(document["whole"]["value"] -
                                                           document["layers_total"]["value"])


def test_only_the_layers_the_analysis_counts_are_listed(capsys):
    # mobilenet_v2's blocks 1, 11 and 17 change width or stride: the lowering keeps a no-op for their residual add,
    # which the analysis skips (no layer): bench lists the analysis' layers, not the no-ops
    status, out, err = run(["bench", "mobilenet_v2", "--alpha", "0.35", "--resolution", "32", "--warmup", "0",
                            "--repeats", "1", "--format", "csv"], capsys)
    assert status == 0, err
    names = [line.split(",")[0] for line in out.strip().splitlines()[1:]]
    layers = [layer.name for layer in costmodel.analyze("mobilenet_v2", alpha=0.35, resolution=32).layers]
    assert names == ["(whole network)", *layers, "(between layers)"]
    assert "features.3.add" in names and not {"features.1.add", "features.11.add", "features.17.add"} & set(names)


def test_the_text_names_the_statistic_its_spread_and_the_time_between_layers(capsys):
    status, out, err = run(["bench", "mobilenet_v1", "--alpha", "0.25", "--resolution", "32", "--warmup", "0",
                            "--repeats", "6", "--windows", "3"], capsys)
    assert status == 0, err
    assert "min (ms)" in out and "windows within" in out and "(between layers)" in out
    assert re.search(r"whole network: [0-9.]+ ms \(min of 6 runs; 3 windows within [0-9.]+%\)", out), out
    assert "is the dispatch from one layer to the next" in out


def test_an_imported_module_is_timed_per_module_call(capsys):
    from pathlib import Path

    models = Path(__file__).parent.parent / "importer" / "models.py"
    status, out, err = run(["bench", f"{models}:build", "-O", "name=se", "--input", "3x16x16", "--warmup", "0",
                            "--repeats", "2", "--format", "csv"], capsys)
    assert status == 0, err
    names = [line.split(",")[0] for line in out.strip().splitlines()[1:]]
    assert names == ["(whole network)", "conv", "fc1", "fc2", "(between layers)"]


@pytest.mark.parametrize("argv, message", [
    (["--timeout", "0.01"], "bench: mobilenet_v2 did not finish within --timeout 0.01 s"),
    (["--repeats", "0"], "--repeats must be an integer >= 1, got 0"),
    (["--windows", "0"], "--windows must be an integer >= 1, got 0"),
    (["--threads", "0"], "--threads must be an integer >= 1, got 0"),
    (["--alpha", "-1"], "alpha"),
])
def test_bad_input_is_one_line(argv, message, capsys):
    status, out, err = run(["bench", "mobilenet_v2", *argv], capsys)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1 and out == ""


def test_an_onnx_file_is_refused_in_one_line(tmp_path, capsys):
    pytest.importorskip("onnx")
    import torch

    path = tmp_path / "tiny.onnx"
    import contextlib
    import io
    import warnings

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(torch.nn.Conv2d(3, 4, 3).eval(), (torch.zeros(1, 3, 8, 8),), str(path), dynamo=False)
    status, out, err = run(["bench", str(path), "--repeats", "1"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert "is an ONNX graph: torch's engine runs torch modules; the onnxruntime engine runs the graph as it is" in err


def test_without_torch_each_measuring_command_says_so_in_one_line(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    for argv, what in ((["bench", "mobilenet_v1"], "bench: mobilenet_v1"),
                       (["calibrate", "-o", "unused.toml"], "calibrate"),
                       (["reproduce", "shufflenet_v2", "--table", "2", "--no-write"], "the Table 2 micro-benchmark")):
        status, _, err = run(argv, capsys)
        assert status == 2 and err.strip().endswith(f"{what} runs torch, which is not installed: pip install "
                                                    "torch==2.13.0 (the CPU build)"), err
        assert err.count("\n") == 1


def test_the_worker_fixes_glibcs_mmap_threshold_or_says_it_did_not():
    from costmodel.latency.bench_worker import steady_heap

    assert steady_heap() == ("steady" if platform.libc_ver()[0] == "glibc" else "system")


def test_onnx_runtime_times_each_kernel_of_the_graph_it_runs(tmp_path, capsys):
    # ONNX Runtime's documented CPU fusions: the exporter folds each BatchNorm into its convolution, and the
    # convolution takes the ReLU6 after it (Clip) as its activation; so every convolution of MobileNetV1 with its
    # BatchNorm and ReLU6 is one kernel, named after the convolution, and every other layer is its own kernel
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    target = tmp_path / "bench.json"
    status, out, err = run(["bench", "mobilenet_v1", "--alpha", "0.25", "--resolution", "32", "--engine",
                            "onnxruntime", "--warmup", "1", "--repeats", "4", "--windows", "2", "--format", "json",
                            "-o", str(target)], capsys)
    assert status == 0, err
    document = json.loads(target.read_text())
    assert (document["engine"], document["engine_version"]) == ("onnxruntime", onnxruntime.__version__)
    layers = costmodel.analyze("mobilenet_v1", alpha=0.25, resolution=32).layers
    expected = []
    for index, layer in enumerate(layers):
        if layer.kind in ("conv", "depthwise", "pointwise"):
            expected.append((layer.name, [layer.name, layers[index + 1].name, layers[index + 2].name]))
        elif layer.kind not in ("batchnorm", "activation"):
            expected.append((layer.name, [layer.name]))
    rows = [(row["name"], row["covers"]) for row in document["layers"] if row["covers"]]
    assert rows == expected
    # every other kernel is the engine's own (a layout reorder), named so
    assert all(row["name"].startswith("(engine) ") for row in document["layers"] if not row["covers"])
    for timing in (document["whole"], *document["layers"]):
        assert timing["statistic"] == "min" and timing["runs"] == 4 and len(timing["windows"]) == 2


def test_onnx_runtime_runs_an_imported_module_and_an_onnx_file(tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    pytest.importorskip("bfmd")
    target = tmp_path / "bench.json"
    status, out, err = run(["bench", "bfmd.mobilenetv2:mobilenetv2", "-O", "input=3x32x32", "--engine",
                            "onnxruntime", "--warmup", "1", "--repeats", "2", "--windows", "1", "--format", "json",
                            "-o", str(target)], capsys)
    assert status == 0, err
    document = json.loads(target.read_text())
    # bfmd's MobileNetV2 begins with `pre`, an nn.Sequential of a 1x1 convolution (3 to 32 channels, padded by 1),
    # its BatchNorm and a ReLU6: one kernel on ONNX Runtime (the BatchNorm folded, the ReLU6 its Clip activation),
    # named after the convolution's module
    first = document["layers"][0]
    assert (first["name"], first["covers"]) == ("pre.0", ["pre.0", "pre.1", "pre.2"])
    assert first["kind"] == "pointwise+batchnorm+activation"
    # an ONNX file runs as it is, its kernels named after the scopes costmodel's importer reads from it
    import torch
    from bfmd.mobilenetv2 import mobilenetv2
    from costmodel.latency.ort_graph import export

    graph = tmp_path / "v2.onnx"
    export(mobilenetv2().eval(), torch.randn(1, 3, 32, 32), str(graph))
    status, out, err = run(["bench", str(graph), "--engine", "onnxruntime", "--warmup", "1", "--repeats", "2",
                            "--windows", "1"], capsys)
    assert status == 0, err
    names = {layer.name for layer in costmodel.analyze(str(graph)).layers}
    rows = [line.split()[0] for line in out.splitlines()[4:] if line and not line.startswith(("(", "whole", "the "))]
    assert "(the file as it is)" in out.splitlines()[0] and rows and set(rows[:5]) <= names


def test_without_onnx_runtime_its_engine_says_what_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in ("onnxruntime", "onnxscript") else real(name, *a))
    status, _, err = run(["bench", "mobilenet_v1", "--engine", "onnxruntime"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert err.strip().endswith("the onnxruntime engine needs onnxruntime, onnxscript, not installed: pip install "
                                "'costmodel[onnxruntime]'"), err
    with pytest.raises(costmodel.CostModelError, match=r"^engine must be one of torch, onnxruntime, got 'tvm'$"):
        from costmodel.latency.bench import bench

        bench("mobilenet_v1", engine="tvm")


def test_onnx_runtime_failing_to_load_a_network_is_one_line(monkeypatch):
    onnxruntime = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from costmodel.core.errors import CostModelError
    from costmodel.latency.bench_worker import run_onnxruntime

    def refuse(*args, **kwargs):
        raise onnxruntime.capi.onnxruntime_pybind11_state.Fail("[ONNXRuntimeError] : 1 : FAIL : no kernel\nmore")

    monkeypatch.setattr(onnxruntime, "InferenceSession", refuse)
    request = {"model": "mobilenet_v1", "alpha": 0.25, "rho": None, "resolution": 32, "batch": 1, "depth": 1.0,
               "options": {}, "threads": 1, "warmup": 0, "repeats": 1, "progress": False}
    with pytest.raises(CostModelError, match=r"^onnxruntime could not load mobilenet_v1: \[ONNXRuntimeError\] : 1 : "
                                             r"FAIL : no kernel$"):
        run_onnxruntime(request)
