"""`costmodel sweep`: ranges, CSV, points equal `costmodel table` at the same setting, and bad ranges refused."""
import csv
import io
import random

import pytest

from costmodel.errors import CostModelError
from costmodel.sweep import parse_range

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
