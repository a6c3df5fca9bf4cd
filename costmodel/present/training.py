"""What ``costmodel table --training`` prints: a training step (``engine.training.Training``) as its totals and,
per layer, the forward's and backward's mult-adds and FLOPs and the activations each layer saves, in text, Markdown,
CSV or JSON."""
from __future__ import annotations

from typing import Any

from ..core.conventions import CONVENTIONS
from ..core.formatting import Table, counted, grouped, json_text, printable, si, si_bytes
from .analyses import chosen_rows, input_text

# (field, title, in bytes) of each total shown, in order
TOTALS = (
    ("trainable_params", "trainable params", False),
    ("forward_madds", "forward mult-adds", False),
    ("backward_madds", "backward mult-adds", False),
    ("step_madds", "step mult-adds", False),
    ("forward_flops", "forward FLOPs", False),
    ("backward_flops", "backward FLOPs", False),
    ("step_flops", "step FLOPs", False),
    ("saved_bytes", "saved activations", True),
    ("params_bytes", "parameters", True),
    ("gradient_bytes", "gradients", True),
    ("optimizer_bytes", "optimizer state", True),
    ("transient_bytes", "largest transient", True),
    ("peak_bytes", "peak of a step", True),
)
# (field, column) of the per-layer table
LAYER_COLUMNS = (("trainable_params", "trainable"), ("forward_madds", "fwd madds"),
                 ("input_madds", "bwd input madds"), ("weight_madds", "bwd weight madds"),
                 ("forward_flops", "fwd flops"), ("backward_flops", "bwd flops"), ("saved_bytes", "saved (B)"))
PEAK = ("peak of a step = parameters + gradients + optimizer state + saved activations + largest transient "
        "(the gradients live at one layer's backward): an estimate of what an allocator holds")


def setting_text(training: Any) -> str:
    analysis = training.analysis
    depth = f"  depth={analysis.depth:g}" if analysis.depth != 1.0 else ""
    return (f"{printable(analysis.model)}  alpha={analysis.alpha:g}{depth}  input {input_text(analysis)}  "
            f"dtype={analysis.dtype}  training step, optimizer {training.optimizer}")


def notes(training: Any) -> list[str]:
    """The lines under the totals (each within 100 columns): the backward's parts, what is saved, what the peak
    holds and where the transient is, the FLOPs convention, frozen layers."""
    totals = training.totals
    convention = CONVENTIONS[training.analysis.convention]
    lines = [f"backward: input gradients {si(totals['input_madds'])} + parameter gradients "
             f"{si(totals['weight_madds'])} mult-adds",
             "saved activations: the tensors autograd keeps for the backward, each buffer once",
             "peak = parameters + gradients + optimizer state + saved activations + largest transient",
             "largest transient: the gradients live at one layer's backward"
             + (" (and a checkpointed segment's activations)" if training.checkpoint else "")
             + (f" ({printable(training.transient_node)})" if training.transient_node else ""),
             f"FLOPs ({convention.name}): {convention.short}"]
    if training.checkpoint:
        lines.append(f"checkpointed: {', '.join(printable(name) for name in training.checkpoint)}, recomputed in the "
                     f"backward ({si(totals['recompute_flops'])} FLOPs)")
    if training.frozen:
        lines.append(f"frozen: {', '.join(printable(name) for name in training.frozen)} "
                     f"({counted(totals['trainable_params'], 'param')} trainable)")
    return lines


def totals_table(training: Any) -> Table:
    table = Table(("metric", "value", "exact"), align=("l", "r", "r"))
    totals = training.totals
    shown = TOTALS if not training.checkpoint else \
        TOTALS[:6] + (("recompute_flops", "recomputed FLOPs", False),) + TOTALS[6:]
    for field, title, in_bytes in shown:
        value = totals[field]
        if field == "optimizer_bytes":
            title = f"{title} ({training.optimizer})"
        table.add(title, si_bytes(value) if in_bytes else si(value), f"{grouped(value)}{' B' if in_bytes else ''}")
    return table


def chosen_layers(training: Any, sort: "str | None", top: "int | None") -> tuple[list[Any], str]:
    """The layers of the per-layer table (``analyses.chosen_rows`` over the step's layers and columns)."""
    fields = [field for field, _ in LAYER_COLUMNS] + ["input_flops", "weight_flops", "backward_madds"]
    return chosen_rows(list(training.layers), fields, sort, top)


def layers_table(training: Any, layers: list[Any]) -> Table:
    table = Table(("name", "kind", *(column for _, column in LAYER_COLUMNS)),
                  align=("l", "l") + ("r",) * len(LAYER_COLUMNS))
    for layer in layers:
        table.add(layer.name, layer.kind, *(grouped(getattr(layer, field)) for field, _ in LAYER_COLUMNS))
    totals = training.totals
    table.add("total", "", *(grouped(totals[field]) for field, _ in LAYER_COLUMNS))
    return table


def render(training: Any, fmt: str, per_layer: bool = False, sort: "str | None" = None,
           top: "int | None" = None) -> str:
    """``training`` as text, Markdown, CSV (the per-layer table with ``per_layer``, else the totals) or JSON.

    :param training: an ``engine.training.Training``.
    :param fmt: text, csv, json or markdown.
    :param per_layer: the per-layer table too.
    :param sort: a per-layer column to sort by, largest first.
    :param top: how many layers the per-layer table lists.
    :returns: the text."""
    layers, left_out = chosen_layers(training, sort, top) if per_layer else ([], "")
    if fmt == "json":
        return json_text(training.to_dict())
    if fmt == "csv":
        if per_layer:
            return layers_table(training, layers).csv()
        table = Table(("metric", "value"))
        for field, _, _ in TOTALS:
            table.add(field, training.totals[field])
        return table.csv()
    if fmt == "markdown":
        parts = [f"**{setting_text(training)}**\n", totals_table(training).markdown()]
        parts += [f"- {line}\n" for line in notes(training)]
        if per_layer:
            parts += ["\n", layers_table(training, layers).markdown()] + ([f"\n{left_out}\n"] if left_out else [])
        return "".join(parts)
    parts = [setting_text(training), "", totals_table(training).text().rstrip("\n"), ""] + notes(training)
    if per_layer:
        parts += ["", layers_table(training, layers).text().rstrip("\n")] + ([left_out] if left_out else [])
    return "\n".join(parts) + "\n"
