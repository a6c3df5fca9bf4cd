"""An ONNX file as a costmodel ``Network`` (needs the ``onnx`` package; not torch).

The graph's nodes are walked in order and mapped onto the ops registry, as the torch importer maps a module's calls:
shapes are costmodel's own shape rules at the asked input size, so the file can be costed at another size than it
was exported at wherever its ops do not fix the sizes (a ``Reshape`` to a constant shape does). Constants and the
small shape computations exporters write (``Shape``, ``Gather``, ``Concat`` on sizes) are evaluated. A node with no
entry here becomes an ``Opaque`` node whose output shape comes from ONNX's shape inference at the asked size.

The file is read without its external data and checked before anything is mapped (``onnx_file``,
``onnx_checks``): a malformed graph, or a tensor whose data does not match its dims, ends in one line naming the
file and the node. An axis is taken in [-rank, rank - 1] as ONNX takes it (any other is refused, never wrapped), and
a constant is evaluated only up to ``MAX_CONSTANT_ELEMENTS`` elements (all those of one mapping up to
``MAX_FOLDED_ELEMENTS``), its size checked before it is made.

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
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ...core.errors import CostModelError, ParameterError, first_line, param, within
from ...core.ir import INPUT, Network, node_name
from ...ops import (Activation, BatchNorm, ClassToken, Concat, Conv2d, Flatten, GlobalAvgPool, Interpolate, LayerNorm,
                   Linear, MatMul, Mean, Pad, Permute, Pool2d, Select, Slice, Softmax, Split, Transpose, Unsqueeze,
                   UnusedParameters)
from ...core.scaling import MAX_CHANNELS
from ...core.shapes import Shape
from .mapping import GraphMapper, Learned, MappedModel, Permuted, Tensor, elementwise, select_permuted, tensors
from .onnx_checks import check_graph, label, opset_of
from .onnx_file import (MAX_CONSTANT_ELEMENTS, MAX_RANK, MAX_TENSOR_ELEMENTS, READABLE, TensorData, elements,
                        onnx_package, read_model)
from .onnx_inference import inferred_sizes
from .reshape import reshape_steps

FLOAT_TYPES = {1, 10, 11, 16}            # FLOAT, FLOAT16, DOUBLE, BFLOAT16
MAX_INPUT_SIZE = 1 << 16                 # each side of the image input, as --input allows
MAX_FOLDED_ELEMENTS = 1 << 24            # elements of all the constants one mapping evaluates
MAX_METADATA_CHARS = 10_000              # a node's module-path metadata (a few hundred characters in practice)
MAX_OPAQUE_RANK = 8                      # axes of an opaque node's output (batch included), as costmodel's ops hold


class OnnxModel(MappedModel):
    """An ONNX graph, read once and checked (``onnx_checks``), mapped onto costmodel's ops at each asked input
    size."""

    def __init__(self, path: str, input_size: "tuple[int, int, int] | None" = None, *, name: str | None = None,
                 strict: bool = False):
        onnx_package()
        self.name = name or Path(path).name
        self.proto = read_model(path)
        self.strict = strict
        self.data = TensorData(os.path.dirname(os.path.abspath(path)))
        graph = self.proto.graph
        self.nodes = list(graph.node)
        try:
            self.known = check_graph(self.proto, self.nodes, self.data)
            self.scopes = [_scope(node, index) for index, node in enumerate(self.nodes)]
        except CostModelError as error:
            raise within(f"{self.name}: ", error) from None
        self._read_input(graph, input_size)
        self.initializers = {tensor.name: tensor for tensor in graph.initializer}
        self.constants = {node.output[0]: attribute.t for node in self.nodes
                          if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and node.output
                          for attribute in node.attribute if attribute.name == "value"}
        self.batch_norms = sum(node.op_type == "BatchNormalization" for node in self.nodes)
        convolutions = sum(node.op_type == "Conv" for node in self.nodes)
        producer = f"{self.proto.producer_name} {self.proto.producer_version}".strip() or "an unknown exporter"
        self.opset = opset_of(self.proto)
        self.capture = f"ONNX graph from {producer} (opset {self.opset})"
        if convolutions and not self.batch_norms:
            self.capture += ("; it has no BatchNormalization node: torch's exporter folds BatchNorm into the "
                             "convolutions, so these are the fused network's counts")
        self.consumers: dict[str, list[int]] = {}
        for index, node in enumerate(self.nodes):
            for name in node.input:
                self.consumers.setdefault(name, []).append(index)
        self.parameters = {name: math.prod(tensor.dims) for name, tensor in self.initializers.items()
                           if tensor.data_type in FLOAT_TYPES}
        self.total_params = sum(self.parameters.values())
        self._networks: dict[tuple[int, int], Network] = {}
        self._arrays: dict[str, np.ndarray] = {}
        self._inferred: dict[tuple[int, int], tuple[dict[str, tuple], str]] = {}

    def _read_input(self, graph: Any, input_size: "tuple[int, int, int] | None") -> None:
        """The image input: its name, its own size (C, H, W; None where not fixed) and the size to map at."""
        names = {tensor.name for tensor in graph.initializer}
        images = [value for value in graph.input if value.name not in names]
        if len(images) != 1 or len(images[0].type.tensor_type.shape.dim) != 4:
            raise CostModelError(f"{self.name}: costmodel imports graphs of one image input (N x C x H x W)")
        self.input_name = images[0].name
        dims = [d.dim_value if d.HasField("dim_value") else None for d in images[0].type.tensor_type.shape.dim]
        own = tuple(dims[1:])
        bounds = (MAX_CHANNELS, MAX_INPUT_SIZE, MAX_INPUT_SIZE)
        if any(size is not None and not 1 <= size <= bound for size, bound in zip(own, bounds)):
            raise CostModelError(f"{self.name}: its input {self.input_name!r} declares sizes {list(dims)}: channels "
                                 f"must be in [1, {MAX_CHANNELS:,}] and each side in [1, {MAX_INPUT_SIZE:,}]")
        if input_size is None:
            if None in own:
                raise ParameterError(f"{self.name}: its input size is not fixed ({own}); give ",
                                     param("input", "CxHxW"))
            input_size = own                                     # type: ignore[assignment]
        elif own[0] is not None and own[0] != input_size[0]:
            raise CostModelError(f"{self.name} takes {own[0]} channels, not {input_size[0]}")
        self.input_size = tuple(input_size)                       # type: ignore[arg-type]

    def tensor(self, name: str) -> Any:
        """The ``TensorProto`` of initializer or ``Constant`` output ``name``."""
        tensor = self.initializers.get(name)
        return tensor if tensor is not None else self.constants[name]

    def array(self, name: str, where: str) -> np.ndarray:
        """The value of initializer or constant ``name`` (``where`` names it in messages), read once, bounded
        (``onnx_file.TensorData.array``)."""
        if name not in self._arrays:
            self._arrays[name] = self.data.array(self.tensor(name), where)
        return self._arrays[name]

    def inferred_sizes(self, size: tuple[int, int], output: str) -> "tuple[tuple | None, str]":
        """The sizes of value ``output`` by ONNX's shape inference with the input at ``size`` (run in a child
        process: ``onnx_inference``), and why they are unknown where they are ("" if inference ran)."""
        if size not in self._inferred:
            self._inferred[size] = inferred_sizes(self._inference_model(onnx_package(), size))
        found, trouble = self._inferred[size]
        return found.get(output), trouble

    def _inference_model(self, onnx: Any, size: tuple[int, int]) -> Any:
        """A copy of the model for shape inference, the input at ``size``: an initializer of more than
        ``MAX_CONSTANT_ELEMENTS`` elements (a weight) is given by its type and dims only, as a graph input, so
        that no weight is copied and no external data is read."""
        proto = onnx.ModelProto()
        proto.ir_version = self.proto.ir_version
        proto.opset_import.extend(self.proto.opset_import)
        proto.functions.extend(self.proto.functions)
        graph, own = proto.graph, self.proto.graph
        graph.node.extend(own.node)
        graph.output.extend(own.output)
        graph.value_info.extend(own.value_info)
        graph.input.extend(own.input)
        declared = {value.name for value in own.input}
        for tensor in own.initializer:
            if tensor.data_location != 1 and elements(tensor, tensor.name) <= MAX_CONSTANT_ELEMENTS:
                graph.initializer.append(tensor)
            elif tensor.name not in declared:
                graph.input.append(onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type,
                                                                      list(tensor.dims)))
        for value in graph.input:
            if value.name == self.input_name:
                dims = value.type.tensor_type.shape.dim
                for dim, number in zip(dims, (1, self.input_size[0], *size)):
                    dim.Clear()
                    dim.dim_value = number
        return proto

    def _map(self, size: tuple[int, int]) -> Network:
        builder = GraphMapper(strict=self.strict)
        builder.produced[INPUT] = Shape.image(1, self.input_size[0], size[0], size[1])
        env: dict[str, Any] = {"": None, self.input_name: Tensor(INPUT, builder.produced[INPUT])}
        for name, tensor in self.initializers.items():
            env[name] = Learned(name, tuple(tensor.dims), tensor.data_type in FLOAT_TYPES)
        leaves = _leaves(path for path, _ in self.scopes)
        walk = _Walk(self, builder, env, size)
        previous = None
        try:
            for index, (node, (scope, layer)) in enumerate(zip(self.nodes, self.scopes)):
                if index in walk.done:
                    continue
                builder.begin()
                first = scope != previous and node.op_type != "Constant"
                layer = scope in leaves if layer is None else layer
                base = scope if first and layer else ".".join(part for part in (scope, node.op_type.lower()) if part)
                if node.op_type != "Constant":
                    previous = scope
                walk.node(index, node, base)
        except CostModelError as error:
            raise within(f"{self.name} at {size[0]}x{size[1]}: ", error) from None
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


def _leaves(paths: Any) -> set[str]:
    """The scopes no other scope is inside (``a.b`` is inside ``a``), found through the set of every scope's
    enclosing scopes: linear in the number of nodes, not quadratic."""
    paths = set(paths)
    enclosing: set[str] = set()
    for path in paths:
        parts = path.split(".")
        enclosing.update(".".join(parts[:end]) for end in range(1, len(parts)))
    return {path for path in paths if path and path not in enclosing}


def module_path(node: Any, index: int) -> str:
    """The module path an exported ONNX node came from (``_scope``): a lowered network's node name.

    :param node: the ``onnx.NodeProto``.
    :param index: its position in its graph, for messages.
    :returns: the module path, "" where the node names none."""
    return _scope(node, index)[0]


def _scope(node: Any, index: int) -> "tuple[str, bool | None]":
    """The module path of a node and whether that module is a ``torch.nn`` layer (None: unknown). torch's
    ``torch.export``-based exporter writes the paths and classes into the node's metadata
    (``pkg.torch.onnx.name_scopes``: ``['', 'features', 'features.3', 'conv2d_1']``), each at most
    ``MAX_METADATA_CHARS`` long here; its TorchScript-based one into the node's name:
    ``/stage1/residual/residual.0/Conv`` is ``stage1.residual.0`` (a scope repeats its parent's name before the
    child's: ``residual`` then ``residual.0``)."""
    import ast

    metadata = {entry.key: entry.value for entry in node.metadata_props} if len(node.metadata_props) else {}
    read: list[Any] = []
    for key in ("pkg.torch.onnx.name_scopes", "pkg.torch.onnx.class_hierarchy"):
        if key not in metadata:
            read.append(None)
            continue
        text = metadata[key]
        if len(text) > MAX_METADATA_CHARS:
            raise CostModelError(f"{label(node, index)}: its metadata {key} is {len(text):,} characters long, more "
                                 f"than the limit of {MAX_METADATA_CHARS:,}")
        try:
            read.append(ast.literal_eval(text))
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as error:
            raise CostModelError(f"{label(node, index)}: its metadata {key} is not a list of names "
                                 f"({type(error).__name__})") from None
    scopes, classes = read
    if isinstance(scopes, list) and isinstance(classes, list) and len(scopes) == len(classes) >= 2:
        path, kind = str(scopes[-2]), str(classes[-2])
        layer = kind.startswith("torch.nn.modules.") and not kind.startswith("torch.nn.modules.container.")
        return node_name(path), layer
    parts = [part for part in node.name.split("/")[:-1] if part]
    nested: list[str] = []
    for part in parts:
        if nested and part.startswith(f"{nested[-1]}."):
            nested[-1] = part
        else:
            nested.append(part)
    return node_name(".".join(nested)), None


def _attributes(node: Any, declared: "frozenset[str]") -> dict[str, Any]:
    """The values of the node's attributes its op declares (an attribute of a later op set is not read)."""
    if not len(node.attribute):
        return {}
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute
            if attribute.name in declared}


