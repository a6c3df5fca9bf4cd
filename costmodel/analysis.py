"""``analyze``: every cost pass over one network at one width multiplier and input size, as one result."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

from .conventions import CONVENTIONS, DEFAULT_CONVENTION
from .errors import CostModelError
from .ir import Network
from .kinds import KINDS, layer_kind
from .passes import activation_schedule, node_metrics
from .scaling import check_alpha, input_size
from .shapes import NodeShapes, Shape, infer_shapes, network_input_shape, numel

if TYPE_CHECKING:  # pandas is imported only by to_frame()
    import pandas

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
DEFAULT_DTYPE = "float32"


@dataclass(frozen=True)
class LayerCost:
    """One node's costs. Counts are exact; ``*_bytes`` use the analysis dtype; ``activation`` is the node's output
    size and ``live_activation`` the memory live while it runs (both in elements)."""

    name: str
    kind: str
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    params: int
    madds: int
    flops: int
    memory_access: int
    memory_access_bytes: int
    activation: int
    activation_bytes: int
    live_activation_bytes: int


TOTAL_KEYS = ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")
BY_KIND_KEYS = ("params", "madds", "flops", "memory_access_bytes")


@dataclass(frozen=True)
class Analysis:
    """The result of ``analyze``: per-layer rows, totals, the per-kind roll-up, and conversions."""

    model: str
    alpha: float
    input_shape: tuple[int, int, int]
    convention: str
    dtype: str
    layers: tuple[LayerCost, ...]
    peak_activation: int
    peak_node: str
    network: Network = field(repr=False, compare=False)

    @property
    def resolution(self) -> tuple[int, int]:
        """(H, W) of the input."""
        return self.input_shape[1], self.input_shape[2]

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]

    @cached_property
    def totals(self) -> dict[str, int]:
        """Exact totals: params, madds, flops, memory access (elements and bytes), peak activation (elements and
        bytes)."""
        return {
            "params": sum(layer.params for layer in self.layers),
            "madds": sum(layer.madds for layer in self.layers),
            "flops": sum(layer.flops for layer in self.layers),
            "memory_access": sum(layer.memory_access for layer in self.layers),
            "memory_access_bytes": sum(layer.memory_access_bytes for layer in self.layers),
            "peak_activation": self.peak_activation,
            "peak_activation_bytes": self.peak_activation * self.bytes_per_element,
        }

    def by_kind(self) -> dict[str, dict[str, Any]]:
        """Per layer kind (the MobileNetV1 paper's Table 2 view): the number of layers, summed counts, and each
        count's share of the network total (a fraction; 0.0 when the total is 0)."""
        rows: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            members = [layer for layer in self.layers if layer.kind == kind]
            if not members:
                continue
            row: dict[str, Any] = {"layers": len(members)}
            for key in BY_KIND_KEYS:
                row[key] = sum(getattr(layer, key) for layer in members)
            for key in BY_KIND_KEYS:
                total = self.totals[key]
                row[f"{key}_share"] = row[key] / total if total else 0.0
            rows[kind] = row
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``costmodel table --format json`` (schema in the README)."""
        height, width = self.resolution
        return {
            "model": self.model,
            "alpha": self.alpha,
            "resolution": height if height == width else [height, width],
            "convention": self.convention,
            "dtype": self.dtype,
            "totals": {key: self.totals[key] for key in TOTAL_KEYS},
            "layers": [
                {
                    "name": layer.name,
                    "kind": layer.kind,
                    "output_shape": list(layer.output_shape),
                    "params": layer.params,
                    "madds": layer.madds,
                    "flops": layer.flops,
                    "memory_access_bytes": layer.memory_access_bytes,
                    "activation_bytes": layer.activation_bytes,
                }
                for layer in self.layers
            ],
            "by_kind": self.by_kind(),
        }

    def to_frame(self) -> "pandas.DataFrame":
        """One row per layer, indexed by name, with every LayerCost field."""
        import pandas

        records = [
            {**layer.__dict__, "input_shapes": [list(s) for s in layer.input_shapes],
             "output_shape": list(layer.output_shape)}
            for layer in self.layers
        ]
        return pandas.DataFrame.from_records(records).set_index("name")


def resolve(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
            resolution: "int | tuple[int, int] | None" = None, options: Mapping[str, Any] | None = None
            ) -> tuple[Network, float, tuple[int, int, int], tuple[NodeShapes, ...]]:
    """The network of a zoo name, spec file or Network, checked against what it accepts, with its input shape and
    every node's shapes at ``alpha`` and the input size of ``rho`` or ``resolution``."""
    from .zoo import resolve_model

    network, entry = resolve_model(model_or_network, options)
    alpha = check_alpha(alpha)
    if entry is not None:
        entry.check_alpha(alpha)
        if (rho is not None or resolution is not None) and not entry.accepts_resolution:
            raise CostModelError(f"model {network.name!r} has a fixed input size; rho and resolution are not "
                                 "accepted")
    size = input_size(network.base_resolution, rho, resolution)
    shapes = infer_shapes(network, alpha, size)
    return network, alpha, network_input_shape(network, alpha, size), shapes


def analyze(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
            resolution: "int | tuple[int, int] | None" = None, *, convention: str = DEFAULT_CONVENTION,
            dtype: str = DEFAULT_DTYPE, options: Mapping[str, Any] | None = None) -> Analysis:
    """Every cost of ``model_or_network`` (a zoo name, a spec file or a ``Network``) at width multiplier ``alpha`` and an input
    scaled by ``rho`` from the network's base resolution, or of ``resolution`` pixels (an int or (H, W)).

    ``options`` are the zoo model's own options (see ``costmodel list``). Raises ``CostModelError`` on bad input.
    """
    if convention not in CONVENTIONS:
        raise CostModelError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")
    network, alpha, input_shape, shapes = resolve(model_or_network, alpha, rho, resolution, options)
    schedule = activation_schedule(network, shapes, numel(input_shape))
    width = DTYPE_BYTES[dtype]
    layers = []
    for node, live in zip(shapes, schedule.live):
        if node.skipped:
            continue
        metrics = node_metrics(node, convention)
        activation = numel(node.output)
        layers.append(LayerCost(
            name=node.name, kind=layer_kind(node), input_shapes=node.inputs, output_shape=node.output,
            params=metrics.params, madds=metrics.madds, flops=metrics.flops,
            memory_access=metrics.memory_access, memory_access_bytes=metrics.memory_access * width,
            activation=activation, activation_bytes=activation * width, live_activation_bytes=live * width))
    return Analysis(model=network.name, alpha=alpha, input_shape=input_shape, convention=convention, dtype=dtype,
                    layers=tuple(layers), peak_activation=schedule.peak, peak_node=schedule.peak_node,
                    network=network)
