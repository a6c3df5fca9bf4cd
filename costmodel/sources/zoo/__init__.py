"""The zoo: every network of the papers, by name, with its description, source and options.

A zoo model is a function returning a ``Network`` (symbolic in alpha and resolution) plus a ``ModelEntry`` that says
what it is, where its architecture comes from, whether it takes a width multiplier and an input size, and which
model-specific options it has (passed as ``options={"name": value}`` to ``analyze`` or ``-O name=value`` on the
command line). Each zoo module lists its entries in ``ENTRIES``; ``MODULES`` below is the order of ``costmodel
list``.
"""
from __future__ import annotations

import difflib
import importlib

from ...core.errors import CostModelError
from .entry import ModelEntry, ModelOption  # noqa: F401  (re-exported)

MODULES = ("mobilenet_v1", "mobilenet_v2", "mobilenet_v3", "shufflenet_v1", "shufflenet_v2", "xception", "mobilenext",
           "blazeface", "fd_mobilenet", "vgg", "alexnet", "squeezenet", "googlenet", "inception_v3", "resnet", "vit",
           "mobilevit", "efficientnet", "mnasnet", "ghostnet", "mobilenet_v4",
           "efficientformer",)

MODELS: dict[str, ModelEntry] = {}


def register(entry: ModelEntry) -> None:
    if entry.name in MODELS:
        raise RuntimeError(f"duplicate zoo model {entry.name!r}")
    MODELS[entry.name] = entry


for _module in MODULES:
    for _entry in importlib.import_module(f"{__name__}.{_module}").ENTRIES:
        register(_entry)


def get_entry(name: str) -> ModelEntry:
    """The zoo entry called ``name``, or an error suggesting the closest names."""
    try:
        return MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `costmodel list` shows the zoo"
        raise CostModelError(f"unknown model {name!r}{hint}") from None
