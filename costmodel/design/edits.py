"""What-if edits: an architecture change applied to the IR, so that it can be recounted exactly.

Each edit is a small frozen record naming what it changes (a stage of ``structure.stages``, or the whole network)
and how; ``apply`` gives the edited network (``Resolution`` changes the setting instead: the network is returned as
it is). The edited network is a ``Network`` like any other: analyze it, sweep it, lower it to torch, or edit it
again. A depthwise convolution stated by its numbers (an imported ``groups=C``) is stated as depthwise first
(``stated_depthwise``), so that it follows its input's width.

- ``Width(stage, factor)``: every width of the stage's own (``Scaled`` and ``Tabulated``) times ``factor``,
  rounded by the network's own rule (MobileNetV2's ``make_divisible(c x alpha x factor, 8)``); a width with no
  rule of its own (an imported network's, ResNet's) is rounded as MobileNetV2 rounds: ``make_divisible(c x factor,
  8)``. Widths that follow others (expansions, squeezes, ``ChannelsOf``) follow.
- ``Expansion(stage, ratio)``: each block's expanding 1x1 convolution (the first 1x1 convolution that widens what
  the block reads, with a depthwise convolution after it) to ``ratio`` x the block's input width, rounded as the
  network's own expansions are (``make_divisible(., 8)`` for a network whose widths round so, the nearest integer
  otherwise).
- ``Kernel(stage, size)``: each depthwise convolution of the stage to ``size`` x ``size``, with the padding that
  keeps its output size.
- ``Blocks(stage, change)``: -1 drops the stage's last block, +1 repeats it (named ``<block>-repeat``); the stage
  needs two blocks (its last one then keeps the shape).
- ``SqueezeExcite(stage, on)``: off removes each block's squeeze-and-excite (a multiply of a map by a gate computed
  from its pooled self); on adds one after each block's depthwise convolution (and its BatchNorm and activation),
  copied from the network's own first squeeze-and-excite, or MobileNetV3's (``builder.squeeze_excite``) when it has
  none.
- ``SwapActivation(stage, old, new)``: every ``old`` activation of the stage (of the network, for stage ``""``) becomes
  ``new`` (h-swish to ReLU).
- ``RoundChannels(multiple, stage)``: every width a convolution or linear layer sets (but the classifier's) made a
  multiple of ``multiple`` as MobileNetV2 rounds (``scaling.Rounded``).
- ``Shortcuts(stage, False)``: each block's identity shortcut removed (ShuffleNetV2's G4 experiment).
- ``Groups(stage, groups)``: each group convolution of the stage (not depthwise) to ``groups`` groups
  (ShuffleNetV2's G2: fewer groups, less memory access).
- ``Resolution(size)``: the input at ``size`` x ``size``.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..core.errors import CostModelError
from ..core.ir import Network, Node, Op
from ..core.scaling import ChannelsOf, Expanded, Rounded, Scaled, Squeezed, Tabulated, make_divisible
from ..engine.fusion import with_refs_renamed
from ..engine.passes import infer_shapes
from .structure import Block, Stage, stage_named

SE_POOLS = ("GlobalAvgPool", "Mean")


class Edit:
    """Base of every edit (a frozen dataclass): ``stage`` names what it changes (``""``: the whole network)."""

    stage: str = ""

    def describe(self) -> str:
        raise NotImplementedError

    def edit(self, network: Network, stage: "Stage | None", context: "Context") -> Network:
        raise NotImplementedError


@dataclass(frozen=True)
class Context:
    """What an edit reads besides the network: the width multiplier and input the shapes are read at."""

    alpha: float
    size: tuple[int, int]

    def shapes(self, network: Network) -> dict[str, Any]:
        """Every node's input and output shapes at this setting, by name."""
        return {item.node.name: item for item in infer_shapes(network, self.alpha, self.size)}


