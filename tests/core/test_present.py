"""One presentation layer (``present.render``): every result in every format, the same ``--format`` on every
command, and every result's data as a DataFrame (``to_frame``)."""
import csv
import io
import json

import pytest

import costmodel
from costmodel.latency.bench import Benchmark, LayerTiming
from costmodel.latency.protocol import measured
from costmodel.design.fit import search
from costmodel.cli import cli
from costmodel.core.errors import CostModelError
from costmodel.present import FORMATS, render
from costmodel.reproduce import reproductions
from costmodel.design.sweep import sweep
from costmodel.lowering.verify import LayerCheck, Verification

from helpers import run


def _benchmark():
    # runs in time order, cut into two windows: conv's minima 2.0 and 2.2, fc's 0.5 and 0.5, the whole's 3.0 and 3.3
    layers = (LayerTiming("conv", "conv", measured([2.0, 2.4, 2.2, 2.6], 2)),
              LayerTiming("fc", "linear", measured([0.5, 0.6, 0.5, 0.7], 2)))
    # the layers summed run by run: 2.5, 3.0, 2.7, 3.3
    return Benchmark("toy", 1.0, (32, 32), 1, 1, 5, 4, 2, 2, False, "2.13.0", measured([3.0, 3.5, 3.3, 3.4], 2),
                     layers, measured([2.5, 3.0, 2.7, 3.3], 2))


def _verification():
    layers = (LayerCheck("conv", "conv", 100, 100, 10, 10), LayerCheck("fc", "linear", 40, 42, 5, 5))
    return Verification("toy", 1.0, (32, 32), "fvcore", layers, 140, 142, 15, 15, {"aten::relu": 2})


def _results():
    return {
        "analysis": costmodel.analyze("mobilenet_v1", alpha=0.5),
        "front": search("mobilenet_v1", {"madds": 150_000_000}, [0.5, 0.75, 1.0], [128, 160, 192, 224], [1.0]),
        "benchmark": _benchmark(),
        "verification": _verification(),
        "page": reproductions("mobilenet_v1", "8")[0],
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_result_renders_in_every_format(fmt):
    for name, result in _results().items():
        text = render(result, fmt)
        assert text.endswith("\n") and text.strip(), name
        if fmt == "json":
            assert json.loads(text) == json.loads(json.dumps(result.to_dict())), name
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(text)))
            assert len({len(row) for row in rows}) == 1 and len(rows) >= 2, name


def test_the_csv_and_frame_of_each_result_hold_its_rows():
    results = _results()
    # the verification: two layers; the benchmark: the whole network, two layers, and the whole's minimum 3.0 less
    # the layers' 2.0 + 0.5
    assert len(results["verification"].to_frame()) == 2 and list(results["verification"].to_frame()["agrees"]) == \
        [True, False]
    frame = results["benchmark"].to_frame()
    assert list(frame["name"]) == ["(whole network)", "conv", "fc", "(between layers)"]
    assert list(frame["min_ms"]) == [3.0, 2.0, 0.5, 0.5]
    assert list(frame["spread"])[:3] == pytest.approx([0.1, 0.1, 0.0])      # 3.3 / 3.0, 2.2 / 2.0, 0.5 / 0.5
    front = results["front"]
    assert len(front.to_frame()) == len(front.rows) and front.frame().equals(front.to_frame())
    page = results["page"]
    assert len(page.to_frame()) == len(page.table_view().rows)
    grid = sweep("mobilenet_v1", [0.5, 1.0], [128, 224])
    frame = grid.to_frame()
    assert list(frame.columns) == list(grid.header()) and len(frame) == 4
    assert list(frame["madds"]) == [costmodel.analyze("mobilenet_v1", alpha=a, resolution=r).totals["madds"]
                                    for a in (0.5, 1.0) for r in (128, 224)]


def test_a_sweep_is_csv_or_json():
    grid = sweep("mobilenet_v1", [0.5, 1.0], [128, 224])
    assert render(grid, "csv") == grid.csv()
    assert json.loads(render(grid, "json"))["columns"]["resolution"] == [128, 224, 128, 224]
    with pytest.raises(CostModelError, match="a sweep is CSV or JSON"):
        render(grid, "text")


