"""ShuffleNetV2's micro-benchmarks (Ma et al. 2018, arXiv:1807.11164, Section 2, Tables 1-4), the networks behind
its four guidelines, built as costmodel networks so that their counts are exact and their speed can be measured
here (``costmodel reproduce shufflenet_v2 --table 1|2|3|4``).

Every benchmark stacks one block ten times on a 56x56 input, at fixed FLOPs across the settings of a table (the
paper adjusts the widths to keep them equal):

- Table 1 (G1): a block of two 1x1 convolutions, c1 -> c2 then c2 -> c1, at c1:c2 = 1:1, 1:2, 1:6, 1:12.
- Table 2 (G2): a 1x1 group convolution c -> c with g = 1, 2, 4, 8 groups.
- Table 3 (G3): 1, 2 or 4 1x1 convolutions, in series or in parallel (Appendix Fig. 1).
- Table 4 (G4): ResNet's bottleneck unit (1x1, 3x3, 1x1 with ReLU and a shortcut), with the ReLU and/or the shortcut
  removed.

Where the paper leaves the structure open, the reading taken here is stated in ``INTERPRETATION``. The widths are
the paper's ARM widths (its single-thread CPU platform, like the one measured here); Tables 1 and 2 also print
columns "x2" and "x4", read here as every width multiplied by 2 and 4.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ..sources.builder import GraphBuilder
from ..core.ir import Network
from ..ops import Activation, Add, Conv2d

BLOCKS = 10
SIZE = 56

INTERPRETATION = {
    "1": "the x2 and x4 columns print no widths: read as the x1 widths multiplied by 2 and 4. The convolutions have "
         "no BatchNorm or activation (the paper names only the two 1x1 convolutions).",
    "2": "the x2 and x4 columns print no widths: read as the x1 widths multiplied by 2 and 4. At g = 8 the paper's "
         "c = 180 is not divisible by 8: 184 (the multiple of 8 nearest in FLOPs to the g = 1 row).",
    "3": "the paper prints the widths of the 1-fragment block only, and draws the others in its Appendix Fig. 1. "
         "Read here: n fragments of c' = round(c / sqrt(n)) channels each, so that n c'^2 = c^2 at equal FLOPs; in "
         "series they follow one another, in parallel they read the same input and their outputs are added; the "
         "whole stack runs at width c'.",
    "4": "the paper states neither the input size nor the bottleneck ratio: read as 56x56 and ResNet's ratio 4 "
         "(1x1 c -> c/4, 3x3 c/4 -> c/4, 1x1 c/4 -> c), ReLU after each convolution and after the add.",
}


@dataclass(frozen=True)
class Setting:
    """One row of a benchmark table: the printed setting, the width column, and the network costmodel builds."""

    table: str
    label: str           # as printed: "c1:c2 = 1:2", "g = 4", "2-fragment-series", "ReLU = yes; short-cut = no"
    column: str          # "x1" / "x2" / "x4" (Tables 1-2) or the printed c (Tables 3-4)
    network: Network


def _stack(name: str, block, channels: int) -> Network:
    builder = GraphBuilder()
    x = "input"
    for index in range(BLOCKS):
        x = block(builder, f"block{index}", x)
    return builder.build(name, input_channels=channels, base_resolution=(SIZE, SIZE))


def g1_network(c1: int, c2: int) -> Network:
    def block(builder: GraphBuilder, name: str, x: str) -> str:
        builder.add(f"{name}.expand", Conv2d(c2, 1), x)
        return builder.add(f"{name}.reduce", Conv2d(c1, 1))
    return _stack(f"g1_{c1}_{c2}", block, c1)


def g2_network(channels: int, groups: int) -> Network:
    def block(builder: GraphBuilder, name: str, x: str) -> str:
        return builder.add(f"{name}.conv", Conv2d(channels, 1, groups=groups), x)
    return _stack(f"g2_{channels}_g{groups}", block, channels)


def group_width(printed: int, groups: int, ungrouped: int) -> int:
    """``printed`` where ``groups`` divides it; otherwise the multiple of ``groups`` next to it whose FLOPs (c^2 / g)
    are nearest those of the ungrouped row (c^2). The paper prints c = 180 for g = 8 (ARM, x1), which 8 groups
    cannot divide: 184 here (184^2 / 8 = 4,232 against 64^2 = 4,096)."""
    if printed % groups == 0:
        return printed
    below = printed - printed % groups
    return min((below, below + groups), key=lambda c: abs(c * c / groups - ungrouped * ungrouped))


def fragment_width(channels: int, fragments: int) -> int:
    """c' with fragments x c'^2 = c^2 (rounded): the width of each of ``fragments`` 1x1 convolutions that together
    cost what one c -> c convolution costs."""
    return round(channels / math.sqrt(fragments))


def g3_network(channels: int, fragments: int, parallel: bool) -> Network:
    width = fragment_width(channels, fragments)

    def block(builder: GraphBuilder, name: str, x: str) -> str:
        if not parallel:
            for index in range(fragments):
                x = builder.add(f"{name}.conv{index}", Conv2d(width, 1), x)
            return x
        branches = [builder.add(f"{name}.conv{index}", Conv2d(width, 1), x) for index in range(fragments)]
        return builder.add(f"{name}.add", Add(), branches) if len(branches) > 1 else branches[0]

    kind = "parallel" if parallel else "series"
    return _stack(f"g3_{channels}_{fragments}_{kind}", block, width)


def g4_network(channels: int, relu: bool, shortcut: bool) -> Network:
    middle = channels // 4

    def block(builder: GraphBuilder, name: str, x: str) -> str:
        y = x
        for index, (width, kernel) in enumerate(((middle, 1), (middle, 3), (channels, 1))):
            y = builder.add(f"{name}.conv{index}", Conv2d(width, kernel, 1, kernel // 2), y)
            if relu and index < 2:
                y = builder.add(f"{name}.relu{index}", Activation("relu"))
        if shortcut:
            y = builder.add(f"{name}.add", Add(), (y, x))
        if relu:
            y = builder.add(f"{name}.relu", Activation("relu"))
        return y
    return _stack(f"g4_{channels}_relu{int(relu)}_shortcut{int(shortcut)}", block, channels)


# the paper's ARM widths (x1 column; Tables 3-4: its printed c)
G1_WIDTHS = {"c1:c2 = 1:1": (32, 32), "c1:c2 = 1:2": (22, 44), "c1:c2 = 1:6": (13, 78), "c1:c2 = 1:12": (9, 108)}
G2_WIDTHS = {1: 64, 2: 90, 4: 128, 8: 180}
G3_CHANNELS = (64, 128, 256)
G3_STRUCTURES = {"1-fragment": (1, False), "2-fragment-series": (2, False), "4-fragment-series": (4, False),
                 "2-fragment-parallel": (2, True), "4-fragment-parallel": (4, True)}
G4_CHANNELS = (32, 64, 128)
G4_SETTINGS = {"ReLU = yes; short-cut = yes": (True, True), "ReLU = yes; short-cut = no": (True, False),
               "ReLU = no; short-cut = yes": (False, True), "ReLU = no; short-cut = no": (False, False)}
MULTIPLIERS = {"x1": 1, "x2": 2, "x4": 4}


def settings(table: str) -> list[Setting]:
    """Every (row, column) of Table ``table`` with its network, rows in the paper's order."""
    if table == "1":
        return [Setting(table, label, column, g1_network(c1 * m, c2 * m))
                for label, (c1, c2) in G1_WIDTHS.items() for column, m in MULTIPLIERS.items()]
    if table == "2":
        return [Setting(table, f"g = {groups}", column,
                        g2_network(group_width(c * m, groups, G2_WIDTHS[1] * m), groups))
                for groups, c in G2_WIDTHS.items() for column, m in MULTIPLIERS.items()]
    if table == "3":
        return [Setting(table, label, str(c), g3_network(c, fragments, parallel))
                for label, (fragments, parallel) in G3_STRUCTURES.items() for c in G3_CHANNELS]
    if table == "4":
        return [Setting(table, label, str(c), g4_network(c, relu, shortcut))
                for label, (relu, shortcut) in G4_SETTINGS.items() for c in G4_CHANNELS]
    raise KeyError(table)


TABLES = ("1", "2", "3", "4")
