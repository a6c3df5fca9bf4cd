"""What ``costmodel table`` prints: an ``Analysis`` as totals, per-layer rows and the per-kind roll-up, in text,
Markdown, CSV or JSON. Only reads the analysis; computes nothing new."""
from __future__ import annotations

import json

from .analysis import Analysis
from .conventions import CONVENTIONS
from .errors import CostModelError
from .kinds import KIND_TITLES
from .render import Table, grouped, percent, si, si_bytes
from .shapes import format_shape

FORMATS = ("text", "csv", "json", "markdown")


def _setting(analysis: Analysis) -> str:
    channels, height, width = analysis.input_shape
    return (f"{analysis.model}  alpha={analysis.alpha:g}  input {channels}x{height}x{width}  "
            f"dtype={analysis.dtype}")


def totals_table(analysis: Analysis) -> Table:
    """Each total with a unit and exactly."""
    totals = analysis.totals
    table = Table(("metric", "value", "exact"), align=("l", "r", "r"))
    table.add("params", si(totals["params"]), grouped(totals["params"]))
    table.add("mult-adds", si(totals["madds"]), grouped(totals["madds"]))
    table.add(f"FLOPs ({analysis.convention})", si(totals["flops"]), grouped(totals["flops"]))
    table.add("memory access", si_bytes(totals["memory_access_bytes"]),
              f"{grouped(totals['memory_access_bytes'])} B")
    table.add("peak activation", si_bytes(totals["peak_activation_bytes"]),
              f"{grouped(totals['peak_activation_bytes'])} B")
    return table


def layers_table(analysis: Analysis) -> Table:
    """One row per layer, exact counts, and a total row."""
    table = Table(("name", "kind", "output", "params", "madds", "flops", "memory access (B)"),
                  align=("l", "l", "l", "r", "r", "r", "r"))
    for layer in analysis.layers:
        table.add(layer.name, layer.kind, format_shape(layer.output_shape), grouped(layer.params),
                  grouped(layer.madds), grouped(layer.flops), grouped(layer.memory_access_bytes))
    totals = analysis.totals
    table.add("total", "", "", grouped(totals["params"]), grouped(totals["madds"]), grouped(totals["flops"]),
              grouped(totals["memory_access_bytes"]))
    return table


def by_kind_table(analysis: Analysis) -> Table:
    """The MobileNetV1 paper's Table 2 view: per layer kind, counts and shares of the total."""
    table = Table(("kind", "layers", "mult-adds", "share", "params", "share", "flops", "share",
                   "memory access (B)", "share"))
    for kind, row in analysis.by_kind().items():
        table.add(kind, row["layers"], grouped(row["madds"]), percent(row["madds_share"]),
                  grouped(row["params"]), percent(row["params_share"]), grouped(row["flops"]),
                  percent(row["flops_share"]), grouped(row["memory_access_bytes"]),
                  percent(row["memory_access_bytes_share"]))
    return table


def _csv_totals(analysis: Analysis) -> Table:
    height, width = analysis.resolution
    keys = ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")
    table = Table(("model", "alpha", "resolution", "convention", "dtype") + keys)
    table.add(analysis.model, f"{analysis.alpha:g}", height if height == width else f"{height}x{width}",
              analysis.convention, analysis.dtype, *(analysis.totals[key] for key in keys))
    return table


def _csv_layers(analysis: Analysis) -> Table:
    keys = ("params", "madds", "flops", "memory_access_bytes", "activation_bytes")
    table = Table(("name", "kind", "output_shape") + keys)
    for layer in analysis.layers:
        table.add(layer.name, layer.kind, format_shape(layer.output_shape), *(getattr(layer, k) for k in keys))
    return table


def _csv_by_kind(analysis: Analysis) -> Table:
    keys = ("layers", "params", "params_share", "madds", "madds_share", "flops", "flops_share",
            "memory_access_bytes", "memory_access_bytes_share")
    table = Table(("kind",) + keys)
    for kind, row in analysis.by_kind().items():
        table.add(kind, *(repr(row[key]) if isinstance(row[key], float) else row[key] for key in keys))
    return table


def render(analysis: Analysis, fmt: str = "text", per_layer: bool = False, by_kind: bool = False) -> str:
    """The analysis in ``fmt``. Text and Markdown show the totals and, when asked, the per-layer and per-kind
    tables; CSV holds one table (totals, or the one asked for); JSON always holds totals, layers and by_kind."""
    convention = CONVENTIONS[analysis.convention].summary
    if fmt == "json":
        return json.dumps(analysis.to_dict(), indent=2) + "\n"
    if fmt == "csv":
        if per_layer and by_kind:
            raise CostModelError("CSV holds one table: give --per-layer or --by-kind, not both")
        table = _csv_layers(analysis) if per_layer else _csv_by_kind(analysis) if by_kind else _csv_totals(analysis)
        return table.csv()
    if fmt == "text":
        parts = [_setting(analysis) + "\n"]
        if per_layer:
            parts += ["\n", layers_table(analysis).text()]
        if by_kind:
            parts += ["\n", by_kind_table(analysis).text()]
        parts += ["\n", totals_table(analysis).text(),
                  f"\npeak activation at {analysis.peak_node}; units are decimal (M = 10^6, MB = 10^6 bytes)\n",
                  f"FLOPs convention '{analysis.convention}': {convention}\n"]
        if analysis.network.source:
            parts.append(f"architecture: {analysis.network.source}\n")
        return "".join(parts)
    if fmt == "markdown":
        parts = [f"# {analysis.model}\n\n`{_setting(analysis)}`\n\n", totals_table(analysis).markdown()]
        if by_kind:
            parts += ["\n## By layer kind\n\n", by_kind_table(analysis).markdown(),
                      "\n" + ", ".join(f"{k}: {KIND_TITLES[k]}" for k in analysis.by_kind()) + "\n"]
        if per_layer:
            parts += ["\n## Layers\n\n", layers_table(analysis).markdown()]
        parts.append(f"\nFLOPs convention '{analysis.convention}': {convention}.\n")
        if analysis.network.source:
            parts.append(f"Architecture: {analysis.network.source}.\n")
        return "".join(parts)
    raise CostModelError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
