"""A mypy plugin for costmodel's ops: an op's constructor takes one int where its field holds an (h, w) pair, and an
int where its field holds a width, because every op's ``__post_init__`` converts them (``core.ir.pair_of``,
``core.scaling.as_width``). Dataclasses have no converters mypy understands, so this tells it: in the signature of
the constructor of every ``core.ir.Op`` subclass, a parameter typed ``tuple[int, int]`` (alone or in a union) also
accepts ``int``, and one whose type holds the width rules (``Scaled``...) also accepts ``int``. The field keeps the
converted type for every reader. ``tests/ops/test_registry.py`` checks that each op converts what this admits.

Configured in ``pyproject.toml`` (``[tool.mypy] plugins``).
"""
from __future__ import annotations

from typing import Callable

from mypy.nodes import TypeInfo
from mypy.plugin import FunctionSigContext, Plugin
from mypy.types import CallableType, Instance, TupleType, Type, UnionType, get_proper_type

OP = "costmodel.core.ir.Op"
WIDTH_RULE = "costmodel.core.scaling.Scaled"


def _is_int(type_: Type) -> bool:
    proper = get_proper_type(type_)
    return isinstance(proper, Instance) and proper.type.fullname == "builtins.int"


def _is_pair(type_: Type) -> bool:
    proper = get_proper_type(type_)
    return isinstance(proper, TupleType) and len(proper.items) == 2 and all(_is_int(item) for item in proper.items)


def _is_width(type_: Type) -> bool:
    proper = get_proper_type(type_)
    return isinstance(proper, Instance) and proper.type.fullname == WIDTH_RULE


def _widened(type_: Type, int_type: Instance) -> Type:
    """``type_`` with ``int`` added where it holds a pair or a width rule."""
    proper = get_proper_type(type_)
    items = list(proper.items) if isinstance(proper, UnionType) else [proper]
    if any(_is_pair(item) or _is_width(item) for item in items) and not any(_is_int(item) for item in items):
        return UnionType.make_union([*items, int_type])
    return type_


class OpConstructors(Plugin):
    def get_function_signature_hook(self, fullname: str) -> "Callable[[FunctionSigContext], CallableType] | None":
        symbol = self.lookup_fully_qualified(fullname)
        if symbol is not None and isinstance(symbol.node, TypeInfo) and symbol.node.has_base(OP):
            return _widen
        return None


def _widen(ctx: FunctionSigContext) -> CallableType:
    int_type = ctx.api.named_generic_type("builtins.int", [])
    signature = ctx.default_signature
    return signature.copy_modified(arg_types=[_widened(arg, int_type) for arg in signature.arg_types])


def plugin(version: str) -> type[Plugin]:
    return OpConstructors
