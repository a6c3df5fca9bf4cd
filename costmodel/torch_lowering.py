"""Lowering the IR to a torch ``nn.Module`` whose module names are the IR's node names.

Only ``to_torch``, ``costmodel verify`` and the tests import this module; nothing on the path of ``costmodel table``
does. A dotted node name becomes nested modules (``features.3.conv.0.0`` is ``features`` -> ``3`` -> ``conv`` ->
``0`` -> ``0``), so fvcore's per-module counts line up one to one with costmodel's per-node rows.

Each node becomes one leaf module called through ``__call__`` (so module hooks and tracing see it): convolutions,
linear layers, BatchNorm, activations and pools are torch's own modules; the data-movement ops (channel shuffle,
split, concat, add, multiply) are the small modules below. A conditional residual that does not apply at this
width lowers to ``PassThrough``. Parameters are allocated without random initialization (zeros; BatchNorm's running
variance ones): the counts do not depend on the values, and large networks build fast.
"""
from __future__ import annotations

from typing import Any, Mapping

import torch
from torch import nn

from .analysis import resolve
from .errors import CostModelError
from .ir import (INPUT, Activation, AdaptiveAvgPool, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten,
                 GlobalAvgPool, Linear, Multiply, Network, Pool2d, Split)
from .shapes import NodeShapes, Shape


class ShuffleChannels(nn.Module):
    """ShuffleNet's channel shuffle: (N, g, C/g, H, W) -> transpose -> (N, C, H, W)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        return x.view(n, self.groups, c // self.groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class Chunk(nn.Module):
    """The ``index``-th of ``chunks`` equal channel chunks."""

    def __init__(self, chunks: int, index: int):
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.chunk(self.chunks, dim=1)[self.index]


class Cat(nn.Module):
    """Concatenation along channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class Sum(nn.Module):
    """Element-wise sum of its inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        total = xs[0]
        for x in xs[1:]:
            total = total + x
        return total


class Product(nn.Module):
    """Element-wise product of two inputs (broadcasting a C x 1 x 1 gate)."""

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return a * b


class PassThrough(nn.Module):
    """A conditional residual that does not apply: returns its last input."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return xs[-1]


class SamePadConv2d(nn.Module):
    """TensorFlow's "same" padding at any stride: pad (asymmetrically when needed), then an unpadded ``conv``."""

    def __init__(self, conv: nn.Conv2d, pads: tuple[int, int, int, int]):
        super().__init__()
        self.conv = conv
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(nn.functional.pad(x, self.pads))


_ACTIVATIONS = {"relu": nn.ReLU, "relu6": nn.ReLU6, "hswish": nn.Hardswish, "hsigmoid": nn.Hardsigmoid,
                "sigmoid": nn.Sigmoid, "silu": nn.SiLU}


def _same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's "same" padding: total ``max((ceil(D/S) - 1) S + d(K - 1) + 1 - D, 0)``, the extra on the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def _conv(op: Conv2d, node: NodeShapes) -> nn.Module:
    in_channels, height, width = node.inputs[0]
    padding: Any = 0 if op.padding in ("same", "valid") else op.padding
    conv = nn.Conv2d(in_channels, node.output[0], op.kernel, op.stride, padding, op.dilation, node.groups,
                     bias=op.bias)
    if op.padding != "same":
        return conv
    top, bottom = _same_pads(height, op.kernel[0], op.stride[0], op.dilation[0])
    left, right = _same_pads(width, op.kernel[1], op.stride[1], op.dilation[1])
    return SamePadConv2d(conv, (left, right, top, bottom))


