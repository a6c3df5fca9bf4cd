"""The fused inference view: a network as an inference engine runs it (TFLite, ONNX Runtime, TensorRT,
torch's own ``fx.experimental.optimization.fuse`` for the BatchNorm part).

``fuse(network)`` rewrites these chains into one ``ops.Fused`` kernel each, named after the first node it covers:

- a convolution (not transposed) or linear layer, then the BatchNorm that alone reads it (folded: its params become
  the layer's bias), then an activation that alone reads that (ReLU, ReLU6, h-swish, h-sigmoid, SiLU, sigmoid,
  leaky ReLU, GELU: what the engines fuse);
- a residual add (not a conditional one) with the activation that alone reads it.

A node is fused into the one before only where it is that node's only reader and the earlier node is not the
network's output, so every other node reads what it read before (renamed to the kernel). The result is a plain
``Network``: every pass, view and report works on it.
"""
from __future__ import annotations

import dataclasses
import weakref
from typing import Any, Mapping

from ..core.ir import INPUT, Network, Node, Op
from ..ops import Activation, Add, BatchNorm, Conv2d, Linear
from ..ops.fused import FUSABLE_ACTIVATIONS, Fused
from ..core.scaling import ChannelsOf

_CACHE: "weakref.WeakKeyDictionary[Network, Network]" = weakref.WeakKeyDictionary()


def fuse(network: Network) -> Network:
    """A network with its conv + BatchNorm + activation and add + activation chains as fused kernels.

    :param network: the network.
    :returns: the fused network (the same object again for the same network, so that its compiled counting program
        is reused)."""
    if network in _CACHE:
        return _CACHE[network]
    readers: dict[str, list[Node]] = {}
    for node in network.nodes:
        for ref in node.inputs:
            readers.setdefault(ref, []).append(node)

    def only_reader(name: str, kind: type) -> "Node | None":
        """The node that alone reads ``name``, if it is an op of ``kind`` (and ``name`` is not the output)."""
        found = readers.get(name, [])
        if len(found) != 1 or name == network.output or not isinstance(found[0].op, kind):
            return None
        return found[0]

    covered: dict[str, str] = {}          # a covered node -> the kernel that stands for it
    nodes: list[Node] = []
    for node in network.nodes:
        if node.name in covered:
            continue
        chain = [node]
        batchnorm = False
        if isinstance(node.op, (Conv2d, Linear)) and not node.shares:
            following = only_reader(node.name, BatchNorm)
            if following is not None:
                chain.append(following)
                batchnorm = True
        if isinstance(node.op, (Conv2d, Linear)) or (isinstance(node.op, Add) and not node.op.conditional()):
            following = only_reader(chain[-1].name, Activation)
            if following is not None and isinstance(following.op, Activation) \
                    and following.op.function in FUSABLE_ACTIVATIONS:
                chain.append(following)
        if len(chain) == 1:
            nodes.append(Node(node.name, with_refs_renamed(node.op, covered), tuple(covered.get(ref, ref)
                                                                         for ref in node.inputs), node.shares))
            continue
        activation = chain[-1].op.function if isinstance(chain[-1].op, Activation) else ""
        op = Fused(with_refs_renamed(node.op, covered), batchnorm, activation, tuple(member.name for member in chain))
        for member in chain:
            covered[member.name] = node.name
        nodes.append(Node(node.name, op, tuple(covered.get(ref, ref) if ref != INPUT else ref
                                               for ref in node.inputs), node.shares))
    fused = Network(network.name, tuple(nodes), input_channels=network.input_channels,
                    base_resolution=network.base_resolution, output=covered.get(network.output, network.output),
                    description=network.description, source=network.source, depth=network.depth,
                    origins=network.origins)
    _CACHE[network] = fused
    return fused


def with_refs_renamed(op: Op, covered: "Mapping[str, str]") -> Op:
    """``op`` with the nodes it refers to by name (a ``ChannelsOf`` width, a ``like``) renamed by ``covered``: in
    the fused view, to the kernels that cover them (a kernel's output has the shape of every node it covers:
    BatchNorm and activations keep their input's shape); in an edit (``design.edits``), to the nodes that stand
    for them."""
    changes: dict[str, Any] = {}
    for item in dataclasses.fields(op):
        value = getattr(op, item.name)
        if isinstance(value, ChannelsOf) and value.ref in covered:
            changes[item.name] = ChannelsOf(covered[value.ref])
        elif item.name == "like" and isinstance(value, str) and value in covered:
            changes[item.name] = covered[value]
    return dataclasses.replace(op, **changes) if changes else op
