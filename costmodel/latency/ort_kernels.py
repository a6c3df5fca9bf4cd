"""Kernels and networks timed on ONNX Runtime (``costmodel calibrate --engine onnxruntime``; issue 25, item 3).

A kernel of ``calibration.samples`` is its ``op`` node alone: the node's torch module, fed the tensors the sample's
other nodes make (a residual add's second input, attention's queries), computed once in torch beforehand. All the
kernels are exported together, as one module with each kernel's inputs and outputs as its own (torch's TorchScript
exporter: one export of 684 kernels takes about 20 s, where one each would take minutes), and each kernel's graph is
cut out of that file (from its inputs to its outputs, ``onnx.utils.Extractor``) into a session of its own, which ONNX
Runtime optimizes as it would any graph (``ort_graph.session_options``: ``ORT_ENABLE_ALL``).

A session's run costs more than its kernel: the call from Python, binding the inputs, allocating the outputs: 15
us for an empty graph run again and again, 40-200 us right after another session's run (the call's code and data
have left the caches), which a network ONNX Runtime runs in one call pays once. So a kernel's time is what the
session's profiler gives its nodes (``profiled_runs``), each run following another session's run as a layer
follows another; and since the profiler gives any node some time beyond its work, an **empty session** (one ReLU
of one number) is profiled in the same passes, and ``calibrate`` subtracts its node's minimum for each node.

A network (a synthetic one for the context, a scored one in ``benchmarks/bench_latency.py``) is exported whole
(TorchScript exporter: its node names are not needed) and timed in a session as it is deployed.
"""
from __future__ import annotations

import os
import tempfile
from typing import Any, Sequence


def op_alone(lowered: Any, x: Any) -> "tuple[Any, tuple[Any, ...]]":
    """A one-op network's ``op`` node as a module and the inputs it reads.

    :param lowered: the network lowered to torch (``to_torch``), its node ``op`` the one measured.
    :param x: the network's input.
    :returns: (the op's module, its inputs: the tensors the nodes before it make, computed here)."""
    import torch

    values = {"input": x}
    with torch.no_grad():
        for name, module, inputs in lowered._plan:
            if name == "op":
                return module, tuple(values[ref].clone() for ref in inputs)
            values[name] = module(*(values[ref] for ref in inputs))
    raise ValueError("the network has no node named 'op'")


def kernel_sessions(kernels: "Sequence[tuple[Any, tuple[Any, ...]]]", threads: int,
                    profile_folder: str) -> "list[tuple[Any, dict]]":
    """Each kernel in an ONNX Runtime session of its own, its profiler on, with its feed.

    :param kernels: (a module, its inputs) each (``op_alone``).
    :param threads: intra-op threads of every session.
    :param profile_folder: where the sessions' profilers write (``profiled_runs`` reads them).
    :returns: (the session, the feed of its inputs by name) each, in the kernels' order."""
    import numpy
    import onnx
    import onnxruntime
    import torch

    from .ort_graph import export, session_options

    class Bundle(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.kernels = torch.nn.ModuleList(module for module, _ in kernels)
            self.arities = [len(inputs) for _, inputs in kernels]

        def forward(self, *xs: Any) -> tuple[Any, ...]:
            outputs: list[Any] = []
            at = 0
            for module, arity in zip(self.kernels, self.arities):
                y = module(*xs[at:at + arity])
                at += arity
                outputs.extend(y if isinstance(y, (tuple, list)) else (y,))
            return tuple(outputs)

    widths = []             # the outputs of each kernel (a split has several)
    with torch.no_grad():
        for module, inputs in kernels:
            y = module(*inputs)
            widths.append(len(y) if isinstance(y, (tuple, list)) else 1)
    flat = tuple(tensor for _, inputs in kernels for tensor in inputs)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "kernels.onnx")
        export(Bundle().eval(), flat, path, scoped=False)
        graph = onnx.load(path)
    names = [value.name for value in graph.graph.input]
    outputs = [value.name for value in graph.graph.output]
    if len(names) != len(flat) or len(outputs) != sum(widths):
        raise RuntimeError(f"the kernels' export has {len(names)} inputs and {len(outputs)} outputs, not "
                           f"{len(flat)} and {sum(widths)}")
    extractor = onnx.utils.Extractor(graph)
    sessions = []
    at = out = 0
    for index, ((_, inputs), width) in enumerate(zip(kernels, widths)):
        options = session_options(threads, "all", profile_prefix=os.path.join(profile_folder, f"kernel{index}"))
        own = names[at:at + len(inputs)]
        model = extractor.extract_model(own, outputs[out:out + width])
        session = onnxruntime.InferenceSession(model.SerializeToString(), options,
                                               providers=["CPUExecutionProvider"])
        sessions.append((session, {name: numpy.ascontiguousarray(tensor.numpy())
                                   for name, tensor in zip(own, inputs)}))
        at += len(inputs)
        out += width
    return sessions


