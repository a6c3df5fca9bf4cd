"""Design review: ShuffleNetV2's four guidelines (Ma et al. 2018, arXiv:1807.11164, Section 2) checked per layer.

- G1, equal channel width minimizes memory access cost: for a 1x1 convolution with c1 inputs, c2 outputs on an
  h x w map, B = hw c1 c2 FLOPs and MAC = hw(c1 + c2) + c1 c2 >= 2 sqrt(hw B) + B / hw, with equality at c1 = c2.
  Flagged: ratio max(c1, c2) / min(c1, c2) >= G1_RATIO; the figure is MAC over that lower bound.
- G2, excessive group convolution increases MAC: at fixed FLOPs B and c1, MAC = hw c1 + B g / c1 + B / hw grows
  with g. Flagged: every grouped (not depthwise) convolution; the figure is its MAC over the MAC of g = 1 with the
  same FLOPs and input width.
- G3, network fragmentation reduces parallelism: flagged, a merge (concat, add) of G3_BRANCHES or more branches that
  each run at least one operator since they forked (an Inception module has four).
- G4, element-wise operations are non-negligible: ReLU-type activations, adds and multiplies move memory but do
  little arithmetic. Read on the fused view, where an engine has already fused each activation into the kernel
  before it: what is left (adds, squeeze-excite's multiplies, activations after a layer read twice). When their
  share of the network's memory access is at least G4_SHARE, each element-wise layer with at least G4_LAYER_SHARE
  of it is flagged; all are listed by memory access.

Every guideline reads the fused inference view (``fusion.fuse``), as the network runs. Each finding carries what
it costs (``cost``: the elements of memory access a change would save, where the counts can say) and the change
(``advice``); flagged findings are ranked by cost. The stem (the first weighted layer, which reads the image) and
the head (the layer that feeds the last global pooling, and everything after it) are checked but never flagged:
no design choice removes them.
- A1, attention's score matrix grows with the square of the token count: an attention of L queries over S keys
  writes and reads B L S scores (B: batch x heads), against (L + S) E for its q, k and v; at twice the input side a
  map has 4x the tokens and its scores 16x. Flagged: an attention layer (fused attention, an attention bias, the
  explicit form's softmax) whose score traffic is at least A1_SHARE of its own memory access.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ....sources.analyze import Analysis, fused_view  # noqa: F401 (fused_view: its old path)
from ....core.ir import INPUT, Network, Op
from ....design.roles import G1_RATIO
from ....ops import Add, Concat, Conv2d, Fused, ScaledDotProductAttention

G3_BRANCHES = 3
G4_SHARE = 0.10
G4_LAYER_SHARE = 0.01
ELEMENTWISE_KINDS = ("activation", "add", "mul")
A1_SHARE = 0.5
ATTENTION_KINDS = ("attention", "softmax")


@dataclass(frozen=True)
class Finding:
    """One layer checked against one guideline: the figures behind the verdict, and the verdict."""

    guideline: str
    layer: str
    figures: str
    flagged: bool
    cost: int = 0          # elements of memory access the change in ``advice`` would save (0: the counts cannot say)
    advice: str = ""


def unavoidable(result: Analysis) -> dict[str, str]:
    """The layers no design choice removes, as {name: "stem" | "head"}: the first layer with weights that reads the
    network input, and the weighted layer that feeds the last global pooling (through element-wise and
    shape-only layers) with every layer after that pooling."""
    network = result.network
    layers = {layer.name: layer for layer in result.layers}
    roles: dict[str, str] = {}
    for node in network.nodes:
        if INPUT in node.inputs and node.name in layers and layers[node.name].params:
            roles[node.name] = "stem"
            break
    pools = [index for index, node in enumerate(network.nodes) if node.name in layers and
             layers[node.name].kind == "global_pool"]
    if pools:
        last = pools[-1]
        for node in network.nodes[last:]:
            roles.setdefault(node.name, "head")
        name = network.nodes[last].inputs[0]
        while name != INPUT:
            node = _node(network, name)
            if name in layers and layers[name].params:
                roles.setdefault(name, "head")
                break
            if len(node.inputs) != 1:
                break
            name = node.inputs[0]
    return roles


def block_design(result: Analysis) -> dict[str, str]:
    """The 1x1 convolutions of ``result`` that are their block's defining structure (``design.roles.block_roles``):
    G1 reads their width ratio as a cost, never as a violation.

    :param result: an analysis (the fused view, as the review reads it).
    :returns: {layer name: "the inverted residual's expansion", ...}."""
    from ....design.roles import block_roles

    return block_roles(result.network, result.alpha, result.resolution)


def _node(network: Network, name: str):
    return network.nodes[network.index[name]]


def _op(network: Network, name: str) -> Op:
    """The op of node ``name``; of a fused kernel, the layer it computes (its convolution, linear layer or add)."""
    op = _node(network, name).op
    return op.main if isinstance(op, Fused) else op


def g1_channel_ratio(result: Analysis) -> list[Finding]:
    """G1 for every 1x1 convolution (pointwise and grouped 1x1)."""
    findings = []
    for layer in result.layers:
        op = _op(result.network, layer.name)
        if not isinstance(op, Conv2d) or op.kernel != (1, 1) or layer.kind == "depthwise":
            continue
        c1, c2 = layer.input_shapes[0].channels, layer.output_shape.channels
        hw = layer.output_shape.size("H") * layer.output_shape.size("W")
        flops = hw * c1 * c2
        bound = 2 * math.sqrt(hw * flops) + flops / hw
        mac = hw * (c1 + c2) + c1 * c2
        ratio = max(c1, c2) / min(c1, c2)
        equal = math.sqrt(c1 * c2)                 # one width at the same mult-adds
        saving = mac - round(2 * hw * equal + equal * equal)
        widths = f"1:{c2 / c1:.3g}" if c2 >= c1 else f"{c1 / c2:.3g}:1"
        findings.append(Finding("G1", layer.name, f"c1={c1}, c2={c2}, ratio {ratio:.2f}:1, MAC {mac:,} = "
                                f"{mac / bound:.2f} x the bound at c1 = c2", ratio >= G1_RATIO, saving,
                                f"input:output widths {c1}:{c2} ({widths}) break G1; equal widths ({equal:.0f}:"
                                f"{equal:.0f}) at the same mult-adds would cut this layer's memory access by "
                                f"{100 * saving / mac:.0f}%"))
    return findings


def g2_group_convolutions(result: Analysis) -> list[Finding]:
    """G2 for every group convolution."""
    findings = []
    for layer in result.layers:
        if layer.kind != "group":
            continue
        op = _op(result.network, layer.name)
        groups = getattr(op, "groups")          # a group convolution's
        groups = groups if isinstance(groups, int) else layer.input_shapes[0].channels
        c1 = layer.input_shapes[0].channels
        hw = layer.output_shape.size("H") * layer.output_shape.size("W")
        flops = layer.madds
        mac = hw * c1 + flops * groups / c1 + flops / hw
        mac_ungrouped = hw * c1 + flops / c1 + flops / hw
        findings.append(Finding("G2", layer.name, f"g={groups}, MAC {mac:,.0f} vs {mac_ungrouped:,.0f} for g = 1 "
                                f"at the same FLOPs (+{100 * (mac / mac_ungrouped - 1):.0f}%)", True,
                                round(mac - mac_ungrouped),
                                f"{groups} groups break G2; one group at the same mult-adds (fewer channels) would cut "
                                f"this layer's memory access by {100 * (1 - mac_ungrouped / mac):.0f}%"))
    return findings


def _branch_operators(network: Network, start: str, readers: dict[str, int]) -> int:
    """Operators on the path that ends at ``start``, walking back until a fork (a node read more than once), a
    merge, or the input."""
    count, name = 0, start
    while name != INPUT and readers.get(name, 0) <= 1:
        node = _node(network, name)
        if len(node.inputs) != 1:
            break
        count += 1
        name = node.inputs[0]
    return count


def g3_fragmentation(result: Analysis) -> list[Finding]:
    """G3 for every concat and add: how many of its inputs are branches with operators of their own."""
    network = result.network
    readers: dict[str, int] = {}
    for node in network.nodes:
        for ref in node.inputs:
            readers[ref] = readers.get(ref, 0) + 1
    present = {layer.name for layer in result.layers}
    findings = []
    for node in network.nodes:
        if node.name not in present or not isinstance(_op(network, node.name), (Concat, Add)):
            continue
        operators = [_branch_operators(network, ref, readers) for ref in node.inputs]
        branches = sum(1 for count in operators if count)
        findings.append(Finding("G3", node.name, f"{len(node.inputs)} inputs, {branches} with operators of their "
                                f"own ({', '.join(map(str, operators))} operators)", branches >= G3_BRANCHES, 0,
                                f"{branches} branches of {sum(operators)} kernels break G3: each kernel is a launch "
                                f"and a synchronisation; fewer, wider branches run the same work in fewer kernels"))
    return findings


def g4_elementwise(result: Analysis) -> tuple[float, list[Finding]]:
    """G4: the element-wise layers' share of memory access, and each element-wise layer by memory access."""
    total = result.totals["memory_access"]
    elementwise = [layer for layer in result.layers if layer.kind in ELEMENTWISE_KINDS]
    share = sum(layer.memory_access for layer in elementwise) / total if total else 0.0
    findings = [Finding("G4", layer.name, f"{layer.kind}: MAC {layer.memory_access:,} elements "
                        f"({100 * layer.memory_access / total:.2f}% of the network), {layer.flops:,} FLOPs",
                        share >= G4_SHARE and layer.memory_access >= G4_LAYER_SHARE * total, layer.memory_access,
                        f"an element-wise {layer.kind} left after fusion breaks G4: removing it, or computing it in "
                        f"the kernel that produces its input, would save all of its memory access")
                for layer in sorted(elementwise, key=lambda layer: -layer.memory_access)]
    return share, findings


