"""The sizes, strides and type of the result of a common op, made from its operands' as torch's CPU kernels make
them, without running the op: the meta values of a trace at one input size (``torch_sized``), which decide the
attention kernel torch runs (``torch_attention``). torch's own meta kernels of these ops run its Python references,
0.3 to 4 ms a call (a layer norm, a hardswish, an addition whose operands are laid out differently), which made the
meta values most of a trace's time; an op not covered here still runs on meta tensors.

The layout of an element-wise result is TensorIterator's (``iterated``): an output as its operands where they all
share one dense layout, else dense in the order of its operands' strides (the first operand's first, broadcast axes
skipped, equal strides broken by size). Each rule is checked against the op run on real tensors
(``tests/importer/test_meta_values.py``), and the element-wise rule on 60,000 random strided and broadcast operands
(40,000 in torch 2.13, 20,000 in 2.14).
"""
from __future__ import annotations

import math
import operator
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ...core.errors import CostModelError
from ...core.ir import pair_of
from . import torch_attention

UNARY = frozenset({
    "relu", "relu6", "gelu", "silu", "sigmoid", "hardswish", "hardsigmoid", "tanh", "hardtanh", "leaky_relu",
    "elu", "selu", "celu", "mish", "softplus", "erf", "exp", "sqrt", "rsqrt", "abs", "neg", "reciprocal", "sin",
    "cos", "log", "clamp", "clip", "square", "hardshrink", "softsign", "tanhshrink", "logsigmoid", "sign"})
DROPOUT = frozenset({"dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d", "dropout3d"})
BINARY = frozenset({"add", "sub", "mul", "truediv", "div", "maximum", "minimum", "pow", "radd", "rsub", "rmul",
                    "rtruediv", "iadd", "isub", "imul", "itruediv"})
SAME = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)      # at inference
ELEMENTWISE_MODULES = (nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.Tanh,
                       nn.Hardtanh, nn.LeakyReLU, nn.ELU, nn.Mish, nn.Softplus)
_BINARY_TARGETS: "set[Any]" = {operator.add, operator.sub, operator.mul, operator.truediv, operator.iadd,
                               operator.isub, operator.imul, operator.itruediv, torch.add, torch.sub, torch.mul,
                               torch.div, torch.maximum, torch.minimum, "add", "sub", "mul", "div", "add_", "sub_",
                               "mul_", "div_", "maximum", "minimum"}
