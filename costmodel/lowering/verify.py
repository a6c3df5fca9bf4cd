"""``costmodel verify``: costmodel's counts against fvcore's (or torch's FlopCounterMode's) on the lowered module.

The network is lowered to torch (``lowering.to_torch``), run once in eval mode on a batch-1 input, and counted by the
reference tool per module. costmodel's passes count the same network under the reference's convention
(``conventions``: fvcore counts conv and linear multiply-accumulates, BatchNorm 2 per element, adaptive average
pooling 1 per input element; FlopCounterMode 2 per multiply-accumulate of conv and linear), and every node's
FLOPs and parameters are compared with the reference's count for the module of the same name. Parameters are
``sum(p.numel())`` per module (fvcore's ``parameter_count``).
"""
from __future__ import annotations

import logging
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from ..sources.analyze import Analysis, analyze
from ..core.errors import CostModelError, first_line
from ..core.fileio import available_memory
from ..sources.setting import Setting, setting_of
from ..sources.model_source import ONNX

REFERENCES = {"fvcore": "fvcore", "flopcounter": "flop_counter"}   # --against -> costmodel convention


@dataclass(frozen=True)
class LayerCheck:
    """One node: costmodel's FLOPs and params beside the reference's for the module of the same name."""

    name: str
    kind: str
    flops: int
    reference_flops: int
    params: int
    reference_params: int

    @property
    def agrees(self) -> bool:
        return self.flops == self.reference_flops and self.params == self.reference_params


@dataclass(frozen=True)
class Verification:
    """The comparison of one network at one setting."""

    model: str
    alpha: float
    resolution: tuple[int, int]
    against: str
    layers: tuple[LayerCheck, ...]
    total_flops: int
    reference_total_flops: int
    total_params: int
    reference_total_params: int
    uncounted_ops: Mapping[str, int] = field(default_factory=dict)   # ops the reference skips, with call counts

    @property
    def agrees(self) -> bool:
        return (all(layer.agrees for layer in self.layers) and self.total_flops == self.reference_total_flops
                and self.total_params == self.reference_total_params)

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON holds it.

        :returns: the document of ``costmodel verify --format json``."""
        height, width = self.resolution
        return {
            "model": self.model, "alpha": self.alpha, "resolution": height if height == width else [height, width],
            "against": self.against, "agrees": self.agrees,
            "totals": {"flops": self.total_flops, "reference_flops": self.reference_total_flops,
                       "params": self.total_params, "reference_params": self.reference_total_params},
            "layers": [{"name": layer.name, "kind": layer.kind, "flops": layer.flops,
                        "reference_flops": layer.reference_flops, "params": layer.params,
                        "reference_params": layer.reference_params, "agrees": layer.agrees}
                       for layer in self.layers],
            "uncounted_ops": dict(sorted(self.uncounted_ops.items())),
        }

    def to_frame(self) -> Any:
        """The comparison as a table.

        :returns: a pandas DataFrame, a row per layer: name, kind, flops, reference_flops, params, reference_params,
            agrees."""
        import pandas

        return pandas.DataFrame(self.to_dict()["layers"])


@contextmanager
def quiet_reference_tools() -> Iterator[None]:
    """fvcore's import warns about ``torch.jit.script`` and its analysis logs unsupported ops and tracer
    warnings; costmodel prints its own report instead."""
    logger = logging.getLogger("fvcore")
    level = logger.level
    logger.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*torch.jit.script.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", module="torch.jit")
        try:
            yield
        finally:
            logger.setLevel(level)


def _reference_counts(module: Any, against: str, x: Any = None
                      ) -> tuple[dict[str, int], int, dict[str, int], dict[str, int]]:
    """(flops by module name, total flops, params by module name, uncounted ops) from the reference tool, on
    ``x`` (default: the lowered module's example input). FlopCounterMode's names lose the root's class name; the
    root is ""."""
    import torch

    x = module.example_input() if x is None else x
    with quiet_reference_tools():
        from fvcore.nn import FlopCountAnalysis, parameter_count

        params = dict(parameter_count(module))
        if against == "fvcore":
            analysis = (FlopCountAnalysis(module, x).unsupported_ops_warnings(False)
                        .uncalled_modules_warnings(False).tracer_warnings("none"))
            by_module = {name: int(count) for name, count in analysis.by_module().items()}
            return by_module, int(analysis.total()), params, dict(analysis.unsupported_ops())
        from torch.utils.flop_counter import FlopCounterMode

        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            module(x)
        prefix = f"{type(module).__name__}."
        by_module = {name[len(prefix):]: sum(counts.values()) for name, counts in counter.get_flop_counts().items()
                     if name.startswith(prefix)}
        by_module[""] = int(counter.get_total_flops())
        return by_module, int(counter.get_total_flops()), params, {}


MISSING_TOOLS = "needs torch and fvcore ({name} is missing): pip install torch==2.13.0 'costmodel[verify]'"


def require_reference_tools(what: str = "verify") -> None:
    """Import torch and fvcore, or raise the one message for their absence (naming the extra to install)."""
    try:
        import torch  # noqa: F401
        with quiet_reference_tools():
            import fvcore.nn  # noqa: F401
    except ImportError as error:
        missing = (error.name or "torch").split(".")[0]
        raise CostModelError(f"{what} {MISSING_TOOLS.format(name=missing)}") from None


TRACED_BYTES_PER_LAYER = 160_000      # what tracing holds per layer: 125 kB measured with fvcore on torch 2.13


def memory_needed(result: Analysis) -> int:
    """Bytes a verification allocates, estimated from costmodel's own counts: float32 tensors for the parameters
    and BatchNorm's running statistics, the input, and four times the peak activation memory (the lowered module
    frees each value after its last use, but a convolution's workspace can be as large as its input and output
    together, and the tracer holds some values longer); and the tracer's graph, ``TRACED_BYTES_PER_LAYER`` a layer
    (a spec of 1,803 and of 9,003 small layers peaked at 510 MB and 1.41 GB)."""
    buffers = sum(2 * layer.output_shape.channels for layer in result.layers if layer.kind == "batchnorm")
    elements = result.totals["params"] + buffers + result.input_shape.numel + 4 * result.totals["peak_activation"]
    return 4 * elements + TRACED_BYTES_PER_LAYER * len(result.layers)


def check_memory(result: Analysis, what: str = "verify") -> None:
    """Refuse, before allocating a tensor, a verification that would not fit the machine's available memory."""
    needed, available = memory_needed(result), available_memory()
    if available is not None and needed > available:
        height, width = result.resolution
        raise CostModelError(f"{what} of {result.model} at {height}x{width}, batch {result.batch}, needs about "
                             f"{needed / 1e9:.1f} GB of tensors and traces; {available / 1e9:.1f} GB of memory is "
                             "available")


