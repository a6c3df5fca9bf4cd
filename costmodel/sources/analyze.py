"""``analyze``: resolve the model (a zoo name, a spec file or a ``Network``: ``settle``), count it at one setting
(``counting``), and return the result (``engine.analysis.Analysis``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Literal, Mapping, overload

from ..core.conventions import CONVENTIONS
from ..engine.counting import count
from ..core.errors import CostModelError
from ..core.ir import Network
from .settle import Settled, settle
from ..engine.passes import infer_shapes, network_input_shape
from ..engine.analysis import DTYPE_BYTES, Analysis, LayerCost
from .setting import Setting, setting_of
from ..core.shapes import NodeShapes, Shape

if TYPE_CHECKING:
    from ..engine.training import Training

__all__ = ["Analysis", "LayerCost", "Setting", "Settled", "analyze", "analyze_settled", "fused_view", "resolve",
           "settle"]


def _check(convention: str, dtype: str) -> None:
    if convention not in CONVENTIONS:
        raise CostModelError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")


def is_torch_module(model: Any) -> bool:
    """Whether ``model`` is a torch ``nn.Module`` (told by its classes, without importing torch)."""
    return any(cls.__name__ == "Module" and cls.__module__.startswith("torch.nn") for cls in type(model).__mro__)


def _module_network(module: Any, input_size: Any, resolution: Any) -> tuple[Any, "int | None"]:
    """The ``Network`` of a torch module for an input of ``input_size`` ((C, H, W) or (N, C, H, W)) or 3 channels
    at ``resolution``, and the batch ``input_size`` gives (None: not given)."""
    from ..core.errors import ParameterError, param
    from .importer import from_torch

    batch = None
    if input_size is None:
        size = resolution if resolution is not None else 224
        sizes = size if isinstance(size, (tuple, list)) else (size, size)
        shape: tuple[int, ...] = (3, *sizes)
    else:
        if not isinstance(input_size, (tuple, list)) or len(input_size) not in (3, 4) or \
                any(isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in input_size):
            raise ParameterError(param("input_size"), " must be (C, H, W) or (N, C, H, W) in positive integers, got ",
                                 repr(input_size))
        if resolution is not None:
            raise ParameterError("give ", param("input_size"), " or ", param("resolution"), ", not both")
        if len(input_size) == 4:
            batch = input_size[0]
        shape = tuple(input_size[-3:])
    return from_torch(module, shape), batch


@overload
def analyze(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
            resolution: "int | tuple[int, int] | str | None" = None, *, batch: "int | None" = None,
            convention: "str | None" = None, dtype: "str | None" = None,
            options: "Mapping[str, Any] | None" = None, depth: "float | None" = None,
            fused: "bool | None" = None, input_size: "tuple[int, ...] | None" = None,
            training: Literal[False] = False, optimizer: str = "sgd", frozen: Iterable[str] = (),
            checkpoint: Iterable[str] = ()) -> Analysis: ...


@overload
def analyze(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
            resolution: "int | tuple[int, int] | str | None" = None, *, batch: "int | None" = None,
            convention: "str | None" = None, dtype: "str | None" = None,
            options: "Mapping[str, Any] | None" = None, depth: "float | None" = None,
            fused: "bool | None" = None, input_size: "tuple[int, ...] | None" = None,
            training: Literal[True], optimizer: str = "sgd", frozen: Iterable[str] = (),
            checkpoint: Iterable[str] = ()) -> Training: ...


def analyze(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
            resolution: "int | tuple[int, int] | str | None" = None, *, batch: "int | None" = None,
            convention: "str | None" = None, dtype: "str | None" = None,
            options: "Mapping[str, Any] | None" = None, depth: "float | None" = None,
            fused: "bool | None" = None, input_size: "tuple[int, ...] | None" = None,
            training: bool = False, optimizer: str = "sgd", frozen: Iterable[str] = (),
            checkpoint: Iterable[str] = ()) -> "Analysis | Training":
    """Every cost of a model at one setting; with ``training``, the cost of a training step there.

        >>> costmodel.analyze(torchvision.models.mobilenet_v2(), input_size=(1, 3, 224, 224))   # doctest: +SKIP

    :param model_or_setting: a ``Setting``, or a model: a zoo name, a spec file, ``file.py:factory``,
        ``package.module:factory``, a ``.onnx`` or ``.pt2`` file, a ``Network``, or a torch ``nn.Module`` (imported
        with ``from_torch``; the setting's fields then come from the other arguments; None means "not given": the
        setting's default).
    :param alpha: the width multiplier.
    :param rho: the resolution multiplier of the network's base input.
    :param resolution: the input in pixels instead: an int, (H, W) or ``"HxW"``.
    :param batch: images per batch.
    :param convention: what FLOPs count (``conventions.CONVENTIONS``).
    :param dtype: the element type bytes are counted in.
    :param options: the model's own options (``costmodel list``; every model with a classifier takes
        ``num_classes``).
    :param depth: the depth multiplier (a zoo model with repeated stages, or a spec file's blocks).
    :param fused: the fused inference view (``fusion.fuse``: BatchNorm folded, activations and residual adds fused
        into the kernels before them).
    :param input_size: a torch module's input, (C, H, W) or with the batch first (N, C, H, W), as torchinfo takes
        it (default: 3 channels at ``resolution``, or 3 x 224 x 224).
    :param training: the cost of one training step instead (``engine.training``): forward and backward mult-adds
        and FLOPs, the activations saved for the backward, gradient and optimizer memory, the peak.
    :param optimizer: with ``training``: ``sgd``, ``momentum``, ``adam`` or ``adamw``.
    :param frozen: with ``training``: node names (or dotted prefixes) whose parameters are not trained.
    :param checkpoint: with ``training``: segments (dotted prefixes) recomputed in the backward instead of kept.
    :returns: the ``Analysis``: per-layer rows, totals and the per-kind roll-up, exact integers; with ``training``
        the ``engine.training.Training``.
    :raises CostModelError: one line, on bad input."""
    if is_torch_module(model_or_setting):
        model_or_setting, given_batch = _module_network(model_or_setting, input_size, resolution)
        resolution = None
        batch = batch if batch is not None else given_batch
    elif input_size is not None:
        from ..core.errors import ParameterError, param

        raise ParameterError(param("input_size"), " is a torch module's input; give a zoo model or a file its ",
                             param("resolution"), " (an imported module's input is the ", param("input"),
                             " option)")
    setting = setting_of(model_or_setting, alpha=alpha, rho=rho, resolution=resolution, batch=batch,
                         convention=convention, dtype=dtype, options=options, depth=depth, fused=fused)
    _check(setting.convention, setting.dtype)
    if not training:
        if optimizer != "sgd" or tuple(frozen) or tuple(checkpoint):
            from ..core.errors import ParameterError, param

            raise ParameterError(param("optimizer"), ", ", param("frozen"), " and ", param("checkpoint"),
                                 " cost a training step: give ", param("training"), " too")
        return analyze_settled(settle(setting))
    from ..engine.training import training as training_step

    return training_step(analyze_settled(settle(setting)), optimizer, frozen, checkpoint=checkpoint)


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
    """An analysis as an inference engine runs it, at the same setting.

    :param result: an ``Analysis``.
    :returns: the analysis of the fused view (``fusion.fuse``: BatchNorm folded, activations and residual adds fused
        into the kernels before them); ``result`` itself when it is that view already."""
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
