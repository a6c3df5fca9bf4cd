"""Building networks: a small appender for execution-ordered nodes, and the layer groups the papers reuse.

``GraphBuilder`` is the only mutable thing on the way to a ``Network``; ``build`` freezes what it collected.
"""
from __future__ import annotations

from typing import Iterable

from .ir import INPUT, Activation, BatchNorm, Conv2d, Network, Node, Op
from .scaling import Width


class GraphBuilder:
    """Collects nodes in execution order. ``add`` returns the new node's name, to be used as a later input; a node
    added without inputs reads the previous node (or the network input, for the first)."""

    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self.last = INPUT

    def add(self, name: str, op: Op, inputs: "str | Iterable[str] | None" = None) -> str:
        if inputs is None:
            refs: tuple[str, ...] = (self.last,)
        elif isinstance(inputs, str):
            refs = (inputs,)
        else:
            refs = tuple(inputs)
        self._nodes.append(Node(name, op, refs))
        self.last = name
        return name

    def build(self, name: str, **network_fields: object) -> Network:
        return Network(name=name, nodes=tuple(self._nodes), **network_fields)  # type: ignore[arg-type]


def same_padding(kernel: int, dilation: int = 1) -> int:
    """Symmetric padding that keeps the map size at stride 1 for an odd kernel: ``d (k - 1) / 2``. At stride s it
    gives ``ceil(D / s)`` outputs, the same sizes as TensorFlow's "same" padding."""
    return dilation * (kernel - 1) // 2


def conv_bn_act(builder: GraphBuilder, prefix: str, out: "Width | int | None", kernel: int = 3, stride: int = 1,
                groups: "int | str" = 1, activation: str | None = "relu", x: str | None = None,
                bias: bool = False, names: tuple[str, str, str] | None = None) -> str:
    """A convolution (k x k, "same"-size padding, no bias by default), BatchNorm, and ``activation`` unless it is
    None. The three nodes are ``prefix.conv``, ``prefix.bn``, ``prefix.<activation>``, or ``prefix.<name>`` for
    ``names`` (torchvision's ``Conv2dNormActivation`` numbers them ``0``, ``1``, ``2``). Returns the last node."""
    conv_name, bn_name, act_name = names or ("conv", "bn", activation or "")
    op = Conv2d(out_channels=out, kernel=kernel, stride=stride, padding=same_padding(kernel), groups=groups,
                bias=bias)
    builder.add(f"{prefix}.{conv_name}", op, x)
    last = builder.add(f"{prefix}.{bn_name}", BatchNorm())
    if activation is not None:
        last = builder.add(f"{prefix}.{act_name}", Activation(activation))
    return last


TORCHVISION = ("0", "1", "2")
