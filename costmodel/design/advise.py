"""``costmodel advise``: the what-if edits of a network (``edits``), each recounted exactly, ranked by what it saves.

For each stage of the network (``structure.stages``) the edits a designer weighs are tried: the stage's widths
x 0.75, its expansion ratio lowered (6 -> 4), its depthwise kernels one size smaller (5 -> 3), one block fewer, and
ShuffleNetV2's guideline fixes where they apply: G1's equal widths where the stage's first block widens 2x in a 1x1
that is no block's defining structure (``roles.block_roles``), G2's half the groups, G4's squeeze-and-excite off,
identity shortcuts off and h-swish, SiLU or GELU made ReLU; for the network, the input 32 pixels smaller and the
channels rounded to multiples of 8 and 16.
Each edited network is analyzed at the same setting; the deltas are exact (edited - original), and a device
profile adds the predicted latency's. Edits that do not apply (a stage of one block, a width the rounding keeps)
are listed with the reason, never dropped in silence.

What an edit trades is said beside it: fewer channels, less depth, a smaller receptive field, no channel
attention, a cheaper activation. costmodel counts; it does not say what accuracy an edit costs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from ..core.errors import CostModelError
from .edits import (Blocks, Context, Edit, Expansion, Groups, Kernel, Resolution, RoundChannels, Shortcuts,
                    SqueezeExcite, SwapActivation, Width, apply, stated_depthwise, expansions, squeeze_excites)
from .roles import G1_RATIO
from .structure import stages

METRICS = ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")
COSTLY_ACTIVATIONS = ("hswish", "silu", "gelu", "swish")
TOP = 10


@dataclass(frozen=True)
class Suggestion:
    """One edit, recounted.

    :param edit: the ``edits.Edit``.
    :param stage: the stage it changes (``network`` for the whole).
    :param change: what it does, with the figures (``expansion 6 -> 4``).
    :param trades: what it gives up.
    :param deltas: {total: edited - original}, exact (negative: it saves).
    :param latency_ms: the predicted latency's change, with a device profile (else None).
    :param guideline: the ShuffleNetV2 guideline it follows (``G2``, ``G4``), or "".
    """

    edit: Edit
    stage: str
    change: str
    trades: str
    deltas: Mapping[str, int]
    latency_ms: "float | None" = None
    guideline: str = ""

    def saving(self, metric: str) -> float:
        """What it saves of ``metric`` (``latency_ms`` or a total): the original less the edited."""
        if metric == "latency_ms":
            return -(self.latency_ms or 0.0)
        return -self.deltas[metric]

    def to_dict(self) -> dict[str, Any]:
        """The suggestion as JSON holds it."""
        return {"stage": self.stage, "change": self.change, "trades": self.trades, "guideline": self.guideline,
                "edit": {"kind": type(self.edit).__name__, **{k: v for k, v in vars(self.edit).items()}},
                "deltas": dict(self.deltas), "latency_ms": self.latency_ms}


@dataclass(frozen=True)
class Advice:
    """What ``advise`` found: the setting, the original totals, every edit that applies ranked by its saving, and
    the edits tried that do not apply with the reason.

    :param model: the network's name.
    :param alpha: the width multiplier.
    :param resolution: the input (H, W).
    :param totals: the original network's totals (``METRICS``).
    :param ranked_by: what the ranking saves: ``latency_ms`` with a profile, else ``memory_access_bytes``.
    :param suggestions: the edits that apply, largest saving first.
    :param not_applicable: (edit, reason) for each edit that does not apply.
    :param latency_ms: the original's predicted latency, with a profile.
    :param profile: the profile's name.
    :param stages: the stages found, ``structure.Stage.describe`` each.
    :param stage_names: their names, in the network's order.
    """

    model: str
    alpha: float
    resolution: tuple[int, int]
    totals: Mapping[str, int]
    ranked_by: str
    suggestions: tuple[Suggestion, ...]
    not_applicable: tuple[tuple[str, str], ...] = ()
    latency_ms: "float | None" = None
    profile: str = ""
    stages: tuple[str, ...] = field(default=())
    stage_names: tuple[str, ...] = field(default=())

    def top(self, count: int = TOP) -> tuple[Suggestion, ...]:
        """The ``count`` edits that save most (those that save nothing are left out)."""
        return tuple(s for s in self.suggestions if s.saving(self.ranked_by) > 0)[:count]

    def to_dict(self) -> dict[str, Any]:
        """The advice as JSON holds it: the setting, the totals, every suggestion and every edit that does not
        apply."""
        return {"model": self.model, "alpha": self.alpha, "resolution": list(self.resolution),
                "totals": dict(self.totals), "latency_ms": self.latency_ms, "profile": self.profile or None,
                "ranked_by": self.ranked_by, "stages": list(self.stages),
                "suggestions": [s.to_dict() for s in self.suggestions],
                "not_applicable": [{"edit": what, "reason": why} for what, why in self.not_applicable]}

    def to_frame(self) -> Any:
        """The suggestions as a table: a row each, with every delta.

        :returns: a pandas DataFrame."""
        import pandas

        rows = [{"stage": s.stage, "change": s.change, "trades": s.trades, "guideline": s.guideline,
                 **{f"delta_{m}": s.deltas[m] for m in METRICS},
                 **({"delta_latency_ms": s.latency_ms} if self.latency_ms is not None else {})}
                for s in self.suggestions]
        return pandas.DataFrame(rows)


def candidates(network: Any, alpha: float, size: tuple[int, int],
               known_stages: "Sequence[Any] | None" = None) -> list[tuple[Edit, str, str, str]]:
    """The edits ``advise`` tries on ``network``: (edit, what it changes in figures, what it trades, guideline).

    :param network: a ``Network``.
    :param alpha: the width multiplier its shapes are read at.
    :param size: the input (H, W).
    :param known_stages: its stages at that setting (``structure.stages``), where the caller has them.
    :returns: the candidate edits, stage by stage, then the network's."""
    from .edits import is_depthwise
    from .roles import block_roles

    context = Context(alpha, size)
    shapes = context.shapes(network)
    roles = block_roles(network, alpha, size)
    found: list[tuple[Edit, str, str, str]] = []
    for stage in known_stages if known_stages is not None else stages(network, alpha, size):
        ops = [network.nodes[network.index[name]] for name in stage.nodes]
        found.append((Width(stage.name, 0.75), "widths x 0.75",
                      "fewer channels in every layer of the stage", ""))
        ratios = expansions(network, stage, context)
        if ratios:
            ratio = max(ratios.values())
            lower = _lower_ratio(ratio)
            if lower is not None:
                own = ", ".join(f"{value:.3g}" for value in sorted(set(ratios.values()), reverse=True))
                found.append((Expansion(stage.name, lower), f"expansion {own} -> {lower:g}",
                              "narrower expansions (the inverted residual's design: this is what it costs)", ""))
        kernels = sorted({node.op.kernel[0] for node in ops if is_depthwise(node.op)})
        if kernels and kernels[-1] >= 5:
            found.append((Kernel(stage.name, kernels[-1] - 2), f"depthwise {kernels[-1]}x{kernels[-1]} -> "
                          f"{kernels[-1] - 2}x{kernels[-1] - 2}", "a smaller receptive field per block", ""))
        if len(stage.blocks) >= 2:
            found.append((Blocks(stage.name, -1), f"{len(stage.blocks)} -> {len(stage.blocks) - 1} blocks",
                          "one block less depth", ""))
        if any(type(node.op).__name__ == "Add" and block.entry in node.inputs
               for block in stage.blocks for node in (network.nodes[network.index[n]] for n in block.nodes)):
            found.append((Shortcuts(stage.name, False), "identity shortcuts off",
                          "no residual connections (the papers train deep stacks with them)", "G4"))
        equal = _g1_widening(network, stage, shapes, roles)
        if equal is not None:
            c1, c2 = equal
            found.append((Width(stage.name, c1 / c2), f"G1 equal widths x {c1 / c2:.3g}",
                          f"a narrower stage: its {c1} -> {c2} 1x1 at {c1}:{c1}", "G1"))
        if any(squeeze_excites(network, block) for block in stage.blocks):
            found.append((SqueezeExcite(stage.name, False), "squeeze-excite off",
                          "no channel attention (its gate's pooling, two 1x1 layers and multiply)", "G4"))
        for function in COSTLY_ACTIVATIONS:
            if any(type(node.op).__name__ == "Activation" and getattr(node.op, "function") == function
                   for node in ops):
                found.append((SwapActivation(stage.name, function, "relu"), f"{function} -> relu",
                              "a cheaper activation (the papers report an accuracy cost)", "G4"))
        groups = sorted({node.op.groups for node in ops if type(node.op).__name__ == "Conv2d"
                         and isinstance(getattr(node.op, "groups"), int) and getattr(node.op, "groups") > 1})
        if groups and groups[-1] % 2 == 0:
            found.append((Groups(stage.name, groups[-1] // 2), f"groups {groups[-1]} -> {groups[-1] // 2}",
                          "denser group convolutions (more mult-adds at these widths)", "G2"))
    smaller = size[0] - 32
    if size[0] == size[1] and smaller >= 32:
        found.append((Resolution(smaller), f"input {size[0]} -> {smaller}", "a smaller input (less detail)", ""))
    odd = [name for name, item in shapes.items() if item.output.layout == "NCHW" and item.output.channels % 8]
    for multiple in (8, 16):
        found.append((RoundChannels(multiple), f"channels rounded to multiples of {multiple}",
                      "channel counts change to what vector units and kernels favour"
                      + (f" ({len(odd)} layers give a count that is not a multiple of 8)" if odd else ""), ""))
    return found


def _g1_widening(network: Any, stage: Any, shapes: Mapping[str, Any],
                 roles: Mapping[str, str]) -> "tuple[int, int] | None":
    """The (c1, c2) of the stage's first block's ungrouped 1x1 convolution that widens by ``G1_RATIO`` or more and
    is not its block's defining structure (``roles.block_roles``): ShuffleNetV2's G1 applies to it (MobileNetV1's
    width doublings), and its fix keeps the stage at c1. None where no layer is such."""
    for name in stage.blocks[0].nodes:
        op = network.nodes[network.index[name]].op
        if type(op).__name__ != "Conv2d" or getattr(op, "kernel") != (1, 1) or getattr(op, "groups") != 1 or \
                name in roles:
            continue
        c1, c2 = shapes[name].inputs[0].channels, shapes[name].output.channels
        if c2 >= G1_RATIO * c1:
            return c1, c2
    return None


def _lower_ratio(ratio: float) -> "float | None":
    """The expansion ratio tried below ``ratio``: 2 less from 4 up (6 -> 4), 2 from 3 (3 -> 2), none below 3 (a
    ratio under 3 is close to no expansion at all)."""
    rounded = round(ratio)
    if rounded >= 4:
        return float(rounded - 2)
    return 2.0 if rounded == 3 else None


def advise(model_or_setting: Any, alpha: "float | None" = None, resolution: Any = None, *,
           profile: Any = None, **fields: Any) -> Advice:
    """Every what-if edit of a model at one setting, recounted exactly and ranked by what it saves.

        >>> costmodel.advise("mobilenet_v2").top(5)          # doctest: +SKIP

    :param model_or_setting: a ``Setting``, or a model: a zoo name, a spec file, an import argument or a
        ``Network``.
    :param alpha: the width multiplier.
    :param resolution: the input (an int, (H, W) or "HxW"; default: the network's base).
    :param profile: a calibrated ``latency.Profile``: each edit's predicted latency, and the ranking by it.
    :param fields: any other field of ``Setting`` (``options``, ``depth``, ``rho``, ``batch``, ``dtype``,
        ``convention``, ``fused``: the view counted).
    :returns: the ``Advice``.
    :raises CostModelError: one line, for a setting the model does not take."""
    from ..sources.analyze import analyze
    from ..sources.settle import settle
    from ..sources.setting import setting_of

    setting = setting_of(model_or_setting, alpha=alpha, resolution=resolution, **fields)
    settled = settle(setting)
    size = settled.size
    network = stated_depthwise(settled.network, Context(settled.alpha, size))

    def counted(net: Any, at: tuple[int, int]) -> tuple[dict[str, int], "float | None"]:
        result = analyze(net, alpha=settled.alpha, resolution=at, batch=settled.batch, dtype=setting.dtype,
                         convention=setting.convention, fused=setting.fused)
        totals = {metric: int(result.totals[metric]) for metric in METRICS}
        if profile is None:
            return totals, None
        priced = result if result.fused == profile.fused else analyze(
            net, alpha=settled.alpha, resolution=at, batch=settled.batch, dtype=setting.dtype,
            convention=setting.convention, fused=profile.fused)            # the view the profile was measured in
        return totals, float(sum(profile.layer_ms(priced)))

    base, base_ms = counted(network, size)
    found = stages(network, settled.alpha, size)
    suggestions, refused = [], []
    for edit, change, trades, guideline in candidates(network, settled.alpha, size, found):
        if isinstance(edit, Resolution) and settled.entry is not None and \
                not getattr(settled.entry, "accepts_resolution", True):
            refused.append((f"network: {change}", "the model has a fixed input size"))
            continue
        try:
            edited = apply(network, edit, settled.alpha, size, found)
            at = (edit.size, edit.size) if isinstance(edit, Resolution) else size
            totals, ms = counted(edited, at)
        except CostModelError as error:
            reason = str(error)
            refused.append((f"{edit.stage or 'network'}: {change}", reason[len(edit.describe()) + 2:]
                            if reason.startswith(edit.describe() + ": ") else reason))
            continue
        if isinstance(edit, Width):
            change = f"{change}: {_channels(network, edited, edit.stage, settled.alpha, size)}"
        deltas = {metric: totals[metric] - base[metric] for metric in METRICS}
        if not any(deltas.values()) and (ms is None or base_ms is None or math.isclose(ms, base_ms)):
            refused.append((f"{edit.stage or 'network'}: {change}", "changes no count at this setting"))
            continue
        suggestions.append(Suggestion(edit, edit.stage or "network", change, trades, deltas,
                                      None if ms is None or base_ms is None else ms - base_ms, guideline))
    ranked_by = "latency_ms" if profile is not None else "memory_access_bytes"
    suggestions.sort(key=lambda s: -s.saving(ranked_by))
    return Advice(network.name, settled.alpha, size, base, ranked_by, tuple(suggestions), tuple(refused), base_ms,
                  getattr(profile, "name", "") if profile is not None else "",
                  tuple(stage.describe() for stage in found), tuple(stage.name for stage in found))


def _channels(network: Any, edited: Any, stage: str, alpha: float, size: tuple[int, int]) -> str:
    """``64 -> 48, 72 -> 56 (24 unchanged)``: the widths of the stage's layers before and after a width
    edit, each change once, in the order the layers give them."""
    from ..engine.passes import infer_shapes
    from .structure import stage_named

    names = stage_named(network, stage, alpha, size).nodes
    before, after = ({item.node.name: item.output for item in infer_shapes(net, alpha, size)}
                     for net in (network, edited))
    changes: list[str] = []
    kept: list[int] = []
    for name in names:
        if before[name].layout != "NCHW":
            continue
        old, new = before[name].channels, after[name].channels
        text = f"{old} -> {new}"
        if old != new and text not in changes:
            changes.append(text)
        elif old == new and old not in kept:
            kept.append(old)
    return ", ".join(changes) + (f" ({', '.join(map(str, kept))} unchanged)" if kept else "")