_IN_PLACE: "set[Any]" = {operator.iadd, operator.isub, operator.imul, operator.itruediv}
_PRODUCTS: "set[Any]" = {operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm"}
_SOFTMAX: "set[Any]" = {F.softmax, torch.softmax, "softmax"}
_REDUCTIONS: "set[Any]" = {torch.mean, torch.sum, "mean", "sum"}


def function_name(node: torch.fx.Node) -> str:
    """The name of the function or method a traced or exported ``node`` calls, without underscores around it
    (``add_``: "add"; an exported ATen op: the Python call that made it, where the program records it)."""
    if node.op == "call_method":
        return str(node.target).strip("_")
    target = node.target
    called = node.meta.get("torch_fn")                     # export: the Python call that made an ATen op
    if isinstance(called, tuple) and len(called) == 2 and isinstance(called[1], str) and \
            target is not operator.getitem:
        return called[1].rsplit(".", 1)[-1].strip("_")     # "wrapper_descriptor.__getitem__": "getitem"
    if isinstance(target, torch._ops.OpOverload):
        return target.overloadpacket.__name__.strip("_")      # aten.relu_.default: "relu"
    name = getattr(target, "__name__", None) or str(target)
    return name.strip("_")


def meta_result(node: torch.fx.Node, args: tuple, kwargs: dict, module: "nn.Module | None") -> Any:
    """The meta value of ``node``'s result from its operands' meta values ``args`` and ``kwargs`` (``module``: the
    module a ``call_module`` node calls), for the ops with a rule here; None for any other op, or operands a rule
    does not settle (torch's meta kernel then runs).

    :param node: a ``call_module``, ``call_function`` or ``call_method`` node of an fx graph
    :param args: its positional arguments, tensors as meta tensors
    :param kwargs: its keyword arguments, likewise
    :param module: the module a ``call_module`` node calls, else None
    :returns: a meta tensor, or None"""
    if node.op == "call_module":
        x = args[0] if len(args) == 1 and not kwargs else None
        if module is None or not isinstance(x, torch.Tensor):
            return None
        return module_result(module, x)
    if node.op not in ("call_function", "call_method"):
        return None
    name = function_name(node)
    tensors = [value for value in (*args, *kwargs.values()) if isinstance(value, torch.Tensor)]
    x = args[0] if args and isinstance(args[0], torch.Tensor) and _floating(args[0]) else None
    if name in DROPOUT and x is not None and len(tensors) == 1:
        if _argument(args, kwargs, 2, "training") is False:
            return x                                                # at inference: its operand itself
        return _like(x) if _dense(x) else None   # training by default (``F.dropout(x, 0.1)``): x's layout if dense
    if name in UNARY and x is not None and len(tensors) == 1:
        if _in_place(node) or kwargs.get("inplace") or (node.op == "call_function" and len(args) > 1):
            return x if _dense(x) else None      # in place, or may be (``F.leaky_relu(x, 0.1, True)``): x's layout
        return iterated([x], tuple(x.shape), x.dtype)
    if name in BINARY and node.target in _BINARY_TARGETS and len(args) == 2 and not kwargs and tensors:
        return _binary(node, *args)
    if node.target in (torch.cat, torch.concat, torch.stack):
        return _joined(node, args, kwargs)
    if x is None:
        return None
    if node.target in _PRODUCTS and len(args) == 2 and not kwargs:
        return _product(node, x, args[1])
    if node.target in _SOFTMAX:
        dim = _argument(args, kwargs, 1, "dim")
        dtype = _argument(args, kwargs, 3 if node.target is F.softmax else 2, "dtype")   # F.softmax: _stacklevel
        if isinstance(dim, int) and not isinstance(dim, bool) and -max(x.ndim, 1) <= dim < max(x.ndim, 1) and \
                dtype is None:
            return torch.empty(x.shape, dtype=x.dtype, device="meta")     # softmax's output is contiguous
        return None
    if node.target in _REDUCTIONS:
        return _reduced(x, args, kwargs)
    if node.target is F.conv2d:
        weight = _argument(args, kwargs, 1, "weight")
        if not isinstance(weight, torch.Tensor) or len(args) > 7 or \
                set(kwargs) - {"weight", "bias", "stride", "padding", "dilation", "groups"}:
            return None
        settings = [_argument(args, kwargs, index, name) for index, name in
                    ((3, "stride"), (4, "padding"), (5, "dilation"), (6, "groups"))]
        return _convolved(x, weight, *(default if value is None else value
                                       for value, default in zip(settings, (1, 0, 1, 1))))
    if node.target in (F.layer_norm, F.group_norm, F.rms_norm):        # their output is contiguous
        return torch.empty(x.shape, dtype=x.dtype, device="meta")
    if node.target is F.normalize:
        return _laid_out_as(x)
    if node.target is F.batch_norm and x.is_contiguous() and x.ndim >= 2:
        return _like(x)
    if node.target is F.linear and isinstance(args[1] if len(args) > 1 else kwargs.get("weight"), torch.Tensor):
        weight = args[1] if len(args) > 1 else kwargs["weight"]
        if weight.ndim == 2 and x.ndim >= 1 and x.shape[-1] == weight.shape[1]:
            return torch.empty((*x.shape[:-1], weight.shape[0]), dtype=x.dtype, device="meta")
        return None
    if node.target is F.interpolate and x.ndim == 4 and x.is_contiguous():
        return _resized(x, _argument(args, kwargs, 1, "size"), _argument(args, kwargs, 2, "scale_factor"))
    value = args[2] if len(args) > 2 else kwargs.get("value")
    if node.target is F.scaled_dot_product_attention and isinstance(value, torch.Tensor) and x.ndim >= 2:
        shape = (*x.shape[:-1], value.shape[-1])
        chosen = torch_attention.kernel(args, kwargs)            # the math path's matmul makes a contiguous result
        if chosen == "math":
            return torch.empty(shape, dtype=x.dtype, device="meta")
        return _laid_out_as(x, shape) if chosen == "flash" else None   # torch's meta kernel: contiguous
    return None


def module_result(module: nn.Module, x: torch.Tensor) -> "torch.Tensor | None":
    """The result of ``module`` called on ``x`` alone (a meta tensor), for the layers with a rule here.

    :param module: the module called
    :param x: its operand, a meta tensor
    :returns: a meta tensor, or None for a module or operand no rule settles"""
    if isinstance(module, SAME):
        return x
    if not _floating(x):
        return None
    if isinstance(module, ELEMENTWISE_MODULES):
        if getattr(module, "inplace", False):
            return x if _dense(x) else None
        return iterated([x], tuple(x.shape), x.dtype)
    if isinstance(module, nn.LayerNorm):
        return torch.empty(x.shape, dtype=x.dtype, device="meta")        # a layer norm's output is contiguous
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and x.is_contiguous() and x.ndim >= 2:
        return _like(x)
    if isinstance(module, nn.Linear) and x.ndim >= 1 and x.shape[-1] == module.in_features:
        return torch.empty((*x.shape[:-1], module.out_features), dtype=x.dtype, device="meta")
    if type(module) is nn.Conv2d and module.padding_mode == "zeros":
        return _convolved(x, module.weight, module.stride, module.padding, module.dilation, module.groups)
    return None


def _convolved(x: torch.Tensor, weight: Any, stride: Any, padding: Any, dilation: Any,
               groups: Any) -> "torch.Tensor | None":
    """A 2-D convolution's result (``F.conv2d(x, weight, bias, stride, padding, dilation, groups)``, or a Conv2d's
    with zero padding), contiguous, where its input and filter are (torch's CPU convolutions follow their operands'
    memory format): N x C_out x H_out x W_out with H_out = floor((H + 2 p - d (k - 1) - 1) / s) + 1. None for a
    padding by name ("same") or other operands."""
    try:
        steps, pads, spreads = pair_of(stride, "stride", 1), pair_of(padding, "padding", 0), \
            pair_of(dilation, "dilation", 1)
    except CostModelError:              # a padding by name ("same"), or not numbers
        return None
    if x.ndim != 4 or not isinstance(weight, torch.Tensor) or weight.ndim != 4 or not x.is_contiguous() or \
            not weight.is_contiguous() or weight.dtype != x.dtype or \
            not isinstance(groups, int) or isinstance(groups, bool) or groups < 1 or \
            x.shape[1] != weight.shape[1] * groups or weight.shape[0] % groups:
        return None
    sides = []
    for side, kernel, step, pad, spread in zip(x.shape[2:], weight.shape[2:], steps, pads, spreads):
        out = (side + 2 * pad - spread * (kernel - 1) - 1) // step + 1
        if out < 1:
            return None
        sides.append(out)
    return torch.empty((x.shape[0], weight.shape[0], *sides), dtype=x.dtype, device="meta")


def _product(node: torch.fx.Node, a: torch.Tensor, b: Any) -> "torch.Tensor | None":
    """``a @ b`` (``torch.matmul``, ``torch.bmm``) of floating tensors of one type and at least two axes each:
    a contiguous result of the broadcast batch axes, then ``a``'s rows and ``b``'s columns (torch's CPU matmul
    writes a new tensor whatever its operands' layout; checked on random strided and broadcast operands)."""
    if not isinstance(b, torch.Tensor) or not _floating(b) or b.dtype != a.dtype or a.ndim < 2 or b.ndim < 2 or \
            a.shape[-1] != b.shape[-2]:
        return None
    if node.target in (torch.bmm, "bmm"):
        if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
            return None
    batch = _broadcast_shape(tuple(a.shape[:-2]), tuple(b.shape[:-2]))
    if batch is None:
        return None
    return torch.empty((*batch, a.shape[-2], b.shape[-1]), dtype=a.dtype, device="meta")


def _reduced(x: torch.Tensor, args: tuple, kwargs: dict) -> "torch.Tensor | None":
    """``x.mean(dim, keepdim)`` or ``x.sum(dim, keepdim)`` of a contiguous ``x``, over named axes: a contiguous
    result, the axes reduced kept as 1 or dropped (torch's CPU reduction of a contiguous tensor; checked on random
    sizes and axes). None for a type asked (``dtype=``), all axes (``dim`` None) or another argument."""
    if len(args) > 3 or set(kwargs) - {"dim", "keepdim"} or not x.is_contiguous():
        return None
    dim, keep = _argument(args, kwargs, 1, "dim"), _argument(args, kwargs, 2, "keepdim")
    dims = [dim] if isinstance(dim, int) else list(dim) if isinstance(dim, (tuple, list)) else None
    rank = max(x.ndim, 1)
    if not dims or not isinstance(keep, (bool, type(None))) or \
            any(not isinstance(axis, int) or isinstance(axis, bool) or not -rank <= axis < rank for axis in dims):
        return None
    axes = {axis % rank for axis in dims}
    if len(axes) != len(dims) or x.ndim == 0:
        return None
    shape = [1 if axis in axes else size for axis, size in enumerate(x.shape)] if keep else \
        [size for axis, size in enumerate(x.shape) if axis not in axes]
    return torch.empty(shape, dtype=x.dtype, device="meta")


def _joined(node: torch.fx.Node, args: tuple, kwargs: dict) -> "torch.Tensor | None":
    """``torch.cat`` or ``torch.stack`` of contiguous tensors of one type: a contiguous result."""
    tensors = _argument(args, kwargs, 0, "tensors")
    dim = _argument(args, kwargs, 1, "dim")
    dim = 0 if dim is None else dim
    if not isinstance(tensors, (tuple, list)) or not tensors or not isinstance(dim, int) or isinstance(dim, bool) \
            or not all(isinstance(t, torch.Tensor) and _floating(t) and t.is_contiguous() for t in tensors) \
            or len({t.dtype for t in tensors}) != 1 or len({t.ndim for t in tensors}) != 1:
        return None
    first = tensors[0]
    stacking = node.target is torch.stack
    rank = first.ndim + 1 if stacking else first.ndim
    if not -rank <= dim < rank:
        return None
    dim %= rank
    if stacking:
        if len({tuple(t.shape) for t in tensors}) != 1:
            return None
        shape = (*first.shape[:dim], len(tensors), *first.shape[dim:])
    else:
        if any(tuple(t.shape[:dim]) != tuple(first.shape[:dim]) or tuple(t.shape[dim + 1:]) !=
               tuple(first.shape[dim + 1:]) for t in tensors):
            return None
        shape = (*first.shape[:dim], sum(t.shape[dim] for t in tensors), *first.shape[dim + 1:])
    return torch.empty(shape, dtype=first.dtype, device="meta")


def _binary(node: torch.fx.Node, a: Any, b: Any) -> "torch.Tensor | None":
    """The result of an element-wise op of ``a`` and ``b`` (tensors or Python numbers): TensorIterator's layout
    (``iterated``), or the first operand itself for an in-place op (``x += y``, ``x.add_(y)``)."""
    operands = [value for value in (a, b) if isinstance(value, torch.Tensor)]
    if any(not _floating(value) for value in operands) or \
            any(not isinstance(value, (torch.Tensor, int, float)) or isinstance(value, bool) for value in (a, b)):
        return None
    shape = _broadcast_shape(*(value.shape for value in operands))
    if shape is None:
        return None
    if node.target in _IN_PLACE or _in_place(node):
        return a if isinstance(a, torch.Tensor) and tuple(a.shape) == shape else None
    return iterated(operands, shape, torch.result_type(a, b))


def iterated(operands: "list[torch.Tensor]", shape: "tuple[int, ...]", dtype: torch.dtype) -> torch.Tensor:
    """The result TensorIterator allocates for an element-wise op of ``operands`` broadcast to ``shape`` (a meta
    tensor of type ``dtype``): contiguous where every operand is; channels-last where every operand of rank 4 is;
    the operands' strides where they share one dense layout; else dense in the order of the operands' strides,
    sorted as TensorIterator sorts its axes (the first operand whose strides of two axes differ and neither is 0
    decides; equal strides put the larger axis outside).

    :param operands: the op's tensor operands (Python numbers take no part)
    :param shape: the broadcast sizes of the result
    :param dtype: the result's type
    :returns: a meta tensor"""
    rank = len(shape)
    if all(tuple(operand.shape) == shape for operand in operands):
        if all(operand.is_contiguous() for operand in operands):
            return torch.empty(shape, dtype=dtype, device="meta")
        if rank == 4 and all(operand.is_contiguous(memory_format=torch.channels_last) for operand in operands):
            return torch.empty(shape, dtype=dtype, device="meta", memory_format=torch.channels_last)
        first = operands[0].stride()
        if all(operand.stride() == first for operand in operands) and _dense(operands[0]):
            return torch.empty_strided(shape, first, dtype=dtype, device="meta")
    strides = []
    for operand in operands:
        offset = rank - operand.ndim
        row = [0] * rank
        for axis in range(operand.ndim):
            broadcast = operand.shape[axis] == 1 and shape[offset + axis] != 1
            row[offset + axis] = 0 if broadcast else operand.stride(axis)
        strides.append(row)

    def outside(axis: int, other: int) -> int:
        """1 where ``axis`` goes outside ``other``, -1 inside, 0 where no operand tells."""
        for row in strides:
            if row[axis] == 0 or row[other] == 0:
                continue
            if row[axis] != row[other]:
                return 1 if row[axis] > row[other] else -1
            if shape[axis] > shape[other]:
                return 1
        return 0

    order = list(range(rank - 1, -1, -1))                 # the innermost axis first
    for start in range(1, rank):
        moving = start
        for before in range(start - 1, -1, -1):
            verdict = outside(order[before], order[moving])
            if verdict > 0:
                order[before], order[moving] = order[moving], order[before]
                moving = before
            elif verdict < 0:
                break
    result_strides = [0] * rank
    step = 1
    for axis in order:
        result_strides[axis] = step
        step *= shape[axis]
    return torch.empty_strided(shape, tuple(result_strides), dtype=dtype, device="meta")


def _argument(args: tuple, kwargs: dict, index: int, name: str) -> Any:
    return args[index] if len(args) > index else kwargs.get(name)


def _resized(x: torch.Tensor, size: Any, scale: Any) -> "torch.Tensor | None":
    """``F.interpolate``'s output for a contiguous N x C x H x W ``x`` (contiguous): ``size``, or each side times
    its scale rounded down (torch's rule); None for any other argument (its meta kernel then runs: bicubic's took a
    quarter of a second)."""
    if isinstance(size, int) and not isinstance(size, bool):
        size = (size, size)
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(s, int) for s in size):
        sides = tuple(size)
    elif size is None and isinstance(scale, (int, float)) and not isinstance(scale, bool) and scale > 0:
        sides = tuple(math.floor(float(side) * scale) for side in x.shape[2:])
    else:
        return None
    return torch.empty((*x.shape[:2], *sides), dtype=x.dtype, device="meta")


