"""An fx trace at one input size, for a module whose forward turns its sizes into Python values.

torch.fx runs ``forward`` on proxies that carry no sizes, so a module that branches on a size (``if H != W``) or
makes a Python number of one (``int(math.sqrt(N))``, timm's ``get_same_padding``) does not trace. Here each proxy
carries a meta tensor (the sizes and strides of the value, no data), computed op by op as the trace goes: a size read
in ``forward`` (``x.shape``, ``x.size(1)``, ``x.ndim``, ``len(x)``, unpacking ``a, b = x.chunk(2)``) is a Python
number, so the module's own arithmetic and branches run as they would on that input, and the graph records the
tensor ops only, with their sizes as numbers. Like an exported program, the graph holds for one input size: the
module is traced again at each size (milliseconds to a few hundred, where ``torch.export`` takes one to several
seconds). A branch on the values of a tensor (``if x.sum() > 0``) still does not trace: the caller then tries
``torch.export``, which says where.

Each node keeps its meta value in ``node.meta["val"]`` (as an exported program's nodes keep fake tensors), which is
where the importer reads the strides that decide the attention kernel.
"""
from __future__ import annotations

import bisect
import copy
import dis
import inspect
import math
import operator
import warnings
import weakref
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from ...core.errors import CostModelError
from . import torch_attention

CPU = torch.device("cpu")


# code object: its instructions' offsets, instructions (kept while the function lives)
_UNPACKS: "weakref.WeakKeyDictionary[Any, tuple[list[int], list[Any]]]" = weakref.WeakKeyDictionary()


class _FastProxy(torch.fx.Proxy):
    """fx's proxy, whose iteration reads the caller's bytecode once per function: fx's own reads the whole function
    again at each ``a, b, c = x.shape`` (a third of a trace of timm's ViT-S went there)."""

    def __getattr__(self, k: str) -> Any:
        return _FastAttribute(self, k)

    def __iter__(self) -> Any:
        frame = inspect.currentframe()
        caller = frame.f_back if frame is not None else None
        if caller is None:
            return self.tracer.iter(self)
        code = caller.f_code
        if code not in _UNPACKS:
            instructions = list(dis.get_instructions(code))
            _UNPACKS[code] = ([instruction.offset for instruction in instructions], instructions)
        offsets, instructions = _UNPACKS[code]
        index = bisect.bisect_left(offsets, caller.f_lasti)      # as fx finds it (Python 3.11's offsets)
        if index < len(instructions) and instructions[index].opname == "UNPACK_SEQUENCE":
            return (self[i] for i in range(instructions[index].argval))       # type: ignore[index]
        return self.tracer.iter(self)


class _FastAttribute(_FastProxy, torch.fx.proxy.Attribute):
    """fx's attribute of a proxy (``x.shape`` before it is used), iterated as ``_FastProxy`` is."""


class _SizedProxy(_FastProxy):
    """A proxy whose sizes are numbers (those of its node's meta value)."""

    @property
    def _value(self) -> Any:
        return self.node.meta.get("val")

    def _tensor(self, what: str) -> torch.Tensor:
        value = self._value
        if not isinstance(value, torch.Tensor):
            raise torch.fx.proxy.TraceError(f"{what} of {self.node.name}, which is not a tensor")
        return value

    @property
    def shape(self) -> torch.Size:
        return self._tensor("the shape").shape

    @property
    def ndim(self) -> int:
        return self._tensor("the rank").ndim

    @property
    def dtype(self) -> torch.dtype:
        return self._tensor("the dtype").dtype

    @property
    def device(self) -> torch.device:
        self._tensor("the device")
        return CPU                       # what the module runs on here (its values are meta tensors)

    @property
    def is_cuda(self) -> bool:
        return False

    def size(self, dim: "int | None" = None) -> Any:
        value = self._tensor("the size")
        return value.size() if dim is None else value.size(dim)

    def dim(self) -> int:
        return self._tensor("the rank").dim()

    def numel(self) -> int:
        return self._tensor("the number of elements").numel()

    nelement = numel

    def stride(self, dim: "int | None" = None) -> Any:
        value = self._tensor("the strides")
        return value.stride() if dim is None else value.stride(dim)

    def is_contiguous(self, memory_format: torch.memory_format = torch.contiguous_format) -> bool:
        return self._tensor("the layout").is_contiguous(memory_format=memory_format)

    @property
    def data(self) -> "_SizedProxy":
        self._tensor("the data")
        return self                      # ``x.data``: the same values, read for their sizes (bfmd's ShuffleNet)

    def __len__(self) -> int:
        value = self._value
        if isinstance(value, (torch.Tensor, tuple, list)):
            return len(value)
        raise torch.fx.proxy.TraceError(f"the length of {self.node.name}, which is not a tensor or a sequence")

    def __iter__(self) -> Any:
        return iter([self[index] for index in range(len(self))])     # type: ignore[index]

    def __setitem__(self, index: Any, value: Any) -> None:
        """An assignment into a tensor (``attn[:, :, 1:, 1:] = bias``, timm's MViTv2): an ``operator.setitem``
        node, which the importer maps as a copy into the tensor that later ops read."""
        self.tracer.create_proxy("call_function", operator.setitem, (self, index, value), {})


