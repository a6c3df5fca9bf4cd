"""The checks an ONNX graph passes before it is mapped, so that a malformed file ends in one line naming the node.

What onnx's checker and onnxruntime refuse, costmodel refuses too, before any value is computed: a node that reads
a value nothing makes or that is made after it (a cycle, or nodes out of topological order), a value made twice, a
node of a standard op with too few or too many inputs or outputs, a missing required attribute or one of the wrong
type, a tensor whose data does not match its dims (``onnx_file.TensorData.check``), and sizes past the bounds: the
number of nodes, of values in an attribute, and the length of the metadata a node carries.
"""
from __future__ import annotations

from typing import Any

from ...core.errors import CostModelError
from ..spec import MAX_NODES
from .onnx_file import MAX_CONSTANT_ELEMENTS, TensorData

MAX_ATTRIBUTE_VALUES = MAX_CONSTANT_ELEMENTS     # values in one list attribute (perm, pads, value_ints...)
STANDARD_DOMAINS = ("", "ai.onnx")
_LISTS = ("floats", "ints", "strings", "tensors", "graphs", "sparse_tensors", "type_protos")


def label(node: Any, index: int) -> str:
    """How messages name a node: ``node 'conv1' (Conv)``, or ``node #12 (Relu)`` when it has no name."""
    return f"node {node.name!r} ({node.op_type})" if node.name else f"node #{index} ({node.op_type})"


def opset_of(proto: Any) -> int:
    """The version of the standard ONNX op set the model imports (0 when it imports none)."""
    return max((entry.version for entry in proto.opset_import if entry.domain in STANDARD_DOMAINS), default=0)


def check_graph(proto: Any, nodes: list, data: TensorData) -> "dict[int, frozenset[str]]":
    """Check the graph of ``proto`` (its ``nodes`` listed) as the module docstring says; return, for each node of
    a standard op the model's op set defines (the ones costmodel may map; others are opaque), the attributes that
    op set declares for it (others are not read)."""
    graph = proto.graph
    if len(nodes) > MAX_NODES:
        raise CostModelError(f"{len(nodes):,} nodes is more than the limit of {MAX_NODES:,}")
    opset = opset_of(proto)
    if not opset:
        raise CostModelError("it imports no version of the standard ONNX op set (opset_import)")
    defined: set[str] = set()
    for tensor in graph.initializer:
        if tensor.name in defined:
            raise CostModelError(f"initializer {tensor.name!r} is defined twice")
        data.check(tensor, f"initializer {tensor.name!r}")
        defined.add(tensor.name)
    defined.update(value.name for value in graph.input)
    made: dict[str, int] = {}
    for index, node in enumerate(nodes):
        for name in node.output:
            if name and name not in made:
                made[name] = index
    known: dict[int, frozenset[str]] = {}
    schemas: dict[str, Any] = {}
    declared: dict[str, frozenset[str]] = {}
    for index, node in enumerate(nodes):
        if len(node.attribute):
            _check_attributes(node, index, data)
        if node.domain in STANDARD_DOMAINS:
            if node.op_type not in schemas:
                schemas[node.op_type] = schema = _schema(node.op_type, opset)
                declared[node.op_type] = frozenset(schema.attributes) if schema is not None else frozenset()
            schema = schemas[node.op_type]
            if schema is not None:
                _check_schema(node, index, schema)
                known[index] = declared[node.op_type]
        for name in node.input:
            if name not in defined and name:
                if name in made:
                    raise CostModelError(f"{label(node, index)} reads {name!r} before "
                                         f"{label(nodes[made[name]], made[name])} makes it: the graph has a cycle, "
                                         "or its nodes are not in topological order as ONNX requires")
                raise CostModelError(f"{label(node, index)} reads {name!r}, which no node, graph input or "
                                     "initializer makes")
        for name in node.output:
            if name in defined:
                raise CostModelError(f"{label(node, index)} makes {name!r}, which is already defined (an ONNX "
                                     "value is assigned once)")
            if name:
                defined.add(name)
    for value in graph.output:
        if value.name not in defined:
            raise CostModelError(f"its output {value.name!r} is made by no node, input or initializer")
    return known


def _schema(op_type: str, opset: int) -> Any:
    from onnx import defs

    try:
        return defs.get_schema(op_type, opset, "")
    except Exception:                 # onnx's SchemaError: not a standard op at this op set
        return None


def _check_schema(node: Any, index: int, schema: Any) -> None:
    """The node's inputs, outputs and attributes as its op's schema declares them."""
    if schema.min_input <= len(node.input) <= schema.max_input and \
            schema.min_output <= len(node.output) <= schema.max_output and not len(node.attribute) and \
            not schema.attributes:
        return
    where = label(node, index)
    for what, count, low, high in (("inputs", len(node.input), schema.min_input, schema.max_input),
                                   ("outputs", len(node.output), schema.min_output, schema.max_output)):
        if not low <= count <= high:
            bounds = f"{low}" if low == high else f"{low} to {high}" if high < 1 << 20 else f"at least {low}"
            raise CostModelError(f"{where} has {count} {what[:-1] if count == 1 else what}; {node.op_type} takes "
                                 f"{bounds}")
    given = {attribute.name: attribute for attribute in node.attribute}
    for name, declared in schema.attributes.items():
        if name in given and given[name].type != int(declared.type):
            raise CostModelError(f"{where}: attribute {name!r} must be of type {declared.type.name}")
        if declared.required and name not in given:
            raise CostModelError(f"{where} lacks its required attribute {name!r}")


def _check_attributes(node: Any, index: int, data: TensorData) -> None:
    """Each attribute has a type, lists of at most ``MAX_ATTRIBUTE_VALUES`` values, and tensors whose data match
    their dims."""
    where = label(node, index)
    for attribute in node.attribute:
        if not attribute.type:
            raise CostModelError(f"{where}: attribute {attribute.name!r} has no type")
        for field in _LISTS:
            if len(getattr(attribute, field)) > MAX_ATTRIBUTE_VALUES:
                raise CostModelError(f"{where}: attribute {attribute.name!r} holds "
                                     f"{len(getattr(attribute, field)):,} values, more than the limit of "
                                     f"{MAX_ATTRIBUTE_VALUES:,}")
        if attribute.HasField("t"):
            data.check(attribute.t, f"{where}: attribute {attribute.name!r}")
        for tensor in attribute.tensors:
            data.check(tensor, f"{where}: attribute {attribute.name!r}")
