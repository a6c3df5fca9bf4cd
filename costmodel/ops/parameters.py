"""Learned parameters used as tensors: ViT's class token and position embedding, and the layer scale of CaiT,
ConvNeXt and MobileNetV4. Each counts its parameters; the arithmetic is an element-wise add or multiply (fvcore:
``aten::add`` / ``aten::mul`` are unsupported, 0; prepending the token is a concatenation, no arithmetic).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.ir import Op
from ..core.shapes import NodeShapes, Shape, ShapeContext
from .common import NO_FLOPS, costmodel_only, output_elements, read_write, zero
from .registry import Example, OpDef, SpecForm, register


@dataclass(frozen=True)
class ClassToken(Op):
    """A learned token of C features put before the L tokens of every sample: N x L x C -> N x (L + 1) x C
    (ViT's ``cls_token``)."""

    op_name: ClassVar[str] = "class_token"


def class_token_shape(op: ClassToken, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.layout(inputs[0], "NLC")
    return x.with_size(L=x.size("L") + 1)


def _one_token(op: Any, node: NodeShapes) -> Any:
    """C: the token's features."""
    return node.output.channels


def _class_token_memory(op: ClassToken, node: NodeShapes) -> Any:
    """The tokens read, the longer sequence written, the token read once per batch."""
    return read_write(op, node) + node.output.channels


def lower_class_token(op: ClassToken, node: NodeShapes, kit: Any) -> Any:
    token = kit.nn.Parameter(kit.torch.zeros(1, 1, node.output.channels))
    return kit.Function(lambda m, x: kit.torch.cat([m.cls_token.expand(x.shape[0], -1, -1), x], dim=1),
                        cls_token=token)


CLASS_TOKEN = register(OpDef(
    ClassToken,
    shape=class_token_shape,
    params=_one_token,
    madds=zero,
    flops=NO_FLOPS,
    memory_access=_class_token_memory,
    activation=output_elements,
    kinds={"embedding": "learned tokens and embeddings"},
    spec=SpecForm("class_token", lambda layer: ClassToken()),
    lower=lower_class_token,
    examples=(Example(ClassToken(), layout="NLC"),),
))


@dataclass(frozen=True)
class PositionEmbedding(Op):
    """A learned tensor of one sample's shape added to every sample (ViT's ``pos_embed``: L x C). Its parameters
    follow the input: a ViT at another resolution has another number of tokens, and so of parameters (timm
    resizes the table)."""

    op_name: ClassVar[str] = "position_embedding"


def _sample_elements(op: Any, node: NodeShapes) -> Any:
    """One sample's elements (L C for tokens)."""
    return node.output.numel // node.output.batch


def _position_memory(op: PositionEmbedding, node: NodeShapes) -> Any:
    """The input read, the output written, the embedding read once per batch."""
    return read_write(op, node) + _sample_elements(op, node)


def lower_position_embedding(op: PositionEmbedding, node: NodeShapes, kit: Any) -> Any:
    table = kit.nn.Parameter(kit.torch.zeros(1, *node.output.sample))
    return kit.Function(lambda m, x: x + m.pos_embed, pos_embed=table)


POSITION_EMBEDDING = register(OpDef(
    PositionEmbedding,
    shape=lambda op, inputs, ctx: inputs[0],
    params=_sample_elements,
    madds=zero,
    flops=costmodel_only(output_elements),          # one addition per element
    memory_access=_position_memory,
    activation=output_elements,
    kinds={"embedding": "learned tokens and embeddings"},
    spec=SpecForm("position_embedding", lambda layer: PositionEmbedding()),
    lower=lower_position_embedding,
    examples=(Example(PositionEmbedding(), layout="NLC"), PositionEmbedding()),
))


@dataclass(frozen=True)
class LayerScale(Op):
    """A learned scale per channel, ``x * gamma`` (CaiT's LayerScale; ConvNeXt's and MobileNetV4's gamma on a map)."""

    op_name: ClassVar[str] = "layer_scale"


def layer_scale_shape(op: LayerScale, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    ctx.channels(inputs[0])
    return inputs[0]


def _channels(op: Any, node: NodeShapes) -> Any:
    """gamma: one per channel."""
    return node.output.channels


def lower_layer_scale(op: LayerScale, node: NodeShapes, kit: Any) -> Any:
    shape = [1] * len(node.output.dims)
    axis = node.output.layout.index("C")
    shape[axis] = node.output.channels
    gamma = kit.nn.Parameter(kit.torch.zeros(node.output.channels))
    return kit.Function(lambda m, x: x * m.gamma.view(shape), gamma=gamma)


LAYER_SCALE = register(OpDef(
    LayerScale,
    shape=layer_scale_shape,
    params=_channels,
    madds=zero,
    flops=costmodel_only(output_elements),          # one multiply per element
    memory_access=lambda op, node: read_write(op, node) + node.output.channels,
    activation=output_elements,
    kinds={"scale": "layer scale"},
    spec=SpecForm("layer_scale", lambda layer: LayerScale()),
    lower=lower_layer_scale,
    examples=(LayerScale(), Example(LayerScale(), layout="NLC")),
))