def a1_attention(result: Analysis) -> tuple[float, list[Finding]]:
    """A1: each attention layer's score traffic, and the share of the network's memory access that grows with the
    square of the tokens."""
    total = result.totals["memory_access"]
    quadratic, findings = 0, []
    for layer in result.layers:
        if layer.kind not in ATTENTION_KINDS:
            continue
        op = _op(result.network, layer.name)
        out = layer.output_shape
        if isinstance(op, ScaledDotProductAttention):
            queries, keys = out.dims[-2], layer.input_shapes[1].dims[-2]
            scores = out.numel // out.dims[-1] * keys
            score_traffic = 2 * scores
        else:                        # the score matrix itself: read and written
            queries, keys = out.dims[-2], out.dims[-1]
            scores, score_traffic = out.numel, layer.memory_access
        quadratic += score_traffic
        share = score_traffic / layer.memory_access if layer.memory_access else 0.0
        findings.append(Finding("A1", layer.name, f"{queries:,} queries x {keys:,} keys: {scores:,} scores, "
                                f"{score_traffic:,} of the layer's {layer.memory_access:,} elements of memory access "
                                f"({100 * share:.0f}%)", share >= A1_SHARE, score_traffic * 3 // 4,
                                f"scores are {100 * share:.0f}% of this attention's memory access; half the keys "
                                f"and queries (a stride-2 patch, pooled keys) would cut the score traffic by 75%"))
    return (quadratic / total if total else 0.0), findings


