"""FLOP conventions: what "FLOPs" means, stated per op, because the tools and the papers disagree.

Each convention registers one ``flops:<name>`` formula per op type in the formula registry, with a one-line
statement of how the op is counted; outputs name the convention they used.

- ``costmodel`` (default): 2 FLOPs per multiply-accumulate, one per bias addition, and the element-wise work of
  BatchNorm, activations, pooling, add and multiply at the per-element costs in ``ELEMENTWISE``.
- ``papers``: the papers' "mult-adds" (MobileNet, ShuffleNet: "FLOPs" = multiply-adds): convolutions and fully
  connected layers only.
- ``fvcore``: what fvcore 0.1.5 counts (its "flops" are multiply-accumulates): convolutions and linear layers,
  BatchNorm in eval 2 per element (1 without affine), adaptive average pooling 1 per input element; everything else 0.
- ``flop_counter``: torch.utils.flop_counter.FlopCounterMode: 2 per multiply-accumulate of convolutions and linear
  layers; everything else 0.
"""
from __future__ import annotations

from dataclasses import dataclass

from .formulas import conv_madds, formula, linear_madds
from .ir import (Activation, AdaptiveAvgPool, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool,
                 Linear, Multiply, Op, Pool2d, Split)
from .shapes import NodeShapes, adaptive_window_total, numel


@dataclass(frozen=True)
class Convention:
    """A named FLOP-counting convention and a one-line statement of it for outputs."""

    name: str
    summary: str


CONVENTIONS = {
    "costmodel": Convention(
        "costmodel", "2 FLOPs per multiply-accumulate + bias adds + element-wise ops (BN 2, ReLU 1, ReLU6 2, "
        "h-sigmoid 4, h-swish 5, sigmoid 4, SiLU 5 per element; pooling per window element; add and multiply "
        "1 per output element)"),
    "papers": Convention(
        "papers", "the papers' mult-adds: multiply-accumulates of convolutions and fully connected layers only"),
    "fvcore": Convention(
        "fvcore", "fvcore's 'flops' (multiply-accumulates of conv and linear, BatchNorm 2 per element, global "
        "average pool 1 per input element; other ops 0)"),
    "flop_counter": Convention(
        "flop_counter", "torch FlopCounterMode: 2 per multiply-accumulate of conv and linear; other ops 0"),
}
DEFAULT_CONVENTION = "costmodel"

# FLOPs per element of the costmodel convention's element-wise ops, with the arithmetic each one does.
ELEMENTWISE = {
    "batchnorm": 2,   # inference form y = x * s + b (s, b folded from gamma, beta, mean, variance)
    "relu": 1,        # max(x, 0)
    "relu6": 2,       # min(max(x, 0), 6)
    "hsigmoid": 4,    # relu6(x + 3) / 6: add, max, min, multiply
    "hswish": 5,      # x * hsigmoid(x)
    "sigmoid": 4,     # 1 / (1 + exp(-x)): negate, exp, add, divide
    "silu": 5,        # x * sigmoid(x)
}


# --- costmodel ---------------------------------------------------------------------------------------------------

@formula("flops:costmodel", Conv2d)
def conv_flops(op: Conv2d, node: NodeShapes) -> int:
    """``2 * D_K^2 (M / g) N D_F^2``, plus ``N D_F^2`` bias additions when the layer has a bias."""
    return 2 * conv_madds(op, node) + (numel(node.output) if op.bias else 0)


@formula("flops:costmodel", Linear)
def linear_flops(op: Linear, node: NodeShapes) -> int:
    """``2 M N``, plus N bias additions."""
    return 2 * linear_madds(op, node) + (node.output[0] if op.bias else 0)


@formula("flops:costmodel", BatchNorm)
def batchnorm_flops(op: BatchNorm, node: NodeShapes) -> int:
    """A multiply and an add per element (the inference form ``x * s + b``)."""
    return ELEMENTWISE["batchnorm"] * numel(node.output)


@formula("flops:costmodel", Activation)
def activation_flops(op: Activation, node: NodeShapes) -> int:
    """The activation's per-element cost from ``ELEMENTWISE`` times the elements."""
    return ELEMENTWISE[op.function] * numel(node.output)


@formula("flops:costmodel", Pool2d)
def pool_flops(op: Pool2d, node: NodeShapes) -> int:
    """Per output element, a full ``k_h x k_w`` window: max ``k_h k_w - 1`` comparisons; average ``k_h k_w - 1``
    additions and one multiply, ``k_h k_w``. Windows clipped by padding are charged in full."""
    window = op.kernel[0] * op.kernel[1]
    return (window - 1 if op.mode == "max" else window) * numel(node.output)


