"""The blocks and stages of a network, found from its node names and shapes: what a what-if edit changes.

A paper's table lists a network as stages of repeated blocks (MobileNetV2, Table 2: "bottleneck, t = 6, c = 24,
n = 2, s = 2"); the IR is a flat list of nodes. The structure is found back without knowing the model:

- a **block** is the run of nodes that share a numbered name prefix, as torch names the children of a
  ``Sequential`` or ``ModuleList`` (``features.3`` in torchvision's MobileNetV2, ``layer2.1`` in ResNet,
  ``blocks.2.1`` in timm's EfficientNet: stage 2, block 1) or as TF-slim and Keras number layers
  (``Conv2d_3_depthwise`` and ``Conv2d_3_pointwise`` make block ``Conv2d_3``; Xception's ``block4_sepconv1`` is in
  ``block4``). A block reads one node from outside (its entry) and is read from outside at one node (its exit); a
  run that reads or is read at several is no block. Nodes of no block are the stem, the head and the classifier.
- a **stage** is a block that changes the shape of what it reads (a stride, a new width), with the blocks after it
  that keep that shape: the rows of the paper's table (MobileNetV2's 19 numbered children make 10 stages: the stem,
  the seven bottleneck rows, the last 1x1 convolution; ResNet-50's 16 bottlenecks make its four ``layer`` stages).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from ..core.errors import CostModelError
from ..core.ir import INPUT, Network
from ..engine.passes import infer_shapes, network_input_shape

_NUMBERED = re.compile(r"^[A-Za-z]+[0-9]+$")


def block_of(name: str) -> "str | None":
    """The block a node of name ``name`` belongs to, by its name, or None (a node of no block).

    :param name: a node name (a dotted path).
    :returns: the name prefix its block's nodes share: up to the first numbered component that has more
        components after it (``features.3.conv.0.0`` -> ``features.3``; a second number right after it is a block
        within a stage: ``blocks.2.1.conv_pw`` -> ``blocks.2.1``); else up to the first number between underscores
        of the first component (``Conv2d_3_depthwise.conv`` -> ``Conv2d_3``), or its first word ending in a number
        when it has several (``block4_sepconv1_bn`` -> ``block4``); None otherwise (``conv1``, ``classifier.1``:
        a number with nothing after it names a layer, not a block)."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part.isdigit():
            end = index + 1
            if end < len(parts) - 1 and parts[end].isdigit():
                end += 1
            return ".".join(parts[:end]) if end < len(parts) else None
    words = parts[0].split("_")
    if len(words) > 1:
        for index, word in enumerate(words[1:], start=1):
            if word.isdigit():
                return "_".join(words[:index + 1])
        if _NUMBERED.match(words[0]):
            return words[0]
    return None


@dataclass(frozen=True)
class Block:
    """A run of nodes with one entry and one exit.

    :param name: the name prefix its nodes share (``block_of``).
    :param nodes: its nodes' names, in execution order.
    :param entry: the node outside the block that it reads (``input``: the network input).
    :param exit: its node that the rest of the network reads.
    :param in_shape: the sample shape of what it reads (C, H, W for an image).
    :param out_shape: the sample shape of what it gives.
    """

    name: str
    nodes: tuple[str, ...]
    entry: str
    exit: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @property
    def keeps_shape(self) -> bool:
        """Whether it gives what it reads (a repeated block of a stage)."""
        return self.in_shape == self.out_shape


@dataclass(frozen=True)
class Stage:
    """A block that changes the shape, and the blocks after it that keep it.

    :param name: the stage's name: its blocks' common parent where the stage is all of that parent's blocks
        (``layer2``, ``blocks.3``), else its first and last block (``features.2-3``), or its one block.
    :param blocks: its blocks, in order.
    """

    name: str
    blocks: tuple[Block, ...]

    @property
    def nodes(self) -> tuple[str, ...]:
        """Every node of its blocks, in order."""
        return tuple(node for block in self.blocks for node in block.nodes)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return self.blocks[-1].out_shape

    def describe(self) -> str:
        """``features.2-3 (2 blocks, 24 x 56 x 56)``: the name, the blocks and the shape it gives."""
        count = len(self.blocks)
        shape = " x ".join(str(size) for size in self.out_shape)
        return f"{self.name} ({count} block{'' if count == 1 else 's'}, {shape})"


def _runs(network: Network) -> list[tuple[str, list[str]]]:
    """Consecutive nodes of the same block name, as (block name, nodes); a name met in two runs is no block."""
    runs: list[tuple[str | None, list[str]]] = []
    for node in network.nodes:
        name = block_of(node.name)
        if runs and runs[-1][0] == name:
            runs[-1][1].append(node.name)
        else:
            runs.append((name, [node.name]))
    seen: dict[str, int] = {}
    for name, _ in runs:
        if name is not None:
            seen[name] = seen.get(name, 0) + 1
    return [(name, nodes) for name, nodes in runs if name is not None and seen[name] == 1]


