"""What the report templates receive: plain values computed from costmodel's passes (and fvcore's counts when
torch is installed). Nothing here formats HTML; the templates only lay these values out.
"""
from __future__ import annotations

import sys
from contextlib import nullcontext
from typing import Any, Mapping, Sequence

from ..analysis import Analysis, analyze
from ..conventions import CONVENTIONS
from ..errors import CostModelError
from ..formatting import grouped, percent, si_bytes
from ..metrics import layer_metrics, summed_metrics, total_metrics
from ..ops import kind_titles
from ..shapes import format_shape
from ..views import input_text
from ..zoo import MODELS
from . import plots
from .devices import Device
from .review import review

GRID_ALPHAS = (0.25, 0.35, 0.5, 0.75, 1.0, 1.25, 1.4)
GRID_SCALES = (3 / 7, 4 / 7, 5 / 7, 6 / 7, 1.0, 8 / 7)      # 96 .. 256 at a base of 224
WEIGHTED = ("conv", "pointwise", "depthwise", "group", "linear")


def progress(items: Sequence[Any], label: str) -> Any:
    """A progress bar on a terminal (stderr), nothing otherwise."""
    if sys.stderr.isatty() and len(items) > 8:
        import click
        return click.progressbar(items, label=label, file=sys.stderr)
    return nullcontext(items)


def summary(result: Analysis) -> list[dict[str, str]]:
    """The headline figures (every total), each with a unit and exactly, and the arithmetic intensity."""
    totals = result.totals
    rows = []
    for metric in total_metrics():
        value = totals[metric.field]
        exact = metric.exact(value) + (f" at {result.peak_node}" if metric.total == "peak" else "")
        rows.append({"metric": metric.title(result.convention), "value": metric.human(value), "exact": exact})
    intensity = totals["madds"] / totals["memory_access_bytes"] if totals["memory_access_bytes"] else 0.0
    rows.append({"metric": "arithmetic intensity", "value": f"{intensity:.2f}", "exact": "mult-adds per byte moved"})
    return rows


def layer_columns() -> dict[str, list[str]]:
    """The per-layer table's metric columns and share columns."""
    return {"values": [metric.heading for metric in layer_metrics()],
            "shares": [f"{metric.label} share" for metric in summed_metrics()]}


def layer_rows(result: Analysis) -> list[dict[str, Any]]:
    """One row per layer with exact counts and shares of the totals (shares as numbers for sorting)."""
    totals = result.totals
    rows = []
    for index, layer in enumerate(result.layers):
        rows.append({
            "index": index, "name": layer.name, "kind": layer.kind, "output": format_shape(layer.output_shape),
            "values": [layer.field(metric.field) for metric in layer_metrics()],
            "shares": [100 * layer.field(metric.field) / totals[metric.field] if totals[metric.field] else 0.0
                       for metric in summed_metrics()],
        })
    return rows


def kind_rows(result: Analysis) -> list[dict[str, Any]]:
    """The per-kind roll-up: each summed metric with its share."""
    titles = kind_titles()
    return [{"kind": kind, "title": titles[kind], "layers": row["layers"],
             "cells": [(row[metric.field], percent(row[f"{metric.field}_share"])) for metric in summed_metrics()]}
            for kind, row in result.by_kind().items()]


def _grid_axes(model: Any, network: Any, alpha: float) -> tuple[tuple[float, ...], tuple[int, ...]]:
    entry = MODELS.get(model) if isinstance(model, str) else None
    base = network.base_resolution
    if (entry is not None and not entry.accepts_alpha) or not network.scales_with_alpha:
        alphas: tuple[float, ...] = (1.0,)
    elif entry is not None and entry.alpha_choices:
        alphas = entry.alpha_choices
    else:
        alphas = tuple(sorted(set(GRID_ALPHAS) | {alpha}))
    if entry is not None and not entry.accepts_resolution:
        resolutions: tuple[int, ...] = (base[0],)
    else:
        resolutions = tuple(sorted({max(8, round(base[0] * scale / 8) * 8) for scale in GRID_SCALES}))
    return alphas, resolutions