@formula("flops:costmodel", GlobalAvgPool)
def global_pool_flops(op: GlobalAvgPool, node: NodeShapes) -> int:
    """Per channel ``H W - 1`` additions and one multiply: one FLOP per input element."""
    return numel(node.inputs[0])


@formula("flops:costmodel", AdaptiveAvgPool)
def adaptive_pool_flops(op: AdaptiveAvgPool, node: NodeShapes) -> int:
    """Each output cell averages its window: window - 1 additions and one multiply, so the summed window sizes:
    ``C x S_h x S_w`` with S the summed window lengths of an axis (``adaptive_window_total``)."""
    channels, height, width = node.inputs[0]
    return channels * adaptive_window_total(height, op.output[0]) * adaptive_window_total(width, op.output[1])


@formula("flops:costmodel", Add)
def add_flops(op: Add, node: NodeShapes) -> int:
    """``n - 1`` additions per output element for n inputs."""
    return (len(node.inputs) - 1) * numel(node.output)


@formula("flops:costmodel", Multiply)
def multiply_flops(op: Multiply, node: NodeShapes) -> int:
    """One multiply per output element."""
    return numel(node.output)


@formula("flops:costmodel", Flatten, Dropout, Split, Concat, ChannelShuffle)
def data_movement_flops(op: Op, node: NodeShapes) -> int:
    """Data movement, no arithmetic (its cost shows in memory access)."""
    return 0


# --- papers ------------------------------------------------------------------------------------------------------

@formula("flops:papers", Conv2d)
def papers_conv_flops(op: Conv2d, node: NodeShapes) -> int:
    """The paper's mult-adds ``D_K^2 (M / g) N D_F^2``."""
    return conv_madds(op, node)


@formula("flops:papers", Linear)
def papers_linear_flops(op: Linear, node: NodeShapes) -> int:
    """The paper's mult-adds ``M N``."""
    return linear_madds(op, node)


@formula("flops:papers", BatchNorm, Activation, Pool2d, GlobalAvgPool, AdaptiveAvgPool, Add, Multiply, Flatten,
         Dropout, Split, Concat, ChannelShuffle)
def papers_uncounted(op: Op, node: NodeShapes) -> int:
    """Not counted by the papers."""
    return 0


# --- fvcore ------------------------------------------------------------------------------------------------------

@formula("flops:fvcore", Conv2d)
def fvcore_conv_flops(op: Conv2d, node: NodeShapes) -> int:
    """fvcore's conv handler: ``N Cout Ho Wo (Cin / g) kh kw``, the multiply-accumulates; bias never counted."""
    return conv_madds(op, node)


@formula("flops:fvcore", Linear)
def fvcore_linear_flops(op: Linear, node: NodeShapes) -> int:
    """fvcore's linear handler: ``numel(x) * out_features``."""
    return linear_madds(op, node)


@formula("flops:fvcore", BatchNorm)
def fvcore_batchnorm_flops(op: BatchNorm, node: NodeShapes) -> int:
    """fvcore's batch_norm handler in eval mode: 2 per element with affine, 1 without."""
    return (2 if op.affine else 1) * numel(node.output)


@formula("flops:fvcore", GlobalAvgPool, AdaptiveAvgPool)
def fvcore_global_pool_flops(op: Op, node: NodeShapes) -> int:
    """fvcore's adaptive_avg_pool2d handler, any output size: one per input element."""
    return numel(node.inputs[0])


@formula("flops:fvcore", Activation, Pool2d, Add, Multiply)
def fvcore_unsupported(op: Op, node: NodeShapes) -> int:
    """Unsupported by fvcore (counted 0 and reported), except ReLU, which it ignores on purpose."""
    return 0


@formula("flops:fvcore", Flatten, Dropout, Split, Concat, ChannelShuffle)
def fvcore_ignored(op: Op, node: NodeShapes) -> int:
    """Ignored by fvcore on purpose (views, copies and identities)."""
    return 0


# --- torch.utils.flop_counter ------------------------------------------------------------------------------------

@formula("flops:flop_counter", Conv2d)
def flop_counter_conv_flops(op: Conv2d, node: NodeShapes) -> int:
    """FlopCounterMode's convolution formula: 2 per multiply-accumulate; bias not counted."""
    return 2 * conv_madds(op, node)


@formula("flops:flop_counter", Linear)
def flop_counter_linear_flops(op: Linear, node: NodeShapes) -> int:
    """FlopCounterMode's addmm formula: 2 per multiply-accumulate; bias not counted."""
    return 2 * linear_madds(op, node)


@formula("flops:flop_counter", BatchNorm, Activation, Pool2d, GlobalAvgPool, AdaptiveAvgPool, Add, Multiply,
         Flatten, Dropout, Split, Concat, ChannelShuffle)
def flop_counter_uncounted(op: Op, node: NodeShapes) -> int:
    """No formula in FlopCounterMode: 0."""
    return 0
