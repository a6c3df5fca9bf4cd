"""The zoo: every network of the papers, by name, with its description, source and options.

A zoo model is a function returning a ``Network`` (symbolic in alpha and resolution) plus a ``ModelEntry`` that says
what it is, where its architecture comes from, whether it takes a width multiplier and an input size, and which
model-specific options it has (passed as ``options={"name": value}`` to ``analyze`` or ``-O name=value`` on the
command line).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

from ..errors import CostModelError
from ..ir import Network
from . import mobilenet_v1 as _v1


@dataclass(frozen=True)
class ModelOption:
    """A model-specific option: its name, type, default, allowed values (empty: any of the type) and help."""

    name: str
    type: type
    default: Any
    choices: tuple[Any, ...] = ()
    help: str = ""

    def parse(self, model: str, value: Any) -> Any:
        """``value`` (a string from the command line, or a Python value) as this option's type, checked."""
        if isinstance(value, str) and self.type is not str:
            try:
                value = {"true": True, "false": False}[value.lower()] if self.type is bool else self.type(value)
            except (KeyError, ValueError):
                raise CostModelError(f"model {model!r}: option {self.name!r} must be a {self.type.__name__}, "
                                     f"got {value!r}") from None
        if not isinstance(value, self.type) or (self.type is not bool and isinstance(value, bool)):
            raise CostModelError(f"model {model!r}: option {self.name!r} must be a {self.type.__name__}, "
                                 f"got {value!r}")
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(choice) for choice in self.choices)
            raise CostModelError(f"model {model!r}: option {self.name!r} must be one of {allowed}, got {value!r}")
        return value


@dataclass(frozen=True)
class ModelEntry:
    """A zoo model: how to build it and what it accepts."""

    name: str
    build: Callable[..., Network]
    description: str
    source: str
    accepts_alpha: bool = True
    accepts_resolution: bool = True
    options: tuple[ModelOption, ...] = ()

    def network(self, options: Mapping[str, Any] | None = None) -> Network:
        """The network built with ``options`` (defaults for the rest); unknown options are refused."""
        known = {option.name: option for option in self.options}
        given = dict(options or {})
        unknown = sorted(set(given) - set(known))
        if unknown:
            offered = ", ".join(known) if known else "none"
            raise CostModelError(f"model {self.name!r} has no option {unknown[0]!r} (its options: {offered})")
        values = tuple(sorted((name, known[name].parse(self.name, value)) for name, value in given.items()))
        return _build(self, values)


@lru_cache(maxsize=256)
def _build(entry: ModelEntry, values: tuple[tuple[str, Any], ...]) -> Network:
    """Networks are immutable, so each (model, options) is built once per process."""
    return entry.build(**dict(values))


MODELS: dict[str, ModelEntry] = {}


def register(entry: ModelEntry) -> None:
    if entry.name in MODELS:
        raise RuntimeError(f"duplicate zoo model {entry.name!r}")
    MODELS[entry.name] = entry


register(ModelEntry("mobilenet_v1", _v1.mobilenet_v1,
                    "MobileNetV1: 3x3 conv + 13 depthwise separable layers, BN + ReLU, 1000 classes",
                    "Howard et al. 2017 (arXiv:1704.04861), Table 1; TF-slim mobilenet_v1.py"))
register(ModelEntry("mobilenet_v1_conv", _v1.mobilenet_v1_conv,
                    "MobileNetV1 with full 3x3 convolutions in place of the separable layers",
                    "Howard et al. 2017 (arXiv:1704.04861), Table 4"))
register(ModelEntry("mobilenet_v1_shallow", _v1.mobilenet_v1_shallow,
                    "MobileNetV1 without the five 14x14x512 separable layers",
                    "Howard et al. 2017 (arXiv:1704.04861), Table 5"))


def get_entry(name: str) -> ModelEntry:
    """The zoo entry called ``name``, or an error suggesting the closest names."""
    try:
        return MODELS[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(MODELS), n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `costmodel list` shows the zoo"
        raise CostModelError(f"unknown model {name!r}{hint}") from None


def resolve_model(model: "str | Network", options: Mapping[str, Any] | None = None) -> tuple[Network, bool, bool]:
    """(network, accepts alpha, accepts resolution) for a zoo name or a ``Network``."""
    if isinstance(model, Network):
        if options:
            raise CostModelError("options apply to zoo models only, not to a Network")
        return model, True, True
    if not isinstance(model, str):
        raise CostModelError(f"model must be a zoo name or a Network, got {type(model).__name__}")
    entry = get_entry(model)
    return entry.network(options), entry.accepts_alpha, entry.accepts_resolution
