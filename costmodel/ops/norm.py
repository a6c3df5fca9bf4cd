"""Normalization: batch normalization in inference form, layer normalization and group normalization.

Batch normalization in inference form: ``y = x * s + b`` per channel (s and b folded from gamma, beta and the
running statistics), on an image or a feature vector.

params 2 per channel with ``affine`` (gamma and beta; the running mean and variance are buffers, not parameters);
FLOPs 2 per element (costmodel), fvcore's 2 per element (1 without affine); memory access input + output + gamma
and beta. It runs in place when it is the only reader of its input.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.ir import Op, check_bool, positive_int
from ..core.shapes import NodeShapes, Shape, ShapeContext, describe_layout, format_shape
from .common import elementwise_backward, output_elements, per_element, read_write_weights, zero
from .registry import Example, FieldReader, OpDef, Saved, SpecForm, register

BATCHNORM_FLOPS = 2   # costmodel: a multiply and an add per element (x * s + b)


@dataclass(frozen=True)
class BatchNorm(Op):
    """Batch normalization in inference form; ``affine`` adds the learned gamma and beta (2 per channel)."""

    affine: bool = True
    op_name: ClassVar[str] = "batchnorm"

    def __post_init__(self) -> None:
        check_bool(self.affine, "affine")


def batchnorm_shape(op: BatchNorm, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    """The input's shape; its channels are axis 1, as torch's BatchNorm1d and BatchNorm2d read them: a feature
    vector (N, C), a sequence (N, C, L) or an image (N, C, H, W), whatever costmodel calls the axes."""
    x = inputs[0]
    if x.rank in (2, 3):
        layout = "NC" if x.rank == 2 else "NCL"
        return x if x.layout == layout else Shape(layout, x.dims)
    return ctx.image(x) if x.rank == 4 else ctx.layout(x, "NCHW", "NC")


def batchnorm_params(op: BatchNorm, node: NodeShapes) -> Any:
    """gamma and beta, one each per channel, when affine."""
    return 2 * node.output.channels if op.affine else 0


def fvcore_batchnorm_flops(op: BatchNorm, node: NodeShapes) -> Any:
    """fvcore's batch_norm handle in eval mode: 2 per element with affine, 1 without."""
    return (2 if op.affine else 1) * node.output.numel


def read_batchnorm(layer: FieldReader) -> BatchNorm:
    return BatchNorm(affine=layer.get("affine", bool, True))


def lower_batchnorm(op: BatchNorm, node: NodeShapes, kit: Any) -> Any:
    norm = kit.nn.BatchNorm2d if node.output.layout == "NCHW" else kit.nn.BatchNorm1d
    return norm(node.output.channels, affine=op.affine)


# The backward of a normalization, per element (costmodel's convention), with x^ = (x - mean) / std and g the output
# gradient: the parameters' gradients sum g x^ and g (recompute x^: 2, multiply: 1, two sums: 2); the input's,
# (gamma / std) (g - mean(g) - x^ mean(g x^)), reuses those sums: subtract, multiply, subtract, scale (4) and the
# recomputed x^ it needs where no parameter gradient made it (1 more: 5).
NORM_BACKWARD_INPUT = 5
NORM_BACKWARD_WEIGHT = 5


def _statistics(per_group: Any) -> Any:
    """What a normalization saves: its input and the mean and 1 / std of each normalized group (two float32
    tensors of ``per_group(op, node)`` elements; BatchNorm's are its batch statistics in training)."""
    def saves(op: Any, node: NodeShapes) -> "tuple[Saved, ...]":
        return (Saved("input"), Saved("own", elements=lambda op, node: 2 * per_group(op, node), dtype="float32"))
    return saves


def batchnorm_refuses(op: BatchNorm, node: NodeShapes) -> str:
    """In training BatchNorm needs more than one value per channel (torch refuses a batch of 1 on a 1x1 map)."""
    if node.output.numel == node.output.channels:
        return (f"BatchNorm in training needs more than one value per channel, and {node.output.channels} channels of "
                f"batch {node.output.dims[0]} on a map of one element have one each: train with a batch of 2 or more")
    return ""