def _sizes(shape: Shape) -> tuple[int, ...]:
    return tuple(int(size) for size in shape.dims)


@dataclass(frozen=True)
class PermutedPiece:
    """Piece ``index`` (of size 1) of a ``Split`` along the first axis of a ``Permuted`` value: the ``Squeeze``
    after it makes the piece."""

    source: Permuted
    index: int


DERIVED = (Tensor, Permuted, PermutedPiece)      # values computed from the image input
# ops whose handler takes values that are not computed from the image (a learned tensor, a constant)
TAKE_CONSTANTS = {"Identity", "Dropout", "Shape", "Expand"}


class _Walk:
    """The values of one mapping of the graph, and the handler of each op type."""

    def __init__(self, model: OnnxModel, builder: GraphMapper, env: dict[str, Any], size: tuple[int, int]):
        self.model, self.builder, self.env, self.size = model, builder, env, size
        self.done: set[int] = set()            # indices of nodes mapped with an earlier one
        self.read: set[str] = set()             # float initializers read by any node
        self.index = -1                         # the node being mapped
        self.folded = 0                         # elements of the constants evaluated so far

    @property
    def where(self) -> str:
        """The node being mapped, as messages name it."""
        return label(self.model.nodes[self.index], self.index)

    def fail(self, message: str) -> CostModelError:
        """An error about the node being mapped."""
        return CostModelError(f"{self.where}: {message}")

    def value(self, name: str) -> Any:
        """A value as a handler reads it: a tensor, a learned tensor, or a constant (an array) where the name is
        a constant or an integer initializer of at most ``MAX_CONSTANT_ELEMENTS`` elements (a larger one stays a
        learned tensor, read only if a handler asks for its value)."""
        value = self.env[name]
        if isinstance(value, Learned) and not value.parameter and math.prod(value.sizes) <= MAX_CONSTANT_ELEMENTS \
                and self.model.tensor(value.name).data_type in READABLE:
            return self.constant(value)
        return value

    def constant(self, value: Any) -> Any:
        """A constant's value (an initializer's array for a learned tensor read as a constant; bounded)."""
        if isinstance(value, Learned):
            return self.model.array(value.name, f"{self.where}: {value.name!r}")
        return value

    def ints(self, value: Any, what: str) -> "list[int] | None":
        """A constant of integers (a scalar or a vector) as a list; None where ``value`` is not a constant (a
        tensor: the handler leaves the node opaque)."""
        value = self.constant(value)
        if not isinstance(value, np.ndarray):
            return None
        if value.dtype.kind not in "iu" or value.ndim > 1:
            raise self.fail(f"its {what} must be a scalar or a vector of integers, got {_described(value)}")
        return [int(v) for v in value.reshape(-1)]

    def numbers(self, value: Any, what: str) -> "list[float] | None":
        """A constant of numbers as a list of floats; None where ``value`` is not a constant. NaN and infinities
        are refused (no size or bound is one)."""
        value = self.constant(value)
        if not isinstance(value, np.ndarray):
            return None
        if value.dtype.kind not in "iuf" or value.ndim > 1:
            raise self.fail(f"its {what} must be a scalar or a vector of numbers, got {_described(value)}")
        numbers = [float(v) for v in value.reshape(-1)]
        if not all(math.isfinite(v) for v in numbers):
            raise self.fail(f"its {what} must be finite numbers, got {_shown(numbers)}")
        return numbers

    def axis(self, value: Any, rank: int, what: str = "axis", inclusive: bool = False) -> int:
        """ONNX's ``value`` as an axis of a tensor of ``rank`` axes: an integer in [-rank, rank - 1] (in
        [-rank, rank] where ``inclusive``), negative ones counted from the end; others are refused, as onnxruntime
        refuses them."""
        high = rank if inclusive else rank - 1
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not -rank <= value <= high:
            raise self.fail(f"{what} {value!r} is out of range for a tensor of rank {rank} (it must be in "
                            f"[{-rank}, {high}])")
        return int(value) + rank if value < 0 else int(value)

    def axes(self, values: "list[int]", rank: int, what: str = "axes") -> "list[int]":
        """Distinct axes of a tensor of ``rank`` axes (``axis``)."""
        found = [self.axis(value, rank, what) for value in values]
        if len(set(found)) != len(found):
            raise self.fail(f"{what} {list(values)} repeat an axis")
        return found

    def node(self, index: int, node: Any, base: str) -> None:
        self.index = index
        inputs = [self.value(name) if name else None for name in node.input]
        self.read.update(name for name in node.input if name in self.model.parameters)
        standard = index in self.model.known
        attributes = _attributes(node, self.model.known[index]) if standard else {}
        if standard and node.op_type == "Constant":
            self.env[node.output[0]] = self.constant_node(node, attributes)
            return
        if standard and node.op_type == "Identity" and isinstance(inputs[0], Learned):
            # torch's exporter shares initializers of equal values through Identity nodes (zero biases, a folded
            # BatchNorm's); each use counts as the parameter it was in the module
            source = inputs[0]
            self.env[node.output[0]] = Learned(node.output[0] if source.parameter else source.name, source.sizes,
                                               source.parameter)
            return
        if not any(isinstance(value, DERIVED) for value in inputs):
            if standard and node.op_type in FOLDS and not (node.op_type == "Expand" and
                                                             isinstance(inputs[0], Learned)):
                folded = _fold(self, node.op_type, [self.constant(v) for v in inputs], attributes)
                if folded is not None:
                    self.assign(node, folded)
                    return
            if not (standard and node.op_type in TAKE_CONSTANTS):
                raise self.fail("none of its inputs is computed from the image input (they are constants), and "
                                "costmodel does not evaluate it")
        handler = HANDLERS.get(node.op_type) if standard else None
        result = handler(self, base, node, inputs, attributes) if handler else None
        if result is None:
            result = self.opaque(base, node, inputs)
        self.assign(node, result if isinstance(result, tuple) else (result,))

    def assign(self, node: Any, results: tuple) -> None:
        """The node's outputs are ``results``, in order; an output with none (a mask no handler makes) is None."""
        for position, name in enumerate(node.output):
            if name:
                self.env[name] = results[position] if position < len(results) else None

    def constant_node(self, node: Any, attributes: dict[str, Any]) -> Any:
        """The value of a ``Constant`` node: an array, or a learned tensor (not a parameter) where it is too large
        to be read now."""
        if "value" in attributes:
            tensor = attributes["value"]
            if elements(tensor, self.where) > MAX_CONSTANT_ELEMENTS:
                return Learned(node.output[0], tuple(tensor.dims), False)
            return self.model.array(node.output[0], self.where)
        for key in ("value_float", "value_int", "value_floats", "value_ints"):
            if key in attributes:
                return np.array(attributes[key], dtype=np.float32 if "float" in key else np.int64)
        raise self.fail(f"costmodel reads constants given as value, value_float(s) or value_int(s), not "
                        f"{', '.join(attributes) or 'nothing'}")

    def opaque(self, base: str, node: Any, inputs: list) -> Any:
        sources = tensors(inputs)
        made: list[Any] = []
        for output in node.output:
            if not output:                           # an optional output the graph does not name
                made.append(None)
                continue
            sizes, trouble = self.model.inferred_sizes(self.size, output)
            if sizes is None or not sources:
                raise self.fail(f"cannot import {node.op_type} (its output shape is unknown"
                                f"{': ' + trouble if trouble else ''})")
            if not 1 <= len(sizes) <= MAX_OPAQUE_RANK or any(size < 1 for size in sizes) or \
                    math.prod(sizes) > MAX_TENSOR_ELEMENTS:
                raise self.fail(f"cannot import {node.op_type}: its output shape {_shown(list(sizes))} (from ONNX's "
                                "shape inference) is not one costmodel holds")
            params = sum(self.builder.claim(v.name, math.prod(v.sizes)) for v in inputs
                         if isinstance(v, Learned) and v.parameter)
            made.append(self.builder.opaque(base, node.op_type, sources, sizes, params))
        return tuple(made) if len(made) > 1 else made[0]

    def add(self, base: str, op: Any, *inputs: Tensor) -> Tensor:
        return self.builder.add(base, op, inputs)


