"""One setting: the model and everything its costs depend on, passed as one value from the command line and the
Python API to every analysis, report, comparison, verification and measurement.

``Setting`` holds what was asked for, unchecked (a model argument, alpha, depth, rho or a resolution, a batch, the
model's options, the fused view, the FLOP convention, the element type); ``settle.settle`` checks it against what the
model accepts and resolves the network once (``settle.Settled``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..core.conventions import DEFAULT_CONVENTION
from ..core.errors import CostModelError
from ..engine.analysis import DEFAULT_DTYPE

FIELDS = ("alpha", "depth", "rho", "resolution", "batch", "options", "fused", "convention", "dtype")


@dataclass(frozen=True)
class Setting:
    """A model and where it is counted.

    :param model: a zoo name, a spec file, ``file.py:factory``, ``package.module:factory``, a ``.onnx`` or ``.pt2``
        file, a ``Network``, or a ``sources.ModelSource``.
    :param alpha: the width multiplier.
    :param depth: the depth multiplier (each repeated stage keeps ``ceil(depth x n)`` of its n blocks).
    :param rho: the resolution multiplier of the network's base input (or None).
    :param resolution: the input in pixels, an int, (H, W) or ``"HxW"`` (or None: the base input, scaled by rho).
    :param batch: images per batch.
    :param options: the model's own options (``costmodel list``), and for an imported module ``input``, ``strict``
        and ``timeout``.
    :param fused: the fused inference view (``fusion.fuse``).
    :param convention: what FLOPs count (``conventions.CONVENTIONS``).
    :param dtype: the element type memory is counted in.
    """

    model: Any
    alpha: float = 1.0
    depth: float = 1.0
    rho: "float | None" = None
    resolution: Any = None
    batch: int = 1
    options: Mapping[str, Any] = field(default_factory=dict)
    fused: bool = False
    convention: str = DEFAULT_CONVENTION
    dtype: str = DEFAULT_DTYPE

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", dict(self.options or {}))

    def but(self, **changes: Any) -> "Setting":
        """This setting with some fields changed.

        :param changes: field names as keywords, with their new values.
        :returns: a new ``Setting``."""
        return dataclasses.replace(self, **changes)

    @property
    def source(self) -> Any:
        """What the model argument names (``sources.ModelSource``)."""
        from .model_source import model_source

        return model_source(self.model)


def setting_of(model: Any, **fields: Any) -> Setting:
    """A model, or a setting, as a ``Setting``.

    :param model: a ``Setting`` (kept, with ``fields`` changed), or a model argument.
    :param fields: the names of ``Setting``'s fields as keywords; a field given as None is not given.
    :returns: the ``Setting``.
    :raises CostModelError: for a keyword that is not a field."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise CostModelError(f"unknown setting {unknown[0]!r}; known: {', '.join(FIELDS)}")
    given = {name: value for name, value in fields.items() if value is not None}
    if isinstance(model, Setting):
        return model.but(**given) if given else model
    return Setting(model, **given)
