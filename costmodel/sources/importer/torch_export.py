"""Capture a module that torch.fx cannot trace with ``torch.export`` (non-strict, then strict).

torch.fx runs ``forward`` on proxies, so a module that turns a size into a Python number (``int(c // g)``) or
branches on one does not trace. ``torch.export`` runs it on fake tensors of a concrete input size and records the
ATen ops it calls (the pre-dispatch set: ``aten.conv2d``, ``aten.batch_norm``, ``aten.linear``, ``aten.view``...,
which the importer's table maps as it maps the functions of the same names). Sizes are then those of that one input,
so the module is exported again at each asked size (about a second or more each time, where an fx trace is
walked again in milliseconds). Parameters and buffers arrive as inputs of the graph, named by the graph's
signature; each op carries the module path of the ``forward`` that called it.

A module that branches on its data (``if x.sum() > 0``) cannot be captured at all: that ends in one line naming
the module and the source line.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...core.errors import CostModelError, first_line


def export(module: nn.Module, input_size: "tuple[int, int, int]") -> "tuple[Any, str]":
    """The ExportedProgram of ``module`` on one input of ``input_size`` (C, H, W) and how it was made
    ("non-strict" or "strict"); one line naming the module and source line when neither mode captures it."""
    x = torch.zeros(1, *input_size)
    errors: list[BaseException] = []
    for strict in (False, True):
        try:
            with quiet():
                program = torch.export.export(module, (x,), strict=strict)
            return program, "strict" if strict else "non-strict"
        except Exception as error:          # export raises what the module's code raises on fake tensors
            errors.append(error)
            if _data_dependent(error):      # strict mode meets the same branch, after tracing with dynamo
                break
    raise CostModelError(f"torch.export cannot capture {type(module).__name__}: {_explain(module, errors[0])}")


@contextlib.contextmanager
def quiet() -> Any:
    """torch.export logs the graph it had when it fails, and warns freely; the user gets one line instead."""
    logger = logging.getLogger("torch")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


# torch's and costmodel's own source folders (with the separator: torchvision's is not torch's)
_OWN = (str(Path(torch.__file__).parent) + os.sep, str(Path(__file__).parents[2]) + os.sep)


def users_code(filename: str) -> bool:
    """Whether ``filename`` is the user's source (or a model zoo's), not torch's, costmodel's or generated code
    (``<string>``, fx's ``<eval_with_key>``)."""
    return not filename.startswith("<") and not filename.startswith(_OWN)


_CALL = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in \w+\n\s+(?P<code>[^\n]+)')


def _data_dependent(error: BaseException) -> bool:
    """Whether the capture stopped at a branch on a tensor's values (a detection model's post-processing)."""
    return "data-dependent" in str(error).lower() or "GuardOnDataDependent" in type(error).__name__


def _explain(module: nn.Module, error: BaseException) -> str:
    """Why the export failed, with the module and the user's source line that made it fail."""
    text = str(error)
    message = first_line(error)
    if _data_dependent(error):
        message = "its control flow depends on the values of a tensor"
    calls = [match for match in _CALL.finditer(text) if users_code(match["file"])]
    if calls:
        call = calls[-1]
        file, line, code = call["file"], int(call["line"]), call["code"].strip()
    else:
        import traceback

        frames = [frame for frame in traceback.extract_tb(error.__traceback__) if users_code(frame.filename)]
        if not frames:
            return message
        file, line, code = frames[-1].filename, frames[-1].lineno or 0, (frames[-1].line or "").strip()
    where = _module_at(module, file, line)
    return f"{message}, {'in ' + where if where else ''}at {file}:{line}: {code}"


def _module_at(module: nn.Module, file: str, line: int) -> str:
    """The module whose ``forward`` holds ``file:line`` ("module 'blocks.3' (Block) "), or ""."""
    for path, sub in module.named_modules():
        forward = type(sub).forward
        try:
            source = inspect.getsourcefile(forward)
            lines, first = inspect.getsourcelines(forward)
        except (TypeError, OSError):
            continue
        if source and Path(source).resolve() == Path(file).resolve() and first <= line < first + len(lines):
            return f"module {path or '(root)'!r} ({type(sub).__name__}) "
    return ""


def learned_inputs(program: Any) -> "dict[str, tuple[str, bool]]":
    """The graph inputs that are the module's parameters, buffers or constants: input name -> (qualified name,
    whether it is a parameter); the one input left is the image."""
    found: dict[str, tuple[str, bool]] = {}
    for spec in program.graph_signature.input_specs:
        kind = spec.kind.name
        if kind in ("PARAMETER", "BUFFER", "CONSTANT_TENSOR") and spec.target is not None:
            found[spec.arg.name] = (str(spec.target), kind == "PARAMETER")
    return found
