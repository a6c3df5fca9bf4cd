"""The roles of a block's 1x1 convolutions: which are its family's defining structure (an inverted residual's
expansion and projection, a bottleneck's reduction and expansion), so that a review reads their width ratio as a
cost and never as a violation (ShuffleNetV2's G1 asks for equal widths; undoing an expansion undoes MobileNetV2)."""
from __future__ import annotations

from typing import Any

from ..core.ir import Network, Op
from ..engine.passes import infer_shapes
from .edits import squeeze_excites
from .structure import blocks

G1_RATIO = 2.0        # ShuffleNetV2's G1 is checked on 1x1 convolutions whose widths differ this much or more


def _main(op: Op) -> Op:
    """A fused kernel's own layer (its convolution or add); any other op itself."""
    return getattr(op, "main", op)


def block_roles(network: Network, alpha: float = 1.0, size: "tuple[int, int] | None" = None) -> dict[str, str]:
    """The 1x1 convolutions of ``network`` that are their block's defining structure, as {name: what each is}:

    - around a block's one depthwise convolution, with 1x1 layers on both sides: an inverted residual's expansion
      (before, it widens) and linear projection (after, it narrows), or a ShuffleNet unit's bottleneck reduction
      and expansion (the other way round); a linear projection alone after it (MobileNetV2's t = 1 block);
    - between two depthwise convolutions, 1x1 layers that narrow then widen (MobileNeXt's sandglass);
    - without a depthwise convolution: a bottleneck's reduction and expansion (its first and last 1x1, when they
      narrow and widen: ResNet);
    - a shortcut's projection (a 1x1 that reads the block's input, which other layers read too, and feeds an add);
    - a squeeze-and-excite's two 1x1 layers.

    A depthwise separable block's 1x1 (MobileNetV1's, after the depthwise convolution, widening) is no such
    structure. Works on the network as built and on its fused view (a fused kernel is read as its layer).

    :param network: the network.
    :param alpha: the width multiplier its widths are read at.
    :param size: the input (H, W) (default: the network's base).
    :returns: {layer name: "the inverted residual's expansion", ...} (blocks as ``structure.blocks`` finds them)."""
    size = size or network.base_resolution
    shapes = {item.node.name: item for item in infer_shapes(network, alpha, size)}
    roles: dict[str, str] = {}

    def node(name: str) -> Any:
        return network.nodes[network.index[name]]

    def depthwise(name: str) -> bool:
        op, item = _main(node(name).op), shapes[name]
        groups = getattr(op, "groups", 1)
        return type(op).__name__ == "Conv2d" and (groups == "depthwise" or groups != 1 and
                                                  groups == item.inputs[0].channels == item.output.channels)

    def is_1x1(name: str) -> bool:
        op = _main(node(name).op)
        return type(op).__name__ == "Conv2d" and getattr(op, "kernel") == (1, 1) and not depthwise(name)

    def ratio(name: str) -> int:
        """+1 where the layer widens, -1 where it narrows, 0 where it keeps the width."""
        c1, c2 = shapes[name].inputs[0].channels, shapes[name].output.channels
        return (c2 > c1) - (c2 < c1)

    for block in blocks(network, alpha, size):
        gates = {name for _, gate, mul in squeeze_excites(network, block) for name in (*gate, mul)}
        for name in gates:
            if is_1x1(name):
                roles[name] = "the squeeze-and-excite's bottleneck"
        ones = [name for name in block.nodes if is_1x1(name) and name not in gates]
        readers: dict[str, list[str]] = {}
        for name in block.nodes:
            for ref in node(name).inputs:
                readers.setdefault(ref, []).append(name)
        def feeds_an_add(name: str) -> bool:
            """Whether ``name``'s output reaches an add through BatchNorm and activations alone."""
            while len(readers.get(name, [])) == 1:
                name = readers[name][0]
                kind = type(_main(node(name).op)).__name__
                if kind == "Add":
                    return True
                if kind not in ("BatchNorm", "Activation"):
                    return False
            return False

        shortcut = [name for name in ones if node(name).inputs == (block.entry,)
                    and len(readers.get(block.entry, [])) > 1 and feeds_an_add(name)]
        for name in shortcut:
            roles[name] = "the shortcut's projection"
        main = [name for name in ones if name not in shortcut]
        positions = [index for index, name in enumerate(block.nodes) if depthwise(name)]
        if len(positions) > 1:            # a sandglass (MobileNeXt): 1x1 layers that narrow then widen between two
            between = [name for name in main if positions[0] < block.nodes.index(name) < positions[-1]]
            if any(ratio(name) < 0 for name in between) and any(ratio(name) > 0 for name in between):
                for name in between:
                    if ratio(name):
                        roles[name] = "the bottleneck's reduction" if ratio(name) < 0 else "the bottleneck's expansion"
        elif positions:
            before = [name for name in main if block.nodes.index(name) < positions[0]]
            after = [name for name in main if block.nodes.index(name) > positions[-1]]
            for name in before:
                if ratio(name) > 0:
                    roles[name] = "the inverted residual's expansion"
                elif ratio(name) < 0:
                    roles[name] = "the bottleneck's reduction"
            for name in after:
                if ratio(name) < 0:
                    roles[name] = "the inverted residual's linear projection"
                elif ratio(name) > 0 and before:
                    roles[name] = "the bottleneck's expansion"
        elif len(main) >= 2:
            if ratio(main[0]) < 0:
                roles[main[0]] = "the bottleneck's reduction"
            if ratio(main[-1]) > 0:
                roles[main[-1]] = "the bottleneck's expansion"
    return roles