BATCHNORM = register(OpDef(
    BatchNorm,
    shape=batchnorm_shape,
    params=batchnorm_params,
    madds=zero,
    flops={"costmodel": per_element(BATCHNORM_FLOPS), "papers": zero, "fvcore": fvcore_batchnorm_flops,
           "flop_counter": zero},
    memory_access=read_write_weights(batchnorm_params),
    activation=output_elements,
    backward=dataclasses.replace(elementwise_backward(NORM_BACKWARD_INPUT, NORM_BACKWARD_WEIGHT,
                                                      _statistics(lambda op, node: node.output.channels)),
                                 refuses=batchnorm_refuses),
    kinds={"batchnorm": "batch normalization"},
    memory="in_place",
    spec=SpecForm("batchnorm", read_batchnorm, fields="affine"),
    lower=lower_batchnorm,
    examples=(BatchNorm(), BatchNorm(affine=False), Example(BatchNorm(), layout="NC"),
              Example(BatchNorm(), layout="NCL"), Example(BatchNorm(), layout="NLC"),
              Example(BatchNorm(), layout="NHWC")),
))


# Layer and group normalization normalize groups of elements by their own mean and variance, at inference as in
# training (there are no running statistics to fold). costmodel counts 5 operations per element (the mean's sum,
# the subtraction, the square, the variance's sum, the multiply by 1 / sqrt(var + eps)) and 2 more for the affine
# x * gamma + beta; fvcore's norm handle counts 5 per element with affine and 4 without.
NORM_FLOPS = 5            # costmodel: sum, subtract, square, sum, multiply, per element
AFFINE_FLOPS = 2          # costmodel: x * gamma + beta


@dataclass(frozen=True)
class LayerNorm(Op):
    """Layer normalization over the last ``dims`` axes of a tensor (``nn.LayerNorm(shape[-dims:])``), e.g. each
    token's channels; ``channels_first`` makes it the channel-wise LayerNorm2d of ConvNeXt-style networks, which
    normalizes each pixel's C channels of an N x C x H x W map. ``affine`` adds gamma (and beta with ``bias``)
    over the normalized shape."""

    dims: int = 1
    affine: bool = True
    bias: bool = True
    channels_first: bool = False
    op_name: ClassVar[str] = "layernorm"

    def __post_init__(self) -> None:
        positive_int(self.dims, "dims", 8)
        check_bool(self.affine, "affine")
        check_bool(self.bias, "bias")
        check_bool(self.channels_first, "channels_first")
        if self.channels_first and self.dims != 1:
            raise CostModelError("a channels-first LayerNorm normalizes the channels only (dims = 1)")


@dataclass(frozen=True)
class GroupNorm(Op):
    """Group normalization (``nn.GroupNorm(groups, C)``): the C channels in ``groups`` groups, each normalized
    over its channels and the whole map; ``affine`` adds gamma and beta per channel."""

    groups: int = 32
    affine: bool = True
    op_name: ClassVar[str] = "groupnorm"

    def __post_init__(self) -> None:
        positive_int(self.groups, "groups")
        check_bool(self.affine, "affine")


def normalized_shape(op: LayerNorm, x: Shape) -> tuple:
    """The sizes each group of normalized elements spans: the last ``dims`` axes, or the channels."""
    return (x.channels,) if op.channels_first else x.dims[len(x.dims) - op.dims:]


