"""An ONNX file as a costmodel ``Network`` (needs the ``onnx`` package; not torch).

The graph's nodes are walked in order and mapped onto the ops registry, as the torch importer maps a module's calls:
shapes are costmodel's own shape rules at the asked input size, so the file can be costed at another size than it
was exported at wherever its ops do not fix the sizes (a ``Reshape`` to a constant shape does). Constants and the
small shape computations exporters write (``Shape``, ``Gather``, ``Concat`` on sizes) are evaluated. A node with no
entry here becomes an ``Opaque`` node whose output shape comes from ONNX's shape inference at the asked size.

Parameters are the float initializers the mapped nodes read as weights. torch's exporter folds each BatchNorm into
the convolution before it (constant folding in eval mode): such a file holds the fused network, whose params and
FLOPs are those of the convolutions with biases and no BatchNorm. The network's ``source`` says so.

Names are the module paths the exporter writes: into each node's metadata (torch's ``torch.export``-based exporter,
the default since torch 2.9) or into the node names (its TorchScript-based one: ``/features/features.3/conv/conv.0/
Conv`` is ``features.3.conv.0``). The first op of a ``torch.nn`` layer (or, from node names, of a scope no other
scope is inside) takes the path, other ops the path plus the op type (``features.3.add``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ..errors import CostModelError, first_line, shorten
from ..ir import INPUT, Network
from ..ops import (Activation, BatchNorm, ClassToken, Concat, Conv2d, Flatten, GlobalAvgPool, Interpolate, LayerNorm,
                   Linear, MatMul, Mean, Pad, Permute, Pool2d, Select, Slice, Softmax, Split, Transpose, Unsqueeze,
                   UnusedParameters)
from ..shapes import Shape
from .building import Builder, Learned, MappedModel, Permuted, Tensor, elementwise, select_permuted, tensors
from .reshape import reshape_steps

FLOAT_TYPES = {1, 10, 11, 16}            # FLOAT, FLOAT16, DOUBLE, BFLOAT16


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise CostModelError("reading an ONNX file needs the onnx package: pip install 'costmodel[onnx]'") from None
    return onnx


class OnnxModel(MappedModel):
    """An ONNX graph, read once, mapped onto costmodel's ops at each asked input size."""

    def __init__(self, path: str, input_size: "tuple[int, int, int] | None" = None, *, name: str | None = None,
                 strict: bool = False):
        onnx = _onnx()
        try:
            self.proto = onnx.load(path)
        except Exception as error:        # what protobuf raises on a file that is not an ONNX model
            raise CostModelError(f"{shorten(path)} is not an ONNX model: {first_line(error)}") from None
        self.name = name or Path(path).name
        self.strict = strict
        graph = self.proto.graph
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        images = [value for value in graph.input if value.name not in self.initializers]
        if len(images) != 1 or len(images[0].type.tensor_type.shape.dim) != 4:
            raise CostModelError(f"{self.name}: costmodel imports graphs of one image input (N x C x H x W)")
        self.input_name = images[0].name
        dims = [d.dim_value if d.HasField("dim_value") else None for d in images[0].type.tensor_type.shape.dim]
        own = tuple(dims[1:])
        if input_size is None:
            if None in own:
                raise CostModelError(f"{self.name}: its input size is not fixed ({own}); give --input CxHxW")
            input_size = own                                     # type: ignore[assignment]
        elif own[0] is not None and own[0] != input_size[0]:
            raise CostModelError(f"{self.name} takes {own[0]} channels, not {input_size[0]}")
        self.input_size = tuple(input_size)                       # type: ignore[arg-type]
        self.own_size = own
        self.batch_norms = sum(node.op_type == "BatchNormalization" for node in graph.node)
        convolutions = sum(node.op_type == "Conv" for node in graph.node)
        producer = f"{self.proto.producer_name} {self.proto.producer_version}".strip() or "an unknown exporter"
        opset = max((entry.version for entry in self.proto.opset_import if entry.domain in ("", "ai.onnx")),
                    default=0)
        self.capture = f"ONNX graph from {producer} (opset {opset})"
        if convolutions and not self.batch_norms:
            self.capture += ("; it has no BatchNormalization node: torch's exporter folds BatchNorm into the "
                             "convolutions, so these are the fused network's counts")
        self.consumers: dict[str, list[Any]] = {}
        for node in graph.node:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
        self.parameters = {name: math.prod(tensor.dims) for name, tensor in self.initializers.items()
                           if tensor.data_type in FLOAT_TYPES}
        self.total_params = sum(self.parameters.values())
        self._networks: dict[tuple[int, int], Network] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._inferred: dict[tuple[int, int], dict[str, tuple]] = {}

    def array(self, name: str) -> np.ndarray:
        """The value of initializer ``name``."""
        if name not in self._arrays:
            from onnx import numpy_helper

            self._arrays[name] = numpy_helper.to_array(self.initializers[name])
        return self._arrays[name]

    def inferred_sizes(self, size: tuple[int, int], output: str) -> "tuple | None":
        """The sizes of value ``output`` by ONNX's shape inference with the input at ``size``."""
        if size not in self._inferred:
            onnx = _onnx()
            proto = onnx.ModelProto()
            proto.CopyFrom(self.proto)
            for value in proto.graph.input:
                if value.name == self.input_name:
                    dims = value.type.tensor_type.shape.dim
                    for dim, number in zip(dims, (1, self.input_size[0], *size)):
                        dim.Clear()
                        dim.dim_value = number
            try:
                proto = onnx.shape_inference.infer_shapes(proto, data_prop=True)
            except Exception:              # inference fails on some custom ops: their shapes stay unknown
                pass
            found = {}
            for value in (*proto.graph.value_info, *proto.graph.output):
                dims = value.type.tensor_type.shape.dim
                if all(d.HasField("dim_value") for d in dims):
                    found[value.name] = tuple(d.dim_value for d in dims)
            self._inferred[size] = found
        return self._inferred[size].get(output)

    def _map(self, size: tuple[int, int]) -> Network:
        builder = Builder(strict=self.strict)
        builder.produced[INPUT] = Shape.image(1, self.input_size[0], size[0], size[1])
        env: dict[str, Any] = {"": None, self.input_name: Tensor(INPUT, builder.produced[INPUT])}
        for name, tensor in self.initializers.items():
            env[name] = Learned(name, tuple(tensor.dims), tensor.data_type in FLOAT_TYPES)
        scopes = [_scope(node) for node in self.proto.graph.node]
        paths = [scope for scope, _ in scopes]
        leaves = {path for path in paths if path and not any(other.startswith(f"{path}.") for other in paths)}
        walk = _Walk(self, builder, env, size)
        previous = None
        try:
            for node, (scope, layer) in zip(self.proto.graph.node, scopes):
                if node.name in walk.done:
                    continue
                builder.begin()
                first = scope != previous and node.op_type != "Constant"
                layer = scope in leaves if layer is None else layer
                base = scope if first and layer else ".".join(part for part in (scope, node.op_type.lower()) if part)
                if node.op_type != "Constant":
                    previous = scope
                walk.node(node, base)
        except CostModelError as error:
            raise CostModelError(f"{self.name} at {size[0]}x{size[1]}: {error}") from None
        outputs = [env.get(value.name) for value in self.proto.graph.output]
        found = tensors(outputs)
        if not found:
            raise CostModelError(f"{self.name} returns no tensor")
        out = found[0]
        unused = sorted(name for name in self.parameters if name not in builder.claimed and
                        name not in walk.read)
        builder.begin()
        if unused:
            builder.add("unused_parameters", UnusedParameters(sum(self.parameters[n] for n in unused),
                                                              tuple(unused[:8])), (out,))
        return Network(self.name, tuple(builder.nodes), input_channels=self.input_size[0], base_resolution=size,
                       output=out.node, description="imported from an ONNX file", source=self.capture)


