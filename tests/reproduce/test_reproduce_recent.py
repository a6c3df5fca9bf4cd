"""The transformer, hybrid and searched networks' papers: printed figures beside costmodel's, the verdicts, and the
committed pages."""
from pathlib import Path

import pytest

from costmodel.present.reproductions import markdown
from costmodel.core.papers import load
from costmodel.reproduce import recent, report_path, reproductions

ROOT = Path(__file__).resolve().parents[2]
PAPERS = sorted(recent.TABLES)


@pytest.mark.parametrize("paper", PAPERS)
def test_committed_reports_are_up_to_date(paper):
    for reproduction in reproductions(paper):
        path = report_path(ROOT / "reports", reproduction)
        assert path.read_text(encoding="utf-8") == markdown(reproduction), (
            f"{path} is stale: run `{reproduction.command()}`")


@pytest.mark.parametrize("paper", PAPERS)
def test_every_figure_that_differs_is_explained(paper):
    for reproduction in reproductions(paper):
        for row in reproduction.rows:
            if not all(figure.agrees for figure in row.figures):
                assert row.note, (paper, row.label)


def _figures(paper):
    (reproduction,) = reproductions(paper)
    return {(row.label, figure.metric): figure for row in reproduction.rows for figure in row.figures}


def test_the_printed_figures_are_the_papers():
    printed = {row["model"]: row for row in load("new_networks_published.csv").rows}
    efficientnet = _figures("efficientnet")
    assert [efficientnet[(f"EfficientNet-B{i}", "params (M)")].printed for i in range(4)] == ["5.3", "7.8", "9.2", "12"]
    assert [efficientnet[(f"EfficientNet-B{i}", "mult-adds (G)")].printed for i in range(4)] == \
        ["0.39", "0.70", "1.0", "1.8"]
    mnasnet = _figures("mnasnet")
    assert mnasnet[("MnasNet-A1 (paper)", "mult-adds (M)")].printed == "312" == printed["MnasNet-A1"]["macs_m"]
    v4 = _figures("mobilenet_v4")
    assert v4[("MobileNetV4 Hybrid-M", "params (M)")].printed == "10.5"
    assert v4[("MobileNetV4 Conv-S", "mult-adds (G)")].printed == "0.2"


def test_verdicts():
    """Where the released code and the paper disagree, costmodel follows the code and says so."""
    efficientnet = _figures("efficientnet")
    assert not efficientnet[("EfficientNet-B1", "mult-adds (G)")].agrees              # 0.687 against 0.70
    assert efficientnet[("EfficientNet-B0", "mult-adds (G)")].agrees
    v4 = _figures("mobilenet_v4")
    assert not v4[("MobileNetV4 Hybrid-M", "params (M)")].agrees                      # 11.07M against 10.5M
    assert v4[("MobileNetV4 Hybrid-M", "mult-adds (G)")].agrees
    deit = _figures("deit")
    figure = deit[("DeiT-Ti (reprinted, MobileViT Table 11)", "mult-adds (G)")]
    assert figure.agrees and figure.exact == 1_253_683_200                             # attention included
    mobilevit = _figures("mobilevit")
    assert mobilevit[("MobileViT-XS (FLOPs at 224)", "mult-adds (G)")].exact == 772_340_288
    assert all(figure.agrees for figure in _figures("efficientformer").values())
    assert not _figures("ghostnet")[("GhostNet 1.3x (transcribed)", "mult-adds (M)")].agrees
