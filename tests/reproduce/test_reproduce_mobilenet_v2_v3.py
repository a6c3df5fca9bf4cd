"""MobileNetV2 / V3 reproductions: agreements where the counts agree, and each explanation's numbers pinned."""
from pathlib import Path

import pytest

from costmodel.present.reproductions import markdown
from costmodel.reproduce import report_path, reproductions

ROOT = Path(__file__).resolve().parents[2]


def rows(paper, table):
    (reproduction,) = reproductions(paper, table)
    return {row.label: row for row in reproduction.rows}


def test_v2_table4():
    table = rows("mobilenet_v2", "4")
    assert "NasNet-A" not in table
    assert all(f.agrees for f in table["MobileNetV2"].figures[:1])
    assert "3.471M, which agrees: the paper leaves BatchNorm out" in table["MobileNetV2"].note
    v1 = table["MobileNetV1"]
    assert not v1.figures[0].agrees and v1.figures[0].exact == 568_740_352
    # BatchNorm as one multiply-add per element: 5,042,688 more (Table 1's conv outputs) -> 573.78M, still not 575
    assert "adds 5,042,688 (573.78M)" in v1.note
    wide = table["MobileNetV2 (1.4)"]
    assert [f.exact for f in wide.figures] == [582_195_824, 6_108_776]
    assert "582.20M and 6.06M without BatchNorm" in wide.note
    shuffle = table["ShuffleNet (x2)"]
    assert shuffle.figures[0].agrees                     # 524.05M, printed 524 (ShuffleNet 2x, g = 3)


def test_reference_checkpoint_table_agrees_for_every_mobilenet_v2():
    table = rows("mobilenet_v2", "slim")
    v2 = [row for label, row in table.items() if label.startswith("mobilenet_v2 ")]
    assert len(v2) == 22 and all(f.agrees for row in v2 for f in row.figures)
    # 1.0 at 224: 300,774,272 + 1,280 (the 1001st class) MACs; 3,470,760 + 1,281 params without BatchNorm
    assert [f.exact for f in table["mobilenet_v2 1.0 224"].figures] == [300_775_552, 3_472_041]
    assert all(f.agrees for f in table["mobilenet_v3_large 0.75 224"].figures)
    small = table["mobilenet_v3_small 1.0 224"]
    assert small.figures[1].agrees and not small.figures[0].agrees
    assert "the code's 1024 gives 2.53M" in small.note


def test_v3_table3():
    table = rows("mobilenet_v3", "3")
    assert table["V3-Large 1.0"].figures[0].exact == 216_589_760 and "217M" in table["V3-Large 1.0"].note
    assert all(f.agrees for f in table["V3-Large 0.75"].figures)
    assert all(f.agrees for f in table["V3-Small 0.75"].figures)
    small = table["V3-Small 1.0"]
    assert small.figures[0].exact == 56_913_856 and small.figures[1].agrees
    assert "56.51M with the code's 1024; the 9.1M gap to 66M" in small.note


def test_v2_table3_memory():
    table = rows("mobilenet_v2", "3")
    v1 = [table[f"{size} MobileNetV1"] for size in ("112x112", "56x56", "28x28", "14x14", "1x1", "max")]
    assert all(f.agrees for row in v1 for f in row.figures)
    assert table["112x112 MobileNetV1"].figures[1].exact == 112 * 112 * 64 * 2
    seven = table["7x7 MobileNetV1"]
    assert seven.figures[0].agrees and not seven.figures[1].agrees
    assert "1.98 times one 1024-channel 7x7 tensor (100.4 kB)" in seven.note
    for size in ("112x112", "7x7", "1x1", "max"):
        assert all(f.agrees for f in table[f"{size} MobileNetV2"].figures), size
    assert "32-channel tensors are at 28x28" in table["56x56 MobileNetV2"].note
    assert "160-channel tensors are at 7x7" in table["14x14 MobileNetV2"].note
    for size in ("28x28", "14x14", "7x7"):
        assert "the column's widths are those of g = 2" in table[f"{size} ShuffleNet_2x_g3"].note


@pytest.mark.parametrize("paper", ["mobilenet_v2", "mobilenet_v3"])
def test_committed_reports_are_up_to_date(paper):
    for reproduction in reproductions(paper):
        path = report_path(ROOT / "reports", reproduction)
        assert path.read_text(encoding="utf-8") == markdown(reproduction), f"{path} is stale"