def _described(value: np.ndarray) -> str:
    return f"a {value.dtype} array of shape {list(value.shape)}"


def _shown(values: "list[Any]") -> str:
    return str(values if len(values) <= 8 else [*values[:8], "..."])


# --- constants: the size arithmetic of an exported view, evaluated with NumPy ------------------------------------

def _fold(walk: _Walk, op_type: str, values: list, attributes: dict[str, Any]) -> "tuple | None":
    """The value of a node on constants only (``FOLDS``), or None where costmodel does not evaluate it (a Cast to
    a type it does not read). Every result is at most ``MAX_CONSTANT_ELEMENTS`` elements, and all of one mapping's
    at most ``MAX_FOLDED_ELEMENTS``, checked before it is made; a node ONNX would refuse (an axis out of range, an
    index out of bounds, shapes that do not broadcast) is refused in one line. NumPy's warnings (a division by
    zero in floats) never reach the terminal."""
    for position, value in enumerate(values[:FOLDS[op_type]]):
        if value is None:
            raise walk.fail(f"its input {position} is missing")
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = _fold_values(walk, op_type, values, attributes)
    except CostModelError:
        raise
    except (ValueError, TypeError, IndexError, OverflowError) as error:     # what NumPy refuses beyond the checks
        raise walk.fail(f"cannot evaluate it on its constants: {first_line(error)}") from None
    if result is not None:
        result = tuple(np.asarray(value) for value in result)
        walk.folded += sum(value.size for value in result)
        if walk.folded > MAX_FOLDED_ELEMENTS:
            raise walk.fail(f"the constants evaluated so far hold more than {MAX_FOLDED_ELEMENTS:,} elements, the "
                            "limit")
    return result


