"""An imported model as the commands see it: like a zoo entry, it says what the model accepts (no width or depth
multiplier; any input size) and builds its network, here by mapping the traced module at each asked size."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from ...core.errors import CostModelError, ParameterError, param, shorten
from .loader import SAVED_SUFFIXES, load_module
from .user_code import check_seconds, running

INPUT_OPTION = "input"
TIMEOUT_OPTION = "timeout"          # seconds the user's code may run
SUBMODULE_OPTION = "module"         # the dotted path of the sub-module to count (``backbone``)


def parse_input(value: str) -> tuple[int, int, int]:
    """``CxHxW`` (``3x224x224``) or ``HxW`` / ``N`` (three channels)."""
    parts = str(value).lower().split("x")
    try:
        sizes = [int(part) for part in parts]
    except ValueError:
        raise ParameterError(param("input"), f" must be CxHxW (3x224x224), got {value!r}") from None
    if len(sizes) == 4:
        raise ParameterError(param("input"), f" must be CxHxW: costmodel counts models of images, not of clips "
                             f"(C x T x H x W, 3-D convolutions), got {value!r}")
    if len(sizes) == 1:
        sizes = [3, sizes[0], sizes[0]]
    elif len(sizes) == 2:
        sizes = [3, *sizes]
    if len(sizes) != 3 or any(size < 1 or size > 1 << 16 for size in sizes):
        raise ParameterError(param("input"), f" must be CxHxW with sizes in [1, 65536], got {value!r}")
    return sizes[0], sizes[1], sizes[2]


@dataclass
class ImportedEntry:
    """A ``file.py:factory`` or ``package.module:factory`` argument, loaded and traced once."""

    name: str
    model: Any                              # importer.torch_graph.TorchModel
    accepts_alpha: bool = False
    accepts_depth: bool = False
    published_depth: bool = False         # no published depth scaling: fit searches depth only when asked
    accepts_resolution: bool = True
    alpha_choices: tuple = ()
    options: tuple = ()
    classifier: bool = False
    description: str = ""
    source: str = ""
    seconds: "float | None" = None          # the time limit of the user's code (None: none)

    def check_alpha(self, alpha: float) -> None:
        if alpha != 1.0:
            raise ParameterError(f"{self.name} is an imported module: a width multiplier does not apply to it (",
                                 param("alpha"), " must be 1)")

    def at(self, size: tuple[int, int]) -> Any:
        """The network at input size ``size`` (a module captured by ``torch.export`` runs again: under the time
        limit)."""
        with running(self.source, self.seconds):
            return self.model.network(size)


_LOADED: dict[tuple, ImportedEntry] = {}


def imported_entry(model: str, options: "Mapping[str, Any] | None" = None, depth: float = 1.0) -> ImportedEntry:
    """The entry of an import argument; the module is loaded and traced once per argument and options."""

    options = dict(options or {})
    if depth != 1.0:
        raise ParameterError(f"{model} is an imported module: a depth multiplier does not apply to it (",
                             param("depth"), " must be 1)")
    strict = str(options.pop("strict", "")).lower() in ("1", "true", "yes")
    seconds = options.pop(TIMEOUT_OPTION, None)
    seconds = None if seconds is None else check_seconds(seconds)
    input_value = options.pop(INPUT_OPTION, None)
    input_size = parse_input(input_value) if input_value is not None else (3, 224, 224)
    submodule = options.pop(SUBMODULE_OPTION, None) or None
    key = (model, tuple(sorted((k, str(v)) for k, v in options.items())), input_size, strict, submodule)
    if key not in _LOADED:
        name = model.rsplit("/", 1)[-1] + (f".{submodule}" if submodule else "")
        if model.lower().endswith(SAVED_SUFFIXES):
            if submodule:
                raise ParameterError(f"{name}: a saved graph has no sub-modules to take (", param("submodule"), ")")
            _LOADED[key] = _saved_entry(model, name, options, input_value and input_size, strict)
            return _LOADED[key]
        with running(model, seconds):
            module = load_module(model, options)
            from .torch_graph import TorchModel

            traced = TorchModel(module, input_size, name=name, strict=strict, submodule=submodule)
        what = type(module).__name__ + (f", its sub-module {submodule}" if submodule else "")
        _LOADED[key] = ImportedEntry(name, traced, description=f"imported: {what}", source=model)
    _LOADED[key].seconds = seconds
    return _LOADED[key]


def _saved_entry(path: str, name: str, options: Mapping[str, Any], input_size: Any, strict: bool) -> ImportedEntry:
    """The entry of a ``.pt2`` or ``.onnx`` file, mapped at ``input_size`` (default: the file's own input)."""
    if options:
        raise CostModelError(f"{name} is a saved graph: it takes no options (got {', '.join(sorted(options))})")
    if not os.path.exists(path):
        raise CostModelError(f"{shorten(path)}: no such file")
    if not Path(path).is_file():          # read nothing from a FIFO or a device: it may never end
        raise CostModelError(f"{shorten(path)} is not a regular file")
    if path.lower().endswith(".onnx"):
        from .onnx_graph import OnnxModel

        model: Any = OnnxModel(path, input_size or None, name=name, strict=strict)
        return ImportedEntry(name, model, description="imported: ONNX graph", source=path)
    import importlib.util

    if importlib.util.find_spec("torch") is None:          # found without importing it
        raise CostModelError("reading a .pt2 file needs torch: pip install torch==2.13.0 'costmodel[torch]' (the "
                             "CPU build first)")
    from .torch_graph import TorchModel

    model = TorchModel.saved(path, input_size or None, name=name, strict=strict)
    return ImportedEntry(name, model, description="imported: torch.export program", source=path)
