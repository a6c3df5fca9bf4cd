"""MobileNetV2: inverted residuals with linear bottlenecks.

Source: M. Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", arXiv:1801.04381 (v4),
Table 2. Layer for layer as the reference implementation torchvision ``models/mobilenetv2.py`` (node names are its
module paths):

- widths ``make_divisible(c * alpha, 8)``; the last 1x1 layer ``make_divisible(1280 * max(1, alpha), 8)`` (never
  thinned below 1280);
- a bottleneck with expansion t: 1x1 to ``int(round(M * t))`` (M the block's rounded input width) + BN + ReLU6,
  3x3 depthwise (the stride) + BN + ReLU6, linear 1x1 to N + BN; the 1x1 expansion is absent when t = 1;
  a residual add when the stride is 1 and the rounded M = N (so it can appear or vanish with alpha);
- head: 1x1 to 1280 + BN + ReLU6, global average pool, dropout 0.2, fully connected to 1000 with bias.
"""
from __future__ import annotations

from typing import Any

from ..builder import TORCHVISION, GraphBuilder, classifier, conv_bn_act, inverted_residual, pooled
from ...core.ir import Network
from ...ops import Dropout
from ...core.scaling import Expanded, Scaled, scaled_repeats
from .entry import ModelEntry

SOURCE = "Sandler et al. 2018 (arXiv:1801.04381), Table 2; torchvision mobilenetv2.py"

# Table 2, one row per line: (input, operator, t, c, n, s).
TABLE_2: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("224x224x3", "conv2d 3x3", None, 32, 1, 2),
    ("112x112x32", "bottleneck", 1, 16, 1, 1),
    ("112x112x16", "bottleneck", 6, 24, 2, 2),
    ("56x56x24", "bottleneck", 6, 32, 3, 2),
    ("28x28x32", "bottleneck", 6, 64, 4, 2),
    ("14x14x64", "bottleneck", 6, 96, 3, 1),
    ("14x14x96", "bottleneck", 6, 160, 3, 2),
    ("7x7x160", "bottleneck", 6, 320, 1, 1),
    ("7x7x320", "conv2d 1x1", None, 1280, 1, 1),
    ("7x7x1280", "avgpool 7x7", None, None, 1, None),
    ("1x1x1280", "conv2d 1x1", None, "k", None, None),   # the classifier: a fully connected layer to k classes
)


def _width(channels: int) -> Scaled:
    return Scaled(channels, "make_divisible")


def mobilenet_v2(num_classes: int = 1000, depth: float = 1.0) -> Network:
    """MobileNetV2 (Table 2) with a ``num_classes``-way classifier; at ``depth``, each row's n blocks become
    ``ceil(depth x n)`` (timm's ``_scale_stage_depth``)."""
    builder = GraphBuilder()
    rows = iter(TABLE_2)
    _, _, _, stem, _, stem_stride = next(rows)
    last = conv_bn_act(builder, "features.0", _width(stem), kernel=3, stride=stem_stride, activation="relu6",
                       names=TORCHVISION)
    block = 1
    for _, operator, t, c, n, s in rows:
        if operator != "bottleneck":
            break
        for repeat in range(scaled_repeats(n, depth)):
            expansion = None if t == 1 else Expanded(t)
            last = inverted_residual(builder, f"features.{block}", last, _width(c), expansion,
                                     stride=s if repeat == 0 else 1)
            block += 1
    conv_bn_act(builder, f"features.{block}", Scaled(1280, "make_divisible_head"), kernel=1,
                activation="relu6", names=TORCHVISION)
    classifier(builder, num_classes, "classifier.1", pooled("pool", ("classifier.0", Dropout(0.2))))
    return builder.build("mobilenet_v2", source=SOURCE, depth=depth,
                         description="MobileNetV2: 17 inverted residual bottlenecks (Table 2)")


ENTRIES = (
    ModelEntry("mobilenet_v2", mobilenet_v2,
               "MobileNetV2: inverted residuals, linear bottlenecks, ReLU6; head 1280 * max(1, alpha)",
               SOURCE, accepts_depth=True),
)