def _bounded(walk: _Walk, sizes: "tuple[int, ...] | list[int]") -> None:
    """Refuse a constant of ``sizes`` of more than ``MAX_CONSTANT_ELEMENTS`` elements or ``MAX_RANK`` axes, before
    it is made."""
    if len(sizes) > MAX_RANK:
        raise walk.fail(f"it would make a constant of {len(sizes)} axes, more than the limit of {MAX_RANK}")
    count = math.prod(sizes)
    if count > MAX_CONSTANT_ELEMENTS:
        raise walk.fail(f"it would make a constant of {count:,} elements (sizes {_shown(list(sizes))}), more than "
                        f"the limit of {MAX_CONSTANT_ELEMENTS:,} for a constant costmodel evaluates")


def _broadcast(walk: _Walk, *shapes: "tuple[int, ...]") -> "tuple[int, ...]":
    """The shape ``shapes`` broadcast to (NumPy's rule, ONNX's multidirectional broadcasting), bounded."""
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise walk.fail(f"its inputs of shapes {', '.join(str(list(s)) for s in shapes)} do not broadcast") \
            from None
    _bounded(walk, shape)
    return shape


def _fold_values(walk: _Walk, op_type: str, values: list, attributes: dict[str, Any]) -> "tuple | None":
    arrays: list[Any] = [np.asarray(value) if value is not None else None for value in values]   # None: left out
    first = arrays[0]
    if op_type == "ConstantOfShape":
        sizes = walk.ints(first, "shape") or []
        if any(size < 0 for size in sizes):
            raise walk.fail(f"its shape {_shown(sizes)} has a negative size")
        _bounded(walk, sizes)
        fill = np.zeros(1, dtype=np.float32)
        if "value" in attributes:
            fill = walk.model.data.array(attributes["value"], f"{walk.where}: its value")
            if fill.size != 1:
                raise walk.fail(f"its value must be one element, got {fill.size:,}")
        return (np.full(sizes, fill.reshape(-1)[0], dtype=fill.dtype),)
    if op_type in ("Identity", "Dropout"):
        return (first,)
    if op_type == "Cast":
        kind = attributes.get("to")
        if kind not in READABLE:
            return None
        from onnx import helper

        return (first.astype(helper.tensor_dtype_to_np_dtype(kind)),)
    if op_type in UNARY:
        return (UNARY[op_type](first),)
    if op_type in BINARY or op_type in ("Where", "Pow"):
        _broadcast(walk, *(a.shape for a in arrays))
        if op_type == "Where":
            return (np.where(arrays[0].astype(bool), arrays[1], arrays[2]),)
        a, b = arrays[0], arrays[1]
        if op_type == "Pow":
            return (np.power(a, b),)
        if op_type == "Div" and a.dtype.kind in "iu" and b.dtype.kind in "iu":
            if np.any(b == 0):
                raise walk.fail("it divides integers by zero")
            quotient = np.abs(a) // np.abs(b)                     # ONNX's integer division rounds toward zero
            return (np.where((a < 0) != (b < 0), -quotient, quotient).astype(np.result_type(a, b)),)
        return (BINARY[op_type](a, b),)
    if op_type == "Reshape":
        target = walk.ints(arrays[1], "shape") or []
        sizes = _reshaped(walk, list(first.shape), target, bool(attributes.get("allowzero", 0)))
        _bounded(walk, sizes)
        return (first.reshape(sizes),)
    if op_type == "Transpose":
        perm = _permutation(walk, attributes.get("perm"), first.ndim)
        return (np.transpose(first, perm),)
    if op_type == "Gather":
        axis = walk.axis(attributes.get("axis", 0), first.ndim)
        index = arrays[1]
        if index.dtype.kind not in "iu":
            raise walk.fail(f"its indices must be integers, got {_described(index)}")
        _index_in_range(walk, index, first.shape[axis], axis)
        _bounded(walk, (*first.shape[:axis], *index.shape, *first.shape[axis + 1:]))
        return (np.take(first, index, axis=axis),)
    if op_type in ("Unsqueeze", "Squeeze"):
        axes = [int(a) for a in attributes["axes"]] if "axes" in attributes else \
            walk.ints(arrays[1], "axes") if len(arrays) > 1 and arrays[1] is not None else None
        if op_type == "Unsqueeze":
            if not axes:
                raise walk.fail("it needs axes")
            _bounded(walk, (*first.shape, *[1] * len(axes)))
            return (np.expand_dims(first, tuple(walk.axes(axes, first.ndim + len(axes)))),)
        chosen = [a for a in range(first.ndim) if first.shape[a] == 1] if axes is None else \
            walk.axes(axes, first.ndim)
        if any(first.shape[a] != 1 for a in chosen):
            raise walk.fail(f"it squeezes an axis of size other than 1 from a constant of shape {list(first.shape)}")
        return (np.squeeze(first, tuple(chosen)),)
    if op_type == "Concat":
        pieces = [np.atleast_1d(a) for a in arrays if a is not None]
        axis = walk.axis(attributes.get("axis", 1), pieces[0].ndim)
        if any(p.ndim != pieces[0].ndim or p.shape[:axis] + p.shape[axis + 1:] !=
               pieces[0].shape[:axis] + pieces[0].shape[axis + 1:] for p in pieces):
            raise walk.fail(f"it concatenates constants of shapes {[list(p.shape) for p in pieces]}")
        _bounded(walk, (sum(p.size for p in pieces),))
        return (np.concatenate(pieces, axis=axis),)
    if op_type == "Slice":
        index = [slice(None)] * first.ndim
        for axis, start, end, step in _slices(walk, first.ndim, values, attributes):
            if axis < 0:
                return None
            index[axis] = slice(start, end, step)
        return (first[tuple(index)],)
    if op_type == "Expand":
        sizes = walk.ints(arrays[1], "shape") or []
        shape = _broadcast(walk, first.shape, tuple(sizes))
        return (np.array(np.broadcast_to(first, shape)),)
    return None


