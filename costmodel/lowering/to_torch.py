"""Lowering the IR to a torch ``nn.Module`` whose module names are the IR's node names.

Only ``to_torch``, ``costmodel verify`` and the tests import this module; nothing on the path of ``costmodel table``
does. A dotted node name becomes nested modules (``features.3.conv.0.0`` is ``features`` -> ``3`` -> ``conv`` ->
``0`` -> ``0``), so fvcore's per-module counts line up one to one with costmodel's per-node rows.

Each node becomes one module called through ``__call__`` (so module hooks and tracing see it), made by its op's
declared lowering (``ops``) from the torch names a ``TorchKit`` carries: torch's own modules, or a ``Function``
running a few tensor operations. A conditional op that does not happen at this setting lowers to a pass-through.
Parameters are allocated without random initialization (zeros; BatchNorm's running variance ones): the counts do
not depend on the values, and large networks build fast.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import torch
from torch import nn

from ..sources.analyze import resolve
from ..core.errors import CostModelError
from ..core.ir import INPUT, Network
from ..ops import definition
from ..core.shapes import NodeShapes, Shape


class Function(nn.Module):
    """A module whose forward is ``function(*inputs)``: the lowering of data-movement and element-wise ops.
    ``children`` are modules (or parameters) the function uses, registered under their names so that their
    parameters count in this module; the function then takes this module first and reads them from it
    (``lambda m, x: x + m.pos_embed``), as a closure would keep tensors that ``to_empty`` replaces."""

    def __init__(self, function: Callable[..., Any], **children: "nn.Module | nn.Parameter"):
        super().__init__()
        self.function = function
        for name, child in children.items():
            if isinstance(child, nn.Parameter):
                self.register_parameter(name, child)
            else:
                self.add_module(name, child)
        self.takes_module = bool(children)

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        if self.takes_module:
            return self.function(self, *xs)
        return self.function(*xs)


def _two(size: "tuple[int, ...]") -> "tuple[int, int]":
    """A 2-D layer's (h, w) size, which torch types as a tuple of any length."""
    return size[0], size[1]


class SameConv2d(nn.Conv2d):
    """A convolution after TensorFlow's "same" zero padding ``pads`` (left, right, top, bottom; the extra pixel at
    the end), as one module."""

    def __init__(self, conv: nn.Conv2d, pads: tuple[int, int, int, int]):
        super().__init__(conv.in_channels, conv.out_channels, _two(conv.kernel_size), _two(conv.stride), 0,
                         _two(conv.dilation), conv.groups, bias=conv.bias is not None)
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(nn.functional.pad(x, self.pads))


class TorchKit:
    """The torch names an op's lowering builds its module from (the op modules never import torch), and the output
    shapes of the network's nodes (``reference``: an op's ``like``)."""

    torch = torch
    nn = nn
    F = nn.functional
    Function = Function
    SameConv2d = SameConv2d

    def __init__(self, shapes: Mapping[str, Shape]):
        self._shapes = shapes

    def reference(self, name: str) -> Shape:
        """The output shape of node ``name`` (``input``: the network input)."""
        return self._shapes[name]


def _module(node: NodeShapes, kit: TorchKit) -> nn.Module:
    """The torch module of one resolved node."""
    if node.skipped:
        return Function(lambda *xs: xs[-1])
    try:
        return definition(node.op).lower(node.op, node, kit)
    except CostModelError as error:
        raise CostModelError(f"node {node.name!r}: {error}") from None


