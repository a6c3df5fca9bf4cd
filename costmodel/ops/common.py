"""Formula helpers that several ops share (fvcore's handle factories, in the same spirit): element counts, the
memory access of ops that read and write whole tensors, and zero for what an op or a convention does not count.

Every helper has the formula signature ``(op, node) -> int`` on a resolved node (``shapes.NodeShapes``); shapes
carry the batch, so every count but the parameters scales with it.
"""
from __future__ import annotations

from typing import Any, Callable

from ..core.shapes import NodeShapes


def zero(op: Any, node: NodeShapes) -> int:
    """Nothing of this metric (no parameters; not a multiply-accumulate; not counted by the convention)."""
    return 0


def costmodel_only(formula: Callable[[Any, NodeShapes], Any]) -> dict[str, Callable[[Any, NodeShapes], Any]]:
    """FLOPs that only costmodel's convention counts: the papers count mult-adds, and fvcore and FlopCounterMode
    count none of the element-wise arithmetic this holds (fvcore lists the op as unsupported, or ignores it)."""
    return {"costmodel": formula, "papers": zero, "fvcore": zero, "flop_counter": zero}


NO_FLOPS = costmodel_only(zero)      # data movement: no arithmetic under any convention


def output_elements(op: Any, node: NodeShapes) -> Any:
    """The output's elements: one per output element (the activation size of every op; an element-wise op's
    FLOPs at one operation per element)."""
    return node.output.numel


def input_elements(op: Any, node: NodeShapes) -> Any:
    """The first input's elements (a global average's FLOPs: H W - 1 additions and one multiply per channel)."""
    return node.inputs[0].numel


def read_write(op: Any, node: NodeShapes) -> Any:
    """ShuffleNetV2's MAC of an op without weights: every input read once, the output written once."""
    total: Any = node.output.numel
    for shape in node.inputs:
        total = total + shape.numel
    return total


def read_write_weights(params: Callable[[Any, NodeShapes], Any]) -> Callable[[Any, NodeShapes], Any]:
    """ShuffleNetV2's MAC of an op with weights: input read once, output written once, every parameter read once
    (for a 1x1 convolution ``hw(c1 + c2) + c1 c2``; weights are read once per batch)."""
    def memory_access(op: Any, node: NodeShapes) -> Any:
        return node.inputs[0].numel + node.output.numel + params(op, node)
    memory_access.__doc__ = read_write_weights.__doc__
    return memory_access


def per_element(cost: int) -> Callable[[Any, NodeShapes], Any]:
    """``cost`` operations per output element."""
    def flops(op: Any, node: NodeShapes) -> Any:
        return cost * node.output.numel
    flops.__doc__ = f"{cost} per output element."
    return flops


def scaled(factor: int, formula: Callable[[Any, NodeShapes], Any]) -> Callable[[Any, NodeShapes], Any]:
    """``factor`` times ``formula`` (FlopCounterMode's 2 per multiply-accumulate)."""
    def flops(op: Any, node: NodeShapes) -> Any:
        return factor * formula(op, node)
    flops.__doc__ = f"{factor} x {formula.__name__}: {formula.__doc__ or ''}".strip()
    return flops


def _bias_sums(has_bias: Callable[[Any], bool]) -> Callable[[Any, NodeShapes], Any]:
    def sums(op: Any, node: NodeShapes) -> Any:
        return node.output.numel if has_bias(op) else 0
    return sums


def weighted_backward(madds: Callable[[Any, NodeShapes], Any], groups: Callable[[Any, NodeShapes], Any],
                      has_bias: Callable[[Any], bool], saves: Any) -> Any:
    """The backward of a layer that multiplies its input by weights (a convolution, a linear layer).

    The input gradient is the forward's product transposed (a transposed convolution of the output gradient; the
    output gradient times the weights): the forward's mult-adds. The weight gradient is the input times the output
    gradient: the forward's mult-adds again, plus one addition per output element for a bias (its gradient sums the
    output gradient). FLOPs: costmodel 2 per mult-add and the bias sums; the papers and fvcore one per mult-add
    (fvcore counts no backward: its unit applied to the gradients' products); FlopCounterMode (torch 2.13) 2 per
    mult-add, but it counts a grouped convolution's weight gradient ``g`` times over (its product ignores the groups;
    ``groups(op, node)``), and so does its convention here.

    :param madds: the forward's mult-adds.
    :param groups: the groups ``g`` of the layer (1 for a linear layer).
    :param has_bias: whether the op has a bias.
    :param saves: what the layer saves (``registry.Backward.saves``).
    :returns: the ``registry.Backward``."""
    from .registry import Backward

    def counter_weight(op: Any, node: NodeShapes) -> Any:
        return 2 * groups(op, node) * madds(op, node)

    bias = _bias_sums(has_bias)

    def costmodel_weight(op: Any, node: NodeShapes) -> Any:
        return 2 * madds(op, node) + bias(op, node)

    return Backward(saves=saves, input_madds=madds, weight_madds=madds,
                    input_flops={"costmodel": scaled(2, madds), "papers": madds, "fvcore": madds,
                                 "flop_counter": scaled(2, madds)},
                    weight_flops={"costmodel": costmodel_weight, "papers": madds, "fvcore": madds,
                                  "flop_counter": counter_weight})


def elementwise_backward(input_cost: int, weight_cost: int = 0, saves: Any = None,
                         elements: Callable[[Any, NodeShapes], Any] = output_elements) -> Any:
    """The backward of an element-wise op (no mult-adds): ``input_cost`` FLOPs per element for the input gradient
    and ``weight_cost`` for its parameters' (costmodel's convention; the papers, fvcore and FlopCounterMode count
    none), over ``elements``.

    :returns: the ``registry.Backward``."""
    from .registry import Backward, saves_nothing

    def cost(per: int) -> Callable[[Any, NodeShapes], Any]:
        def flops(op: Any, node: NodeShapes) -> Any:
            return per * elements(op, node)
        flops.__doc__ = f"{per} per element."
        return flops

    return Backward(saves=saves or saves_nothing,
                    input_flops=costmodel_only(cost(input_cost)) if input_cost else None,
                    weight_flops=costmodel_only(cost(weight_cost)) if weight_cost else None)
