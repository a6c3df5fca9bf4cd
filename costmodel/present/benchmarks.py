"""``bench``'s measurements (``bench.Benchmark``) as text, CSV, JSON and Markdown."""
from __future__ import annotations

import csv as csv_module
import io
from typing import Any

from ..core.formatting import Table, counted, json_text
from ..latency.bench import BETWEEN, WHOLE


def table(result: Any) -> Table:
    """Each layer's minimum, its spread between windows, its median and its share of the whole network's minimum,
    then the time between the layers."""
    whole = result.whole.value or 1.0
    rows: list[tuple[str, ...]] = [
        (layer.name, layer.kind, f"{layer.time.value:.3f}", _spread(layer.time), f"{layer.time.median:.3f}",
         f"{100 * layer.time.value / whole:.1f}%") for layer in result.layers]
    if result.layers:
        rows.append((BETWEEN, "", f"{result.between_ms:.3f}", "-", "-", f"{100 * result.between_ms / whole:.1f}%"))
    return Table(("name", "kind", "min (ms)", "windows within", "median (ms)", "share"), rows,
                 ("l", "l", "r", "r", "r", "r"))


def _spread(figure: Any) -> str:
    return f"{figure.spread:.1%}" if len(figure.windows) > 1 else "-"


def text(result: Any) -> str:
    """The setting, the layers' table and the whole network's figure."""
    height, width = result.resolution
    how = "the file as it is" if str(result.model).lower().endswith(".onnx") else f"exported with torch {result.torch}"
    engine = f"torch {result.torch}" if result.engine == "torch" else f"onnxruntime {result.engine_version} ({how})"
    lines = [f"{result.model}  alpha={result.alpha:g}  input {height}x{width}  batch {result.batch}  "
             f"{counted(result.threads, 'thread')}  {engine}  {result.heap} heap", ""]
    if result.layers:
        lines += [table(result).text().rstrip("\n"), ""]
    clocked = "profiled" if result.engine == "onnxruntime" else "layer-clocked"
    rounds = f"rounds of {result.per_round} whole" + (f" and {result.per_round} {clocked}" if result.layers else "")
    lines.append(f"whole network: {result.whole.describe(digits=3)}, after {result.warmup} warm-up runs, in "
                 f"{rounds} runs")
    if result.layers:
        lines.append(f"the layers summed within a run: {result.layers_total.describe(digits=3)}; the whole network's "
                     f"minimum less that, {result.between_ms:.3f} ms {BETWEEN}, is {result.between_means()}")
    lines.append(f"each figure is the minimum of its runs (noise on a shared machine only adds time); 'windows "
                 f"within' is how far that minimum moved between {result.windows} windows of the run")
    return "\n".join(lines) + "\n"


def csv(result: Any) -> str:
    """The whole network's row, then each layer's, then the time between the layers, in milliseconds as measured
    (spread as a fraction; the between-layers row has none)."""
    out = io.StringIO()
    writer = csv_module.writer(out, lineterminator="\n")
    writer.writerow(("name", "kind", "min_ms", "spread", "median_ms", "runs"))
    writer.writerow((WHOLE, "", result.whole.value, result.whole.spread, result.whole.median, result.whole.runs))
    for layer in result.layers:
        writer.writerow((layer.name, layer.kind, layer.time.value, layer.time.spread, layer.time.median,
                         layer.time.runs))
    if result.layers:
        writer.writerow((BETWEEN, "", result.between_ms, "", "", ""))
    return out.getvalue()


def render(result: Any, fmt: str) -> str:
    """``result`` in ``fmt``."""
    if fmt == "json":
        return json_text(result.to_dict())
    return {"text": text, "csv": csv, "markdown": lambda r: table(r).markdown()}[fmt](result)