def edit(model: Any, *changes: Edit, alpha: float = 1.0, resolution: Any = None, **fields: Any) -> Network:
    """The network of ``model`` with ``changes`` made in order: a network to analyze, sweep or edit again.

        >>> net = costmodel.edit("mobilenet_v2", edits.Blocks("features.7-10", -1), edits.Expansion("features.7-9", 4))
        >>> costmodel.analyze(net).totals["madds"]          # doctest: +SKIP

    :param model: a zoo name, a spec file, an import argument or a ``Network``.
    :param changes: ``Edit`` records; each names a stage of the network as the one before it left it.
    :param alpha: the width multiplier the stages and channel counts are read at (the edited network still scales
        with alpha where the original did).
    :param resolution: the input they are read at (default: the network's base).
    :param fields: any other field of ``Setting`` (``options``, ``depth``).
    :returns: the edited ``Network`` (a ``Resolution`` edit changes the setting, not the network: analyze the
        result at that resolution).
    :raises CostModelError: one line, where an edit does not apply."""
    from ..sources.settle import settle

    settled = settle(model, alpha=alpha, resolution=resolution, **fields)
    network = settled.network
    for change in changes:
        if not isinstance(change, Edit):
            raise CostModelError(f"an edit must be one of costmodel.design.edits' records, got "
                                 f"{type(change).__name__}")
        network = apply(network, change, settled.alpha, settled.size)
    return network


def apply(network: Network, edit: Edit, alpha: float = 1.0, size: "tuple[int, int] | None" = None,
          found: "Sequence[Stage] | None" = None) -> Network:
    """``network`` with ``edit`` made.

    :param network: the network (``settle(model).network``, or an edited one).
    :param edit: an ``Edit``.
    :param alpha: the width multiplier the network's shapes are read at (stages, channel counts).
    :param size: the input (H, W) they are read at (default: the network's base resolution).
    :param found: the network's stages (``structure.stages`` at this setting), where the caller has them.
    :returns: the edited network (a ``Resolution`` edit returns ``network`` itself: it changes the setting).
    :raises CostModelError: one line, where the edit does not apply (no such stage, no such layer in it, shapes
        that no longer fit)."""
    context = Context(alpha, size or network.base_resolution)
    network = stated_depthwise(network, context)
    stage = None
    if edit.stage and found is not None:
        stage = next((each for each in found if each.name == edit.stage), None)
    if edit.stage and stage is None:
        stage = stage_named(network, edit.stage, alpha, context.size)
    edited = edit.edit(network, stage, context)
    if edited is not network:
        try:
            infer_shapes(edited, alpha, context.size)
        except CostModelError as error:
            raise CostModelError(f"{edit.describe()}: the edited network does not fit: {error}") from None
    return edited


def stated_depthwise(network: Network, context: Context) -> Network:
    """``network`` with each convolution that is depthwise by its numbers (``groups`` = its input width = its output
    width, as an imported network states a depthwise layer: ``nn.Conv2d(72, 72, 3, groups=72)``) stated as depthwise
    (``groups="depthwise"``, the output as wide as the input), so that it follows its input when an edit changes a
    width. At ``context``'s setting every count is the same.

    :param network: a network.
    :param context: the setting its widths are read at.
    :returns: the network so stated (``network`` itself when no layer changes)."""
    if not any(type(node.op).__name__ == "Conv2d" and isinstance(getattr(node.op, "groups", 1), int) and
               getattr(node.op, "groups", 1) > 1 for node in network.nodes):
        return network                   # no group convolution: nothing to read the shapes for
    shapes = context.shapes(network)

    def change(node: Node) -> "Op | None":
        op, item = node.op, shapes[node.name]
        groups = getattr(op, "groups", None)
        if type(op).__name__ != "Conv2d" or not isinstance(groups, int) or groups < 2:
            return None
        if item.inputs[0].channels == groups == item.output.channels:
            return dataclasses.replace(op, groups="depthwise", out_channels=None)
        return None

    edited, changed = _with_ops(network, (node.name for node in network.nodes), change)
    return edited if changed else network


