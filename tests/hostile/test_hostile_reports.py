"""Issue 22, items 9-11: names are data, never markup (a ``$`` is drawn as typed); every MODEL form works wherever a
MODEL is taken; a network of thousands of layers reports in bounded time and size, summarised."""
import json
import re
import textwrap
import time

import pytest

import costmodel
from costmodel.present.report.sections.crosscheck import CROSS_CHECK_LAYERS
from costmodel.present.report.sections.digest import FULL, TOP

from helpers import one_line, run

SPEC = """name = {name}
resolution = 16
width_rule = "make_divisible"
[[layer]]
name = "stem"
block = "cn_k3_s1_c8"
[[layer]]
name = "body"
block = "ir_r{repeats}_k3_s1_e2_c8"
[[layer]]
name = "pool"
op = "global_avg_pool"
[[layer]]
op = "flatten"
[[layer]]
op = "linear"
out = "num_classes"
"""


def spec(folder, name="tiny", repeats=1, file="net.toml"):
    path = folder / file
    path.write_text(SPEC.format(name=json.dumps(name), repeats=repeats))     # JSON's escapes are TOML's
    return str(path)


# 9. Names are data ------------------------------------------------------------------------------------------------

NAMES = ["bad$^$", "a $x^2$ b", "lone $ sign", "$\\frac$", "form\x0cfeed"]


@pytest.mark.parametrize("name", NAMES)
def test_a_dollar_in_a_name_is_drawn_as_typed(name):
    """matplotlib read "$...$" as mathtext: "$x^2$" was drawn as math, "bad$^$" ended in a ParseFatalException; a
    control character was drawn as a glyph the font lacks. Every plot that draws a user's name draws it as typed
    (control characters escaped)."""
    import io

    from costmodel.present.report import plots

    drawn = name.replace("&", "&amp;").replace("<", "&lt;").replace("\x0c", "\\x0c")
    svgs = [plots.stacked_kinds_chart([name, "other"], ["conv"], [[1_000_000, 2_000_000]]),
            plots.scatter_chart([(1e6, 70.0, "published")], [(2e6, 71.0, name)], "mult-adds", "top-1"),
            plots.memory_chart([name], [1_000_000], [1_000_000], 0),
            plots.front_chart([(name, [(1e6, 70.0, "p")], [(1e6, 70.0), (2e6, None)])], 2e6, path=io.BytesIO())]
    for svg in svgs:
        assert drawn in svg


def test_names_are_data_through_the_commands(tmp_path, capsys):
    """The same through compare (which labels a network by its argument), fit's plot and the report."""
    name = NAMES[0]
    path = spec(tmp_path, name, file=f"{name}.toml")
    status, _, err = run(["compare", path, "mobilenet_v1", "-o", str(tmp_path / "c.html")], capsys)
    assert status == 0 and f"{name}.toml" in (tmp_path / "c.html").read_text(), err
    status, _, err = run(["fit", path, "--max-madds", "1G", "--alpha", "0.5:1:0.5", "--resolution", "16",
                          "--plot", str(tmp_path / "f.png"), "-o", str(tmp_path / "f.json")], capsys)
    assert status == 0 and (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG", err
    status, _, err = run(["report", path, "--no-fvcore", "-o", str(tmp_path / "r.html")], capsys)
    assert status == 0 and name in (tmp_path / "r.html").read_text(), err


# 10. Every MODEL form works everywhere ----------------------------------------------------------------------------

MODULE = textwrap.dedent("""
    import torch.nn as nn


    def build():
        return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(8, 10))
""")
PARAMS = 3 * 8 * 9 + 8 + 8 * 10 + 10          # the convolution and the linear layer, by hand


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    """The same small network in every form a MODEL can take (onnx and .pt2 when torch and onnx are here)."""
    torch = pytest.importorskip("torch")
    folder = tmp_path_factory.mktemp("forms")
    (folder / "hostmodule.py").write_text(MODULE)
    namespace = {}
    exec(MODULE, namespace)
    module = namespace["build"]().eval()
    x = torch.zeros(1, 3, 16, 16)
    torch.export.save(torch.export.export(module, (x,)), str(folder / "net.pt2"))
    found = {"file.py:factory": f"{folder / 'hostmodule.py'}:build", "module:factory": "hostmodule:build",
             ".pt2": str(folder / "net.pt2")}
    try:
        pytest.importorskip("onnx")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (x,), str(folder / "net.onnx"), dynamo=False)
        found[".onnx"] = str(folder / "net.onnx")
    except Exception:                      # no onnx, or no exporter: the other forms are still checked
        pass
    return folder, found