def _plain_graph(graph: torch.fx.Graph) -> bool:
    """Whether ``graph`` has the parts ``FastTracer.create_node`` fills as ``Graph.create_node`` does (torch 2.13
    and 2.14 have them; another torch falls back to fx's own), and no module whose hooks see each new node."""
    return graph.owning_module is None and all(hasattr(graph, part) for part in _GRAPH_PARTS)


_GRAPH_PARTS = ("_graph_namespace", "_target_to_str", "_insert", "_find_nodes_lookup_table", "_len")
_PROXIES = frozenset({_FastProxy, _FastAttribute, _SizedProxy})
# Arguments a graph keeps as they are (fx's own ``create_arg`` asks a dozen questions of each, a quarter of a trace)
_PLAIN = frozenset({int, float, bool, str, type(None), torch.dtype, torch.device, torch.memory_format,
                    torch.layout})


class FastTracer(torch.fx.Tracer):
    """torch.fx's tracer, with the weights found by a table (fx's own tracer walks every parameter and buffer of
    the model each time ``forward`` reads one, a fifth of a trace of a model of a few hundred layers) and the common
    arguments (proxies, numbers, tuples, lists and dicts of them) taken without fx's questions."""

    def __init__(self) -> None:
        super().__init__()
        self._parameters: "dict[int, str] | None" = None
        self._tensors: "dict[int, str] | None" = None
        self._stack_key: Any = None
        self._stack: Any = None

    def proxy(self, node: torch.fx.Node) -> torch.fx.Proxy:
        return _FastProxy(node, self)

    def create_node(self, kind: str, target: Any, args: Any, kwargs: Any, name: Any = None,
                    type_expr: Any = None) -> torch.fx.Node:
        """fx's node of a call, its module stack (``nn_module_stack``) shared by the nodes made in one module call
        (fx copies the stack at each node), made without fx's check for raw symbolic sizes among the arguments (a
        walk of them all; this trace makes none: its sizes are proxies or numbers)."""
        graph = self.graph
        if self.check_mutable_operations or self.record_stack_traces or not _plain_graph(graph) or \
                torch.fx.traceback.has_preserved_node_meta():
            return super().create_node(kind, target, args, kwargs, name, type_expr)
        node = torch.fx.Node(graph, graph._graph_namespace.create_name(
            name if name is not None else graph._target_to_str(target), None),
            kind, target, args or (), kwargs or torch.fx.immutable_collections.immutable_dict(), type_expr)
        graph._graph_namespace.associate_name_with_obj(node.name, node)
        graph._insert(node)
        graph._find_nodes_lookup_table.insert(node)
        graph._len += 1
        self.node_name_to_scope[node.name] = (self.scope.module_path, self.scope.module_type)
        stack = self.module_stack
        if stack:
            key = (len(stack), next(reversed(stack)))      # a call's key names its callers too: the whole stack
            if key != self._stack_key:
                self._stack_key, self._stack = key, copy.copy(stack)
            node.meta["nn_module_stack"] = self._stack
        return node

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: Any) -> Any:
        if isinstance(attr_val, nn.Parameter):
            if self._parameters is None:
                self._parameters = {}
                for path, parameter in self.root.named_parameters():
                    self._parameters.setdefault(id(parameter), path)
            name = self._parameters.get(id(attr_val))
            if name is not None:
                if name not in parameter_proxy_cache:
                    parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {})
                return parameter_proxy_cache[name]
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def create_arg(self, a: Any) -> Any:
        kind = type(a)
        if kind in _PROXIES:
            return a.node
        if kind in _PLAIN:
            return a
        if kind is tuple:
            return tuple([self.create_arg(item) for item in a])
        if kind is list:
            return [self.create_arg(item) for item in a]
        if kind is dict and all(type(key) is str for key in a):
            return {key: self.create_arg(value) for key, value in a.items()}
        if isinstance(a, torch.Tensor) and not isinstance(a, torch.fx.Proxy):
            if self._tensors is None:
                self._tensors = {}
                for path, tensor in (*self.root.named_parameters(), *self.root.named_buffers()):
                    self._tensors.setdefault(id(tensor), path)
            found = self._tensors.get(id(a))
            if found is not None:
                return self.create_node("get_attr", found, (), {})
        return super().create_arg(a)