def review(result: Analysis) -> dict[str, dict[str, Any]]:
    """Every guideline's findings on the fused inference view of ``result`` (BatchNorm folded, activations fused
    into the kernels before them: what an engine runs, so G4 flags what is left), flagged rows first, with a
    one-line summary each."""
    result = fused_view(result)
    g4_share, g4 = g4_elementwise(result)
    a1_share, a1 = a1_attention(result)
    sections = {"G1": g1_channel_ratio(result), "G2": g2_group_convolutions(result), "G3": g3_fragmentation(result),
                "G4": g4, "A1": a1}
    summaries = {
        "G1": f"1x1 convolutions with a channel ratio of {G1_RATIO:g}:1 or more",
        "G2": "group convolutions (depthwise excluded)",
        "G3": f"merges of {G3_BRANCHES} or more branches with operators of their own",
        "G4": f"element-wise layers left after fusion move {100 * g4_share:.1f}% of all memory access (at "
              f"{100 * G4_SHARE:g}% or more, those with {100 * G4_LAYER_SHARE:g}% or more each are flagged)",
        "A1": f"attention's score matrices move {100 * a1_share:.1f}% of all memory access, a share that grows with "
              f"the square of the tokens (4x the tokens, 16x the scores); flagged where scores are "
              f"{100 * A1_SHARE:g}% or more of the layer's own",
    }
    roles = unavoidable(result)
    design = block_design(result)
    for guideline, findings in sections.items():
        sections[guideline] = [dataclasses.replace(finding, flagged=False, figures=f"{finding.figures} (the "
                                                   f"{roles[finding.layer]}: checked, not flagged)")
                               if finding.flagged and finding.layer in roles else finding for finding in findings]
    sections["G1"] = [dataclasses.replace(finding, flagged=False, figures=f"{finding.figures} ({design[finding.layer]}"
                                          ": the block's design, what it costs, not a violation; the advice says "
                                          "what a lower ratio would save)")
                      if finding.flagged and finding.layer in design else finding for finding in sections["G1"]]
    return {
        guideline: {
            "summary": summaries[guideline],
            "flagged": sum(finding.flagged for finding in findings),
            "checked": len(findings),
            "findings": sorted(findings, key=lambda finding: (not finding.flagged, -finding.cost)),
        }
        for guideline, findings in sections.items()
    }