# ---- rewriting nodes -------------------------------------------------------------------------------------------

def _retarget(node: Node, renamed: Mapping[str, str]) -> Node:
    """``node`` reading ``renamed[name]`` wherever it read ``name``."""
    return Node(node.name, with_refs_renamed(node.op, renamed), tuple(renamed.get(ref, ref) for ref in node.inputs),
                renamed.get(node.shares, node.shares))


def _rebuilt(network: Network, nodes: Iterable[Node], renamed: "Mapping[str, str] | None" = None) -> Network:
    return dataclasses.replace(network, nodes=tuple(nodes),
                               output=(renamed or {}).get(network.output, network.output))


def _with_ops(network: Network, names: Iterable[str], change: Callable[[Node], "Op | None"]) -> tuple[Network, int]:
    """``network`` with ``change(node)`` as the op of each node named in ``names`` (None: unchanged), and how many
    ops changed."""
    wanted, changed, nodes = set(names), 0, []
    for node in network.nodes:
        op = change(node) if node.name in wanted else None
        if op is not None and op != node.op:
            node = dataclasses.replace(node, op=op)
            changed += 1
        nodes.append(node)
    return _rebuilt(network, nodes), changed


def _nodes_of(network: Network, stage: "Stage | None") -> tuple[str, ...]:
    return stage.nodes if stage is not None else tuple(node.name for node in network.nodes)


def _none_found(edit: Edit, what: str) -> CostModelError:
    where = f"stage {edit.stage!r}" if edit.stage else "the network"
    return CostModelError(f"{edit.describe()}: {where} has no {what}")


def _width_fields(op: Op) -> list[str]:
    return [item.name for item in dataclasses.fields(op)
            if isinstance(getattr(op, item.name), (Scaled, Expanded, Squeezed, Tabulated, ChannelsOf, Rounded))]


def is_depthwise(op: Op) -> bool:
    """Whether ``op`` is a depthwise convolution stated as one (``groups="depthwise"``; see ``stated_depthwise``)."""
    return type(op).__name__ == "Conv2d" and getattr(op, "groups", 1) == "depthwise"


def _rounds_to_8(network: Network) -> bool:
    """Whether the network's widths round to multiples of 8 (a ``make_divisible`` rule anywhere)."""
    return any(isinstance(value, Scaled) and value.rule.startswith("make_divisible") or
               isinstance(value, Expanded) and value.divisor == 8
               for node in network.nodes for value in (getattr(node.op, name) for name in _width_fields(node.op)))


# ---- the edits ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Width(Edit):
    """Every width of the stage's own times ``factor``, by the network's rounding rule (module docstring)."""

    stage: str
    factor: float = 0.75

    def describe(self) -> str:
        return f"stage {self.stage}: widths x {self.factor:g}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        if not 0 < self.factor <= 10:
            raise CostModelError(f"a width factor must be in (0, 10], got {self.factor!r}")

        def scaled(width: Any) -> Any:
            if isinstance(width, Rounded):
                return Rounded(scaled(width.width), width.multiple)
            if isinstance(width, Scaled):
                if width.rule != "fixed":
                    return Scaled(width.base, width.rule, width.factor * self.factor)
                return Scaled(make_divisible(width.base * self.factor, 8), "fixed")
            if isinstance(width, Tabulated):
                return Tabulated(tuple((alpha, make_divisible(channels * self.factor, 8))
                                       for alpha, channels in width.columns))
            return width

        def change(node: Node) -> "Op | None":
            if node.name == network.output:          # the classifier's classes are not a width to trade
                return None
            changes = {name: scaled(getattr(node.op, name)) for name in _width_fields(node.op)}
            return dataclasses.replace(node.op, **changes) if changes else None

        edited, changed = _with_ops(network, _nodes_of(network, stage), change)
        if not changed:
            raise _none_found(self, "width of its own (its widths follow the layers before it)")
        before, after = context.shapes(network), context.shapes(edited)
        if all(before[name].output == after[name].output for name in before):
            raise CostModelError(f"{self.describe()}: the network's rounding keeps every width of the stage")
        return edited


