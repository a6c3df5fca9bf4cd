"""Pooling: max and average pooling with a window, global average pooling, and adaptive average pooling.

None has parameters or mult-adds. costmodel's convention charges each output element its window (max: k_h k_w - 1
comparisons; average: k_h k_w - 1 additions and a multiply), windows clipped by padding in full; fvcore counts its
adaptive average pool (and so the global one) at one per input element and the windowed pools at 0.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.ir import Op, Pair, check_bool, pair_of
from ..core.shapes import NodeShapes, Shape, ShapeContext, adaptive_window_total, pool_output_size
from .common import costmodel_only, elementwise_backward, input_elements, output_elements, read_write, zero
from .registry import Backward, Example, FieldReader, OpDef, Saved, SpecForm, register, saves_input


@dataclass(frozen=True)
class Pool2d(Op):
    """Max or average pooling with torch's semantics (``ceil_mode``; padding at most half the kernel).
    ``stride`` defaults to the kernel."""

    mode: str = "max"
    kernel: Pair = (2, 2)
    stride: Pair | None = None
    padding: Pair = (0, 0)
    ceil_mode: bool = False
    count_include_pad: bool = True
    op_name: ClassVar[str] = "pool"

    def __post_init__(self) -> None:
        if self.mode not in ("max", "avg"):
            raise CostModelError(f"pool mode must be 'max' or 'avg', got {self.mode!r}")
        object.__setattr__(self, "kernel", pair_of(self.kernel, "kernel", 1))
        object.__setattr__(self, "stride", pair_of(self.kernel if self.stride is None else self.stride, "stride", 1))
        object.__setattr__(self, "padding", pair_of(self.padding, "padding", 0))
        if any(2 * p > k for p, k in zip(self.padding, self.kernel)):
            raise CostModelError(f"pool padding {self.padding} exceeds half the kernel {self.kernel}")
        check_bool(self.ceil_mode, "ceil_mode")
        check_bool(self.count_include_pad, "count_include_pad")


@dataclass(frozen=True)
class GlobalAvgPool(Op):
    """Average over the whole map: N x C x H x W -> N x C x 1 x 1 (``adaptive_avg_pool2d``)."""

    op_name: ClassVar[str] = "global_avg_pool"


@dataclass(frozen=True)
class Mean(Op):
    """``x.mean(dims, keepdim)``: the average over the axes ``dims`` (timm's squeeze-excite averages the map with
    ``x.mean((2, 3), keepdim=True)``; a ViT-style head averages its tokens with ``x.mean(1)``). fvcore does not
    count ``aten::mean``."""

    dims: tuple = (2, 3)
    keepdim: bool = False
    op_name: ClassVar[str] = "mean"

    def __post_init__(self) -> None:
        dims = tuple(self.dims) if isinstance(self.dims, (tuple, list)) else (self.dims,)
        object.__setattr__(self, "dims", dims)
        if not dims or len(set(dims)) != len(dims) or any(isinstance(d, bool) or not isinstance(d, int) or
                                                          not -8 <= d < 8 for d in dims):
            raise CostModelError(f"mean dims must be distinct axis indices, got {self.dims!r}")
        check_bool(self.keepdim, "keepdim")


@dataclass(frozen=True)
class AdaptiveAvgPool(Op):
    """Average pooling to a fixed ``output`` size (torch's AdaptiveAvgPool2d): output cell i of an axis of length
    D averages input rows floor(i D / o) to ceil((i + 1) D / o) - 1; windows overlap when o does not divide D."""

    output: Pair = (7, 7)
    op_name: ClassVar[str] = "adaptive_avg_pool"

    def __post_init__(self) -> None:
        object.__setattr__(self, "output", pair_of(self.output, "output", 1))


def pool_shape(op: Pool2d, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    batch, c, height, width = x.dims
    sizes = []
    for axis, size in enumerate((height, width)):
        assert op.stride is not None                # __post_init__ makes a missing stride the kernel
        k, s, p = op.kernel[axis], op.stride[axis], op.padding[axis]
        out = pool_output_size(size, k, s, p, op.ceil_mode)
        detail = (lambda s=s, p=p: f"input {height}x{width}, kernel {op.kernel[0]}x{op.kernel[1]}, stride {s}, "
                                   f"padding {p}")
        sizes.append(ctx.positive("output size", out, detail))
    return Shape.image(batch, c, sizes[0], sizes[1])


def pool_flops(op: Pool2d, node: NodeShapes) -> Any:
    """Per output element, a full ``k_h x k_w`` window: max ``k_h k_w - 1`` comparisons; average ``k_h k_w - 1``
    additions and one multiply, ``k_h k_w``. Windows clipped by padding are charged in full."""
    window = op.kernel[0] * op.kernel[1]
    return (window - 1 if op.mode == "max" else window) * node.output.numel


def pool_saves(op: Pool2d, node: NodeShapes) -> "tuple[Saved, ...]":
    """The input, and for max pooling the index of each output's maximum (an int64 per output element)."""
    if op.mode == "max":
        return (Saved("input"), Saved("own", elements=output_elements, dtype="int64"))
    return (Saved("input"),)


def pool_backward(op: Pool2d, node: NodeShapes) -> Any:
    """Max: one addition per output element (its gradient added at its maximum); average: the window's additions
    of g / window per output element, as the forward."""
    return node.output.numel if op.mode == "max" else pool_flops(op, node)


def read_pool(layer: FieldReader) -> Pool2d:
    return Pool2d(layer.get("mode", str, "max"), layer.pair("kernel", 2), layer.pair("stride", None),
                  layer.pair("padding", 0), layer.get("ceil_mode", bool, False),
                  layer.get("count_include_pad", bool, True))


def lower_pool(op: Pool2d, node: NodeShapes, kit: Any) -> Any:
    if op.mode == "max":
        return kit.nn.MaxPool2d(op.kernel, op.stride, op.padding, ceil_mode=op.ceil_mode)
    return kit.nn.AvgPool2d(op.kernel, op.stride, op.padding, ceil_mode=op.ceil_mode,
                            count_include_pad=op.count_include_pad)


POOL = register(OpDef(
    Pool2d,
    shape=pool_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": pool_flops, "papers": zero, "fvcore": zero, "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=pool_saves, input_flops=costmodel_only(pool_backward)),
    kinds={"pool": "pooling"},
    spec=SpecForm("pool", read_pool, fields="mode (max or avg), kernel, stride, padding, ceil_mode, count_include_pad"),
    lower=lower_pool,
    examples=(Pool2d("max", 3, 2, padding=1), Pool2d("avg", 2), Pool2d("max", 3, 2, ceil_mode=True),
              Pool2d("avg", 3, 1, padding=1, count_include_pad=False), Example(Pool2d("max", 2), layout="NHWC")),
))


