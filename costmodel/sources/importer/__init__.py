"""Networks from the user's own models: a torch ``nn.Module`` (``from_torch``), a ``file.py:factory`` or
``package.module:factory`` on the command line (``loader``).

The capture (``torch_graph``) traces the module with torch.fx, without running it (or, where fx cannot trace it,
traces it at the asked size with its sizes as numbers: ``torch_sized``, whose meta values the common ops' results
take from their operands' layouts as torch's CPU kernels make them: ``torch_layouts``; or exports it with
``torch.export``: ``torch_export``), and maps every module call, function and ATen op onto the ops
registry; shapes come from costmodel's own shape rules, evaluated at the asked input
size, so no activation is allocated. What costmodel cannot count becomes an ``ops.Opaque`` node that keeps its
parameters and is listed as not counted. Only the ``torch_*`` modules and ``pt2_archive`` import torch, and
only when a module is captured; ``onnx_graph`` reads ONNX files with the ``onnx`` package, without torch.
"""
from __future__ import annotations

from typing import Any


def from_torch(module: Any, input_size: "tuple[int, ...]" = (3, 224, 224), *, name: str | None = None,
               strict: bool = False, capture: str = "auto", submodule: str | None = None) -> Any:
    """The ``Network`` of ``module`` for inputs of ``input_size`` (C, H, W; no batch). ``strict`` makes a call
    costmodel cannot count an error instead of an ``Opaque`` node. ``capture``: "fx" (torch.fx's symbolic trace),
    "sized" (an fx trace at each input size, its sizes numbers), "export" (``torch.export``, non-strict then
    strict) or "auto" (fx; where fx fails, sized; where that fails, export). ``submodule``:
    the dotted path of the part to count instead of the whole (``"backbone"`` of a detection model, whose
    post-processing depends on the data). See ``torch_graph.TorchModel``."""
    from .torch_graph import TorchModel

    return TorchModel(module, input_size, name=name, strict=strict, capture=capture, submodule=submodule).network()


__all__ = ["from_torch"]