@dataclass(frozen=True)
class Expansion(Edit):
    """Each block's expanding 1x1 convolution to ``ratio`` x the block's input width."""

    stage: str
    ratio: float = 4.0

    def describe(self) -> str:
        return f"stage {self.stage}: expansion ratio {self.ratio:g}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        if stage is None:
            raise CostModelError("an expansion edit names a stage")
        names = expansions(network, stage, context)
        own = [network.nodes[network.index[name]].op.out_channels for name in names]  # type: ignore[attr-defined]
        divisor = next((width.divisor for width in own if isinstance(width, Expanded)),
                       8 if _rounds_to_8(network) else 1)
        if not names:
            raise _none_found(self, "expanding 1x1 convolution (an inverted residual's first layer)")
        edited, _ = _with_ops(network, names, lambda node: dataclasses.replace(
            node.op, out_channels=Expanded(self.ratio, divisor)))
        return edited


def expansions(network: Network, stage: Stage, context: Context) -> dict[str, float]:
    """The expanding 1x1 convolution of each block of ``stage`` with its ratio (output / block input width): the
    first 1x1 ungrouped convolution of the block that reads the block's entry and widens it, where a depthwise
    convolution follows it in the block (an inverted residual's; a head's 1x1 that widens is no expansion).

    :returns: {node name: expansion ratio}."""
    shapes = context.shapes(network)
    found = {}
    for block in stage.blocks:
        for name in block.nodes:
            node = network.nodes[network.index[name]]
            op = node.op
            if type(op).__name__ == "Conv2d" and getattr(op, "kernel") == (1, 1) and getattr(op, "groups") == 1 \
                    and node.inputs == (block.entry,):
                item = shapes[name]
                m, n = item.inputs[0].channels, item.output.channels
                later = block.nodes[block.nodes.index(name) + 1:]
                if n > m and any(is_depthwise(network.nodes[network.index[other]].op) for other in later):
                    found[name] = n / m
                break
    return found


@dataclass(frozen=True)
class Kernel(Edit):
    """Each depthwise convolution of the stage to ``size`` x ``size``."""

    stage: str
    size: int = 3

    def describe(self) -> str:
        return f"stage {self.stage}: depthwise kernels {self.size}x{self.size}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        from ..ops.conv import same_padding

        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 1 <= self.size <= 15 or \
                self.size % 2 == 0:
            raise CostModelError(f"a depthwise kernel must be an odd size in [1, 15], got {self.size!r}")

        def change(node: Node) -> "Op | None":
            op = node.op
            if not is_depthwise(op):
                return None
            padding = getattr(op, "padding")
            if not isinstance(padding, str):
                padding = (same_padding(self.size, op.dilation[0]), same_padding(self.size, op.dilation[1]))  # type: ignore[attr-defined]
            return dataclasses.replace(op, kernel=(self.size, self.size), padding=padding)

        if not any(is_depthwise(network.nodes[network.index[name]].op) for name in _nodes_of(network, stage)):
            raise _none_found(self, "depthwise convolution")
        edited, changed = _with_ops(network, _nodes_of(network, stage), change)
        if not changed:
            raise _none_found(self, f"depthwise convolution of another size than {self.size}x{self.size}")
        return edited


@dataclass(frozen=True)
class Blocks(Edit):
    """-1: the stage's last block dropped; +1: it repeated."""

    stage: str
    change: int = -1

    def describe(self) -> str:
        return f"stage {self.stage}: {'one block fewer' if self.change < 0 else 'one block more'}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        if stage is None:
            raise CostModelError("a blocks edit names a stage")
        if self.change not in (-1, 1):
            raise CostModelError(f"a blocks edit adds or drops one block (+1 or -1), got {self.change!r}")
        if len(stage.blocks) < 2:
            raise CostModelError(f"{self.describe()}: stage {stage.name!r} has one block (it changes the shape: "
                                 "there is no repeated block to drop or repeat)")
        last = stage.blocks[-1]
        return _without(network, last) if self.change < 0 else _repeated(network, last)