def layernorm_shape(op: LayerNorm, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    if op.channels_first:
        return ctx.layout(x, "NCHW")
    if op.dims >= x.rank:
        raise ctx.fail(f"cannot normalize the last {op.dims} axes of a {describe_layout(x.layout)} of "
                       f"{format_shape(x)} (the batch axis is not one)")
    return x


def layernorm_params(op: LayerNorm, node: NodeShapes) -> Any:
    """gamma (and beta with ``bias``), one each per element of the normalized shape, when affine."""
    if not op.affine:
        return 0
    size: Any = 1
    for extent in normalized_shape(op, node.output):
        size = size * extent
    return size * (2 if op.bias else 1)


def layernorm_groups(op: LayerNorm, node: NodeShapes) -> Any:
    """The groups a LayerNorm normalizes: the elements over the normalized shape's."""
    size: Any = 1
    for extent in normalized_shape(op, node.output):
        size = size * extent
    return node.output.numel // size


def norm_flops(op: Any, node: NodeShapes) -> Any:
    """5 per element (sum, subtract, square, sum, multiply by the reciprocal deviation), plus 2 with affine."""
    return (NORM_FLOPS + (AFFINE_FLOPS if op.affine else 0)) * node.output.numel


def fvcore_norm_flops(op: Any, node: NodeShapes) -> Any:
    """fvcore's layer_norm / group_norm handle: 5 per input element with affine, 4 without."""
    return (5 if op.affine else 4) * node.output.numel


def read_layernorm(layer: FieldReader) -> LayerNorm:
    return LayerNorm(layer.get("dims", int, 1), affine=layer.get("affine", bool, True),
                     bias=layer.get("bias", bool, True), channels_first=layer.get("channels_first", bool, False))


def _channels_last_norm(kit: Any, module: Any) -> Any:
    """LayerNorm2d as timm writes it: permute to N x H x W x C, normalize the channels, permute back."""
    return kit.Function(lambda m, x: m.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2), norm=module)


def lower_layernorm(op: LayerNorm, node: NodeShapes, kit: Any) -> Any:
    shape = normalized_shape(op, node.output)
    norm = kit.nn.LayerNorm(tuple(shape), elementwise_affine=op.affine, bias=op.bias)
    return _channels_last_norm(kit, norm) if op.channels_first else norm


LAYERNORM = register(OpDef(
    LayerNorm,
    shape=layernorm_shape,
    params=layernorm_params,
    madds=zero,
    flops={"costmodel": norm_flops, "papers": zero, "fvcore": fvcore_norm_flops, "flop_counter": zero},
    memory_access=read_write_weights(layernorm_params),
    activation=output_elements,
    backward=elementwise_backward(NORM_BACKWARD_INPUT, NORM_BACKWARD_WEIGHT, _statistics(layernorm_groups)),
    kinds={"layernorm": "layer normalization"},
    spec=SpecForm("layernorm", read_layernorm, fields="dims, affine, bias, channels_first"),
    lower=lower_layernorm,
    examples=(LayerNorm(), LayerNorm(2, affine=False), LayerNorm(bias=False), LayerNorm(channels_first=True)),
))


def groupnorm_shape(op: GroupNorm, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    ctx.require(x.channels % op.groups == 0, lambda: f"groups={op.groups} must divide the {x.channels} channels")
    return x


def groupnorm_params(op: GroupNorm, node: NodeShapes) -> Any:
    """gamma and beta per channel, when affine."""
    return 2 * node.output.channels if op.affine else 0


GROUPNORM = register(OpDef(
    GroupNorm,
    shape=groupnorm_shape,
    params=groupnorm_params,
    madds=zero,
    flops={"costmodel": norm_flops, "papers": zero, "fvcore": fvcore_norm_flops, "flop_counter": zero},
    memory_access=read_write_weights(groupnorm_params),
    activation=output_elements,
    backward=elementwise_backward(NORM_BACKWARD_INPUT, NORM_BACKWARD_WEIGHT,
                                  _statistics(lambda op, node: node.output.dims[0] * op.groups)),
    kinds={"groupnorm": "group normalization"},
    spec=SpecForm("groupnorm", lambda layer: GroupNorm(layer.get("groups", int, required=True),
                                                       affine=layer.get("affine", bool, True)),
                  fields="groups, affine"),
    lower=lambda op, node, kit: kit.nn.GroupNorm(op.groups, node.output.channels, affine=op.affine),
    examples=(GroupNorm(2), GroupNorm(1, affine=False), Example(GroupNorm(2), layout="NHWC")),
))