def _laid_out_as(x: torch.Tensor, shape: "tuple[int, ...] | None" = None) -> "torch.Tensor | None":
    """A meta tensor of ``shape`` (x's own by default) laid out as torch's CPU kernels lay out a result made from
    ``x``: x's strides where x is dense and the sizes are its own; otherwise (XCiT's query, a strided slice of a
    permuted qkv) dense in the order of x's strides, an axis of size 1 just inside the axis whose stride it shares.
    That is TensorIterator's layout of ``x`` divided by a tensor broadcast to its sizes (``F.normalize``: checked
    against the CPU kernel on 7,000 random strided views that are not dense; torch's meta kernel differs from it on
    some axes of size 1, and for a dense x so does this: the CPU kernel may give an axis of size 1 another stride,
    which changes nothing in memory), and the flash attention kernel's layout of its output after its query's
    (checked on 1,500 random layouts,
    509 of them on the flash kernel, torch 2.13 and 2.14). None where two axes longer than 1 share a stride (the
    order is not x's alone)."""
    if (shape is None or tuple(shape) == tuple(x.shape)) and _dense(x):
        return _like(x)
    longer = [stride for stride, size in zip(x.stride(), x.shape) if size != 1]
    if len(set(longer)) != len(longer) or 0 in longer:
        return None
    return iterated([x], tuple(x.shape) if shape is None else tuple(shape), x.dtype)   # x's strides alone decide


