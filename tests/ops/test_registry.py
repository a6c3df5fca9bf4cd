"""The op registry is complete: every op declares every metric under every convention, a kind, a memory behaviour,
a spec form and a lowering; the passes, the spec reader, the lowering, the views and the report name no op."""
import ast
import dataclasses
import types
import typing
from pathlib import Path

import pytest

import costmodel
from costmodel.core.conventions import CONVENTIONS
from costmodel.core.errors import CostModelError, MissingFormulaError
from costmodel.core.metrics import node_metrics
from costmodel.ops import Conv2d, definitions, kind_titles, registry, spec_names
from costmodel.ops.registry import MEMORY, SpecForm
from costmodel.core.scaling import ChannelsOf, Expanded, Scaled, Squeezed, Tabulated

from op_examples import as_example, example_networks

PACKAGE = Path(costmodel.__file__).parent


def test_every_op_declares_everything():
    assert len(definitions()) == 49
    for op_def in definitions():
        for metric in node_metrics():
            if metric.name == "flops":
                assert set(op_def.flops) == set(CONVENTIONS), op_def.op.__name__
                assert all(callable(op_def.formula("flops", c)) for c in CONVENTIONS)
            else:
                assert callable(op_def.formula(metric.name)), (op_def.op.__name__, metric.name)
        assert callable(op_def.shape) and callable(op_def.lower) and callable(op_def.spec.read)
        assert op_def.memory in MEMORY and op_def.kinds and set(op_def.kinds) <= set(kind_titles())
        assert op_def.spec.name == op_def.op.op_name and op_def.spec.name in spec_names()
        assert op_def.examples, f"{op_def.op.__name__} has no examples for the completeness tests"
        assert all(isinstance(as_example(op_def, example).op, op_def.op) for example in op_def.examples)


def test_kinds_keep_the_per_kind_order():
    assert list(kind_titles()) == ["conv", "depthwise", "pointwise", "group", "deconv", "conv1d", "linear", "batchnorm",
                                   "layernorm", "groupnorm", "activation", "softmax", "pool", "global_pool", "add",
                                   "mul", "broadcast", "concat", "split", "shuffle", "flatten", "dropout", "reshape", "permute",
                                   "pad", "patches", "resize", "embedding", "scale", "weights", "matmul", "attention", "opaque", "unused"]


@pytest.mark.parametrize("op_def", definitions(), ids=lambda d: d.spec.name)
def test_every_example_analyzes_under_every_convention(op_def):
    for network in example_networks(op_def):
        for convention in CONVENTIONS:
            result = costmodel.analyze(network, convention=convention)
            assert all(isinstance(value, int) and value >= 0 for value in result.totals.values())


def test_a_missing_convention_or_duplicate_is_refused():
    conv = registry.definition(Conv2d)
    with pytest.raises(RuntimeError, match="registered twice"):
        registry.register(conv)
    incomplete = dataclasses.replace(conv, op=type("Other", (Conv2d,), {"op_name": "other"}),
                                     flops={"costmodel": conv.flops["costmodel"]},
                                     spec=SpecForm("other", conv.spec.read))
    with pytest.raises(RuntimeError, match="flops conventions missing"):
        registry.register(incomplete)
    assert issubclass(MissingFormulaError, CostModelError)
    with pytest.raises(MissingFormulaError, match="not registered"):
        registry.definition(type("Unknown", (costmodel.core.ir.Op,), {}))


OP_NAMES = {op_def.op.__name__ for op_def in definitions()}


# the layers (the core imports no front end, nor torch) are checked over every module: tests/test_architecture.py


@pytest.mark.parametrize("module", [
    "engine/passes.py", "engine/counting.py", "engine/analysis.py", "engine/trace.py", "engine/compiled.py",
    "engine/grid.py", "sources/spec.py", "lowering/to_torch.py", "present/analyses.py", "core/metrics.py",
    "present/report/page.py", "present/report/compare.py", "present/report/sections/summary.py",
    "present/report/sections/layers.py", "present/report/sections/kinds.py", "present/report/sections/memory.py"])
def test_the_generic_modules_name_no_op(module):
    tree = ast.parse((PACKAGE / module).read_text())
    named = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id in OP_NAMES}
    named |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
              for alias in node.names if alias.name in OP_NAMES}
    assert not named, f"{module} names {sorted(named)}"


WIDTH_RULES = (Scaled, Expanded, Squeezed, Tabulated, ChannelsOf)


def _converted_fields() -> "list[tuple[type, str, str]]":
    """Each op field typed as an (h, w) pair or a width rule (alone or in a union): (op class, field, "pair" or
    "width"). tools/mypy_ops.py lets the op's constructor take an int for exactly these fields."""
    found = []
    for op_def in definitions():
        hints = typing.get_type_hints(op_def.op)
        for item in dataclasses.fields(op_def.op):
            hint = hints[item.name]
            args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
            if any(typing.get_origin(arg) is tuple and typing.get_args(arg) == (int, int) for arg in args):
                found.append((op_def.op, item.name, "pair"))
            elif any(arg in WIDTH_RULES for arg in args):
                found.append((op_def.op, item.name, "width"))
    return found


def test_the_type_checker_plugin_sees_the_ops_fields():
    names = {(op.__name__, field) for op, field, _ in _converted_fields()}
    assert {("Conv2d", "kernel"), ("Conv2d", "out_channels"), ("Pool2d", "stride"), ("Linear", "out_features"),
            ("Interpolate", "multiple"), ("PatchFold", "patch")} <= names


@pytest.mark.parametrize("op, field, kind", _converted_fields(),
                         ids=lambda value: value.__name__ if isinstance(value, type) else str(value))
def test_an_op_converts_an_int_where_its_field_holds_a_pair_or_a_width(op, field, kind):
    """What tools/mypy_ops.py tells the type checker: an int given for a pair is (int, int), for a width a width
    rule (``Scaled(int)``), once the op is made."""
    example = next(example for op_def in definitions() if op_def.op is op for example in op_def.examples)
    example = getattr(example, "op", example)
    # a field that excludes another (Interpolate: one of scale and multiple) is tried with the others left out
    exclusive = {item.name: None for item in dataclasses.fields(op) if item.default is None and item.name != field}
    for value in ((1, 2) if kind == "pair" else (8,)):        # the smallest value the op's other fields allow
        for others in ({}, exclusive):
            try:
                made = dataclasses.replace(example, **{field: value}, **others)
            except CostModelError:
                continue
            expected = (value, value) if kind == "pair" else Scaled(value, "fixed")
            assert getattr(made, field) == expected
            return
    pytest.fail(f"no {op.__name__} could be made with {field} an int")