def width_resolution_grid(model: Any, result: Analysis) -> dict[str, Any]:
    """Mult-adds over a grid of alpha and resolution, and the exact cost against the ideal alpha^2 rho^2 law."""
    network = result.network
    base = network.base_resolution
    alphas, resolutions = _grid_axes(model, network, result.alpha)
    points = [(a, r) for a in alphas for r in resolutions]
    madds: dict[tuple[float, int], int] = {}
    failures: list[str] = []
    with progress(points, "width x resolution grid") as bar:
        for alpha, resolution in bar:
            try:
                madds[(alpha, resolution)] = analyze(network, alpha=alpha, resolution=resolution).totals["madds"]
            except CostModelError as error:
                failures.append(f"alpha={alpha:g}, {resolution}: {error}")
    reference = analyze(network).totals["madds"]
    ideal, exact, labels = [], [], []
    worst = (1.0, "")
    for (alpha, resolution), value in madds.items() if reference else ():  # no mult-adds: no law to compare
        law = alpha ** 2 * (resolution / base[0]) ** 2
        ideal.append(law)
        exact.append(value / reference)
        labels.append(f"{alpha:g}/{resolution}")
        ratio = value / reference / law
        if abs(ratio - 1) > abs(worst[0] - 1):
            worst = (ratio, f"alpha={alpha:g}, {resolution}x{resolution}")
    matrix = [[madds.get((a, r), 0) for r in resolutions] for a in alphas]
    return {
        "alphas": [f"{a:g}" for a in alphas], "resolutions": list(resolutions), "matrix": matrix,
        # a heatmap over alpha only where the network scales with alpha (one row is not a map)
        "heatmap": plots.grid_heatmap(alphas, resolutions, matrix) if len(alphas) > 1 and len(madds) > 1 else "",
        "law": plots.law_chart(ideal, exact, labels) if len(ideal) > 1 else "",
        "worst_ratio": f"{worst[0]:.3f}", "worst_at": worst[1], "failures": failures,
        "points": len(madds),
    }


def memory(result: Analysis) -> dict[str, Any]:
    """Activation size per layer and the live memory over the execution order (the MobileNetV2 Table 3 view)."""
    names = [layer.name for layer in result.layers]
    live = [layer.live_activation_bytes for layer in result.layers]
    peak_index = names.index(result.peak_node) if result.peak_node in names else live.index(max(live))
    by_size: dict[str, int] = {}
    for layer in result.layers:
        if layer.output_shape.layout == "NCHW":
            size = f"{layer.output_shape.size('H')}x{layer.output_shape.size('W')}"
            by_size[size] = max(by_size.get(size, 0), layer.activation_bytes)
    return {
        "chart": plots.memory_chart(names, [layer.activation_bytes for layer in result.layers], live, peak_index),
        "peak": si_bytes(result.totals["peak_activation_bytes"]), "peak_node": result.peak_node,
        "largest_by_size": [{"size": size, "bytes": grouped(value), "human": si_bytes(value)}
                            for size, value in by_size.items()],
    }


def roofline(result: Analysis, device: Device) -> dict[str, Any]:
    """Each layer against the device's roofs, with an estimated time per layer and in total."""
    rows, intensity, attainable, kinds = [], [], [], []
    total_seconds = 0.0
    for layer in result.layers:
        if layer.flops == 0 and layer.memory_access_bytes == 0:
            continue
        seconds = device.seconds(layer.flops, layer.memory_access_bytes)
        total_seconds += seconds
        ai = layer.flops / layer.memory_access_bytes if layer.memory_access_bytes else 0.0
        bound = "compute" if ai >= device.ridge else "memory"
        rows.append({"name": layer.name, "kind": layer.kind, "flops": layer.flops,
                     "bytes": layer.memory_access_bytes, "intensity": f"{ai:.2f}", "bound": bound,
                     "microseconds": f"{seconds * 1e6:.1f}", "seconds": seconds})
        intensity.append(ai)
        attainable.append(min(device.peak_gflops, ai * device.bandwidth_gbps))
        kinds.append(layer.kind)
    for row in rows:
        row["share"] = percent(row["seconds"] / total_seconds) if total_seconds else "0.00%"
    memory_bound = sum(row["seconds"] for row in rows if row["bound"] == "memory")
    return {
        "device": device, "rows": rows, "total_ms": f"{total_seconds * 1e3:.2f}",
        "memory_bound_share": percent(memory_bound / total_seconds) if total_seconds else "0.00%",
        "ridge": f"{device.ridge:.1f}",
        "chart": plots.roofline_chart(device.peak_gflops, device.bandwidth_gbps, intensity, attainable, kinds),
    }


