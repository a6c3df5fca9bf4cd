"""Capture a torch module as a costmodel ``Network`` (the only importer module that imports torch).

torch.fx traces the module symbolically (nothing runs); the graph is then walked in order, and each call is mapped
onto the ops registry (``torch_ops``). Shapes are costmodel's own: every mapped node's shape rule runs at the asked
input size as the node is made, so sizes the module reads (``x.shape``, ``x.size(1)``) are known numbers, views
become the flatten and unflatten steps they are, and no activation is allocated. Each node is named by the module
path it came from: a module call by its own (``features.3.conv.0``), a function by the module whose forward called
it plus the function (``features.3.add``).

A module that fx cannot trace because it turns a size into a Python number (``int(c // g)``, a branch on a size) is
traced at each asked size with its sizes as numbers (``torch_sized``), and where that fails too, captured with
``torch.export`` (``torch_export``): its ATen ops are mapped by the same table, and it is exported again at each
asked size.

Every size is that of the asked input: ``TorchModel.network`` maps the traced graph again for each size (a walk of
the graph, no trace), and ``--resolution``, ``--rho`` and sweeps work so. A module whose submodule receives an input
it does not take at some size (a classifier's ``in_features`` after a fixed flatten) is refused there, in one line.
"""
from __future__ import annotations

import contextlib
import operator
import re
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
import torch.fx
from torch import nn

from ...core.errors import CostModelError, ParameterError, first_line, param, shorten, within
from ...core.ir import INPUT, Network, node_name
from ...ops import UnusedParameters
from ...core.shapes import Shape
from . import torch_attention, torch_eager, torch_export, torch_layouts, torch_ops, torch_sized
from .mapping import Derived, GraphMapper, Learned, MappedModel, Pending, Tensor, make, tensors
from .user_code import MAX_NESTING, nesting


def _module_path(node: torch.fx.Node) -> str:
    """The path of the module whose forward made ``node`` ("" for the root module)."""
    stack = node.meta.get("nn_module_stack") or {}
    if not stack:
        return ""
    entry = stack[next(reversed(stack))]
    path = entry[0] if isinstance(entry, tuple) else None
    if not isinstance(path, str):
        return ""
    path = re.sub(r"@\d+$", "", path)                   # a module's second call: "act@1"
    return node_name(path)


def _defaults(module: nn.Module) -> dict[str, Any]:
    """The arguments of ``module``'s forward after the first that have defaults (``attn_mask=None`` in timm's
    VisionTransformer), at their defaults: the module is called with one input, so the trace fixes the others."""
    import inspect

    try:
        parameters = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return {}
    return {parameter.name: parameter.default for parameter in parameters[1:]
            if parameter.default is not inspect.Parameter.empty
            and parameter.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}


def _trace(module: nn.Module) -> torch.fx.Graph:
    """torch.fx's symbolic trace of ``module`` called with one input, owned by ``module`` itself (no GraphModule is
    made: the importer only walks the graph, and fx's copy of the module tree took a tenth of an import), or one line
    saying why it does not trace."""
    before = torch_sized.before_trace(module)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            graph = torch_sized.FastTracer().trace(module, concrete_args=_defaults(module) or None)
        except Exception as error:          # fx raises what the module's own code raises on a Proxy
            raise CostModelError(f"torch.fx cannot trace {type(module).__name__}: {_where(error)}") from None
        finally:                            # a proxy the module kept (LeViT's biases cached by device) is dropped
            torch_sized.forget_proxies(before)
    graph.owning_module = module            # type: ignore[assignment]
    return graph


def _where(error: BaseException) -> str:
    """The error's first line and the innermost source line of the user's code that raised it."""
    import traceback

    message = first_line(error)
    if len(message) > 160 and ". " in message:
        message = message.split(". ", 1)[0]            # fx's long advice after its first sentence
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if torch_export.users_code(frame.filename)]
    if frames:
        frame = frames[-1]
        return f"{message} ({frame.filename}:{frame.lineno}: {(frame.line or '').strip()})"
    return message


