"""The single-network report (``costmodel report``): its sections, each built by its own module in
``report/sections`` from one analysis, put together as the values the template lays out. Nothing here formats
HTML."""
from __future__ import annotations

import sys
from typing import Any


from ...sources.analyze import Analysis, analyze, fused_view
from ...core.conventions import CONVENTIONS
from ...core.errors import ParameterError, param
from ...latency.profiles import Profile
from ...sources.setting import setting_of
from ..analyses import input_text
from ...latency.devices import Device
from .sections.advice import bottlenecks, what_to_change
from .sections.crosscheck import fvcore_section
from .sections.kinds import kinds_section
from .sections.digest import TOP
from .sections.layers import layers_section
from .sections.latency import predicted, roofline
from .sections.memory import memory
from .sections.review import review
from .sections.scaling import width_resolution_grid
from .sections.summary import summary
from .sections.training import training_section


def depth_text(result: Analysis) -> str:
    return f", depth={result.depth:g}" if result.depth != 1.0 else ""


def report_context(setting: Any, device: Device | None = None, cross_check: bool = True,
                   profile: Profile | None = None, measure: bool = False, training: "str | None" = None,
                   **fields: Any) -> dict[str, Any]:
    """Everything the single-network report of ``setting`` shows (a ``Setting``, or a model with the setting's
    ``fields``). The setting's ``fused``: the summary, layers, kinds, memory and roofline of the fused inference view
    (the review and the advice read it always). With a calibrated ``profile``, the predicted latency per layer and in
    total; with ``measure`` too, the model timed on this CPU beside it (``bench``; needs torch). The advice is
    ``costmodel advise``'s what-if edits of the settled network (on the fused view), ranked by predicted latency
    with a profile. ``training``: an optimizer's name, for a training section (a step at the setting's batch, its
    saved activations by stage and the blocks to checkpoint first). The model is settled once."""
    from ...design.advise import advise
    from ...latency.devices import load_device

    setting = setting_of(setting, **fields)
    device = device or load_device()
    if measure and profile is None:
        raise ParameterError(param("measure"), " sets the measured latency beside a calibrated profile's "
                             "prediction: give ", param("profile", "PROFILE"), " (costmodel calibrate -o PROFILE "
                             "writes one)")
    if measure and not isinstance(setting.model, str):
        raise ParameterError(param("measure"), " runs a model named by text (a zoo name, spec file or import), "
                             "not a Network")
    result = analyze(setting.but(fused=False))
    inference = fused_view(result)          # what the review and the advice read
    reviewed = review(inference)
    shown = inference if setting.fused else result
    measured = None
    if measure and profile is not None:          # measure without a profile is refused above
        from ...latency.bench import bench

        measured = bench(setting, threads=profile.threads, progress=sys.stderr.isatty(), engine=profile.engine)
    return {
        "title": f"{result.model} design review",
        "model": result.model, "description": result.network.description, "source": result.network.source,
        "setting": f"alpha={result.alpha:g}{depth_text(result)}, input {input_text(result)}, {setting.dtype}"
                   + (", fused inference view (BatchNorm folded, activations fused)" if setting.fused else ""),
        "options": ", ".join(f"{k}={v}" for k, v in setting.options.items() if k != "timeout"),
        "convention": CONVENTIONS[result.convention].summary,
        "summary": summary(shown),
        **layers_section(shown),
        **kinds_section(shown),
        "grid": width_resolution_grid(setting.model, result),
        "memory": memory(shown),
        "roofline": roofline(shown, device),
        "predicted": predicted(result, profile, measured) if profile is not None else None,
        "bottlenecks": bottlenecks(result, profile, fused=inference),
        "advice": what_to_change(advise(setting_of(result.network, alpha=result.alpha, resolution=result.resolution,
                                                   batch=result.batch, dtype=setting.dtype, fused=True),
                                        profile=profile)),
        "review": {guideline: {**section, "findings": section["findings"][:TOP]} for guideline, section in
                   reviewed.items()},                                       # flagged first, the costliest first
        "training": training_section(result, training) if training else None,
        "fvcore": fvcore_section(result, setting) if cross_check else
        {"available": False, "note": "the fvcore cross-check was not requested."},
        "top": TOP,
    }