class SizedTracer(FastTracer):
    """torch.fx's tracer with a meta value on every node (see the module's docstring)."""

    def __init__(self, input_size: "tuple[int, ...]") -> None:
        super().__init__()
        self.input_size = input_size
        self._evaluating = False
        self._values: MetaValues

    def trace(self, root: Any, concrete_args: Any = None) -> torch.fx.Graph:
        self._values = MetaValues(root)
        return super().trace(root, concrete_args)

    def proxy(self, node: torch.fx.Node) -> torch.fx.Proxy:
        return _SizedProxy(node, self)

    def create_proxy(self, kind: str, target: Any, args: Any, kwargs: Any, name: Any = None, type_expr: Any = None,
                     proxy_factory_fn: Any = None) -> torch.fx.Proxy:
        made = super().create_proxy(kind, target, args, kwargs, name, type_expr, proxy_factory_fn)
        if kind == "placeholder":
            first = not any(node.op == "placeholder" for node in made.node.graph.nodes if node is not made.node)
            made.node.meta["val"] = (torch.empty(self.input_size, device="meta") if first
                                     else made.node.args[0] if made.node.args else None)
        elif kind != "output":
            self._value(made.node)
        return made

    def call_module(self, m: nn.Module, forward: Any, args: Any, kwargs: Any) -> Any:
        if self._evaluating:                # a leaf's own forward, run on meta tensors: not traced
            return forward(*args, **kwargs)
        return super().call_module(m, forward, args, kwargs)

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: Any) -> Any:
        if self._evaluating:                # a leaf's weights, read by its forward run on meta tensors
            return self._on_meta(attr_val) if isinstance(attr_val, torch.Tensor) else attr_val
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def _on_meta(self, tensor: torch.Tensor) -> torch.Tensor:
        return self._values.on_meta(tensor)

    def _value(self, node: torch.fx.Node) -> Any:
        """The meta value of ``node``, computed from its arguments' (and kept in ``node.meta["val"]``)."""
        if "val" not in node.meta:
            self._evaluating = True          # a leaf's forward and an attribute's read run as they are: not traced
            try:
                node.meta["val"] = self._values.compute(node, self._value, lambda module, args, kwargs:
                                                        module.forward(*args, **kwargs))
            finally:
                self._evaluating = False
        return node.meta["val"]