def _submodule(module: nn.Module, path: str) -> nn.Module:
    """The sub-module of ``module`` at the dotted ``path`` (``backbone``, ``features.3``), or one line naming the
    sub-modules there are."""
    try:
        found = module.get_submodule(path)
    except AttributeError:
        found = None
    if not isinstance(found, nn.Module):
        raise ParameterError(f"{type(module).__name__} has no sub-module {path!r} (", param("submodule"),
                             f"; its sub-modules: {_children(module)})")
    return found


def _children(module: nn.Module) -> str:
    names = [name for name, _ in module.named_children()]
    return ", ".join(names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "") if names else "none"


def _uncaptured(module: nn.Module, exported: CostModelError, traced: "CostModelError | None") -> CostModelError:
    """Neither capture takes ``module``: both reasons in one line, and the part a user can count instead (a
    detection model's backbone, before its data-dependent post-processing)."""
    reasons = f"{exported}; {traced}" if traced is not None else str(exported)
    if next(module.children(), None) is None:
        return CostModelError(reasons)
    return ParameterError(f"{reasons} (to count a part of it that reads the image instead, name it with ",
                          param("submodule", "NAME"), f"; its sub-modules: {_children(module)})")


COMPOSITE = ("torch.nn.modules.container.", "torch.nn.modules.transformer.")    # modules of layers
LOWERED = "costmodel.lowering.to_torch."     # the modules to_torch makes of an op with no nn layer of its own
UNITS = (nn.MultiheadAttention,)      # exported ops mapped as one module call (``TorchModel._map_unit``)