def _scope(node: Any) -> "tuple[str, bool | None]":
    """The module path of a node and whether that module is a ``torch.nn`` layer (None: unknown). torch's
    ``torch.export``-based exporter writes the paths and classes into the node's metadata
    (``pkg.torch.onnx.name_scopes``: ``['', 'features', 'features.3', 'conv2d_1']``); its TorchScript-based one into
    the node's name: ``/stage1/residual/residual.0/Conv`` is ``stage1.residual.0`` (a scope repeats its parent's
    name before the child's: ``residual`` then ``residual.0``)."""
    import ast

    metadata = {entry.key: entry.value for entry in node.metadata_props}
    try:
        scopes = ast.literal_eval(metadata.get("pkg.torch.onnx.name_scopes", "None"))
        classes = ast.literal_eval(metadata.get("pkg.torch.onnx.class_hierarchy", "None"))
    except (ValueError, SyntaxError):
        scopes = classes = None
    if isinstance(scopes, list) and isinstance(classes, list) and len(scopes) == len(classes) >= 2:
        path, kind = str(scopes[-2]), str(classes[-2])
        layer = kind.startswith("torch.nn.modules.") and not kind.startswith("torch.nn.modules.container.")
        return _clean(path), layer
    parts = [part for part in node.name.split("/")[:-1] if part]
    path: list[str] = []
    for part in parts:
        if path and part.startswith(f"{path[-1]}."):
            path[-1] = part
        else:
            path.append(part)
    return _clean(".".join(path)), None


