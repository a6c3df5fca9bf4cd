"""costmodel: exact, explained costs of efficient CNNs, computed from a symbolic layer-spec IR.

    >>> import costmodel
    >>> result = costmodel.analyze("mobilenet_v1", alpha=0.75)
    >>> result.totals["madds"]
    325400448
"""
from .analysis import Analysis, LayerCost, analyze
from .budget import fit
from .errors import CostModelError
from .ir import Network, Node
from .ops import (Activation, AdaptiveAvgPool, Add, AttentionBias, BatchNorm, ChannelShuffle, ClassToken, Concat,
                  Conv2d, ConvTranspose2d, DropPath, Dropout, Flatten, GlobalAvgPool, GroupNorm, Interpolate,
                  LayerNorm, LayerScale, Linear, MatMul, Mean, Multiply, Pad, PatchFold, PatchUnfold, Permute, Pool2d,
                  PositionEmbedding, Scale, ScaledDotProductAttention, Select, Slice, Softmax, Split, Subtract,
                  Transpose, Unflatten, Unsqueeze)
from .present import render
from .scaling import Expanded, Scaled, Squeezed, Tabulated, make_divisible
from .setting import Setting
from .version import __version__  # noqa: F401 (costmodel.__version__)


def __getattr__(name: str):
    """``to_torch`` and ``from_torch`` import torch, so they load only when asked for (``costmodel.verify.verify``
    likewise)."""
    if name == "to_torch":
        from .torch_lowering import to_torch
        return to_torch
    if name == "from_torch":
        from .importer import from_torch
        return from_torch
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