class TorchModel(MappedModel):
    """A torch module captured once (an fx trace, or failing that ``torch.export``), mapped onto costmodel's ops at
    each asked input size."""

    graph: "torch.fx.Graph | None"        # the fx trace (its module the module); None when captured otherwise

    def __init__(self, module: nn.Module, input_size: "tuple[int, ...]" = (3, 224, 224), *,
                 name: str | None = None, strict: bool = False, capture: str = "auto", submodule: str | None = None):
        if not isinstance(module, nn.Module):
            raise CostModelError(f"from_torch needs an nn.Module, got {type(module).__name__}")
        if submodule:
            name = name or f"{type(module).__name__}.{submodule}"
            module = _submodule(module, submodule)
        if len(input_size) == 4:
            raise ParameterError(param("input_size"), " must be (C, H, W): costmodel counts models of images, not "
                                 f"of clips (C, T, H, W: 3-D convolutions), got {input_size!r}")
        if len(input_size) != 3 or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in input_size):
            raise CostModelError(f"input_size must be (C, H, W), three positive integers, got {input_size!r}")
        if capture not in ("auto", "fx", "sized", "export"):
            raise CostModelError(f"capture must be 'auto', 'fx', 'sized' or 'export', got {capture!r}")
        if nesting(module) > MAX_NESTING:
            raise CostModelError(f"{name or type(module).__name__}: its modules are nested more than {MAX_NESTING} "
                                 "deep, past what costmodel walks")
        self._setup(module, tuple(input_size), name or type(module).__name__, strict)
        self.capture = "torch.fx trace of the module"
        self._fall_back = capture == "auto"
        untraced = None
        if capture in ("auto", "fx"):
            try:
                self.graph = self._eval(_trace, module)
            except CostModelError as error:
                if capture == "fx":
                    raise
                untraced = error
        if self.graph is None and capture in ("auto", "sized"):
            try:
                self._programs[self.resolution] = self._eval(self._sized_trace, self.resolution)
                self.sized = True
                self.capture = "torch.fx trace at each input size (its sizes numbers), traced again at each size"
            except CostModelError as error:
                if capture == "sized":
                    raise
                untraced = untraced or error
        if self.graph is None and not self.sized:
            try:
                program, mode = self._eval(torch_export.export, module, self.input_size)
            except CostModelError as error:
                raise _uncaptured(module, error, untraced) from None
            self._programs[self.resolution] = program
            self.capture = f"torch.export ({mode}) of the module, exported again at each input size"

    def _setup(self, module: nn.Module, input_size: "tuple[int, ...]", name: str, strict: bool) -> None:
        self.module = module
        self.input_size = input_size
        self.name = name
        self.strict = strict
        self.graph = None
        self.sized = False                  # captured by ``torch_sized``: a graph per input size, sizes numbers
        self._fall_back = False
        self.saved_program: Any = None
        self._programs: dict[tuple[int, int], Any] = {}
        self._networks: dict[tuple[int, int], Network] = {}
        self._mapping: "tuple[torch.fx.Node, tuple[int, int]] | None" = None
        self._values: dict[torch.fx.Node, Any] = {}            # the graph's values where it is being mapped
        self._attention: dict[tuple[int, int], Any] = {}        # by size: meta values for attention calls' strides
        self._by_path: "dict[str, nn.Module] | None" = None
        self._again = 0
        self.parameters = dict(module.named_parameters())
        self.total_params = sum(p.numel() for p in self.parameters.values())

    @classmethod
    def saved(cls, path: str, input_size: "tuple[int, int, int] | None" = None, *, name: str | None = None,
              strict: bool = False) -> "TorchModel":
        """The program of a ``.pt2`` file (``torch.export.save``), mapped at its own input size or at
        ``input_size``. It cannot be exported again: a size fixed in its ops (a view to 1 x 3 x 20 x 32 x 32) refuses
        another input, in one line."""
        from .pt2_archive import read_program

        program = read_program(path)
        inputs = torch_export.learned_inputs(program)
        images = [node for node in program.graph.nodes if node.op == "placeholder" and node.name not in inputs]
        if len(images) != 1 or len(images[0].meta["val"].shape) != 4:
            raise CostModelError(f"{shorten(path)}: costmodel imports programs of one image input (N x C x H x W)")
        own = tuple(int(size) for size in images[0].meta["val"].shape[1:])
        model = cls.__new__(cls)
        model._setup(program.module(), tuple(input_size or own), name or Path(path).stem, strict)
        if input_size and input_size[0] != own[0]:
            raise CostModelError(f"{shorten(path)} takes {own[0]} channels, not {input_size[0]}")
        model.saved_program = program
        model.capture = (f"a saved torch.export program, exported at {own[1]}x{own[2]} (another size keeps the "
                         "sizes its ops fixed)")
        return model

    def _eval(self, capture: Any, *args: Any) -> Any:
        """``capture(*args)`` with the module in eval mode (dropout and BatchNorm as at inference); each part's mode
        is as it was afterwards."""
        training = [part for part in self.module.modules() if part.training]
        if not training:
            return capture(*args)
        self.module.eval()
        try:
            return capture(*args)
        finally:
            for part in training:
                part.training = True

    def _saved_size(self) -> tuple[int, int]:
        images = [node for node in self.saved_program.graph.nodes if node.op == "placeholder"
                  and node.name not in torch_export.learned_inputs(self.saved_program)]
        return tuple(int(size) for size in images[0].meta["val"].shape[2:])       # type: ignore[return-value]

    def _graph(self, size: tuple[int, int]) -> "tuple[torch.fx.Graph, dict[str, Any], dict[str, Learned]]":
        """The captured graph at ``size``, the modules its ``call_module`` nodes call, and its inputs that are
        learned tensors (export's parameters and buffers)."""
        if self.graph is not None:
            return self.graph, self._modules(), {}
        if self.sized:
            if size not in self._programs:
                try:
                    self._programs[size] = self._eval(self._sized_trace, size)
                except CostModelError as error:
                    raise within(f"{self.name} at {size[0]}x{size[1]}: ", error) from None
            return self._programs[size], self._modules(), {}
        if size not in self._programs and self.saved_program is not None:
            self._programs[size] = self.saved_program
        if size not in self._programs:
            try:
                self._programs[size] = self._eval(torch_export.export, self.module, (self.input_size[0], *size))[0]
            except CostModelError as error:
                raise within(f"{self.name} at {size[0]}x{size[1]}: ", error) from None
        program = self._programs[size]
        inputs = torch_export.learned_inputs(program)
        learned = {node.name: Learned(inputs[node.name][0], tuple(node.meta["val"].shape), inputs[node.name][1],
                                      dtype=node.meta["val"].dtype)
                   for node in program.graph.nodes if node.op == "placeholder" and node.name in inputs}
        return program.graph, {}, learned

    def _modules(self) -> "dict[str, nn.Module]":
        """The module's sub-modules by path (what a trace at one size's ``call_module`` nodes name)."""
        if self._by_path is None:
            self._by_path = dict(self.module.named_modules())
        return self._by_path

    def _sized_trace(self, size: tuple[int, int]) -> torch.fx.Graph:
        """The fx trace of the module at input size ``size``, its sizes numbers (``torch_sized``), or one line
        saying why it does not trace."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return torch_sized.sized_trace(self.module, (1, self.input_size[0], *size),
                                               _defaults(self.module) or None)
            except Exception as error:      # fx raises what the module's own code raises on a proxy
                why = str(error) if isinstance(error, CostModelError) else _where(error)
                raise CostModelError(f"torch.fx cannot trace {type(self.module).__name__} at one input size "
                                     f"either: {why}") from None

    def _map(self, size: tuple[int, int]) -> Network:
        """The network at ``size``. Where the fx trace's graph cannot be mapped (a call costmodel refuses) and the
        capture is automatic, the module is exported and its program mapped instead (ATen ops where the trace has
        Python calls), for this size and every later one; where that fails too, the trace's refusal stands."""
        try:
            return self._map_graph(size)
        except CostModelError as refused:
            if self.graph is None or not self._fall_back:
                raise
            self._fall_back = False
            trace, capture = self.graph, self.capture
            try:
                program, mode = self._eval(torch_export.export, self.module, (self.input_size[0], *size))
                self.graph = None
                self._programs[size] = program
                self.capture = (f"torch.export ({mode}) of the module, exported again at each input size (the fx "
                                f"trace's graph could not be mapped: {first_line(refused)})")
                return self._map_graph(size)
            except CostModelError:
                self.graph, self.capture = trace, capture
                self._programs.pop(size, None)
                raise refused from None

    def _map_graph(self, size: tuple[int, int]) -> Network:
        builder = GraphMapper(strict=self.strict)
        builder.produced[INPUT] = Shape.image(1, self.input_size[0], size[0], size[1])
        graph, modules, learned = self._graph(size)
        env: dict[torch.fx.Node, Any] = {}
        self._values = env
        output: Any = None
        height, width = size
        call = None
        units = self._units(graph) if self.graph is None and not self.sized else {}
        done: set[torch.fx.Node] = set()
        try:
            for fx_node in graph.nodes:
                if fx_node in done:
                    continue
                builder.begin()
                if fx_node in units and self._map_unit(builder, units[fx_node], env):
                    done.update(units[fx_node])
                    continue
                if fx_node.op == "placeholder":
                    if fx_node.name in learned:
                        env[fx_node] = learned[fx_node.name]
                        continue
                    if fx_node.args and any(isinstance(value, Tensor) for value in env.values()):
                        env[fx_node] = fx_node.args[0]          # an argument traced at its default (``_defaults``)
                        continue
                    if any(isinstance(value, Tensor) for value in env.values()):
                        raise CostModelError(f"{self.name} takes more than one input ({fx_node.name}); costmodel "
                                             "imports modules of one image input")
                    env[fx_node] = Tensor(INPUT, builder.produced[INPUT])
                elif fx_node.op == "get_attr":
                    body = _attribute(str(fx_node.target), graph.owning_module)
                    env[fx_node] = body if isinstance(body, torch.fx.GraphModule) else \
                        self._learned(str(fx_node.target), graph.owning_module)
                elif fx_node.op == "output":
                    output = fx_node.args[0]
                else:
                    args = torch.fx.node.map_arg(fx_node.args, lambda n: env[n])
                    kwargs = torch.fx.node.map_arg(fx_node.kwargs, lambda n: env[n])
                    self._mapping = (fx_node, size)
                    if fx_node.op == "call_module":
                        target = str(fx_node.target)
                        env[fx_node] = torch_ops.call_module(builder, target, modules[target], args, kwargs, self)
                        continue
                    if getattr(fx_node.target, "__name__", "") in REGIONS:
                        env[fx_node] = self._region(builder, args, call)
                        continue
                    body = next((value for value in args if isinstance(value, torch.fx.GraphModule)), None)
                    if body is not None:
                        raise CostModelError(f"{fx_node.name}: a higher-order op ({fx_node.target}: torch.cond, "
                                             "a loop...), which costmodel does not map yet")
                    base, this_call = self._node_name(fx_node, call)
                    if fx_node.target is operator.setitem and isinstance(args[0], Tensor):
                        env[fx_node.args[0]] = self._assign(builder, base, args)
                        continue
                    made = len(builder.nodes)
                    env[fx_node] = torch_ops.call_function(builder, base, fx_node.op, fx_node.target, args,
                                                           kwargs, self)
                    if len(builder.nodes) > made:       # a call's first op is the first that makes a node
                        call = this_call
        except CostModelError as error:
            hint = ""
            if self.saved_program is not None and size != self._saved_size():
                own = "x".join(map(str, self._saved_size()))
                hint = (f" (a saved program keeps the sizes it was exported at, {own}: export it again at "
                        f"{height}x{width})")
            raise within(f"{self.name} at {height}x{width}: ", error, hint) from None
        result = make(builder, torch.fx.node.map_arg(output, lambda n: env[n]))
        found = tensors(result)
        if not found:
            raise CostModelError(f"{self.name} returns no tensor")
        out = found[0]
        unused = sorted(name for name in self.parameters if name not in builder.claimed)
        builder.begin()
        if unused:
            count = sum(self.parameters[name].numel() for name in unused)
            modules_unused = tuple(sorted({name.rsplit(".", 1)[0] for name in unused}))
            builder.add("unused_parameters", UnusedParameters(count, modules_unused), (out,))
        # a node whose parameters all have requires_grad off is frozen: training gives it no weight gradient
        trainable = {owner for name, owner in builder.owners.items() if self.parameters[name].requires_grad}
        frozen = tuple(sorted(set(builder.owners.values()) - trainable))
        return Network(self.name, tuple(builder.nodes), input_channels=self.input_size[0], base_resolution=size,
                       output=out.node, description=f"imported from torch ({type(self.module).__name__})",
                       source=self.capture, frozen=frozen, torch_views=True)

    def _assign(self, builder: GraphMapper, name: str, args: tuple) -> Tensor:
        """``target[index] = value`` of a sized trace (``torch_sized``): a copy of ``value`` into ``target``, one
        node (no arithmetic, listed as not counted as a copy is) that the later readers of ``target`` read, as an
        exported program's ``copy_`` into a slice is mapped."""
        target, _, value = make(builder, args)
        inputs = tuple(tensors((target, value)))
        return builder.opaque(name, "setitem", inputs, tuple(int(size) for size in target.shape.dims))

    def reads_batch_size(self) -> "bool | None":
        """Whether the call being mapped is made of the batch size (a tensor made in forward with ``torch.zeros(B,
        H, W)``, EdgeNeXt's position grid: one per image): whether any Python value or constant among what its
        arguments are made of reads axis 0 of a tensor's sizes (``x.shape[0]``, ``B, C, H, W = x.shape``,
        ``x.size(0)``, a whole ``x.shape``). None where it cannot be told: an exported program keeps no such record
        (its sizes are numbers)."""
        if self.graph is None or self._mapping is None or torch_eager.running():
            return None                              # in a function run whole, sizes are numbers too
        seen: set[torch.fx.Node] = set()
        stack = list(self._mapping[0].all_input_nodes)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            source = node.args[0] if node.op == "call_function" and node.target is operator.getitem else None
            if isinstance(source, torch.fx.Node) and _reads_sizes(source):
                if self._reads_axis_zero(source, node.args[1]):
                    return True
                continue
            if _reads_sizes(node):
                return True                          # all the sizes, or x.size(0)
            if node.op in ("placeholder", "call_module") or isinstance(self._values.get(node), (Tensor, Pending)):
                continue                             # the input, or a tensor computed from it: its values
            stack.extend(node.all_input_nodes)
        return False

    def _reads_axis_zero(self, sizes: torch.fx.Node, index: Any) -> bool:
        """Whether ``sizes[index]`` (of a tensor's sizes, ``x.shape``) includes axis 0's."""
        known = self._values.get(sizes)
        rank = len(known) if isinstance(known, (tuple, list)) else None
        if rank is None:
            return True
        if isinstance(index, int):
            return -rank <= index < rank and index % rank == 0
        if isinstance(index, slice):
            return 0 in range(rank)[index]
        return True

    def attention_kernel(self) -> str:
        """The kernel torch runs on a CPU for the attention call being mapped ("flash" or "math"), found from the
        sizes and strides of its tensors (``torch_attention``); "" when they are not known."""
        if self._mapping is None or not torch_attention.is_attention(self._mapping[0].target):
            return ""                                # inside a region or a function run whole: not known
        fx_node, size = self._mapping
        values: Any = [argument.meta.get("val") if isinstance(argument, torch.fx.Node) else argument
                       for argument in fx_node.args]
        kwargs = {key: argument.meta.get("val") if isinstance(argument, torch.fx.Node) else argument
                  for key, argument in fx_node.kwargs.items()}
        if self.graph is not None:                  # an fx trace keeps no tensors: run what the call reads on meta
            if size not in self._attention:
                self._attention[size] = torch_sized.MetaValues(self.module)
            mask = fx_node.args[3] if len(fx_node.args) > 3 else fx_node.kwargs.get("attn_mask")
            seed = _mask_value(self._values.get(mask)) if isinstance(mask, torch.fx.Node) else None

            def known(node: torch.fx.Node) -> Any:
                return seed if seed is not None and node is mask else self._known_value(node)

            values, kwargs = torch_sized.attention_inputs(self.graph, self._attention[size],
                                                          (1, self.input_size[0], *size),
                                                          [fx_node], known).get(fx_node.name, ((), {}))
        return torch_attention.kernel(tuple(values), kwargs)

    def _known_value(self, node: torch.fx.Node) -> Any:
        """A meta tensor of the result of ``node``, mapped already, where its layout is contiguous whatever its
        operand's (a linear layer or a layer norm, as a module or a function, ``torch_layouts``), its sizes the
        mapped tensor's and its type its weight's; None for any other node (the walk for an attention call's
        strides then goes on to its operands). A size the mapping evaluated (a number, ``x.shape``) is taken as it
        is."""
        value = self._values.get(node)
        if _plain_sizes(value):                      # a size read from a tensor (``B, N, C = x.shape``): a number
            return torch.Size(value) if isinstance(value, (tuple, list)) and _reads_sizes(node) else value
        if not isinstance(value, Tensor):
            return None
        weight: Any = None
        if node.op == "call_module":
            module = self._modules().get(str(node.target))
            weight = getattr(module, "weight", None) if type(module) in (nn.Linear, nn.LayerNorm) else None
        elif node.op == "call_function" and node.target in (F.linear, F.layer_norm):
            index = 1 if node.target is F.linear else 2
            read = node.args[index] if len(node.args) > index else node.kwargs.get("weight")
            if isinstance(read, torch.fx.Node) and read.op == "get_attr":
                weight = _attribute(str(read.target), self.module)
        if not isinstance(weight, torch.Tensor):
            return None
        return torch.empty(tuple(int(size) for size in value.shape.dims), dtype=weight.dtype, device="meta")

    def traced_value(self, target: Any) -> Any:
        """The value (a meta or fake tensor, or a tuple of them) the captured graph keeps for the call being mapped
        when ``target`` is its target (a function, a method's name, a module's path): a trace at one size's meta
        values and an exported program's fake tensors; None for an fx trace, which keeps none, and inside a
        function run whole."""
        if self._mapping is None or self.graph is not None or torch_eager.running() or self._again:
            return None
        node = self._mapping[0]
        if node.target is not target and not (isinstance(target, str) and node.target == target):
            return None
        return node.meta.get("val")

    @contextlib.contextmanager
    def other_operands(self) -> Any:
        """A context in which the call being mapped is mapped again on other operands than its graph's (the
        weights as tensors of their own): ``traced_value`` knows no value there."""
        self._again += 1
        try:
            yield
        finally:
            self._again -= 1

    def _region(self, builder: GraphMapper, args: tuple, call: Any) -> tuple:
        """The outputs of an exported region (``torch.autocast``'s ``wrap_with_autocast``: its body a graph of
        its own, called with the tensors after it), its ops mapped as if they were in the caller's graph."""
        body = next((value for value in args if isinstance(value, torch.fx.GraphModule)), None)
        if body is None:
            raise CostModelError("a region of an exported program without its body")
        given = args[args.index(body) + 1:]
        if len(given) != sum(fx_node.op == "placeholder" for fx_node in body.graph.nodes):
            raise CostModelError("a region of an exported program called with other inputs than its body takes")
        operands = iter(given)
        env: dict[torch.fx.Node, Any] = {}
        for fx_node in body.graph.nodes:
            if fx_node.op == "placeholder":
                env[fx_node] = next(operands, None)
            elif fx_node.op == "get_attr":
                env[fx_node] = self._learned(str(fx_node.target), body)
            elif fx_node.op == "output":
                return tuple(torch.fx.node.map_arg(fx_node.args[0], lambda n: env[n]))
            else:
                values = torch.fx.node.map_arg(fx_node.args, lambda n: env[n])
                keywords = torch.fx.node.map_arg(fx_node.kwargs, lambda n: env[n])
                base, _ = self._node_name(fx_node, call)
                env[fx_node] = torch_ops.call_function(builder, base, fx_node.op, fx_node.target, values, keywords,
                                                       self)
        raise CostModelError("a region of an exported program returns nothing")

    def _unit_of(self, node: torch.fx.Node) -> "tuple[str, nn.Module] | None":
        """The outermost module of a type the table maps whole (``UNITS``) whose forward ran ``node``."""
        for entry in (node.meta.get("nn_module_stack") or {}).values():
            path = entry[0] if isinstance(entry, tuple) and isinstance(entry[0], str) else None
            if path:
                try:
                    module = self.module.get_submodule(re.sub(r"@\d+$", "", path))
                except AttributeError:
                    continue
                if isinstance(module, UNITS):
                    return path, module
        return None

    def _units(self, graph: torch.fx.Graph) -> "dict[torch.fx.Node, list[torch.fx.Node]]":
        """The exported ops of each call of a ``UNITS`` module, by the call's first op."""
        groups: dict[torch.fx.Node, list[torch.fx.Node]] = {}
        current: "list[torch.fx.Node] | None" = None
        key = None
        for node in graph.nodes:
            unit = self._unit_of(node) if node.op == "call_function" else None
            if unit is None:
                current = key = None
                continue
            if unit[0] != key:
                key, current = unit[0], []
                groups[node] = current
            current.append(node)       # type: ignore[union-attr]
        return groups

    def _map_unit(self, builder: GraphMapper, group: "list[torch.fx.Node]", env: dict) -> bool:
        """The ops of one call of a ``UNITS`` module (``nn.MultiheadAttention``, whose ATen ops move the batch axis)
        mapped as the module call an fx trace has: its one input tensor in, its output out (the averaged
        attention weights, when returned, are not a value the walk can give). False where it reads more than one
        tensor: the ops are then mapped one by one."""
        members = set(group)
        inputs: list[Tensor] = []
        for node in group:
            for source in node.all_input_nodes:
                value = env.get(source)
                if source not in members and isinstance(value, Tensor) and value not in inputs:
                    inputs.append(value)
        if len(inputs) != 1:
            return False
        x = inputs[0]
        path, module = self._unit_of(group[0])     # type: ignore[misc]
        need_weights = any(isinstance(node.target, torch._ops.OpOverload) and
                           node.target.overloadpacket.__name__ in ("bmm", "baddbmm") for node in group)
        result = torch_ops.call_module(builder, re.sub(r"@\d+$", "", path), module, (x, x, x),
                                       {"need_weights": need_weights}, self)
        made = result[0] if isinstance(result, tuple) else result
        for node in group:
            if any(user not in members for user in node.users):
                value = node.meta.get("val")
                same = isinstance(value, torch.Tensor) and tuple(value.shape) == tuple(made.shape.dims)
                env[node] = made if same else None
        return True

    def _node_name(self, node: torch.fx.Node, call: Any) -> "tuple[str, Any]":
        """The name of a function's node (the calling module's path and the function), and the module call it
        belongs to. An exported op that a ``torch.nn`` layer (not a container) ran (its first op) takes the
        module's path, as the module's call in an fx trace does: ``features.0.conv`` for its ``aten.conv2d``; so
        does the first op of costmodel's own lowering of an op (``to_torch``'s ``Function``), so that a lowered
        network comes back with its nodes' names."""
        path = _module_path(node)
        function = torch_layouts.function_name(node)
        stack = node.meta.get("nn_module_stack") or {}
        this_call = next(reversed(stack)) if stack else None
        if path and this_call != call:
            kind = stack[this_call][1] if isinstance(stack[this_call], tuple) else ""
            kind = kind if isinstance(kind, str) else f"{kind.__module__}.{kind.__qualname__}"
            layer = kind.startswith("torch.nn.modules.") and not kind.startswith(COMPOSITE)
            if kind.startswith(LOWERED) or (self.graph is None and not self.sized and layer):
                return path, this_call
        return (f"{path}.{function}" if path else function), this_call

    def _learned(self, target: str, root: Any) -> Learned:
        """The tensor ``target`` names in ``root``, the graph's own module (the fx trace, or the exported
        program's)."""
        value = _attribute(target, root)
        if isinstance(value, torch.fx.GraphModule):
            raise CostModelError(f"attribute {target} is the body of a higher-order op (torch.autocast's region, "
                                 "torch.cond...), which costmodel does not map yet")
        if not isinstance(value, torch.Tensor):
            raise CostModelError(f"attribute {target} is not a tensor")
        return Learned(target, tuple(value.shape), isinstance(value, nn.Parameter), dtype=value.dtype)

    def claim(self, builder: GraphMapper, module_path: str, module: nn.Module) -> int:
        """Mark the parameters of ``module`` (at ``module_path``) as counted; their number not counted before."""
        return sum(builder.claim(f"{module_path}.{name}" if module_path else name, parameter.numel())
                   for name, parameter in module.named_parameters())


