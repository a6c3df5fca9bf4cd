"""costmodel: exact, explained costs of efficient CNNs, computed from a symbolic layer-spec IR.

    >>> import costmodel
    >>> result = costmodel.analyze("mobilenet_v1", alpha=0.75)
    >>> result.totals["madds"]
    325400448
"""
import importlib
import importlib.abc
import importlib.util
import sys

from ._moved import MOVED


def _new_path(fullname: str) -> "str | None":
    """Where the module ``fullname`` lives now, if it or a package above it moved (``costmodel.importer.entry`` is
    ``costmodel.sources.importer.entry``); None for a module that did not move."""
    if not fullname.startswith(__name__ + "."):
        return None
    parts = fullname[len(__name__) + 1:].split(".")
    for length in range(len(parts), 0, -1):
        moved = MOVED.get(".".join(parts[:length]))
        if moved is not None:
            return ".".join([__name__, moved, *parts[length:]])
    return None


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``costmodel.<old>`` for a module that moved (``_moved.MOVED``) is the module at its new place, the same
    object: the old public paths (``costmodel.scaling``, ``costmodel.errors``...) keep working."""

    def find_spec(self, fullname, path=None, target=None):
        if _new_path(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(_new_path(spec.name))
        spec.loader_state = module.__spec__          # the import system sets the old path's spec on the module
        return module

    def exec_module(self, module):
        """The module ran at its new place already: it keeps its own spec (its relative imports need it)."""
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, _OldPaths) for finder in sys.meta_path):
    sys.meta_path.insert(0, _OldPaths())

from .sources.analyze import Analysis, LayerCost, analyze
from .design import edits
from .design.advise import advise
from .design.edits import edit
from .design.fit import fit, largest_batch
from .design import sweep  # noqa: E402  (the module, callable as its function: costmodel.sweep(...))
from .core.errors import CostModelError
from .core.ir import Network, Node
from .ops import (Activation, AdaptiveAvgPool, Add, AttentionBias, BatchNorm, ChannelShuffle, ClassToken, Concat,
                  Conv2d, ConvTranspose2d, DropPath, Dropout, Flatten, GlobalAvgPool, GroupNorm, Interpolate,
                  LayerNorm, LayerScale, Linear, MatMul, Mean, Multiply, Pad, PatchFold, PatchUnfold, Permute, Pool2d,
                  PositionEmbedding, Scale, ScaledDotProductAttention, Select, Slice, Softmax, Split, Subtract,
                  Transpose, Unflatten, Unsqueeze)
from .present import render
from .core.scaling import Expanded, Rounded, Scaled, Squeezed, Tabulated, make_divisible
from .sources.setting import Setting
from .core.version import __version__  # noqa: F401 (costmodel.__version__)


def __getattr__(name: str):
    """``to_torch`` and ``from_torch`` import torch, so they load only when asked for (``costmodel.verify.verify``
    likewise); a module that moved is found at its old name."""
    if name == "to_torch":
        from .lowering.to_torch import to_torch
        return to_torch
    if name == "from_torch":
        from .sources.importer import from_torch
        return from_torch
    if name in MOVED:                    # ``costmodel.scaling`` without importing it first, as before it moved
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'costmodel' has no attribute {name!r}")


__all__ = [
    "Activation", "AdaptiveAvgPool", "Add", "Analysis", "AttentionBias", "BatchNorm", "ChannelShuffle",
    "ClassToken", "Concat", "Conv2d", "ConvTranspose2d", "CostModelError", "DropPath", "Dropout", "Expanded",
    "Flatten", "GlobalAvgPool", "GroupNorm", "Interpolate", "LayerCost", "LayerNorm", "LayerScale", "Linear",
    "MatMul", "Mean", "Multiply", "Network", "Node", "Pad", "PatchFold", "PatchUnfold", "Permute", "Pool2d",
    "PositionEmbedding", "Rounded", "Scale", "Scaled", "ScaledDotProductAttention", "Select", "Setting", "Slice",
    "Softmax", "Split", "Squeezed", "Subtract", "Tabulated", "Transpose", "Unflatten", "Unsqueeze", "advise",
    "analyze", "edit", "edits", "fit", "largest_batch", "sweep", "from_torch", "make_divisible", "render",
    "to_torch",
]