def fvcore_section(result: Analysis, alpha: float, rho: float | None, resolution: Any, batch: int = 1,
                   model: Any = None, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """fvcore's per-layer cross-check when torch and fvcore are installed and the tensors fit in memory; a note
    saying why not otherwise (the report is written either way). An imported module (``model``) is checked on
    itself, a zoo or spec network on its lowering."""
    from ..importer.loader import looks_like_import
    from ..verify import check_memory, compare, require_reference_tools, verify_imported

    what = "the fvcore cross-check"
    try:
        require_reference_tools(what)
        fv = analyze(result.network, alpha=alpha, rho=rho, resolution=resolution, batch=batch, convention="fvcore")
        check_memory(fv, what)
    except CostModelError as error:
        return {"available": False, "note": f"{error}."}
    if isinstance(model, str) and looks_like_import(model):
        check = verify_imported(fv, model, options, "fvcore")
    else:
        from ..torch_lowering import to_torch

        check = compare(fv, to_torch(result.network, alpha=alpha, rho=rho, resolution=resolution, batch=batch),
                        "fvcore")
    rows = [{"name": layer.name, "kind": layer.kind, "flops": layer.flops, "reference": layer.reference_flops,
             "params": layer.params, "reference_params": layer.reference_params, "agrees": layer.agrees}
            for layer in sorted(check.layers, key=lambda layer: layer.agrees)]
    return {"available": True, "agrees": check.agrees, "rows": rows, "total": check.total_flops,
            "reference_total": check.reference_total_flops, "params": check.total_params,
            "reference_params": check.reference_total_params,
            "differing": sum(not row["agrees"] for row in rows),
            "uncounted": ", ".join(f"{op} ({n}x)" for op, n in sorted(check.uncounted_ops.items()))}


def _depth_text(result: Analysis) -> str:
    return f", depth={result.depth:g}" if result.depth != 1.0 else ""


def report_context(model: Any, alpha: float = 1.0, rho: float | None = None, resolution: Any = None,
                   options: Mapping[str, Any] | None = None, device: Device | None = None,
                   dtype: str = "float32", cross_check: bool = True, batch: int = 1, depth: float = 1.0
                   ) -> dict[str, Any]:
    """Everything the single-network report shows."""
    from .devices import load_device

    device = device or load_device()
    result = analyze(model, alpha=alpha, rho=rho, resolution=resolution, options=options, dtype=dtype, batch=batch,
                     depth=depth)
    weighted = [layer for layer in result.layers if layer.kind in WEIGHTED]
    kinds = kind_rows(result)
    by_kind = result.by_kind()
    return {
        "title": f"{result.model} design review",
        "model": result.model, "description": result.network.description, "source": result.network.source,
        "setting": f"alpha={result.alpha:g}{_depth_text(result)}, input {input_text(result)}, {dtype}",
        "options": ", ".join(f"{k}={v}" for k, v in (options or {}).items()),
        "convention": CONVENTIONS[result.convention].summary,
        "summary": summary(result),
        "layer_columns": layer_columns(),
        "layers": layer_rows(result),
        "kind_columns": [metric.heading for metric in summed_metrics()],
        "kinds": kinds,
        "kind_chart": plots.by_kind_chart([k["kind"] for k in kinds], [by_kind[k["kind"]]["madds_share"] for k in kinds],
                                          [by_kind[k["kind"]]["params_share"] for k in kinds],
                                          [by_kind[k["kind"]]["memory_access_bytes_share"] for k in kinds]),
        "depth_chart": plots.depth_chart([l.name for l in weighted], [l.madds for l in weighted],
                                         [l.params for l in weighted], [l.kind for l in weighted])
        if weighted else "",
        "grid": width_resolution_grid(model, result),
        "memory": memory(result),
        "roofline": roofline(result, device),
        "review": review(result),
        "fvcore": fvcore_section(result, alpha, rho, resolution, batch, model, options) if cross_check else
        {"available": False, "note": "the fvcore cross-check was not requested."},
    }


def parse_compare_spec(text: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``"mobilenet_v1:alpha=0.75,resolution=160,groups=3"`` as (model, analyze arguments, model options).
    ``alpha``, ``rho``, ``depth``, ``resolution`` (N or HxW) and ``batch`` are analysis arguments; other keys are
    the model's options."""
    from ..importer.loader import looks_like_import
    from ..models import is_zoo_model

    model, _, rest = text.partition(":")
    if looks_like_import(text) and not is_zoo_model(model):     # file.py:factory[:key=value,...]
        factory, _, rest = rest.partition(":")
        model = f"{model}:{factory}"
    if not model:
        raise CostModelError(f"compare: {text!r} names no model (write MODEL or MODEL:key=value,...)")
    arguments: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CostModelError(f"compare: {pair!r} in {text!r} must be written key=value")
        try:
            if key in ("alpha", "rho", "depth"):
                arguments[key] = float(value)
            elif key == "resolution":
                arguments[key] = value
            elif key == "batch":
                arguments[key] = int(value)
            else:
                options[key] = value
        except ValueError:
            raise CostModelError(f"compare: {key} must be a number in {text!r}, got {value!r}") from None
    return model, arguments, options


def compare_context(specs: Sequence[str], device: Device | None = None, dtype: str = "float32", batch: int = 1
                    ) -> dict[str, Any]:
    """Everything the side-by-side comparison shows."""
    from .devices import load_device
    from .published import published_points

    if len(specs) < 2:
        raise CostModelError("compare needs at least two networks")
    device = device or load_device()
    networks = []
    for spec in specs:
        model, arguments, options = parse_compare_spec(spec)
        result = analyze(model, options=options, dtype=dtype, **{"batch": batch, **arguments})
        label = spec if ":" in spec else f"{model}"
        networks.append({"label": label, "result": result, "model": model, "options": options,
                         "setting": f"alpha={result.alpha:g}{_depth_text(result)}, {input_text(result)}"
                                    + "".join(f", {k}={v}" for k, v in options.items()),
                         "roofline": roofline(result, device), "review": review(result)})
    table = [{"metric": metric.title("costmodel") + (" (B)" if metric.in_bytes else ""),
              "values": [grouped(n["result"].totals[metric.field]) for n in networks],
              "human": [metric.human(n["result"].totals[metric.field]) for n in networks]}
             for metric in total_metrics()]
    table.append({"metric": f"estimated latency on {device.name} (ms)",
                  "values": [n["roofline"]["total_ms"] for n in networks], "human": ["estimate"] * len(networks)})
    table.append({"metric": "design-review flags (G1/G2/G3/G4/A1)",
                  "values": ["/".join(str(n["review"][g]["flagged"]) for g in ("G1", "G2", "G3", "G4", "A1"))
                             for n in networks], "human": [""] * len(networks)})
    kinds = [kind for kind in kind_titles() if any(kind in n["result"].by_kind() for n in networks)]
    stacked = [[n["result"].by_kind().get(kind, {}).get("madds", 0) for n in networks] for kind in kinds]
    kinds_with_madds = [(kind, values) for kind, values in zip(kinds, stacked) if any(values)]
    traffic = [(kind, [n["result"].by_kind().get(kind, {}).get("memory_access_bytes", 0) for n in networks])
               for kind in kinds]
    kinds_with_traffic = [(kind, values) for kind, values in traffic if any(values)]

    background_accuracy, background_params, highlight_accuracy, highlight_params, unpublished = [], [], [], [], []
    published = {point.key: point for point in published_points()}
    for point in published.values():
        totals = analyze(point.model, alpha=point.alpha, resolution=point.resolution,
                         options=dict(point.options)).totals
        background_accuracy.append((totals["madds"], point.top1, point.label))
        background_params.append((totals["madds"], totals["params"] / 1e6, point.label))
    for n in networks:
        result = n["result"]
        key = (n["model"], result.alpha, result.resolution[0],
               tuple((k, _coerce(n["model"], k, v)) for k, v in n["options"].items()))
        highlight_params.append((result.totals["madds"], result.totals["params"] / 1e6, n["label"]))
        if key in published:
            highlight_accuracy.append((result.totals["madds"], published[key].top1, n["label"]))
        else:
            unpublished.append(n["label"])
    return {
        "title": "costmodel comparison: " + " vs ".join(n["label"] for n in networks),
        "networks": [{k: v for k, v in n.items() if k != "result"} | {
            "kinds": kind_rows(n["result"]), "summary": summary(n["result"]),
            "description": n["result"].network.description, "source": n["result"].network.source}
            for n in networks],
        "table": table, "device": device, "kind_columns": [metric.heading for metric in summed_metrics()],
        "stacked_chart": plots.stacked_kinds_chart([n["label"] for n in networks], [k for k, _ in kinds_with_madds],
                                                   [v for _, v in kinds_with_madds]),
        "memory_chart": plots.stacked_kinds_chart([n["label"] for n in networks], [k for k, _ in kinds_with_traffic],
                                                  [v for _, v in kinds_with_traffic], "memory access (MB)"),
        "accuracy_chart": plots.scatter_chart(background_accuracy, highlight_accuracy, "mult-adds (exact, log scale)",
                                              "published ImageNet top-1 (%)"),
        "params_chart": plots.scatter_chart(background_params, highlight_params, "mult-adds (exact, log scale)",
                                            "params (M, log scale)", log_y=True),
        "unpublished": unpublished,
        "published_sources": sorted({point.source for point in published.values()}),
        "convention": CONVENTIONS["costmodel"].summary,
    }


def _coerce(model: str, name: str, value: Any) -> Any:
    """A compare option's string value as the model option's type, for matching published settings."""
    entry = MODELS.get(model)
    for option in entry.options if entry else ():
        if option.name == name:
            return option.parse(model, value)
    return value
