"""The MobileNetV1 paper's Tables 3, 6 and 7 from costmodel's passes, against the published figures."""
from fractions import Fraction
from pathlib import Path

import pytest

from costmodel.present.reproductions import markdown
from costmodel.core.papers import load
from costmodel.reproduce import report_path, reproductions
from costmodel.reproduce.core import Figure

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("table", ["3", "6", "7"])
def test_every_printed_figure_agrees_within_one_unit(table):
    (reproduction,) = reproductions("mobilenet_v1", table)
    assert len(reproduction.rows) == 4
    for row in reproduction.rows:
        for figure in row.figures:
            assert figure.agrees, (row.label, figure.metric, figure.printed, figure.exact)
    assert reproduction.agrees


def test_rows_carry_the_published_figures():
    printed = [(r["model"], r["million_mult_adds"], r["million_params"])
               for r in load("mobilenet_v1_tables4to9.csv").rows if r["table"] in ("6", "7")]
    shown = [(row.label, row.figures[0].printed, row.figures[1].printed)
             for table in ("6", "7") for row in reproductions("mobilenet_v1", table)[0].rows]
    assert shown == printed
    assert printed[:4] == [("1.0 MobileNet-224", "569", "4.2"), ("0.75 MobileNet-224", "325", "2.6"),
                           ("0.5 MobileNet-224", "149", "1.3"), ("0.25 MobileNet-224", "41", "0.5")]


def test_table_3_exact_counts_by_hand():
    (reproduction,) = reproductions("mobilenet_v1", "3")
    exact = [[figure.exact for figure in row.figures] for row in reproduction.rows]
    assert exact == [
        [3 * 3 * 512 * 512 * 14 * 14, 3 * 3 * 512 * 512],                     # 462.4M, 2.36M
        [3 * 3 * 512 * 14 * 14 + 512 * 512 * 14 * 14, 3 * 3 * 512 + 512 * 512],  # 52.3M, 0.27M
        [3 * 3 * 384 * 14 * 14 + 384 * 384 * 14 * 14, 3 * 3 * 384 + 384 * 384],  # alpha 0.75: M = N = 384
        [3 * 3 * 384 * 10 * 10 + 384 * 384 * 10 * 10, 3 * 3 * 384 + 384 * 384],  # rho 0.714: D_F = 10
    ]


def test_tables_6_and_7_exact_counts():
    six = reproductions("mobilenet_v1", "6")[0]
    assert [row.figures[0].exact for row in six.rows] == [568_740_352, 325_400_448, 149_497_088, 41_030_272]
    seven = reproductions("mobilenet_v1", "7")[0]
    assert [row.figures[0].exact for row in seven.rows] == [568_740_352, 418_121_728, 290_675_200, 186_400_768]
    assert "without BatchNorm's 21,888 gamma and beta: 4,210,088 (also agrees)" in six.rows[0].note


def test_figure_tolerance_is_one_unit_of_the_last_printed_digit():
    assert Figure("m", "569", 568_740_352).agrees              # rounded
    assert Figure("m", "290", 290_675_200).agrees              # truncated: 0.68 below one unit
    assert not Figure("m", "4866", 4_867_293_184).agrees       # 1.29 units off
    assert Figure("p", "0.27", 266_752).agrees
    assert not Figure("p", "0.27", 255_000).agrees
    assert Figure("m", "52.3", 52_283_392).difference_text() == "-0.017"


def test_committed_reports_are_up_to_date():
    for reproduction in reproductions("mobilenet_v1"):
        path = report_path(ROOT / "reports", reproduction)
        assert path.read_text(encoding="utf-8") == markdown(reproduction), (
            f"{path} is stale: run `{reproduction.command()}`")


def test_unknown_paper_or_table():
    from costmodel.core.errors import CostModelError
    with pytest.raises(CostModelError, match="no reproductions for 'resnet'"):
        reproductions("resnet")
    with pytest.raises(CostModelError, match="has no reproduction of table '12'"):
        reproductions("mobilenet_v1", "12")