def _in_place(node: torch.fx.Node) -> bool:
    """Whether ``node`` calls an in-place variant (``x.add_(y)``, ``torch.relu_``: its result is its operand)."""
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
    return isinstance(name, str) and name.endswith("_") and not name.endswith("__")


def _dense(x: torch.Tensor) -> bool:
    """Whether ``x`` covers its storage without gaps or overlaps, as torch decides it (``empty_like`` then keeps its
    strides): its axes longer than 1, innermost first, have strides 1, then each the product of the sizes inside.
    (torch's own answer, ``empty_like``, takes 80 us on a meta tensor.)"""
    sizes, strides = x.shape, x.stride()
    if len(sizes) == 1:
        return sizes[0] < 2 or strides[0] == 1
    required = 1
    for axis in sorted((axis for axis in range(len(sizes)) if sizes[axis] >= 2), key=strides.__getitem__):
        if strides[axis] != required:
            return False
        required *= sizes[axis]
    return True


def _like(x: torch.Tensor) -> torch.Tensor:
    """A meta tensor of ``x``'s sizes, strides and type (``empty_like`` of a dense ``x``, without its cost)."""
    return torch.empty_strided(x.shape, x.stride(), dtype=x.dtype, device="meta")


def _broadcast_shape(*shapes: Any) -> "tuple[int, ...] | None":
    """The sizes ``shapes`` broadcast to (torch's rule: aligned at the last axis, a size of 1 stretched), None where
    they do not broadcast. (``torch.broadcast_shapes`` takes 40 us.)"""
    rank = max(len(shape) for shape in shapes)
    result = [1] * rank
    for shape in shapes:
        for axis, size in enumerate(shape, rank - len(shape)):
            if size != 1:
                if result[axis] not in (1, size):
                    return None
                result[axis] = size
    return tuple(result)


def _floating(x: torch.Tensor) -> bool:
    return x.dtype.is_floating_point and x.layout == torch.strided
