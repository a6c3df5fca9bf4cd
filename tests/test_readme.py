"""The README is true: its sample output is what the command prints, every command of its tour runs, and its Python
snippets print what their comments say. The commands are read from the README itself, so an edit that breaks one
fails here."""
import contextlib
import io
import re
import shlex
import warnings
from pathlib import Path

import pytest

from costmodel.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title):
    """The text of the README's ``## title`` section."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def blocks(text, language):
    """The fenced ``language`` blocks of ``text``."""
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def commands(block):
    """Each ``costmodel ...`` line of a shell block, its comment dropped, as argv (without the program name)."""
    lines = [line.split(" #", 1)[0].strip() for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("costmodel ")]


def run(argv, capsys):
    with pytest.raises(SystemExit) as status:
        main(argv)
    captured = capsys.readouterr()
    assert status.value.code == 0, (argv, captured.err)
    return captured.out


def test_the_sample_output_is_what_the_command_prints(capsys):
    sample = blocks(section("A one-minute tour"), "text")[0]
    command, printed = sample.split("\n", 1)
    assert command.startswith("$ costmodel ")
    assert run(shlex.split(command)[2:], capsys) == printed


def test_the_python_tour_prints_what_its_comments_say():
    code = blocks(section("A one-minute tour"), "python")[0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    commented = [line.split("# ", 1)[1] for line in code.splitlines() if line.startswith("print(") and "# " in line]
    assert commented and printed.getvalue().splitlines()[0] == commented[0] == "325400448"   # the first print


@pytest.mark.slow
def test_every_command_of_the_tour_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)                               # where -o writes
    tour = commands(blocks(section("A one-minute tour"), "bash")[0])
    assert len(tour) >= 8 and {argv[0] for argv in tour} >= {"table", "sweep", "fit", "advise", "report"}
    for argv in tour:
        run(argv, capsys)
    assert (tmp_path / "grid.csv").read_text().count("\n") == 4 * 5 + 1        # 4 alphas x 5 resolutions, a header
    assert (tmp_path / "review.html").stat().st_size > 50_000


NET = """
import torch.nn as nn

def build():
    return nn.Sequential(nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU()),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))
"""


@pytest.mark.slow
def test_costing_your_own_model_works_as_the_readme_says(tmp_path, monkeypatch, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("fvcore", reason="fvcore is not installed (pip install -e '.[test]')")
    onnx = pytest.importorskip("onnx", reason="onnx is not installed (pip install -e '.[test]')")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_net.py").write_text(NET)
    monkeypatch.syspath_prepend(str(tmp_path))
    import my_net

    module = my_net.build().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                     # the legacy exporter's deprecation
        torch.onnx.export(module, (torch.zeros(1, 3, 224, 224),), str(tmp_path / "my_net.onnx"), dynamo=False)
    assert onnx.load(str(tmp_path / "my_net.onnx")).graph.node
    madds = 3 * 9 * 16 * 224 * 224 + 16 * 10                 # the convolution and the classifier, by hand
    for argv in commands(blocks(section("Cost your own PyTorch model"), "bash")[0]):
        out = run(argv, capsys)
        if argv[0] == "table" and "--by-module" not in argv:
            assert f"{madds:,}" in out, argv
    code = blocks(section("Cost your own PyTorch model"), "python")[0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {"module": module})
    params = 3 * 9 * 16 + 16 + 2 * 16 + 16 * 10 + 10
    assert printed.getvalue().split() == [str(madds), str(params)]


def test_the_zoo_is_as_large_as_the_readme_says():
    from costmodel.sources.zoo import MODELS

    said = [int(count) for count in re.findall(r"(\d+)\s+networks", README)]
    assert said == [len(MODELS)] * 2