def test_table_2_shares_and_the_misprint():
    (reproduction,) = reproductions("mobilenet_v1", "2")
    rows = {row.label: row for row in reproduction.rows}
    # mult-add shares: 539,492,352, 17,385,984, 10,838,016, 1,024,000 of 568,740,352 (Table 1 by hand)
    assert [rows[label].figures[0].exact // 100 for label in ("Conv 1x1", "Conv DW 3x3", "Conv 3x3",
                                                               "Fully Connected")] == [
        539_492_352, 17_385_984, 3 * 3 * 3 * 32 * 112 * 112, 1024 * 1000]
    conv = rows["Conv 3x3"]
    assert not conv.figures[0].agrees and conv.figures[1].agrees
    assert "printed 1.19%, counted 1.9056%" in conv.note and "transposed" in conv.note
    assert all(figure.agrees for label, row in rows.items() if label != "Conv 3x3" for figure in row.figures)
    # parameter shares use weights only: 4,209,088 = 4,231,976 - 1,000 FC biases - 21,888 BatchNorm
    assert rows["Conv 1x1"].figures[1].scale == 4_231_976 - 1_000 - 21_888


def test_table_4_conv_mobilenet_is_explained():
    (reproduction,) = reproductions("mobilenet_v1", "4")
    conv, separable = reproduction.rows
    assert not conv.figures[0].agrees and conv.figures[1].agrees and all(f.agrees for f in separable.figures)
    # 4,867,293,184 - 1,024,000 FC = 4,866,269,184: 4866.27M matches the printed 4866
    assert conv.figures[0].exact - 1024 * 1000 == 4_866_269_184
    assert "4866.27M, which the printed 4866 matches" in conv.note
    assert "(567.72M without it)" in conv.note


def test_table_5_agrees():
    (reproduction,) = reproductions("mobilenet_v1", "5")
    assert reproduction.agrees
    assert [row.figures[0].exact for row in reproduction.rows] == [325_400_448, 307_323_392]


def test_every_disagreement_carries_a_note():
    from costmodel.reproduce import PAPERS, Reproduction
    for paper in PAPERS:
        for reproduction in reproductions(paper):
            if not isinstance(reproduction, Reproduction):       # the latency page: estimates, not counts
                continue
            for row in reproduction.rows:
                if not all(figure.agrees for figure in row.figures):
                    assert row.note, (paper, reproduction.table, row.label)


def test_tables_8_and_9_comparisons_are_explained():
    eight = {row.label: row for row in reproductions("mobilenet_v1", "8")[0].rows}
    nine = {row.label: row for row in reproductions("mobilenet_v1", "9")[0].rows}
    vgg = eight["VGG 16"]
    # VGG16 configuration D by hand: 13 convolutions 15,346,630,656 + FC 25088*4096 + 4096*4096 + 4096*1000
    fc = 25088 * 4096 + 4096 * 4096 + 4096 * 1000
    assert vgg.figures[0].exact == 15_346_630_656 + fc and vgg.figures[1].agrees
    assert "the convolutions alone count 15,346.6M (the three FC layers 123.6M), which agrees" in vgg.note
    squeeze = nine["Squeezenet"]
    assert squeeze.figures[1].agrees and not squeeze.figures[0].agrees
    assert "832.67M mult-adds" in squeeze.note and "1665.3M, agrees with 1700" in squeeze.note
    assert all(f.agrees for f in nine["AlexNet"].figures)        # 724.4M and 60.97M: 720 and 60 as printed
    assert "1,320,648, which agrees" in nine["0.50 MobileNet-160"].note
    google = eight["GoogleNet"]
    assert not google.figures[0].agrees and "no variant gives 1550M" in google.note


def test_trailing_zeros_as_rounding():
    assert Figure("m", "720", 724_406_816, zeros_rounded=True).unit == 10
    assert Figure("m", "15300", 1, zeros_rounded=True).unit == 100
    assert Figure("m", "1.25", 1, zeros_rounded=True).unit == Fraction(1, 100)