def global_pool_shape(op: GlobalAvgPool, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    return Shape.image(x.batch, x.channels, 1, 1)


GLOBAL_POOL = register(OpDef(
    GlobalAvgPool,
    shape=global_pool_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": input_elements,    # per channel H W - 1 additions and one multiply
           "papers": zero,
           "fvcore": input_elements,       # fvcore's adaptive_avg_pool2d handle: one per input element
           "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=elementwise_backward(1, elements=input_elements),          # g / (H W) spread over the map
    kinds={"global_pool": "global average pooling"},
    spec=SpecForm("global_avg_pool", lambda layer: GlobalAvgPool()),
    lower=lambda op, node, kit: kit.nn.AdaptiveAvgPool2d(1),
    examples=(GlobalAvgPool(), Example(GlobalAvgPool(), layout="NHWC")),
))


def mean_shape(op: Mean, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    axes = sorted({ctx.axis(x, dim) for dim in op.dims})
    if op.keepdim:
        return Shape(x.layout, tuple(1 if i in axes else size for i, size in enumerate(x.dims)))
    kept = [i for i in range(x.rank) if i not in axes]
    layout = "".join(x.layout[i] for i in kept)
    if len(kept) == 2:
        layout = "NC"                   # what is left of the sample is its features
    return Shape(layout, tuple(x.dims[i] for i in kept))


MEAN = register(OpDef(
    Mean,
    shape=mean_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": input_elements,    # per output element: its window's additions and one multiply
           "papers": zero,
           "fvcore": zero,                 # aten::mean is unsupported by fvcore: 0
           "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=elementwise_backward(1, elements=input_elements),          # g / n spread over the window
    kinds={"global_pool": "global average pooling"},
    spec=SpecForm("mean", lambda layer: Mean(tuple(layer.get("dims", list, [2, 3])),
                                             layer.get("keepdim", bool, False)), fields="dims, keepdim"),
    lower=lambda op, node, kit: kit.Function(
        lambda x, dims=tuple(node.inputs[0].axis(d) for d in op.dims): x.mean(dims, keepdim=op.keepdim)),
    examples=(Mean((2, 3), keepdim=True), Mean((2, 3)), Example(Mean((1,)), layout="NLC")),
))


def adaptive_pool_shape(op: AdaptiveAvgPool, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    return Shape.image(x.batch, x.channels, op.output[0], op.output[1])


def adaptive_pool_flops(op: AdaptiveAvgPool, node: NodeShapes) -> Any:
    """Each output cell averages its window: window - 1 additions and one multiply, so the summed window sizes:
    ``N C x S_h x S_w`` with S the summed window lengths of an axis (``shapes.adaptive_window_total``)."""
    batch, channels, height, width = node.inputs[0].dims
    return batch * channels * adaptive_window_total(height, op.output[0]) * adaptive_window_total(width, op.output[1])


ADAPTIVE_POOL = register(OpDef(
    AdaptiveAvgPool,
    shape=adaptive_pool_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": adaptive_pool_flops, "papers": zero,
           "fvcore": input_elements,       # fvcore's adaptive_avg_pool2d handle, any output size
           "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=saves_input, input_flops=costmodel_only(adaptive_pool_flops)),
    kinds={"pool": "pooling"},
    spec=SpecForm("adaptive_avg_pool", lambda layer: AdaptiveAvgPool(layer.pair("output", 7)), fields="output"),
    lower=lambda op, node, kit: kit.nn.AdaptiveAvgPool2d(op.output),
    examples=(AdaptiveAvgPool((3, 3)), AdaptiveAvgPool((4, 5)), Example(AdaptiveAvgPool((2, 2)), layout="NHWC")),
))
