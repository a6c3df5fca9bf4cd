"""2-D convolution: standard, depthwise, group and pointwise, in the papers' notation.

Notation (MobileNetV1 paper, Section 3.1): D_K x D_K is the kernel, M the input channels, N the output channels,
D_F x D_F the output feature map (the paper assumes stride 1 and "same" padding; with strides the output map is the
one that counts), g the number of groups; shapes carry the batch B, which multiplies everything but the weights.

- params ``D_K^2 (M / g) N`` (+ N biases);
- mult-adds ``D_K^2 (M / g) N D_F^2 B``: standard ``D_K^2 M N D_F^2`` (eq. 2), depthwise (g = M) ``D_K^2 M D_F^2``
  (eq. 4), pointwise ``M N D_F^2``, group convolution the standard cost / g;
- memory access (ShuffleNetV2's MAC): input + output + weights; for a 1x1 convolution ``hw(c1 + c2) + c1 c2``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Union

from ..core.errors import CostModelError
from ..core.ir import Op, Pair, check_bool, index_int, pair_of, positive_int
from ..core.scaling import MAX_SIZE, Scaled, Width, as_width
from ..core.shapes import (NodeShapes, Shape, ShapeContext, as_image, conv_output_size, describe_layout, format_shape,
                           same_output_size)
from ..core.symbolic import both
from .common import output_elements, read_write_weights, scaled, weighted_backward
from .registry import Example, FieldReader, OpDef, Saved, SpecForm, register, saves_input


@dataclass(frozen=True)
class Conv2d(Op):
    """2-D convolution. ``out_channels=None`` keeps the input width (a depthwise layer); ``groups="depthwise"``
    means one group per input channel at every width. ``padding`` is an (h, w) pair or ``"same"`` (TensorFlow's:
    output = ceil(input / stride)) or ``"valid"`` (no padding). ``string_padding``: torch was given its padding
    as a string (``nn.Conv2d(padding="same")``, ConvMixer's), which it runs as ``aten::_convolution_mode``, an
    op fvcore does not count: its fvcore count is 0 (fvcore warns of the unsupported op)."""

    out_channels: Width | None = None
    kernel: Pair = (3, 3)
    stride: Pair = (1, 1)
    padding: Union[Pair, str] = (0, 0)
    dilation: Pair = (1, 1)
    groups: Union[int, str] = 1
    bias: bool = False
    string_padding: bool = False
    op_name: ClassVar[str] = "conv2d"

    def __post_init__(self) -> None:
        if self.out_channels is not None:
            object.__setattr__(self, "out_channels", as_width(self.out_channels))
        object.__setattr__(self, "kernel", pair_of(self.kernel, "kernel", 1))
        object.__setattr__(self, "stride", pair_of(self.stride, "stride", 1))
        object.__setattr__(self, "dilation", pair_of(self.dilation, "dilation", 1))
        if isinstance(self.padding, str):
            if self.padding not in ("same", "valid"):
                raise CostModelError(f"padding must be a pair of integers, 'same' or 'valid', got {self.padding!r}")
        else:
            object.__setattr__(self, "padding", pair_of(self.padding, "padding", 0))
        if self.groups != "depthwise":
            positive_int(self.groups, "groups")
        check_bool(self.bias, "bias")
        check_bool(self.string_padding, "string_padding")


def groups(op: Conv2d, x: Shape) -> Any:
    """g: the op's groups, or one per input channel for a depthwise layer."""
    return x.channels if op.groups == "depthwise" else op.groups


def conv_shape(op: Conv2d, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    batch, m, height, width = x.dims
    n = m if op.out_channels is None else ctx.width(op.out_channels, m)
    ctx.require(n >= 1, lambda: f"out_channels resolves to {n}")
    g = groups(op, x)
    if op.groups != "depthwise":
        ctx.require(m % g == 0, lambda: f"groups={g} must divide both in_channels {m} and out_channels {n}")
    if op.groups != 1:
        ctx.require(n % g == 0, lambda: f"groups={g} must divide both in_channels {m} and out_channels {n}")
    sizes = []
    for axis, size in enumerate((height, width)):
        k, s, d = op.kernel[axis], op.stride[axis], op.dilation[axis]
        if op.padding == "same":
            out = same_output_size(size, s)
        else:
            p = 0 if isinstance(op.padding, str) else op.padding[axis]        # "valid": no padding
            out = conv_output_size(size, k, s, p, d)
        detail = (lambda s=s: f"input {height}x{width}, kernel {op.kernel[0]}x{op.kernel[1]}, stride {s}, "
                              f"padding {op.padding}")
        sizes.append(ctx.positive("output size", out, detail))
    return Shape.image(batch, n, sizes[0], sizes[1])


def conv_params(op: Conv2d, node: NodeShapes) -> Any:
    """Weights ``D_K * D_K * (M / g) * N``, plus N biases: standard ``D_K^2 M N``, depthwise (g = M = N)
    ``D_K^2 M``, pointwise ``M N``, group ``D_K^2 M N / g``."""
    x, n = as_image(node.inputs[0]), node.output.channels
    return op.kernel[0] * op.kernel[1] * (x.channels // groups(op, x)) * n + (n if op.bias else 0)


def conv_madds(op: Conv2d, node: NodeShapes) -> Any:
    """Multiply-accumulates ``D_K * D_K * (M / g) * N * D_F * D_F`` per image: standard ``D_K^2 M N D_F^2``
    (paper eq. 2), depthwise ``D_K^2 M D_F^2`` (eq. 4), pointwise ``M N D_F^2``, group convolution the standard
    cost / g. Bias additions are not multiply-accumulates and are not counted here."""
    x = as_image(node.inputs[0])
    return op.kernel[0] * op.kernel[1] * (x.channels // groups(op, x)) * node.output.numel


def conv_flops(op: Conv2d, node: NodeShapes) -> Any:
    """``2 * D_K^2 (M / g) N D_F^2``, plus ``N D_F^2`` bias additions when the layer has a bias."""
    return 2 * conv_madds(op, node) + (node.output.numel if op.bias else 0)


def fvcore_conv_flops(op: Conv2d, node: NodeShapes) -> Any:
    """fvcore's conv handle, ``N Cout Ho Wo (Cin / g) kh kw`` (the mult-adds; bias never counted), or 0 for a
    padding given to torch as a string (``aten::_convolution_mode``, which fvcore does not count)."""
    return 0 if op.string_padding else conv_madds(op, node)


def conv_kind(op: Conv2d, node: NodeShapes) -> str:
    """*depthwise* with one group per input channel (groups = M, so N = M or a multiple of it), *group* with
    several groups otherwise, *pointwise* when ungrouped and 1x1, *conv* (standard) otherwise. The kind follows the
    resolved widths: a fixed ``groups=8`` layer thinned to 8 channels is depthwise at that width."""
    x = as_image(node.inputs[0])
    m = x.channels
    g = groups(op, x)
    if g > 1 and g == m:
        return "depthwise"
    if g > 1:
        return "group"
    return "pointwise" if op.kernel == (1, 1) else "conv"


def same_padding(kernel: int, dilation: int = 1) -> int:
    """Symmetric padding that keeps the map size at stride 1 for an odd kernel: ``d (k - 1) / 2``. At stride s it
    gives ``ceil(D / s)`` outputs, the same sizes as TensorFlow's "same" padding."""
    return dilation * (kernel - 1) // 2


def read_conv(layer: FieldReader) -> Conv2d:
    out = layer.width("out", allow=("same",))
    groups = layer.get("groups", (int, str), 1)
    if isinstance(groups, str) and groups != "depthwise":
        raise layer.fail(f"field 'groups' must be an integer or 'depthwise', got {groups!r}")
    kernel = layer.pair("kernel", 3)
    dilation = layer.pair("dilation", 1)
    padding = layer.get("padding", (int, list, str), "auto")
    if padding == "auto":
        kh, kw = kernel if isinstance(kernel, tuple) else (kernel, kernel)
        dh, dw = dilation if isinstance(dilation, tuple) else (dilation, dilation)
        padding = (same_padding(kh, dh), same_padding(kw, dw))
    elif isinstance(padding, list):
        padding = layer.pair("padding", 0)
    return Conv2d(None if out == "same" else out, kernel=kernel, stride=layer.pair("stride", 1), padding=padding,
                  dilation=dilation, groups=groups, bias=layer.get("bias", bool, False))


def tf_same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TensorFlow's "same" padding: total ``max((ceil(D/S) - 1) S + d(K - 1) + 1 - D, 0)``, the extra on the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv_saves(op: Conv2d, node: NodeShapes) -> "tuple[Saved, ...]":
    """The input, for both gradients; with TensorFlow's "same" padding the padded copy the convolution reads
    (``lower_conv`` pads first: a buffer of its own, ``B M (H + top + bottom) (W + left + right)``)."""
    if op.padding != "same" or op.string_padding:
        return (Saved("input"),)

    def padded(op: Conv2d, node: NodeShapes) -> Any:
        x = as_image(node.inputs[0])
        top, bottom = tf_same_pads(x.size("H"), op.kernel[0], op.stride[0], op.dilation[0])
        left, right = tf_same_pads(x.size("W"), op.kernel[1], op.stride[1], op.dilation[1])
        return x.dims[0] * x.channels * (x.size("H") + top + bottom) * (x.size("W") + left + right)
    return (Saved("own", elements=padded),)


def lower_conv(op: Conv2d, node: NodeShapes, kit: Any) -> Any:
    """``nn.Conv2d``; with TensorFlow's "same" padding, one module that pads (asymmetrically where needed) and then
    convolves (``SameConv2d``)."""
    x = as_image(node.inputs[0])
    padding: Any = 0 if op.padding in ("same", "valid") else op.padding
    if op.string_padding:          # torch's own string: "valid", or "same" for the symmetric pads it computes
        padding = "valid" if op.padding == "valid" else "same"
    conv = kit.nn.Conv2d(x.channels, node.output.channels, op.kernel, op.stride, padding, op.dilation,
                         groups(op, x), bias=op.bias)
    if op.padding != "same":
        return conv
    top, bottom = tf_same_pads(x.size("H"), op.kernel[0], op.stride[0], op.dilation[0])
    left, right = tf_same_pads(x.size("W"), op.kernel[1], op.stride[1], op.dilation[1])
    return kit.SameConv2d(conv, (left, right, top, bottom))


CONV2D = register(OpDef(
    Conv2d,
    shape=conv_shape,
    params=conv_params,
    madds=conv_madds,
    flops={
        "costmodel": conv_flops,
        "papers": conv_madds,          # the papers' "FLOPs" are mult-adds
        "fvcore": fvcore_conv_flops,   # fvcore's conv handle: N Cout Ho Wo (Cin / g) kh kw; bias never counted
        "flop_counter": scaled(2, conv_madds),   # FlopCounterMode: 2 per multiply-accumulate; bias not counted
    },
    memory_access=read_write_weights(conv_params),
    activation=output_elements,
    backward=weighted_backward(conv_madds, lambda op, node: groups(op, as_image(node.inputs[0])),
                               lambda op: op.bias, conv_saves),
    kinds={"conv": "standard convolution", "depthwise": "depthwise convolution",
           "pointwise": "pointwise (1x1) convolution", "group": "group convolution"},
    kind=conv_kind,
    spec=SpecForm("conv2d", read_conv, node="conv",
                  fields="out (channels, \"same\" or \"num_classes\"), kernel, stride, dilation, padding "
                         "(\"auto\", int, [h, w], \"same\", \"valid\"), groups (int or \"depthwise\"), bias, fixed"),
    lower=lower_conv,
    examples=(Conv2d(8, kernel=3, padding=(1, 1)), Conv2d(None, kernel=3, stride=2, padding=(1, 1),
                                                         groups="depthwise"),
              Conv2d(8, kernel=1, groups=2, bias=True), Conv2d(6, kernel=(1, 3), stride=2, padding="same"),
              Conv2d(4, kernel=3, padding="valid", dilation=2), Example(Conv2d(5, kernel=3), layout="NHWC"),
              # ConvMixer's nn.Conv2d(padding="same"): fvcore counts 0
              Conv2d(None, kernel=3, padding=(1, 1), groups="depthwise", string_padding=True)),
))


@dataclass(frozen=True)
class ConvTranspose2d(Op):
    """Transposed 2-D convolution (``nn.ConvTranspose2d``), the upsampling of decoders: each input element scatters
    ``D_K^2 N / g`` products into the output. Output side ``(D - 1) S - 2 P + d (K - 1) + P_out + 1``.

    params ``D_K^2 (M / g) N`` (+ N biases); mult-adds ``D_K^2 (M / g) N D_in^2 B``, counted over the input map
    (fvcore's convention, and the work actually done: a stride-s transposed convolution has no products for the
    zeros a strided convolution would insert)."""

    out_channels: Width | None = None
    kernel: Pair = (2, 2)
    stride: Pair = (2, 2)
    padding: Pair = (0, 0)
    output_padding: Pair = (0, 0)
    dilation: Pair = (1, 1)
    groups: int = 1
    bias: bool = True
    op_name: ClassVar[str] = "conv_transpose2d"

    def __post_init__(self) -> None:
        if self.out_channels is not None:
            object.__setattr__(self, "out_channels", as_width(self.out_channels))
        object.__setattr__(self, "kernel", pair_of(self.kernel, "kernel", 1))
        object.__setattr__(self, "stride", pair_of(self.stride, "stride", 1))
        object.__setattr__(self, "padding", pair_of(self.padding, "padding", 0))
        object.__setattr__(self, "output_padding", pair_of(self.output_padding, "output_padding", 0))
        object.__setattr__(self, "dilation", pair_of(self.dilation, "dilation", 1))
        positive_int(self.groups, "groups")
        check_bool(self.bias, "bias")
        for axis in (0, 1):
            if self.output_padding[axis] >= max(self.stride[axis], self.dilation[axis]):
                raise CostModelError(f"output_padding {self.output_padding} must be smaller than the stride or the "
                                     "dilation")


def conv_transpose_shape(op: ConvTranspose2d, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    batch, m, height, width = x.dims
    n = m if op.out_channels is None else ctx.width(op.out_channels, m)
    ctx.require(n >= 1, lambda: f"out_channels resolves to {n}")
    ctx.require(both(m % op.groups == 0, n % op.groups == 0),
                lambda: f"groups={op.groups} must divide both in_channels {m} and out_channels {n}")
    sizes = []
    for axis, size in enumerate((height, width)):
        out = ((size - 1) * op.stride[axis] - 2 * op.padding[axis] + op.dilation[axis] * (op.kernel[axis] - 1)
               + op.output_padding[axis] + 1)
        sizes.append(ctx.positive("output size", out, lambda: f"input {height}x{width}, padding {op.padding}"))
    return Shape.image(batch, n, sizes[0], sizes[1])


def conv_transpose_params(op: ConvTranspose2d, node: NodeShapes) -> Any:
    """Weights ``M * (N / g) * D_K^2``, plus N biases."""
    m, n = as_image(node.inputs[0]).channels, node.output.channels
    return m * (n // op.groups) * op.kernel[0] * op.kernel[1] + (n if op.bias else 0)


def conv_transpose_madds(op: ConvTranspose2d, node: NodeShapes) -> Any:
    """``B * H_in * W_in * M * (N / g) * D_K^2``: every input element times the kernels it scatters into."""
    return node.inputs[0].numel * (node.output.channels // op.groups) * op.kernel[0] * op.kernel[1]


def conv_transpose_flops(op: ConvTranspose2d, node: NodeShapes) -> Any:
    """2 per mult-add, plus one addition per output element for the bias."""
    return 2 * conv_transpose_madds(op, node) + (node.output.numel if op.bias else 0)


def read_conv_transpose(layer: FieldReader) -> ConvTranspose2d:
    out = layer.width("out", allow=("same",))
    return ConvTranspose2d(None if out == "same" else out, kernel=layer.pair("kernel", 2),
                           stride=layer.pair("stride", 2), padding=layer.pair("padding", 0),
                           output_padding=layer.pair("output_padding", 0), dilation=layer.pair("dilation", 1),
                           groups=layer.get("groups", int, 1), bias=layer.get("bias", bool, True))


CONV_TRANSPOSE = register(OpDef(
    ConvTranspose2d,
    shape=conv_transpose_shape,
    params=conv_transpose_params,
    madds=conv_transpose_madds,
    flops={"costmodel": conv_transpose_flops, "papers": conv_transpose_madds,
           "fvcore": conv_transpose_madds,          # fvcore's conv handle, transposed: counted over the input
           "flop_counter": scaled(2, conv_transpose_madds)},
    memory_access=read_write_weights(conv_transpose_params),
    activation=output_elements,
    backward=weighted_backward(conv_transpose_madds, lambda op, node: op.groups, lambda op: op.bias, saves_input),
    kinds={"deconv": "transposed convolution"},
    spec=SpecForm("conv_transpose2d", read_conv_transpose, node="conv",
                  fields="out, kernel, stride, padding, output_padding, dilation, groups, bias, fixed"),
    lower=lambda op, node, kit: kit.nn.ConvTranspose2d(
        as_image(node.inputs[0]).channels, node.output.channels, op.kernel, op.stride, op.padding, op.output_padding,
        op.groups, op.bias, op.dilation),
    examples=(ConvTranspose2d(6), ConvTranspose2d(4, kernel=3, stride=2, padding=1, output_padding=1, groups=2,
                                                  bias=False),
              ConvTranspose2d(None, kernel=3, stride=1, padding=1, dilation=2),
              Example(ConvTranspose2d(3, kernel=2, stride=2), layout="NHWC")),
))


@dataclass(frozen=True)
class Conv1d(Op):
    """1-D convolution (``nn.Conv1d``) over the last axis of an N x C x L input (any 3-D tensor: axis 1 is read as
    its channels, as torch does): ECA attention's convolution across the channels of a pooled map. Output length
    ``floor((L + 2P - d(K - 1) - 1) / S) + 1``.

    params ``K (M / g) N`` (+ N biases); mult-adds ``K (M / g) N L_out B``, the 2-D formula with one spatial axis."""

    out_channels: Width = Scaled(1)
    kernel: int = 3
    stride: int = 1
    padding: int = 0
    dilation: int = 1
    groups: int = 1
    bias: bool = False
    op_name: ClassVar[str] = "conv1d"

    def __post_init__(self) -> None:
        object.__setattr__(self, "out_channels", as_width(self.out_channels))
        for field in ("kernel", "stride", "dilation", "groups"):
            positive_int(getattr(self, field), field)
        index_int(self.padding, "padding", MAX_SIZE)
        check_bool(self.bias, "bias")


def conv1d_shape(op: Conv1d, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    if x.rank != 3:
        raise ctx.fail(f"conv1d needs a sequence (N, C, L) input, got a {describe_layout(x.layout)} of "
                       f"{format_shape(x)}")
    batch, m, length = x.dims
    n = ctx.width(op.out_channels, m)
    ctx.require(m % op.groups == 0 and n % op.groups == 0,
                lambda: f"groups={op.groups} must divide both in_channels {m} and out_channels {n}")
    out = conv_output_size(length, op.kernel, op.stride, op.padding, op.dilation)
    out = ctx.positive("output length", out, lambda: f"input length {length}, kernel {op.kernel}")
    return Shape("NCL", (batch, n, out))


def conv1d_params(op: Conv1d, node: NodeShapes) -> Any:
    """Weights ``K (M / g) N``, plus N biases."""
    m, n = node.inputs[0].dims[1], node.output.dims[1]
    return op.kernel * (m // op.groups) * n + (n if op.bias else 0)


def conv1d_madds(op: Conv1d, node: NodeShapes) -> Any:
    """``K (M / g)`` multiply-accumulates per output element."""
    return op.kernel * (node.inputs[0].dims[1] // op.groups) * node.output.numel


def conv1d_flops(op: Conv1d, node: NodeShapes) -> Any:
    """2 per mult-add, plus one addition per output element for the bias."""
    return 2 * conv1d_madds(op, node) + (node.output.numel if op.bias else 0)


CONV1D = register(OpDef(
    Conv1d,
    shape=conv1d_shape,
    params=conv1d_params,
    madds=conv1d_madds,
    flops={"costmodel": conv1d_flops, "papers": conv1d_madds,
           "fvcore": conv1d_madds,                   # fvcore's conv handle, one spatial axis
           "flop_counter": scaled(2, conv1d_madds)},
    memory_access=read_write_weights(conv1d_params),
    activation=output_elements,
    backward=weighted_backward(conv1d_madds, lambda op, node: op.groups, lambda op: op.bias, saves_input),
    kinds={"conv1d": "1-D convolution"},
    spec=SpecForm("conv1d", lambda layer: Conv1d(layer.width("out"), layer.get("kernel", int, 3),
                                                 layer.get("stride", int, 1), layer.get("padding", int, 0),
                                                 layer.get("dilation", int, 1), layer.get("groups", int, 1),
                                                 layer.get("bias", bool, False)),
                  node="conv", fields="out, kernel, stride, padding, dilation, groups, bias, fixed"),
    lower=lambda op, node, kit: kit.nn.Conv1d(node.inputs[0].dims[1], node.output.dims[1], op.kernel, op.stride,
                                              op.padding, op.dilation, op.groups, op.bias),
    examples=(Example(Conv1d(6, kernel=3, padding=1), layout="NCL"),
              Example(Conv1d(4, kernel=5, stride=2, padding=2, dilation=1, groups=2, bias=True), layout="NCL"),
              Example(Conv1d(1, kernel=3, padding=1), layout="NLC")),
    example_input="NCL",
))
