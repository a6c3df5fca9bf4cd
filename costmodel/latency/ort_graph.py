"""What ONNX Runtime runs: the kernels of the graph it optimized, each mapped onto the costmodel nodes it covers, and
where they differ from costmodel's fused view (issue 25, item 3).

ONNX Runtime rewrites a graph before it runs it (``GraphOptimizationLevel.ORT_ENABLE_ALL``, its default): it folds
BatchNorm into convolutions, fuses an activation into the convolution before it (``FusedConv``), and on x86 CPUs
moves convolutions to a blocked channel layout (``com.microsoft.nchwc.Conv``), where a convolution can also take a
residual add and the activation after it (``Sum``), with layout reorders (``ReorderInput``, ``ReorderOutput``) at
the edges. The optimized graph is the one it saves to ``optimized_model_filepath``.

A network is exported with torch's ``torch.export``-based exporter, whose nodes name the module they came from
(``pkg.torch.onnx.name_scopes``; a lowered network's module paths are its node names). An optimized node is
mapped back through tensor names: its output tensors keep their names where it writes one the exported graph has
(a fused chain writes its last node's output), and a blocked-layout node is named after that tensor
(``<tensor>_nchwc``). An exported node belongs to the optimized node that writes its output; a node whose output
no optimized node writes (the convolution inside a fused chain) belongs to the kernel of its readers, when they
all belong to one. A costmodel node with no exported node (a BatchNorm the exporter folded into its convolution, a
dropout) belongs to the kernel of the node that reads it. An optimized node that writes no exported tensor (a
layout reorder) is the engine's own: it covers no costmodel node, and its time is the engine's.
"""
from __future__ import annotations

import os
import tempfile
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Sequence


NCHWC = "_nchwc"           # the suffix of a blocked-layout node's name, after the tensor it writes
LEVELS = ("basic", "extended", "all")


@dataclass(frozen=True)
class EngineKernel:
    """One node of the graph ONNX Runtime runs.

    :param name: its name in the optimized graph (what its profiler reports, with ``_kernel_time``).
    :param op: its op, with its domain where it has one (``com.microsoft.nchwc.Conv``, ``FusedConv``).
    :param covers: the costmodel nodes it computes, in the network's order (none: a node of the engine's own)."""

    name: str
    op: str
    covers: tuple[str, ...]


@dataclass(frozen=True)
class FusionDifference:
    """Where ONNX Runtime's kernels and costmodel's fused view group a network's nodes differently.

    :param engine: the engine's kernels over these nodes, each as the costmodel nodes it covers, with its op.
    :param costmodel: the fused view's kernels over the same nodes, each as the nodes it covers.
    :param pattern: the difference in the nodes' kinds (``conv+batchnorm | add+activation -> nchwc.Conv``), the same
        for every occurrence of one rewrite."""

    engine: tuple[tuple[str, tuple[str, ...]], ...]
    costmodel: tuple[tuple[str, ...], ...]
    pattern: str


def export(module: Any, example: Any, path: str, scoped: bool = True) -> None:
    """Write a torch module to an ONNX file, the exporter's warnings and log lines kept quiet: with torch's
    ``torch.export``-based exporter, whose nodes keep the module paths they came from, or (``scoped=False``) its
    TorchScript exporter, several times faster, whose nodes name no costmodel node.

    :param module: the module (a lowered network: its module paths are costmodel's node names).
    :param example: an input tensor, or a tuple of the module's inputs.
    :param path: the file to write.
    :param scoped: whether the nodes must name their module paths."""
    import logging

    import torch

    inputs = example if isinstance(example, tuple) else (example,)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quiet = logging.getLogger("torch.onnx")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            if scoped:
                torch.onnx.export(module, inputs, path, dynamo=True, verbose=False, external_data=False)
            else:
                with torch.no_grad():
                    torch.onnx.export(module, inputs, path, dynamo=False)
        finally:
            quiet.setLevel(level)


