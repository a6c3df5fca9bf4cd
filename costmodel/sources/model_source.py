"""What a MODEL argument names, decided once (``model_source``): a zoo name, a spec file, a ``Network``, an imported
module (``file.py:factory``, ``package.module:factory``), an ONNX file or a saved ``torch.export`` program (``.pt2``).

Every command and the Python API ask the source instead of looking at the string again: how to build the network at
a depth and with options (``ModelSource.resolve``), which files it reads (``files``: an output must never replace
one), whether it runs the user's own code (``runs_code``: it then runs under a time limit), and which torch module
the reference tools count (``kind``: verify, bench and the report's cross-check lower a zoo or spec network, run an
imported module or a saved program as it is, and refuse an ONNX graph).

Nothing here imports torch, onnx or the zoo until a network is asked for: deciding what an argument names is on the
start-up path of ``costmodel table``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Mapping

from ..core.errors import CostModelError, ParameterError, param
from ..core.ir import Network

ZOO, SPEC, NETWORK, MODULE, ONNX, PROGRAM = "zoo", "spec", "network", "module", "onnx", "program"
MODEL_KINDS = "a zoo name, a spec file, file.py:factory, package.module:factory or a Network"


@dataclass(frozen=True)
class ModelSource:
    """A MODEL argument and what it names (``kind``: ``ZOO``, ``SPEC``, ``NETWORK``, ``MODULE``, ``ONNX`` or
    ``PROGRAM``)."""

    argument: "str | Network"
    kind: str

    @property
    def imported(self) -> bool:
        """A model as it is (a torch module, an ONNX graph, a saved program), mapped onto costmodel's ops."""
        return self.kind in (MODULE, ONNX, PROGRAM)

    @property
    def runs_code(self) -> bool:
        """Whether building the network runs the user's own code (an imported module's import, factory and
        trace); no file costmodel reads does."""
        return self.kind == MODULE

    @property
    def files(self) -> tuple[str, ...]:
        """The files the source reads (a spec, an ONNX or ``.pt2`` file, a ``file.py`` factory's file)."""
        if self.kind in (SPEC, ONNX, PROGRAM):
            return (str(self.argument),)
        if self.kind == MODULE:
            head = str(self.argument).split(":", 1)[0]
            return (head,) if head.endswith(".py") else ()
        return ()

    def resolve(self, options: "Mapping[str, Any] | None" = None, depth: float = 1.0) -> "tuple[Network, Any]":
        """The network and what the model accepts.

        :param options: the model's own options.
        :param depth: the depth multiplier.
        :returns: (the network, what the model accepts): a zoo entry (``zoo.ModelEntry``), an imported entry
            (``importer.entry.ImportedEntry``, which also maps the model at each asked size), or None (a spec file, a
            ``Network``)."""
        from ..core.scaling import check_depth

        depth = check_depth(depth)
        if self.kind == NETWORK:
            if options:
                raise CostModelError("options apply to zoo models and spec files, not to a Network")
            if depth != 1.0:
                raise CostModelError("depth applies to zoo models and spec files; a Network is built at its depth")
            return self.argument, None                   # type: ignore[return-value]
        if self.imported:
            entry = self.imported_entry(options, depth)
            return entry.at(entry.model.resolution), entry
        options = _without_import_options(options)
        if self.kind == SPEC:
            from .spec import load_spec

            return load_spec(str(self.argument), options, depth), None
        entry = _zoo().get_entry(str(self.argument))
        return entry.network(options, depth), entry

    def network(self, setting: Any) -> Network:
        """The network a setting counts: the model at the setting's options and depth multiplier. (A network is
        symbolic in alpha and the input size, which the counting passes take; ``settle.settle`` checks them against
        what the model accepts.)

        :param setting: a ``Setting`` (its model is taken to be this one).
        :returns: the ``Network``."""
        return self.resolve(setting.options, setting.depth)[0]

    def torch_module(self, setting: Any) -> Any:
        """The model's own torch module, where it has one.

        :param setting: a ``Setting``: its ``options`` load the module.
        :returns: an imported module (``file.py:factory``, ``package.module:factory``) or a ``.pt2`` program's module;
            None for a zoo model, a spec file or a ``Network``, which are networks (``lowering.to_torch`` makes their
            torch modules), and for an ONNX graph, which has no torch module."""
        if self.kind not in (MODULE, PROGRAM):
            return None
        return self.imported_entry(setting.options, setting.depth).model.module

    def imported_entry(self, options: "Mapping[str, Any] | None" = None, depth: float = 1.0) -> Any:
        """The imported model's entry, loaded and captured once per argument and options.

        :param options: the model's options (``input``, ``strict``, ``timeout`` and the factory's own).
        :param depth: the depth multiplier (an imported model takes 1 only).
        :returns: the ``importer.entry.ImportedEntry``.
        :raises CostModelError: for a source that is not an imported model, or a depth other than 1."""
        if not self.imported:
            raise CostModelError(f"{self.argument} is not an imported model")
        from .importer.entry import imported_entry

        return imported_entry(str(self.argument), options, depth)