def _without(network: Network, block: Block) -> Network:
    """``network`` without ``block`` (which keeps the shape): what read its exit reads its entry."""
    gone = set(block.nodes)
    renamed = {block.exit: block.entry}
    if any(node.shares in gone for node in network.nodes if node.name not in gone):
        raise CostModelError(f"block {block.name!r} holds parameters that another layer shares")
    return _rebuilt(network, (_retarget(node, renamed) for node in network.nodes if node.name not in gone), renamed)


def _fresh(network: Network, name: str) -> str:
    """``name``, or ``name`` with a number after it, so that no node of ``network`` starts with it."""
    taken = {node.name for node in network.nodes}
    candidate, count = name, 1
    while any(other == candidate or other.startswith(candidate + ".") or other.startswith(candidate + "_")
              for other in taken):
        count += 1
        candidate = f"{name}{count}"
    return candidate


def _repeated(network: Network, block: Block) -> Network:
    """``network`` with a copy of ``block`` (which keeps the shape) right after it, reading its exit."""
    prefix = _fresh(network, f"{block.name}-repeat")
    renamed = {name: prefix + name[len(block.name):] for name in block.nodes}
    inside = dict(renamed, **{block.entry: block.exit})
    copies = [Node(renamed[name], with_refs_renamed(network.nodes[network.index[name]].op, inside),
                   tuple(inside.get(ref, ref) for ref in network.nodes[network.index[name]].inputs))
              for name in block.nodes]
    after = {block.exit: renamed[block.exit]}
    nodes: list[Node] = []
    for node in network.nodes:
        if network.index[node.name] > network.index[block.nodes[-1]]:
            node = _retarget(node, after)
        nodes.append(node)
        if node.name == block.nodes[-1]:
            nodes.extend(copies)
    return _rebuilt(network, nodes, after)


@dataclass(frozen=True)
class SqueezeExcite(Edit):
    """Squeeze-and-excite removed from (``on`` False) or added to (True) each block of the stage."""

    stage: str
    on: bool = False

    def describe(self) -> str:
        return f"stage {self.stage}: squeeze-excite {'on' if self.on else 'off'}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        if stage is None:
            raise CostModelError("a squeeze-excite edit names a stage")
        found = [(block, gated) for block in stage.blocks for gated in squeeze_excites(network, block)]
        if not self.on:
            if not found:
                raise _none_found(self, "squeeze-and-excite")
            for _, (x, nodes, mul) in found:
                gone = set(nodes) | {mul}
                renamed = {mul: x}
                network = _rebuilt(network, (_retarget(node, renamed) for node in network.nodes
                                             if node.name not in gone), renamed)
            return network
        template = _se_template(network)
        changed = False
        for block in stage.blocks:
            if squeeze_excites(network, block):
                continue
            gated = _after_depthwise(network, block)
            if gated is None:
                continue
            network = _with_se(network, block, gated, template)
            changed = True
        if not changed:
            raise _none_found(self, "block without squeeze-and-excite after a depthwise convolution")
        return network


def squeeze_excites(network: Network, block: Block) -> list[tuple[str, tuple[str, ...], str]]:
    """The squeeze-and-excites of ``block``: a multiply of a map x by a gate computed from x alone through a pool
    (``GlobalAvgPool`` or a mean over the map).

    :returns: [(x, the gate's nodes in order, the multiply)]."""
    inside = set(block.nodes)
    found = []
    for name in block.nodes:
        node = network.nodes[network.index[name]]
        if type(node.op).__name__ != "Multiply" or len(node.inputs) != 2:
            continue
        for x, gate in (node.inputs, node.inputs[::-1]):
            chain, frontier, pooled = set(), [gate], False
            while frontier:
                current = frontier.pop()
                if current in chain or current == x:
                    continue
                if current not in inside:
                    break
                chain.add(current)
                reader = network.nodes[network.index[current]]
                if x in reader.inputs:
                    if type(reader.op).__name__ not in SE_POOLS:
                        break
                    pooled = True
                frontier.extend(reader.inputs)
            else:
                if pooled and all(not (set(network.nodes[network.index[other]].inputs) & chain)
                                  for other in block.nodes if other not in chain and other != name):
                    found.append((x, tuple(n for n in block.nodes if n in chain), name))
                    break
    return found


