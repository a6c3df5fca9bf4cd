"""`costmodel sweep`: ranges, CSV, points equal `costmodel table` at the same setting, and bad ranges refused."""
import csv
import io
import json
import random

import pytest

import costmodel
import costmodel.design.sweep
from costmodel.sources.builder import GraphBuilder
from costmodel.engine.counting import plan_of
from costmodel.core.errors import CostModelError
from costmodel.ops import Conv2d, Flatten, Linear
from costmodel.core.scaling import Expanded, Scaled
from costmodel.design.sweep import FIELDS, parse_range, sweep

from helpers import run




def test_parse_range_is_exact_and_inclusive():
    assert parse_range("0.25:0.5:0.05", "alpha", False) == [0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
    assert parse_range("96:320:8", "resolution", True)[-1] == 320
    assert len(parse_range("0.25:1.4:0.001", "alpha", False)) == 1151
    assert parse_range("0.75", "alpha", False) == [0.75]


@pytest.mark.parametrize("text, message", [
    ("1:0.5:0.1", "range is reversed"), ("0.5:1:0", "step must be positive"), ("0.5:1:-0.1", "step must be positive"),
    ("a:b:c", "must be numbers"), ("1:2", "VALUE or START:STOP:STEP"), ("nan", "finite"),
    ("0:1e9:1", "more than the limit"),
])
def test_bad_ranges(text, message):
    with pytest.raises(CostModelError, match=message):
        parse_range(text, "alpha", False)
    with pytest.raises(CostModelError, match="whole numbers"):
        parse_range("96.5", "resolution", True)


def test_sweep_points_equal_table(capsys, tmp_path):
    target = tmp_path / "grid.csv"
    status, _, _ = run(["sweep", "mobilenet_v2", "--alpha", "0.25:1.4:0.05", "--resolution", "96:320:8",
                        "-o", str(target)], capsys)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert len(rows) == 24 * 29
    for row in random.Random(1).sample(rows, 6):
        status, out, _ = run(["table", "mobilenet_v2", "--alpha", row["alpha"], "--resolution", row["resolution"],
                              "--format", "csv"], capsys)
        (table,) = list(csv.DictReader(io.StringIO(out)))
        for key in ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes"):
            assert table[key] == row[key], (row["alpha"], row["resolution"], key)


def test_sweep_defaults_and_errors(capsys):
    status, out, _ = run(["sweep", "alexnet"], capsys)
    assert status == 0 and out.splitlines()[1].startswith("1.0,224,61100840,714188480,")
    status, _, err = run(["sweep", "alexnet", "--alpha", "0.5:1:0.5"], capsys)
    assert status == 2 and "no width multiplier" in err
    status, _, err = run(["sweep", "alexnet", "--resolution", "160:224:32"], capsys)
    assert status == 2 and "fixed input size" in err
    status, _, err = run(["sweep", "shufflenet_v2", "--alpha", "0.5:1:0.25"], capsys)
    assert status == 2 and "comes in alpha 0.5, 1, 1.5, 2 only, got 0.75" in err
    status, _, err = run(["sweep", "mobilenet_v1", "--alpha", "0:1:0.5"], capsys)
    assert status == 2 and "alpha must be in (0, 10]" in err
    status, _, err = run(["sweep", "mobilenet_v1", "--resolution", "1:3:1"], capsys)
    assert status == 0


def test_counts_past_two_to_the_63_stay_exact(tmp_path, capsys):
    """Two 20,000-wide 11x11 convolutions at alpha 10 (200,000 channels) on an 8192 x 8192 input: the mult-adds
    pass 2^63, and the sweep prints what the formula gives by hand, as `costmodel table` does."""
    spec = tmp_path / "huge.toml"
    spec.write_text('name = "huge"\nwidth_rule = "make_divisible"\n'
                    '[[layer]]\nop = "conv2d"\nout = 20000\nkernel = 11\n'
                    '[[layer]]\nop = "conv2d"\nout = 20000\nkernel = 11\n')
    by_hand = 121 * 3 * 200_000 * 8192 ** 2 + 121 * 200_000 * 200_000 * 8192 ** 2
    assert by_hand == 324_811_773_863_526_400_000 > 2 ** 63
    status, out, _ = run(["sweep", str(spec), "--alpha", "9.5:10:0.5", "--resolution", "8192"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and rows[1]["alpha"] == "10.0" and int(rows[1]["madds"]) == by_hand
    assert int(rows[1]["flops"]) == 2 * by_hand
    status, out, _ = run(["table", str(spec), "--alpha", "10", "--resolution", "8192", "--format", "json"], capsys)
    assert json.loads(out)["totals"]["madds"] == by_hand


def _equal_to_table(grid, model, batch=1, options=None, sample=None):
    names = ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")
    points = list(zip(grid.columns["alpha"].tolist(), grid.columns["resolution"].tolist(),
                      *(grid.columns[name].tolist() for name in names)))
    for alpha, resolution, *values in (random.Random(3).sample(points, sample) if sample else points):
        totals = costmodel.analyze(model, alpha=alpha, resolution=resolution, batch=batch, options=options).totals
        assert values == [totals[name] for name in names], (model, alpha, resolution)


@pytest.mark.parametrize("model", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "fd_mobilenet",
                                   "examples/mobilenet_v2_like.toml", "examples/inception_like.toml"])
def test_random_grids_equal_table(model):
    rng = random.Random(model)
    alphas = sorted({round(rng.uniform(0.2, 2.0), 3) for _ in range(7)})
    if model.endswith("inception_like.toml"):      # its residual adds widths that must round alike
        alphas = sorted({rng.choice([0.25, 0.5, 0.75, 1.0, 1.5, 2.0]) for _ in range(4)})
    resolutions = sorted({rng.randrange(64, 300) for _ in range(6)})
    for batch in (1, 3):
        _equal_to_table(sweep(model, alphas, resolutions, batch=batch), model, batch)


def test_rho_ranges_and_non_square_sizes(capsys):
    status, out, _ = run(["sweep", "mobilenet_v1", "--alpha", "0.5:1:0.5", "--rho", "0.5:1:0.25"], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [row["resolution"] for row in rows[:3]] == ["112", "168", "224"]
    assert [row["rho"] for row in rows[:3]] == ["0.5", "0.75", "1.0"]
    _, table, _ = run(["table", "mobilenet_v1", "--alpha", "0.5", "--rho", "0.75", "--format", "csv"], capsys)
    assert next(csv.DictReader(io.StringIO(table)))["madds"] == rows[1]["madds"]
    status, out, _ = run(["sweep", "mobilenet_v1", "--resolution", "160x224"], capsys)
    (row,) = list(csv.DictReader(io.StringIO(out)))
    _, table, _ = run(["table", "mobilenet_v1", "--resolution", "160x224", "--format", "csv"], capsys)
    assert row["resolution"] == "160x224" and next(csv.DictReader(io.StringIO(table)))["madds"] == row["madds"]
    status, _, err = run(["sweep", "mobilenet_v1", "--rho", "0.5", "--resolution", "224"], capsys)
    assert status == 2 and "not both" in err


def test_a_network_that_does_not_separate_is_counted_point_by_point():
    """A linear layer whose width is half its flattened input mixes alpha and the map size in one rounding: the
    grid engine cannot split it, and the sweep falls back to counting every point."""
    builder = GraphBuilder()
    builder.add("conv", Conv2d(Scaled(8, "make_divisible"), kernel=3, stride=2, padding=1))
    builder.add("flatten", Flatten())
    builder.add("fc", Linear(Expanded(0.5)))
    network = builder.build("mixed", base_resolution=32)
    assert plan_of(network).grid("costmodel") is None
    grid = sweep(network, [0.5, 1.0, 1.3], [31, 32, 64])
    _equal_to_table(grid, network)
    assert grid.columns["madds"][4] == 9 * 3 * 8 * 16 * 16 + (8 * 16 * 16) * (8 * 16 * 16 // 2)


def test_a_sweep_over_depth_equals_table_at_each_point(capsys):
    """Depth-major, then alpha, then resolution; each row equal to `costmodel table --depth`."""
    status, out, _ = run(["sweep", "efficientnet_b0", "--depth", "1:1.4:0.2", "--alpha", "0.5:1:0.5",
                          "--resolution", "192:224:32"], capsys)
    assert status == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:3] == ["depth", "alpha", "resolution"]
    assert [(row["depth"], row["alpha"], row["resolution"]) for row in rows[:5]] == [
        ("1.0", "0.5", "192"), ("1.0", "0.5", "224"), ("1.0", "1.0", "192"), ("1.0", "1.0", "224"),
        ("1.2", "0.5", "192")]
    assert len(rows) == 3 * 2 * 2
    for row in rows:
        totals = costmodel.analyze("efficientnet_b0", alpha=float(row["alpha"]), depth=float(row["depth"]),
                                   resolution=int(row["resolution"])).totals
        assert int(row["params"]) == totals["params"] and int(row["madds"]) == totals["madds"]
        assert int(row["peak_activation_bytes"]) == totals["peak_activation_bytes"]
    # the depth-1.2 rows at alpha 1.1 are B2's network
    grid = sweep("efficientnet_b0", [1.1], [260], depths=[1.2])
    assert grid.columns["madds"].tolist() == [costmodel.analyze("efficientnet_b2").totals["madds"]]
    status, _, err = run(["sweep", "ghostnet", "--depth", "1:2:1"], capsys)
    assert status == 2 and "has no repeated stages to scale" in err


def test_depth_on_the_command_line_and_in_spec_files(capsys, tmp_path):
    status, out, _ = run(["table", "mobilenet_v2", "--depth", "1.5", "--format", "json"], capsys)
    document = json.loads(out)
    assert status == 0 and document["depth"] == 1.5
    assert document["totals"]["params"] == costmodel.analyze("mobilenet_v2", depth=1.5).totals["params"]
    status, out, _ = run(["table", "mobilenet_v2", "--depth", "1.5"], capsys)
    assert "depth=1.5" in out.splitlines()[0]
    status, _, err = run(["table", "mobilenet_v2", "--depth", "0"], capsys)
    assert status == 2 and "depth must be in (0, 10]" in err
    # a spec's blocks scale: ir_r2 at depth 1.5 is 3 blocks, ir_r1 is 2
    spec = tmp_path / "net.toml"
    spec.write_text('name = "deep"\nresolution = 32\n[[layer]]\nname = "a"\nblock = "ir_r2_k3_s1_e2_c8"\n'
                    '[[layer]]\nname = "b"\nblock = "ir_r1_k3_s1_e2_c8"\n')
    names = {layer.name.split(".")[0] + "." + layer.name.split(".")[1]
             for layer in costmodel.analyze(str(spec), depth=1.5).layers}
    assert names == {"a.0", "a.1", "a.2", "b.0", "b.1"}
    flat = tmp_path / "flat.toml"
    flat.write_text('name = "flat"\n[[layer]]\nop = "conv2d"\nout = 8\n')
    status, _, err = run(["table", str(flat), "--depth", "2"], capsys)
    assert status == 2 and "depth scales the repeats of blocks, and this spec has none" in err


def _plain_csv(result):
    """The sweep's CSV written the plain way, row by row with Python's own str and repr."""
    lines = [",".join(result.header())]
    for index in range(result.points):
        row = []
        if result.depths is not None:
            row.append(repr(float(result.columns["depth"][index])))
        row.append(repr(float(result.columns["alpha"][index])))
        if result.rhos is not None:
            row.append(repr(float(result.columns["rho"][index])))
        row.append(str(result.columns["resolution"][index]))
        row += [str(int(result.columns[field][index])) for field in FIELDS]
        lines.append(",".join(row))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("tile", [1, 7, 16_384])
def test_the_csv_is_what_python_writes_row_by_row_across_tiles(tile, monkeypatch):
    monkeypatch.setattr(costmodel.design.sweep, "CSV_TILE", tile)
    grids = [sweep("mobilenet_v2", [0.35, 0.5, 1.0, 1.4], [96, 100, 224, 1000]),
             sweep("efficientnet_b0", [0.5, 1.0], rhos=[0.5, 1.0, 1.25], depths=[1.0, 1.5]),
             sweep("mobilenet_v1", [1.0], [(160, 224), (7, 9)])]
    for result in grids:
        assert result.csv() == _plain_csv(result)
        assert result.csv_bytes() == result.csv().encode("ascii")


def test_the_digits_of_every_length_and_zero():
    """Numbers of 1 to 19 digits, the four-digit group edges (9,999 / 10,000 / 99,999,999 / 100,000,000), zero in
    a group inside a number (10,000,000,001) and the largest int64."""
    import numpy as np

    from costmodel.design.sweep import _digit_bytes

    values = [0, 7, 10, 9_999, 10_000, 10_001, 99_999_999, 100_000_000, 10_000_000_001, 2**63 - 1]
    values += [10 ** k - 1 for k in range(1, 19)] + [10 ** k for k in range(1, 19)]
    table = _digit_bytes(np.asarray(values, dtype=np.int64), 19)
    assert [bytes(row).lstrip(b"\0").decode() for row in table] == [str(value) for value in values]
    assert all(b"\0" not in bytes(row).lstrip(b"\0") for row in table)


def test_sweep_takes_comma_lists_and_writes_json(capsys):
    import json

    from helpers import run

    status, out, err = run(["sweep", "mobilenet_v2", "--alpha", "0.35,0.5,1", "--resolution", "160,224:224:1"],
                           capsys)
    assert status == 0, err
    rows = out.splitlines()[1:]
    assert [row.split(",")[:2] for row in rows] == [[a, r] for a in ("0.35", "0.5", "1.0") for r in ("160", "224")]
    status, out, err = run(["sweep", "mobilenet_v2", "--alpha", "0.5,1", "--format", "json"], capsys)
    document = json.loads(out)
    assert status == 0 and document["columns"]["madds"][-1] == 300_774_272
    status, out, err = run(["sweep", "mobilenet_v2", "--alpha", "0.5,,1"], capsys)
    assert status == 2 and "--alpha has an empty item in its list" in err