@pytest.fixture
def on_path(forms, monkeypatch):
    monkeypatch.syspath_prepend(str(forms[0]))
    return forms[1]


@pytest.mark.slow
@pytest.mark.parametrize("form", ["file.py:factory", "module:factory", ".pt2", ".onnx"])
def test_every_model_form_works_in_every_command(on_path, form, tmp_path, capsys):
    """`compare good.onnx mobilenet_v1` failed ("unknown model 'good.onnx:'"), `report x.onnx` failed unless
    --no-fvcore was given."""
    if form not in on_path:
        pytest.skip("onnx is not installed")
    model = on_path[form]
    size = [] if form in (".pt2", ".onnx") else ["--input", "3x16x16"]
    status, out, err = run(["table", model, *size, "--format", "json"], capsys)
    assert status == 0, err
    params = json.loads(out)["totals"]["params"]
    assert params == PARAMS - (0 if form != ".onnx" else 0)
    status, out, err = run(["sweep", model, *size], capsys)
    assert status == 0 and str(params) in out, err
    status, out, err = run(["fit", model, *size, "--max-params", "1M", "--resolution", "16", "--format", "json"],
                           capsys)
    assert status == 0 and json.loads(out)["front"][0]["params"] == params, err
    status, out, err = run(["advise", model, *size, "--format", "json"], capsys)
    assert status == 0 and json.loads(out)["totals"]["params"] == params, err
    saved = form in (".pt2", ".onnx")                 # a file path with settings after a colon, or a factory
    argument = f"{model}:resolution=16" if saved else model
    status, _, err = run(["compare", argument, "mobilenet_v1", "-o", str(tmp_path / "c.html")], capsys)
    assert status == 0, err
    if saved:
        status, _, err = run(["report", model, "-o", str(tmp_path / "r.html")], capsys)
        assert status == 0, err
        page = (tmp_path / "r.html").read_text()
        assert ("it does not apply to" in page and "ONNX graph" in page) == (form == ".onnx")
    status, _, err = run(["verify", model, *size], capsys)
    if form == ".onnx":
        assert "fvcore counts torch modules" in one_line(status, err)
    else:
        assert status in (0, 1), err


# 11. Big networks report in bounded time and size -----------------------------------------------------------------

@pytest.mark.slow          # one of the largest generated networks
def test_a_network_of_thousands_of_layers_is_summarised(tmp_path, capsys):
    """A spec of one block repeated thousands of times wrote a 131 MB page in 199 s, and its fvcore cross-check
    grew past 7.3 GB; now its stages and its costliest layers, and the cross-check says why it did not run."""
    path = spec(tmp_path, "long", repeats=300)
    result = costmodel.analyze(path)
    assert len(result.layers) > CROSS_CHECK_LAYERS > FULL
    start = time.perf_counter()
    status, _, err = run(["report", path, "-o", str(tmp_path / "r.html")], capsys)
    assert status == 0, err
    assert time.perf_counter() - start < 120
    page = (tmp_path / "r.html").read_text()
    assert len(page) < 2_000_000
    assert f"{len(result.layers):,} layers: too many to list one by one" in page
    # the stages: the first part of every node name, with their layer counts
    stages = {}
    for layer in result.layers:
        stages[layer.name.split(".")[0]] = stages.get(layer.name.split(".")[0], 0) + 1
    for stage, count in stages.items():
        assert re.search(rf"<td>{stage}</td><td class=\"num\" data-value=\"{count}\">", page), stage
    # the stages' table, then TOP rows of layers
    stage_rows, layer_rows = page.split('id="layers"')[1].split('id="kinds"')[0].split("<tbody>")[1:]
    assert stage_rows.count("<tr><td") == len(stages) and layer_rows.count("<tr><td") == TOP
    assert f"more than the {CROSS_CHECK_LAYERS:,} a report checks" in page


def test_verify_counts_the_tracer_in_its_memory_estimate():
    from costmodel.lowering.verify import TRACED_BYTES_PER_LAYER, memory_needed

    small = costmodel.analyze("mobilenet_v1")
    buffers = sum(2 * layer.output_shape.channels for layer in small.layers if layer.kind == "batchnorm")
    tensors = 4 * (small.totals["params"] + buffers + 3 * 224 * 224 + 4 * small.totals["peak_activation"])
    assert memory_needed(small) == tensors + TRACED_BYTES_PER_LAYER * len(small.layers)