def verify(model_or_setting: Any, alpha: "float | None" = None, rho: "float | None" = None,
           resolution: "int | tuple[int, int] | str | None" = None, *, against: str = "fvcore",
           batch: "int | None" = None, options: "Mapping[str, Any] | None" = None,
           depth: "float | None" = None) -> Verification:
    """costmodel's counts compared per layer and in total with fvcore's or FlopCounterMode's, on the model's torch
    module (a lowering for a zoo or spec network). Needs torch and fvcore (the ``verify`` extra).

    :param model_or_setting: a ``Setting``, or a model (with the setting's fields from the other arguments).
    :param alpha: the width multiplier.
    :param rho: the resolution multiplier.
    :param resolution: the input in pixels instead.
    :param against: ``"fvcore"`` or ``"flopcounter"``.
    :param batch: images per batch.
    :param options: the model's own options.
    :param depth: the depth multiplier.
    :returns: the ``Verification``: each layer's counts beside the tool's, and whether they agree."""
    if against not in REFERENCES:
        raise CostModelError(f"unknown reference {against!r}; known: {', '.join(REFERENCES)}")
    setting = setting_of(model_or_setting, alpha=alpha, rho=rho, resolution=resolution, batch=batch,
                         options=options, depth=depth, convention=REFERENCES[against])
    result = analyze(setting)
    require_reference_tools()
    check_memory(result)
    return reference_check(result, setting, against)


def reference_check(result: Analysis, setting: Setting, against: str) -> Verification:
    """The reference's (``against``) check of ``result``, the analysis of ``setting`` under the reference's
    convention: the module itself for an imported model (``verify_imported``), the network's lowering to torch
    otherwise (``compare``)."""
    if setting.source.imported:         # the module itself (or the saved program), not a lowering
        return verify_imported(result, setting, against)
    from .to_torch import to_torch

    try:
        module = to_torch(result.network, alpha=result.alpha, rho=setting.rho, resolution=setting.resolution,
                          batch=result.batch)
        return compare(result, module, against)
    except (RuntimeError, MemoryError) as error:        # what torch raises for tensors it cannot make
        raise CostModelError(f"torch could not run {result.model}: {first_line(error)}") from None