# higher-order ops of an exported program whose body runs once, as it is: mapped inline
REGIONS = ("wrap_with_autocast", "wrap_with_set_grad_enabled")


def _mask_value(value: Any) -> "torch.Tensor | None":
    """A meta tensor standing for an attention call's mask made of the weights alone (a relative position bias
    gathered from its table: ``value`` the mapped ``Learned`` or ``Derived`` tensor), of its sizes and type,
    contiguous: torch's choice of kernel does not read the mask's strides (``torch_attention.kernel``), so the ops
    that make it need not be run on meta tensors. None for another value (its strides are then computed)."""
    if isinstance(value, (Learned, Derived)) and isinstance(value.dtype, torch.dtype) and \
            not getattr(value, "expanded", False):      # an expanded table's sizes are not the mask's
        return torch.empty(tuple(value.sizes), dtype=value.dtype, device="meta")
    return None


def _reads_sizes(node: torch.fx.Node) -> bool:
    """Whether ``node`` is ``x.shape`` or ``x.size()`` (all of a tensor's sizes), or ``x.size(0)``."""
    if node.op == "call_function" and node.target is getattr:
        return len(node.args) > 1 and node.args[1] == "shape"
    if node.op == "call_method" and node.target == "size":
        dim = node.args[1] if len(node.args) > 1 else node.kwargs.get("dim")
        return dim is None or (isinstance(dim, int) and dim == 0)
    return False


def _plain_sizes(value: Any) -> bool:
    """Whether ``value`` is a number or a tuple of numbers (sizes, as the mapping evaluated them)."""
    if isinstance(value, (tuple, list)):
        return bool(value) and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    return isinstance(value, int) and not isinstance(value, bool)


def _attribute(target: str, root: Any) -> Any:
    """The attribute ``target`` (a dotted path) of ``root``."""
    value = root
    for part in target.split("."):
        value = getattr(value, part)
    return value
