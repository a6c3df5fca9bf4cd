"""Issue 22, item 8: an output never replaces an input. Each command refuses, before any work, an output that is one
of its input files (the same file by device and inode, however it is spelled: a symlink, a hard link, ``./``), or
two outputs that are the same file; the input is left byte for byte as it was."""
import os
import shutil
from pathlib import Path

import pytest

from helpers import one_line, run

EXAMPLE = Path(__file__).parents[2] / "examples" / "mobilenet_v2_like.toml"
PROFILE = """[profile]
name = "p"
[kinds.default]
overhead_us = 1.0
us_per_mmadd = 1.0
us_per_mb = 1.0
"""


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    shutil.copy(EXAMPLE, "my.toml")
    Path("prof.toml").write_text(PROFILE)
    Path("model.py").write_text("import torch.nn as nn\n\ndef build():\n    return nn.Conv2d(3, 8, 3)\n")
    os.symlink("my.toml", "link.toml")
    os.link("my.toml", "hard.toml")
    return tmp_path


def snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()}


@pytest.mark.parametrize("argv, words", [
    (["table", "my.toml", "-o", "my.toml"], "output file 'my.toml' is the input 'my.toml'"),
    (["table", "my.toml", "-o", "./my.toml"], "is the input"),
    (["table", "my.toml", "-o", "link.toml"], "is the input"),              # a symlink to the input
    (["table", "my.toml", "-o", "hard.toml"], "is the input"),              # a hard link: the same inode
    (["table", "link.toml", "-o", "my.toml"], "is the input"),
    (["table", "mobilenet_v1", "--device", "prof.toml", "-o", "prof.toml"], "is the input 'prof.toml'"),
    (["sweep", "my.toml", "--alpha", "0.5:1:0.5", "-o", "my.toml"], "is the input"),
    (["fit", "my.toml", "--max-madds", "100M", "-o", "my.toml"], "is the input"),
    (["fit", "mobilenet_v1", "--max-madds", "100M", "-o", "f.png", "--plot", "f.png"], "are the same file"),
    (["fit", "mobilenet_v1", "--max-madds", "100M", "-o", "f.json", "--plot", "./f.json"], "are the same file"),
    (["fit", "mobilenet_v1", "--max-madds", "1G", "--max-latency", "1s", "--device", "prof.toml", "-o",
      "prof.toml"], "is the input"),
    (["fit", "mobilenet_v1", "--max-madds", "100M", "--compare", "my.toml", "-o", "my.toml"], "is the input"),
    (["report", "my.toml", "-o", "my.toml"], "is the input"),
    (["report", "mobilenet_v1", "--device", "prof.toml", "-o", "prof.toml"], "is the input"),
    (["compare", "mobilenet_v1", "my.toml", "-o", "my.toml"], "is the input"),
    (["compare", "mobilenet_v1", "my.toml:alpha=0.5", "-o", "hard.toml"], "is the input"),
    (["verify", "my.toml", "-o", "my.toml"], "is the input"),
    (["table", "model.py:build", "--input", "3x8x8", "-o", "model.py"], "is the input 'model.py'"),
])
def test_an_output_that_is_an_input_is_refused_before_any_work(inputs, argv, words, capsys):
    before = snapshot(inputs)
    status, out, err = run(argv, capsys)
    assert words in one_line(status, err) and out == ""
    assert snapshot(inputs) == before and os.path.islink("link.toml")


def test_an_onnx_input(tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 8, 8])])
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), path)
    data = path.read_bytes()
    status, _, err = run(["sweep", str(path), "-o", str(path)], capsys)
    assert "is the input" in one_line(status, err) and path.read_bytes() == data


def test_distinct_outputs_and_devices_are_still_written(inputs, capsys):
    status, _, _ = run(["table", "my.toml", "-o", "out.txt"], capsys)
    assert status == 0 and Path("out.txt").read_text().startswith("mobilenet_v2_like")
    status, _, _ = run(["table", "my.toml", "-o", "/dev/null"], capsys)
    assert status == 0