UNARY = {"Sqrt": np.sqrt, "Neg": np.negative, "Reciprocal": np.reciprocal, "Floor": np.floor, "Ceil": np.ceil,
         "Abs": np.abs}
BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply, "Div": np.divide, "Equal": np.equal}
# the op types evaluated on constants, with the number of inputs each needs
FOLDS = {"ConstantOfShape": 1, "Identity": 1, "Dropout": 1, "Cast": 1, **{op: 1 for op in UNARY},
         **{op: 2 for op in BINARY}, "Where": 3, "Pow": 2, "Reshape": 2, "Transpose": 1, "Gather": 2,
         "Unsqueeze": 1, "Squeeze": 1, "Concat": 1, "Slice": 1, "Expand": 2}


def _permutation(walk: _Walk, perm: Any, rank: int) -> "tuple[int, ...]":
    """Transpose's ``perm`` (default: the axes reversed), which must be a permutation of the ``rank`` axes."""
    if perm is None:
        return tuple(range(rank - 1, -1, -1))
    perm = tuple(int(p) for p in perm)
    if sorted(perm) != list(range(rank)):
        raise walk.fail(f"perm {_shown(list(perm))} is not a permutation of the {rank} axes of its input")
    return perm


def _index_in_range(walk: _Walk, index: np.ndarray, size: int, axis: int) -> None:
    if index.size and (int(index.min()) < -size or int(index.max()) >= size):
        raise walk.fail(f"index {_shown([int(i) for i in index.reshape(-1)])} is out of bounds for axis {axis} of "
                        f"size {size}")


def _reshaped(walk: _Walk, before: "list[int]", target: "list[int]", allow_zero: bool) -> "list[int]":
    """The sizes of a reshape of ``before`` to ONNX's ``target`` (0 copies the input's size unless ``allow_zero``,
    one -1 takes what is left); refused where the element counts differ."""
    after = list(target)
    if after.count(-1) > 1 or any(size < -1 for size in after):
        raise walk.fail(f"its shape {_shown(after)} has a negative size other than one -1")
    for axis, size in enumerate(after):
        if size == 0 and not allow_zero:
            if axis >= len(before):
                raise walk.fail(f"its shape {_shown(after)} copies axis {axis} of an input of rank {len(before)}")
            after[axis] = before[axis]
    if -1 in after:
        known = math.prod(s for s in after if s != -1)
        if not known or math.prod(before) % known:
            raise walk.fail(f"cannot reshape {_shown(before)} to {_shown(target)}")
        after[after.index(-1)] = math.prod(before) // known
    if math.prod(after) != math.prod(before):
        raise walk.fail(f"cannot reshape {_shown(before)} to {_shown(target)}")
    return after