def _se_template(network: Network) -> tuple[str, tuple[Node, ...], str]:
    """The network's first squeeze-and-excite as (x, its nodes, the multiply), or MobileNetV3's."""
    from .structure import blocks

    for block in blocks(network, 1.0, network.base_resolution):
        found = squeeze_excites(network, block)
        if found:
            x, names, mul = found[0]
            return x, tuple(network.nodes[network.index[n]] for n in (*names, mul)), ""
    from ..ops import Activation, Conv2d, GlobalAvgPool, Multiply

    x = "x"
    nodes = (Node("se.avgpool", GlobalAvgPool(), (x,)),
             Node("se.fc1", Conv2d(Squeezed(4, 8), kernel=1, bias=True), ("se.avgpool",)),
             Node("se.activation", Activation("relu"), ("se.fc1",)),
             Node("se.fc2", Conv2d(ChannelsOf(x), kernel=1, bias=True), ("se.activation",)),
             Node("se.scale_activation", Activation("hsigmoid"), ("se.fc2",)),
             Node("se.mul", Multiply(), (x, "se.scale_activation")))
    return x, nodes, "builder"


def _after_depthwise(network: Network, block: Block) -> "str | None":
    """The node an added squeeze-and-excite gates: the block's last depthwise convolution, after the BatchNorm and
    activation that follow it."""
    readers: dict[str, list[str]] = {}
    for name in block.nodes:
        for ref in network.nodes[network.index[name]].inputs:
            readers.setdefault(ref, []).append(name)
    depthwise = [name for name in block.nodes if is_depthwise(network.nodes[network.index[name]].op)]
    if not depthwise:
        return None
    current = depthwise[-1]
    while len(readers.get(current, [])) == 1:
        following = network.nodes[network.index[readers[current][0]]]
        if type(following.op).__name__ not in ("BatchNorm", "Activation"):
            break
        current = following.name
    return current


def _with_se(network: Network, block: Block, gated: str, template: tuple[str, tuple[Node, ...], str]) -> Network:
    x, nodes, _ = template
    names = [node.name for node in nodes]
    common = names[0].rsplit(".", 1)[0] if all("." in n for n in names) else ""
    while common and not all(n.startswith(common + ".") for n in names):
        common = common.rsplit(".", 1)[0] if "." in common else ""
    prefix = _fresh(network, f"{block.name}.se")
    renamed = {name: f"{prefix}.{name[len(common) + 1:] if common else name}".rstrip(".") for name in names}
    inside = dict(renamed, **{x: gated})
    copies = [Node(renamed[node.name], with_refs_renamed(node.op, inside), tuple(inside.get(r, r) for r in node.inputs))
              for node in nodes]
    mul = renamed[names[-1]]
    after = {gated: mul}
    out: list[Node] = []
    for node in network.nodes:
        if node.name in block.nodes and network.index[node.name] > network.index[gated]:
            node = _retarget(node, after)
        out.append(node)
        if node.name == gated:
            out.extend(copies)
    return _rebuilt(network, out, after if network.output == gated else None)