class MetaValues:
    """Computes the meta value of a graph's node from its arguments' (``compute``), with the weights of ``root``
    as meta tensors (made once each)."""

    def __init__(self, root: nn.Module) -> None:
        self.root = root
        self._meta: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def on_meta(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor``'s sizes, strides and type on the meta device (cached: weights are read many times)."""
        if tensor.device.type == "meta":
            return tensor
        known = self._meta.get(id(tensor))
        if known is None or known[0] is not tensor:
            known = (tensor, torch.empty_strided(tensor.size(), tensor.stride(), dtype=tensor.dtype, device="meta"))
            self._meta[id(tensor)] = known
        return known[1]

    def compute(self, node: torch.fx.Node, value_of: Callable[[torch.fx.Node], Any],
                run_leaf: Callable[[nn.Module, tuple, dict], Any]) -> Any:
        """The meta value of ``node`` (not a placeholder): its arguments' values from ``value_of``; a leaf module
        run by ``run_leaf(module, args, kwargs)``. One line naming the node where an op needs the values."""
        if node.op == "get_attr":
            value: Any = self.root
            for part in str(node.target).split("."):
                value = getattr(value, part)
            return self.on_meta(value) if isinstance(value, torch.Tensor) else value
        args = torch.fx.node.map_arg(node.args, value_of)
        kwargs = dict(torch.fx.node.map_arg(node.kwargs, value_of))
        quick = _quick(node, args, kwargs, self.root)
        if quick is not None:
            return quick
        if "device" in kwargs:
            kwargs["device"] = "meta"
        if node.op == "call_method":
            function = getattr(args[0], str(node.target))
            args = tuple(_meta_device(arg) for arg in args[1:]) if node.target == "to" else args[1:]
        elif node.op == "call_module":
            module = self.root.get_submodule(str(node.target))
            function = lambda *values, **keywords: run_leaf(module, values, keywords)  # noqa: E731
        else:
            function = node.target
        try:
            with torch.device("meta"):
                return function(*args, **kwargs)
        except Exception as error:          # noqa: BLE001 - the op does not run on meta tensors (it reads values)
            raise CostModelError(f"{node.name} ({node.target}) cannot be sized without its values: "
                                 f"{str(error).splitlines()[0] if str(error) else type(error).__name__}") from None

    def run_leaf(self, module: nn.Module, args: tuple, kwargs: dict) -> Any:
        """``module`` called on meta values with its weights as meta tensors (outside a trace)."""
        state = {name: self.on_meta(tensor) for name, tensor in (*module.named_parameters(),
                                                                 *module.named_buffers())}
        return torch.func.functional_call(module, state, args, kwargs)


def graph_values(graph: torch.fx.Graph, root: nn.Module, input_size: "tuple[int, ...]",
                 until: "set[torch.fx.Node] | None" = None) -> "dict[torch.fx.Node, Any]":
    """The meta value of each node of an fx trace ``graph`` of ``root`` (its sizes Python values in the graph) run
    on one meta input of
    ``input_size`` (N x C x H x W), up to the last node of ``until`` when given: where a trace keeps no tensors,
    the strides of an attention call's operands (``torch_attention``). Raises ``CostModelError`` where an op
    needs the values."""
    values: dict[torch.fx.Node, Any] = {}
    meta = MetaValues(root)
    left = set(until) if until is not None else None
    first = True
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        for node in graph.nodes:
            if node.op == "output" or left is not None and not left:
                break
            if node.op == "placeholder":
                values[node] = torch.empty(input_size, device="meta") if first else \
                    (node.args[0] if node.args else None)
                first = False
            else:
                values[node] = meta.compute(node, values.__getitem__, meta.run_leaf)
            if left is not None:
                left.discard(node)
    return values


def attention_inputs(graph: torch.fx.Graph, root: nn.Module, input_size: tuple) -> "dict[str, tuple[tuple, dict]]":
    """The arguments (meta tensors of the true sizes and strides) of each attention call of the traced ``graph``
    (of ``root``'s sub-modules and weights) run on a meta input of ``input_size`` (N x C x H x W) up to its last
    attention call (the meta values here, which make the common ops' results from their operands' sizes
    and strides without running torch's slow meta kernels), by node name; empty when the graph has none, or when it
    does not run on meta tensors."""
    nodes = [node for node in graph.nodes if node.op == "call_function" and node.target is torch_attention.ATTENTION]
    if not nodes:
        return {}
    try:
        values = graph_values(graph, root, input_size, until=set(nodes))
    except CostModelError:                           # an op that needs its operands' values
        return {}
    return {node.name: (torch.fx.node.map_arg(node.args, values.__getitem__),
                        dict(torch.fx.node.map_arg(node.kwargs, values.__getitem__))) for node in nodes}


# Ops whose meta result is made here from the operands' sizes and strides, as torch's CPU kernels make it: torch's
# own meta kernels of these run its Python references, 0.3 to 4 ms a call (a layer norm, a hardswish), which made
# the meta values most of the trace's time. Anything else runs on meta tensors.
UNARY = frozenset({
    "relu", "relu6", "gelu", "silu", "sigmoid", "hardswish", "hardsigmoid", "tanh", "hardtanh", "leaky_relu",
    "elu", "selu", "celu", "mish", "softplus", "erf", "exp", "sqrt", "rsqrt", "abs", "neg", "reciprocal", "sin",
    "cos", "log", "clamp", "clip", "square", "dropout", "alpha_dropout", "feature_alpha_dropout", "dropout2d",
    "dropout1d", "dropout3d", "hardshrink", "softsign", "tanhshrink", "logsigmoid", "quick_gelu", "sign"})
BINARY = frozenset({"add", "sub", "mul", "truediv", "div", "maximum", "minimum", "pow", "radd", "rsub", "rmul",
                    "rtruediv", "iadd", "isub", "imul", "itruediv"})
SAME = (nn.Identity, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)
ELEMENTWISE_MODULES = (nn.ReLU, nn.ReLU6, nn.GELU, nn.SiLU, nn.Sigmoid, nn.Hardswish, nn.Hardsigmoid, nn.Tanh,
                       nn.Hardtanh, nn.LeakyReLU, nn.ELU, nn.Mish, nn.Softplus)


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


def _quick(node: torch.fx.Node, args: tuple, kwargs: dict, root: nn.Module) -> Any:
    """The meta value of ``node`` from its operands' sizes and strides, for the common ops whose rule is plain
    (``UNARY``, ``BINARY``, norms, linear layers); None for any other op, or an operand this does not settle."""
    if node.op == "call_module":
        module = root.get_submodule(str(node.target))
        x = args[0] if len(args) == 1 and not kwargs else None
        if not isinstance(x, torch.Tensor):
            return None
        if isinstance(module, SAME):
            return x
        if isinstance(module, ELEMENTWISE_MODULES):
            return torch.empty_like(x)
        if isinstance(module, nn.LayerNorm) and _floating(x):
            return torch.empty(x.shape, dtype=x.dtype, device="meta")        # a layer norm's output is contiguous
        if isinstance(module, nn.modules.batchnorm._BatchNorm) and x.is_contiguous() and x.ndim >= 2:
            return torch.empty_like(x)
        if isinstance(module, nn.Linear) and x.ndim >= 1 and x.shape[-1] == module.in_features and _floating(x):
            return torch.empty((*x.shape[:-1], module.out_features), dtype=x.dtype, device="meta")
        return None
    if node.op not in ("call_function", "call_method"):
        return None
    name = function_name(node)
    tensors = [value for value in (*args, *kwargs.values()) if isinstance(value, torch.Tensor)]
    if name in UNARY and len(tensors) == 1 and args and args[0] is tensors[0] and _floating(tensors[0]):
        return torch.empty_like(tensors[0])
    if name in BINARY and node.target in _BINARY_TARGETS and len(args) == 2 and not kwargs and tensors:
        return _broadcast(*args)
    x = args[0] if args and isinstance(args[0], torch.Tensor) and _floating(args[0]) else None
    if x is None:
        return None
    if node.target in (F.layer_norm, F.group_norm, F.rms_norm):        # their output is contiguous
        return torch.empty(x.shape, dtype=x.dtype, device="meta")
    if node.target is F.normalize:
        return _laid_out_as(x)
    if node.target is F.batch_norm and x.is_contiguous() and x.ndim >= 2:
        return torch.empty_like(x)
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


_BINARY_TARGETS: "set[Any]" = {operator.add, operator.sub, operator.mul, operator.truediv, operator.iadd,
                               operator.isub, operator.imul, operator.itruediv, torch.add, torch.sub, torch.mul,
                               torch.div, torch.maximum, torch.minimum, "add", "sub", "mul", "div", "add_", "sub_",
                               "mul_", "div_", "maximum", "minimum"}


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
    against the CPU kernel on 7,000 random strided views; torch's meta kernel differs from it on some axes of size
    1), and the flash attention kernel's layout of its output after its query's (checked on 500 random layouts,
    torch 2.13 and 2.14). None where two axes longer than 1 share a stride (the order is not x's alone)."""
    if shape is None or tuple(shape) == tuple(x.shape):
        made = torch.empty_like(x)
        if made.stride() == x.stride():
            return made
    longer = [stride for stride, size in zip(x.stride(), x.shape) if size != 1]
    if len(set(longer)) != len(longer) or 0 in longer:
        return None
    order = sorted(range(x.ndim), key=lambda axis: (x.stride(axis), x.shape[axis] != 1), reverse=True)
    return torch.empty_permuted(tuple(x.shape) if shape is None else shape, order, dtype=x.dtype,
                                device="meta")        # the outermost axis first


def _floating(x: torch.Tensor) -> bool:
    return x.dtype.is_floating_point and x.layout == torch.strided


def _broadcast(a: Any, b: Any) -> "torch.Tensor | None":
    """The result of an element-wise op of ``a`` and ``b`` (tensors or Python numbers): the layout of an operand of
    the result's sizes where all tensor operands share it, contiguous where all are contiguous; None otherwise."""
    operands = [value for value in (a, b) if isinstance(value, torch.Tensor)]
    if any(not _floating(value) for value in operands) or \
            any(not isinstance(value, (torch.Tensor, int, float)) or isinstance(value, bool) for value in (a, b)):
        return None
    dtype = torch.result_type(a, b)
    shape = torch.broadcast_shapes(*(value.shape for value in operands))
    if all(value.shape == shape and value.stride() == operands[0].stride() for value in operands):
        return torch.empty_like(operands[0], dtype=dtype)
    if all(value.is_contiguous() for value in operands):
        return torch.empty(shape, dtype=dtype, device="meta")
    return None


def _meta_device(value: Any) -> Any:
    """A device argument of ``Tensor.to`` as the meta device (the values being meta tensors)."""
    if isinstance(value, torch.device) or (isinstance(value, str) and value.split(":")[0] in ("cpu", "cuda")):
        return "meta"
    return value


def _forget_proxies(module: nn.Module, before: "dict[int, dict[str, Any]]") -> None:
    """Take the trace's proxies out of what ``module``'s forward kept (a cache of attention biases by device, as
    timm's TinyViT keeps in eval mode; an attribute set in forward): the next trace, at another size, would meet
    them. ``before``: each part's attributes before the trace."""
    for part in module.modules():
        for key, value in list(vars(part).items()):
            if isinstance(value, torch.fx.Proxy):
                if key in before.get(id(part), {}):
                    setattr(part, key, before[id(part)][key])
                else:
                    delattr(part, key)
            elif isinstance(value, dict) and not key.startswith("_"):
                for entry in [entry for entry, kept in value.items() if isinstance(kept, torch.fx.Proxy)]:
                    del value[entry]


def sized_trace(module: nn.Module, input_size: "tuple[int, ...]", concrete_args: "dict[str, Any] | None" = None,
                ) -> torch.fx.Graph:
    """The fx graph of ``module`` on one input of ``input_size`` (N x C x H x W), its sizes numbers, owned by
    ``module`` itself (no GraphModule is made: the importer only walks the graph); raises what the module's code
    raises where it reads a tensor's values."""
    tracer = SizedTracer(input_size)
    before = {id(part): dict(vars(part)) for part in module.modules()}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            graph = tracer.trace(module, concrete_args=concrete_args)
    finally:
        _forget_proxies(module, before)
    graph.owning_module = module         # type: ignore[assignment]
    return graph
