"""Networks from the user's own models: a torch ``nn.Module`` (``from_torch``), a ``file.py:factory`` or
``package.module:factory`` on the command line (``loader``).

The capture (``torch_graph``) traces the module with torch.fx, without running it, and maps every module call and
every function onto the ops registry; shapes come from costmodel's own shape rules, evaluated at the asked input
size, so no activation is allocated. What costmodel cannot count becomes an ``ops.Opaque`` node that keeps its
parameters and is listed as not counted. Only ``torch_graph`` imports torch, and only when a module is captured.
"""
from __future__ import annotations

from typing import Any


def from_torch(module: Any, input_size: "tuple[int, ...]" = (3, 224, 224), *, name: str | None = None,
               strict: bool = False) -> Any:
    """The ``Network`` of ``module`` for inputs of ``input_size`` (C, H, W; no batch). ``strict`` makes a call
    costmodel cannot count an error instead of an ``Opaque`` node. See ``torch_graph.capture``."""
    from .torch_graph import TorchModel

    return TorchModel(module, input_size, name=name, strict=strict).network()


__all__ = ["from_torch"]