def _without_import_options(options: "Mapping[str, Any] | None") -> "Mapping[str, Any] | None":
    """The options of a zoo model or spec file: ``strict`` and ``timeout`` concern imported models only (nothing of
    a zoo model or spec file is opaque, or runs the user's code); ``input`` is refused with what to give instead."""
    if options and ("strict" in options or "timeout" in options):
        options = {key: value for key, value in options.items() if key not in ("strict", "timeout")}
    if options and "input" in options:
        raise ParameterError(param("input"), " applies to an imported module (file.py:factory or "
                             "package.module:factory); a zoo model or spec file takes ", param("resolution"))
    return options


def model_source(model: "str | Network | ModelSource") -> ModelSource:
    """What ``model`` names. A string is, in this order: an ONNX or ``.pt2`` file (by its suffix), a ``file.py:factory``
    or ``package.module:factory``, a zoo name, a spec file (a spec file's suffix, a path separator, or an existing
    path); anything else is an unknown zoo name (the error suggests the closest).

    :param model: a MODEL argument, a ``Network`` or a ``ModelSource`` (returned as it is).
    :returns: the ``ModelSource``.
    :raises CostModelError: one line, for an unknown name."""
    if isinstance(model, ModelSource):
        return model
    if isinstance(model, Network):
        return ModelSource(model, NETWORK)
    if not isinstance(model, str):
        raise CostModelError(f"model must be {MODEL_KINDS}, got {type(model).__name__}")
    from .importer.loader import looks_like_import

    lower = model.lower()
    if lower.endswith(".onnx"):
        return ModelSource(model, ONNX)
    if lower.endswith(".pt2"):
        return ModelSource(model, PROGRAM)
    if lower.endswith(".py"):            # a Python file names no network until a factory in it is named
        raise CostModelError(f"{model}: a Python file needs the function that builds the model after a colon: "
                             f"{model}:build (a function returning an nn.Module: costmodel imports the file and "
                             "calls it)")
    if looks_like_import(model):
        return ModelSource(model, MODULE)
    if model in _zoo().MODELS:
        return ModelSource(model, ZOO)
    from .spec import looks_like_spec

    if looks_like_spec(model):
        return ModelSource(model, SPEC)
    _zoo().get_entry(model)               # raises: an unknown model, with the closest names
    raise AssertionError("unreachable")


def split_settings(text: str) -> "tuple[str, str]":
    """``MODEL[:key=value,...]`` (compare's argument) as (MODEL, the settings after it): a ``file.py:factory`` or
    ``package.module:factory`` keeps its factory; a zoo name, spec file, ONNX or ``.pt2`` file ends at the first
    colon."""
    from .importer.loader import looks_like_import

    model, _, rest = text.partition(":")
    if rest and not model.lower().endswith((".onnx", ".pt2")) and model not in _zoo().MODELS and \
            looks_like_import(text):
        factory, _, rest = rest.partition(":")
        model = f"{model}:{factory}"
    return model, rest


def input_files(*models: "str | None") -> list[str]:
    """The existing files the MODEL arguments (compare's ``MODEL:key=value`` too) read."""
    found = []
    for model in models:
        if not model:
            continue
        try:
            files = model_source(split_settings(model)[0]).files
        except CostModelError:                # an unknown name: it reads no file
            continue
        found += [path for path in files if os.path.exists(path)]
    return found


def _zoo() -> Any:
    """The zoo package, imported on first use (it builds every model's entry; Python keeps it after that)."""
    from . import zoo

    return zoo
