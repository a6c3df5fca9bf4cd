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


class _OldPaths(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``costmodel.<old>`` for a module that moved (``_moved.MOVED``) is the module at its new place, the same
    object: the old public paths (``costmodel.scaling``, ``costmodel.errors``...) keep working."""

    def find_spec(self, fullname, path=None, target=None):  # type: ignore[no-untyped-def]
        name = fullname[len(__name__) + 1:] if fullname.startswith(__name__ + ".") else None
        if name is None or name not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):  # type: ignore[no-untyped-def]
        module = importlib.import_module(f"{__name__}.{MOVED[spec.name[len(__name__) + 1:]]}")
        spec.loader_state = module.__spec__          # the import system sets the old path's spec on the module
        return module

    def exec_module(self, module):  # type: ignore[no-untyped-def]
        """The module ran at its new place already: it keeps its own spec (its relative imports need it)."""
        module.__spec__ = module.__spec__.loader_state


if not any(isinstance(finder, _OldPaths) for finder in sys.meta_path):
    sys.meta_path.insert(0, _OldPaths())

from .analysis import Analysis, LayerCost, analyze
from .budget import fit
from .core.errors import CostModelError
from .core.ir import Network, Node
from .ops import (Activation, AdaptiveAvgPool, Add, AttentionBias, BatchNorm, ChannelShuffle, ClassToken, Concat,
                  Conv2d, ConvTranspose2d, DropPath, Dropout, Flatten, GlobalAvgPool, GroupNorm, Interpolate,
                  LayerNorm, LayerScale, Linear, MatMul, Mean, Multiply, Pad, PatchFold, PatchUnfold, Permute, Pool2d,
                  PositionEmbedding, Scale, ScaledDotProductAttention, Select, Slice, Softmax, Split, Subtract,
                  Transpose, Unflatten, Unsqueeze)
from .present import render
from .core.scaling import Expanded, Scaled, Squeezed, Tabulated, make_divisible
from .setting import Setting
from .core.version import __version__  # noqa: F401 (costmodel.__version__)


def __getattr__(name: str):
    """``to_torch`` and ``from_torch`` import torch, so they load only when asked for (``costmodel.verify.verify``
    likewise); a module that moved is found at its old name."""
    if name == "to_torch":
        from .torch_lowering import to_torch
        return to_torch
    if name == "from_torch":
        from .importer import from_torch
        return from_torch
    if name in MOVED:                    # ``costmodel.scaling`` without importing it first, as before it moved
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'costmodel' has no attribute {name!r}")


__all__ = [
    "Activation", "AdaptiveAvgPool", "Add", "Analysis", "AttentionBias", "BatchNorm", "ChannelShuffle", "ClassToken",
    "Concat", "Conv2d", "ConvTranspose2d", "CostModelError", "DropPath", "Dropout", "Expanded", "Flatten",
    "GlobalAvgPool", "GroupNorm", "Interpolate", "LayerCost", "LayerNorm", "LayerScale", "Linear", "MatMul", "Mean",
    "Multiply", "Network", "Node", "Pad", "PatchFold", "PatchUnfold", "Permute", "Pool2d", "PositionEmbedding",
    "Scale", "ScaledDotProductAttention", "Scaled", "Select", "Setting", "Slice", "Softmax", "Split", "Squeezed",
    "Subtract", "Tabulated", "Transpose", "Unflatten", "Unsqueeze", "analyze", "fit", "from_torch", "make_divisible",
    "render", "to_torch",
]
