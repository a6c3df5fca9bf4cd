"""The Xception paper's parameter count, beside costmodel's exact count.

Source: Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", arXiv:1610.02357 (Table 3, size
and training speed). The printed figure is in ``costmodel/data/papers/other_networks.csv``.
"""
from __future__ import annotations

from ..sources.analyze import analyze
from ..core.papers import load
from .core import Figure, Reproduction, Row

CITATION = "Chollet 2016, Xception, arXiv:1610.02357"


def table3() -> Reproduction:
    """Xception Table 3: Xception's parameter count (the variant without the optional fully connected layers)."""
    table = {row["network"]: row for row in load("other_networks.csv").rows}
    printed, inception = table["Xception"], table["Inception V3"]
    result = analyze("xception")
    batchnorm = sum(layer.params for layer in result.layers if layer.kind == "batchnorm")
    rows = (Row("Xception", "xception, 299x299, 1000 classes",
                (Figure("parameters (M)", printed["million_params"], result.totals["params"]),)),)
    return Reproduction(
        "xception", "3", "Xception paper, Table 3: size comparison", f"{CITATION}, Table 3", rows,
        notes=("Layers of Keras' applications/xception.py (no biases in the convolutions, a biased 1000-way "
               "classifier); the count includes BatchNorm's gamma and beta "
               f"({batchnorm:,}), as Keras' trainable count does; its moving means and variances are not "
               "parameters.",
               f"The table's Inception V3 row ({inception['million_params']}M parameters) is not reproduced "
               "here."))


TABLES = {"3": table3}