class LoweredNetwork(nn.Module):
    """A costmodel network as a torch module: ``forward`` runs the nodes in execution order."""

    def __init__(self, network: Network, shapes: tuple[NodeShapes, ...], input_shape: Shape):
        super().__init__()
        self.input_shape = tuple(input_shape.dims)
        self.output_name = network.output
        self._plan: list[tuple[str, nn.Module, tuple[str, ...]]] = []
        read = {ref for node in network.nodes for ref in node.inputs}
        # Side outputs (an auxiliary classifier) are returned too, so tracing keeps them, as in torchvision's
        # training-mode Inception3 that returns (logits, aux_logits).
        self.side_outputs = tuple(node.name for node in network.nodes
                                  if node.name not in read and node.name != network.output)
        keep = {network.output, *self.side_outputs}
        last_use = {ref: step for step, node in enumerate(network.nodes) for ref in node.inputs}
        # per step: the values no later step reads (freed then)
        self._release: list[list[str]] = [[] for _ in network.nodes]
        for name, step in last_use.items():
            if name not in keep:
                self._release[step].append(name)
        produced = {INPUT: input_shape, **{node.name: node.output for node in shapes}}
        kit = TorchKit(produced)
        for node in shapes:
            module = _module(node, kit)
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
        """A zero input of the network's input shape (batch included)."""
        return torch.zeros(self.input_shape)

    def timed(self, x: torch.Tensor, clock: Callable[[], int]) -> dict[str, int]:
        """One forward pass, node by node, with each node's time by ``clock`` (nanoseconds): what ``costmodel
        bench`` measures per layer."""
        values = {INPUT: x}
        times: dict[str, int] = {}
        for (name, module, inputs), release in zip(self._plan, self._release):
            start = clock()
            values[name] = module(*(values[ref] for ref in inputs))
            times[name] = clock() - start
            for ref in release:
                del values[ref]
        return times

    def forward(self, x: torch.Tensor) -> "torch.Tensor | tuple[torch.Tensor, ...]":
        values = {INPUT: x}
        for (name, module, inputs), release in zip(self._plan, self._release):
            values[name] = module(*(values[ref] for ref in inputs))
            for ref in release:                   # memory stays near the network's own peak, not its sum
                del values[ref]
        if self.side_outputs:
            return (values[self.output_name], *(values[name] for name in self.side_outputs))
        return values[self.output_name]


def _attach(parent: nn.Module, name: str, module: nn.Module, node: str) -> None:
    """Add ``module`` to ``parent`` as ``name``; a plain container already there (made for earlier nodes named
    below this one) hands its children to the node's module."""
    existing = parent._modules.get(name)
    if existing is None and hasattr(parent, name):
        raise CostModelError(f"node {node!r}: {name!r} cannot be a torch module name (it is an attribute of "
                             f"a torch {type(parent).__name__})")
    if existing is not None and type(existing) is nn.Module:
        for child_name, child in existing._modules.items():
            if child is not None:
                _attach(module, child_name, child, f"{node}.{child_name}")
    parent.add_module(name, module)


def _fill(module: nn.Module) -> None:
    """Deterministic values for an uninitialized module: zeros, and BatchNorm's running variance ones."""
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            tensor.zero_()
        for child in module.modules():
            if isinstance(child, nn.modules.batchnorm._BatchNorm) and child.running_var is not None:
                child.running_var.fill_(1.0)


def to_torch(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
             resolution: "int | tuple[int, int] | str | None" = None, *, batch: "int | None" = None,
             options: "Mapping[str, Any] | None" = None, depth: "float | None" = None) -> LoweredNetwork:
    """The torch module of a zoo model, spec file or Network at a setting (a ``Setting``, or the model with the
    setting's fields: width multiplier ``alpha``, the input size of ``rho`` or ``resolution``, ``batch`` images, the
    model's ``options``, depth multiplier ``depth``), in eval mode, with module names equal to the IR's node names.
    ``module.example_input()`` is an input of the right shape."""
    network, _, input_shape, shapes = resolve(model_or_setting, alpha=alpha, rho=rho, resolution=resolution,
                                              options=options, batch=batch, depth=depth)
    with torch.device("meta"):
        module = LoweredNetwork(network, shapes, input_shape)
    module = module.to_empty(device="cpu")
    module._plan = [(name, module.get_submodule(name), inputs) for name, _, inputs in module._plan]
    _fill(module)
    return module.eval()