def session_options(threads: int, level: str = "all", optimized_path: "str | None" = None,
                    profile_prefix: "str | None" = None) -> Any:
    """ONNX Runtime's session options for a measurement: ``threads`` intra-op threads that do not spin when idle,
    one inter-op thread, sequential execution, the optimization ``level`` (``LEVELS``), and, where given, the file
    to save the optimized graph to and the profiler's file prefix.

    :param threads: intra-op threads.
    :param level: the graph optimization level.
    :param optimized_path: where to save the optimized graph.
    :param profile_prefix: where to write the profiler's JSON (profiling on), else profiling off.
    :returns: an ``onnxruntime.SessionOptions``."""
    import onnxruntime

    levels = {"basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
              "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
              "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL}
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = levels[level]
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # a session's own thread pool spins for a while after each run by default; with several sessions in one process
    # (calibrate's hundreds) the idle pools' spinning took the cores from the session running: 2 threads, 684
    # kernel sessions, the networks' minima moved by a median 74% between windows (1 thread: 25-28%, no pool)
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    if optimized_path is not None:
        options.optimized_model_filepath = optimized_path
    if profile_prefix is not None:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return options


def node_times(session: Any) -> "list[dict[str, tuple[float, str]]]":
    """Each run's node times from a session's profiler (it is ended here): its ``<node>_kernel_time`` events
    grouped into runs by the session's ``model_run`` events.

    :param session: an ``onnxruntime.InferenceSession`` with its profiler on.
    :returns: per run, in run order, {node name: (microseconds, its op)} (a node run twice in a run: summed).
    :raises CostModelError: when the profile has no ``model_run`` event to group the nodes by."""
    import bisect
    import json

    from ..core.errors import CostModelError

    with open(session.end_profiling()) as events_file:
        events = json.load(events_file)
    runs = sorted((event["ts"], event["ts"] + event["dur"]) for event in events
                  if event.get("cat") == "Session" and event.get("name") == "model_run")
    if not runs:
        raise CostModelError("onnxruntime's profile has no model_run events to group its kernels' times by")
    starts = [begin for begin, _ in runs]
    per_run: list[dict[str, tuple[float, str]]] = [{} for _ in runs]
    for event in events:
        name = event.get("name", "")
        if event.get("cat") != "Node" or not name.endswith("_kernel_time"):
            continue
        index = bisect.bisect_right(starts, event["ts"]) - 1
        if 0 <= index < len(runs) and event["ts"] <= runs[index][1]:
            node = name[:-len("_kernel_time")]
            before, _ = per_run[index].get(node, (0.0, ""))
            per_run[index][node] = (before + event["dur"], str(event.get("args", {}).get("op_name", "")))
    return per_run


def optimized_graph(path: str, threads: int = 1, level: str = "all") -> Any:
    """The graph ONNX Runtime runs for an ONNX file on this machine's CPU, after its optimizations.

    :param path: the ONNX file.
    :param threads: intra-op threads (a blocked layout's choice may depend on them).
    :param level: the graph optimization level (``LEVELS``).
    :returns: the optimized ``onnx.ModelProto``."""
    import onnx
    import onnxruntime

    with tempfile.TemporaryDirectory() as folder:
        saved = os.path.join(folder, "optimized.onnx")
        onnxruntime.InferenceSession(path, session_options(threads, level, saved), providers=["CPUExecutionProvider"])
        return onnx.load(saved, load_external_data=False)


def engine_kernels(exported: Any, optimized: Any, network: Any,
                   layers: "Iterable[str] | None" = None) -> list[EngineKernel]:
    """Each node of the optimized graph with the costmodel nodes it computes.

    :param exported: the exported ``onnx.ModelProto`` (its nodes name their module paths).
    :param optimized: the graph ONNX Runtime optimized from it (``optimized_graph``).
    :param network: the costmodel ``Network`` that was lowered and exported (unfused).
    :param layers: the nodes to map (an analysis's layers: not a residual add that does not happen at this
        setting, which the lowering runs as a pass-through); default every node.
    :returns: the optimized graph's nodes, in its order (an exported node that names no module path, which the
        exporter made outside every module, maps to none)."""
    from ..sources.importer.onnx_graph import module_path

    nodes = [node for node in exported.graph.node if node.op_type != "Constant"]
    producer = {tensor: index for index, node in enumerate(nodes) for tensor in node.output if tensor}
    outputs_of = {node.name: [tensor for tensor in node.output if tensor] for node in nodes}
    owner_of_tensor: dict[str, int] = {}

    def named_after(node: Any) -> list[str]:
        """The exported tensors an optimized node is named after: ``<tensor>_nchwc``, or an exported node's name
        (a fusion's node is named ``<first node>/<fusion>/``)."""
        if node.name.endswith(NCHWC) and node.name[:-len(NCHWC)] in producer:
            return [node.name[:-len(NCHWC)]]
        return outputs_of.get(node.name.split("/", 1)[0], [])

    def rank(k: int) -> int:
        """Who claims a tensor first: a node named after it, then any other, then a layout reorder."""
        node = optimized.graph.node[k]
        return 0 if named_after(node) else 2 if node.op_type.startswith("Reorder") else 1

    readers: dict[int, list[int]] = {}
    for index, node in enumerate(nodes):
        for tensor in node.input:
            if tensor in producer:
                readers.setdefault(producer[tensor], []).append(index)
    ranked = sorted(range(len(optimized.graph.node)), key=rank)

    def claim(which: "list[int]") -> None:
        for k in which:
            node = optimized.graph.node[k]
            for tensor in named_after(node) + [tensor for tensor in node.output if tensor in producer]:
                owner_of_tensor.setdefault(tensor, k)

    claim([k for k in ranked if rank(k) < 2])
    for k in ranked:            # what a blocked convolution fused, before a reorder claims its tensor
        node = optimized.graph.node[k]
        if node.name.endswith(NCHWC) and node.op_type == "Conv":
            _claim_fused(node, k, nodes, producer, readers, owner_of_tensor)
    claim([k for k in ranked if rank(k) == 2])
    owner: dict[int, int] = {}
    for index in reversed(range(len(nodes))):
        claimed = {owner_of_tensor[tensor] for tensor in nodes[index].output if tensor in owner_of_tensor}
        if not claimed:
            claimed = {owner[reader] for reader in readers.get(index, []) if reader in owner}
            if len(claimed) != 1 or any(reader not in owner for reader in readers.get(index, [])):
                continue
        owner[index] = min(claimed)
    kept = set(layers) if layers is not None else {node.name for node in network.nodes}
    order = {node.name: position for position, node in enumerate(network.nodes) if node.name in kept}
    covers: dict[int, set[str]] = {}
    kernel_of: dict[str, int] = {}
    for index, k in owner.items():
        path = module_path(nodes[index], index)
        while path not in order and "." in path:        # a module inside a node's module: the node
            path = path.rsplit(".", 1)[0]
        if path not in order:
            continue
        covers.setdefault(k, set()).add(path)
        kernel_of.setdefault(path, k)
    consumers: dict[str, list[str]] = {}
    for node in network.nodes:
        for ref in node.inputs:
            consumers.setdefault(ref, []).append(node.name)
    for node in reversed(network.nodes):        # a node the exporter folded away: its reader's kernel
        if node.name not in kernel_of and node.name in order:
            found = [kernel_of[reader] for reader in consumers.get(node.name, []) if reader in kernel_of]
            if len(set(found)) == 1:
                kernel_of[node.name] = found[0]
                covers.setdefault(found[0], set()).add(node.name)
    kernels = []
    for k, node in enumerate(optimized.graph.node):
        op = f"{node.domain}.{node.op_type}" if node.domain else node.op_type
        kernels.append(EngineKernel(node.name, op, tuple(sorted(covers.get(k, ()), key=order.__getitem__))))
    return kernels


ACTIVATIONS = ("Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "LeakyRelu", "Tanh")


def _claim_fused(node: Any, k: int, nodes: "list[Any]", producer: "dict[str, int]",
                 readers: "dict[int, list[int]]", owner_of_tensor: "dict[str, int]") -> None:
    """A blocked-layout convolution computes more than the tensor it is named after: with a ``Sum`` input, the
    residual add that reads that tensor; with an ``activation``, the activation that alone reads the convolution's
    (or its add's) output. Their outputs are its."""
    from onnx import helper

    anchor = node.name[:-len(NCHWC)]
    if anchor not in producer:
        return
    last = producer[anchor]
    if len(node.input) > 3 and node.input[3]:
        adds = [index for index in readers.get(last, []) if nodes[index].op_type in ("Add", "Sum")]
        if len(adds) != 1:
            return
        last = adds[0]
        owner_of_tensor.setdefault(nodes[last].output[0], k)
    activation = any(attribute.name == "activation" and helper.get_attribute_value(attribute)
                     for attribute in node.attribute)
    after = readers.get(last, [])
    if activation and nodes[last].op_type in ("Conv", "Add", "Sum") and len(after) == 1 and \
            nodes[after[0]].op_type in ACTIVATIONS:
        owner_of_tensor.setdefault(nodes[after[0]].output[0], k)


def fused_groups(network: Any) -> list[tuple[str, ...]]:
    """costmodel's fused view as groups of the unfused network's nodes: each kernel's members (``fusion.fuse``).

    :param network: the unfused ``Network``.
    :returns: one tuple of node names per fused-view node, in its order."""
    from ..engine.fusion import fuse
    from ..ops.fused import Fused

    return [tuple(node.op.covers) if isinstance(node.op, Fused) else (node.name,) for node in fuse(network).nodes]


def differences(kernels: Sequence[EngineKernel], network: Any,
                kinds: "dict[str, str] | None" = None) -> list[FusionDifference]:
    """Where the engine's kernels and costmodel's fused view group nodes differently: each connected set of nodes
    whose groups differ, with both groupings and a pattern of the nodes' kinds.

    :param kernels: the engine's kernels (``engine_kernels``).
    :param network: the unfused ``Network`` (its fused view is compared).
    :param kinds: each node's layer kind, for the pattern (default: the op's class name).
    :returns: the differences, in the network's order."""
    groups = fused_groups(network)
    ours = {name: index for index, group in enumerate(groups) for name in group}
    theirs = {name: index for index, kernel in enumerate(kernels) for name in kernel.covers}
    kind = kinds or {node.name: type(node.op).__name__.lower() for node in network.nodes}
    seen: set[str] = set()
    found = []
    for node in network.nodes:
        name = node.name
        if name in seen or name not in theirs or name not in ours:
            continue
        # the smallest set closed under both groupings that holds this node
        block, frontier = set(), [name]
        while frontier:
            current = frontier.pop()
            if current in block:
                continue
            block.add(current)
            frontier.extend(member for member in groups[ours[current]] if member in theirs)
            if current in theirs:
                frontier.extend(member for member in kernels[theirs[current]].covers if member in ours)
        seen |= block
        engine = sorted({theirs[member] for member in block})
        costmodel = sorted({ours[member] for member in block})
        if len(engine) == 1 and len(costmodel) == 1 and \
                set(kernels[engine[0]].covers) == {m for m in groups[costmodel[0]] if m in theirs}:
            continue
        pattern = " | ".join("+".join(kind.get(m, "?") for m in groups[i] if m in theirs) for i in costmodel) + \
            " -> " + " | ".join(f"{kernels[i].op}({'+'.join(kind.get(m, '?') for m in kernels[i].covers)})"
                                for i in engine)
        found.append(FusionDifference(tuple((kernels[i].op, kernels[i].covers) for i in engine),
                                      tuple(groups[i] for i in costmodel), pattern))
    return found


def engine_only(kernels: Iterable[EngineKernel]) -> list[EngineKernel]:
    """The engine's own kernels, which compute no costmodel node (layout reorders).

    :param kernels: the engine's kernels.
    :returns: those that cover no node."""
    return [kernel for kernel in kernels if not kernel.covers]
