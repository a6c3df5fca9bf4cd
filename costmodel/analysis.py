"""``analyze``: every cost pass over one network at one width multiplier and input size, as one result."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

from .conventions import CONVENTIONS, DEFAULT_CONVENTION
from .errors import CostModelError
from .ir import INPUT, Network
from .kinds import KINDS, layer_kind
from .passes import NodeMetrics, activation_schedule, node_metrics
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
class Counts:
    """Every node's output shape and metrics at one setting, as the interpreter or the compiled program gives
    them: the raw material of an ``Analysis`` (rows are built from it when first asked for)."""

    input_elements: int
    shapes: tuple[Shape, ...]
    groups: tuple[int, ...]
    skips: tuple[bool, ...]
    metrics: tuple[tuple[int, ...], ...]     # params, madds, flops, memory_access: one value per node
    peak: int
    peak_step: int


@dataclass(frozen=True)
class Analysis:
    """The result of ``analyze``: per-layer rows, totals, the per-kind roll-up, and conversions."""

    model: str
    alpha: float
    input_shape: tuple[int, int, int]
    convention: str
    dtype: str
    counts: Counts = field(repr=False)
    network: Network = field(repr=False, compare=False)

    @property
    def peak_activation(self) -> int:
        """Peak live activation memory, in elements."""
        return self.counts.peak

    @property
    def peak_node(self) -> str:
        """The first node at which the peak is live."""
        return self.network.nodes[self.counts.peak_step].name

    @cached_property
    def layers(self) -> tuple[LayerCost, ...]:
        """One row per node that runs (a conditional residual that does not apply is not a layer)."""
        counts, network = self.counts, self.network
        produced: dict[str, Shape] = {INPUT: self.input_shape}
        resolved = []
        for node, shape, groups, skip in zip(network.nodes, counts.shapes, counts.groups, counts.skips):
            resolved.append(NodeShapes(node, tuple(produced[ref] for ref in node.inputs), shape, groups, skip))
            produced[node.name] = shape
        schedule = activation_schedule(network, tuple(resolved), counts.input_elements)
        width = DTYPE_BYTES[self.dtype]
        params, madds, flops, memory = counts.metrics
        rows = []
        for i, node in enumerate(resolved):
            if node.skipped:
                continue
            activation = numel(node.output)
            rows.append(LayerCost(
                name=node.name, kind=layer_kind(node), input_shapes=node.inputs, output_shape=node.output,
                params=params[i], madds=madds[i], flops=flops[i], memory_access=memory[i],
                memory_access_bytes=memory[i] * width, activation=activation, activation_bytes=activation * width,
                live_activation_bytes=schedule.live[i] * width))
        return tuple(rows)

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
        params, madds, flops, memory = (sum(values) for values in self.counts.metrics)
        return {
            "params": params,
            "madds": madds,
            "flops": flops,
            "memory_access": memory,
            "memory_access_bytes": memory * self.bytes_per_element,
            "peak_activation": self.counts.peak,
            "peak_activation_bytes": self.counts.peak * self.bytes_per_element,
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


def settle(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
           resolution: "int | tuple[int, int] | None" = None, options: Mapping[str, Any] | None = None
           ) -> tuple[Network, float, tuple[int, int]]:
    """The network of a zoo name, spec file or Network, with alpha and the input size checked against what it
    accepts."""
    from .zoo import resolve_model

    network, entry = resolve_model(model_or_network, options)
    alpha = check_alpha(alpha)
    if entry is not None:
        entry.check_alpha(alpha)
        if (rho is not None or resolution is not None) and not entry.accepts_resolution:
            raise CostModelError(f"model {network.name!r} has a fixed input size; rho and resolution are not "
                                 "accepted")
    return network, alpha, input_size(network.base_resolution, rho, resolution)


def resolve(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
            resolution: "int | tuple[int, int] | None" = None, options: Mapping[str, Any] | None = None
            ) -> tuple[Network, float, tuple[int, int, int], tuple[NodeShapes, ...]]:
    """``settle``, then the input shape and every node's shapes."""
    network, alpha, size = settle(model_or_network, alpha, rho, resolution, options)
    return network, alpha, network_input_shape(network, alpha, size), infer_shapes(network, alpha, size)


def analyze(model_or_network: "str | Network", alpha: float = 1.0, rho: float | None = None,
            resolution: "int | tuple[int, int] | None" = None, *, convention: str = DEFAULT_CONVENTION,
            dtype: str = DEFAULT_DTYPE, options: Mapping[str, Any] | None = None) -> Analysis:
    """Every cost of ``model_or_network`` (a zoo name, a spec file or a ``Network``) at width multiplier ``alpha``
    and an input scaled by ``rho`` from the network's base resolution, or of ``resolution`` pixels (int or (H, W)).

    ``options`` are the zoo model's own options (see ``costmodel list``). Raises ``CostModelError`` on bad input.
    """
    if convention not in CONVENTIONS:
        raise CostModelError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    if dtype not in DTYPE_BYTES:
        raise CostModelError(f"unknown dtype {dtype!r}; known: {', '.join(DTYPE_BYTES)}")
    network, alpha, size = settle(model_or_network, alpha, rho, resolution, options)
    return Analysis(model=network.name, alpha=alpha, input_shape=network_input_shape(network, alpha, size),
                    convention=convention, dtype=dtype, counts=count(network, alpha, size, convention),
                    network=network)


# Compiling costs about 10 to 20 interpreted counts (0.1 ms a node), so a network is compiled on its COMPILE_AFTER-th
# analysis, and only up to COMPILE_LIMIT nodes (larger ones are interpreted, linearly, about 10 us a node).
COMPILE_AFTER = 3
COMPILE_LIMIT = 2000


def count(network: Network, alpha: float, size: tuple[int, int], convention: str) -> Counts:
    """Every node's shape and metrics at one setting. The first counts of a network interpret its rules and
    formulas; then the network's compiled program runs (``compiled``), which checks the same requirements and
    falls back to the interpreter, for its error message, when one fails."""
    uses = network.derived.get("uses", 0) + 1
    network.derived["uses"] = uses
    if uses >= COMPILE_AFTER and len(network.nodes) <= COMPILE_LIMIT and network.derived.get("compilable", True):
        from .compiled import Fallback, compile_network
        try:
            evaluate = compile_network(network, convention)
        except CostModelError:
            network.derived["compilable"] = False
        else:
            try:
                elements, shapes, groups, skips, metrics, peak, peak_step = evaluate(alpha, size[0], size[1])
            except Fallback:
                pass
            else:
                return Counts(elements, shapes, groups, skips, metrics, peak, peak_step)
    return interpret(network, alpha, size, convention)


def interpret(network: Network, alpha: float, size: tuple[int, int], convention: str) -> Counts:
    """Count by evaluating the shape rules and formulas on numbers, node by node."""
    shapes = infer_shapes(network, alpha, size)
    input_elements = numel(network_input_shape(network, alpha, size))
    schedule = activation_schedule(network, shapes, input_elements)
    per_node = [node_metrics(node, convention) if not node.skipped else NodeMetrics(0, 0, 0, 0) for node in shapes]
    metrics = tuple(tuple(getattr(m, field) for m in per_node) for field in ("params", "madds", "flops",
                                                                          "memory_access"))
    return Counts(input_elements, tuple(node.output for node in shapes), tuple(node.groups for node in shapes),
                  tuple(node.skipped for node in shapes), metrics, schedule.peak,
                  [node.name for node in shapes].index(schedule.peak_node))
