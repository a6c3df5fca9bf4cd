"""Every op costmodel knows, one module per family, each declaring its ops in one place (see ``registry``).

The families register in the order below, which is the order of the layer kinds in the per-kind view. A new op is a
new declaration in its family's module, or a new module added to this list.
"""
from . import conv, linear, norm, activation, pool, elementwise, tensor  # noqa: F401  (registration order)
from .activation import ACTIVATIONS, Activation
from .conv import Conv2d, same_padding
from .elementwise import Add, Multiply
from .linear import Linear
from .norm import BatchNorm
from .pool import AdaptiveAvgPool, GlobalAvgPool, Pool2d
from .registry import (FieldReader, OpDef, SpecForm, definition, definitions, kind_titles, spec_form,
                       spec_names)
from .tensor import ChannelShuffle, Concat, Dropout, Flatten, Split

__all__ = [
    "ACTIVATIONS", "Activation", "AdaptiveAvgPool", "Add", "BatchNorm", "ChannelShuffle", "Concat", "Conv2d",
    "Dropout", "FieldReader", "Flatten", "GlobalAvgPool", "Linear", "Multiply", "OpDef", "Pool2d", "SpecForm",
    "Split", "definition", "definitions", "kind_titles", "same_padding", "spec_form", "spec_names",
]
