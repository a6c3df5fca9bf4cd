"""The side-by-side comparison page (``costmodel compare``): each network's totals, roll-up, review flags and
estimated latency, and where the networks sit among the papers' published points."""
from __future__ import annotations

from typing import Any, Sequence

from ...sources.analyze import analyze, fused_view
from ...core.conventions import CONVENTIONS
from ...core.errors import CostModelError
from ...core.formatting import counted, grouped
from ...sources.setting import Setting, setting_of
from ...sources.model_source import split_settings
from ...core.metrics import summed_metrics, total_metrics
from ...ops import kind_titles
from ..analyses import input_text
from . import plots
from ...latency.devices import Device
from .page import depth_text
from .sections.kinds import kind_rows
from .sections.latency import predicted, roofline
from .sections.review import review
from .sections.summary import summary


def parse_compare_spec(text: str, base: "Setting | None" = None) -> Setting:
    """``"mobilenet_v1:alpha=0.75,resolution=160,groups=3"`` as the ``Setting`` of that model: ``base``'s (its
    batch, dtype, fused view...) with ``alpha``, ``rho``, ``depth``, ``resolution`` (N or HxW) and ``batch`` as
    written; the other keys are the model's options."""
    model, rest = split_settings(text)
    if not model:
        raise CostModelError(f"compare: {text!r} names no model (write MODEL or MODEL:key=value,...)")
    fields: dict[str, Any] = {}
    options: dict[str, Any] = {}
    for pair in filter(None, rest.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CostModelError(f"compare: {pair!r} in {text!r} must be written key=value")
        try:
            if key in ("alpha", "rho", "depth"):
                fields[key] = float(value)
            elif key == "resolution":
                fields[key] = value
            elif key == "batch":
                fields[key] = int(value)
            else:
                options[key] = value
        except ValueError:
            raise CostModelError(f"compare: {key} must be a number in {text!r}, got {value!r}") from None
    return (base or Setting(model)).but(model=model, options=options, **fields)


def compare_context(specs: Sequence[str], device: Device | None = None, profile: Any = None,
                    timeout: "float | None" = None, **fields: Any) -> dict[str, Any]:
    """Everything the side-by-side comparison of ``specs`` (``MODEL[:key=value,...]``) shows, each at the setting
    its text gives over the common ``fields`` (``batch``, ``dtype``, ``fused``: each network's fused inference
    view); with a calibrated ``profile``, each network's predicted latency; ``timeout``: the seconds an imported
    module's own code may run (None: no limit)."""
    from ...latency.devices import load_device
    from ...design.published import published_points, typed_option

    if len(specs) < 2:
        raise CostModelError("compare needs at least two networks")
    device = device or load_device()
    base = setting_of(None, **fields)
    networks = []
    for spec in specs:
        setting = parse_compare_spec(spec, base)
        options = setting.options
        if timeout is not None and setting.source.runs_code:
            setting = setting.but(options={**options, "timeout": timeout})
        result = analyze(setting.but(fused=False))
        label = spec if ":" in spec else f"{setting.model}"
        shown = fused_view(result) if setting.fused else result
        networks.append({"label": label, "result": result, "shown": shown, "model": setting.model,
                         "options": options,
                         "setting": f"alpha={result.alpha:g}{depth_text(result)}, {input_text(result)}"
                                    + "".join(f", {k}={v}" for k, v in options.items())
                                    + (", fused view" if setting.fused else ""),
                         "roofline": roofline(shown, device), "review": review(result)})
    table = [{"metric": metric.title("costmodel") + (" (B)" if metric.in_bytes else ""),
              "values": [grouped(n["shown"].totals[metric.field]) for n in networks],
              "human": [metric.human(n["shown"].totals[metric.field]) for n in networks]}
             for metric in total_metrics()]
    table.append({"metric": f"estimated latency on {device.name} (ms)",
                  "values": [n["roofline"]["total_ms"] for n in networks], "human": ["estimate"] * len(networks)})
    if profile is not None:
        table.append({"metric": f"predicted latency on {profile.name} (ms)",
                      "values": [predicted(n["result"], profile)["total_ms"] for n in networks],
                      "human": [f"calibrated, {counted(profile.threads, 'thread')}"] * len(networks)})
    table.append({"metric": "design-review flags (G1/G2/G3/G4/A1)",
                  "values": ["/".join(str(n["review"][g]["flagged"]) for g in ("G1", "G2", "G3", "G4", "A1"))
                             for n in networks], "human": [""] * len(networks)})
    kinds = [kind for kind in kind_titles() if any(kind in n["shown"].by_kind() for n in networks)]
    stacked = [[n["shown"].by_kind().get(kind, {}).get("madds", 0) for n in networks] for kind in kinds]
    kinds_with_madds = [(kind, values) for kind, values in zip(kinds, stacked) if any(values)]
    traffic = [(kind, [n["shown"].by_kind().get(kind, {}).get("memory_access_bytes", 0) for n in networks])
               for kind in kinds]
    kinds_with_traffic = [(kind, values) for kind, values in traffic if any(values)]

    background_accuracy, background_params, highlight_accuracy, highlight_params, unpublished = [], [], [], [], []
    published = {point.key: point for point in published_points()}
    published_rows = []
    for point in published.values():
        totals = analyze(point.model, alpha=point.alpha, resolution=point.resolution, depth=point.depth,
                         options=dict(point.options)).totals
        background_accuracy.append((totals["madds"], point.top1))
        background_params.append((totals["madds"], totals["params"] / 1e6))
        published_rows.append({"label": point.label, "setting": point.setting, "madds": totals["madds"],
                               "params": totals["params"], "top1": f"{point.top1:g}", "source": point.source})
    for n in networks:
        result = n["result"]
        key = (n["model"], result.alpha, result.resolution[0],
               tuple((k, typed_option(n["model"], k, v)) for k, v in n["options"].items()))
        highlight_params.append((result.totals["madds"], result.totals["params"] / 1e6, n["label"]))
        if key in published:
            highlight_accuracy.append((result.totals["madds"], published[key].top1, n["label"]))
        else:
            unpublished.append(n["label"])
    return {
        "title": "costmodel comparison: " + " vs ".join(n["label"] for n in networks),
        "networks": [{k: v for k, v in n.items() if k not in ("result", "shown")} | {
            "kinds": kind_rows(n["shown"]), "summary": summary(n["shown"]),
            "description": n["result"].network.description, "source": n["result"].network.source}
            for n in networks],
        "table": table, "device": device, "kind_columns": [metric.heading for metric in summed_metrics()],
        "stacked_chart": plots.stacked_kinds_chart([n["label"] for n in networks], [k for k, _ in kinds_with_madds],
                                                   [v for _, v in kinds_with_madds]),
        "memory_chart": plots.stacked_kinds_chart([n["label"] for n in networks], [k for k, _ in kinds_with_traffic],
                                                  [v for _, v in kinds_with_traffic], "memory access (MB)"),
        # only where a compared setting has a published ImageNet accuracy (a CIFAR model at 32 px has none)
        "accuracy_chart": plots.scatter_chart(background_accuracy, highlight_accuracy, "mult-adds (exact, log scale)",
                                              "published ImageNet top-1 (%)") if highlight_accuracy else "",
        "params_chart": plots.scatter_chart(background_params, highlight_params, "mult-adds (exact, log scale)",
                                            "params (M, log scale)", log_y=True),
        "unpublished": unpublished,
        "published": sorted(published_rows, key=lambda row: (row["madds"], row["label"])),
        "convention": CONVENTIONS["costmodel"].summary,
    }
