"""Every op costmodel knows, one module per family, each declaring its ops in one place (see ``registry``).

The families register in the order below, which is the order of the layer kinds in the per-kind view. A new op is a
new declaration in its family's module, or a new module added to this list.
"""
from . import (conv, linear, norm, activation, pool, elementwise, tensor, resize, parameters,  # noqa: F401
               attention, imported, fused)                                               # (registration order)
from .activation import ACTIVATIONS, Activation, Softmax
from .attention import AttentionBias, Einsum, MatMul, MultiheadAttention, ScaledDotProductAttention
from .conv import Conv1d, Conv2d, ConvTranspose2d, same_padding
from .elementwise import Add, Broadcast, Multiply, Scale, Shift, Subtract
from .fused import Fused
from .imported import Opaque, UnusedParameters
from .linear import Linear
from .norm import BatchNorm, GroupNorm, LayerNorm
from .parameters import ClassToken, LayerScale, LearnedTerm, PositionEmbedding, Standardize, Weights
from .pool import AdaptiveAvgPool, GlobalAvgPool, Mean, Pool2d
from .registry import (Example, FieldReader, OpDef, SpecForm, definition, definitions, kind_titles, spec_form,
                       spec_names)
from .resize import Interpolate
from .tensor import (ChannelShuffle, Concat, DropPath, Dropout, Flatten, Pad, PatchFold, PatchUnfold, Permute,
                     Select, Slice, Split, Transpose, Unflatten, Unsqueeze)

__all__ = [
    "ACTIVATIONS", "Activation", "AdaptiveAvgPool", "Add", "AttentionBias", "BatchNorm", "Broadcast",
    "ChannelShuffle", "ClassToken", "Concat", "Conv1d", "Conv2d", "ConvTranspose2d", "DropPath", "Dropout", "Example",
    "Einsum", "FieldReader", "Flatten", "Fused", "GlobalAvgPool", "GroupNorm", "Interpolate", "LayerNorm",
    "LayerScale", "LearnedTerm", "Linear", "MatMul", "Mean", "MultiheadAttention", "Multiply", "OpDef", "Opaque",
    "Pad", "PatchFold",
    "PatchUnfold", "Permute", "Pool2d", "PositionEmbedding", "Scale", "ScaledDotProductAttention", "Select", "Shift",
    "Slice", "Softmax", "SpecForm", "Split", "Standardize", "Subtract", "Transpose", "Unflatten", "Unsqueeze",
    "UnusedParameters", "Weights",
    "definition", "definitions", "kind_titles", "same_padding", "spec_form", "spec_names",
]
