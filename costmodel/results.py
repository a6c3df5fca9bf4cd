"""The result of an analysis: one network's counts at one setting, with per-layer rows, totals, the per-kind roll-up
and conversions to JSON and pandas. It only presents what ``counting`` counted; the metric list (``metrics``) says
which fields exist and how they total."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from .counting import Counts
from .ir import INPUT, Network
from .metrics import layer_metrics, summed_metrics, total_metrics
from .ops import definition, kind_titles
from .shapes import NodeShapes, Shape

if TYPE_CHECKING:  # pandas is imported only by to_frame()
    import pandas

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
DEFAULT_DTYPE = "float32"


@dataclass(frozen=True)
class LayerCost:
    """One node's costs. Counts are exact; ``*_bytes`` use the analysis dtype; ``activation`` is the node's output
    size and ``live_activation_bytes`` the memory live while it runs."""

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

    def field(self, name: str) -> int:
        """A metric's value by its field name (``madds``, ``memory_access_bytes``)."""
        return getattr(self, name)


@dataclass(frozen=True)
class Analysis:
    """The result of ``analyze``: per-layer rows, totals, the per-kind roll-up, and conversions."""

    model: str
    alpha: float
    input_shape: Shape
    convention: str
    dtype: str
    counts: Counts = field(repr=False)
    network: Network = field(repr=False, compare=False)

    @property
    def batch(self) -> int:
        return self.input_shape.batch

    @property
    def resolution(self) -> tuple[int, int]:
        """(H, W) of the input."""
        return self.input_shape.size("H"), self.input_shape.size("W")

    @property
    def bytes_per_element(self) -> int:
        return DTYPE_BYTES[self.dtype]

    @property
    def peak_activation(self) -> int:
        """Peak live activation memory, in elements."""
        return self.counts.peak

    @property
    def peak_node(self) -> str:
        """The first node at which the peak is live."""
        return self.network.nodes[self.counts.peak_step].name

    def node_shapes(self) -> tuple[NodeShapes, ...]:
        """Every node with its resolved shapes at this setting."""
        counts = self.counts
        produced: dict[str, Shape] = {INPUT: self.input_shape}
        resolved = []
        for index, node in enumerate(self.network.nodes):
            output = Shape(counts.layouts[index], counts.outputs[index])
            resolved.append(NodeShapes(node, tuple(produced[ref] for ref in node.inputs), output,
                                       counts.skips[index]))
            produced[node.name] = output
        return tuple(resolved)

    @cached_property
    def layers(self) -> tuple[LayerCost, ...]:
        """One row per node that runs (a conditional residual that does not apply is not a layer)."""
        width = self.bytes_per_element
        counts = self.counts
        params, madds, flops, memory, activation = (counts.metric(name) for name in
                                                    ("params", "madds", "flops", "memory_access", "activation"))
        rows = []
        for i, node in enumerate(self.node_shapes()):
            if node.skipped:
                continue
            rows.append(LayerCost(
                name=node.name, kind=definition(node.op).kind_of(node), input_shapes=node.inputs,
                output_shape=node.output, params=params[i], madds=madds[i], flops=flops[i],
                memory_access=memory[i], memory_access_bytes=memory[i] * width, activation=activation[i],
                activation_bytes=activation[i] * width, live_activation_bytes=counts.live[i] * width))
        return tuple(rows)

    @cached_property
    def totals(self) -> dict[str, int]:
        """Exact totals of every metric that has one, in elements (``memory_access``) and in bytes
        (``memory_access_bytes``) for the metrics in bytes."""
        totals: dict[str, int] = {}
        for metric in total_metrics():
            value = self.counts.peak if metric.total == "peak" else sum(self.counts.metric(metric.name))
            totals[metric.name] = value
            if metric.in_bytes:
                totals[metric.field] = value * self.bytes_per_element
        return totals

    def by_kind(self) -> dict[str, dict[str, Any]]:
        """Per layer kind (the MobileNetV1 paper's Table 2 view): the number of layers, summed counts, and each
        count's share of the network total (a fraction; 0.0 when the total is 0)."""
        groups: dict[str, list[LayerCost]] = {}
        for layer in self.layers:
            groups.setdefault(layer.kind, []).append(layer)
        rows: dict[str, dict[str, Any]] = {}
        fields = [metric.field for metric in summed_metrics()]
        for kind in kind_titles():
            members = groups.get(kind)
            if not members:
                continue
            row: dict[str, Any] = {"layers": len(members)}
            for name in fields:
                row[name] = sum(layer.field(name) for layer in members)
            for name in fields:
                total = self.totals[name]
                row[f"{name}_share"] = row[name] / total if total else 0.0
            rows[kind] = row
        return rows

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``costmodel table --format json`` (schema in the README)."""
        height, width = self.resolution
        return {
            "model": self.model,
            "alpha": self.alpha,
            "resolution": height if height == width else [height, width],
            "batch": self.batch,
            "convention": self.convention,
            "dtype": self.dtype,
            "totals": {metric.field: self.totals[metric.field] for metric in total_metrics()},
            "layers": [
                {"name": layer.name, "kind": layer.kind, "output_shape": list(layer.output_shape.sample),
                 "layout": layer.output_shape.layout,
                 **{metric.field: layer.field(metric.field) for metric in layer_metrics()}}
                for layer in self.layers
            ],
            "by_kind": self.by_kind(),
        }

    def to_frame(self) -> "pandas.DataFrame":
        """One row per layer, indexed by name, with every LayerCost field (shapes as per-sample lists, with the
        layout in its own column)."""
        import pandas

        records = [
            {**layer.__dict__, "input_shapes": [list(s.sample) for s in layer.input_shapes],
             "output_shape": list(layer.output_shape.sample), "layout": layer.output_shape.layout}
            for layer in self.layers
        ]
        return pandas.DataFrame.from_records(records).set_index("name")