def _module(node: NodeShapes) -> nn.Module:
    """The torch module of one resolved node."""
    op = node.op
    if node.skipped:
        return PassThrough()
    if isinstance(op, Conv2d):
        return _conv(op, node)
    if isinstance(op, Linear):
        return nn.Linear(node.inputs[0][0], node.output[0], bias=op.bias)
    if isinstance(op, BatchNorm):
        norm = nn.BatchNorm2d if len(node.output) == 3 else nn.BatchNorm1d
        return norm(node.output[0], affine=op.affine)
    if isinstance(op, Activation):
        return _ACTIVATIONS[op.function]()
    if isinstance(op, Pool2d):
        if op.mode == "max":
            return nn.MaxPool2d(op.kernel, op.stride, op.padding, ceil_mode=op.ceil_mode)
        return nn.AvgPool2d(op.kernel, op.stride, op.padding, ceil_mode=op.ceil_mode)
    if isinstance(op, GlobalAvgPool):
        return nn.AdaptiveAvgPool2d(1)
    if isinstance(op, AdaptiveAvgPool):
        return nn.AdaptiveAvgPool2d(op.output)
    if isinstance(op, Flatten):
        return nn.Flatten(1)
    if isinstance(op, Dropout):
        return nn.Dropout(op.p)
    if isinstance(op, ChannelShuffle):
        return ShuffleChannels(op.groups)
    if isinstance(op, Split):
        return Chunk(op.chunks, op.index)
    if isinstance(op, Concat):
        return Cat()
    if isinstance(op, Add):
        return Sum()
    if isinstance(op, Multiply):
        return Product()
    raise CostModelError(f"node {node.name!r}: no torch lowering for op {type(op).__name__}")


class LoweredNetwork(nn.Module):
    """A costmodel network as a torch module: ``forward`` runs the nodes in execution order."""

    def __init__(self, network: Network, shapes: tuple[NodeShapes, ...], input_shape: Shape):
        super().__init__()
        self.network_name = network.name
        self.input_shape = (1, *input_shape)
        self.output_name = network.output
        self._plan: list[tuple[str, nn.Module, tuple[str, ...]]] = []
        read = {ref for node in network.nodes for ref in node.inputs}
        # Side outputs (an auxiliary classifier) are returned too, so tracing keeps them, as in torchvision's
        # training-mode Inception3 that returns (logits, aux_logits).
        self.side_outputs = tuple(node.name for node in network.nodes
                                  if node.name not in read and node.name != network.output)
        for node in shapes:
            module = _module(node)
            parent: nn.Module = self
            *path, leaf = node.name.split(".")
            for part in path:
                child = parent._modules.get(part)
                if child is None:
                    child = nn.Module()
                    _attach(parent, part, child, node.name)
                parent = child
            _attach(parent, leaf, module, node.name)
            self._plan.append((node.name, module, node.node.inputs))

    def example_input(self) -> torch.Tensor:
        """A zero input of the network's input shape, batch 1."""
        return torch.zeros(self.input_shape)

    def forward(self, x: torch.Tensor) -> "torch.Tensor | tuple[torch.Tensor, ...]":
        values = {INPUT: x}
        for name, module, inputs in self._plan:
            values[name] = module(*(values[ref] for ref in inputs))
        if self.side_outputs:
            return (values[self.output_name], *(values[name] for name in self.side_outputs))
        return values[self.output_name]


def _attach(parent: nn.Module, name: str, module: nn.Module, node: str) -> None:
    if hasattr(parent, name) and name not in parent._modules:
        raise CostModelError(f"node {node!r}: {name!r} cannot be a torch module name (it is an attribute of "
                             "nn.Module)")
    parent.add_module(name, module)


def _fill(module: nn.Module) -> None:
    """Deterministic values for an uninitialized module: zeros, and BatchNorm's running variance ones."""
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            tensor.zero_()
        for child in module.modules():
            if isinstance(child, nn.modules.batchnorm._BatchNorm) and child.running_var is not None:
                child.running_var.fill_(1.0)


def to_torch(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
             resolution: "int | tuple[int, int] | None" = None, *,
             options: Mapping[str, Any] | None = None) -> LoweredNetwork:
    """The torch module of a zoo model, spec file or Network at ``alpha`` and the input size of ``rho`` or
    ``resolution``, in eval mode, with module names equal to the IR's node names. ``module.example_input()`` is a
    batch-1 input of the right shape."""
    network, _, input_shape, shapes = resolve(model_or_network, alpha, rho, resolution, options)
    with torch.device("meta"):
        module = LoweredNetwork(network, shapes, input_shape)
    module = module.to_empty(device="cpu")
    module._plan = [(name, module.get_submodule(name), inputs) for name, _, inputs in module._plan]
    _fill(module)
    return module.eval()