def test_a_bad_format_or_result_is_one_line():
    with pytest.raises(CostModelError, match="^format must be one of text, csv, json, markdown, got 'xml'"):
        render(_benchmark(), "xml")
    with pytest.raises(CostModelError, match="^result must be a costmodel result"):
        render({"madds": 1}, "text")
    with pytest.raises(CostModelError, match="CSV holds one table"):
        render([_results()["front"]] * 2, "csv")


def test_format_means_the_same_on_every_command_that_takes_it():
    def choices(command):
        (option,) = [p for p in cli.commands[command].params if p.name == "fmt"]
        return tuple(option.type.choices)

    for command in ("table", "verify", "bench", "reproduce"):
        assert choices(command) == FORMATS, command
    assert choices("fit") == FORMATS + ("html",)


def test_fit_in_markdown_and_a_reproduction_in_json_on_the_command_line(capsys):
    status, out, err = run(["fit", "mobilenet_v1", "--max-madds", "150M", "--depth", "1", "--format", "markdown"],
                           capsys)
    assert status == 0 and out.startswith("# costmodel fit: mobilenet_v1\n") and "| alpha | resolution |" in out
    status, out, err = run(["reproduce", "mobilenet_v1", "--table", "8", "--format", "json", "--no-write"], capsys)
    document = json.loads(out)
    assert status == 0 and document["paper"] == "mobilenet_v1" and document["table"] == "8"
    assert document["rows"] and len(document["columns"]) == len(document["rows"][0])


def test_several_tables_are_not_one_csv_on_the_command_line(capsys):
    status, out, err = run(["reproduce", "mobilenet_v1", "--format", "csv", "--no-write"], capsys)
    assert status == 2 and out == "" and "name one with --table N" in err
    status, out, err = run(["reproduce", "mobilenet_v1", "--table", "8", "--format", "csv", "--no-write"], capsys)
    rows = list(csv.reader(io.StringIO(out)))
    assert status == 0 and rows[0][:2] == ["row", "costmodel setting"] and len(rows) > 2


def test_a_wide_table_is_shown_in_parts_within_the_width():
    from costmodel.core.formatting import Table

    table = Table(("row", "a", "b", "paper x", "x", "paper y", "y"))
    table.add("first", "1" * 30, "2" * 30, "3" * 20, "4" * 20, "5" * 20, "6" * 20)
    lines = table.text_within(100, starts=[3, 5]).splitlines()
    assert max(len(line) for line in lines) <= 100
    # parts: (row, a, b), (row, paper x, x, paper y, y): each repeats the row's name, a group kept together
    titles = [line.split() for line in lines if line.startswith("row")]
    assert titles == [["row", "a", "b"], ["row", "paper", "x", "x", "paper", "y", "y"]]
    assert table.text_within(1000) == table.text()


def test_a_column_too_wide_beside_the_first_is_shown_alone():
    from costmodel.core.formatting import Table

    table = Table(("row", "setting", "x"), align=("l", "l", "r"))
    table.add("r" * 30, "s" * 80, "7")
    table.add("q", "t", "8")
    parts = table.text_within(100).split("\n\n")
    assert [part.splitlines()[0].split() for part in parts] == [["setting"], ["row", "x"]]
    assert parts[0].splitlines()[2:] == ["s" * 80, "t"]               # the rows in their order
    assert max(len(line) for line in "\n".join(parts).splitlines()) <= 100


def test_reproductions_keep_within_100_columns(capsys):
    # MobileNetV1 Table 8 is 230 columns wide in one table; its text now comes in three parts of at most 100
    for paper in ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3", "shufflenet_v1", "xception", "efficientnet",
                  "mobilevit"):
        status, out, err = run(["reproduce", paper], capsys)
        assert status == 0 and max(len(line) for line in out.splitlines()) <= 100, paper
    status, out, err = run(["reproduce", "mobilenet_v1", "--table", "8"], capsys)
    assert out.count("row                paper") == 2 and "1.0 MobileNet-224  mobilenet_v1, alpha=1, 224x224" in out
