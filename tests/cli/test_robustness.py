"""Bad input never crashes, never leaks, never loses output; counts stay exact; output is deterministic."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.core.fileio import write_atomic
from costmodel.sources.spec import MAX_BYTES, load_spec

from helpers import run

ROOT = Path(__file__).resolve().parents[2]




@pytest.mark.parametrize("argv, message", [
    (["table", "mobilenet_v1", "--alpha", "11"], "alpha must be in (0, 10], got 11.0"),
    (["table", "mobilenet_v1", "--rho", "10.5"], "rho must be in (0, 10], got 10.5"),
    (["table", "mobilenet_v1", "--rho", "nan"], "rho must be in (0, 10], got nan"),
    (["table", "mobilenet_v1", "--resolution", "9000"], "resolution must be in [1, 8192], got 9000"),
    (["table", "inception_v3", "--resolution", "74"], "node 'Mixed_7a.branch3x3_2.conv': output size would be 0 (input 2x2"),
    (["table", "mobilenetv2"], "unknown model 'mobilenetv2'; did you mean mobilenet_v2"),
    (["table", "shufflenet_v1", "-O", "groups=5"], "option 'groups' must be one of 1, 2, 3, 4, 8, got 5"),
    (["table", "shufflenet_v1", "-O", "groups=three"], "option 'groups' must be a int, got 'three'"),
    (["table", "resnet50", "-O", "variant=v2"], "option 'variant' must be one of v1.5, v1, got 'v2'"),
    (["table", "mobilenet_v1", "-O", "a=1", "-O", "a=2"], "option 'a' is given twice"),
    (["sweep", "mobilenet_v1", "--alpha", ""], "--alpha must be numbers"),
    (["sweep", "mobilenet_v1", "--alpha", "1:0.5:0.1"], "range is reversed"),
    (["sweep", "mobilenet_v1", "--resolution", "96:128:0"], "step must be positive"),
    (["table", "missing.toml"], "spec file 'missing.toml' does not exist"),
])
def test_bad_arguments(argv, message, capsys):
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    assert err.startswith("costmodel: error: ") and message in err and err.count("\n") == 1


def test_unreadable_spec(tmp_path, monkeypatch):
    spec = tmp_path / "locked.toml"
    spec.write_text('name = "x"\n')

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(os, "open", refuse)                # as chmod 000 does, for a user who is not root
    with pytest.raises(CostModelError, match=r"cannot read spec file .*locked.toml.*: Permission denied"):
        load_spec(spec)


def test_deeply_nested_and_huge_specs(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(CostModelError, match="invalid TOML: nested too deeply"):
        load_spec(deep)
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as stream:                   # sparse: no memory or disk spent
        stream.truncate(MAX_BYTES + 1)
    with pytest.raises(CostModelError, match=r"huge.toml: 4,194,305 bytes is more than the limit of 4,194,304"):
        load_spec(huge)
    many = tmp_path / "many.toml"
    many.write_text('name = "x"\n' + '[[layer]]\nblock = "ir_r10000_c8"\n' * 30)
    with pytest.raises(CostModelError, match="grows past the limit of 200,000 nodes"):
        load_spec(many)


@pytest.mark.parametrize("layers, message", [
    ('[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\n[[layer]]\nname = "b"\nop = "conv2d"\nout = 16\ninput = "input"\n'
     '[[layer]]\nname = "sum"\nop = "add"\ninputs = ["a", "b"]', "layer 'sum': cannot add inputs of different shapes "
                                                              "8x32x32, 16x32x32"),
    ('[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\nstride = 2\n[[layer]]\nname = "b"\nop = "conv2d"\nout = 8\n'
     'input = "input"\n[[layer]]\nname = "cat"\nop = "concat"\ninputs = ["a", "b"]', "layer 'cat': cannot concatenate"),
    ('[[layer]]\nname = "a"\nop = "flatten"\ninput = "c"\n[[layer]]\nname = "b"\nop = "flatten"\ninput = "a"\n'
     '[[layer]]\nname = "c"\nop = "flatten"\ninput = "b"', "the layers form a cycle: a -> b -> c -> a"),
    ('[[layer]]\nname = "a"\nop = "concat"\ninputs = ["input", "ghost"]', "input 'ghost' is not a layer"),
    ('[[layer]]\nname = "a"\nop = "conv2d"\nout = -8', "field 'out' must be a positive number of channels, got -8"),
    ('[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\ngroups = 3', "groups=3 must divide both in_channels 3 and"),
])
def test_spec_graph_errors(tmp_path, layers, message):
    spec = tmp_path / "net.toml"
    spec.write_text(f'name = "x"\nresolution = 32\n{layers}\n')
    with pytest.raises(CostModelError) as error:
        costmodel.analyze(str(spec))
    assert message in str(error.value)


def test_an_interrupted_write_keeps_the_previous_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "table.json"
    target.write_text("previous")

    def interrupted(source, destination):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, "new text")
    assert target.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["table.json"]          # the temporary file is gone
    status, _, err = run(["table", "mobilenet_v1", "--format", "json", "-o", str(target)], capsys)
    assert status == 130 and err == "costmodel: error: interrupted\n" and target.read_text() == "previous"


def test_python_api_raises_the_documented_error():
    from costmodel.design.sweep import sweep
    for call in (lambda: costmodel.analyze("mobilenet_v1", alpha=-1), lambda: costmodel.analyze(3.5),
                 lambda: costmodel.analyze("mobilenet_v1", resolution=(1, 2, 3)),
                 lambda: costmodel.analyze("mobilenet_v1", options={"x": 1}),
                 lambda: costmodel.analyze("mobilenet_v1", batch=0),
                 lambda: costmodel.analyze("mobilenet_v1", resolution="160x"),
                 lambda: sweep("mobilenet_v1", [], [224]),
                 lambda: costmodel.Conv2d(8, kernel=(3, 0)), lambda: costmodel.Linear(0)):
        with pytest.raises(CostModelError):
            call()
        with pytest.raises(ValueError):
            call()


def test_vgg16_at_4096_counts_exactly():
    """5 max pools halve 4096 to 128; the adaptive pool then averages 128 -> 7 with overlapping windows."""
    result = costmodel.analyze("vgg16", resolution=4096)
    convs = [(3, 64, 4096), (64, 64, 4096), (64, 128, 2048), (128, 128, 2048), (128, 256, 1024),
             (256, 256, 1024), (256, 256, 1024), (256, 512, 512), (512, 512, 512), (512, 512, 512),
             (512, 512, 256), (512, 512, 256), (512, 512, 256)]
    fcs = 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert result.totals["madds"] == sum(9 * m * n * d * d for m, n, d in convs) + fcs == 5_131_535_810_560
    # adaptive pool 128 -> 7: windows [floor(128 i / 7), ceil(128 (i + 1) / 7)) have lengths 19 each but the
    # ones that straddle: sum over i of (ceil(128 (i+1) / 7) - floor(128 i / 7)) = 134
    windows = sum(-(-128 * (i + 1) // 7) - (128 * i // 7) for i in range(7))
    assert windows == 134
    pool = next(layer for layer in result.layers if layer.name == "avgpool")
    assert pool.flops == 512 * windows * windows
    assert result.totals["params"] == 138_357_544


COMMANDS = [
    ["table", "mobilenet_v2", "--per-layer", "--format", "csv"],
    ["table", "shufflenet_v1", "--by-kind", "--format", "json"],
    ["table", "examples/inception_like.toml", "--per-layer", "--by-kind", "--format", "markdown"],
    ["sweep", "mobilenet_v3_small", "--alpha", "0.5:1:0.25", "--resolution", "96:160:32"],
    ["report", "googlenet", "--no-fvcore", "-o", "{out}"],
    ["compare", "mobilenet_v1:alpha=0.5", "mobilenet_v2:alpha=0.5", "-o", "{out}"],
]


@pytest.mark.slow
@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]))
def test_the_same_command_twice_gives_the_same_bytes(argv, tmp_path):
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"out{seed}.html"
        command = [sys.executable, "-m", "costmodel", *(arg.replace("{out}", str(out)) for arg in argv)]
        result = subprocess.run(command, capture_output=True, cwd=ROOT, env={**os.environ, "PYTHONHASHSEED": seed},
                                check=True)
        outputs.append(out.read_bytes() if "{out}" in argv else result.stdout)
    assert outputs[0] == outputs[1] and len(outputs[0]) > 100
