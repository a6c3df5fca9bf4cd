"""What an imported module needs beyond the ops of the papers: the ops costmodel does not know, kept with their
shapes and parameters, and parameters the forward never reads (``costmodel.importer``).

- ``Opaque``: a call costmodel has no formula for (an ATen op, a module type, a use of a learned tensor it cannot
  name). It keeps the output shape torch gave it and the parameters it holds; every other count is 0 and every
  output lists it as not counted (``not counted: aten.foo x 3``). Its shape is fixed: a network with one is
  captured again at each size.
- ``UnusedParameters``: parameters of the module that its forward never reads (a second head, a training-only
  branch), so that the network's parameters equal ``sum(p.numel() for p in module.parameters())``. It passes its
  input through (a view) and counts nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.ir import Op
from ..core.shapes import LAYOUTS, FREE_LETTERS, NodeShapes, Shape, ShapeContext
from .common import NO_FLOPS, output_elements, zero
from .registry import NO_BACKWARD, OpDef, SpecForm, register


def layout_of_rank(rank: int) -> str:
    """The layout costmodel gives a tensor of ``rank`` axes whose names it does not know: NCHW, NLC, NC, or N and
    free letters."""
    for layout in LAYOUTS:
        if len(layout) == rank:
            return layout
    return "N" + FREE_LETTERS[:rank - 1]


@dataclass(frozen=True)
class Opaque(Op):
    """A call costmodel has no formula for: ``target`` (``aten.foo``, ``module MyBlock``) with its per-sample
    output ``sizes`` as torch gave them and the ``params`` it holds. Costs nothing but its parameters."""

    target: str = "unknown"
    sizes: tuple = ()
    params: int = 0
    arity: ClassVar[tuple[int, float]] = (1, float("inf"))
    op_name: ClassVar[str] = "opaque"

    def __post_init__(self) -> None:
        object.__setattr__(self, "sizes", tuple(int(size) for size in self.sizes))

    def not_counted(self) -> str:
        return self.target


def opaque_shape(op: Opaque, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    return Shape(layout_of_rank(len(op.sizes) + 1), (inputs[0].batch, *op.sizes))


def lower_opaque(op: Opaque, node: NodeShapes, kit: Any) -> Any:
    """Zeros of the recorded shape, beside a parameter of ``params`` elements (what the reference tools count of
    it: its parameters and no FLOPs)."""
    sizes = tuple(node.output.dims)
    if op.params:
        return kit.Function(lambda m, *xs: xs[0].new_zeros(sizes), weight=kit.nn.Parameter(kit.torch.zeros(op.params)))
    return kit.Function(lambda *xs: xs[0].new_zeros(sizes))


OPAQUE = register(OpDef(
    Opaque,
    shape=opaque_shape,
    params=lambda op, node: op.params,
    madds=zero,
    flops=NO_FLOPS,
    memory_access=zero,
    activation=output_elements,
    backward=NO_BACKWARD,          # not counted, as its forward: listed wherever its costs are
    kinds={"opaque": "not counted"},
    spec=SpecForm("opaque", lambda layer: Opaque(layer.get("target", str, "unknown"),
                                                 tuple(layer.get("sizes", list, required=True)),
                                                 layer.get("params", int, 0)),
                  fields="target, sizes (per sample), params"),
    lower=lower_opaque,
    examples=(Opaque("aten.foo", (5, 7), 12), Opaque("aten.bar", (30,))),
))


@dataclass(frozen=True)
class UnusedParameters(Op):
    """``count`` parameters the forward never reads (of the modules ``modules``); passes its input through."""

    count: int = 0
    modules: tuple = ()
    op_name: ClassVar[str] = "unused_parameters"


UNUSED_PARAMETERS = register(OpDef(
    UnusedParameters,
    shape=lambda op, inputs, ctx: inputs[0],
    params=lambda op, node: op.count,
    madds=zero,
    flops=NO_FLOPS,
    memory_access=zero,
    activation=zero,
    backward=NO_BACKWARD,          # never read: no gradient
    kinds={"unused": "parameters never used"},
    memory="view",
    spec=SpecForm("unused_parameters", lambda layer: UnusedParameters(layer.get("count", int, 0)), fields="count"),
    lower=lambda op, node, kit: kit.Function(lambda m, x: x, weight=kit.nn.Parameter(kit.torch.zeros(op.count))),
    examples=(UnusedParameters(10),),
))
