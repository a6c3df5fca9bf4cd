"""The front end of every command: what a model argument names (a zoo model, a spec file or a ``Network``), and a
setting checked against what that model accepts (its width multiplier, input size, batch and options)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .errors import CostModelError
from .ir import Network
from .scaling import check_alpha, check_batch, check_depth, input_size

MODEL_KINDS = "a zoo name, a spec file, file.py:factory, package.module:factory or a Network"


def resolve_model(model: "str | Network", options: Mapping[str, Any] | None = None,
                  depth: float = 1.0) -> tuple[Network, Any]:
    """The network of a zoo name (with its ``zoo.ModelEntry``), or of a spec file or a ``Network`` (with None), at
    depth multiplier ``depth``. Options go to the zoo model or to the spec file (which takes ``num_classes``); a
    Network takes none, and is built at its depth already."""
    depth = check_depth(depth)
    if isinstance(model, Network):
        if options:
            raise CostModelError("options apply to zoo models and spec files, not to a Network")
        if depth != 1.0:
            raise CostModelError("depth applies to zoo models and spec files; a Network is built at its depth")
        return model, None
    if not isinstance(model, str):
        raise CostModelError(f"model must be {MODEL_KINDS}, got {type(model).__name__}")
    from .importer.loader import looks_like_import

    if looks_like_import(model):
        from .importer.entry import imported_entry

        entry = imported_entry(model, options, depth)
        return entry.at(entry.model.resolution), entry
    if options and ("strict" in options or "timeout" in options):   # nothing of a zoo model or spec file is
        options = {key: value for key, value in options.items()       # opaque, or runs the user's code
                   if key not in ("strict", "timeout")}
    if options and "input" in options:
        raise CostModelError("--input applies to an imported module (file.py:factory or package.module:factory); "
                             "a zoo model or spec file takes --resolution")
    zoo = _zoo()
    entry = zoo.MODELS.get(model)
    if entry is None:
        from .spec import load_spec, looks_like_spec

        if looks_like_spec(model):
            return load_spec(model, options, depth), None
        entry = zoo.get_entry(model)
    return entry.network(options, depth), entry


def is_zoo_model(name: str) -> bool:
    """Whether ``name`` is a zoo model's name."""
    return name in _zoo().MODELS


_ZOO: list[Any] = []


def _zoo() -> Any:
    """The zoo package, imported on first use (it builds every model's entry)."""
    if not _ZOO:
        from . import zoo

        _ZOO.append(zoo)
    return _ZOO[0]


def check_scales(network: Network, alpha: float) -> None:
    """A network no width of which scales with alpha (a spec whose ``width_rule`` is ``"fixed"``) refuses any alpha
    but 1, as zoo networks without a width multiplier do."""
    if alpha != 1.0 and not network.scales_with_alpha:
        raise CostModelError(f"network {network.name!r} has no width multiplier (no width scales with alpha; a spec "
                             "file's width_rule is \"fixed\"); alpha must be 1")


@dataclass(frozen=True)
class Setting:
    """A network at a checked setting: width multiplier, input (H, W) and batch; ``entry`` is its zoo entry."""

    network: Network
    alpha: float
    size: tuple[int, int]
    batch: int
    entry: Any = None


def settle(model: "str | Network", alpha: float = 1.0, rho: float | None = None,
           resolution: "int | tuple[int, int] | str | None" = None, options: Mapping[str, Any] | None = None,
           batch: int = 1, depth: float = 1.0) -> Setting:
    """The network of ``model`` at ``depth``, with alpha, the input size and the batch checked against what it
    accepts."""
    network, entry = resolve_model(model, options, depth)
    alpha = check_alpha(alpha)
    batch = check_batch(batch)
    if entry is None:
        check_scales(network, alpha)
    else:
        entry.check_alpha(alpha)
        if (rho is not None or resolution is not None) and not entry.accepts_resolution:
            raise CostModelError(f"model {network.name!r} has a fixed input size; rho and resolution are not "
                                 "accepted")
    size = input_size(network.base_resolution, rho, resolution)
    if hasattr(entry, "at"):
        network = entry.at(size)          # an imported module, mapped at the asked size
    return Setting(network, alpha, size, batch, entry)
