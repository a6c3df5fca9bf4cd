"""``analyze``: resolve the model (a zoo name, a spec file or a ``Network``: ``models``), count it at one setting
(``counting``), and return the result (``results.Analysis``)."""
from __future__ import annotations

from typing import Any, Mapping

from .conventions import CONVENTIONS, DEFAULT_CONVENTION
from .counting import count
from .errors import CostModelError
from .ir import Network
from .models import Setting, settle
from .passes import infer_shapes, network_input_shape
from .results import DEFAULT_DTYPE, DTYPE_BYTES, Analysis, LayerCost
from .shapes import NodeShapes, Shape

__all__ = ["Analysis", "LayerCost", "Setting", "analyze", "resolve", "settle"]


def _check(convention: str, dtype: str) -> None:
    if convention not in CONVENTIONS:
        raise CostModelError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")


def analyze(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
            resolution: "int | tuple[int, int] | str | None" = None, *, batch: int = 1,
            convention: str = DEFAULT_CONVENTION, dtype: str = DEFAULT_DTYPE,
            options: Mapping[str, Any] | None = None, depth: float = 1.0, fused: bool = False) -> Analysis:
    """Every cost of ``model_or_network`` (a zoo name, a spec file or a ``Network``) at width multiplier ``alpha``
    and an input scaled by ``rho`` from the network's base resolution, or of ``resolution`` pixels (an int, (H, W)
    or ``"HxW"``), for ``batch`` images; a zoo model with repeated stages (or a spec file's blocks) at depth
    multiplier ``depth``. ``fused``: the fused inference view (``fusion.fuse``: BatchNorm folded, activations and
    residual adds fused into the kernels before them).

    ``options`` are the model's own options (see ``costmodel list``; every model with a classifier takes
    ``num_classes``). Raises ``CostModelError`` on bad input.
    """
    _check(convention, dtype)
    setting = settle(model_or_network, alpha, rho, resolution, options, batch, depth)
    network = setting.network
    if fused:
        from .fusion import fuse

        network = fuse(network)
    try:
        counts = count(network, setting.alpha, setting.size, setting.batch, convention)
    except CostModelError as error:
        raise network.locate(error) from None
    return Analysis(model=network.name, alpha=setting.alpha,
                    input_shape=Shape("NCHW", counts.input), convention=convention, dtype=dtype,
                    counts=counts, network=network, fused=fused)


def resolve(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
            resolution: "int | tuple[int, int] | str | None" = None, options: Mapping[str, Any] | None = None,
            batch: int = 1, depth: float = 1.0) -> tuple[Network, float, Shape, tuple[NodeShapes, ...]]:
    """``settle``, then the input shape and every node's shapes (for the torch lowering)."""
    setting = settle(model_or_network, alpha, rho, resolution, options, batch, depth)
    network = setting.network
    try:
        shapes = infer_shapes(network, setting.alpha, setting.size, setting.batch)
    except CostModelError as error:
        raise network.locate(error) from None
    return network, setting.alpha, network_input_shape(network, setting.alpha, setting.size, setting.batch), shapes
