"""Where a training step's saved activations are, by stage, and which blocks to checkpoint first to halve them.

Checkpointing a block (``torch.utils.checkpoint``) keeps only what it reads from outside and runs its forward again
in the backward. The plan ranks the network's blocks (``structure.blocks``) by the bytes each saves when checkpointed
alone, each saving recomputed exactly (``engine.training`` with that block checkpointed), then checkpoints them in
that order, recounting the step each time, until the saved activations are at most half of what they were.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..engine.analysis import Analysis
from ..engine.training import Training, training
from .structure import blocks, stages


@dataclass(frozen=True)
class CheckpointStep:
    """One block of the plan: the bytes it saves alone, and the step's saved bytes and recomputed FLOPs once it and
    every block before it in the plan are checkpointed."""

    block: str
    saving_alone: int
    saved_after: int
    recompute_flops_after: int


@dataclass(frozen=True)
class CheckpointPlan:
    """The saved activations by stage and the blocks to checkpoint first."""

    saved_bytes: int
    by_stage: tuple[tuple[str, int], ...]
    steps: tuple[CheckpointStep, ...]
    halved: bool

    @property
    def target(self) -> int:
        return self.saved_bytes // 2


def checkpoint_plan(result: Analysis, optimizer: str = "sgd", plain: "Training | None" = None) -> CheckpointPlan:
    """The plan for ``result``'s network at its setting.

    :param result: an analysis (its batch and dtype are the step's).
    :param optimizer: the step's optimizer (the plan does not depend on it; the step does).
    :param plain: the step without checkpoints, where the caller has it (``training(result, optimizer)``).
    :returns: the ``CheckpointPlan``: saved bytes by stage (nodes of no block last, as "stem and head"), and the
        blocks in the order that halves the saved activations soonest by their single savings."""
    network = result.network
    plain = plain or training(result, optimizer)
    saved_by_node = {layer.name: layer.saved_bytes for layer in plain.layers}
    by_stage: list[tuple[str, int]] = []
    seen: set[str] = set()
    for stage in stages(network, result.alpha, result.resolution):
        by_stage.append((stage.name, sum(saved_by_node.get(name, 0) for name in stage.nodes)))
        seen.update(stage.nodes)
    rest = sum(value for name, value in saved_by_node.items() if name not in seen)
    if rest:
        by_stage.append(("stem and head", rest))
    total = plain.totals["saved_bytes"]
    candidates: list[tuple[int, Any]] = []
    for block in blocks(network, result.alpha, result.resolution):
        alone = total - training(result, optimizer, checkpoint=[block.nodes]).totals["saved_bytes"]
        if alone > 0:
            candidates.append((alone, block))
    candidates.sort(key=lambda item: -item[0])
    steps, chosen = [], []
    saved = total
    for alone, block in candidates:
        if saved <= total // 2:
            break
        chosen.append(block.nodes)
        step = training(result, optimizer, checkpoint=chosen).totals
        saved = step["saved_bytes"]
        steps.append(CheckpointStep(block.name, alone, saved, step["recompute_flops"]))
    return CheckpointPlan(total, tuple(by_stage), tuple(steps), saved <= total // 2)