def network_session(module: Any, x: Any, threads: int, keep: "str | None" = None) -> "tuple[Any, dict]":
    """A network exported and loaded in an ONNX Runtime session as it is deployed.

    :param module: the network as a torch module (eval mode).
    :param x: its input.
    :param threads: intra-op threads.
    :param keep: a path to leave the exported ONNX file at (default: none kept).
    :returns: (the session, its feed)."""
    import numpy
    import onnxruntime

    from .ort_graph import export, session_options

    with tempfile.TemporaryDirectory() as folder:
        path = keep or os.path.join(folder, "network.onnx")
        export(module, x, path, scoped=False)
        session = onnxruntime.InferenceSession(path, session_options(threads, "all"),
                                               providers=["CPUExecutionProvider"])
    return session, {session.get_inputs()[0].name: numpy.ascontiguousarray(x.numpy())}


def empty_session(threads: int, profile_folder: str) -> "tuple[Any, dict]":
    """A session whose graph is one ReLU of one number, its profiler on: the time the profiler gives its node is
    what it gives any node beyond the node's work.

    :param threads: intra-op threads.
    :param profile_folder: where its profiler writes.
    :returns: (the session, its feed)."""
    import numpy
    import onnxruntime
    from onnx import TensorProto, helper

    from .ort_graph import session_options

    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "empty",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    options = session_options(threads, "all", profile_prefix=os.path.join(profile_folder, "empty"))
    session = onnxruntime.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session, {"x": numpy.ones(1, dtype=numpy.float32)}


ENGINE_OWN = ("ReorderInput", "ReorderOutput")      # the layout reorders a blocked convolution alone is wrapped in


def profiled_runs(session: Any, skip: int) -> "tuple[list[float], int]":
    """Each run's kernel time from a session's profiler: the sum over its nodes' times but the layout reorders a
    graph of one convolution needs at its edges, which a network pays once (``ENGINE_OWN``), in run order; and how
    many nodes were summed.

    :param session: a session with its profiler on (it is ended here).
    :param skip: the first runs left out (warm-up).
    :returns: (microseconds per run, nodes per run)."""
    from .ort_graph import node_times

    runs = [{node: us for node, (us, op) in run.items() if op not in ENGINE_OWN} for run in node_times(session)]
    return [sum(run.values()) for run in runs[skip:]], max((len(run) for run in runs[skip:]), default=0)


def run_in_passes(sessions: "Sequence[tuple[Any, dict]]", warmup: int, repeats: int, burst: int = 3,
                  progress: Any = None, each_pass: Any = None) -> None:
    """Run each session in passes over all the sessions, as ``bench_worker.time_kernels`` times torch's kernels: in
    each pass a session runs once and then ``burst`` more times, each right after another session's run (as a
    layer runs after another), until it has run ``repeats`` such times. The sessions' profilers time the runs
    (``profiled_runs``): every run of a session follows another session's.

    :param sessions: (session, feed) each.
    :param warmup: runs of each session first.
    :param repeats: runs of each after another session's run.
    :param burst: such runs of a session in one pass.
    :param progress: a ``bench_worker._Progress`` stepped after each pass, where given.
    :param each_pass: a callable run after each pass, in the same rounds, where given."""
    for session, feed in sessions:
        for _ in range(warmup):
            session.run(None, feed)
    done = 0
    while done < repeats:
        runs = min(burst, repeats - done)
        for index, (session, feed) in enumerate(sessions):
            before, before_feed = sessions[index - 1]
            session.run(None, feed)
            for _ in range(runs):
                before.run(None, before_feed)
                session.run(None, feed)
        done += runs
        if each_pass is not None:
            each_pass()
        if progress is not None:
            progress.step()
