"""Published ImageNet top-1 accuracies of zoo settings, from the papers' tables in ``costmodel/data/papers/``: the
comparison pages place them, and ``fit`` sets each beside the setting of its front that is that very setting.

Each point names the zoo setting that the table's row describes, so the comparison plots place it at costmodel's
exact mult-adds and parameters (not at the printed ones). Where two tables give the same setting, the first source
below wins: the MobileNetV1 paper, the MobileNetV2 paper's Table 4, the MobileNetV3 paper's Table 3, the
reference checkpoint table, the EfficientNet paper's Table 2 (B0-B3 as widths, depths and resolutions of B0), then
MobileViT's.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from ..core.papers import load

_MOBILENET = re.compile(r"^(?P<alpha>[0-9.]+) MobileNet(-(?P<resolution>[0-9]+))?$")
_V1_OTHERS: dict[str, tuple[str, dict[str, Any]]] = {
    "Conv MobileNet": ("mobilenet_v1_conv", {}),
    "MobileNet": ("mobilenet_v1", {}),
    "Shallow MobileNet": ("mobilenet_v1_shallow", {}),
    "GoogleNet": ("googlenet", {"variant": "paper"}),
    "VGG 16": ("vgg16", {}),
    "AlexNet": ("alexnet", {"variant": "original"}),
    "Squeezenet": ("squeezenet1_0", {}),
}
_V2_TABLE_4: dict[str, tuple[str, float, dict[str, Any]]] = {
    "ShuffleNet (1.5)": ("shufflenet_v1", 1.5, {"groups": 3}),
    "ShuffleNet (x2)": ("shufflenet_v1", 2.0, {"groups": 3}),
    "MobileNetV2": ("mobilenet_v2", 1.0, {}),
    "MobileNetV2 (1.4)": ("mobilenet_v2", 1.4, {}),
}
_V3_TABLE_3: dict[str, tuple[str, float, dict[str, Any]]] = {
    "V3-Large 1.0": ("mobilenet_v3_large", 1.0, {}),
    "V3-Large 0.75": ("mobilenet_v3_large", 0.75, {"reference": "tfslim"}),
    "V3-Small 1.0": ("mobilenet_v3_small", 1.0, {"last_channel": 1280}),
    "V3-Small 0.75": ("mobilenet_v3_small", 0.75, {"reference": "tfslim", "last_channel": 1280}),
}


_MOBILEVIT = {"MobileViT-XXS (README)": "mobilevit_xxs", "MobileViT-XS": "mobilevit_xs", "MobileViT-S": "mobilevit_s"}
# the reference code's (width, depth, resolution) of each EfficientNet (efficientnet_params)
_EFFICIENTNET = {"EfficientNet-B0": (1.0, 1.0, 224), "EfficientNet-B1": (1.0, 1.1, 240),
                 "EfficientNet-B2": (1.1, 1.2, 260), "EfficientNet-B3": (1.2, 1.4, 300)}


@dataclass(frozen=True)
class PublishedPoint:
    """A published top-1 accuracy and the zoo setting it belongs to."""

    label: str
    model: str
    alpha: float
    resolution: int | None
    top1: float
    source: str
    options: tuple[tuple[str, Any], ...] = field(default=())
    depth: float = 1.0

    @property
    def setting(self) -> str:
        """The zoo setting the accuracy is placed at: ``"mobilenet_v1, alpha=0.75, 160x160"``."""
        depth = [f"depth={self.depth:g}"] if self.depth != 1.0 else []
        side = self.resolution or 224
        return ", ".join([self.model, f"alpha={self.alpha:g}", *depth, f"{side}x{side}",
                          *(f"{name}={value}" for name, value in self.options)])

    @property
    def key(self) -> tuple:
        return (self.model, self.alpha, self.resolution or 224, self.options) + \
            ((self.depth,) if self.depth != 1.0 else ())


@lru_cache(maxsize=1)
def published_points() -> tuple[PublishedPoint, ...]:
    """Every published accuracy the zoo can place, first source first, one per setting."""
    points: list[PublishedPoint] = []
    for row in load("mobilenet_v1_tables4to9.csv").rows:
        source = f"MobileNetV1 paper, Table {row['table']}"
        match = _MOBILENET.match(row["model"])
        if match:
            points.append(PublishedPoint(row["model"], "mobilenet_v1", float(match["alpha"]),
                                         int(match["resolution"] or 224), float(row["imagenet_top1_pct"]), source))
        else:
            model, options = _V1_OTHERS[row["model"]]
            points.append(PublishedPoint(row["model"], model, 1.0, None, float(row["imagenet_top1_pct"]), source,
                                         tuple(options.items())))
    for row in load("mobilenet_v2_table4_imagenet.csv").rows:
        if row["network"] in _V2_TABLE_4:
            model, alpha, options = _V2_TABLE_4[row["network"]]
            points.append(PublishedPoint(row["network"], model, alpha, None, float(row["top1_pct"]),
                                         "MobileNetV2 paper, Table 4", tuple(options.items())))
    for row in load("mobilenet_v3_table3_headline.csv").rows:
        if row["network"] in _V3_TABLE_3:
            model, alpha, options = _V3_TABLE_3[row["network"]]
            points.append(PublishedPoint(row["network"], model, alpha, None, float(row["top1_pct"]),
                                         "MobileNetV3 paper, Table 3", tuple(options.items())))
    for row in load("mobilenet_v2_tfslim_checkpoints.csv").rows:
        if row["model"] != "mobilenet_v2":
            continue
        points.append(PublishedPoint(f"V2 {row['alpha']}-{row['resolution']}", "mobilenet_v2", float(row["alpha"]),
                                     int(row["resolution"]), float(row["top1_pct"]), "TF-slim checkpoint table"))
    # EfficientNet B0-B3 (Table 2, the v5 text) as the width, depth and resolution of efficientnet_b0
    for row in load("new_networks_published.csv").rows:
        scaled = _EFFICIENTNET.get(row["model"])
        if scaled and row["arxiv"].startswith("1905.11946 (v5"):
            alpha, depth, resolution = scaled
            points.append(PublishedPoint(row["model"], "efficientnet_b0", alpha, resolution,
                                         float(row["imagenet_top1_pct"]), "EfficientNet paper, Table 2 (v5)",
                                         depth=depth))
    # MobileViT: the paper's XS and S figures, XXS from the authors' README (the paper prints no XXS accuracy)
    for row in load("new_networks_published.csv").rows:
        mobilevit = _MOBILEVIT.get(row["model"])
        if mobilevit and row["imagenet_top1_pct"]:
            points.append(PublishedPoint(row["model"], mobilevit, 1.0, int(row["resolution"]),
                                         float(row["imagenet_top1_pct"]), f"{row['paper']}, {row['table']}"))
    unique: dict[tuple, PublishedPoint] = {}
    for point in points:
        unique.setdefault(point.key, point)
    return tuple(unique.values())


def typed_option(model: str, name: str, value: Any) -> Any:
    """A model option's value as the option's own type (``"3"`` -> 3 for ShuffleNet's groups), for matching a
    published setting; a value the model does not know as an option is returned as it is."""
    from ..sources.zoo import MODELS

    entry = MODELS.get(model)
    for option in entry.options if entry else ():
        if option.name == name:
            return option.parse(model, value)
    return value
