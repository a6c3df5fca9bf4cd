"""The report's training section (``report --training``): a training step's totals, where its saved activations
are by stage, and the blocks to checkpoint first to halve them (``design.checkpoints``)."""
from __future__ import annotations

from typing import Any

from ....core.formatting import grouped, si, si_bytes
from ....design.checkpoints import checkpoint_plan
from ....engine.training import training
from ....sources.analyze import Analysis
from ...training import TOTALS


def training_section(result: Analysis, optimizer: str = "sgd") -> dict[str, Any]:
    """The step's totals (value and exact), the saved bytes by stage with their shares, and the checkpoint plan.

    :param result: the analysis of the network as it is (not the fused view), at the batch the step trains.
    :param optimizer: the step's optimizer.
    :returns: the values the template lays out."""
    step = training(result, optimizer)
    totals = step.totals
    plan = checkpoint_plan(result, optimizer, plain=step)
    saved = plan.saved_bytes or 1
    return {
        "batch": result.batch, "optimizer": optimizer,
        "totals": [{"metric": title, "value": si_bytes(totals[field]) if in_bytes else si(totals[field]),
                    "exact": grouped(totals[field]) + (" B" if in_bytes else "")} for field, title, in_bytes in TOTALS],
        "by_stage": [{"stage": name, "bytes": grouped(value), "human": si_bytes(value),
                      "share": f"{value / saved:.1%}"} for name, value in plan.by_stage],
        "plan": [{"block": step.block, "alone": si_bytes(step.saving_alone),
                  "saved_after": si_bytes(step.saved_after), "share_after": f"{step.saved_after / saved:.1%}",
                  "recompute": si(step.recompute_flops_after)} for step in plan.steps],
        "halved": plan.halved, "saved": si_bytes(plan.saved_bytes), "target": si_bytes(plan.target),
        "transient_node": step.transient_node,
    }
