"""What ``costmodel table`` prints: an ``Analysis`` as totals, per-layer rows and the per-kind roll-up, in text,
Markdown, CSV or JSON, and with a calibrated profile (``--device``) its predicted latency. Only reads the analysis;
the columns come from the metric list (``metrics``)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.conventions import CONVENTIONS
from ..core.errors import CostModelError, ParameterError, param
from ..core.formatting import Table, counted, grouped, json_text, percent, printable
from ..core.metrics import layer_metrics, summed_metrics, total_metrics
from ..ops import definitions, kind_titles
from ..engine.analysis import Analysis
from ..core.shapes import format_shape

if TYPE_CHECKING:
    from ..latency.profiles import Profile

FORMATS = ("text", "csv", "json", "markdown")


def input_text(analysis: Analysis) -> str:
    """``3x224x224``, or ``8x3x224x224`` for a batch of 8."""
    shape = analysis.input_shape
    return "x".join(str(size) for size in (shape.dims if shape.batch != 1 else shape.sample))


def setting_text(analysis: Analysis) -> str:
    depth = f"  depth={analysis.depth:g}" if analysis.depth != 1.0 else ""
    fused = "  fused view" if analysis.fused else ""
    return (f"{printable(analysis.model)}  alpha={analysis.alpha:g}{depth}  input {input_text(analysis)}  "
            f"dtype={analysis.dtype}{fused}")


def totals_table(analysis: Analysis) -> Table:
    """Each total with a unit and exactly."""
    table = Table(("metric", "value", "exact"), align=("l", "r", "r"))
    for metric in total_metrics():
        value = analysis.totals[metric.field]
        table.add(metric.title(analysis.convention), metric.human(value), metric.exact(value))
    return table


def layers_table(analysis: Analysis) -> Table:
    """One row per layer, exact counts, and a total row."""
    metrics = layer_metrics()
    table = Table(("name", "kind", "output", *(metric.column for metric in metrics)),
                  align=("l", "l", "l") + ("r",) * len(metrics))
    for layer in analysis.layers:
        table.add(layer.name, layer.kind, format_shape(layer.output_shape),
                  *(grouped(layer.field(metric.field)) for metric in metrics))
    table.add("total", "", "", *(grouped(analysis.totals[metric.field]) if metric.total == "sum" else ""
                                 for metric in metrics))
    return table


def by_kind_table(analysis: Analysis) -> Table:
    """The MobileNetV1 paper's Table 2 view: per layer kind, counts and shares of the total."""
    metrics = summed_metrics()
    table = Table(("kind", "layers", *(title for metric in metrics for title in (metric.column, "share"))))
    for kind, row in analysis.by_kind().items():
        table.add(kind, row["layers"], *(cell for metric in metrics for cell in
                                         (grouped(row[metric.field]), percent(row[f"{metric.field}_share"]))))
    return table


def _csv_totals(analysis: Analysis) -> Table:
    height, width = analysis.resolution
    metrics = total_metrics()
    table = Table(("model", "alpha", "depth", "resolution", "batch", "convention", "dtype",
                   *(metric.field for metric in metrics)))
    table.add(analysis.model, f"{analysis.alpha:g}", f"{analysis.depth:g}",
              height if height == width else f"{height}x{width}",
              analysis.batch, analysis.convention, analysis.dtype,
              *(analysis.totals[metric.field] for metric in metrics))
    return table


def _csv_layers(analysis: Analysis) -> Table:
    metrics = layer_metrics()
    table = Table(("name", "kind", "output_shape", *(metric.field for metric in metrics)))
    for layer in analysis.layers:
        table.add(layer.name, layer.kind, format_shape(layer.output_shape),
                  *(layer.field(metric.field) for metric in metrics))
    return table


def _csv_by_kind(analysis: Analysis) -> Table:
    keys = ["layers"] + [key for metric in summed_metrics() for key in (metric.field, f"{metric.field}_share")]
    table = Table(("kind", *keys))
    for kind, row in analysis.by_kind().items():
        table.add(kind, *(repr(row[key]) if isinstance(row[key], float) else row[key] for key in keys))
    return table


def ops_reference() -> str:
    """The guide's table of spec-file ops (docs/own-networks.md): per family (``ops`` module), each op's name,
    fields and kinds."""
    rows = ["| family | op | fields | kind |", "|---|---|---|---|"]
    for op_def in definitions():
        family = op_def.op.__module__.rsplit(".", 1)[-1]
        fields = op_def.spec.fields.replace("|", "\\|") or "-"
        rows.append(f"| {family} | `{op_def.spec.name}` | {fields} | {', '.join(op_def.kinds)} |")
    return "\n".join(rows) + "\n"


