"""The ShuffleNet (V1) and ShuffleNet V2 papers' complexity tables, beside costmodel's exact counts.

Sources: Zhang et al., "ShuffleNet: An Extremely Efficient Convolutional Neural Network for Mobile Devices",
arXiv:1707.01083 (Table 1); Ma et al., "ShuffleNet V2: Practical Guidelines for Efficient CNN Architecture Design",
arXiv:1807.11164 (Table 5). Both papers' "FLOPs" are mult-adds. The printed figures are in
``costmodel/data/papers/``.
"""
from __future__ import annotations

from ..sources.analyze import Analysis, analyze
from ..core.papers import load
from ..sources.zoo.shufflenet_v1 import GROUPS, TABLE_1
from ..sources.zoo.shufflenet_v2 import ALPHAS, TABLE_5
from .core import Figure, Reproduction, Row

V1_CITATION = "Zhang et al. 2017, ShuffleNet, arXiv:1707.01083"
V2_CITATION = "Ma et al. 2018, ShuffleNet V2, arXiv:1807.11164"


def _classifier_madds(result: Analysis) -> int:
    return sum(layer.madds for layer in result.layers if layer.kind == "linear")


def v1_without_classifier(groups: int) -> tuple[int, int]:
    """ShuffleNet 1x with g = ``groups``: (mult-adds, mult-adds without the 1000-way FC layer)."""
    result = analyze("shufflenet_v1", options={"groups": groups})
    return result.totals["madds"], result.totals["madds"] - _classifier_madds(result)


def v1_table1() -> Reproduction:
    """ShuffleNet Table 1: complexity of ShuffleNet 1x for g = 1, 2, 3, 4, 8."""
    printed = next(row for row in load("shufflenet_v1_table1.csv").rows if row["layer"] == "Complexity_MFLOPs")
    rows = []
    for groups in GROUPS:
        result = analyze("shufflenet_v1", options={"groups": groups})
        figure = Figure("MFLOPs (mult-adds, M)", printed[f"g{groups}"], result.totals["madds"])
        note = ""
        if not figure.agrees:
            fc = _classifier_madds(result)
            without = Figure(figure.metric, figure.printed, figure.exact - fc)
            verdict = "agrees" if without.agrees else "does not agree either"
            stage4 = TABLE_1[4][5][GROUPS.index(groups)]
            note = (f"without the FC layer ({stage4} x 1000 = {fc:,} mult-adds) the count is "
                    f"{without.exact:,} = {without.exact / 1e6:.2f}M, which {verdict}: Table 1 leaves the "
                    "classifier out")
        rows.append(Row(f"ShuffleNet 1x (g = {groups})", f"shufflenet_v1, groups={groups}, alpha=1, 224x224",
                        (figure,), note=note))
    columns = ", ".join(f"{v1_without_classifier(g)[1] / 1e6:.2f}M" for g in GROUPS)
    return Reproduction(
        "shufflenet_v1", "1", "ShuffleNet paper, Table 1: ShuffleNet architecture and complexity",
        f"{V1_CITATION}, Table 1", tuple(rows),
        notes=("Widths and layers of the authors' code (megvii-model/ShuffleNet-Series, ShuffleNetV1): stem 24, "
               "stages 1/4-wide bottlenecks, Stage 2's first 1x1 conv ungrouped, fully connected layer without "
               "bias.",
               f"Without the 1000-way FC layer the five columns count {columns}: each rounds to the printed "
               "figure, so the printed complexities appear to leave the classifier out."))


def _millions(text: str) -> str:
    return text.rstrip("M")


def megvii_stage2_difference(alpha: float) -> int:
    """Mult-adds the authors' code (megvii ShuffleNet-Series ShuffleNetV2) adds over torchvision's layers.

    Its stride-2 units split the output as c_in + (c - c_in) instead of c/2 + c/2: the shortcut branch's 1x1 conv
    keeps the c_in input channels and the main branch's last 1x1 conv gives c - c_in. The two agree wherever
    c = 2 c_in (Stages 3 and 4); in Stage 2 (c_in = 24, h = w = 28, m = c/2) the code costs
    hw(24 * 24 + m(c - 24)) against torchvision's hw(24m + m * m), a difference of hw (m - 24)^2."""
    stage2 = next(row for row in TABLE_5 if row[0] == "Stage2")[5][ALPHAS.index(alpha)]
    return 28 * 28 * (stage2 // 2 - 24) ** 2


def v2_table5() -> Reproduction:
    """ShuffleNet V2 Table 5: FLOPs and weights of the four widths."""
    rows_by_layer = {row["layer"]: row for row in load("shufflenet_v2_table5.csv").rows}
    rows = []
    for alpha, column in zip(ALPHAS, ("x0_5", "x1_0", "x1_5", "x2_0")):
        result = analyze("shufflenet_v2", alpha=alpha)
        flops = Figure("FLOPs (mult-adds, M)", _millions(rows_by_layer["FLOPs"][column]), result.totals["madds"])
        weights = Figure("weights (M)", _millions(rows_by_layer["Num_of_weights"][column]),
                         result.totals["params"])
        note = ""
        if not flops.agrees:
            extra = megvii_stage2_difference(alpha)
            code = Figure(flops.metric, flops.printed, flops.exact + extra)
            verdict = "agrees" if code.agrees else "does not agree either"
            note = (f"the authors' code (megvii ShuffleNet-Series) splits Stage 2's first unit as 24 + (c - 24) "
                    f"channels instead of torchvision's c/2 + c/2, which costs 28^2 x (c/2 - 24)^2 = {extra:,} "
                    f"more mult-adds: {code.exact:,} = {code.exact / 1e6:.2f}M, which {verdict}")
        rows.append(Row(f"ShuffleNet v2 {alpha:g}x", f"shufflenet_v2, alpha={alpha:g}, 224x224", (flops, weights),
                        note=note))
    return Reproduction(
        "shufflenet_v2", "5", "ShuffleNet V2 paper, Table 5: overall architecture of ShuffleNet v2",
        f"{V2_CITATION}, Table 5", tuple(rows),
        notes=("Layers of torchvision's shufflenetv2.py (its documented num_params: 1,366,792, 2,278,604, "
               "3,503,624 and 7,393,996, which costmodel's weights equal); weights are torch's count, BatchNorm's "
               "gamma and beta included.",))


V1_TABLES = {"1": v1_table1}
V2_TABLES = {"5": v2_table5}
