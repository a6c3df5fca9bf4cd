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
import operator
import warnings
import weakref
from typing import Any, Callable

import torch
from torch import nn

from ...core.errors import CostModelError
from . import torch_layouts

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
        self._names: dict[Any, str] = {}          # by target: fx's name for its nodes (before a number is added)

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
        if name is None:
            try:
                name = self._names.get(target)
                if name is None:
                    name = self._names[target] = graph._target_to_str(target)     # fx's name of an op's target
            except TypeError:               # a target that is not hashable
                name = graph._target_to_str(target)
        node = torch.fx.Node(graph, graph._graph_namespace.create_name(name, None),
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
                self._stack_key, self._stack = key, (stack.copy() if isinstance(stack, dict)  # C, not __reduce_ex__
                                                     else copy.copy(stack))
            node.meta["nn_module_stack"] = self._stack
        return node

    def _weights(self) -> "tuple[dict[int, str], dict[int, str]]":
        """The root's parameters, and its parameters and buffers, each by identity: its path (the first, where a
        tensor is shared, as ``named_parameters`` and ``named_buffers`` give them), from one walk of its parts."""
        if self._parameters is None or self._tensors is None:
            parameters: dict[int, str] = {}
            buffers: dict[int, str] = {}
            for prefix, part in self.root.named_modules():
                for table, tensors in ((parameters, part._parameters), (buffers, part._buffers)):
                    for name, tensor in tensors.items():
                        if tensor is not None:
                            table.setdefault(id(tensor), f"{prefix}.{name}" if prefix else name)
            self._parameters = parameters
            self._tensors = {**buffers, **parameters}        # a parameter path first, as before a buffer path
        return self._parameters, self._tensors

    def getattr(self, attr: str, attr_val: Any, parameter_proxy_cache: Any) -> Any:
        if isinstance(attr_val, nn.Parameter):
            name = self._weights()[0].get(id(attr_val))
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
        if kind is slice:
            return slice(self.create_arg(a.start), self.create_arg(a.stop), self.create_arg(a.step))
        if isinstance(a, torch.Tensor) and not isinstance(a, torch.fx.Proxy):
            found = self._weights()[1].get(id(a))
            if found is None and not isinstance(a, nn.Parameter):
                found = self.tensor_attrs.get(a)    # a tensor a part keeps as a plain attribute (fx's table of them)
            if found is None and type(a) is torch.Tensor:
                found = self.get_fresh_qualname("_tensor_constant")     # made in forward (a view of a buffer):
                self.tensor_attrs[a] = found                            # kept on the module as fx keeps it
                setattr(self.root, found, a)
            if found is not None:                   # (fx's own answer walks every part's buffers first)
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
        self.values: dict[torch.fx.Node, Any] = {}            # a graph's meta values, where ``graph_values`` keeps them
        self._meta: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
        self._modules: "dict[str, nn.Module] | None" = None
        self.positions: "tuple[torch.fx.Graph, dict[torch.fx.Node, int]] | None" = None   # a graph's node order

    def on_meta(self, tensor: torch.Tensor) -> torch.Tensor:
        """``tensor``'s sizes, strides and type on the meta device (cached: weights are read many times)."""
        if tensor.device.type == "meta":
            return tensor
        known = self._meta.get(id(tensor))
        if known is None or known[0] is not tensor:
            known = (tensor, torch.empty_strided(tensor.size(), tensor.stride(), dtype=tensor.dtype, device="meta"))
            self._meta[id(tensor)] = known
        return known[1]

    def _module(self, node: torch.fx.Node) -> "nn.Module | None":
        """The module a ``call_module`` node calls (found by a table made once), None for another node."""
        if node.op != "call_module":
            return None
        if self._modules is None:
            self._modules = dict(self.root.named_modules())
        return self._modules.get(str(node.target))

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
        quick = torch_layouts.meta_result(node, args, kwargs, self._module(node))
        if quick is not None:
            return quick
        if "device" in kwargs:
            kwargs["device"] = "meta"
        if node.op == "call_method":
            function = getattr(args[0], str(node.target))
            args = tuple(_meta_device(arg) for arg in args[1:]) if node.target == "to" else args[1:]
        elif node.op == "call_module":
            module = self.root.get_submodule(str(node.target)) if (found := self._module(node)) is None else found
            function = lambda *values, **keywords: run_leaf(module, values, keywords)  # noqa: E731
        else:
            function = node.target
        try:
            if node.op == "call_method":        # a method makes its tensors on its operand's device: no mode needed
                return function(*args, **kwargs)
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


def graph_values(graph: torch.fx.Graph, meta: MetaValues, input_size: "tuple[int, ...]",
                 until: "set[torch.fx.Node] | None" = None,
                 known: "Callable[[torch.fx.Node], Any] | None" = None) -> "dict[torch.fx.Node, Any]":
    """The meta value of each node of an fx trace ``graph`` of ``meta.root`` (its sizes Python values in the graph)
    run on one meta input of ``input_size`` (N x C x H x W): where a trace keeps no tensors, the strides of an
    attention call's operands (``torch_attention``). Raises ``CostModelError`` where an op needs the values.

    :param meta: the root's weights as meta tensors, and the values computed before for this graph at this size
        (``meta.values``: kept, and added to)
    :param until: when given, only the nodes these read, directly or through others (and these), are computed
    :param known: a node's meta value where the caller knows it (None where not): taken as it is, and the nodes
        only it reads are not computed (the importer knows a linear layer's result: contiguous, of the sizes it
        mapped)
    :returns: ``meta.values``"""
    values = meta.values
    needed: "set[torch.fx.Node] | None" = None
    seeds: dict[torch.fx.Node, Any] = {}
    if until is not None:
        needed, stack = set(), list(until)
        while stack:
            node = stack.pop()
            if node in needed or node in values:
                continue
            needed.add(node)
            seed = known(node) if known is not None else None
            if seed is not None:
                seeds[node] = seed
            else:
                stack.extend(node.all_input_nodes)
    image = next((node for node in graph.nodes if node.op == "placeholder"), None)
    if needed is None:
        order: Any = graph.nodes
    else:                                   # the needed nodes in the graph's order, not the whole graph walked
        if meta.positions is None or meta.positions[0] is not graph:
            meta.positions = (graph, {node: place for place, node in enumerate(graph.nodes)})
        order = sorted(needed, key=meta.positions[1].__getitem__)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        for node in order:
            if node.op == "output":
                break
            if node in values:
                continue
            if node in seeds:
                values[node] = seeds[node]
            elif node is image:
                values[node] = torch.empty(input_size, device="meta")
            elif node.op == "placeholder":
                values[node] = node.args[0] if node.args else None
            else:
                values[node] = meta.compute(node, values.__getitem__, meta.run_leaf)
    return values


def attention_inputs(graph: torch.fx.Graph, meta: MetaValues, input_size: tuple, nodes: "list[torch.fx.Node]",
                     known: "Callable[[torch.fx.Node], Any] | None" = None) -> "dict[str, tuple[tuple, dict]]":
    """The arguments (meta tensors of the true sizes and strides) of the attention calls ``nodes`` of the traced
    ``graph`` run on a meta input of ``input_size`` (N x C x H x W), by node name: the meta values here, which make
    the common ops' results from their operands' sizes and strides without running torch's slow meta kernels, of
    only what the calls read (``graph_values``' ``meta``, ``until`` and ``known``); empty when the graph does not
    run on meta tensors."""
    try:
        computed = graph_values(graph, meta, input_size, until={source for node in nodes
                                                               for source in node.all_input_nodes}, known=known)
    except CostModelError:                           # an op that needs its operands' values
        return {}
    return {node.name: (torch.fx.node.map_arg(node.args, computed.__getitem__),
                        dict(torch.fx.node.map_arg(node.kwargs, computed.__getitem__))) for node in nodes}


def _meta_device(value: Any) -> Any:
    """A device argument of ``Tensor.to`` as the meta device (the values being meta tensors)."""
    if isinstance(value, torch.device) or (isinstance(value, str) and value.split(":")[0] in ("cpu", "cuda")):
        return "meta"
    return value


class Attributes:
    """The attributes of each part of a module before a trace, to take the trace's proxies out of them after it
    (``forget_proxies``).

    :ivar parts: each part, a copy of its attributes, and the names of those that are dictionaries of its own (a
        cache the forward may fill: not ``_parameters``, ``_modules`` or another of torch's)
    """

    def __init__(self, module: nn.Module) -> None:
        self.parts = []
        for part in module.modules():
            own = vars(part)
            self.parts.append((part, own.copy(), _caches(own)))


def _caches(attributes: "dict[str, Any]") -> "list[str]":
    """The names of the dictionaries among a module's ``attributes`` that are its own (not torch's)."""
    return [key for key, value in attributes.items() if key[:1] != "_" and isinstance(value, dict)]


def before_trace(module: nn.Module) -> Attributes:
    """The attributes of each part of ``module`` before a trace (for ``forget_proxies``), once the proxies of an
    earlier trace by another tracer are taken out of its caches (LeViT's attention biases cached by device, after
    the user's own ``torch.fx.symbolic_trace``): this trace would read them as values of its own graph."""
    before = Attributes(module)
    proxies = _proxy_types()
    for _, attributes, caches in before.parts:
        for key in caches:
            _drop_proxies(attributes[key], proxies)
    return before


def _drop_proxies(cache: dict, proxies: "set[type[torch.fx.Proxy]]") -> None:
    if not proxies.isdisjoint(map(type, cache.values())):
        for entry in [entry for entry, kept in cache.items() if type(kept) in proxies]:
            del cache[entry]


def _proxy_types() -> "set[type[torch.fx.Proxy]]":
    """``torch.fx.Proxy`` and its subclasses (fx's, this module's, any other tracer's)."""
    found: "set[type[torch.fx.Proxy]]" = set()
    stack = [torch.fx.Proxy]
    while stack:
        kind = stack.pop()
        found.add(kind)
        stack.extend(kind.__subclasses__())
    return found


def forget_proxies(before: Attributes) -> None:
    """Take the trace's proxies out of what the traced module's forward kept (a cache of attention biases by device,
    as timm's TinyViT keeps in eval mode; an attribute set in forward): the next trace, at another size, would meet
    them. ``before``: each part's attributes before the trace (``before_trace``)."""
    proxies = _proxy_types()
    for part, attributes, caches in before.parts:
        own = vars(part)
        if not proxies.isdisjoint(map(type, own.values())):
            for key, value in list(own.items()):
                if type(value) in proxies:
                    if key in attributes:
                        setattr(part, key, attributes[key])
                    else:
                        delattr(part, key)
        if len(own) != len(attributes) or any(map(operator.is_not, own.values(), attributes.values())):
            caches = _caches(own)           # an attribute made or set in forward: a dictionary now, maybe
        for key in caches:
            cache = own.get(key)
            if isinstance(cache, dict):
                _drop_proxies(cache, proxies)


def sized_trace(module: nn.Module, input_size: "tuple[int, ...]", concrete_args: "dict[str, Any] | None" = None,
                ) -> torch.fx.Graph:
    """The fx graph of ``module`` on one input of ``input_size`` (N x C x H x W), its sizes numbers, owned by
    ``module`` itself (no GraphModule is made: the importer only walks the graph); raises what the module's code
    raises where it reads a tensor's values."""
    tracer = SizedTracer(input_size)
    before = before_trace(module)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            graph = tracer.trace(module, concrete_args=concrete_args)
    finally:
        forget_proxies(before)
    graph.owning_module = module         # type: ignore[assignment]
    return graph
