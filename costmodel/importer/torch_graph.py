"""Capture a torch module as a costmodel ``Network`` (the only importer module that imports torch).

torch.fx traces the module symbolically (nothing runs); the graph is then walked in order, and each call is mapped
onto the ops registry (``torch_ops``). Shapes are costmodel's own: every mapped node's shape rule runs at the asked
input size as the node is made, so sizes the module reads (``x.shape``, ``x.size(1)``) are known numbers, views
become the flatten and unflatten steps they are, and no activation is allocated. Each node is named by the module
path it came from: a module call by its own (``features.3.conv.0``), a function by the module whose forward called
it plus the function (``features.3.add``).

Every size is that of the asked input: ``TorchModel.network`` maps the traced graph again for each size (a walk of
the graph, no trace), and ``--resolution``, ``--rho`` and sweeps work so. A module whose submodule receives an input
it does not take at some size (a classifier's ``in_features`` after a fixed flatten) is refused there, in one line.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.fx
from torch import nn

from ..errors import CostModelError, first_line
from ..ir import INPUT, Network
from ..ops import UnusedParameters
from ..shapes import Shape
from . import torch_ops
from .building import Builder, Learned, Tensor, tensors


def _module_path(node: torch.fx.Node) -> str:
    """The path of the module whose forward made ``node`` ("" for the root module)."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    path = next(reversed(stack))
    if not isinstance(path, str):
        return ""
    path = re.sub(r"@\d+$", "", path)                   # a module's second call: "act@1"
    return re.sub(r"[^A-Za-z0-9_.]", "_", path)


def _function_name(node: torch.fx.Node) -> str:
    if node.op == "call_method":
        return str(node.target).strip("_")
    target = node.target
    name = getattr(target, "__name__", None) or str(target)
    return name.strip("_")


def _trace(module: nn.Module) -> torch.fx.GraphModule:
    """torch.fx's symbolic trace of ``module``, or one line saying why it does not trace."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return torch.fx.symbolic_trace(module)
        except Exception as error:          # fx raises what the module's own code raises on a Proxy
            raise CostModelError(f"torch.fx cannot trace {type(module).__name__}: {_where(error)}") from None


def _where(error: BaseException) -> str:
    """The error's first line and the innermost source line of the user's code that raised it."""
    import traceback

    message = first_line(error)
    own = (str(Path(torch.__file__).parent), str(Path(__file__).parent.parent))       # torch's and costmodel's
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if not frame.filename.startswith(own)]
    if frames:
        frame = frames[-1]
        return f"{message} ({frame.filename}:{frame.lineno}: {(frame.line or '').strip()})"
    return message


class TorchModel:
    """A torch module traced once, mapped onto costmodel's ops at each asked input size."""

    def __init__(self, module: nn.Module, input_size: "tuple[int, ...]" = (3, 224, 224), *,
                 name: str | None = None, strict: bool = False):
        if not isinstance(module, nn.Module):
            raise CostModelError(f"from_torch needs an nn.Module, got {type(module).__name__}")
        if len(input_size) != 3 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in input_size):
            raise CostModelError(f"input_size must be (C, H, W), three positive integers, got {input_size!r}")
        self.module = module
        self.input_size = tuple(input_size)
        self.name = name or type(module).__name__
        self.strict = strict
        was_training = module.training
        module.eval()
        try:
            self.graph = _trace(module)
        finally:
            module.train(was_training)
        self._networks: dict[tuple[int, int], Network] = {}
        self.parameters = dict(module.named_parameters())
        self.total_params = sum(p.numel() for p in self.parameters.values())

    @property
    def resolution(self) -> tuple[int, int]:
        return self.input_size[1], self.input_size[2]

    def network(self, resolution: "tuple[int, int] | None" = None) -> Network:
        """The network at input size ``resolution`` (H, W; default the capture's)."""
        size = tuple(resolution or self.resolution)
        if size not in self._networks:
            self._networks[size] = self._map(size)         # type: ignore[index]
        return self._networks[size]                         # type: ignore[index]

    def _map(self, size: tuple[int, int]) -> Network:
        builder = Builder(strict=self.strict)
        builder.produced[INPUT] = Shape.image(1, self.input_size[0], size[0], size[1])
        env: dict[torch.fx.Node, Any] = {}
        output: Any = None
        modules = dict(self.graph.named_modules())
        height, width = size
        try:
            for fx_node in self.graph.graph.nodes:
                if fx_node.op == "placeholder":
                    if env:
                        raise CostModelError(f"{self.name} takes more than one input ({fx_node.name}); costmodel "
                                             "imports modules of one image input")
                    env[fx_node] = Tensor(INPUT, builder.produced[INPUT])
                elif fx_node.op == "get_attr":
                    env[fx_node] = self._learned(str(fx_node.target))
                elif fx_node.op == "output":
                    output = fx_node.args[0]
                else:
                    args = torch.fx.node.map_arg(fx_node.args, lambda n: env[n])
                    kwargs = torch.fx.node.map_arg(fx_node.kwargs, lambda n: env[n])
                    if fx_node.op == "call_module":
                        target = str(fx_node.target)
                        env[fx_node] = torch_ops.call_module(builder, target, modules[target], args, kwargs, self)
                    else:
                        path = _module_path(fx_node)
                        base = f"{path}.{_function_name(fx_node)}" if path else _function_name(fx_node)
                        env[fx_node] = torch_ops.call_function(builder, base, fx_node.op, fx_node.target, args,
                                                               kwargs, self)
        except CostModelError as error:
            raise CostModelError(f"{self.name} at {height}x{width}: {error}") from None
        result = torch.fx.node.map_arg(output, lambda n: env[n])
        found = tensors(result)
        if not found:
            raise CostModelError(f"{self.name} returns no tensor")
        out = found[0]
        unused = sorted(name for name in self.parameters if name not in builder.claimed)
        if unused:
            count = sum(self.parameters[name].numel() for name in unused)
            modules_unused = tuple(sorted({name.rsplit(".", 1)[0] for name in unused}))
            builder.add("unused_parameters", UnusedParameters(count, modules_unused), (out,))
        return Network(self.name, tuple(builder.nodes), input_channels=self.input_size[0], base_resolution=size,
                       output=out.node, description=f"imported from torch ({type(self.module).__name__})",
                       source="torch.fx trace of the module")

    def _learned(self, target: str) -> Learned:
        value = self.graph
        for part in target.split("."):
            value = getattr(value, part)
        if not isinstance(value, torch.Tensor):
            raise CostModelError(f"attribute {target} is not a tensor")
        return Learned(target, tuple(value.shape), isinstance(value, nn.Parameter))

    def claim(self, builder: Builder, module_path: str, module: nn.Module) -> int:
        """Mark the parameters of ``module`` (at ``module_path``) as counted; their number not counted before."""
        return sum(builder.claim(f"{module_path}.{name}" if module_path else name, parameter.numel())
                   for name, parameter in module.named_parameters())
