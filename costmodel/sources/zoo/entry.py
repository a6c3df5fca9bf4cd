"""What the zoo knows of a model: how to build it, what it accepts, and its options."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

from ...core.errors import CostModelError
from ...core.ir import Network


@dataclass(frozen=True)
class ModelOption:
    """A model-specific option: its name, type, default, allowed values (empty: any of the type) and help."""

    name: str
    type: type
    default: Any
    choices: tuple[Any, ...] = ()
    help: str = ""
    minimum: Any = None

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
        if self.minimum is not None and value < self.minimum:
            raise CostModelError(f"model {model!r}: option {self.name!r} must be at least {self.minimum}, "
                                 f"got {value!r}")
        return value


MAX_CLASSES = 1_000_000
NUM_CLASSES = ModelOption("num_classes", int, 1000, help="classes of the classifier (the one layer it changes)",
                          minimum=1)


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
    alpha_choices: tuple[float, ...] = ()     # when the paper tabulates a few widths instead of a rule
    classifier: bool = True                   # ends in a classifier, so takes ``num_classes``
    accepts_depth: bool = False               # has repeated stages; its builder takes ``depth``
    published_depth: bool = False             # its family published depth scaling (fit searches depth unasked)

    @property
    def all_options(self) -> tuple[ModelOption, ...]:
        """The model's own options, and ``num_classes`` for a model with a classifier."""
        return self.options + ((NUM_CLASSES,) if self.classifier else ())

    def check_alpha(self, alpha: float) -> None:
        """Refuse an alpha this model does not have, naming the ones it does."""
        if not self.accepts_alpha and alpha != 1.0:
            raise CostModelError(f"model {self.name!r} has no width multiplier; alpha must be 1")
        if self.alpha_choices and alpha not in self.alpha_choices:
            allowed = ", ".join(f"{choice:g}" for choice in self.alpha_choices)
            raise CostModelError(f"model {self.name!r} comes in alpha {allowed} only, got {alpha:g}")

    def check_depth(self, depth: float) -> None:
        if depth != 1.0 and not self.accepts_depth:
            raise CostModelError(f"model {self.name!r} has no repeated stages to scale; depth must be 1")

    def network(self, options: Mapping[str, Any] | None = None, depth: float = 1.0) -> Network:
        """The network built with ``options`` (defaults for the rest) at depth multiplier ``depth``; unknown
        options are refused."""
        self.check_depth(depth)
        known = {option.name: option for option in self.all_options}
        given = dict(options or {})
        if NUM_CLASSES.name in given and not self.classifier:
            raise CostModelError(f"model {self.name!r} has no classifier; option {NUM_CLASSES.name!r} does not apply")
        unknown = sorted(set(given) - set(known))
        if unknown:
            offered = ", ".join(known) if known else "none"
            raise CostModelError(f"model {self.name!r} has no option {unknown[0]!r} (its options: {offered})")
        values = tuple(sorted((name, known[name].parse(self.name, value)) for name, value in given.items()))
        if any(name == NUM_CLASSES.name and value > MAX_CLASSES for name, value in values):
            raise CostModelError(f"model {self.name!r}: option {NUM_CLASSES.name!r} must be at most "
                                 f"{MAX_CLASSES:,}")
        return _build(self, values, depth)


@lru_cache(maxsize=256)
def _build(entry: ModelEntry, values: tuple[tuple[str, Any], ...], depth: float) -> Network:
    """Networks are immutable, so each (model, options, depth) is built once per process."""
    if entry.accepts_depth:
        network = entry.build(**dict(values), depth=depth)
        if network.depth != depth:
            raise RuntimeError(f"zoo model {entry.name!r} did not record its depth")
        return network
    return entry.build(**dict(values))
