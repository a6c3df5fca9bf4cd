"""The metrics, each declared once: its name, label, unit, what it means, how a network totals it and how it is
shown. Table columns, CSV and JSON fields, the per-kind view, sweep columns, the report and the README's schema
are all made from this list.

Per-node metrics (``per_node``) are formulas every op declares (``ops.registry.OpDef`` has a field of the same
name); ``peak_activation`` comes from the activation schedule (``passes``). Metrics in bytes are counted in
elements and shown in bytes of the analysis dtype; their fields end in ``_bytes``.
"""
from __future__ import annotations

from dataclasses import dataclass

from .formatting import grouped, si, si_bytes


@dataclass(frozen=True)
class Metric:
    """One metric. ``total`` is how a network totals it: ``sum`` over its layers, ``peak`` (the maximum of the
    live memory over the execution order), or ``""`` (none: a per-layer quantity)."""

    name: str
    label: str
    column: str
    description: str
    in_bytes: bool = False
    per_node: bool = True
    total: str = "sum"

    @property
    def field(self) -> str:
        """The key in JSON, CSV and ``Analysis.totals``: the name, with ``_bytes`` for a metric in bytes."""
        return f"{self.name}_bytes" if self.in_bytes else self.name

    @property
    def heading(self) -> str:
        """The label as a column heading, with the unit of a metric in bytes: ``memory access (B)``."""
        return f"{self.label} (B)" if self.in_bytes else self.label

    def title(self, convention: str = "") -> str:
        """The label, with the FLOP convention where it matters: ``FLOPs (costmodel)``."""
        return f"{self.label} ({convention})" if self.name == "flops" and convention else self.label

    def human(self, value: int) -> str:
        """``325.40M``, ``101.72 MB``."""
        return si_bytes(value) if self.in_bytes else si(value)

    def exact(self, value: int) -> str:
        """``325,400,448``, ``101,722,880 B``."""
        return f"{grouped(value)} B" if self.in_bytes else grouped(value)


METRICS: tuple[Metric, ...] = (
    Metric("params", "params", "params",
           "learned parameters: what sum(p.numel() for p in module.parameters()) gives (BatchNorm's gamma and beta; "
           "not its running statistics)"),
    Metric("madds", "mult-adds", "madds",
           "multiply-accumulates of convolutions, fully connected layers and matrix products, attention's included "
           "(the papers' mult-adds)"),
    Metric("flops", "FLOPs", "flops", "floating-point operations under the named convention (--convention)"),
    Metric("memory_access", "memory access", "memory access (B)",
           "ShuffleNetV2's MAC: every input read once, the output written once, every parameter read once",
           in_bytes=True),
    Metric("activation", "activation", "activation (B)", "the layer's output tensor", in_bytes=True, total=""),
    Metric("peak_activation", "peak activation", "live activation (B)",
           "the activation memory live at once, at its largest over the execution order", in_bytes=True,
           per_node=False, total="peak"),
)


def node_metrics() -> tuple[Metric, ...]:
    """The metrics every op declares a formula for, counted per node."""
    return tuple(metric for metric in METRICS if metric.per_node)


def total_metrics() -> tuple[Metric, ...]:
    """The metrics a network has a total of (the totals table, JSON ``totals``, sweep columns)."""
    return tuple(metric for metric in METRICS if metric.total)


def summed_metrics() -> tuple[Metric, ...]:
    """The metrics that add up over layers (the per-kind view and its shares)."""
    return tuple(metric for metric in METRICS if metric.total == "sum")


def layer_metrics() -> tuple[Metric, ...]:
    """The metrics of one layer (per-layer rows and JSON ``layers``)."""
    return tuple(metric for metric in METRICS if metric.per_node)