def _clean(path: str) -> str:
    return "".join(c if c.isalnum() or c in "_." else "_" for c in path)


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


def _sizes(shape: Shape) -> tuple[int, ...]:
    return tuple(int(size) for size in shape.dims)


def _symmetric(pads: "list[int]") -> "tuple[int, int] | None":
    """ONNX's (top, left, bottom, right) as torch's (height, width) padding, or None when uneven."""
    top, left, bottom, right = pads
    return (top, left) if (top, left) == (bottom, right) else None


class _Walk:
    """The values of one mapping of the graph, and the handler of each op type."""

    def __init__(self, model: OnnxModel, builder: Builder, env: dict[str, Any], size: tuple[int, int]):
        self.model, self.builder, self.env, self.size = model, builder, env, size
        self.done: set[str] = set()
        self.read: set[str] = set()             # float initializers read by any node

    def value(self, name: str) -> Any:
        """A value as a handler reads it: a tensor, a learned tensor, or a constant (an array) where the name is
        a constant or an integer initializer."""
        value = self.env[name]
        if isinstance(value, Learned) and not value.parameter:
            return self.model.array(name)
        return value

    def constant(self, value: Any) -> Any:
        """A constant's value (an initializer's array for a learned tensor read as a constant)."""
        if isinstance(value, Learned):
            return self.model.array(value.name)
        return value

    def node(self, node: Any, base: str) -> None:
        inputs = [self.value(name) if name else None for name in node.input]
        self.read.update(name for name in node.input if name in self.model.parameters)
        attributes = _attributes(node)
        if node.op_type == "Constant":
            self.env[node.output[0]] = _constant(attributes)
            return
        if node.op_type == "Identity" and isinstance(inputs[0], Learned):
            # torch's exporter shares initializers of equal values through Identity nodes (zero biases, a folded
            # BatchNorm's); each use counts as the parameter it was in the module
            self.env[node.output[0]] = Learned(node.output[0], inputs[0].sizes, inputs[0].parameter)
            return
        if not tensors(inputs):
            folded = _fold(node.op_type, [self.constant(v) for v in inputs], attributes)
            if folded is not None:
                for name, value in zip(node.output, folded):
                    self.env[name] = np.asarray(value)
                return
        handler = HANDLERS.get(node.op_type)
        result = handler(self, base, node, inputs, attributes) if handler else None
        if result is None:
            result = self.opaque(base, node, inputs)
        results = result if isinstance(result, tuple) else (result,)
        for name, value in zip(node.output, results):
            self.env[name] = value

    def opaque(self, base: str, node: Any, inputs: list) -> Any:
        sources = tensors(inputs)
        made = []
        for output in node.output:
            sizes = self.model.inferred_sizes(self.size, output)
            if sizes is None or not sources:
                raise CostModelError(f"{base}: cannot import {node.op_type} (its output shape is unknown)")
            params = sum(self.builder.claim(v.name, math.prod(v.sizes)) for v in inputs
                         if isinstance(v, Learned) and v.parameter)
            made.append(self.builder.opaque(base, node.op_type, sources, sizes, params))
        return tuple(made) if len(made) > 1 else made[0]

    def add(self, base: str, op: Any, *inputs: Tensor) -> Tensor:
        return self.builder.add(base, op, inputs)


