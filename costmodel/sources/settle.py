"""The front end of every command: the network a model argument names (``sources``), and a setting checked against
what that model accepts (its width multiplier, input size, batch and options)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..core.errors import CostModelError
from ..core.ir import Network
from ..core.scaling import check_alpha, check_batch, input_size
from .setting import Setting, setting_of
from .model_source import ModelSource, model_source


def resolve_model(model: "str | Network | ModelSource", options: Mapping[str, Any] | None = None,
                  depth: float = 1.0) -> tuple[Network, Any]:
    """The network ``model`` names (``sources.model_source``) at depth multiplier ``depth`` with ``options``, and
    what the model accepts (its zoo entry, its imported entry, or None for a spec file or a ``Network``)."""
    return model_source(model).resolve(options, depth)


def check_scales(network: Network, alpha: float) -> None:
    """A network no width of which scales with alpha (a spec whose ``width_rule`` is ``"fixed"``) refuses any alpha
    but 1, as zoo networks without a width multiplier do."""
    if alpha != 1.0 and not network.scales_with_alpha:
        raise CostModelError(f"network {network.name!r} has no width multiplier (no width scales with alpha; a spec "
                             "file's width_rule is \"fixed\"); alpha must be 1")


@dataclass(frozen=True)
class Settled:
    """A ``Setting`` checked and resolved: the network at its depth and options (mapped at the asked input, for an
    imported model), the width multiplier, the input (H, W), the batch, and what the model accepts (its zoo or
    imported entry; None for a spec file or a ``Network``)."""

    setting: Setting
    network: Network
    alpha: float
    size: tuple[int, int]
    batch: int
    entry: Any = None


def settle(setting: Any, **fields: Any) -> Settled:
    """``setting`` (a ``Setting``, or a model with the setting's ``fields``: ``setting.setting_of``) checked against
    what its model accepts, and its network resolved once: alpha, the input size and the batch in range, a width
    multiplier, an input size and options the model takes."""
    setting = setting_of(setting, **fields)
    network, entry = resolve_model(setting.model, setting.options, setting.depth)
    alpha = check_alpha(setting.alpha)
    batch = check_batch(setting.batch)
    if entry is None:
        check_scales(network, alpha)
    else:
        entry.check_alpha(alpha)
        if (setting.rho is not None or setting.resolution is not None) and not entry.accepts_resolution:
            raise CostModelError(f"model {network.name!r} has a fixed input size; rho and resolution are not "
                                 "accepted")
    size = input_size(network.base_resolution, setting.rho, setting.resolution)
    if hasattr(entry, "at"):
        network = entry.at(size)          # an imported module, mapped at the asked size
    return Settled(setting, network, alpha, size, batch, entry)
