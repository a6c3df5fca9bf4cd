"""The ShuffleNet, ShuffleNet V2 and Xception reproductions: the printed figures, the exact counts, and the
derivations behind the rows that do not agree."""
from pathlib import Path

import pytest

import costmodel
from costmodel.present.reproductions import markdown
from costmodel.sources.builder import GraphBuilder
from costmodel.ops import BatchNorm, Concat, Conv2d
from costmodel.core.papers import load
from costmodel.reproduce import report_path, reproductions
from by_hand import shufflenet_v1_by_hand

ROOT = Path(__file__).resolve().parents[2]
TABLE_1_STAGES = {1: (144, 288, 576), 2: (200, 400, 800), 3: (240, 480, 960), 4: (272, 544, 1088),
                  8: (384, 768, 1536)}


def test_shufflenet_table_1_rows():
    (reproduction,) = reproductions("shufflenet_v1", "1")
    printed = next(row for row in load("shufflenet_v1_table1.csv").rows if row["layer"] == "Complexity_MFLOPs")
    assert [row.figures[0].printed for row in reproduction.rows] == [printed[f"g{g}"] for g in (1, 2, 3, 4, 8)]
    assert [row.figures[0].printed for row in reproduction.rows] == ["143", "140", "137", "133", "137"]
    for row, (g, stages) in zip(reproduction.rows, TABLE_1_STAGES.items()):
        assert row.figures[0].exact == shufflenet_v1_by_hand(24, stages, tuple(c // 4 for c in stages), g)[0]
    assert [row.figures[0].agrees for row in reproduction.rows] == [True, True, True, False, False]


def test_shufflenet_table_1_leaves_the_classifier_out():
    """Without the FC layer (c4 x 1000 mult-adds) every column rounds to the printed figure."""
    (reproduction,) = reproductions("shufflenet_v1", "1")
    without = [row.figures[0].exact - TABLE_1_STAGES[g][2] * 1000
               for row, g in zip(reproduction.rows, TABLE_1_STAGES)]
    assert without == [142_502_976, 140_036_512, 136_500_672, 133_251_776, 136_829_952]
    assert [round(count / 1e6) for count in without] == [143, 140, 137, 133, 137]
    assert "(1088 x 1000 = 1,088,000 mult-adds) the count is 133,251,776 = 133.25M, which agrees" in \
        reproduction.rows[3].note
    assert "(1536 x 1000 = 1,536,000 mult-adds) the count is 136,829,952 = 136.83M, which agrees" in \
        reproduction.rows[4].note
    assert not reproduction.rows[0].note


def _stage2_first_unit(branches: tuple[int, int], mid: int) -> int:
    """Mult-adds of Stage 2's stride-2 unit on 24x56x56 whose two branches end at ``branches`` channels:
    shortcut branch 3x3 dw stride 2 + 1x1, main branch 1x1 to ``mid`` + 3x3 dw stride 2 + 1x1."""
    builder = GraphBuilder()
    builder.add("proj.dw", Conv2d(None, 3, 2, 1, groups="depthwise"), "input")
    left = builder.add("proj.pw", Conv2d(branches[0], 1))
    builder.add("main.pw1", Conv2d(mid, 1), "input")
    builder.add("main.dw", Conv2d(None, 3, 2, 1, groups="depthwise"))
    builder.add("main.bn", BatchNorm())
    right = builder.add("main.pw2", Conv2d(branches[1], 1))
    builder.add("cat", Concat(), (left, right))
    return costmodel.analyze(builder.build("unit", input_channels=24, base_resolution=56)).totals["madds"]


@pytest.mark.parametrize("alpha, c, extra", [(0.5, 48, 0), (1.0, 116, 906_304), (1.5, 176, 3_211_264),
                                             (2.0, 244, 7_529_536)])
def test_shufflenet_v2_table_5_and_the_authors_stage_2(alpha, c, extra):
    """torchvision's first Stage 2 unit ends its branches at c/2 + c/2; the authors' code (megvii ShuffleNet-Series
    ShuffleNetV2/blocks.py: branch_proj keeps inp = 24, branch_main ends at oup - inp) at 24 + (c - 24)."""
    mid = c // 2
    assert _stage2_first_unit((24, c - 24), mid) - _stage2_first_unit((mid, mid), mid) == extra
    (reproduction,) = reproductions("shufflenet_v2", "5")
    row = reproduction.rows[[0.5, 1.0, 1.5, 2.0].index(alpha)]
    flops, weights = row.figures
    assert weights.agrees
    assert flops.exact == costmodel.analyze("shufflenet_v2", alpha=alpha).totals["madds"]
    assert flops.agrees == (extra == 0)
    if extra:
        assert f"= {extra:,} more mult-adds: {flops.exact + extra:,}" in row.note and row.note.endswith("agrees")
        assert abs((flops.exact + extra) / 1e6 - float(flops.printed)) <= 1


def test_xception_table_3():
    (reproduction,) = reproductions("xception", "3")
    (row,) = reproduction.rows
    assert row.figures[0].printed == "22.855952" and row.figures[0].exact == 22_855_952
    assert reproduction.agrees


@pytest.mark.parametrize("paper", ["shufflenet_v1", "shufflenet_v2", "xception"])
def test_committed_reports_are_up_to_date(paper):
    for reproduction in reproductions(paper):
        path = report_path(ROOT / "reports", reproduction)
        assert path.read_text(encoding="utf-8") == markdown(reproduction), (
            f"{path} is stale: run `{reproduction.command()}`")