def _constant(attributes: dict[str, Any]) -> Any:
    from onnx import numpy_helper

    if "value" in attributes:
        return numpy_helper.to_array(attributes["value"])
    for key in ("value_float", "value_int"):
        if key in attributes:
            return np.array(attributes[key])
    for key in ("value_floats", "value_ints"):
        if key in attributes:
            return np.array(list(attributes[key]))
    return None


def _fold(op_type: str, values: list, attributes: dict[str, Any]) -> "tuple | None":
    """The value of a node on constants only (the size arithmetic of an exported ``view``), or None."""
    try:
        if op_type == "ConstantOfShape":
            fill = _constant(attributes) if attributes else np.zeros(1, dtype=np.float32)
            return (np.full([int(s) for s in np.atleast_1d(values[0])], np.asarray(fill).reshape(-1)[0]),)
        if op_type == "Equal":
            return (np.equal(values[0], values[1]),)
        if op_type == "Where":
            return (np.where(values[0], values[1], values[2]),)
        if op_type == "Reshape":
            data = np.asarray(values[0])
            return (np.reshape(data, [int(v) if v else data.shape[i] for i, v in enumerate(values[1])]),)
        if op_type == "Transpose":
            return (np.transpose(values[0], attributes.get("perm")),)
        unary = {"Sqrt": np.sqrt, "Neg": np.negative, "Reciprocal": np.reciprocal, "Floor": np.floor,
                 "Ceil": np.ceil, "Abs": np.abs}
        if op_type in unary:
            return (unary[op_type](values[0]),)
        if op_type == "Pow":
            return (np.power(values[0], values[1]),)
        if op_type in ("Identity", "Cast"):
            return (np.asarray(values[0]),)
        if op_type == "Gather":
            return (np.take(values[0], values[1], axis=attributes.get("axis", 0)),)
        if op_type == "Unsqueeze":
            axes = attributes.get("axes", values[1] if len(values) > 1 else None)
            return (np.expand_dims(values[0], tuple(int(a) for a in np.atleast_1d(axes))),)
        if op_type == "Squeeze":
            axes = attributes.get("axes", values[1] if len(values) > 1 else None)
            return (np.squeeze(values[0], None if axes is None else tuple(int(a) for a in np.atleast_1d(axes))),)
        if op_type == "Concat":
            return (np.concatenate([np.atleast_1d(v) for v in values], axis=attributes.get("axis", 0)),)
        if op_type in ("Add", "Sub", "Mul", "Div"):
            a, b = np.asarray(values[0]), np.asarray(values[1])
            if op_type == "Div" and a.dtype.kind in "iu" and b.dtype.kind in "iu":
                return (a // b,)
            return ({"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide}[op_type](a, b),)
        if op_type == "Slice":
            data, starts, ends = values[:3]
            axes = values[3] if len(values) > 3 and values[3] is not None else range(len(starts))
            steps = values[4] if len(values) > 4 and values[4] is not None else [1] * len(starts)
            index = [slice(None)] * np.ndim(data)
            for axis, start, end, step in zip(axes, starts, ends, steps):
                index[int(axis)] = slice(int(start), int(end), int(step))
            return (np.asarray(data)[tuple(index)],)
    except (TypeError, ValueError, IndexError):
        return None
    return None


# --- handlers: (walk, name, node, inputs, attributes) -> a tensor, a tuple of them, or None (opaque) -------------

def _conv(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x, weight = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    if not isinstance(weight, Learned) or len(weight.sizes) != 4 or x.shape.layout != "NCHW":
        return None
    out, per_group, kh, kw = weight.sizes
    groups = attributes.get("group", 1)
    if x.shape.channels != per_group * groups:
        raise CostModelError(f"{name} takes {per_group * groups} channels, it receives {x.shape.channels}")
    if attributes.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET", b"VALID", "VALID"):
        return None
    padding = _symmetric(list(attributes.get("pads", [0, 0, 0, 0])))
    if padding is None:
        top, left, bottom, right = attributes["pads"]
        x = walk.add(f"{name}.pad", Pad((left, right, top, bottom)), x)
        padding = (0, 0)
    walk.builder.claim_learned(weight, bias)
    op = Conv2d(out, (kh, kw), tuple(attributes.get("strides", (1, 1))), padding,
                tuple(attributes.get("dilations", (1, 1))), groups, bias is not None)
    return walk.add(name, op, x)


def _gemm(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    a, b = inputs[0], inputs[1]
    c = inputs[2] if len(inputs) > 2 else None
    if attributes.get("transA", 0) or attributes.get("alpha", 1.0) != 1.0 or attributes.get("beta", 1.0) != 1.0 \
            or not isinstance(b, Learned) or not isinstance(a, Tensor) or a.shape.layout[-1] != "C":
        return None
    out, features = b.sizes if attributes.get("transB", 0) else b.sizes[::-1]
    if a.shape.dims[-1] != features:
        raise CostModelError(f"{name} takes {features} features, it receives {a.shape.dims[-1]}")
    walk.builder.claim_learned(b, c)
    return walk.add(name, Linear(out, c is not None), a)


def _matmul(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """``x @ W`` with a learned W is a linear layer (with the bias of an ``Add`` of a learned vector that alone
    reads it: torch's exporter writes ``nn.Linear`` on tokens so); of two tensors, a matrix product."""
    a, b = inputs
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        return walk.add(name, MatMul(), a, b) if a.shape.rank == b.shape.rank >= 3 else None
    if not (isinstance(a, Tensor) and isinstance(b, Learned) and len(b.sizes) == 2 and a.shape.layout[-1] == "C"):
        return None
    if a.shape.dims[-1] != b.sizes[0]:
        raise CostModelError(f"{name} takes {b.sizes[0]} features, it receives {a.shape.dims[-1]}")
    users = walk.model.consumers.get(node.output[0], [])
    bias = None
    if len(users) == 1 and users[0].op_type == "Add":
        other = [walk.env.get(v) for v in users[0].input if v != node.output[0]]
        if len(other) == 1 and isinstance(other[0], Learned) and other[0].parameter and \
                other[0].sizes == (b.sizes[1],):
            bias = other[0]
            walk.done.add(users[0].name)
    walk.builder.claim_learned(b, bias)
    made = walk.add(name, Linear(b.sizes[1], bias is not None), a)
    if bias is not None:
        walk.env[users[0].output[0]] = made
        walk.read.add(bias.name)
    return made


def _batch_norm(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x, scale, bias = inputs[:3]
    if x.shape.layout not in ("NCHW", "NC"):
        return None
    walk.builder.claim_learned(scale, bias)
    return walk.add(name, BatchNorm(affine=True), x)


def _layer_norm(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    scale = inputs[1] if len(inputs) > 1 else None
    bias = inputs[2] if len(inputs) > 2 else None
    axis = attributes.get("axis", -1) % x.shape.rank
    walk.builder.claim_learned(scale, bias)
    return walk.add(name, LayerNorm(x.shape.rank - axis, scale is not None, bias is not None), x)


def _activation(function: str) -> Callable[..., Any]:
    def handler(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
        return walk.add(name, Activation(function), inputs[0])
    return handler


def _hard_sigmoid(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    if abs(attributes.get("alpha", 0.2) - 1 / 6) > 1e-6 or attributes.get("beta", 0.5) != 0.5:
        return None
    return walk.add(name, Activation("hsigmoid"), inputs[0])


def _gelu(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    approximate = attributes.get("approximate", b"none")
    approximate = approximate.decode() if isinstance(approximate, bytes) else approximate
    return walk.add(name, Activation("gelu_tanh" if approximate == "tanh" else "gelu"), inputs[0])


def _clip(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    low = walk.constant(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else attributes.get("min")
    high = walk.constant(inputs[2]) if len(inputs) > 2 and inputs[2] is not None else attributes.get("max")
    low = None if low is None else float(np.asarray(low))
    high = None if high is None else float(np.asarray(high))
    if (low, high) == (0.0, 6.0):
        return walk.add(name, Activation("relu6"), inputs[0])
    if low == 0.0 and high is None:
        return walk.add(name, Activation("relu"), inputs[0])
    return None


def _binary(function: str) -> Callable[..., Any]:
    """``Add``, ``Sub``, ``Mul``, ``Div`` (``building.elementwise``); a one-element constant or float initializer is
    a number (torch's newer exporter writes ``x + 1.0`` with an initializer)."""
    def handler(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
        a, b = (walk.constant(v) if isinstance(v, Learned) and math.prod(v.sizes) == 1 else v for v in inputs)
        a, b = (float(v.reshape(())) if isinstance(v, np.ndarray) and v.size == 1 else v for v in (a, b))
        if not isinstance(a, Tensor) and function in ("add", "mul"):
            a, b = b, a
        return elementwise(walk.builder, name, function, a, b) if isinstance(a, Tensor) else None
    return handler


def _pool(mode: str) -> Callable[..., Any]:
    def handler(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
        kernel = tuple(attributes["kernel_shape"])
        padding = _symmetric(list(attributes.get("pads", [0, 0, 0, 0])))
        if padding is None or len(kernel) != 2 or tuple(attributes.get("dilations", (1, 1))) != (1, 1) or \
                attributes.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
            return None
        op = Pool2d(mode, kernel, tuple(attributes.get("strides", (1, 1))), padding,
                    bool(attributes.get("ceil_mode", 0)), bool(attributes.get("count_include_pad", 0)))
        return walk.add(name, op, inputs[0])
    return handler


def _global_pool(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    return walk.add(name, GlobalAvgPool(), x) if x.shape.layout == "NCHW" else None


def _flatten(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    axis = attributes.get("axis", 1) % x.shape.rank
    if axis == 0:
        return None
    if axis == x.shape.rank - 1:
        return x
    return walk.add(name, Flatten(axis, -1), x)


def _reshape_to(walk: _Walk, name: str, x: Tensor, target: "list[int]") -> Any:
    before = _sizes(x.shape)
    after = list(target)
    for axis, size in enumerate(after):
        if size == 0:
            after[axis] = before[axis]
    if -1 in after:
        known = math.prod(s for s in after if s != -1)
        after[after.index(-1)] = math.prod(before) // known if known else 0
    if math.prod(after) != math.prod(before):
        raise CostModelError(f"{name}: cannot reshape {list(before[1:])} to {list(after[1:])}")
    if tuple(after) == before:
        return x
    steps = reshape_steps(before, tuple(after))
    return walk.builder.chain(name, steps, x) if steps is not None else None


def _reshape(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    shape = walk.constant(inputs[1])
    if not isinstance(shape, np.ndarray):
        return None
    return _reshape_to(walk, name, inputs[0], [int(s) for s in shape.reshape(-1)])


def _axes(walk: _Walk, inputs: list, attributes: dict) -> "list[int] | None":
    axes = attributes.get("axes")
    if axes is None and len(inputs) > 1 and inputs[1] is not None:
        axes = walk.constant(inputs[1])
    return None if axes is None else [int(a) for a in np.atleast_1d(axes)]


def _squeeze(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if isinstance(x, PermutedPiece):
        return select_permuted(walk.builder, name, x.source, x.index) if _axes(walk, inputs, attributes) == [0] \
            else None
    before = _sizes(x.shape)
    axes = _axes(walk, inputs, attributes)
    drop = set(range(1, len(before))) if axes is None else {a % len(before) for a in axes}
    return _reshape_to(walk, name, x, [s for axis, s in enumerate(before) if not (axis in drop and s == 1)])


def _unsqueeze(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    axes = _axes(walk, inputs, attributes)
    if not axes or len(axes) != 1:
        return None
    return walk.add(name, Unsqueeze(axes[0]), inputs[0])


def _transpose(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    perm = tuple(int(p) for p in attributes.get("perm", range(x.shape.rank - 1, -1, -1)))
    if perm == tuple(range(len(perm))):
        return x
    if perm[0] != 0:
        return Permuted(x, perm)        # q, k and v before the batch: made when they are taken apart
    moved = [axis for axis, p in enumerate(perm) if axis != p]
    if len(moved) == 2:
        return walk.add(name, Transpose(moved[0], moved[1]), x)
    return walk.add(name, Permute(perm), x)


def _expand(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """A learned tensor broadcast over the batch (a class token); a tensor's expand is not mapped."""
    value = inputs[0]
    if isinstance(value, Learned):
        return Learned(value.name, value.sizes, value.parameter, expanded=True)
    return None


def _concat(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    if len(inputs) == 2 and isinstance(inputs[0], Learned) and isinstance(inputs[1], Tensor):
        token, x = inputs
        if token.parameter and x.shape.layout == "NLC" and attributes.get("axis") % 3 == 1 and \
                math.prod(token.sizes) == x.shape.channels:
            walk.builder.claim_learned(token)
            return walk.add(name, ClassToken(), x)
        return None
    if not all(isinstance(value, Tensor) for value in inputs):
        return None
    first = inputs[0].shape
    axis = attributes.get("axis", 1) % first.rank
    if "C" in first.layout and axis == first.layout.index("C") and \
            all(value.shape.layout == first.layout for value in inputs):
        return walk.add(name, Concat(), *inputs)
    return None


@dataclass(frozen=True)
class PermutedPiece:
    """Piece ``index`` (of size 1) of a ``Split`` along the first axis of a ``Permuted`` value: the ``Squeeze``
    after it makes the piece."""

    source: Permuted
    index: int


def _gather(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """``x[i]`` along the first axis of a permuted value (``qkv[0]``); other gathers are not mapped."""
    x, index = inputs[0], walk.constant(inputs[1])
    if isinstance(x, Permuted) and attributes.get("axis", 0) == 0 and isinstance(index, np.ndarray) and \
            index.size == 1 and index.ndim == 0:
        return select_permuted(walk.builder, name, x, int(index))
    if isinstance(x, Tensor) and isinstance(index, np.ndarray) and index.ndim == 0:
        axis = attributes.get("axis", 0) % x.shape.rank
        if axis:
            return walk.add(name, Select(axis, int(index) % x.shape.dims[axis]), x)
    return None


def _split(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if isinstance(x, Permuted):
        count = len(node.output)
        if attributes.get("axis", 0) != 0 or x.source.shape.dims[x.dims[0]] != count:
            return None
        return tuple(PermutedPiece(x, index) for index in range(count))
    axis = attributes.get("axis", 0) % x.shape.rank
    size = x.shape.dims[axis]
    pieces = attributes.get("split")
    if pieces is None and len(inputs) > 1 and inputs[1] is not None:
        pieces = walk.constant(inputs[1])
    count = len(node.output)
    sizes = [int(p) for p in np.atleast_1d(pieces)] if pieces is not None else \
        [-(-size // count)] * (count - 1) + [size - -(-size // count) * (count - 1)]
    if axis == 0:
        return None
    if axis == 1 and x.shape.layout[1] == "C" and len(set(sizes)) == 1:
        return tuple(walk.add(name, Split(count, index), x) for index in range(count))
    starts = np.cumsum([0, *sizes])
    return tuple(walk.add(name, Slice(axis, int(starts[i]), int(starts[i + 1])), x) for i in range(count))


def _slice(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    starts, ends = walk.constant(inputs[1]), walk.constant(inputs[2])
    axes = walk.constant(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else range(len(starts))
    steps = walk.constant(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    result = x
    for axis, start, end, step in zip(axes, starts, ends, steps):
        axis = int(axis) % x.shape.rank
        begin, stop, _ = slice(int(start), int(end)).indices(result.shape.dims[axis])
        if int(step) != 1 or axis == 0:
            return None
        if (begin, stop) != (0, result.shape.dims[axis]):
            result = walk.add(name, Slice(axis, begin, stop), result)
    return result


def _reduce_mean(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    axes = _axes(walk, inputs, attributes)
    if axes is None:
        return None
    dims = tuple(sorted(a % x.shape.rank for a in axes))
    keep = bool(attributes.get("keepdims", 1))
    if dims == (2, 3) and x.shape.layout == "NCHW" and keep:
        return walk.add(name, GlobalAvgPool(), x)
    return walk.add(name, Mean(dims, keep), x)


def _softmax(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    return walk.add(name, Softmax(attributes.get("axis", -1)), inputs[0])


def _resize(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    mode = attributes.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    transform = attributes.get("coordinate_transformation_mode", b"half_pixel")
    transform = transform.decode() if isinstance(transform, bytes) else transform
    if x.shape.layout != "NCHW" or (mode, transform) not in (("nearest", "asymmetric"),
                                                              ("linear", "pytorch_half_pixel"),
                                                              ("linear", "half_pixel")):
        return None
    scales = walk.constant(inputs[2]) if len(inputs) > 2 and inputs[2] is not None else None
    sizes = walk.constant(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else None
    height, width = x.shape.dims[2], x.shape.dims[3]
    if isinstance(scales, np.ndarray) and scales.size == 4:
        factors = (float(scales[2]), float(scales[3]))
    elif isinstance(sizes, np.ndarray) and sizes.size == 4:
        factors = (int(sizes[2]) / height, int(sizes[3]) / width)
    else:
        return None
    if any(f != int(f) or f < 1 for f in factors):
        return None
    return walk.add(name, Interpolate("bilinear" if mode == "linear" else "nearest",
                                      scale=(int(factors[0]), int(factors[1]))), x)


def _pad(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    mode = attributes.get("mode", b"constant")
    pads = attributes.get("pads")
    if pads is None and len(inputs) > 1:
        pads = walk.constant(inputs[1])
    if mode not in (b"constant", "constant") or pads is None:
        return None
    pads = [int(p) for p in np.atleast_1d(pads)]
    rank = x.shape.rank
    begin, end = pads[:rank], pads[rank:]
    if begin[0] or end[0]:
        return None
    # torch's order: (before, after) of the last axis first, back to the first padded one
    first = min((axis for axis in range(1, rank) if begin[axis] or end[axis]), default=rank - 1)
    torch_order = tuple(size for axis in range(rank - 1, first - 1, -1) for size in (begin[axis], end[axis]))
    return walk.add(name, Pad(torch_order), x)


def _pass(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    return inputs[0]


def _shape(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    return np.array(_sizes(inputs[0].shape), dtype=np.int64)


HANDLERS: dict[str, Callable[..., Any]] = {
    "Conv": _conv, "Gemm": _gemm, "MatMul": _matmul, "BatchNormalization": _batch_norm,
    "LayerNormalization": _layer_norm,
    "Relu": _activation("relu"), "Sigmoid": _activation("sigmoid"), "Tanh": _activation("tanh"),
    "HardSwish": _activation("hswish"), "HardSigmoid": _hard_sigmoid, "Gelu": _gelu, "Clip": _clip,
    "Add": _binary("add"), "Sub": _binary("sub"), "Mul": _binary("mul"), "Div": _binary("div"),
    "MaxPool": _pool("max"), "AveragePool": _pool("avg"), "GlobalAveragePool": _global_pool,
    "Flatten": _flatten, "Reshape": _reshape, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze,
    "Transpose": _transpose, "Concat": _concat, "Expand": _expand, "Gather": _gather, "Split": _split,
    "Slice": _slice, "ReduceMean": _reduce_mean,
    "Softmax": _softmax, "Resize": _resize, "Pad": _pad, "Identity": _pass, "Dropout": _pass, "Shape": _shape,
}
