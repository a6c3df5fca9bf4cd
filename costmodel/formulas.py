"""Cost formulas: one pure function per (metric, op type), in the papers' notation, in one registry.

Notation (MobileNetV1 paper, Section 3.1): D_K x D_K is the kernel, M the input channels, N the output channels,
D_F x D_F the output feature map (the paper assumes stride 1 and "same" padding, where input and output maps are
equal; with strides the output map is the one that counts), g the number of groups. Every formula takes the op
and its resolved ``NodeShapes`` and returns an exact integer; none rounds.

Metrics registered here: ``params``, ``madds`` and ``memory_access``. The ``flops:<convention>`` metrics are
registered by ``conventions``. An op without a formula for a metric raises ``MissingFormulaError``; nothing is
counted as zero in silence.
"""
from __future__ import annotations

from typing import Callable

from .errors import MissingFormulaError
from .ir import (Activation, AdaptiveAvgPool, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Dropout, Flatten, GlobalAvgPool,
                 Linear, Multiply, Op, Pool2d, Split)
from .shapes import NodeShapes, numel

Formula = Callable[[Op, NodeShapes], int]
_REGISTRY: dict[tuple[str, type[Op]], Formula] = {}


def formula(metric: str, *op_types: type[Op]) -> Callable[[Formula], Formula]:
    """Register ``function`` as the ``metric`` formula of each of ``op_types``; a second registration is an error."""
    def register(function: Formula) -> Formula:
        for op_type in op_types:
            key = (metric, op_type)
            if key in _REGISTRY:
                raise RuntimeError(f"duplicate {metric} formula for {op_type.__name__}")
            _REGISTRY[key] = function
        return function
    return register


def formula_for(metric: str, op_type: type[Op]) -> Formula:
    """The registered formula, or ``MissingFormulaError``."""
    try:
        return _REGISTRY[(metric, op_type)]
    except KeyError:
        raise MissingFormulaError(f"no {metric} formula for op {op_type.__name__}") from None


def metrics() -> set[str]:
    """Every metric with at least one registered formula."""
    return {metric for metric, _ in _REGISTRY}


def conv_terms(node: NodeShapes) -> tuple[int, int, int, int, int, int, int]:
    """(D_K height, D_K width, M, N, D_F height, D_F width, g) of a resolved convolution."""
    op = node.op
    assert isinstance(op, Conv2d)
    m = node.inputs[0][0]
    n, out_h, out_w = node.output
    return op.kernel[0], op.kernel[1], m, n, out_h, out_w, node.groups


# --- params ------------------------------------------------------------------------------------------------------

@formula("params", Conv2d)
def conv_params(op: Conv2d, node: NodeShapes) -> int:
    """Weights ``D_K * D_K * (M / g) * N``, plus N biases: standard ``D_K^2 M N``, depthwise (g = M = N)
    ``D_K^2 M``, pointwise ``M N``, group ``D_K^2 M N / g``."""
    kh, kw, m, n, _, _, g = conv_terms(node)
    return kh * kw * (m // g) * n + (n if op.bias else 0)


@formula("params", Linear)
def linear_params(op: Linear, node: NodeShapes) -> int:
    """Fully connected: ``M * N`` weights plus N biases."""
    m, n = node.inputs[0][0], node.output[0]
    return m * n + (n if op.bias else 0)


@formula("params", BatchNorm)
def batchnorm_params(op: BatchNorm, node: NodeShapes) -> int:
    """gamma and beta, one each per channel, when affine (running mean and variance are buffers, not params)."""
    return 2 * node.output[0] if op.affine else 0


@formula("params", Activation, Pool2d, GlobalAvgPool, AdaptiveAvgPool, Flatten, Dropout, ChannelShuffle, Split,
         Concat, Add, Multiply)
def no_params(op: Op, node: NodeShapes) -> int:
    """No learned parameters."""
    return 0


# --- madds -------------------------------------------------------------------------------------------------------

@formula("madds", Conv2d)
def conv_madds(op: Conv2d, node: NodeShapes) -> int:
    """Multiply-accumulates ``D_K * D_K * (M / g) * N * D_F * D_F``: standard ``D_K^2 M N D_F^2`` (paper eq. 2),
    depthwise ``D_K^2 M D_F^2`` (eq. 4), pointwise ``M N D_F^2``, group convolution the standard cost / g.
    Bias additions are not multiply-accumulates and are not counted here."""
    kh, kw, m, n, out_h, out_w, g = conv_terms(node)
    return kh * kw * (m // g) * n * out_h * out_w


@formula("madds", Linear)
def linear_madds(op: Linear, node: NodeShapes) -> int:
    """Fully connected: ``M * N``."""
    return node.inputs[0][0] * node.output[0]


@formula("madds", BatchNorm, Activation, Pool2d, GlobalAvgPool, AdaptiveAvgPool, Flatten, Dropout, ChannelShuffle,
         Split, Concat, Add, Multiply)
def no_madds(op: Op, node: NodeShapes) -> int:
    """Not a multiply-accumulate layer: the papers' mult-adds count convolutions and fully connected layers only."""
    return 0


# --- memory access (ShuffleNetV2, Section 2, guideline G1) ----------------------------------------------------------

@formula("memory_access", Conv2d, Linear, BatchNorm)
def weighted_memory_access(op: Op, node: NodeShapes) -> int:
    """Elements read and written plus parameters read, ShuffleNetV2's MAC. For a 1x1 convolution on an h x w map,
    ``hw(c1 + c2) + c1 * c2``; for a group convolution the weights are ``c1 * c2 / g``. Generally: input elements
    + output elements + the layer's parameters (biases and BatchNorm's gamma and beta included)."""
    params = formula_for("params", type(op))(op, node)
    return numel(node.inputs[0]) + numel(node.output) + params


@formula("memory_access", Activation, Pool2d, GlobalAvgPool, AdaptiveAvgPool, ChannelShuffle)
def unary_memory_access(op: Op, node: NodeShapes) -> int:
    """Read the input once, write the output once (channel shuffle's transpose is a copy)."""
    return numel(node.inputs[0]) + numel(node.output)


@formula("memory_access", Add, Multiply, Concat)
def nary_memory_access(op: Op, node: NodeShapes) -> int:
    """Read every input once, write the output once (ShuffleNetV2's G4: element-wise ops are memory-bound)."""
    return sum(numel(shape) for shape in node.inputs) + numel(node.output)


@formula("memory_access", Flatten, Dropout, Split)
def view_memory_access(op: Op, node: NodeShapes) -> int:
    """A view at inference (flatten, channel chunk, dropout as identity): nothing is read or written."""
    return 0
