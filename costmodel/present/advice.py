"""``advise``'s result (``design.advise.Advice``) as text, CSV, JSON and Markdown: the setting and its totals, the
edits that save most (each with its exact deltas and what it trades), and the edits that do not apply here."""
from __future__ import annotations

from typing import Any, Sequence

from ..core.formatting import Table, json_text, si, si_bytes

COLUMNS = (("memory_access_bytes", "memory access"), ("madds", "mult-adds"), ("params", "params"),
           ("peak_activation_bytes", "peak activation"))
NOTE = ("every figure is the edited network recounted at the same setting, less the original (negative: it saves); "
        "costmodel does not say what accuracy an edit costs")


def _signed(value: float, in_bytes: bool) -> str:
    text = si_bytes(abs(int(value))) if in_bytes else si(abs(value))
    return ("-" if value < 0 else "+" if value > 0 else "") + text


def _delta(value: int, total: int, in_bytes: bool) -> str:
    if not value:
        return "0"
    share = f" ({value / total:+.1%})" if total else ""
    return _signed(value, in_bytes) + share


def headline(advice: Any) -> str:
    """``mobilenet_v2 at alpha 1, 224x224: 3.50M params, 300.77M mult-adds, ...``."""
    totals = advice.totals
    latency = (f", {advice.latency_ms:.3f} ms predicted on {advice.profile}"
               if advice.latency_ms is not None else "")
    return (f"{advice.model} at alpha {advice.alpha:g}, {advice.resolution[0]}x{advice.resolution[1]}: "
            f"{si(totals['params'])} params, {si(totals['madds'])} mult-adds, "
            f"{si_bytes(totals['memory_access_bytes'])} memory access, "
            f"{si_bytes(totals['peak_activation_bytes'])} peak activation{latency}")


def ranking(advice: Any) -> str:
    """What the list is ranked by, in words."""
    return f"predicted latency on {advice.profile}" if advice.ranked_by == "latency_ms" else "memory access"


def table(advice: Any, rows: Sequence[Any]) -> Table:
    """The suggestions ``rows`` as a table: rank, stage, change, every delta with its share, what it trades."""
    latency = advice.latency_ms is not None
    names = ("#", "stage", "change", *(("latency",) if latency else ()), *(label for _, label in COLUMNS),
             "trades")
    result = Table(names, align=("r", "l", "l", *(("r",) if latency else ()), *("r" for _ in COLUMNS), "l"))
    for rank, suggestion in enumerate(rows, start=1):
        cells = [str(rank), suggestion.stage, suggestion.change]
        if latency:
            ms = suggestion.latency_ms or 0.0
            cells.append(f"{ms:+.3f} ms ({ms / advice.latency_ms:+.1%})" if advice.latency_ms else f"{ms:+.3f} ms")
        cells += [_delta(suggestion.deltas[field], advice.totals[field], field.endswith("bytes"))
                  for field, _ in COLUMNS]
        cells.append(suggestion.trades + (f" [{suggestion.guideline}]" if suggestion.guideline else ""))
        result.add(*cells)
    return result


def _not_applicable(advice: Any) -> list[str]:
    return [f"{what}: {why}" for what, why in advice.not_applicable]


def text(advice: Any, top: int, every: bool = False) -> str:
    """The headline, the stages, the ``top`` edits that save most (every edit tried with ``every``), and the edits
    that do not apply."""
    rows = advice.suggestions if every else advice.top(top)
    stages = "; ".join(advice.stages) or "none found (no node names a numbered block: network-wide edits only)"
    lines = [headline(advice), "stages: " + stages, ""]
    if rows:
        what = "Every edit tried" if every else ("The edit that saves most" if len(rows) == 1 else
                                                 f"The {len(rows)} edits that save most")
        lines += [f"{what} (ranked by {ranking(advice)}):", "", table(advice, rows).text().rstrip("\n")]
    else:
        lines.append(f"No edit tried saves {ranking(advice)}.")
    left = len(advice.suggestions) - len(rows)
    lines += ["", NOTE + (f"; {left} other edit{'' if left == 1 else 's'} tried (--all lists every one)"
                          if left else "")]
    missing = _not_applicable(advice)
    if missing:
        lines += ["", f"Not applicable here ({len(missing)}):", *(f"  {line}" for line in missing)]
    return "\n".join(lines) + "\n"


def markdown(advice: Any, top: int, every: bool = False) -> str:
    """The text's content as Markdown."""
    rows = advice.suggestions if every else advice.top(top)
    lines = [f"# costmodel advise: {advice.model}", "", headline(advice) + ".", "",
             "Stages: " + ("; ".join(advice.stages) or "none found") + ".", "",
             f"Ranked by {ranking(advice)}:", "", table(advice, rows).markdown().rstrip("\n"), "", f"- {NOTE}."]
    lines += [f"- not applicable: {line}." for line in _not_applicable(advice)]
    return "\n".join(lines) + "\n"


def csv(advice: Any) -> str:
    """Every suggestion, exact deltas, a row each."""
    fields = [field for field, _ in COLUMNS] + ["flops"]
    header = ["rank", "stage", "change", "guideline", *(f"delta_{f}" for f in fields),
              *(["delta_latency_ms"] if advice.latency_ms is not None else []), "trades"]
    lines = [",".join(header)]
    for rank, suggestion in enumerate(advice.suggestions, start=1):
        cells = [str(rank), suggestion.stage, suggestion.change, suggestion.guideline,
                 *(str(suggestion.deltas[f]) for f in fields),
                 *([repr(suggestion.latency_ms)] if advice.latency_ms is not None else []), suggestion.trades]
        lines.append(",".join(_quoted(cell) for cell in cells))
    return "\n".join(lines) + "\n"


def _quoted(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(mark in cell for mark in ',"\n') else cell


def render(advice: Any, fmt: str, top: int = 10, every: bool = False) -> str:
    """``advice`` in ``fmt`` (text and Markdown show the ``top`` edits, or every one; CSV and JSON hold every
    one)."""
    if fmt == "json":
        return json_text(advice.to_dict())
    if fmt == "csv":
        return csv(advice)
    return (markdown if fmt == "markdown" else text)(advice, top, every)

