"""The report's cross-check: fvcore's per-layer counts beside costmodel's, when torch and fvcore are installed."""
from __future__ import annotations

from typing import Any

from ....sources.analyze import Analysis, analyze
from ....core.errors import CostModelError, first_line
from ....sources.setting import Setting
from ....sources.model_source import ONNX
from .digest import TOP, summarised

CROSS_CHECK_LAYERS = 2_000        # layers a report's cross-check traces (verify traces any number that fits memory)


def fvcore_section(result: Analysis, setting: Setting) -> dict[str, Any]:
    """fvcore's per-layer cross-check of ``result`` (the analysis of ``setting``) when torch and fvcore are installed
    and the tensors fit in memory; a note saying why not otherwise (the report is written either way). An imported
    module is checked on itself, a zoo or spec network on its lowering (``verify.reference_check``)."""
    from ....lowering.verify import check_memory, reference_check, require_reference_tools

    what = "the fvcore cross-check"
    if len(result.layers) > CROSS_CHECK_LAYERS:
        return {"available": False, "note": f"{what} traces every layer with torch (about 125 kB and 15 ms a layer "
                                            f"here): {len(result.layers):,} layers is more than the "
                                            f"{CROSS_CHECK_LAYERS:,} a report checks; costmodel verify checks them "
                                            "all."}
    try:
        require_reference_tools(what)
        fv = analyze(result.network, alpha=result.alpha, rho=setting.rho, resolution=setting.resolution,
                     batch=result.batch, convention="fvcore")
        check_memory(fv, what)
    except CostModelError as error:
        return {"available": False, "note": f"{error}."}
    try:
        if setting.source.kind == ONNX:
            raise CostModelError(f"it does not apply to {setting.model}: fvcore counts torch modules, and this is an "
                                 "ONNX graph (check the module it was exported from)")
        check = reference_check(fv, setting, "fvcore")
    except CostModelError as error:       # torch could not run it, it ran past its time limit...
        return {"available": False, "note": f"{what} did not run: {error}."}
    except (RuntimeError, RecursionError, MemoryError) as error:     # what torch and fvcore raise on their own
        return {"available": False, "note": f"{what} did not run: torch could not trace {result.model}: "
                                            f"{first_line(error)}."}
    rows = [{"name": layer.name, "kind": layer.kind, "flops": layer.flops, "reference": layer.reference_flops,
             "params": layer.params, "reference_params": layer.reference_params, "agrees": layer.agrees}
            for layer in sorted(check.layers, key=lambda layer: layer.agrees)]
    return {"available": True, "agrees": check.agrees, "rows": rows[:TOP] if summarised(result) else rows,
            "row_count": len(rows), "total": check.total_flops,
            "reference_total": check.reference_total_flops, "params": check.total_params,
            "reference_params": check.reference_total_params,
            "differing": sum(not row["agrees"] for row in rows),
            "uncounted": ", ".join(f"{op} ({n}x)" for op, n in sorted(check.uncounted_ops.items()))}

