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


def inputs_text(layer: Any) -> str:
    """A layer's inputs' shapes, ``16x56x56`` (several joined by ``, ``)."""
    return ", ".join(format_shape(shape) for shape in layer.input_shapes)


def chosen_rows(layers: "list[Any]", fields: "list[str]", sort: "str | None" = None,
                top: "int | None" = None) -> tuple[list[Any], str]:
    """The layers a per-layer table lists: every one of ``layers`` in execution order, or sorted by the field
    ``sort`` (largest first), the first ``top`` of them.

    :param layers: the rows, each with an attribute per field.
    :param fields: the fields a table may be sorted by.
    :param sort: one of ``fields``, or None.
    :param top: how many layers (None: every one).
    :returns: (the layers, a note on those left out: "" when none is)."""
    if sort is not None and sort not in fields:
        raise ParameterError(param("sort"), f" must be a layer's column: one of {', '.join(fields)}; got {sort!r}")
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ParameterError(param("top"), f" must be a positive number of layers, got {top!r}")
    chosen = list(layers)
    if sort is not None:
        chosen.sort(key=lambda layer: -getattr(layer, sort))
    if top is None or top >= len(chosen):
        return chosen, ""
    by = f" with the most {sort}" if sort is not None else ""
    return chosen[:top], f"the {counted(top, 'layer')}{by} of {len(layers):,}; the total is every layer's"


def chosen_layers(analysis: Analysis, sort: "str | None" = None, top: "int | None" = None) -> tuple[list[Any], str]:
    """The layers an analysis's per-layer table lists (``chosen_rows`` over its layers and per-layer metrics).

    :param analysis: the analysis.
    :param sort: a per-layer metric's field (``madds``, ``params``, ``memory_access``...), or None.
    :param top: how many layers (None: every one).
    :returns: (the layers, a note on those left out: "" when none is)."""
    return chosen_rows(list(analysis.layers), [metric.field for metric in layer_metrics()], sort, top)


def layers_table(analysis: Analysis, layers: "list[Any] | None" = None) -> Table:
    """One row per layer (``layers``, default every one), its input and output shapes and exact counts, and a row
    of the network's totals."""
    metrics = layer_metrics()
    table = Table(("name", "kind", "input", "output", *(metric.column for metric in metrics)),
                  align=("l", "l", "l", "l") + ("r",) * len(metrics))
    for layer in analysis.layers if layers is None else layers:
        table.add(layer.name, layer.kind, inputs_text(layer), format_shape(layer.output_shape),
                  *(grouped(layer.field(metric.field)) for metric in metrics))
    table.add("total", "", "", "", *(grouped(analysis.totals[metric.field]) if metric.total == "sum" else ""
                                     for metric in metrics))
    return table


def modules_table(analysis: Analysis, max_depth: "int | None" = None) -> Table:
    """The layers rolled up the module tree (``Analysis.by_module``): a row per module down to ``max_depth``,
    indented by its depth, with how many layers it holds and their summed counts."""
    metrics = summed_metrics()
    table = Table(("module", "layers", *(metric.column for metric in metrics)),
                  align=("l", "r") + ("r",) * len(metrics))
    for row in analysis.by_module(max_depth):
        name = "  " * max(0, row["depth"] - 1) + row["module"] if row["module"] else "(network)"
        table.add(name, row["layers"], *(grouped(row[metric.field]) for metric in metrics))
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


def _csv_layers(analysis: Analysis, layers: "list[Any] | None" = None) -> Table:
    metrics = layer_metrics()
    table = Table(("name", "kind", "input_shape", "output_shape", *(metric.field for metric in metrics)))
    for layer in analysis.layers if layers is None else layers:
        table.add(layer.name, layer.kind, inputs_text(layer), format_shape(layer.output_shape),
                  *(layer.field(metric.field) for metric in metrics))
    return table


def _csv_modules(analysis: Analysis, max_depth: "int | None") -> Table:
    metrics = summed_metrics()
    table = Table(("module", "depth", "layers", *(metric.field for metric in metrics)))
    for row in analysis.by_module(max_depth):
        table.add(row["module"], row["depth"], row["layers"], *(row[metric.field] for metric in metrics))
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
           explain: bool = False, by_module: bool = False, max_depth: "int | None" = None, sort: "str | None" = None,
           top: "int | None" = None) -> str:
    """The analysis in ``fmt``. Text and Markdown show the totals and, when asked, the per-layer, per-module and
    per-kind tables; CSV holds one table (totals, or the one asked for); JSON always holds totals, layers and
    by_kind (and by_module when asked). Text names the FLOPs convention in one short line, or with ``explain``
    states it in full (Markdown always does).

    :param analysis: the analysis.
    :param fmt: text, csv, json or markdown.
    :param per_layer: the table of layers (``sort`` and ``top`` choose its rows: ``chosen_layers``).
    :param by_kind: the per-kind table.
    :param explain: the FLOPs convention in full under a text table.
    :param by_module: the layers rolled up the module tree, to ``max_depth`` levels (``Analysis.by_module``).
    :param max_depth: the deepest module listed (None: every level).
    :param sort: a per-layer metric the layers are sorted by, largest first.
    :param top: how many layers the table lists.
    :returns: the text."""
    convention = CONVENTIONS[analysis.convention].summary
    layers, left_out = chosen_layers(analysis, sort, top)
    if fmt == "json":
        document = analysis.to_dict()
        if by_module:
            document["by_module"] = analysis.by_module(max_depth)
        return json_text(document)
    if fmt == "csv":
        if per_layer + by_kind + by_module > 1:
            raise ParameterError("CSV holds one table: give one of ", param("per_layer"), ", ", param("by_kind"),
                                 " or ", param("by_module"))
        table = (_csv_layers(analysis, layers) if per_layer else _csv_by_kind(analysis) if by_kind else
                 _csv_modules(analysis, max_depth) if by_module else _csv_totals(analysis))
        return table.csv()
    if fmt == "text":
        parts = [setting_text(analysis) + "\n"]
        if per_layer:
            parts += ["\n", layers_table(analysis, layers).text(), *([f"{left_out}\n"] if left_out else [])]
        if by_module:
            parts += ["\n", modules_table(analysis, max_depth).text()]
        if by_kind:
            parts += ["\n", by_kind_table(analysis).text()]
        parts += ["\n", totals_table(analysis).text(),
                  f"\npeak activation at {analysis.peak_node}; units are decimal (M = 10^6, MB = 10^6 bytes)\n",
                  (f"FLOPs convention '{analysis.convention}': {convention}\n" if explain else
                   CONVENTIONS[analysis.convention].line() + "; --explain says more\n")]
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
        if by_module:
            parts += ["\n## By module\n\n", modules_table(analysis, max_depth).markdown()]
        if per_layer:
            parts += ["\n## Layers\n\n", layers_table(analysis, layers).markdown(),
                      *([f"\n{left_out}.\n"] if left_out else [])]
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