def compare(result: Analysis, module: Any, against: str = "fvcore") -> Verification:
    """Compare an analysis (under the reference's convention) with the reference's counts of ``module``, the
    same network lowered to torch."""
    if result.convention != REFERENCES[against]:
        raise CostModelError(f"comparing with {against} needs the {REFERENCES[against]!r} convention, "
                             f"not {result.convention!r}")
    by_module, total, params, uncounted = _reference_counts(module, against)

    paths = {node.name.rsplit(".", depth)[0] for node in result.network.nodes
             for depth in range(node.name.count(".") + 1)}      # every node and every group of nodes

    def own(counts: Mapping[str, int], name: str, by_name: bool = True) -> int:
        """A module's count less that of the nodes below it, where the count includes them: a node may be the
        parent of other nodes (timm's ``bn`` and ``bn.act``), and fvcore's counts and parameters sum by module
        name. FlopCounterMode sums by call (every node is called on its own), so its FLOPs are the module's own."""
        if not by_name:
            return counts.get(name, 0)
        below = (f"{name}.{child}" for child in module.get_submodule(name)._modules)
        return counts.get(name, 0) - sum(counts.get(path, 0) for path in below if path in paths)

    layers = tuple(LayerCheck(layer.name, layer.kind, layer.flops, own(by_module, layer.name, against == "fvcore"),
                              layer.params, own(params, layer.name)) for layer in result.layers)
    return Verification(result.model, result.alpha, result.resolution, against, layers, result.totals["flops"],
                        total, result.totals["params"], params.get("", 0), uncounted)


def verify_imported(result: Analysis, setting: Setting, against: str) -> Verification:
    """An imported module checked on itself (not on a lowering): costmodel's nodes are summed by the module that
    owns them (a function's node by the module whose forward called it), the reference's counts by module less
    those of its child modules."""
    import torch

    from ..sources.importer.user_code import running

    source = setting.source
    if source.kind == ONNX:
        raise CostModelError(f"{result.model} is an ONNX graph: {against} counts torch modules; verify the module it "
                             "was exported from")
    entry = source.imported_entry(setting.options)
    imported = entry.model
    module = source.torch_module(setting)
    channels = result.input_shape.channels
    x = torch.zeros(result.batch, channels, *result.resolution)
    saved = getattr(imported, "saved_program", None) is not None      # a .pt2 runs as it was exported (eval)
    was_training = module.training
    if not saved:
        module.eval()
    try:
        with running(entry.source, entry.seconds):        # the module's forward is the user's code
            try:
                by_module, total, params, uncounted = _reference_counts(module, against, x)
            except (RuntimeError, MemoryError) as error:
                raise CostModelError(f"torch could not run {result.model}: {first_line(error)}") from None
    finally:
        if not saved:
            module.train(was_training)
    if saved:       # one flat graph: the reference tools see no submodule calls, only the whole program
        layers: tuple[LayerCheck, ...] = (LayerCheck("(the whole program)", "all", result.totals["flops"], total,
                                                     result.totals["params"], params.get("", 0)),)
    else:
        layers = compare_by_owner(result, module, by_module, params)
    return Verification(result.model, result.alpha, result.resolution, against, layers, result.totals["flops"],
                        total, result.totals["params"], params.get("", 0), uncounted)


def compare_by_owner(result: Analysis, module: Any, by_module: Mapping[str, int],
                     params: Mapping[str, int]) -> tuple[LayerCheck, ...]:
    """One check per module that owns nodes: costmodel's FLOPs and parameters of its nodes beside the reference's
    count of the module less its children's (both tools count a module with everything below it)."""
    children: dict[str, list[str]] = {}
    names = [name for name, _ in module.named_modules()]
    for name in names:
        if name:
            children.setdefault(name.rsplit(".", 1)[0] if "." in name else "", []).append(name)
    known = set(names)

    def owner(node: str) -> str:
        path = node
        again = re.sub(r"_\d+$", "", path)        # a module's second call: conv_1 is conv's
        if path not in known and again in known:
            path = again
        while path and path not in known:
            path = path.rsplit(".", 1)[0] if "." in path else ""
        return path

    flops: dict[str, int] = {}
    own_params: dict[str, int] = {}
    kinds: dict[str, list[str]] = {}
    for layer in result.layers:
        path = owner(layer.name)
        flops[path] = flops.get(path, 0) + layer.flops
        own_params[path] = own_params.get(path, 0) + layer.params
        kinds.setdefault(path, [])
        if layer.kind not in kinds[path]:
            kinds[path].append(layer.kind)

    def own(counts: Mapping[str, int], path: str) -> int:
        return counts.get(path, 0) - sum(counts.get(child, 0) for child in children.get(path, ()))

    paths = [path for path in names if path in flops or own(by_module, path) or own(params, path)]
    return tuple(LayerCheck(path or "(root)", "+".join(kinds.get(path, [])) or "-", flops.get(path, 0),
                            own(by_module, path), own_params.get(path, 0), own(params, path)) for path in paths)
