"""The result of an analysis: one network's counts at one setting, with per-layer rows, totals, the per-kind roll-up
and conversions to JSON and pandas. It only presents what ``counting`` counted; the metric list (``metrics``) says
which fields exist and how they total."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple

from .counting import Counts, plan_of
from ..core.errors import CostModelError
from ..core.ir import Network
from ..core.metrics import layer_metrics, summed_metrics, total_metrics
from ..ops import kind_titles
from ..core.shapes import NodeShapes, Shape

if TYPE_CHECKING:  # pandas is imported only by to_frame()
    import pandas

DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
DEFAULT_DTYPE = "float32"


class LayerCost(NamedTuple):
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
        """A metric's value by its field name.

        :param name: a field such as ``madds`` or ``memory_access_bytes``.
        :returns: the exact count."""
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
    fused: bool = False            # the fused inference view (``fusion.fuse``)

    @property
    def batch(self) -> int:
        return self.input_shape.batch

    @property
    def depth(self) -> float:
        """The depth multiplier the network was built at."""
        return self.network.depth

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

    @cached_property
    def _shapes(self) -> list[Shape]:
        counts = self.counts
        make = tuple.__new__
        return [make(Shape, pair) for pair in zip(counts.layouts, counts.outputs)] + [self.input_shape]

    @cached_property
    def layers(self) -> tuple[LayerCost, ...]:
        """One row per node that runs (a conditional residual that does not apply is not a layer)."""
        width = self.bytes_per_element
        counts = self.counts
        params, madds, flops, memory, activation = (counts.metric(name) for name in
                                                    ("params", "madds", "flops", "memory_access", "activation"))
        shapes, skips, live = self._shapes, counts.skips, counts.live
        make, rows = tuple.__new__, []
        for i, (node, inputs, op_def, kind) in enumerate(plan_of(self.network).rows):
            if skips[i]:
                continue
            input_shapes = (shapes[inputs[0]],) if len(inputs) == 1 else tuple([shapes[j] for j in inputs])
            if kind is None:
                kind = op_def.kind(node.op, NodeShapes(node, input_shapes, shapes[i]))
            rows.append(make(LayerCost, (node.name, kind, input_shapes, shapes[i], params[i], madds[i], flops[i],
                                         memory[i], memory[i] * width, activation[i], activation[i] * width,
                                         live[i] * width)))
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
        """Per layer kind (the MobileNetV1 paper's Table 2 view).

        :returns: {kind: {"layers": how many, each summed metric: its sum over the kind's layers,
            "<metric>_share": that sum's share of the network total (a fraction; 0.0 when the total is 0)}}."""
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

    def by_module(self, max_depth: "int | None" = None) -> list[dict[str, Any]]:
        """Per module: the layers rolled up the module tree, as fvcore's ``flop_count_table`` and torchinfo give them.
        A layer ``features.3.conv.0.0`` is in the modules ``features``, ``features.3``, ``features.3.conv`` ...;
        each module's figures are its layers' sums (zoo node paths and imported module paths alike).

        :param max_depth: the deepest module listed (1: ``features``, 2: ``features.3``; None: every level).
        :returns: [{"module": its dotted path ("" for the whole network), "depth": its level (0 for the whole),
            "layers": how many layers it holds, each summed metric: its sum}], in the order the network first runs
            each module, a module before the modules in it."""
        if max_depth is not None and (isinstance(max_depth, bool) or not isinstance(max_depth, int) or
                                      max_depth < 1):
            raise CostModelError(f"max_depth must be a positive integer, got {max_depth!r}")
        fields = [metric.field for metric in summed_metrics()]
        rows: dict[str, dict[str, Any]] = {"": {"module": "", "depth": 0, "layers": 0,
                                                **{name: 0 for name in fields}}}
        for layer in self.layers:
            parts = layer.name.split(".")
            paths = [""] + [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)
                            if max_depth is None or depth <= max_depth]
            for path in paths:
                row = rows.setdefault(path, {"module": path, "depth": path.count(".") + 1 if path else 0,
                                             "layers": 0, **{name: 0 for name in fields}})
                row["layers"] += 1
                for name in fields:
                    row[name] += layer.field(name)
        return list(rows.values())

    def not_counted(self) -> dict[str, int]:
        """The calls of an imported module that costmodel has no formula for (its opaque nodes): they keep their
        shapes and parameters and count nothing else.

        :returns: {what was called: how often}."""
        counts: dict[str, int] = {}
        for node in self.network.nodes:
            target = node.op.not_counted()
            if target:
                counts[target] = counts.get(target, 0) + 1
        return counts

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``costmodel table --format json`` (schema in docs/commands.md).

        :returns: the setting, the totals, the layers and the per-kind roll-up, as plain Python values."""
        height, width = self.resolution
        covers = {node.name: getattr(node.op, "covers") for node in self.network.nodes
                  if getattr(node.op, "covers", ())}
        return {
            "model": self.model,
            "alpha": self.alpha,
            "depth": self.depth,
            "resolution": height if height == width else [height, width],
            "batch": self.batch,
            "convention": self.convention,
            "dtype": self.dtype,
            "fused": self.fused,
            "totals": {metric.field: self.totals[metric.field] for metric in total_metrics()},
            "layers": [
                {"name": layer.name, "kind": layer.kind, "output_shape": list(layer.output_shape.sample),
                 "layout": layer.output_shape.layout,
                 **{metric.field: layer.field(metric.field) for metric in layer_metrics()},
                 **({"covers": list(covers[layer.name])} if layer.name in covers else {})}
                for layer in self.layers
            ],
            "by_kind": self.by_kind(),
            "not_counted": self.not_counted(),
        }

    def to_frame(self) -> "pandas.DataFrame":
        """The layers as a table.

        :returns: a pandas DataFrame, one row per layer indexed by name, with every ``LayerCost`` field (shapes as
            per-sample lists, with the layout in its own column)."""
        import pandas

        records = [
            {**layer._asdict(), "input_shapes": [list(s.sample) for s in layer.input_shapes],
             "output_shape": list(layer.output_shape.sample), "layout": layer.output_shape.layout}
            for layer in self.layers
        ]
        return pandas.DataFrame.from_records(records).set_index("name")