def _slices(walk: _Walk, rank: int, values: list, attributes: dict) -> "list[tuple[int, int, int, int]]":
    """Slice's (axis, start, end, step) of each sliced axis: its inputs (opset 10 on) or its attributes (before)."""
    if len(values) == 1:
        starts, ends = list(attributes.get("starts", [])), list(attributes.get("ends", []))
        axes = list(attributes.get("axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        if len(values) < 3 or values[1] is None or values[2] is None:
            raise walk.fail("it needs starts and ends")
        given_starts, given_ends = walk.ints(values[1], "starts"), walk.ints(values[2], "ends")
        if given_starts is None or given_ends is None:
            return [(-1, 0, 0, 0)]                      # computed bounds: the handler leaves it opaque
        starts, ends = given_starts, given_ends
        given_axes = walk.ints(values[3], "axes") if len(values) > 3 and values[3] is not None else \
            list(range(len(starts)))
        given_steps = walk.ints(values[4], "steps") if len(values) > 4 and values[4] is not None else \
            [1] * len(starts)
        if given_axes is None or given_steps is None:
            return [(-1, 0, 0, 0)]
        axes, steps = given_axes, given_steps
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise walk.fail(f"its starts, ends, axes and steps differ in length ({len(starts)}, {len(ends)}, "
                        f"{len(axes)}, {len(steps)})")
    if 0 in steps:
        raise walk.fail("a step of 0")
    return list(zip(walk.axes(axes, rank), starts, ends, steps))


# --- handlers: (walk, name, node, inputs, attributes) -> a tensor, a tuple of them, or None (opaque) -------------

def _window(walk: _Walk, attributes: dict, kernel: "tuple[int, ...]") -> tuple[tuple, tuple, tuple]:
    """The strides, pads (ONNX's begins then ends) and dilations of a convolution or pool of ``kernel``; each
    checked as onnxruntime checks them (one per axis, positive strides and dilations, non-negative pads)."""
    axes = len(kernel)
    strides = tuple(attributes.get("strides", (1,) * axes))
    pads = tuple(attributes.get("pads", (0,) * 2 * axes))
    dilations = tuple(attributes.get("dilations", (1,) * axes))
    for what, values, count, low in (("strides", strides, axes, 1), ("pads", pads, 2 * axes, 0),
                                     ("dilations", dilations, axes, 1), ("kernel_shape", kernel, axes, 1)):
        if len(values) != count:
            raise walk.fail(f"{what} {_shown(list(values))} must have {count} values, one per "
                            f"{'side of each ' if what == 'pads' else ''}spatial axis")
        if any(value < low for value in values):
            raise walk.fail(f"{what} {_shown(list(values))} must be {'positive' if low else 'non-negative'}")
    return strides, pads, dilations


def _auto_pad(attributes: dict) -> str:
    value = attributes.get("auto_pad", b"NOTSET")
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _text(attributes: dict, key: str, default: str) -> str:
    value = attributes.get(key, default)
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _conv(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x, weight = inputs[0], inputs[1]
    bias = inputs[2] if len(inputs) > 2 else None
    if not isinstance(x, Tensor) or not isinstance(weight, Learned) or len(weight.sizes) != 4 or \
            x.shape.layout != "NCHW":
        return None
    out, per_group, kh, kw = weight.sizes
    kernel = tuple(attributes.get("kernel_shape", (kh, kw)))
    if kernel != (kh, kw):
        raise walk.fail(f"kernel_shape {_shown(list(kernel))} differs from its weight's {kh}x{kw}")
    strides, pads, dilations = _window(walk, attributes, kernel)
    groups = attributes.get("group", 1)
    if groups < 1 or out % groups:
        raise walk.fail(f"group {groups} must be positive and divide its {out} output channels")
    if x.shape.channels != per_group * groups:
        raise walk.fail(f"it takes {per_group * groups} channels, it receives {x.shape.channels}")
    if bias is not None and (not isinstance(bias, Learned) or math.prod(bias.sizes) != out):
        if isinstance(bias, Learned):
            raise walk.fail(f"its bias has {math.prod(bias.sizes):,} values for {out} output channels")
        return None
    if _auto_pad(attributes) not in ("NOTSET", "VALID"):
        return None
    top, left, bottom, right = pads
    padding = (top, left)
    if (top, left) != (bottom, right):
        x = walk.add(f"{name}.pad", Pad((left, right, top, bottom)), x)
        padding = (0, 0)
    walk.builder.claim_learned(weight, bias)
    op = Conv2d(out, (kh, kw), strides, padding, dilations, groups, bias is not None)
    return walk.add(name, op, x)


def _gemm(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    a, b = inputs[0], inputs[1]
    c = inputs[2] if len(inputs) > 2 else None
    if attributes.get("transA", 0) or attributes.get("alpha", 1.0) != 1.0 or attributes.get("beta", 1.0) != 1.0 \
            or not isinstance(b, Learned) or len(b.sizes) != 2 or not isinstance(a, Tensor) or \
            a.shape.layout[-1] != "C":
        return None
    out, features = b.sizes if attributes.get("transB", 0) else b.sizes[::-1]
    if a.shape.dims[-1] != features:
        raise walk.fail(f"it takes {features} features, it receives {a.shape.dims[-1]}")
    if c is not None and (not isinstance(c, Learned) or not c.parameter or math.prod(c.sizes) != out):
        return None
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
        raise walk.fail(f"it takes {b.sizes[0]} features, it receives {a.shape.dims[-1]}")
    users = walk.model.consumers.get(node.output[0], [])
    bias = None
    if len(users) == 1 and walk.model.nodes[users[0]].op_type == "Add" and users[0] in walk.model.known:
        user = walk.model.nodes[users[0]]
        other = [walk.env.get(v) for v in user.input if v != node.output[0]]
        if len(other) == 1 and isinstance(other[0], Learned) and other[0].parameter and \
                other[0].sizes == (b.sizes[1],):
            bias = other[0]
            walk.done.add(users[0])
    walk.builder.claim_learned(b, bias)
    made = walk.add(name, Linear(b.sizes[1], bias is not None), a)
    if bias is not None:
        walk.env[walk.model.nodes[users[0]].output[0]] = made
        walk.read.add(bias.name)
    return made


def _batch_norm(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x, scale, bias = inputs[:3]
    if not isinstance(x, Tensor) or x.shape.layout not in ("NCHW", "NC"):
        return None
    for what, value in zip(("scale", "B", "mean", "var"), inputs[1:5]):
        if isinstance(value, (Learned, np.ndarray)) and math.prod(_value_sizes(value)) != x.shape.channels:
            raise walk.fail(f"its {what} has {math.prod(_value_sizes(value)):,} values for {x.shape.channels} "
                            "channels")
    walk.builder.claim_learned(scale, bias)
    return walk.add(name, BatchNorm(affine=True), x)


def _value_sizes(value: Any) -> "tuple[int, ...]":
    return tuple(value.shape) if isinstance(value, np.ndarray) else tuple(value.sizes)


def _layer_norm(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    scale = inputs[1] if len(inputs) > 1 else None
    bias = inputs[2] if len(inputs) > 2 else None
    axis = walk.axis(attributes.get("axis", -1), x.shape.rank)
    normalized = math.prod(_sizes(x.shape)[axis:])
    for what, value in (("scale", scale), ("bias", bias)):
        if isinstance(value, (Learned, np.ndarray)) and math.prod(_value_sizes(value)) != normalized:
            raise walk.fail(f"its {what} has {math.prod(_value_sizes(value)):,} values for the {normalized:,} "
                            f"it normalizes")
    walk.builder.claim_learned(scale, bias)
    return walk.add(name, LayerNorm(x.shape.rank - axis, scale is not None, bias is not None), x)


def _activation(function: str) -> Callable[..., Any]:
    def handler(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
        return walk.add(name, Activation(function), inputs[0]) if isinstance(inputs[0], Tensor) else None
    return handler


def _hard_sigmoid(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    if not isinstance(inputs[0], Tensor) or not abs(attributes.get("alpha", 0.2) - 1 / 6) <= 1e-6 or \
            attributes.get("beta", 0.5) != 0.5:
        return None
    return walk.add(name, Activation("hsigmoid"), inputs[0])


def _gelu(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    if not isinstance(inputs[0], Tensor):
        return None
    approximate = _text(attributes, "approximate", "none")
    return walk.add(name, Activation("gelu_tanh" if approximate == "tanh" else "gelu"), inputs[0])


def _clip(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """ReLU6 and ReLU as ``Clip``: its bounds (inputs from opset 11, attributes before) are single numbers, not
    NaN (refused: no activation is clipped to NaN)."""
    bounds: "list[float | None]" = []
    for position, key in ((1, "min"), (2, "max")):
        value = inputs[position] if len(inputs) > position and inputs[position] is not None else attributes.get(key)
        if value is None:
            bounds.append(None)
            continue
        if isinstance(value, float):
            value = np.array(value)
        value = walk.constant(value)
        if not isinstance(value, np.ndarray):
            return None                                     # a bound computed from the image: opaque
        if value.size != 1 or value.dtype.kind not in "iuf":
            raise walk.fail(f"its {key} must be a single number, got {_described(value)}")
        bound = float(value.reshape(()))
        if math.isnan(bound):
            raise walk.fail(f"its {key} is NaN")
        bounds.append(bound)
    if not isinstance(inputs[0], Tensor):
        return None
    low, high = bounds
    if (low, high) == (0.0, 6.0):
        return walk.add(name, Activation("relu6"), inputs[0])
    if low == 0.0 and high is None:
        return walk.add(name, Activation("relu"), inputs[0])
    return None


def _binary(function: str) -> Callable[..., Any]:
    """``Add``, ``Sub``, ``Mul``, ``Div`` (``mapping.elementwise``); a one-element constant or float initializer is
    a number (torch's newer exporter writes ``x + 1.0`` with an initializer)."""
    def handler(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
        a, b = (walk.constant(v) if isinstance(v, Learned) and math.prod(v.sizes) == 1 else v for v in inputs)
        a, b = (float(v.reshape(())) if isinstance(v, np.ndarray) and v.size == 1 and v.dtype.kind in "biuf"
                else v for v in (a, b))
        if not isinstance(a, Tensor) and function in ("add", "mul"):
            a, b = b, a
        return elementwise(walk.builder, name, function, a, b) if isinstance(a, Tensor) else None
    return handler


def _pool(mode: str) -> Callable[..., Any]:
    def handler(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
        x = inputs[0]
        kernel = tuple(attributes["kernel_shape"])
        strides, pads, dilations = _window(walk, attributes, kernel)
        if not isinstance(x, Tensor) or x.shape.layout != "NCHW" or len(kernel) != 2 or \
                pads[:2] != pads[2:] or dilations != (1, 1) or _auto_pad(attributes) != "NOTSET":
            return None
        op = Pool2d(mode, kernel, strides, pads[:2], bool(attributes.get("ceil_mode", 0)),
                    bool(attributes.get("count_include_pad", 0)))
        return walk.add(name, op, x)
    return handler


def _global_pool(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    return walk.add(name, GlobalAvgPool(), x) if isinstance(x, Tensor) and x.shape.layout == "NCHW" else None


def _flatten(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    axis = walk.axis(attributes.get("axis", 1), x.shape.rank, inclusive=True)
    if axis in (0, x.shape.rank):              # the batch merged with other axes: not costmodel's layout
        return None
    if axis == x.shape.rank - 1:
        return x
    return walk.add(name, Flatten(axis, -1), x)


def _reshape_to(walk: _Walk, name: str, x: Tensor, target: "list[int]", allow_zero: bool = False) -> Any:
    before = _sizes(x.shape)
    after = _reshaped(walk, list(before), target, allow_zero)
    if tuple(after) == before:
        return x
    steps = reshape_steps(before, tuple(after))
    return walk.builder.chain(name, steps, x) if steps is not None else None


def _reshape(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    shape = walk.ints(inputs[1], "shape")
    if shape is None or not isinstance(inputs[0], Tensor):
        return None
    return _reshape_to(walk, name, inputs[0], shape, bool(attributes.get("allowzero", 0)))


def _axes(walk: _Walk, inputs: list, attributes: dict) -> "list[int] | None":
    """The axes of a Squeeze, Unsqueeze or ReduceMean: an attribute (older op sets) or input 1; None where not
    given."""
    if "axes" in attributes:
        return [int(a) for a in attributes["axes"]]
    if len(inputs) > 1 and inputs[1] is not None:
        axes = walk.ints(inputs[1], "axes")
        if axes is None:
            raise walk.fail("its axes are computed from the image input, not constants")
        return axes
    return None


def _squeeze(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if isinstance(x, PermutedPiece):
        return select_permuted(walk.builder, name, x.source, x.index) if _axes(walk, inputs, attributes) == [0] \
            else None
    if not isinstance(x, Tensor):
        return None
    before = _sizes(x.shape)
    axes = _axes(walk, inputs, attributes)
    if axes is None:
        drop = {axis for axis in range(1, len(before)) if before[axis] == 1}
    else:
        drop = set(walk.axes(axes, len(before)))
        wide = [axis for axis in sorted(drop) if before[axis] != 1]
        if wide:
            raise walk.fail(f"it squeezes axis {wide[0]} of size {before[wide[0]]} (only axes of size 1 can be "
                            f"squeezed) from {list(before)}")
    return _reshape_to(walk, name, x, [s for axis, s in enumerate(before) if axis not in drop])


def _unsqueeze(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    axes = _axes(walk, inputs, attributes)
    if not isinstance(x, Tensor) or axes is None:
        return None
    axes = walk.axes(axes, x.shape.rank + len(axes))
    if len(axes) != 1:
        return None
    return walk.add(name, Unsqueeze(axes[0]), x)


def _transpose(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    perm = _permutation(walk, attributes.get("perm"), x.shape.rank)
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
        axis = walk.axis(attributes.get("axis", 1), x.shape.rank)
        if token.parameter and x.shape.layout == "NLC" and axis == 1 and math.prod(token.sizes) == x.shape.channels:
            walk.builder.claim_learned(token)
            return walk.add(name, ClassToken(), x)
        return None
    if not all(isinstance(value, Tensor) for value in inputs):
        return None
    first = inputs[0].shape
    if any(value.shape.rank != first.rank for value in inputs):
        raise walk.fail(f"it concatenates tensors of ranks {[value.shape.rank for value in inputs]}")
    axis = walk.axis(attributes.get("axis", 1), first.rank)
    if "C" in first.layout and axis == first.layout.index("C") and \
            all(value.shape.layout == first.layout for value in inputs):
        return walk.add(name, Concat(), *inputs)
    return None


def _gather(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """``x[i]`` along the first axis of a permuted value (``qkv[0]``), or along another axis than the batch of a
    tensor; other gathers are not mapped. An index out of bounds is refused."""
    x, index = inputs[0], walk.constant(inputs[1])
    if not isinstance(index, np.ndarray) or index.ndim != 0:
        return None
    if index.dtype.kind not in "iu":
        raise walk.fail(f"its indices must be integers, got {_described(index)}")
    if isinstance(x, Permuted) and attributes.get("axis", 0) == 0:
        _index_in_range(walk, index, x.source.shape.dims[x.dims[0]], 0)
        return select_permuted(walk.builder, name, x, int(index))
    if isinstance(x, Tensor):
        axis = walk.axis(attributes.get("axis", 0), x.shape.rank)
        size = int(x.shape.dims[axis])
        _index_in_range(walk, index, size, axis)
        if axis:
            return walk.add(name, Select(axis, int(index) % size), x)
    return None


def _split(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    count = len(node.output)
    if isinstance(x, Permuted):
        if attributes.get("axis", 0) != 0 or x.source.shape.dims[x.dims[0]] != count:
            return None
        return tuple(PermutedPiece(x, index) for index in range(count))
    if not isinstance(x, Tensor):
        return None
    axis = walk.axis(attributes.get("axis", 0), x.shape.rank)
    size = int(x.shape.dims[axis])
    sizes: list[int]
    if "split" in attributes:
        sizes = [int(p) for p in attributes["split"]]
    elif len(inputs) > 1 and inputs[1] is not None:
        given = walk.ints(inputs[1], "split")
        if given is None:
            return None
        sizes = given
    else:
        sizes = [-(-size // count)] * (count - 1) + [size - -(-size // count) * (count - 1)]
    if len(sizes) != count or any(s < 0 for s in sizes) or sum(sizes) != size:
        raise walk.fail(f"its split {_shown(sizes)} is not {count} non-negative sizes adding up to the {size} of "
                        f"axis {axis}")
    if axis == 0:
        return None
    if axis == 1 and x.shape.layout[1] == "C" and len(set(sizes)) == 1:
        return tuple(walk.add(name, Split(count, index), x) for index in range(count))
    starts = np.cumsum([0, *sizes])
    return tuple(walk.add(name, Slice(axis, int(starts[i]), int(starts[i + 1])), x) for i in range(count))


def _slice(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    result = x
    for axis, start, end, step in _slices(walk, x.shape.rank, inputs, attributes):
        if step != 1 or axis <= 0:
            return None
        begin, stop, _ = slice(start, end).indices(int(result.shape.dims[axis]))
        if (begin, stop) != (0, result.shape.dims[axis]):
            result = walk.add(name, Slice(axis, begin, stop), result)
    return result


def _reduce_mean(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    axes = _axes(walk, inputs, attributes)
    if not axes:
        return x if axes == [] and attributes.get("noop_with_empty_axes", 0) else None
    dims = tuple(sorted(walk.axes(axes, x.shape.rank)))
    keep = bool(attributes.get("keepdims", 1))
    if dims == (2, 3) and x.shape.layout == "NCHW" and keep:
        return walk.add(name, GlobalAvgPool(), x)
    return walk.add(name, Mean(dims, keep), x)


def _softmax(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """Softmax along one axis (op set 13 on; before, along the axes from ``axis`` on flattened: mapped where that
    is the last axis alone)."""
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    axis = walk.axis(attributes.get("axis", -1 if walk.model.opset >= 13 else 1), x.shape.rank)
    if walk.model.opset < 13 and axis != x.shape.rank - 1:
        return None
    return walk.add(name, Softmax(axis), x)


def _resize(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """An integer upsampling of the map's height and width (nearest or bilinear as torch's ``interpolate``);
    scales are finite positive numbers (others refused), sizes positive integers."""
    x = inputs[0]
    if not isinstance(x, Tensor):
        return None
    mode, transform = _text(attributes, "mode", "nearest"), _text(attributes, "coordinate_transformation_mode",
                                                                   "half_pixel")
    scales_at, sizes_at = (1, None) if walk.model.opset < 11 else (2, 3)
    scales = walk.numbers(inputs[scales_at], "scales") if len(inputs) > scales_at and \
        inputs[scales_at] is not None else None
    sizes = walk.ints(inputs[sizes_at], "sizes") if sizes_at and len(inputs) > sizes_at and \
        inputs[sizes_at] is not None else None
    if scales is not None and any(s <= 0 for s in scales):
        raise walk.fail(f"its scales {_shown(scales)} must be positive")
    if sizes is not None and any(s <= 0 for s in sizes):
        raise walk.fail(f"its sizes {_shown(sizes)} must be positive")
    if x.shape.layout != "NCHW" or (mode, transform) not in (("nearest", "asymmetric"),
                                                              ("linear", "pytorch_half_pixel"),
                                                              ("linear", "half_pixel")):
        return None
    axes = walk.axes([int(a) for a in attributes.get("axes", range(4))], 4)
    dims = _sizes(x.shape)
    if scales:
        if len(scales) != len(axes):
            raise walk.fail(f"it has {len(scales)} scales for {len(axes)} axes")
        factors = dict(zip(axes, scales))
    elif sizes:
        if len(sizes) != len(axes):
            raise walk.fail(f"it has {len(sizes)} sizes for {len(axes)} axes")
        if _text(attributes, "keep_aspect_ratio_policy", "stretch") != "stretch":
            return None
        factors = {axis: size / dims[axis] for axis, size in zip(axes, sizes)}
    else:
        return None
    every = [factors.get(axis, 1.0) for axis in range(4)]
    if every[:2] != [1.0, 1.0] or any(f != int(f) or f < 1 for f in every[2:]):
        return None
    return walk.add(name, Interpolate("bilinear" if mode == "linear" else "nearest",
                                      scale=(int(every[2]), int(every[3]))), x)


def _pad(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """Zero padding (its pads an attribute before op set 11, input 1 from it, over the axes of input 3 from op set
    18); ONNX's order is every axis's begin, then every axis's end."""
    x = inputs[0]
    if not isinstance(x, Tensor) or _text(attributes, "mode", "constant") != "constant":
        return None
    pads: list[int]
    if "pads" in attributes:
        pads = [int(p) for p in attributes["pads"]]
    else:
        given = walk.ints(inputs[1], "pads") if len(inputs) > 1 and inputs[1] is not None else None
        if given is None:
            return None
        pads = given
    rank = x.shape.rank
    axes = list(range(rank))
    if len(inputs) > 3 and inputs[3] is not None:
        given = walk.ints(inputs[3], "axes")
        if given is None:
            return None
        axes = walk.axes(given, rank)
    if len(pads) != 2 * len(axes):
        raise walk.fail(f"its pads {_shown(pads)} must have {2 * len(axes)} values, a begin and an end for each "
                        f"of {len(axes)} axes")
    if any(p < 0 for p in pads):
        return None                        # a negative pad crops: not a padding costmodel maps
    begin, end = [0] * rank, [0] * rank
    for position, axis in enumerate(axes):
        begin[axis], end[axis] = pads[position], pads[position + len(axes)]
    if begin[0] or end[0]:
        return None
    if not any(begin) and not any(end):
        return x
    # torch's order: (before, after) of the last axis first, back to the first padded one
    first = min(axis for axis in range(1, rank) if begin[axis] or end[axis])
    torch_order = tuple(size for axis in range(rank - 1, first - 1, -1) for size in (begin[axis], end[axis]))
    return walk.add(name, Pad(torch_order), x)


def _pass(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    return inputs[0]


def _shape(walk: _Walk, name: str, node: Any, inputs: list, attributes: dict) -> Any:
    """The sizes of a tensor, a learned tensor or a constant (its dims from ``start`` to ``end``, clamped as ONNX
    clamps them)."""
    value = inputs[0]
    if isinstance(value, Tensor):
        sizes = _sizes(value.shape)
    elif isinstance(value, (Learned, np.ndarray)):
        sizes = _value_sizes(value)
    else:
        return None
    rank = len(sizes)
    start, end = (int(attributes.get("start", 0)), int(attributes.get("end", rank)))
    start, end = (min(max(p + rank if p < 0 else p, 0), rank) for p in (start, end))
    return np.array(sizes[start:end], dtype=np.int64)


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
