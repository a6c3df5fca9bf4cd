"""costmodel: exact, explained costs of efficient CNNs, computed from a symbolic layer-spec IR.

    >>> import costmodel
    >>> result = costmodel.analyze("mobilenet_v1", alpha=0.75)
    >>> result.totals["madds"]
    325400448
"""
from .analysis import Analysis, LayerCost, analyze
from .errors import CostModelError
from .ir import Network, Node
from .ops import (Activation, AdaptiveAvgPool, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten,
                  GlobalAvgPool, Linear, Multiply, Pool2d, Split)
from .scaling import Expanded, Scaled, Squeezed, Tabulated, make_divisible

__version__ = "0.1.0"


def __getattr__(name: str):
    """``to_torch`` imports torch, so it loads only when asked for (``costmodel.verify.verify`` likewise)."""
    if name == "to_torch":
        from .torch_lowering import to_torch
        return to_torch
    raise AttributeError(f"module 'costmodel' has no attribute {name!r}")


__all__ = [
    "Activation", "AdaptiveAvgPool", "Add", "Analysis", "BatchNorm", "ChannelShuffle", "Concat", "Conv2d",
    "CostModelError", "Dropout", "Expanded", "Flatten", "GlobalAvgPool", "LayerCost", "Linear", "Multiply", "Network",
    "Node", "Pool2d", "Scaled", "Split", "Squeezed", "Tabulated", "analyze", "make_divisible", "to_torch",
]
