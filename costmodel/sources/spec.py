"""Spec files: networks of the user's own, in TOML, for every command that takes a model.

A spec holds a few network fields and a list of ``[[layer]]`` tables run in file order. A layer is one op
(``op = "conv2d"`` and its fields) or a compact block string (``block = "ir_r2_k3_s2_e6_c24"``, like the papers' t /
c / n / s rows and timm's architecture strings). A layer reads the previous layer unless it names its ``input``
(or ``inputs``), so branches and merges are written by name. The README documents every field; the examples are in
``examples/*.toml``.

Every error names the file, the line of the layer's ``[[layer]]`` header, the layer and the field.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

from .builder import GraphBuilder, conv_bn_act, inverted_residual, norm_act
from ..core.errors import CostModelError
from ..core.ir import INPUT, Network, locate
from ..ops import ACTIVATIONS, spec_form, spec_names
from ..core.scaling import WIDTH_RULES, Expanded, Scaled, scaled_repeats
from ..core.fileio import MAX_TEXT_BYTES as MAX_BYTES  # noqa: F401 (a spec file's bound)
from ..core.tomlfiles import read_toml

MAX_LAYERS = 100_000
MAX_REPEATS = 10_000
MAX_NODES = 200_000
_NETWORK_FIELDS = {"name", "description", "source", "input_channels", "resolution", "width_rule", "activation",
                   "num_classes", "layer"}
DEFAULT_NUM_CLASSES = 1000
CLASSES = "num_classes"         # a layer's ``out = "num_classes"`` marks the classifier
_LAYER_HEADER = re.compile(r"^\s*\[\[\s*layer\s*\]\]")


class _Layer:
    """One ``[[layer]]`` table being read: its fields, and where it is for messages. Op spec forms read their
    fields through it (it is the ``ops.FieldReader``)."""

    def __init__(self, reader: "_Reader", line: int | None, index: int, table: Any):
        self.reader = reader
        self.path, self.line, self.index = reader.path, line, index
        if not isinstance(table, dict):
            raise self.fail(f"must be a table of fields, got {type(table).__name__}")
        self.table = table
        self.name = table.get("name", f"layer{index}")
        self.used = {"name", "input", "inputs", "op", "block"}

    def location(self) -> str:
        """``net.toml:12: layer 'stem'``; a layer without a name by the node name it is given (``layer 'layer4'``
        for the fifth), as every other message names it."""
        where = f"{self.path}:{self.line}" if self.line else self.path
        name = self.table.get("name") if isinstance(getattr(self, "table", None), dict) else None
        return f"{where}: layer {name if isinstance(name, str) else f'layer{self.index}'!r}"

    def fail(self, message: str) -> CostModelError:
        return CostModelError(f"{self.location()}: {message}")

    def get(self, field: str, kind: type | tuple[type, ...], default: Any = None, required: bool = False) -> Any:
        self.used.add(field)
        if field not in self.table:
            if required:
                raise self.fail(f"missing field {field!r}")
            return default
        value = self.table[field]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise self.fail(f"field {field!r} must be {names}, got {value!r}")
        return value

    def pair(self, field: str, default: Any) -> Any:
        """An integer or a list of two integers (an int or an (h, w) tuple)."""
        value = self.get(field, (int, list), default)
        if isinstance(value, list) and (len(value) != 2 or not all(isinstance(v, int) and not isinstance(v, bool)
                                                                   for v in value)):
            raise self.fail(f"field {field!r} must be an integer or a list of two integers, got {value!r}")
        return tuple(value) if isinstance(value, list) else value

    def width(self, field: str, required: bool = True, allow: tuple[str, ...] = ()) -> Any:
        """A number of channels that scales with alpha by the network's width rule (``fixed = true``: does not
        scale); ``"num_classes"`` is the network's classes; a string in ``allow`` is returned as it is."""
        value = self.get(field, (int, str), required=required)
        fixed = self.get("fixed", bool, False)
        if isinstance(value, str):
            if value == CLASSES:
                return Scaled(self.reader.num_classes, "fixed")
            if value in allow:
                return value
            wanted = " or ".join(repr(word) for word in (*allow, CLASSES))
            raise self.fail(f"field {field!r} must be a number of channels or {wanted}, got {value!r}")
        if value is not None and self.index == self.reader.classifier and field == "out":
            return Scaled(self.reader.num_classes, "fixed")
        if value is not None and value < 1:
            raise self.fail(f"field {field!r} must be a positive number of channels, got {value}")
        return None if value is None else Scaled(value, "fixed" if fixed else self.reader.width_rule)

    def has(self, field: str) -> bool:
        return field in self.table

    def ref(self, field: str) -> str:
        """The node holding the output of the earlier layer the field names (or ``input``)."""
        name = self.get(field, str, required=True)
        if name == INPUT:
            return name
        if name in self.reader.outputs:
            return self.reader.outputs[name]
        if name in self.reader.builder.names:
            return name
        raise self.fail(f"field {field!r}: {name!r} is not an earlier layer")

    def check_fields(self) -> None:
        extra = sorted(set(self.table) - self.used)
        if extra:
            raise self.fail(f"unknown field {extra[0]!r} (known here: {', '.join(sorted(self.used))})")


