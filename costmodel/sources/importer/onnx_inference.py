"""ONNX's shape inference of a model, run in a child process (needs the ``onnx`` package; not torch).

onnx's C++ shape inference crashes the process on some malformed graphs (a LayerNormalization whose axis is 2^31
is a segmentation fault in onnx 1.23), so it never runs in costmodel's own process: a child runs it on the model's
bytes, under its own time limit (``TIME_LIMIT`` seconds, enforced by the child's alarm and by the parent's wait),
and sends back the sizes it found. A crash or a time-out leaves the sizes unknown and says why, in one line.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

TIME_LIMIT = 120                        # seconds of one inference

# The child: reads the model's bytes on standard input, writes a GraphProto of the inferred value infos and outputs
# (the declared ones where inference raises, as in process). Run with -I (no current folder, no PYTHONPATH on its
# path: nothing from the model's folder is imported); the onnx package's folder is given as its first argument.
CHILD = """
import signal, sys
signal.alarm(int(sys.argv[2]))
sys.path.insert(0, sys.argv[1])
import warnings
import onnx
model = onnx.load_model_from_string(sys.stdin.buffer.read())
try:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = onnx.shape_inference.infer_shapes(model, data_prop=True)
except Exception:
    pass
graph = onnx.GraphProto()
graph.value_info.extend(model.graph.value_info)
graph.output.extend(model.graph.output)
sys.stdout.buffer.write(graph.SerializeToString())
"""


def inferred_sizes(model: Any) -> "tuple[dict[str, tuple[int, ...]], str]":
    """The sizes ONNX's shape inference gives the values of ``model`` (a ``ModelProto``) where it fixes every
    dim, and why there are none ("" when it ran)."""
    import onnx

    folder = os.path.dirname(os.path.dirname(os.path.abspath(onnx.__file__)))
    try:
        finished = subprocess.run([sys.executable, "-I", "-c", CHILD, folder, str(TIME_LIMIT)],
                                  input=model.SerializeToString(), stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, timeout=TIME_LIMIT + 10)
    except subprocess.TimeoutExpired:
        return {}, f"ONNX's shape inference did not finish within {TIME_LIMIT} s"
    except OSError as error:
        return {}, f"ONNX's shape inference could not run: {error.strerror}"
    if finished.returncode == -signal.SIGALRM:
        return {}, f"ONNX's shape inference did not finish within {TIME_LIMIT} s"
    if finished.returncode != 0:
        how = f"signal {-finished.returncode}" if finished.returncode < 0 else f"exit status {finished.returncode}"
        return {}, f"ONNX's shape inference crashed on this graph, {how}"
    graph = onnx.GraphProto()
    try:
        graph.ParseFromString(finished.stdout)
    except Exception:                  # protobuf's DecodeError: not what the child writes
        return {}, "ONNX's shape inference answered with something other than shapes"
    found = {}
    for value in (*graph.value_info, *graph.output):
        dims = value.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            found[value.name] = tuple(d.dim_value for d in dims)
    return found, ""
