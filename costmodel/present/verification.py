"""``verify``'s comparison (``verify.Verification``) as text, CSV, JSON and Markdown: the diff table (the rows
that differ first), the totals, and the ops the reference does not count."""
from __future__ import annotations

from typing import Any

from ..core.formatting import Table, counted, grouped, json_text


def tool_name(check: Any) -> str:
    return "fvcore" if check.against == "fvcore" else "FlopCounterMode"


def table(check: Any) -> Table:
    """A row per layer, those that differ first, and the totals."""
    tool = tool_name(check)
    result = Table(("name", "kind", "costmodel flops", f"{tool} flops", "difference", "costmodel params",
                    f"{tool} params", "agrees"), align=("l", "l", "r", "r", "r", "r", "r", "l"))
    for layer in sorted(check.layers, key=lambda layer: layer.agrees):
        result.add(layer.name, layer.kind, grouped(layer.flops), grouped(layer.reference_flops),
                   f"{layer.flops - layer.reference_flops:+,}", grouped(layer.params),
                   grouped(layer.reference_params), "yes" if layer.agrees else "NO")
    flops_ok = check.total_flops == check.reference_total_flops
    params_ok = check.total_params == check.reference_total_params
    result.add("total", "", grouped(check.total_flops), grouped(check.reference_total_flops),
               f"{check.total_flops - check.reference_total_flops:+,}", grouped(check.total_params),
               grouped(check.reference_total_params), "yes" if flops_ok and params_ok else "NO")
    return result


def header(check: Any) -> str:
    """The setting and the verdict, in one line."""
    tool = tool_name(check)
    flops_ok = check.total_flops == check.reference_total_flops
    params_ok = check.total_params == check.reference_total_params
    differing = sum(not layer.agrees for layer in check.layers)
    height, width = check.resolution
    differ = f"{counted(differing, 'layer')} differ{'s' if differing == 1 else ''} from {tool}"
    verdict = (f"every layer agrees with {tool}" if check.agrees else
               differ + ("" if flops_ok and params_ok else "; totals differ"))
    return f"{check.model}  alpha={check.alpha:g}  {height}x{width}  against {tool}: {verdict}"


def footer(check: Any) -> str:
    """The ops the reference does not count, if any."""
    uncounted = ", ".join(f"{op} ({count}x)" for op, count in sorted(check.uncounted_ops.items()))
    return (f"\n{tool_name(check)} does not count: {uncounted}; costmodel's {check.against} convention counts them "
            "as 0 too.\n") if uncounted else ""


def render(check: Any, fmt: str) -> str:
    """``check`` in ``fmt``."""
    if fmt == "json":
        return json_text(check.to_dict())
    if fmt == "csv":
        return table(check).csv()
    if fmt == "markdown":
        return f"# verify {check.model}\n\n{header(check)}\n\n{table(check).markdown()}{footer(check)}"
    return f"{header(check)}\n\n{table(check).text()}{footer(check)}"