@dataclass(frozen=True)
class Shortcuts(Edit):
    """Each block's identity shortcut (an add of the block's input to its branch) removed (``on`` False): what read
    the add reads the branch. ShuffleNetV2's G4 experiment (Table 4: ResNet's bottleneck without its shortcut and
    ReLU): the add is an element-wise op, memory-bound."""

    stage: str
    on: bool = False

    def describe(self) -> str:
        return f"stage {self.stage}: identity shortcuts {'on' if self.on else 'off'}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        if stage is None:
            raise CostModelError("a shortcuts edit names a stage")
        if self.on:
            raise CostModelError(f"{self.describe()}: costmodel removes shortcuts; it does not add them")
        renamed: dict[str, str] = {}
        for block in stage.blocks:
            for name in block.nodes:
                node = network.nodes[network.index[name]]
                if type(node.op).__name__ == "Add" and len(node.inputs) == 2 and block.entry in node.inputs:
                    renamed[name] = next(ref for ref in node.inputs if ref != block.entry)
        if not renamed:
            raise _none_found(self, "identity shortcut (an add of a block's input)")
        return _rebuilt(network, (_retarget(node, renamed) for node in network.nodes if node.name not in renamed),
                        renamed)


@dataclass(frozen=True)
class SwapActivation(Edit):
    """Every ``old`` activation of the stage (the network, for stage ``""``) made ``new``."""

    stage: str = ""
    old: str = "hswish"
    new: str = "relu"

    def describe(self) -> str:
        where = f"stage {self.stage}" if self.stage else "network"
        return f"{where}: {self.old} -> {self.new}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        def change(node: Node) -> "Op | None":
            if type(node.op).__name__ == "Activation" and getattr(node.op, "function") == self.old:
                return dataclasses.replace(node.op, function=self.new)
            return None

        edited, changed = _with_ops(network, _nodes_of(network, stage), change)
        if not changed:
            raise _none_found(self, f"{self.old} activation")
        return edited


@dataclass(frozen=True)
class RoundChannels(Edit):
    """Every width a convolution or linear layer sets (the classifier's classes aside) made a multiple of
    ``multiple``."""

    multiple: int = 8
    stage: str = ""

    def describe(self) -> str:
        where = f"stage {self.stage}" if self.stage else "network"
        return f"{where}: channels rounded to multiples of {self.multiple}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        def rounded(width: Any) -> Any:
            if isinstance(width, Rounded):
                return Rounded(width.width, self.multiple)
            if isinstance(width, (Scaled, Expanded, Squeezed, Tabulated)):
                return Rounded(width, self.multiple)
            return width

        def change(node: Node) -> "Op | None":
            if node.name == network.output or type(node.op).__name__ not in ("Conv2d", "Linear", "Conv1d"):
                return None
            changes = {name: rounded(getattr(node.op, name)) for name in _width_fields(node.op)}
            return dataclasses.replace(node.op, **changes) if changes else None

        shapes = context.shapes(network)
        edited, _ = _with_ops(network, _nodes_of(network, stage), change)
        after = context.shapes(edited)
        if all(shapes[name].output == after[name].output for name in shapes):
            raise _none_found(self, f"width that is not a multiple of {self.multiple} already")
        return edited


@dataclass(frozen=True)
class Groups(Edit):
    """Each group convolution of the stage (not depthwise) to ``groups`` groups."""

    stage: str
    groups: int = 1

    def describe(self) -> str:
        return f"stage {self.stage}: group convolutions with {self.groups} group{'' if self.groups == 1 else 's'}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        def change(node: Node) -> "Op | None":
            op = node.op
            if type(op).__name__ == "Conv2d" and isinstance(getattr(op, "groups"), int) and \
                    getattr(op, "groups") > 1 and getattr(op, "groups") != self.groups:
                return dataclasses.replace(op, groups=self.groups)
            return None

        edited, changed = _with_ops(network, _nodes_of(network, stage), change)
        if not changed:
            raise _none_found(self, "group convolution")
        return edited


@dataclass(frozen=True)
class Resolution(Edit):
    """The input at ``size`` x ``size`` (a change of setting: the network is unchanged)."""

    size: int = 192
    stage: str = ""

    def describe(self) -> str:
        return f"input {self.size}x{self.size}"

    def edit(self, network: Network, stage: "Stage | None", context: Context) -> Network:
        return network
