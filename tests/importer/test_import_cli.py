"""The command line takes file.py:factory and package.module:factory wherever it takes a model."""
import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")

from helpers import run  # noqa: E402

MODELS = str(Path(__file__).parent / "models.py")


def by_hand_squeeze_excite_params(channels=24):
    """conv 3->C 3x3 with bias, fc1 C->C/4 and fc2 C/4->C 1x1 with biases."""
    squeezed = channels // 4
    return (3 * 9 * channels + channels) + (channels * squeezed + squeezed) + (squeezed * channels + channels)


def test_table_of_a_file_factory_with_arguments(capsys):
    status, out, err = run(["table", f"{MODELS}:build:name='se'", "--input", "3x16x16", "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["totals"]["params"] == by_hand_squeeze_excite_params()
    assert document["resolution"] == 16 and document["not_counted"] == {}
    names = [layer["name"] for layer in document["layers"]]
    assert names[:2] == ["conv", "adaptive_avg_pool2d"]


def test_options_become_factory_arguments_and_resolution_sizes(capsys):
    status, out, err = run(["table", f"{MODELS}:build", "-O", "name=se", "-O", "channels=32", "--resolution", "20",
                            "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["totals"]["params"] == by_hand_squeeze_excite_params(32)
    assert document["layers"][0]["output_shape"] == [32, 20, 20]


def test_a_module_path_factory(capsys):
    sys.path.insert(0, str(Path(__file__).parent))
    try:
        status, out, err = run(["table", "models:SqueezeExciteNet", "--input", "3x16x16", "--format", "json"], capsys)
    finally:
        sys.path.remove(str(Path(__file__).parent))
    assert status == 0, err
    assert json.loads(out)["totals"]["params"] == by_hand_squeeze_excite_params()


@pytest.mark.parametrize("argv, message", [
    (["--alpha", "0.5"], "a width multiplier does not apply to it"),
    (["--depth", "2"], "a depth multiplier does not apply to it"),
    (["--input", "3xAx4"], "--input must be CxHxW"),
    (["--input", "3x16x112x112"], "--input must be CxHxW: costmodel counts models of images, not of clips"),
    (["--strict", "-O", "name=pixel_shuffle"], "cannot count module PixelShuffle (--strict)"),
    (["-O", "nonsense=1"], "fails: "),
])
def test_refusals_are_one_line(argv, message, capsys):
    status, out, err = run(["table", f"{MODELS}:build", "--input", "3x32x32", *argv], capsys)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_missing_file_and_factory(capsys):
    status, _, err = run(["table", "/nonexistent/net.py:build"], capsys)
    assert status == 2 and "no such file" in err
    status, _, err = run(["table", f"{MODELS}:nothing_here"], capsys)
    assert status == 2 and "has no 'nothing_here'" in err


def test_verify_an_imported_module_on_itself(capsys):
    status, out, err = run(["verify", f"{MODELS}:build", "-O", "name=functional", "--input", "3x32x32"], capsys)
    assert status == 0, out + err
    assert "every layer agrees with fvcore" in out
    status, out, err = run(["verify", f"{MODELS}:build", "-O", "name=attention", "--input", "3x32x32",
                            "--against", "flopcounter"], capsys)
    assert status == 0, out + err


def test_sweep_over_resolutions(capsys):
    status, out, err = run(["sweep", f"{MODELS}:build:name='se'", "--resolution", "16:32:16"], capsys)
    assert status == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 3


def test_sweep_refuses_a_size_the_module_cannot_take(tmp_path, capsys):
    source = tmp_path / "fixed.py"
    source.write_text("import torch\n\ndef build():\n    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), "
                      "torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 2))\n")
    status, out, err = run(["sweep", f"{source}:build", "--input", "3x8x8", "--resolution", "8:10:2"], capsys)
    assert status == 2 and "2 takes 144 features, it receives 256" in err


def test_the_report_cross_checks_an_imported_module_on_itself():
    """Module by module on the user's module (its root's own functions make a "(root)" row), not on a lowering."""
    import costmodel
    from costmodel.present.report.sections.crosscheck import fvcore_section
    from costmodel.sources.setting import Setting

    setting = Setting(f"{MODELS}:build", options={"name": "functional", "input": "3x32x32"})
    result = costmodel.analyze(setting)
    section = fvcore_section(result, setting)
    assert section["available"] and section["agrees"]
    names = {row["name"] for row in section["rows"]}
    assert "(root)" in names and "branch" in names


def test_data_dependent_control_flow_is_one_line_and_exit_2(tmp_path, capsys):
    source = tmp_path / "gated.py"
    source.write_text("import torch\n\n\nclass Gated(torch.nn.Module):\n    def forward(self, x):\n"
                      "        if x.mean() > 0:\n            return x * 2\n        return x\n")
    status, out, err = run(["table", f"{source}:Gated", "--input", "3x8x8"], capsys)
    assert status == 2 and out == "" and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert f"in module '(root)' (Gated) at {source}:6: if x.mean() > 0:; torch.fx cannot trace Gated" in err


def test_a_module_fx_cannot_trace_is_exported_and_verified_layer_by_layer(capsys):
    pytest.importorskip("bfmd")
    status, out, err = run(["verify", "bfmd:shufflenetv2", "--input", "3x32x32"], capsys)
    assert status == 0, out + err
    assert "every layer agrees with fvcore" in out


@pytest.fixture(scope="module")
def saved_program(tmp_path_factory):
    """bfmd's ShuffleNetV2 exported at 3x32x32 and saved as a .pt2 file, with its reference counts."""
    bfmd = pytest.importorskip("bfmd")
    from test_from_torch import reference_counts

    module = bfmd.shufflenetv2().eval()
    path = tmp_path_factory.mktemp("pt2") / "shufflenetv2.pt2"
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.export.save(torch.export.export(module, (torch.zeros(1, 3, 32, 32),)), str(path))
    return path, reference_counts(module, (3, 32, 32))


def test_a_saved_program_is_costed_at_its_own_size(saved_program, capsys):
    path, (params, fvcore_total, flop_counter_total) = saved_program
    status, out, err = run(["table", str(path), "--convention", "fvcore", "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["resolution"] == 32 and document["not_counted"] == {}
    assert document["totals"]["params"] == params and document["totals"]["flops"] == fvcore_total
    assert document["layers"][0]["name"] == "pre.0"
    status, out, err = run(["table", str(path), "--convention", "flop_counter", "--format", "json"], capsys)
    assert json.loads(out)["totals"]["flops"] == flop_counter_total
    status, out, err = run(["verify", str(path)], capsys)
    assert status == 0 and "every layer agrees with fvcore" in out and "(the whole program)" in out


@pytest.mark.parametrize("argv, message", [
    (["--resolution", "64"], "a saved program keeps the sizes it was exported at, 32x32: export it again at 64x64"),
    (["-O", "width=2"], "is a saved graph: it takes no options (got width)"),
    (["--alpha", "0.5"], "a width multiplier does not apply to it"),
])
def test_a_saved_program_refuses_in_one_line(saved_program, argv, message, capsys):
    status, out, err = run(["table", str(saved_program[0]), *argv], capsys)
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_file_that_is_not_a_program(tmp_path, capsys):
    path = tmp_path / "broken.pt2"
    path.write_bytes(b"not a zip archive")
    status, out, err = run(["table", str(path)], capsys)
    assert status == 2 and "broken.pt2 is not a saved torch.export program" in err
    status, out, err = run(["table", str(tmp_path / "absent.pt2")], capsys)
    assert status == 2 and "absent.pt2: no such file" in err


def test_verify_gives_a_modules_second_call_to_the_module(capsys):
    status, out, err = run(["verify", f"{MODELS}:build", "-O", "name=shared", "--input", "4x8x8"], capsys)
    assert status == 0 and "every layer agrees with fvcore" in out, out + err


def test_a_detection_model_is_refused_in_one_line_that_names_both_captures_and_its_parts(capsys):
    """torchvision's detection models failed after 4-16 s with a locator that named nothing ("in  at
    <string>:1:")."""
    status, _, err = run(["table", f"{MODELS}:build", "-O", "name=detector", "--input", "3x16x16"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "control flow depends on the values of a tensor" in err and "models.py:" in err and "<string>" not in err
    assert "torch.fx cannot trace Detector" in err
    assert "--module NAME; its sub-modules: backbone, head" in err


def test_module_counts_a_sub_module(capsys):
    status, out, err = run(["table", f"{MODELS}:build", "-O", "name=detector", "--input", "3x16x16",
                            "--module", "backbone", "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    # params: 3*8*9 + 8 and 8*16*9 + 16; mult-adds on 16x16: 64 positions * 8 * 27, 16 positions * 16 * 72
    assert document["totals"]["params"] == 224 + 1168
    assert document["totals"]["madds"] == 64 * 216 + 16 * 1152
    assert [layer["name"] for layer in document["layers"]] == ["0", "1", "2"]
    status, _, err = run(["table", f"{MODELS}:build", "-O", "name=detector", "--module", "neck"], capsys)
    assert status == 2 and "Detector has no sub-module 'neck' (--module; its sub-modules: backbone, head)" in err