class _Reader:
    """Turns the parsed TOML into a Network through a GraphBuilder."""

    def __init__(self, path: str, document: dict[str, Any], header_lines: list[int],
                 options: Mapping[str, Any] | None = None, depth: float = 1.0):
        self.path = path
        self.depth = depth
        self.blocks = 0                          # layers written as blocks (which depth scales)
        self.document = document
        self.header_lines = header_lines
        self.options = dict(options or {})
        self.builder = GraphBuilder()
        self.outputs: dict[str, str] = {}        # layer name -> the node that holds its output
        self.width_rule = "fixed"
        self.activation = "relu"
        self.num_classes = DEFAULT_NUM_CLASSES
        self.classifier = -1                     # the index of a classifier layer not marked "num_classes"
        self.origins: dict[str, str] = {}        # node -> "file:line: layer 'name'" (for messages)

    def fail(self, message: str) -> CostModelError:
        return CostModelError(f"{self.path}: {message}")

    def network_field(self, field: str, kind: type | tuple[type, ...], default: Any) -> Any:
        value = self.document.get(field, default)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            raise self.fail(f"field {field!r} must be {' or '.join(k.__name__ for k in kinds)}, got {value!r}")
        return value

    def read(self) -> Network:
        unknown = sorted(set(self.document) - _NETWORK_FIELDS)
        if unknown:
            raise self.fail(f"unknown field {unknown[0]!r} (known: {', '.join(sorted(_NETWORK_FIELDS))})")
        name = self.network_field("name", str, "")
        if not name:
            raise self.fail("missing field 'name' (the network's name)")
        self.width_rule = self.network_field("width_rule", str, "fixed")
        if self.width_rule not in WIDTH_RULES:
            raise self.fail(f"width_rule must be one of {', '.join(WIDTH_RULES)}, got {self.width_rule!r}")
        self.activation = self.network_field("activation", str, "relu")
        if self.activation not in ACTIVATIONS:
            raise self.fail(f"activation must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        layers = self.network_field("layer", list, [])
        if not layers:
            raise self.fail("no layers: add [[layer]] tables")
        if len(layers) > MAX_LAYERS:
            raise self.fail(f"{len(layers)} layers is more than the limit of {MAX_LAYERS}")
        self.classes(layers)
        for index, table in enumerate(layers):
            line = self.header_lines[index] if index < len(self.header_lines) else None
            first = len(self.builder.nodes)
            layer = _Layer(self, line, index, table)
            self.layer(layer)
            where = layer.location()
            for node in self.builder.nodes[first:]:
                self.origins[node.name] = where
        if self.depth != 1.0 and not self.blocks:
            raise self.fail("depth scales the repeats of blocks, and this spec has none (block = \"...\")")
        resolution = self.network_field("resolution", (int, list), 224)
        try:
            return self.builder.build(
                name, input_channels=self.network_field("input_channels", int, 3), depth=self.depth,
                base_resolution=tuple(resolution) if isinstance(resolution, list) else resolution,
                description=self.network_field("description", str, ""),
                source=self.network_field("source", str, self.path), origins=tuple(self.origins.items()))
        except CostModelError as error:
            located = locate(str(error), self.origins)
            raise (CostModelError(located) if located != str(error) else self.fail(str(error))) from None

    def classes(self, layers: list[Any]) -> None:
        """The network's classes (its ``num_classes`` field, or the option), and which layer is the classifier:
        the layers whose ``out`` is ``"num_classes"``, or else, when the option is given, the last layer if it is
        a linear layer."""
        unknown = sorted(set(self.options) - {CLASSES})
        if unknown:
            raise self.fail(f"spec files take only the option {CLASSES!r}, not {unknown[0]!r}")
        self.num_classes = self.network_field(CLASSES, int, DEFAULT_NUM_CLASSES)
        if CLASSES not in self.options:
            return
        value = self.options[CLASSES]
        try:
            self.num_classes = int(value)
        except (TypeError, ValueError):
            raise self.fail(f"option {CLASSES!r} must be an int, got {value!r}") from None
        if isinstance(value, bool) or self.num_classes < 1:
            raise self.fail(f"option {CLASSES!r} must be a positive int, got {value!r}")
        marked = any(isinstance(table, dict) and table.get("out") == CLASSES for table in layers)
        last = layers[-1]
        if not marked:
            if not (isinstance(last, dict) and last.get("op") == "linear"):
                raise self.fail(f"option {CLASSES!r}: the spec marks no classifier (write out = \"{CLASSES}\" on its "
                                "classifier layer) and its last layer is not a linear layer")
            self.classifier = len(layers) - 1

    def inputs(self, layer: _Layer) -> tuple[str, ...]:
        if "input" in layer.table and "inputs" in layer.table:
            raise layer.fail("give 'input' or 'inputs', not both")
        if "inputs" in layer.table:
            refs = layer.get("inputs", list)
            if not all(isinstance(ref, str) for ref in refs):        # [] for an op of no input (weights)
                raise layer.fail(f"field 'inputs' must be a list of layer names, got {refs!r}")
        else:
            refs = [layer.get("input", str, self.builder.last)]
        resolved = []
        for ref in refs:
            if ref == INPUT:
                resolved.append(ref)
            elif ref in self.outputs:
                resolved.append(self.outputs[ref])
            elif ref in self.builder.names:
                resolved.append(ref)
            else:
                raise layer.fail(self._unknown_input(layer, ref))
        return tuple(resolved)

    def _unknown_input(self, layer: _Layer, ref: str) -> str:
        """Why ``ref`` is not readable here: it names no layer, it comes later, or the layers form a cycle."""
        graph: dict[str, list[str]] = {}
        for index, table in enumerate(self.document.get("layer", [])):
            if isinstance(table, dict):
                name = table.get("name", f"layer{index}")
                refs = table.get("inputs", [table.get("input")] if "input" in table else [])
                graph[str(name)] = [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []
        if ref not in graph:
            return f"input {ref!r} is not a layer"
        path = [layer.name, ref]
        seen = {ref}
        while path[-1] in graph:              # follow first inputs back: a cycle returns to this layer
            step = next((r for r in graph[path[-1]] if r == layer.name or r not in seen), None)
            if step is None:
                break
            path.append(step)
            if step == layer.name:
                return f"the layers form a cycle: {' -> '.join(reversed(path))}"
            seen.add(step)
        return f"input {ref!r} is a later layer (layers run in file order)"

    def layer(self, layer: _Layer) -> None:
        if not isinstance(layer.name, str):
            raise layer.fail(f"field 'name' must be a string, got {layer.name!r}")
        if layer.name in self.outputs:
            raise layer.fail(f"a layer named {layer.name!r} is defined twice")
        if ("op" in layer.table) == ("block" in layer.table):
            raise layer.fail("give exactly one of 'op' or 'block'")
        inputs = self.inputs(layer)
        try:
            if "block" in layer.table:
                last = self.block(layer, inputs)
            else:
                last = self.op(layer, inputs)
        except CostModelError as error:
            if str(error).startswith(self.path):
                raise
            raise layer.fail(str(error)) from None
        layer.check_fields()
        self.outputs[layer.name] = last

    def width(self, layer: _Layer, field: str, channels: int) -> Scaled:
        if channels < 1:
            raise layer.fail(f"field {field!r} must be a positive number of channels, got {channels}")
        rule = "fixed" if layer.get("fixed", bool, False) else self.width_rule
        return Scaled(channels, rule)

    def op(self, layer: _Layer, inputs: tuple[str, ...]) -> str:
        """One op by its spec form (``ops``), with ``bn`` and ``act`` adding BatchNorm and an activation after it
        (nodes ``<name>.<node>``, ``<name>.bn``, ``<name>.<activation>``)."""
        kind = layer.get("op", str)
        definition = spec_form(kind)
        if definition is None:
            raise layer.fail(f"unknown op {kind!r}; known: {', '.join(spec_names())}")
        op = definition.spec.read(layer)
        bn = layer.get("bn", bool, False)
        act = layer.get("act", (str, bool), False)
        if act is True:
            act = self.activation
        if not bn and not act:
            return self.builder.add(layer.name, op, inputs)
        self.builder.add(f"{layer.name}.{definition.spec.node or definition.spec.name}", op, inputs)
        return norm_act(self.builder, layer.name, bn, act or None)

    def block(self, layer: _Layer, inputs: tuple[str, ...]) -> str:
        text = layer.get("block", str)
        block = parse_block(text)
        if isinstance(block, str):
            raise layer.fail(f"block {text!r}: {block}")
        kind, repeats, fields = block
        repeats = scaled_repeats(repeats, self.depth)
        self.blocks += 1
        last = inputs[0]
        for repeat in range(repeats):
            if len(self.builder.names) > MAX_NODES:
                raise layer.fail(f"the network grows past the limit of {MAX_NODES:,} nodes")
            prefix = layer.name if repeats == 1 else f"{layer.name}.{repeat}"
            stride = fields["s"] if repeat == 0 else 1
            activation = fields.get("a", self.activation)
            out = self.width(layer, "block", fields["c"])
            if kind == "cn":
                last = conv_bn_act(self.builder, prefix, out, kernel=fields["k"], stride=stride,
                                   activation=activation, x=last)
            elif kind == "ds":
                conv_bn_act(self.builder, f"{prefix}.dw", None, kernel=fields["k"], stride=stride,
                            groups="depthwise", activation=activation, x=last)
                last = conv_bn_act(self.builder, f"{prefix}.pw", out, kernel=1, activation=activation)
            else:
                expansion = None if fields["e"] == 1 else Expanded(fields["e"])
                last = inverted_residual(self.builder, prefix, last, out, expansion, kernel=fields["k"],
                                         stride=stride, activation=activation, se="se" in fields,
                                         residual="noskip" not in fields)
        return last


_BLOCK_TOKEN = re.compile(r"^(r|k|s|c)(\d+)$|^(e)(\d+(?:\.\d+)?)$|^(a)([a-z0-9]+)$|^(se|noskip)$")
_BLOCK_KINDS = {"cn": "conv + BN + activation", "ds": "depthwise separable (MobileNetV1)",
                "ir": "inverted residual (MobileNetV2/V3)"}


def parse_block(text: str) -> "tuple[str, int, dict[str, Any]] | str":
    """``"ir_r2_k3_s2_e6_c24"`` as (kind, repeats, fields), or a message saying what is wrong.

    Kinds: ``cn`` (conv + BN + activation), ``ds`` (3x3-style depthwise + 1x1, each with BN and activation),
    ``ir`` (inverted residual). Tokens: ``r`` repeats (default 1), ``k`` kernel (default 3), ``s`` stride of the first
    repeat (default 1), ``c`` output channels (required), ``e`` expansion ratio (``ir`` only, default 6),
    ``a<activation>`` (default: the network's ``activation``), ``se`` (squeeze-and-excite, ``ir`` only),
    ``noskip`` (no residual, ``ir`` only)."""
    kind, *tokens = text.split("_")
    if kind not in _BLOCK_KINDS:
        return f"unknown block kind {kind!r}; known: {', '.join(f'{k} ({v})' for k, v in _BLOCK_KINDS.items())}"
    fields: dict[str, Any] = {"r": 1, "k": 3, "s": 1}
    if kind == "ir":
        fields["e"] = 6.0
    seen: set[str] = set()
    for token in tokens:
        match = _BLOCK_TOKEN.match(token)
        if not match:
            return (f"cannot read {token!r} (tokens: r<repeats> k<kernel> s<stride> e<ratio> c<channels> a<act> se "
                    "noskip)")
        groups = [g for g in match.groups() if g is not None]
        key = groups[0]
        if key in seen:
            return f"token {key!r} is given twice"
        seen.add(key)
        if key in ("se", "noskip", "e") and kind != "ir":
            return f"{key!r} applies to ir blocks only"
        if key in ("se", "noskip"):
            fields[key] = True
        elif key == "a":
            if groups[1] not in ACTIVATIONS:
                return f"unknown activation {groups[1]!r}; known: {', '.join(ACTIVATIONS)}"
            fields["a"] = groups[1]
        elif key == "e":
            fields["e"] = float(groups[1])
            if fields["e"] <= 0:
                return "expansion ratio must be positive"
        else:
            fields[key] = int(groups[1])
            if fields[key] < 1:
                return f"{key}{groups[1]}: must be at least 1"
    if "c" not in fields:
        return "missing the output channels (c<channels>)"
    if fields["r"] > MAX_REPEATS:
        return f"{fields['r']} repeats is more than the limit of {MAX_REPEATS}"
    return kind, fields.pop("r"), fields


SPEC_SUFFIXES = (".toml", ".yaml", ".yml", ".json")


def looks_like_spec(model: str) -> bool:
    """A model argument is a spec file when it has a spec file's suffix (or YAML's and JSON's, to say that spec
    files are TOML), contains a path separator, or names an existing path."""
    return model.endswith(SPEC_SUFFIXES) or os.sep in model or os.path.lexists(model)


def load_spec(path: "str | Path", options: Mapping[str, Any] | None = None, depth: float = 1.0) -> Network:
    """The Network of the spec file at ``path``; ``CostModelError`` naming the file (and line, layer and field)
    for anything wrong. ``options`` may hold ``num_classes``; ``depth`` scales the repeats of its blocks
    (``scaling.scaled_repeats``)."""
    path = str(path)
    document, text = read_toml(path, "spec file")
    headers = [number for number, line in enumerate(text.splitlines(), start=1) if _LAYER_HEADER.match(line)]
    return _Reader(path, document, headers, options, depth).read()
