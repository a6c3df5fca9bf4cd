"""``analyze``: resolve the model (a zoo name, a spec file or a ``Network``: ``settle``), count it at one setting
(``counting``), and return the result (``engine.analysis.Analysis``)."""
from __future__ import annotations

from typing import Any, Mapping

from ..core.conventions import CONVENTIONS
from ..engine.counting import count
from ..core.errors import CostModelError
from ..core.ir import Network
from .settle import Settled, settle
from ..engine.passes import infer_shapes, network_input_shape
from ..engine.analysis import DTYPE_BYTES, Analysis, LayerCost
from .setting import Setting, setting_of
from ..core.shapes import NodeShapes, Shape

__all__ = ["Analysis", "LayerCost", "Setting", "Settled", "analyze", "analyze_settled", "fused_view", "resolve",
           "settle"]


def _check(convention: str, dtype: str) -> None:
    if convention not in CONVENTIONS:
        raise CostModelError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")


def analyze(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
            resolution: "int | tuple[int, int] | str | None" = None, *, batch: "int | None" = None,
            convention: "str | None" = None, dtype: "str | None" = None,
            options: "Mapping[str, Any] | None" = None, depth: "float | None" = None,
            fused: "bool | None" = None) -> Analysis:
    """Every cost of a model at one setting: ``model_or_setting`` is a ``Setting``, or a model (a zoo name, a spec
    file, an imported module or file, or a ``Network``) with the setting's fields as arguments: width multiplier
    ``alpha``, an input scaled by ``rho`` from the network's base resolution or of ``resolution`` pixels (an int,
    (H, W) or ``"HxW"``), ``batch`` images, depth multiplier ``depth`` (a zoo model with repeated stages, or a spec
    file's blocks), the model's own ``options`` (see ``costmodel list``; every model with a classifier takes
    ``num_classes``), the fused inference view (``fused``: ``fusion.fuse``, BatchNorm folded, activations and residual
    adds fused into the kernels before them), what FLOPs count (``convention``) and the element type (``dtype``).
    Raises ``CostModelError`` on bad input.
    """
    setting = setting_of(model_or_setting, alpha=alpha, rho=rho, resolution=resolution, batch=batch,
                         convention=convention, dtype=dtype, options=options, depth=depth, fused=fused)
    _check(setting.convention, setting.dtype)
    return analyze_settled(settle(setting))


def analyze_settled(settled: Settled) -> Analysis:
    """Every cost of a setting already checked and resolved (``settle.settle``)."""
    setting, network = settled.setting, settled.network
    if setting.fused:
        from ..engine.fusion import fuse

        network = fuse(network)
    try:
        counts = count(network, settled.alpha, settled.size, settled.batch, setting.convention)
    except CostModelError as error:
        raise network.locate(error) from None
    return Analysis(model=network.name, alpha=settled.alpha, input_shape=Shape("NCHW", counts.input),
                    convention=setting.convention, dtype=setting.dtype, counts=counts, network=network,
                    fused=setting.fused)


def fused_view(result: Analysis) -> Analysis:
    """``result`` as an inference engine runs it (``fusion.fuse``: BatchNorm folded, activations and residual adds
    fused into the kernels before them), at the same setting; ``result`` itself when it is that view already."""
    if result.fused:
        return result
    return analyze(result.network, alpha=result.alpha, resolution=result.resolution, batch=result.batch,
                   convention=result.convention, dtype=result.dtype, fused=True)


def resolve(setting: Any, **fields: Any) -> tuple[Network, float, Shape, tuple[NodeShapes, ...]]:
    """``settle`` (a ``Setting``, or a model with the setting's ``fields``), then the input shape and every node's
    shapes (for the torch lowering)."""
    settled = settle(setting, **fields)
    network = settled.network
    try:
        shapes = infer_shapes(network, settled.alpha, settled.size, settled.batch)
    except CostModelError as error:
        raise network.locate(error) from None
    return network, settled.alpha, network_input_shape(network, settled.alpha, settled.size, settled.batch), shapes
