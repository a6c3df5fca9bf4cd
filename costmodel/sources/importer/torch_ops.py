"""What each torch module type and function is in costmodel's ops (the importer's table, as fvcore's handles map
each ATen op to a counter).

``call_module`` maps a leaf module of the fx graph (one of ``torch.nn``'s) by its type; ``call_function`` maps a
function or tensor method by its name. Each checks what the real call would check (a convolution's input
channels, a linear layer's input features) so that a size the module cannot take is refused, not counted. A call
with no entry here becomes an ``Opaque`` node: its shape comes from running that one call on meta tensors, its
parameters are kept, and it is listed as not counted.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from ...core.errors import CostModelError
from ...core.ir import INPUT, Op
from ...ops import (Activation, AdaptiveAvgPool, Add, AttentionBias, BatchNorm, ChannelShuffle, ClassToken, Concat,
                   Conv1d, Conv2d, ConvTranspose2d, Dropout, Einsum, Flatten, GlobalAvgPool, GroupNorm, Interpolate,
                   LayerNorm, Linear, MatMul, Mean, MultiheadAttention, Pad, PatchFold, PatchUnfold, Permute, Pool2d,
                   Scale, ScaledDotProductAttention, Select, Slice, Softmax, Split, Standardize, Transpose, Unflatten,
                   Unsqueeze, Weights)
from ...ops.attention import einsum_terms
from ...ops.conv import tf_same_pads
from ...core.shapes import Shape
from . import torch_eager, torch_layouts, torch_sized
from .mapping import (PATCH_ORDER, GraphMapper, Chunks, Derived, Learned, Pending, Permuted, Tensor, claim_reads,
                      elementwise, learned_operand, learned_reads, make, select_permuted, tensors, weights_tensor)
from .reshape import reshape_steps


class TorchModel(Protocol):
    """What a handler needs of the module being mapped (``torch_graph.TorchModel``): to claim a submodule's
    learned tensors for the node that uses them first, and the kernel torch runs for the attention call being
    mapped."""

    def claim(self, builder: GraphMapper, module_path: str, module: Any) -> int: ...

    def reads_batch_size(self) -> "bool | None": ...

    def attention_kernel(self) -> str: ...

    def traced_value(self, target: Any) -> Any: ...

    def other_operands(self) -> Any: ...


ACTIVATION_MODULES: dict[type, Callable[[Any], "str | None"]] = {
    nn.ReLU: lambda m: "relu", nn.ReLU6: lambda m: "relu6", nn.Hardswish: lambda m: "hswish",
    nn.Hardsigmoid: lambda m: "hsigmoid", nn.Sigmoid: lambda m: "sigmoid", nn.SiLU: lambda m: "silu",
    nn.Tanh: lambda m: "tanh", nn.LeakyReLU: lambda m: "leaky_relu",
    nn.GELU: lambda m: "gelu_tanh" if m.approximate == "tanh" else "gelu",
    nn.Hardtanh: lambda m: "relu6" if (m.min_val, m.max_val) == (0.0, 6.0) else None,
}

ACTIVATION_FUNCTIONS = {
    "relu": "relu", "relu6": "relu6", "hardswish": "hswish", "hardsigmoid": "hsigmoid", "sigmoid": "sigmoid",
    "silu": "silu", "tanh": "tanh", "leaky_relu": "leaky_relu",
}
ACTIVATION_FUNCTIONS.update({f"{name}_": function for name, function in ACTIVATION_FUNCTIONS.items()})  # in place

# the functions whose handlers take a parameter or buffer as their first argument (``pos_embed + x``, ``gamma * x``)
_READS_LEARNED = {"add", "iadd", "add_", "radd", "sub", "isub", "sub_", "mul", "imul", "mul_", "rmul", "truediv",
                  "div", "itruediv", "div_"}
PASS_THROUGH = {"contiguous", "clone", "detach", "float", "to", "type_as", "identity", "requires_grad_", "alias",
                "detach_", "lift_fresh_copy"}


def _sizes(shape: Shape) -> tuple[int, ...]:
    return tuple(int(size) for size in shape.dims)


def _meta(value: Any) -> Any:
    """``value`` (call arguments) with every tensor of the graph as a meta tensor of its sizes and type."""
    if isinstance(value, Tensor):
        return torch.empty(_sizes(value.shape), device="meta")
    if isinstance(value, (Learned, Derived)):
        return torch.empty(value.sizes, dtype=value.dtype or torch.float32, device="meta")
    if isinstance(value, torch.Tensor):          # a constant of an exported program
        return torch.empty(value.shape, dtype=value.dtype, device="meta")
    if isinstance(value, (tuple, list)):
        return type(value)(_meta(item) for item in value)
    if isinstance(value, dict):
        return {key: _meta(item) for key, item in value.items()}
    return value


# uncounted calls whose result has their first argument's sizes: torch's meta kernel of ``F.normalize`` (its Python
# reference: a norm, a clamp, a division) took 4 ms a call, a quarter of XCiT's import; ``torch.roll``'s (an index
# of each element) took 2 ms, a fifth of the mapping of timm's Swin-T
SIZES_OF_FIRST = (F.normalize, torch.roll, torch.Tensor.roll, F.rms_norm, torch.rms_norm, operator.neg, torch.neg,
                  torch.Tensor.neg)
# the same where every other argument is a number or None: a clamp's bounds (a tensor bound broadcasts)
SIZES_OF_FIRST_WITH_NUMBERS = (torch.clamp, torch.clip, torch.Tensor.clamp, torch.Tensor.clip)


def _meta_shape(call: Callable[..., Any], args: Any, kwargs: Any, with_count: bool = False,
                known: Any = None) -> Any:
    """The output sizes of ``call`` on meta tensors of the arguments' shapes (for a call costmodel does not count);
    ``with_count``: also the length of a tuple result (None for a tensor). ``known``: the call's value where the
    captured graph keeps it (a trace at one size, an exported program), used instead of running the call."""
    if known is not None:
        result = known
    elif args and isinstance(args[0], (Tensor, Learned, Derived)) and (
            any(call is function for function in SIZES_OF_FIRST) or
            any(call is function for function in SIZES_OF_FIRST_WITH_NUMBERS) and
            all(type(value) in (int, float, type(None)) for value in _flat((args[1:], list(kwargs.values()))))):
        result = _meta(args[0])
    else:
        try:
            result = call(*_meta(args), **_meta(kwargs))
        except Exception:
            return (None, None) if with_count else None
    count = len(result) if isinstance(result, (tuple, list)) else None
    while isinstance(result, (tuple, list)) and result:
        result = result[0]
    sizes = tuple(result.shape) if isinstance(result, torch.Tensor) else None
    return (sizes, count) if with_count else sizes


def _check(condition: bool, message: Callable[[], str]) -> None:
    if not condition:
        raise CostModelError(message())


def _same_padding(x: Any, kernel: Any, stride: Any, dilation: Any, padding: Any) -> Any:
    """``(source, "same")`` where ``x`` is a pending zero padding that is TensorFlow's "same" padding for this
    convolution (which pads nothing itself); else ``(x made, padding)``."""
    if isinstance(x, Pending) and x.kind == "pad" and _pair(padding) == (0, 0):
        height, width = x.source.shape.dims[2], x.source.shape.dims[3]
        kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
        top, bottom = tf_same_pads(height, kernel[0], stride[0], dilation[0])
        left, right = tf_same_pads(width, kernel[1], stride[1], dilation[1])
        if tuple(x.data) == (left, right, top, bottom):
            return x.source, "same"
    return x, padding


def _conv(builder: GraphMapper, name: str, module: Any, x: Any, transposed: bool = False) -> Any:
    same = None
    if not transposed:
        x, same = _same_padding(x, module.kernel_size, module.stride, module.dilation, module.padding)
    x = make(builder, x)
    _check(x.shape.rank == 4, lambda: f"{name} ({type(module).__name__}) needs an image, got "
                                             f"{'x'.join(map(str, _sizes(x.shape)[1:]))}")
    _check(x.shape.dims[1] == module.in_channels,
           lambda: f"{name} takes {module.in_channels} channels, it receives {x.shape.dims[1]}")
    padding = module.padding
    if isinstance(padding, str):
        padding = "valid" if padding == "valid" else tuple(d * (k - 1) // 2 for k, d in
                                                          zip(module.kernel_size, module.dilation))
    op: Op
    if transposed:
        op = ConvTranspose2d(module.out_channels, tuple(module.kernel_size), tuple(module.stride), tuple(padding),
                             tuple(module.output_padding), tuple(module.dilation), module.groups,
                             module.bias is not None)
    else:
        op = Conv2d(module.out_channels, tuple(module.kernel_size), tuple(module.stride),
                    "same" if same == "same" else padding, tuple(module.dilation), module.groups,
                    module.bias is not None, isinstance(module.padding, str))
    return builder.add(name, op, (x,))


def _conv1d(builder: GraphMapper, name: str, module: Any, x: Tensor) -> Any:
    """``nn.Conv1d`` of a 3-D tensor (ECA attention's convolution across channels), zero padding only."""
    (kernel,), (stride,), (dilation,) = module.kernel_size, module.stride, module.dilation
    padding = module.padding
    if isinstance(padding, str):
        if padding == "same" and dilation * (kernel - 1) % 2:
            return None                                   # torch pads an even total asymmetrically
        padding = (0,) if padding == "valid" else (dilation * (kernel - 1) // 2,)
    if x.shape.rank != 3 or module.padding_mode != "zeros":
        return None
    _check(x.shape.dims[1] == module.in_channels,
           lambda: f"{name} takes {module.in_channels} channels, it receives {x.shape.dims[1]}")
    op = Conv1d(module.out_channels, kernel, stride, padding[0], dilation, module.groups, module.bias is not None)
    return builder.add(name, op, (x,))


def call_module(builder: GraphMapper, name: str, module: nn.Module, args: tuple, kwargs: dict,
                model: "TorchModel") -> Any:
    """The node of a leaf module call; its parameters count as the module's."""
    if type(module) is not nn.Conv2d:          # a convolution reads a pending padding (``_same_padding``)
        args, kwargs = make(builder, args), {key: make(builder, value) for key, value in kwargs.items()}
    if args and isinstance(args[0], torch.Tensor):
        per_image = model.reads_batch_size()
        if per_image is False:                        # a table made once per forward (XCiT's position encoding)
            args = (_constant(args[0]), *args[1:])
        elif per_image and args[0].dim() >= 2 and args[0].shape[0] == builder.produced[INPUT].dims[0]:
            # one per image (EdgeNeXt's position grid): what makes it is not counted; the layer on it is, per image
            args = (builder.opaque(f"{name}_input", "a tensor made in forward per image",
                                   (Tensor(INPUT, builder.produced[INPUT]),), tuple(args[0].shape)), *args[1:])
    if _weights_only("module", args, kwargs):
        return _on_weights(builder, name, type(module).__name__, args, kwargs,
                           _meta_shape(_meta_module(module), args, kwargs, known=model.traced_value(name)),
                           lambda operands: _again(model, lambda: call_module(builder, name, module, operands, kwargs,
                                                                              model)))
    x = args[0] if args else next(iter(kwargs.values()), None)
    fresh = model.claim(builder, name, module)
    result = _module(builder, name, module, x, args, kwargs)
    if result is None:
        inputs = tensors(args) + tensors(kwargs)
        sizes, count = _meta_shape(_meta_module(module), args, kwargs, with_count=True,
                                   known=model.traced_value(name))
        if sizes is None or not inputs:
            raise CostModelError(f"{name}: cannot import {type(module).__name__}{_why_not(x)}")
        made = builder.opaque(name, f"module {type(module).__name__}", inputs, sizes, fresh)
        return made if count is None else (made,) + (None,) * (count - 1)
    return result


def _why_not(x: Any) -> str:
    """Why a module call on ``x`` has no node: what ``x`` is, where it is not a tensor computed from the input."""
    if isinstance(x, Learned):
        return (f" on the {'parameter' if x.parameter else 'buffer'} {x.name}: a computation on the weights alone, "
                "which costmodel does not map yet")
    if isinstance(x, Permuted):
        return " on a view that moves the batch axis, which costmodel does not map yet"
    if isinstance(x, Derived):
        return (" on a tensor the weights alone make (of " + ", ".join(value.name for value in x.reads[:3]) +
                "): a computation on the weights alone, which costmodel does not map yet")
    if isinstance(x, torch.Tensor):
        return (" on a constant tensor the module makes in its forward (not from the input image) in an exported "
                "program, whose sizes keep no record of where they came from: made once or once per image, costmodel "
                "cannot tell")
    return ""


def _meta_module(module: nn.Module) -> Callable[..., Any]:
    """``module`` called with its parameters and buffers as meta tensors of their sizes, strides and types
    (``torch.func.functional_call``: the module is not copied; a deep copy took half a millisecond a call), or its
    result made by a layout rule (``torch_layouts.module_result``: a linear layer on a weights-only table, Swin V2's
    position MLP, took a millisecond on meta tensors)."""
    def run(*args: Any, **kwargs: Any) -> Any:
        if len(args) == 1 and not kwargs and isinstance(args[0], torch.Tensor):
            made = torch_layouts.module_result(module, args[0])      # a layer with a rule: not run at all
            if made is not None:
                return made
        return torch_sized.MetaValues(module).run_leaf(module, args, kwargs)
    return run


def _module(builder: GraphMapper, name: str, module: Any, x: Any, args: tuple, kwargs: dict) -> Any:
    """The node of a call of ``module`` (an ``nn.Module``, whose attributes are read by its kind), or None."""
    kind = type(module)
    if kind in (nn.Identity,):
        return x
    if kind is nn.Conv2d and isinstance(x, (Tensor, Pending)):     # a pending padding is a convolution's
        return _conv(builder, name, module, x)
    if not isinstance(x, Tensor):       # a parameter or buffer, a view moving the batch axis: no layout to read
        return None
    if kind is nn.ConvTranspose2d:
        return _conv(builder, name, module, x, transposed=True)
    if kind is nn.Conv1d:
        return _conv1d(builder, name, module, x)
    if (kind is nn.BatchNorm2d and x.shape.rank == 4) or (kind is nn.BatchNorm1d and x.shape.rank in (2, 3)):
        _check(x.shape.dims[1] == module.num_features,
               lambda: f"{name} takes {module.num_features} channels, it receives {x.shape.dims[1]}")
        return builder.add(name, BatchNorm(affine=module.affine), (x,))
    if kind is nn.Linear:
        last = x.shape.dims[-1]
        _check(last == module.in_features,
               lambda: f"{name} takes {module.in_features} features, it receives {last}")
        return builder.add(name, Linear(module.out_features, module.bias is not None), (_last_axis(builder, name, x),))
    if kind in ACTIVATION_MODULES:
        function = ACTIVATION_MODULES[kind](module)
        return builder.add(name, Activation(function), (x,)) if function else None
    if kind in (nn.MaxPool2d, nn.AvgPool2d):
        if kind is nn.MaxPool2d and module.dilation not in (1, (1, 1)):
            return None
        stride = module.stride if module.stride else module.kernel_size
        op = Pool2d("max" if kind is nn.MaxPool2d else "avg", _pair(module.kernel_size), _pair(stride),
                    _pair(module.padding), module.ceil_mode,
                    getattr(module, "count_include_pad", True))
        return builder.add(name, op, (x,))
    if kind is nn.AdaptiveAvgPool2d:
        return _adaptive(builder, name, x, module.output_size)
    if kind is nn.Flatten:
        return builder.add(name, Flatten(module.start_dim, module.end_dim), (x,))
    if kind in (nn.Dropout, nn.Dropout2d, nn.AlphaDropout):
        return builder.add(name, Dropout(module.p), (x,))
    if kind is nn.LayerNorm:
        return builder.add(name, LayerNorm(len(module.normalized_shape), module.elementwise_affine,
                                           module.bias is not None), (x,))
    if kind is nn.GroupNorm:
        return builder.add(name, GroupNorm(module.num_groups, module.affine), (x,))
    if kind is nn.Softmax:
        return builder.add(name, Softmax(module.dim if module.dim is not None else -1), (x,))
    if kind in (nn.ZeroPad2d, nn.ConstantPad2d):
        if kind is nn.ConstantPad2d and module.value != 0:
            return None
        return _zero_pad(builder, name, x, tuple(module.padding))
    if kind is nn.MultiheadAttention:
        return _multihead_attention(builder, name, module, args, kwargs)
    if kind is nn.ChannelShuffle:
        return builder.add(name, ChannelShuffle(module.groups), (x,))
    if kind in (nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d):
        mode = "bilinear" if kind is nn.UpsamplingBilinear2d else module.mode
        if kind is nn.UpsamplingBilinear2d:
            return None                       # align_corners=True: not costmodel's bilinear
        return _interpolate(builder, name, x, module.size, module.scale_factor, mode,
                            getattr(module, "align_corners", None))
    return None


def _last_axis(builder: GraphMapper, name: str, x: Tensor) -> Tensor:
    """``x`` as a linear layer reads it, its last axis: a 4-D tensor that costmodel calls an image (a map permuted
    to N x H x W x C, whose last axis it names W) gets that axis renamed by a view that splits it into itself."""
    if x.shape.layout != "NCHW":
        return x
    return builder.add(name, Unflatten(-1, (-1,)), (x,))


def _multihead_attention(builder: GraphMapper, name: str, module: nn.MultiheadAttention, args: tuple,
                         kwargs: dict) -> Any:
    """Self-attention of batch-first tokens, ``attn(x, x, x)``, without masks: one ``MultiheadAttention`` node
    (its output, and no averaged weights to read); any other call is not mapped."""
    names = ("query", "key", "value", "key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
             "is_causal")
    call = dict(zip(names, args), **kwargs)
    x = call.get("query")
    plain = (module.batch_first and module._qkv_same_embed_dim and module.bias_k is None and not module.add_zero_attn
             and call.get("key") is x and call.get("value") is x and isinstance(x, Tensor) and x.shape.rank == 3
             and all(call.get(mask) is None for mask in ("key_padding_mask", "attn_mask"))
             and not call.get("is_causal", False))
    if not plain or not isinstance(x, Tensor):
        return None
    _check(x.shape.dims[-1] == module.embed_dim,
           lambda: f"{name} takes {module.embed_dim} features, it receives {x.shape.dims[-1]}")
    op = MultiheadAttention(module.num_heads, module.in_proj_bias is not None, bool(call.get("need_weights", True)))
    return builder.add(name, op, (x,)), None


def _pair(value: Any) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _adaptive(builder: GraphMapper, name: str, x: Any, output: Any) -> Any:
    output = _pair(output)
    output = tuple(x.shape.dims[2 + i] if size is None else size for i, size in enumerate(output))
    if output == (1, 1):
        return builder.add(name, GlobalAvgPool(), (x,))
    return builder.add(name, AdaptiveAvgPool(output), (x,))


def _interpolate(builder: GraphMapper, name: str, x: Any, size: Any, scale: Any, mode: str,
                 align_corners: Any) -> Any:
    if mode not in ("nearest", "bilinear") or align_corners:
        return None
    height, width = x.shape.dims[2], x.shape.dims[3]
    if size is not None:
        target = _pair(size)
        if target[0] % height or target[1] % width:
            return builder.add(name, Interpolate(mode, size=target), (x,))     # mapped again at each input size
        factors = (target[0] // height, target[1] // width)
    else:
        factors = _pair(scale)
        if any(float(f) != int(f) for f in factors):       # torch's output: the sizes times the factors, floored
            target = (math.floor(height * float(factors[0])), math.floor(width * float(factors[1])))
            return builder.add(name, Interpolate(mode, size=target), (x,))
        factors = (int(factors[0]), int(factors[1]))
    return builder.add(name, Interpolate(mode, scale=factors), (x,))


# --- functions and tensor methods ---------------------------------------------------------------------------------

def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


def _dims_of(shape: Shape, dims: Any) -> tuple[int, ...]:
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    return tuple(int(d) % shape.rank for d in dims)


def call_function(builder: GraphMapper, name: str, kind: str, target: Any, args: tuple, kwargs: dict,
                  model: "TorchModel") -> Any:
    """The value of a function or tensor method call: a node, a Python value (a size read from a shape), or a
    chunk list."""
    aten = isinstance(target, torch._ops.OpOverload)
    if aten:
        function = target.overloadpacket.__name__           # aten.add.Tensor: "add"
    else:
        function = str(target if kind == "call_method" else getattr(target, "__name__", str(target)))
    # Python values: sizes and arithmetic on them.
    if target is getattr and kind == "call_function":
        obj, attribute = args
        if isinstance(obj, Tensor) and attribute == "shape":
            return _sizes(obj.shape)
        if isinstance(obj, Tensor) and attribute == "ndim":
            return obj.shape.rank
        if isinstance(obj, (Learned, Derived, Pending)) and attribute == "shape":
            return obj.sizes
        if isinstance(obj, (Tensor, Pending, Learned, Derived)) and attribute == "device":
            return torch.device("meta")
        if isinstance(obj, (Tensor, Pending, Learned, Derived)) and attribute == "dtype":
            return torch.float32              # costmodel counts a float32 forward (``--dtype`` prices others)
        raise CostModelError(f"{name}: cannot read {attribute!r} of a traced value")
    flat = _flat(args)                        # the arguments opened once (a call's checks below read them)
    flat_kwargs = _flat(list(kwargs.values())) if kwargs else []
    if function not in ("cat", "concat") and any(isinstance(value, Empty) for value in flat):
        raise CostModelError(f"{name}: cannot import {function} of an empty slice")
    if function not in ("mean", "sum") and any(isinstance(value, Stacked) for value in flat):
        raise CostModelError(f"{name}: cannot import {function} of tensors stacked before the batch axis")
    reads_tensor = _any_tensor(flat) or _any_tensor(flat_kwargs)        # ``tensors(args) or tensors(kwargs)``
    if not (reads_tensor or any(isinstance(a, (Learned, Derived, Chunks, Permuted, Pending, Stacked)) for a in flat)):
        return _python(name, target, args, kwargs)
    x = args[0] if args else None
    if function in DERIVATIONS and target is not operator.getitem and not reads_tensor and \
            not any(isinstance(a, (Chunks, Permuted, Pending)) for a in flat) and \
            not (isinstance(x, Learned) and function in _LEARNED_VIEWS):
        return _derive(name, kind, target, function, args, kwargs)
    if target is not operator.getitem and _weights_only(function, args, kwargs, flat + flat_kwargs) and \
            not (function in _LEARNED_VIEWS and isinstance(x, Learned)) and not (aten and function in _ATEN_CHECKS):
        call = _call_of(kind, target, function)
        return _on_weights(builder, name, function, args, kwargs,
                           _meta_shape(call, args, kwargs, known=model.traced_value(target)),
                           lambda operands: _again(model, lambda: call_function(builder, name, kind, target, operands,
                                                                                kwargs, model)))
    if function in _READS_LEARNED:            # element-wise: an expanded view broadcasts as its source does
        args = tuple(arg.source if isinstance(arg, Pending) and arg.kind == "expanded" else arg for arg in args)
    if function not in _READS_PENDING:
        args, kwargs = make(builder, args), {key: make(builder, value) for key, value in kwargs.items()}
    if target is operator.getitem:
        got = _getitem(builder, name, args[0], args[1])
        if got is not None or not isinstance(args[0], Tensor):
            return got
        return _opaque_call(builder, name, kind, target, "index", args, kwargs, model)   # a strided slice
    x = args[0] if args else None
    if function in ("size", "dim", "numel") and kind == "call_method" and isinstance(x, (Tensor, Pending)):
        sizes = x.sizes if isinstance(x, Pending) else _sizes(x.shape)
        if function == "dim":
            return len(sizes)
        if function == "numel":
            return math.prod(sizes)
        dim = _arg(args, kwargs, 1, "dim")
        return sizes if dim is None else sizes[dim]
    if isinstance(x, Learned) and function in _LEARNED_VIEWS:
        if function in ("expand", "expand_as"):
            return Learned(x.name, x.sizes, x.parameter, expanded=True, dtype=x.dtype)
        if function in ("view", "reshape"):
            return Learned(x.name, _target(x.sizes, _shape_argument(args, kwargs), name), x.parameter, x.expanded,
                           x.dtype)
        return x
    if aten and function in _ATEN_CHECKS:
        return None                                           # torch.export's own assertions: no tensor
    handler = (_ATEN.get(function) if aten else None) or _FUNCTIONS.get(function)
    if isinstance(x, (Learned, Derived)) and function not in _READS_LEARNED or \
            isinstance(x, Permuted) and function not in ("unbind", "select") or \
            isinstance(x, torch.Tensor) and function not in _READS_LEARNED:
        handler = None       # on a parameter or buffer, a view moving the batch axis, a constant: ``_opaque_call``
    if handler is not None:
        result = handler(builder, name, args, kwargs, model)
        if result is not None:
            return result
    elif kind == "call_function" and torch_eager.kept_whole(target):
        # a function torch.fx kept whole (torchvision's Swin attention): its body run on the importer's values
        made = torch_eager.run_whole(builder, name.rsplit(".", 1)[0] if "." in name else name, target, args, kwargs,
                                     lambda b, n, k, f, a, kw: call_function(b, n, k, f, a, kw, model))
        if made is not None:
            return made
    return _opaque_call(builder, name, kind, target, function, args, kwargs, model)


# what a parameter read as a class token, position embedding or layer scale goes through and stays itself
_LEARNED_VIEWS = ("expand", "expand_as", "view", "reshape", "to", "type_as")
# functions that move, pick or join elements and compute none: on the weights alone, a ``Derived`` tensor
DERIVATIONS = {"view", "reshape", "permute", "transpose", "t", "contiguous", "unsqueeze", "squeeze", "flatten",
               "unflatten", "getitem", "expand", "expand_as", "repeat", "tile", "cat", "concat", "stack", "to", "float",
               "type_as", "clone", "detach", "index_select", "gather", "narrow", "select", "roll", "flip", "chunk",
               "split", "unbind", "_get_relative_position_bias", "view_as", "reshape_as",
               # their ATen names in an exported program
               "index", "_unsafe_view", "alias", "slice", "lift_fresh_copy", "_to_copy", "split_with_sizes"}


def _flat(values: Any) -> "list[Any]":
    """``values`` (call arguments) with their tuples and lists opened."""
    if isinstance(values, (tuple, list)):
        return [item for value in values for item in _flat(value)]
    return [values]


def _any_tensor(flat: "list[Any]") -> bool:
    """Whether opened arguments (``_flat``) hold a tensor, a dictionary's values included (``tensors``)."""
    return any(isinstance(value, Tensor) or isinstance(value, dict) and bool(tensors(value)) for value in flat)


def _derive(name: str, kind: str, target: Any, function: str, args: tuple, kwargs: dict) -> Any:
    """A call that moves the elements of learned tensors only (a table gathered by an index buffer, viewed,
    permuted): the ``Derived`` tensor it makes (its sizes found on meta tensors), or its pieces."""
    values = [item for item in _flat((args, list(kwargs.values()))) if isinstance(item, (Learned, Derived))]
    if function in PASS_THROUGH and len(values) == 1 and args[0] is values[0]:
        return args[0]             # a copy, or a move to the model's device or type: the same tensor here
    reads = tuple(dict.fromkeys(read for value in values for read in learned_reads(value)))
    sources = tuple(dict.fromkeys(source for value in values if isinstance(value, Derived)
                                  for source in value.sources))
    made_of = tuple(dict.fromkeys(read for value in values if isinstance(value, Derived) for read in value.made_of))
    call = (lambda *a, **k: getattr(a[0], function)(*a[1:], **k)) if kind == "call_method" else target
    meta = _meta_values(call, args, kwargs)
    if meta is None:
        raise CostModelError(f"{name}: cannot import {function} of the weights alone (costmodel could not find its "
                             "output shape)")
    if isinstance(meta, (tuple, list)):
        return tuple(Derived(tuple(piece.shape), reads, piece.dtype, sources, made_of=made_of) for piece in meta)
    return Derived(tuple(meta.shape), reads, meta.dtype, sources, made_of=made_of)


# the functions whose every tensor argument is an operand (read as a tensor, not as a weight of the op)
_OPERANDS = _READS_LEARNED | {"matmul", "bmm", "mm", "where", "maximum", "minimum", "pow", "rsub", "einsum"}


def _weights_only(function: str, args: tuple, kwargs: dict, flat: "list[Any] | None" = None) -> bool:
    """Whether a call reads tensors of the weights alone and no tensor computed from the input. A constant the
    module makes in its forward may be an operand of an element-wise op or product with them (a rotary table), not
    the input of a layer (EdgeNeXt's position encoding is made per image of the batch, which a trace at one image
    cannot tell from a table made once). ``flat``: the arguments and keyword values opened (``_flat``), where the
    caller has them."""
    flat = _flat((args, list(kwargs.values()))) if flat is None else flat
    return any(isinstance(value, (Learned, Derived)) for value in flat) and \
        not any(isinstance(value, (Tensor, Pending, Chunks, Permuted)) for value in flat) and \
        (function in _OPERANDS or bool(args) and not isinstance(args[0], torch.Tensor))


def _again(model: "TorchModel", run: Callable[[], Any]) -> Any:
    """``run()``: a call mapped again on other operands (the weights as tensors), whose value the captured graph
    does not keep."""
    with model.other_operands():
        return run()


def _on_weights(builder: GraphMapper, name: str, function: str, args: tuple, kwargs: dict, meta: "tuple | None",
                run: Callable[[tuple], Any]) -> Any:
    """A call on tensors of the weights alone, made of the nodes of any call (``run`` of its arguments with its
    operands as tensors: the first argument, or every argument of an element-wise op or product), counted once
    per forward pass; its result a ``Derived`` tensor whole of its node. ``meta``: the result's sizes as torch
    gives them (None: refused)."""
    def operand(value: Any) -> Any:
        if isinstance(value, (tuple, list)):             # einsum's list of operands
            return type(value)(operand(item) for item in value)
        value = _constant(value)
        return weights_tensor(builder, name, value) if isinstance(value, (Learned, Derived)) else value

    if meta is None:
        raise CostModelError(f"{name}: cannot import {function} of the weights alone (costmodel could not find its "
                             "output shape)")
    made_of = tuple(dict.fromkeys(read for value in _flat((args, list(kwargs.values())))
                                  if isinstance(value, (Learned, Derived))
                                  for read in (*learned_reads(value), *getattr(value, "made_of", ()))
                                  if read.parameter))
    if function in _OPERANDS:
        args = tuple(operand(value) for value in args)
    elif args:
        args = (operand(args[0]), *args[1:])
    result = run(args)
    if not isinstance(result, Tensor):
        raise CostModelError(f"{name}: cannot import {function} of the weights alone")
    if math.prod(meta) != math.prod(_sizes(result.shape)):
        raise CostModelError(f"{name}: cannot import {function} of the weights alone (costmodel made a tensor of "
                             f"{list(_sizes(result.shape))} where torch makes {list(meta)})")
    return Derived(tuple(meta), (), torch.float32, (result.node,), whole=True, made_of=made_of)


def _meta_values(call: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """``call`` run on meta tensors of its learned and derived arguments: a meta tensor, a tuple of them, or None."""
    try:
        result = call(*_meta(args), **_meta(kwargs))
    except Exception:
        return None
    if isinstance(result, torch.Tensor) or (isinstance(result, (tuple, list)) and
                                            all(isinstance(piece, torch.Tensor) for piece in result)):
        return result
    return None


def _python(name: str, target: Any, args: tuple, kwargs: dict) -> Any:
    """A call on Python values only (``h * w``, ``c // g``), or a method of one (``torch.zeros(size).bool()``, a
    constant the module makes): evaluated now."""
    if isinstance(target, str) and args and hasattr(args[0], target):
        target = getattr(type(args[0]), target)
    if callable(target):
        try:
            return target(*args, **kwargs)
        except Exception as error:
            raise CostModelError(f"{name}: {(str(error).strip() or type(error).__name__).splitlines()[0]}") from None
    raise CostModelError(f"{name}: cannot evaluate {target}")


def _getitem(builder: GraphMapper, name: str, value: Any, index: Any) -> Any:
    if isinstance(value, Chunks):
        dim_size = value.source.shape.dims[value.dim]
        if value.dim == 1 and value.source.shape.layout[1] == "C" and len(set(value.sizes)) == 1 \
                and value.sizes[0] * len(value.sizes) == dim_size:
            return builder.add(name, Split(len(value.sizes), index % len(value.sizes)), (value.source,))
        start = sum(value.sizes[:index])
        return builder.add(name, Slice(value.dim, start, start + value.sizes[index]), (value.source,))
    if isinstance(value, Tensor):
        return _tensor_index(builder, name, value, index)
    if isinstance(value, Permuted) and isinstance(index, int):
        return select_permuted(builder, name, value, index)
    if isinstance(value, Learned) and value.parameter and len(value.sizes) == 2 and isinstance(index, tuple) \
            and len(index) == 2 and index[0] == slice(None):
        offsets = index[1]          # a bias table read by an offset index: a constant, or an integer buffer (timm's)
        if isinstance(offsets, torch.Tensor):
            return Gathered(value, (value.sizes[0], *offsets.shape))
        if isinstance(offsets, Learned) and not offsets.parameter and len(offsets.sizes) == 2 and \
                offsets.dtype is not None and not offsets.dtype.is_floating_point:
            return Gathered(value, (value.sizes[0], *offsets.sizes))
    if isinstance(value, Gathered):
        return None
    if isinstance(value, (Learned, Derived)):
        return _derive(name, "call_function", operator.getitem, "getitem", (value, index), {})
    return value[index]


@dataclass(frozen=True)
class Gathered:
    """Columns of a learned table gathered by a constant index, ``table[:, index]`` (EfficientFormer's and LeViT's
    attention biases: a bias per head and per offset between query and key)."""

    table: Learned
    sizes: tuple


def _tensor_index(builder: GraphMapper, name: str, x: Any, index: Any) -> Any:
    """``x[...]`` with integers and slices: a select per integer, a slice per bounded slice."""
    index = index if isinstance(index, tuple) else (index,)
    if any(item is Ellipsis for item in index):
        position = index.index(Ellipsis)
        fill = x.shape.rank - (len(index) - 1)
        index = index[:position] + (slice(None),) * fill + index[position + 1:]
    result, axis = x, 0
    for item in index:
        if isinstance(item, slice):
            if item.step not in (None, 1):
                return None
            size = result.shape.dims[axis]
            start, stop, _ = item.indices(size)
            if (start, stop) != (0, size):
                if axis == 0:
                    return None
                if stop <= start:
                    return Empty()
                result = builder.add(name, Slice(axis, start, stop), (result,))
            axis += 1
        elif isinstance(item, int):
            if axis == 0:
                return None
            result = builder.add(name, Select(axis, item % result.shape.dims[axis]), (result,))
        elif item is None:
            result = builder.add(name, Unsqueeze(axis), (result,))
            axis += 1
        else:
            return None
    return result


def _opaque_call(builder: GraphMapper, name: str, kind: str, target: Any, function: str, args: tuple, kwargs: dict,
                 model: "TorchModel") -> Any:
    inputs = tensors(args) + tensors(kwargs)
    call = _call_of(kind, target, function)
    if not inputs:                    # no tensor computed from the input: the weights alone, or a view of them
        first = args[0] if args else next(iter(kwargs.values()), None)
        why = _why_not(first) or " (none of its inputs is a tensor computed from the input image)"
        raise CostModelError(f"{name}: cannot import {function}{why}")
    sizes = _meta_shape(call, args, kwargs, known=model.traced_value(target))
    if sizes is None:
        raise CostModelError(f"{name}: cannot import {function} (costmodel could not find its output shape)")
    params = sum(builder.claim(value.name, math.prod(value.sizes)) for value in (*args, *kwargs.values())
                 if isinstance(value, Learned) and value.parameter)
    return builder.opaque(name, f"{'Tensor.' if kind == 'call_method' else ''}{function}", inputs, sizes, params)


def _call_of(kind: str, target: Any, function: str) -> Callable[..., Any]:
    """What a traced call runs, called with its arguments: its target; for a method of a tensor, the method of
    ``torch.Tensor`` where its result's sizes are known without running it (``SIZES_OF_FIRST``), else the method
    looked up on the first argument."""
    if kind != "call_method":
        return target
    method = getattr(torch.Tensor, function, None)
    if method is not None and (method in SIZES_OF_FIRST or method in SIZES_OF_FIRST_WITH_NUMBERS):
        return method
    return lambda *a, **k: getattr(a[0], function)(*a[1:], **k)


def _activation(function: str) -> Callable[..., Any]:
    def handler(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
        return builder.add(name, Activation(function), (args[0],))
    return handler


def _hardtanh(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    low, high = _arg(args, kwargs, 1, "min_val", -1.0), _arg(args, kwargs, 2, "max_val", 1.0)
    if (low, high) == (0.0, 6.0):
        return builder.add(name, Activation("relu6"), (args[0],))
    return None


def _gelu(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    approximate = _arg(args, kwargs, 1, "approximate", "none")
    return builder.add(name, Activation("gelu_tanh" if approximate == "tanh" else "gelu"), (args[0],))


def _constant(value: Any) -> Any:
    """A constant tensor the module makes in its forward from sizes alone (a rotary table of sines and cosines) as
    a tensor of no learned values, which an element-wise op with the activation reads as a buffer; else ``value``."""
    if isinstance(value, torch.Tensor):
        return Derived(tuple(value.shape), (), value.dtype)
    return value


def _binary(function: str) -> Callable[..., Any]:
    """``a + b``, ``a - b``, ``a * b``, ``a / b`` (``mapping.elementwise``); an offset-gathered bias table added to
    attention scores is EfficientFormer's attention bias."""
    def handler(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
        a, b = _constant(args[0]), _constant(_arg(args, kwargs, 1, "other"))
        if function in ("add", "sub") and kwargs.get("alpha", 1) != 1:
            return None
        operation = function[1:] if function in ("radd", "rmul") else function
        if function in ("radd", "rmul") or (isinstance(a, (int, float, Learned, Derived)) and
                                            isinstance(b, Tensor) and operation in ("add", "mul")):
            a, b = b, a
        if not isinstance(a, Tensor):
            return None
        if isinstance(b, Gathered) and operation == "add" and a.shape.rank == 4 and \
                b.sizes == _sizes(a.shape)[1:] and b.sizes[1] == b.sizes[2]:
            like = builder.latest_map(lambda height, width: height * width == b.sizes[1])
            if like is None:
                return None
            builder.claim_learned(b.table)
            return builder.add(name, AttentionBias(b.sizes[0], like), (a,))
        return elementwise(builder, name, operation, a, b)
    return handler


def _cat(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    items = [item for item in _arg(args, kwargs, 0, "tensors") if not isinstance(item, Empty)]
    dim = _arg(args, kwargs, 1, "dim", 0)
    if len(items) == 2 and isinstance(items[0], Learned) and isinstance(items[1], Tensor) and items[0].parameter:
        token, x = items
        if x.shape.layout == "NLC" and dim % 3 == 1 and math.prod(token.sizes) == x.shape.channels:
            builder.claim_learned(token)
            return builder.add(name, ClassToken(), (x,))
        return None
    if not all(isinstance(t, Tensor) for t in items):
        return None
    first = items[0].shape
    if len(items) == 1:
        return items[0]
    if "C" in first.layout and dim % first.rank == first.layout.index("C") and \
            all(t.shape.layout == first.layout for t in items):
        return builder.add(name, Concat(), tuple(items))
    return None


def _chunk(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, chunks = args[0], _arg(args, kwargs, 1, "chunks")
    dim = _arg(args, kwargs, 2, "dim", 0) % x.shape.rank
    size = x.shape.dims[dim]
    step = -(-size // chunks)
    sizes = tuple(min(step, size - start) for start in range(0, size, step))
    return Chunks(x, sizes, dim)


def _split(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, split = args[0], _arg(args, kwargs, 1, "split_size_or_sections", _arg(args, kwargs, 1, "split_size"))
    dim = _arg(args, kwargs, 2, "dim", 0) % x.shape.rank
    size = x.shape.dims[dim]
    if isinstance(split, int):
        sizes = tuple(min(split, size - start) for start in range(0, size, split))
    else:
        sizes = tuple(split)
    return Chunks(x, sizes, dim)


def _reshape(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    shape = _shape_argument(args, kwargs)
    if isinstance(x, Pending):
        after = _target(x.sizes, shape, name)
        if x.kind == "patches" and x.data[2]:
            made = _patches(builder, name, x, after)
            if made is not None:
                return made
        if x.kind not in ("pad", "patches") and after == _sizes(x.source.shape):
            if x.kind == "shuffled":                      # (g, C/g) swapped, viewed back as C: a shuffle
                return builder.add(name, ChannelShuffle(x.data[0]), (x.source,))
            return x.source                               # viewed back as it was
        x = make(builder, x)
    before = _sizes(x.shape)
    after = _target(before, shape, name)
    if x.shape.layout == "NCHW" and len(after) == 5 and after[0] == before[0] and after[3:] == before[2:] \
            and after[1] * after[2] == before[1] and after[1] > 1:
        return Pending("grouped", x, name, (after[1],))   # the channels as (groups, C / groups)
    if len(before) == 4 and len(after) == 6 and after[0] == before[0]:
        n, c, h, w = before
        if x.shape.layout == "NCHW" and after[1] == c and after[2] * after[3] == h and after[4] * after[5] == w:
            return Pending("patches", x, name, ("unfold", after, False))
        if after[1] * after[2] == c and after[3] * after[4] == h and after[5] == w:
            return Pending("patches", x, name, ("fold", after, False))
    for lead in range(2, len(before) - 1):
        if after == (math.prod(before[:lead]), *before[lead:]) and before[1] > 1:
            return Pending("merged", x, name, before[:lead])      # the batch merged with the next axes
    if after == before:
        return x
    steps = reshape_steps(before, after)
    if steps is None:
        return None
    return builder.chain(name, steps, x)


def _patches(builder: GraphMapper, name: str, x: Pending, after: tuple) -> Any:
    """The view that ends MobileViT's unfold (to N x (ph pw) x L x C) or fold (to the N x C x H x W map of an
    earlier node of that size, which the fold's shape rule refers to), or None."""
    direction, view = x.data[0], x.data[1]
    if direction == "unfold":
        n, c, h, ph, w, pw = view
        if after == (n, ph * pw, h * w, c):
            return builder.add(name, PatchUnfold((ph, pw)), (x.source,))
        return None
    n, ph, pw, h, w, c = view
    if after != (n, c, h * ph, w * pw):
        return None
    like = builder.latest_map(lambda height, width: (height, width) == (h * ph, w * pw))
    return None if like is None else builder.add(name, PatchFold((ph, pw), like), (x.source,))


def _target(before: tuple, shape: Any, name: str) -> tuple:
    """The sizes a view of ``before`` to ``shape`` (one size may be -1) gives; one line where they do not fit."""
    total = math.prod(before)
    shape = list(shape)
    if -1 in shape:
        known = math.prod(s for s in shape if s != -1)
        shape[shape.index(-1)] = total // known if known else 0
    after = tuple(int(s) for s in shape)
    _check(math.prod(after) == total, lambda: f"{name}: cannot view {list(before[1:])} as {list(after[1:])}")
    return after


def _shape_argument(args: tuple, kwargs: dict) -> tuple:
    """The sizes a ``view`` / ``reshape`` call asks for: ``x.view(a, b)``, ``x.view((a, b))``, ``shape=``."""
    shape: Any = args[1:] if len(args) > 1 else (kwargs.get("shape") or kwargs.get("size"))
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else tuple(shape)


def _reshape_as(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``x.reshape_as(other)`` / ``x.view_as(other)``: a reshape to the other tensor's sizes (LeViT's
    ``bn(x.flatten(0, 1)).reshape_as(x)``)."""
    other = _arg(args, kwargs, 1, "other")
    if not isinstance(other, Tensor):
        return None
    return _reshape(builder, name, (args[0], *_sizes(other.shape)), {}, model)


def _flatten(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    start, end = _arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1)
    if start % x.shape.rank == 0:
        end %= x.shape.rank
        if 0 < end < x.shape.rank - 1:                  # the batch merged with the axes after it
            return Pending("merged", x, name, _sizes(x.shape)[:end + 1])
        return None
    if start % x.shape.rank == end % x.shape.rank:
        return x
    return builder.add(name, Flatten(start, end), (x,))


def _squeeze(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    dims = _arg(args, kwargs, 1, "dim")
    before = _sizes(x.shape)
    drop = set(range(1, len(before))) if dims is None else set(_dims_of(x.shape, dims))
    after = tuple(size for axis, size in enumerate(before) if not (axis in drop and size == 1 and axis > 0))
    return _reshape(builder, name, (x, *after), {}, model)


def _unsqueeze(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, dim = args[0], _arg(args, kwargs, 1, "dim")
    return builder.add(name, Unsqueeze(dim), (x,))


def _transpose(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    dim0, dim1 = _arg(args, kwargs, 1, "dim0"), _arg(args, kwargs, 2, "dim1")
    if isinstance(x, Pending):
        if x.kind == "grouped" and {dim0 % 5, dim1 % 5} == {1, 2}:
            return Pending("shuffled", x.source, x.name, x.data)
        x = make(builder, x)
    if dim0 % x.shape.rank == dim1 % x.shape.rank:
        return x
    if 0 in (dim0 % x.shape.rank, dim1 % x.shape.rank):
        return None                   # the batch axis moves: not costmodel's layout (opaque, listed)
    return builder.add(name, Transpose(dim0, dim1), (x,))


def _permute(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    dims: Any = args[1:] if len(args) > 1 else kwargs.get("dims")
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = dims[0]
    if isinstance(x, Pending):
        if x.kind == "patches" and not x.data[2] and tuple(dims) == PATCH_ORDER[x.data[0]]:
            return Pending("patches", x.source, x.name, (*x.data[:2], True))
        x = make(builder, x)
    dims = tuple(int(d) % x.shape.rank for d in dims)
    if dims == tuple(range(len(dims))):
        return x
    if dims[0] != 0:
        return Permuted(x, dims)        # timm's qkv.permute(2, 0, 3, 1, 4), made when it is unbound
    return builder.add(name, Permute(dims), (x,))


def _unbind(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, dim = args[0], _arg(args, kwargs, 1, "dim", 0)
    if isinstance(x, Permuted):
        if dim != 0:
            return None
        return tuple(select_permuted(builder, name, x, i) for i in range(x.source.shape.dims[x.dims[0]]))
    axis = dim % x.shape.rank
    if axis == 0:
        return None
    return tuple(builder.add(name, Select(axis, i), (x,)) for i in range(x.shape.dims[axis]))


def _mean(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    dims = _arg(args, kwargs, 1, "dim")
    if isinstance(x, Stacked):                # the mean of tensors stacked before the batch (CrossViT's heads)
        if dims not in (0, (0,), [0]) or _arg(args, kwargs, 2, "keepdim", False):
            raise CostModelError(f"{name}: cannot import mean of a stack along the batch axis but over it")
        total = builder.add(name, Add(), x.items)
        return builder.add(name, Scale(1.0 / len(x.items)), (total,))
    if dims is None:
        return None
    keepdim = bool(_arg(args, kwargs, 2, "keepdim", False))
    return builder.add(name, Mean(_dims_of(x.shape, dims), keepdim), (x,))


def _sum(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """The sum of tensors stacked before the batch over that axis (EfficientViM's heads): their add. Any other
    sum is an opaque call."""
    x = args[0]
    if not isinstance(x, Stacked):
        return None
    if _arg(args, kwargs, 1, "dim") not in (0, (0,), [0]) or _arg(args, kwargs, 2, "keepdim", False):
        raise CostModelError(f"{name}: cannot import sum of a stack along the batch axis but over it")
    return builder.add(name, Add(), x.items)


@dataclass(frozen=True)
class Stacked:
    """Tensors of one shape stacked along a new first axis, before the batch (``torch.stack(xs, dim=0)``): a
    ``mean`` or ``sum`` over that axis is their average or their add; nothing else reads it."""

    items: tuple


def _stack(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    items = tuple(_arg(args, kwargs, 0, "tensors"))
    if _arg(args, kwargs, 1, "dim", 0) != 0 or len(items) < 2 or \
            not all(isinstance(item, Tensor) and item.shape == items[0].shape for item in items):
        return None
    return Stacked(items)


def _adaptive_pool(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    return _adaptive(builder, name, args[0], _arg(args, kwargs, 1, "output_size"))


def _pool(mode: str) -> Callable[..., Any]:
    def handler(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
        x = args[0]
        kernel = _pair(_arg(args, kwargs, 1, "kernel_size"))
        stride = _arg(args, kwargs, 2, "stride") or kernel
        padding = _pair(_arg(args, kwargs, 3, "padding", 0))
        if mode == "max":
            if _pair(_arg(args, kwargs, 4, "dilation", 1)) != (1, 1):
                return None
            ceil = bool(_arg(args, kwargs, 5, "ceil_mode", False))
            include = True
        else:
            ceil = bool(_arg(args, kwargs, 4, "ceil_mode", False))
            include = bool(_arg(args, kwargs, 5, "count_include_pad", True))
            if _arg(args, kwargs, 6, "divisor_override") is not None:
                return None
        return builder.add(name, Pool2d(mode, kernel, _pair(stride), padding, ceil, include), (x,))
    return handler


def _softmax(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    dim = _arg(args, kwargs, 1, "dim")
    return builder.add(name, Softmax(-1 if dim is None else dim), (args[0],))


def _matmul(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """A matrix product of two tensors; of a tensor and a matrix the weights alone make, the linear layer it is
    (BoTNet's ``q @ self.rel.transpose(0, 1)``), where the matrix holds all the values it reads."""
    a, b = args[0], _arg(args, kwargs, 1, "other", _arg(args, kwargs, 1, "mat2"))
    if isinstance(a, Tensor) and isinstance(b, (Learned, Derived)) and len(b.sizes) == 2 and \
            b.sizes[0] == a.shape.dims[-1]:
        reads = learned_reads(b)
        if all(value.parameter for value in reads) and sum(math.prod(value.sizes) for value in reads) == \
                math.prod(b.sizes):
            claim_reads(builder, b)
            return builder.add(name, Linear(b.sizes[1], bias=False), (_last_axis(builder, name, a),))
    if not (isinstance(a, Tensor) and isinstance(b, Tensor)) or a.shape.rank != b.shape.rank or a.shape.rank < 3:
        return None
    return builder.add(name, MatMul(), (a, b))


def _einsum(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``torch.einsum(equation, a, b)`` (or ``(equation, [a, b])``, as ``aten.einsum`` takes them) that is a batched
    matrix product (MaxViT's and MViTv2's attention); a tensor the weights make is an operand of its own."""
    equation, operands = args[0], args[1:]
    if len(operands) == 1 and isinstance(operands[0], (tuple, list)):
        operands = tuple(operands[0])
    if not isinstance(equation, str) or len(operands) != 2 or kwargs.get("path") is not None:
        return None
    try:
        op = Einsum(equation)
    except CostModelError:
        return None                          # any other equation: an opaque call, listed as not counted
    operands = tuple(weights_tensor(builder, name, value) if isinstance(value, (Learned, Derived)) else value
                     for value in operands)
    if not all(isinstance(value, Tensor) for value in operands):
        return None
    terms, output = einsum_terms(equation)
    reads_input = _reading_input(builder)
    for value, term in zip(operands, terms):
        if reads_input(value.node) and (value.shape.rank != len(term) or term[0] != output[0]):
            return None                      # the batch axis of the activation must stay the first
    return builder.add(name, op, operands)


def _reading_input(builder: GraphMapper) -> Callable[[str], bool]:
    """Whether a node reads the input image (else it is computed from the weights alone)."""
    reading = {INPUT}
    for node in builder.nodes:                          # in the order made: every input before its readers
        if any(source in reading for source in node.inputs):
            reading.add(node.name)
    return reading.__contains__


def _sdpa(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    q, k, v = args[:3]
    mask = _arg(args, kwargs, 3, "attn_mask")
    if (mask is not None and not isinstance(mask, (Learned, Derived))) or _arg(args, kwargs, 5, "is_causal", False):
        return None
    scale = kwargs.get("scale")
    if mask is not None:          # an additive mask the weights make (TinyViT's biases, timm's Swin's bias)
        q, k, v = make(builder, (q, k, v))
        if not isinstance(q, Tensor):
            return None
        op = ScaledDotProductAttention(scale, merged=q.shape.rank <= 4, mask=tuple(int(s) for s in mask.sizes),
                                       mask_params=claim_reads(builder, mask), kernel=model.attention_kernel())
        return builder.add(name, op, (q, k, v))
    merged = [value for value in (q, k, v) if isinstance(value, Pending) and value.kind == "merged"]
    if len(merged) == 3 and len({value.data for value in merged}) == 1:
        # attention over a batch merged with other axes is attention batched over all of them
        made = builder.add(name, ScaledDotProductAttention(scale, kernel=model.attention_kernel()),
                           tuple(value.source for value in merged))
        return Pending("merged", made, name, merged[0].data)
    q, k, v = make(builder, (q, k, v))
    if not isinstance(q, Tensor):
        return None
    # called at its own rank: above 4-D, torch does not merge the axes before the heads (NesT's 5-D blocks)
    return builder.add(name, ScaledDotProductAttention(scale, merged=q.shape.rank <= 4,
                                                       kernel=model.attention_kernel()), (q, k, v))


def _dropout(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    return args[0]


def _stochastic_depth(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """torchvision's ``stochastic_depth(input, p, mode, training=True)``: the input itself at inference (or with
    nothing dropped)."""
    if _arg(args, kwargs, 3, "training", True) and _arg(args, kwargs, 1, "p", 0.0):
        return None
    return args[0]


def _drop_path(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """timm's ``drop_path(x, drop_prob=0., training=False, scale_by_keep=True)``: the input itself at inference (or
    with nothing dropped)."""
    if _arg(args, kwargs, 2, "training", False) and _arg(args, kwargs, 1, "drop_prob", 0.0):
        return None
    return args[0]


def _batch_norm_function(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``F.batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, ...)`` at inference
    (timm's ``BatchNormAct2d`` calls it): a BatchNorm of the input's channels, its weight and bias its parameters."""
    x = args[0]
    weight, bias = _arg(args, kwargs, 3, "weight"), _arg(args, kwargs, 4, "bias")
    if _arg(args, kwargs, 5, "training", False):
        return _standardize(builder, name, x, args, kwargs, weight, bias)
    if not isinstance(x, Tensor) or x.shape.rank not in (2, 3, 4):
        return None
    builder.claim_learned(weight, bias)
    return builder.add(name, BatchNorm(affine=weight is not None), (x,))


def _standardize(builder: GraphMapper, name: str, x: Any, args: tuple, kwargs: dict, weight: Any, bias: Any) -> Any:
    """``F.batch_norm`` in training mode of a filter bank the weights alone make, without running statistics
    (timm's ``StdConv2d``, ``ScaledStdConv2d``): a weight standardization, with its weight as the gain."""
    running = (_arg(args, kwargs, 1, "running_mean"), _arg(args, kwargs, 2, "running_var"))
    if not isinstance(x, Tensor) or not isinstance(builder.op_of(x.node), Weights) or running != (None, None) or \
            bias is not None or not (weight is None or isinstance(weight, (Learned, Derived))):
        return None
    gain = () if weight is None else (weights_tensor(builder, name, weight),)
    return builder.add(name, Standardize(weight is not None), (x, *gain))


def _interpolate_function(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    return _interpolate(builder, name, args[0], _arg(args, kwargs, 1, "size"), _arg(args, kwargs, 2, "scale_factor"),
                        _arg(args, kwargs, 3, "mode", "nearest"), _arg(args, kwargs, 4, "align_corners"))


def _zero_pad(builder: GraphMapper, name: str, x: Any, pads: tuple) -> Any:
    """A zero padding; of a map's height and width, pending (a convolution may read it as its "same" padding)."""
    if len(pads) == 4 and x.shape.rank == 4 and min(pads) >= 0:
        return Pending("pad", x, name, tuple(int(p) for p in pads))
    return builder.add(name, Pad(pads), (x,))


def _pad(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    mode = _arg(args, kwargs, 2, "mode", "constant")
    if mode in ("reflect", "replicate", "circular"):
        return builder.add(name, Pad(tuple(_arg(args, kwargs, 1, "pad")), mode), (args[0],))
    if mode != "constant" or _arg(args, kwargs, 3, "value") not in (None, 0, 0.0):
        return None
    return _zero_pad(builder, name, args[0], tuple(_arg(args, kwargs, 1, "pad")))


def _layer_norm(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, shape = args[0], _arg(args, kwargs, 1, "normalized_shape")
    weight, bias = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    if weight is not None and not isinstance(weight, Learned) or bias is not None and weight is None:
        return None
    builder.claim_learned(weight, bias)
    return builder.add(name, LayerNorm(len(shape), weight is not None, bias is not None), (x,))


def _group_norm(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``F.group_norm(input, num_groups, weight=None, bias=None, eps)`` (and ``aten.group_norm``, whose first four
    arguments are the same) of a 4-D tensor: timm's ``GroupNorm`` and ``GroupNorm1`` (PoolFormer, SHViT) call it."""
    x, groups = args[0], _arg(args, kwargs, 1, "num_groups")
    weight, bias = _arg(args, kwargs, 2, "weight"), _arg(args, kwargs, 3, "bias")
    if x.shape.rank != 4 or (weight is None) != (bias is None) or \
            any(value is not None and not isinstance(value, Learned) for value in (weight, bias)):
        return None
    _check(x.shape.dims[1] % groups == 0, lambda: f"{name}: {groups} groups do not divide {x.shape.dims[1]} channels")
    builder.claim_learned(weight, bias)
    return builder.add(name, GroupNorm(groups, weight is not None), (x,))


def _linear(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, weight, bias = args[0], _arg(args, kwargs, 1, "weight"), _arg(args, kwargs, 2, "bias")
    if not isinstance(weight, Learned) or len(weight.sizes) != 2:
        return None
    _check(x.shape.dims[-1] == weight.sizes[1],
           lambda: f"{name} takes {weight.sizes[1]} features, it receives {x.shape.dims[-1]}")
    x = _last_axis(builder, name, x)
    if isinstance(bias, Derived) or (isinstance(bias, Learned) and not bias.parameter):
        # a bias the weights make (BEiT's and EVA's cat of q, zero k and v biases): the product, then the term
        if not weight.parameter:
            return None
        builder.claim_learned(weight)
        made = builder.add(name, Linear(weight.sizes[0], bias=False), (x,))
        builder.begin()
        return learned_operand(builder, name, "add", made, bias)
    if not weight.parameter or (bias is not None and not (isinstance(bias, Learned) and bias.parameter)):
        return None
    builder.claim_learned(weight, bias)
    return builder.add(name, Linear(weight.sizes[0], bias is not None), (x,))


def _conv2d(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, weight, bias = args[0], _arg(args, kwargs, 1, "weight"), _arg(args, kwargs, 2, "bias")
    owner = _filter_owner(builder, weight)
    if isinstance(weight, Learned) and not weight.parameter and len(weight.sizes) == 4 and not weight.expanded:
        # a fixed filter (a buffer: BlurPool's) is no parameters: a weights node of its own holds it
        owner = weights_tensor(builder, name, weight).node
        builder.begin()
    if not (isinstance(weight, Learned) and weight.parameter or owner) or \
            (bias is not None and not (isinstance(bias, Learned) and bias.parameter)):
        return None
    if len(weight.sizes) != 4:
        return None
    out, per_group, kh, kw = weight.sizes
    groups = _arg(args, kwargs, 6, "groups", 1)
    padding = _arg(args, kwargs, 4, "padding", 0)
    dilation = _pair(_arg(args, kwargs, 5, "dilation", 1))
    x, same = _same_padding(x, (kh, kw), _arg(args, kwargs, 3, "stride", 1), dilation, padding)
    x = make(builder, x)
    if x.shape.rank != 4:
        return None
    if same == "same" and not isinstance(padding, str):
        padding = "same"                              # a pending zero padding that is TensorFlow's "same"
    elif isinstance(padding, str):
        padding = "valid" if padding == "valid" else (dilation[0] * (kh - 1) // 2, dilation[1] * (kw - 1) // 2)
    _check(x.shape.dims[1] == per_group * groups,
           lambda: f"{name} takes {per_group * groups} channels, it receives {x.shape.dims[1]}")
    op = Conv2d(out, (kh, kw), _pair(_arg(args, kwargs, 3, "stride", 1)), padding if isinstance(padding, str)
                else _pair(padding), dilation, groups, bias is not None and not owner,
                isinstance(_arg(args, kwargs, 4, "padding", 0), str))
    if owner:                 # its filter's values are the weights node's; its bias, an add of its own
        made = builder.add(name, op, (x,), shares=owner)
        if bias is None:
            return made
        builder.begin()
        return learned_operand(builder, name, "add", made, Learned(bias.name, (out, 1, 1), True))
    builder.claim_learned(weight, bias)
    return builder.add(name, op, (x,))


def _filter_owner(builder: GraphMapper, weight: Any) -> str:
    """The weights node that counts the values of a filter the weights make each pass (a standardized filter,
    ``Derived`` of the nodes that computed it): the owner of the parameter of the filter's size it is made of
    ("" for any other filter)."""
    if not isinstance(weight, Derived) or not weight.sources:
        return ""
    size = math.prod(weight.sizes)
    return next((builder.owners.get(read.name, "") for read in weight.made_of if math.prod(read.sizes) == size), "")


def _unflatten(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x, dim, sizes = args[0], _arg(args, kwargs, 1, "dim"), tuple(_arg(args, kwargs, 2, "sizes"))
    if isinstance(x, Pending):
        if x.kind == "merged" and dim == 0 and _target(x.data, sizes, name) == x.data:
            return x.source                              # the merged batch split again
        x = make(builder, x)
    if dim % x.shape.rank == 0:                          # a merged batch split again, the batch first
        if sizes[0] not in (1, -1):
            return None
        sizes = (-1, *sizes[1:])
    return builder.add(name, Unflatten(dim, sizes), (x,))


def _narrow(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    dim, start, length = (_arg(args, kwargs, i, key) for i, key in ((1, "dim"), (2, "start"), (3, "length")))
    dim %= x.shape.rank
    if dim == 0:
        return None
    return builder.add(name, Slice(dim, start % x.shape.dims[dim], start % x.shape.dims[dim] + length), (x,))


def _select(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``x.select(dim, index)`` (``aten.select``): not along the batch; along the first axis of a permute that
    moved the batch (an exported ``qkv[0]``), that axis of its source."""
    if isinstance(args[0], Permuted):
        return select_permuted(builder, name, args[0], args[2]) if args[1] == 0 else None
    x, dim, index = args[0], args[1] % args[0].shape.rank, args[2]
    if dim == 0:
        return None
    return builder.add(name, Select(dim, index % x.shape.dims[dim]), (x,))


def _channel_shuffle(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    return builder.add(name, ChannelShuffle(_arg(args, kwargs, 1, "groups")), (args[0],))


def _expand(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``y.expand_as(x)`` / ``y.expand(sizes)``: a view, pending; an element-wise op reads its source and broadcasts
    it (ECA's ``x * y.expand_as(x)``), any other reader makes it (``mapping.make``)."""
    x, target = args[0], args[1] if len(args) > 1 else _arg(args, kwargs, 1, "other", _arg(args, kwargs, 1, "size"))
    if isinstance(target, Tensor):
        sizes = _sizes(target.shape)
    elif isinstance(target, (tuple, list)) or len(args) > 2:
        sizes = tuple(target) if isinstance(target, (tuple, list)) else tuple(args[1:])
        if len(sizes) != x.shape.rank or not all(isinstance(size, int) for size in sizes):
            return None
        sizes = tuple(own if size == -1 else size for own, size in zip(_sizes(x.shape), sizes))
    else:
        return None
    if sizes == _sizes(x.shape):
        return x
    return Pending("expanded", x, name, sizes)


def _pass_through(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    return args[0]


_READS_PENDING = {"view", "reshape", "transpose", "contiguous", "conv2d", "scaled_dot_product_attention", "size",
                  "dim", "numel", "unflatten", "permute"}

_FUNCTIONS: dict[str, Callable[..., Any]] = {
    **{name: _activation(function) for name, function in ACTIVATION_FUNCTIONS.items()},
    "hardtanh": _hardtanh, "hardtanh_": _hardtanh, "gelu": _gelu,
    "add": _binary("add"), "iadd": _binary("add"), "add_": _binary("add"), "radd": _binary("radd"),
    "sub": _binary("sub"), "isub": _binary("sub"), "sub_": _binary("sub"),
    "mul": _binary("mul"), "imul": _binary("mul"), "mul_": _binary("mul"), "rmul": _binary("rmul"),
    "truediv": _binary("div"), "div": _binary("div"), "itruediv": _binary("div"), "div_": _binary("div"),
    "cat": _cat, "concat": _cat, "chunk": _chunk, "split": _split,
    "view": _reshape, "reshape": _reshape, "view_as": _reshape_as, "reshape_as": _reshape_as, "flatten": _flatten,
    "squeeze": _squeeze, "unsqueeze": _unsqueeze,
    "transpose": _transpose, "permute": _permute, "mean": _mean, "unbind": _unbind, "stack": _stack,
    "adaptive_avg_pool2d": _adaptive_pool, "max_pool2d": _pool("max"), "avg_pool2d": _pool("avg"),
    "softmax": _softmax, "matmul": _matmul, "bmm": _matmul, "scaled_dot_product_attention": _sdpa,
    "einsum": _einsum, "sum": _sum,
    "dropout": _dropout, "dropout2d": _dropout, "feature_dropout": _dropout, "interpolate": _interpolate_function,
    "stochastic_depth": _stochastic_depth, "drop_path": _drop_path, "batch_norm": _batch_norm_function,
    "pad": _pad, "expand": _expand, "expand_as": _expand,
    "layer_norm": _layer_norm, "group_norm": _group_norm, "linear": _linear, "conv2d": _conv2d,
    "channel_shuffle": _channel_shuffle,
    "unflatten": _unflatten, "narrow": _narrow, "select": _select,
    **{name: _pass_through for name in PASS_THROUGH},
}


# --- ATen ops of torch.export whose arguments differ from the function of the same name -----------------------------

def _aten_batch_norm(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``aten.batch_norm(input, weight, bias, running_mean, running_var, training, ...)``."""
    x, weight, bias = args[0], args[1], args[2]
    if args[5]:
        return _standardize(builder, name, x, (x, args[3], args[4]), {}, weight, bias)
    if x.shape.rank not in (2, 3, 4):
        return None
    builder.claim_learned(weight, bias)
    return builder.add(name, BatchNorm(affine=weight is not None), (x,))


def _aten_slice(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    x = args[0]
    dim = _arg(args, kwargs, 1, "dim", 0) % x.shape.rank
    start, end, step = _arg(args, kwargs, 2, "start"), _arg(args, kwargs, 3, "end"), _arg(args, kwargs, 4, "step", 1)
    start, stop, _ = slice(start, end).indices(x.shape.dims[dim])
    if (start, stop) == (0, x.shape.dims[dim]) and step == 1:
        return x
    if dim == 0 or step != 1:
        return None
    if stop <= start:
        return Empty()
    return builder.add(name, Slice(dim, start, stop), (x,))


@dataclass(frozen=True)
class Empty:
    """An empty slice (``x[:, :0]``: no prefix tokens), which a concatenation leaves out."""


def _aten_upsample(mode: str) -> Callable[..., Any]:
    """``aten.upsample_nearest2d(input, output_size, scale_factors)``, ``aten.upsample_bilinear2d(input,
    output_size, align_corners, scale_factors)``."""
    def handler(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
        x, size = args[0], args[1]
        align = _arg(args, kwargs, 2, "align_corners") if mode == "bilinear" else None
        scale = _arg(args, kwargs, 3 if mode == "bilinear" else 2, "scale_factors")
        return _interpolate(builder, name, x, size, scale, mode, align)
    return handler


def _aten_pad(builder: GraphMapper, name: str, args: tuple, kwargs: dict, model: "TorchModel") -> Any:
    """``aten.constant_pad_nd(input, pad, value)``."""
    if _arg(args, kwargs, 2, "value", 0) not in (0, 0.0):
        return None
    return _zero_pad(builder, name, args[0], tuple(args[1]))


_ATEN_CHECKS = {"_assert_tensor_metadata", "_assert_scalar", "sym_constrain_range_for_size"}

_ATEN: dict[str, Callable[..., Any]] = {
    "batch_norm": _aten_batch_norm, "select": _select, "slice": _aten_slice,
    "upsample_nearest2d": _aten_upsample("nearest"), "upsample_bilinear2d": _aten_upsample("bilinear"),
    "constant_pad_nd": _aten_pad, "split_with_sizes": _split,
}
