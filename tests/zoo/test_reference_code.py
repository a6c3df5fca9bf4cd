"""The transformer, hybrid and NAS networks of the zoo count what their reference implementations count: parameters,
fvcore's total and FlopCounterMode's total, measured on timm's models (``costmodel/data/papers/
reference_code_counts.csv``; timm needs torchvision, which does not import beside CI's torch, so the figures were
measured by hand in a separate environment and are facts here, like a paper's table)."""
import pytest

import costmodel
from costmodel.core.papers import load
from costmodel.sources.zoo import MODELS

ROWS = [row for row in load("reference_code_counts.csv").rows if row["model"] in MODELS]


def _options(text):
    return dict(pair.split("=", 1) for pair in text.split(";") if pair)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: f"{row['model']}-{row['alpha']}-{row['resolution']}-"
                                                     f"{row['options']}")
def test_counts_equal_the_reference_code(row):
    model, resolution, options = row["model"], int(row["resolution"]), _options(row["options"])
    for convention in ("fvcore", "flop_counter"):
        if not row[convention]:
            continue
        totals = costmodel.analyze(model, alpha=float(row["alpha"]), resolution=resolution, convention=convention,
                                   options=options).totals
        assert totals["params"] == int(row["params"])
        assert totals["flops"] == int(row[convention]), convention


def test_the_table_covers_the_new_zoo():
    measured = {row["model"] for row in load("reference_code_counts.csv").rows}
    assert {"vit_tiny", "mobilevit_xxs", "mobilevit_xs", "mobilevit_s", "efficientnet_b0", "efficientnet_b1",
            "efficientnet_b2", "efficientnet_b3", "mnasnet_a1", "ghostnet", "mobilenet_v4_conv_small",
            "mobilenet_v4_hybrid_medium", "efficientformer_l1"} <= set(MODELS) & measured
