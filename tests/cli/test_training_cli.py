"""``costmodel table --training`` on a network counted by hand (a 3x3 convolution with BatchNorm and ReLU, a global
pool and a linear classifier, batch 2 on 8 x 8), in every format, and its refusals: one line, status 2."""
import csv
import io
import json

import pytest

import costmodel
from costmodel.cli import main

SPEC = """name = "tiny"
resolution = 8

[[layer]]
name = "conv"
op = "conv2d"
out = 8
kernel = 3
padding = 1
bn = true
act = "relu"

[[layer]]
name = "pool"
op = "global_avg_pool"

[[layer]]
name = "flat"
op = "flatten"

[[layer]]
name = "fc"
op = "linear"
out = 10
"""
CONV = 3 * 3 * 3 * 8 * 8 * 8 * 2            # the convolution's mult-adds at batch 2: 27,648
FC = 8 * 10 * 2                              # the classifier's: 160
PARAMS = 216 + 16 + 90                       # 322
SAVED = 2 * 3 * 64 * 4 + (2 * 8 * 64 * 4 + 2 * 8 * 4) + 2 * 8 * 64 * 4 + 2 * 8 * 4     # 9,856 bytes


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SPEC)
    return str(path)


def run(argv, capsys):
    with pytest.raises(SystemExit) as status:
        main(argv)
    captured = capsys.readouterr()
    return status.value.code, captured.out, captured.err


def test_json_totals_are_the_hand_counts(spec, capsys):
    status, out, err = run(["table", spec, "--training", "--batch", "2", "--optimizer", "adam", "--format", "json"],
                           capsys)
    assert status == 0 and err == ""
    document = json.loads(out)
    totals = document["totals"]
    assert (document["optimizer"], document["input"]) == ("adam", [2, 3, 8, 8])
    assert (totals["forward_madds"], totals["backward_madds"]) == (CONV + FC, CONV + 2 * FC)
    assert totals["saved_bytes"] == SAVED
    assert (totals["params_bytes"], totals["gradient_bytes"], totals["optimizer_bytes"]) == \
        (4 * PARAMS, 4 * PARAMS, 8 * PARAMS)
    assert totals["peak_bytes"] == 16 * PARAMS + SAVED + 2 * 2 * 8 * 64 * 4          # + BatchNorm's gradients
    assert [layer["name"] for layer in document["layers"]] == ["conv.conv", "conv.bn", "conv.relu", "pool", "flat",
                                                                "fc"]


def test_text_states_the_step_and_the_model_of_its_peak(spec, capsys):
    status, out, _ = run(["table", spec, "--training", "--batch", "2"], capsys)
    assert status == 0
    assert out.startswith("tiny  alpha=1  input 2x3x8x8  dtype=float32  training step, optimizer sgd\n")
    assert "saved activations       9.86 kB   9,856 B" in out
    assert "peak = parameters + gradients + optimizer state + saved activations + largest transient" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    status, out, _ = run(["table", spec, "--training", "--batch", "2", "--per-layer", "--sort", "saved_bytes",
                          "--top", "2"], capsys)
    table = out.split("\n\n")[-1].splitlines()
    assert [line.split()[0] for line in table[2:]] == ["conv.bn", "conv.relu", "total",
                                                        "the"]     # the largest savers, the total, what is left out
    assert table[-1] == "the 2 layers with the most saved_bytes of 6; the total is every layer's"


def test_csv_and_markdown(spec, capsys):
    _, out, _ = run(["table", spec, "--training", "--batch", "2", "--per-layer", "--format", "csv"], capsys)
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][:3] == ["name", "kind", "trainable"] and rows[-1][0] == "total"
    assert rows[-1][-1] == f"{SAVED:,}"
    _, out, _ = run(["table", spec, "--training", "--format", "markdown"], capsys)
    assert "| saved activations |" in out and "- peak = parameters" in out


def test_a_frozen_layer(spec, capsys):
    _, out, _ = run(["table", spec, "--training", "--batch", "2", "--freeze", "conv", "--format", "json"], capsys)
    totals = json.loads(out)["totals"]
    # "conv" freezes conv.conv, conv.bn and conv.relu: nothing before the classifier trains, so it makes no input
    # gradient, only its weights'
    assert totals["trainable_params"] == 90 and totals["backward_madds"] == FC
    assert json.loads(out)["frozen"] == ["conv"]


@pytest.mark.parametrize("argv, message", [
    (["--training", "--by-kind"], "--training shows a training step's table; --by-kind goes with the forward's"),
    (["--training", "--fused"], "--fused goes with the forward's"),
    (["--optimizer", "adam"], "--optimizer, --freeze and --checkpoint cost a training step: give --training too"),
    (["--training", "--checkpoint", "fc.x"], "--checkpoint 'fc.x' names no node of tiny"),
    (["--training", "--freeze", "conv.cnv"], "--freeze 'conv.cnv' names no node of tiny"),
    (["--training", "--optimizer", "lamb"], "Invalid value for '--optimizer'"),
])
def test_refusals_are_one_line(spec, capsys, argv, message):
    status, out, err = run(["table", spec, *argv], capsys)
    assert status == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_python_takes_training_and_refuses_its_options_alone():
    step = costmodel.analyze("mobilenet_v1", training=True, optimizer="momentum", batch=2)
    assert step.totals["optimizer_bytes"] == step.totals["gradient_bytes"] == 4 * 4_231_976
    assert costmodel.render(step, "json").startswith("{")
    with pytest.raises(costmodel.CostModelError, match="optimizer, frozen and checkpoint cost a training step"):
        costmodel.analyze("mobilenet_v1", optimizer="adam")
