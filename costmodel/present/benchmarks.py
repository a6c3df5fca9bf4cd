"""``bench``'s measurements (``bench.Benchmark``) as text, CSV, JSON and Markdown."""
from __future__ import annotations

import csv as csv_module
import io
from typing import Any

from ..core.formatting import Table, json_text


def table(result: Any) -> Table:
    """Each layer's median, quartiles and share of the layers' sum."""
    layer_sum = sum(layer.median_ms for layer in result.layers) or 1.0
    rows: list[tuple[str, ...]] = [
        (layer.name, layer.kind, f"{layer.median_ms:.3f}", f"{layer.q1_ms:.3f}-{layer.q3_ms:.3f}",
         f"{100 * layer.median_ms / layer_sum:.1f}%") for layer in result.layers]
    return Table(("name", "kind", "median (ms)", "quartiles (ms)", "share"), rows, ("l", "l", "r", "r", "r"))


def text(result: Any) -> str:
    """The setting, the layers' table and the whole network's median."""
    height, width = result.resolution
    lines = [f"{result.model}  alpha={result.alpha:g}  input {height}x{width}  batch {result.batch}  "
             f"{result.threads} thread(s)  torch {result.torch}", "",
             table(result).text().rstrip("\n"), "",
             f"whole network: {result.median_ms:.3f} ms median (quartiles {result.q1_ms:.3f}-{result.q3_ms:.3f}) "
             f"over {result.repeats} runs after {result.warmup} warm-up runs; the layers, each timed on its own, sum "
             f"to {sum(layer.median_ms for layer in result.layers):.3f} ms"]
    return "\n".join(lines) + "\n"


def csv(result: Any) -> str:
    """The whole network's row, then each layer's, in milliseconds as measured."""
    out = io.StringIO()
    writer = csv_module.writer(out, lineterminator="\n")
    writer.writerow(("name", "kind", "median_ms", "q1_ms", "q3_ms"))
    writer.writerow(("(whole network)", "", result.median_ms, result.q1_ms, result.q3_ms))
    for layer in result.layers:
        writer.writerow((layer.name, layer.kind, layer.median_ms, layer.q1_ms, layer.q3_ms))
    return out.getvalue()


def render(result: Any, fmt: str) -> str:
    """``result`` in ``fmt``."""
    if fmt == "json":
        return json_text(result.to_dict())
    return {"text": text, "csv": csv, "markdown": lambda r: table(r).markdown()}[fmt](result)