def json_schema() -> str:
    """The schema of ``costmodel table --format json``, from the metric list (docs/commands.md shows this text)."""
    from ..core.conventions import CONVENTIONS as conventions

    def fields(metrics: tuple) -> str:
        return ", ".join(f'"{metric.field}"' for metric in metrics)

    kinds = ", ".join(kind_titles())
    lines = [
        "{",
        '  "model": str, "alpha": float, "depth": float, "resolution": int (or [H, W] when not square), "batch": int,',
        f'  "convention": {" | ".join(repr(name).replace(chr(39), chr(34)) for name in conventions)}, "dtype": str,',
        '  "fused": bool   the fused inference view (--fused)',
        f'  "totals": {{{fields(total_metrics())}}},   all exact ints',
        '  "layers": [{"name", "kind", "output_shape": per-sample sizes ([C, H, W], [L, C], [F], ...),',
        '              "layout": "NCHW" | "NLC" | "NC" | another (one letter per axis, batch N first),',
        f'              {fields(layer_metrics())},',
        '              "covers": [node, ...] (a fused kernel only: the unfused nodes it stands for)}],',
        f'  "by_kind": {{kind: {{"layers", {fields(summed_metrics())}, "<each>_share"}}}},',
        '  "not_counted": {call: times}   an imported module\'s calls costmodel has no formula for ({} if none)',
        "}",
    ]
    meanings = [f"- `{metric.field}`: {metric.description}." for metric in (*total_metrics(), *layer_metrics())
                if metric.field]
    unique = list(dict.fromkeys(meanings))
    import textwrap

    return ("\n".join(lines) + "\n\n" + "\n".join(textwrap.wrap("kind: " + kinds, 116)) + "\n\n" +
            "\n".join(unique) + "\n")


def not_counted_text(analysis: Analysis) -> str:
    """``not counted: aten.foo x 3, ...``: the calls of an imported module costmodel has no formula for."""
    calls = ", ".join(f"{printable(target)} x {count}" for target, count in sorted(analysis.not_counted().items()))
    return f"not counted: {calls} (kept with their shapes and parameters; 0 for everything else)"


def render(analysis: Analysis, fmt: str = "text", per_layer: bool = False, by_kind: bool = False,
           explain: bool = False) -> str:
    """The analysis in ``fmt``. Text and Markdown show the totals and, when asked, the per-layer and per-kind
    tables; CSV holds one table (totals, or the one asked for); JSON always holds totals, layers and by_kind. Text
    names the FLOPs convention in one short line, or with ``explain`` states it in full (Markdown always does)."""
    convention = CONVENTIONS[analysis.convention].summary
    if fmt == "json":
        return json_text(analysis.to_dict())
    if fmt == "csv":
        if per_layer and by_kind:
            raise ParameterError("CSV holds one table: give ", param("per_layer"), " or ", param("by_kind"),
                                 ", not both")
        table = _csv_layers(analysis) if per_layer else _csv_by_kind(analysis) if by_kind else _csv_totals(analysis)
        return table.csv()
    if fmt == "text":
        parts = [setting_text(analysis) + "\n"]
        if per_layer:
            parts += ["\n", layers_table(analysis).text()]
        if by_kind:
            parts += ["\n", by_kind_table(analysis).text()]
        parts += ["\n", totals_table(analysis).text(),
                  f"\npeak activation at {analysis.peak_node}; units are decimal (M = 10^6, MB = 10^6 bytes)\n",
                  (f"FLOPs convention '{analysis.convention}': {convention}\n" if explain else
                   CONVENTIONS[analysis.convention].line() + "\n")]
        if analysis.network.source:
            parts.append(f"architecture: {printable(analysis.network.source)}\n")
        if analysis.not_counted():
            parts.append(f"{not_counted_text(analysis)}\n")
        return "".join(parts)
    if fmt == "markdown":
        parts = [f"# {printable(analysis.model)}\n\n`{setting_text(analysis)}`\n\n", totals_table(analysis).markdown()]
        if by_kind:
            titles = kind_titles()
            parts += ["\n## By layer kind\n\n", by_kind_table(analysis).markdown(),
                      "\n" + ", ".join(f"{k}: {titles[k]}" for k in analysis.by_kind()) + "\n"]
        if per_layer:
            parts += ["\n## Layers\n\n", layers_table(analysis).markdown()]
        parts.append(f"\nFLOPs convention '{analysis.convention}': {convention}.\n")
        if analysis.network.source:
            parts.append(f"Architecture: {printable(analysis.network.source)}.\n")
        if analysis.not_counted():
            parts.append(f"\n{not_counted_text(analysis)}\n")
        return "".join(parts)
    raise CostModelError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")


def latency_section(analysis: Analysis, profile: Profile, fmt: str, per_layer: bool) -> Any:
    """The latency section of ``costmodel table --device``: the predicted latency of ``analysis`` on ``profile``.

    :param analysis: an ``Analysis`` in the view the profile prices (``Profile.priced``).
    :param profile: a calibrated ``latency.Profile``.
    :param fmt: ``json``, ``text`` or ``markdown``.
    :param per_layer: each layer's predicted latency too (text and Markdown; JSON always has them).
    :returns: a dict for JSON, else the text.
    """
    layer_ms = profile.layer_ms(analysis)
    total = sum(layer_ms)
    if fmt == "json":
        return {"profile": profile.name, "view": profile.view, "engine": profile.engine, "total_ms": total,
                "layers_ms": {layer.name: ms for layer, ms in zip(analysis.layers, layer_ms)}}
    lines = []
    if per_layer:
        table = Table(("name", "kind", "predicted (ms)", "share"), align=("l", "l", "r", "r"))
        for layer, ms in zip(analysis.layers, layer_ms):
            table.add(layer.name, layer.kind, f"{ms:.3f}", f"{100 * ms / total:.1f}%" if total else "-")
        lines.append(table.markdown() if fmt == "markdown" else table.text())
    engine = f"{profile.engine}, " if profile.engine != "torch" else ""
    lines.append(f"predicted latency on {printable(profile.name)} ({engine}{profile.view} view, "
                 f"{counted(profile.threads, 'thread')}): {total:.2f} ms\n")
    return "\n".join(lines)