def _reads(network: Network) -> dict[str, set[str]]:
    """For each node, the nodes it reads: its inputs, the nodes its op refers to, and the node it shares with."""
    reads: dict[str, set[str]] = {}
    for node in network.nodes:
        names = set(node.inputs) | {ref for _, ref in node.op.refs()}
        if node.shares:
            names.add(node.shares)
        reads[node.name] = names
    return reads


def blocks(network: Network, alpha: float = 1.0, size: "tuple[int, int] | None" = None) -> tuple[Block, ...]:
    """The blocks of ``network`` (see the module's docstring), with their shapes at ``alpha`` and ``size``.

    :param network: the network.
    :param alpha: the width multiplier the shapes are read at.
    :param size: the input (H, W) (default: the network's base resolution).
    :returns: its blocks in execution order.
    :raises CostModelError: where the network's shapes do not fit at that setting."""
    size = size or network.base_resolution
    shapes = {item.node.name: item.output.sample for item in infer_shapes(network, alpha, size)}
    shapes[INPUT] = network_input_shape(network, alpha, size).sample
    reads = _reads(network)
    readers: dict[str, set[str]] = {}
    for node, names in reads.items():
        for name in names:
            readers.setdefault(name, set()).add(node)
    found = []
    for name, nodes in _runs(network):
        inside = set(nodes)
        entries = {ref for node in nodes for ref in reads[node] if ref not in inside}
        exits = {node for node in nodes if node == network.output or readers.get(node, set()) - inside}
        # what the block reads at its entry may be refered to only by a width (ChannelsOf) besides the inputs
        data = {ref for node in nodes for ref in network.nodes[network.index[node]].inputs if ref not in inside}
        if len(data) != 1 or len(exits) != 1 or not entries <= data:
            continue
        entry, exit = next(iter(data)), next(iter(exits))
        found.append(Block(name, tuple(nodes), entry, exit, tuple(shapes[entry]), tuple(shapes[exit])))
    return tuple(found)


def _stage_name(members: Sequence[Block], every: Sequence[Block]) -> str:
    if len(members) == 1:
        return members[0].name
    parents = {block.name.rpartition(".")[0] for block in members}
    if len(parents) == 1 and "" not in parents:
        parent = next(iter(parents))
        if sum(block.name.rpartition(".")[0] == parent for block in every) == len(members):
            return parent
    first, last = members[0].name, members[-1].name
    head = re.match(r"^(.*?)([0-9]+)$", first)
    tail = re.match(r"^(.*?)([0-9]+)$", last)
    if head and tail and head.group(1) == tail.group(1):
        return f"{head.group(1)}{head.group(2)}-{tail.group(2)}"
    return f"{first}-{last}"


def stages(network: Network, alpha: float = 1.0, size: "tuple[int, int] | None" = None) -> tuple[Stage, ...]:
    """The stages of ``network``: each block that changes the shape starts one, and the blocks right after it that
    keep the shape join it (a node of no block between two blocks ends a stage).

    :param network: the network.
    :param alpha: the width multiplier the shapes are read at.
    :param size: the input (H, W) (default: the network's base resolution).
    :returns: its stages in execution order."""
    found = blocks(network, alpha, size)
    groups: list[list[Block]] = []
    for block in found:
        previous = groups[-1][-1] if groups else None
        adjacent = previous is not None and block.entry == previous.exit and \
            network.index[block.nodes[0]] == network.index[previous.nodes[-1]] + 1
        if adjacent and block.keeps_shape:
            groups[-1].append(block)
        else:
            groups.append([block])
    return tuple(Stage(_stage_name(members, found), tuple(members)) for members in groups)


def stage_named(network: Network, name: str, alpha: float = 1.0,
                size: "tuple[int, int] | None" = None) -> Stage:
    """The stage of ``network`` named ``name`` (``stages``).

    :param network: the network.
    :param name: a stage's name.
    :param alpha: the width multiplier the shapes are read at.
    :param size: the input (H, W).
    :returns: the ``Stage``.
    :raises CostModelError: naming the stages there are, when none is named so."""
    found = stages(network, alpha, size)
    for stage in found:
        if stage.name == name:
            return stage
    known = ", ".join(stage.name for stage in found) or "none: no node names a numbered block"
    raise CostModelError(f"network {network.name!r} has no stage {name!r} (its stages: {known})")
