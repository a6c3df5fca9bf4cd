"""What an imported model argument names: ``path/to/file.py:factory`` or ``package.module:factory``, with keyword
arguments for the factory after a third colon (``net.py:build:num_classes=100,width=0.5``) or as ``-O key=value``;
or a saved graph, ``model.pt2`` (``torch.export.save``) or ``model.onnx``.

``looks_like_import`` is torch-free (the start-up path); ``load_module`` runs the user's factory, which imports
torch.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import re
import sys
from pathlib import Path
from typing import Any, Mapping

from ...core.errors import CostModelError, first_line, shorten

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


SAVED_SUFFIXES = (".pt2", ".onnx")          # a saved torch.export program, an ONNX graph


def looks_like_import(model: str) -> bool:
    """``file.py:callable`` or ``package.module:callable`` (with optional ``:k=v,...``), or a ``.pt2`` or ``.onnx``
    file."""
    if model.lower().endswith(SAVED_SUFFIXES):
        return True
    source, sep, rest = model.partition(":")
    if not sep or not rest:
        return False
    factory = rest.split(":", 1)[0]
    if not _DOTTED.match(factory):
        return False
    return source.endswith(".py") or bool(_DOTTED.match(source))


def parse(model: str) -> tuple[str, str, dict[str, Any]]:
    """(source, factory, keyword arguments) of an import argument."""
    source, _, rest = model.partition(":")
    factory, _, arguments = rest.partition(":")
    return source, factory, parse_arguments(arguments.split(",") if arguments else [], model)


def convert(value: str) -> Any:
    """A keyword argument's value: a Python literal where it is one (``100``, ``0.5``, ``True``, ``(1, 2)``),
    else the string."""
    try:
        return ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return value


def parse_arguments(pairs: "list[str]", where: str) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.isidentifier():
            raise CostModelError(f"{shorten(where)}: factory argument {pair!r} must be written name=value")
        arguments[name] = convert(value)
    return arguments


def load_factory(source: str, factory: str) -> Any:
    """The callable ``factory`` of a Python file or an importable module."""
    if source.endswith(".py"):
        path = Path(source)
        if not path.is_file():
            raise CostModelError(f"{shorten(source)}: no such file")
        name = f"costmodel_user_{abs(hash(str(path.resolve())))}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise CostModelError(f"{shorten(source)}: cannot be loaded as Python")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        directory = str(path.resolve().parent)
        sys.path.insert(0, directory)          # the file's own imports of its neighbours
        try:
            spec.loader.exec_module(module)
        except BaseException as error:
            sys.modules.pop(name, None)
            if not isinstance(error, Exception):       # sys.exit, a signal, a time limit: user_code.running's
                raise
            raise CostModelError(f"{shorten(source)} fails on import: {first_line(error)}") from None
        finally:
            if directory in sys.path:
                sys.path.remove(directory)
    else:
        try:
            module = importlib.import_module(source)
        except ImportError as error:
            raise CostModelError(f"cannot import {shorten(source)}: {first_line(error)}") from None
        except Exception as error:
            raise CostModelError(f"{shorten(source)} fails on import: {first_line(error)}") from None
    target: Any = module
    for part in factory.split("."):
        if not hasattr(target, part):
            raise CostModelError(f"{shorten(source)} has no {factory!r}")
        target = getattr(target, part)
    return target


def load_module(model: str, options: "Mapping[str, Any] | None" = None) -> Any:
    """The ``nn.Module`` the factory of ``model`` returns, called with its keyword arguments."""
    source, factory, arguments = parse(model)
    for name, value in (options or {}).items():
        arguments[name] = convert(value) if isinstance(value, str) else value
    target = load_factory(source, factory)
    try:
        import torch.nn as nn
    except ImportError:
        raise CostModelError("importing a torch module needs torch: pip install torch==2.13.0 "
                             "'costmodel[torch]'") from None
    if isinstance(target, nn.Module):
        if arguments:
            raise CostModelError(f"{factory} is a module instance; it takes no arguments")
        return target
    if not callable(target):
        raise CostModelError(f"{factory} in {shorten(source)} is not callable")
    try:
        module = target(**arguments)
    except Exception as error:
        raise CostModelError(f"{factory}({', '.join(f'{k}={v!r}' for k, v in arguments.items())}) fails: "
                             f"{first_line(error)}") from None
    if isinstance(module, (tuple, list)) and module and isinstance(module[0], nn.Module):
        module = module[0]
    if not isinstance(module, nn.Module):
        raise CostModelError(f"{factory} returns {type(module).__name__}, not an nn.Module")
    return module
