"""Layer kinds: what a node is for the per-kind roll-up (the MobileNetV1 paper's Table 2 view) and the JSON schema."""
from __future__ import annotations

from .ir import (Activation, AdaptiveAvgPool, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool,
                 Linear, Multiply, Pool2d, Split)
from .shapes import NodeShapes

KINDS = ("conv", "depthwise", "pointwise", "group", "linear", "batchnorm", "activation", "pool", "global_pool",
         "add", "mul", "concat", "split", "shuffle", "flatten", "dropout")

KIND_TITLES = {
    "conv": "standard convolution",
    "depthwise": "depthwise convolution",
    "pointwise": "pointwise (1x1) convolution",
    "group": "group convolution",
    "linear": "fully connected",
    "batchnorm": "batch normalization",
    "activation": "activation",
    "pool": "pooling",
    "global_pool": "global average pooling",
    "add": "element-wise add",
    "mul": "element-wise multiply",
    "concat": "concatenation",
    "split": "channel split",
    "shuffle": "channel shuffle",
    "flatten": "flatten",
    "dropout": "dropout",
}

_FIXED_KINDS = {
    Linear: "linear", BatchNorm: "batchnorm", Activation: "activation", Pool2d: "pool", AdaptiveAvgPool: "pool",
    GlobalAvgPool: "global_pool", Add: "add", Multiply: "mul", Concat: "concat", Split: "split",
    ChannelShuffle: "shuffle", Flatten: "flatten", Dropout: "dropout",
}


def layer_kind(node: NodeShapes) -> str:
    """The kind of a resolved node. A convolution is *depthwise* when it has one group per input channel
    (groups = M, so N = M or a multiple of it), *group* when it has several groups otherwise, *pointwise* when it
    is an ungrouped 1x1, and *conv* (standard) otherwise. The kind follows the resolved widths: a fixed
    ``groups=8`` layer thinned to 8 channels is depthwise at that width."""
    op = node.op
    if isinstance(op, Conv2d):
        in_channels = node.inputs[0][0]
        if node.groups > 1 and node.groups == in_channels:
            return "depthwise"
        if node.groups > 1:
            return "group"
        return "pointwise" if op.kernel == (1, 1) else "conv"
    return _FIXED_KINDS[type(op)]
