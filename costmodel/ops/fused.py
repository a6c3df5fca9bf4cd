"""The kernels of an inference engine (``fusion.fuse``, ``analyze(..., fused=True)``): a convolution or linear layer
with the BatchNorm after it folded in and the activation after that applied as it writes its output; or a residual
add with its activation.

Folding BatchNorm (``y = gamma (x - mean) / sqrt(var + eps) + beta``) into the layer before it scales each output
channel's weights by ``gamma / sqrt(var + eps)`` and gives it the bias ``beta - gamma mean / sqrt(var + eps)``: the
kernel is the layer with a bias, and BatchNorm's 2 C parameters become its C biases (the ``C`` a layer without bias
gains). The activation costs its arithmetic but no memory traffic: the kernel writes its output once, activated.
So, for a fused kernel of ``main``:

- params, mult-adds, memory access: those of ``main`` with a bias where BatchNorm is folded in (an add's: its two
  inputs read, its output written);
- FLOPs: ``main``'s (with the bias) plus the activation's, under each convention.

``covers`` names the unfused nodes the kernel stands for, the first of them being its own name.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.conventions import CONVENTIONS
from ..core.errors import CostModelError
from ..core.ir import Op
from ..core.shapes import NodeShapes, Shape, ShapeContext
from .activation import SAVES_OUTPUT, Activation
from .common import output_elements
from .conv import Conv2d
from .elementwise import Add
from .linear import Linear
from .registry import Backward, Example, OpDef, Saved, SpecForm, definition, register


# the activations inference engines apply in the kernel that produces their input
FUSABLE_ACTIVATIONS = ("relu", "relu6", "hswish", "hsigmoid", "silu", "sigmoid", "leaky_relu", "gelu", "gelu_tanh")


@dataclass(frozen=True)
class Fused(Op):
    """``main`` (a ``Conv2d``, a ``Linear`` or an ``Add``), with BatchNorm folded in (``batchnorm``) and
    ``activation`` ("" for none) applied to its output, as one kernel."""

    main: Op = dataclasses.field(default_factory=Conv2d)
    batchnorm: bool = False
    activation: str = ""
    covers: tuple = ()
    arity: ClassVar[tuple[int, float]] = (1, 2)
    op_name: ClassVar[str] = "fused"

    def __post_init__(self) -> None:
        if not isinstance(self.main, (Conv2d, Linear, Add)):
            raise CostModelError(f"a fused kernel's main op is a conv2d, linear or add, got {self.main!r}")
        if self.activation and self.activation not in FUSABLE_ACTIVATIONS:
            raise CostModelError(f"a fused kernel's activation is one of {', '.join(FUSABLE_ACTIVATIONS)}, got "
                                 f"{self.activation!r}")
        if self.batchnorm and isinstance(self.main, Add):
            raise CostModelError("BatchNorm folds into a convolution or linear layer, not into an add")
        object.__setattr__(self, "covers", tuple(self.covers))

    @property
    def kernel(self) -> Op:
        """``main`` as the kernel computes it: with a bias where BatchNorm is folded in."""
        return dataclasses.replace(self.main, bias=True) if self.batchnorm else self.main

    def refs(self) -> tuple[tuple[str, str], ...]:
        return self.main.refs()


def _main(op: Fused, node: NodeShapes) -> tuple[Op, NodeShapes]:
    return op.kernel, NodeShapes(node.node, node.inputs, node.output, node.skipped)


def _activated(op: Fused, node: NodeShapes) -> tuple[Activation, NodeShapes]:
    return Activation(op.activation), NodeShapes(node.node, (node.output,), node.output, node.skipped)


def fused_shape(op: Fused, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    return definition(op.main).shape(op.kernel, inputs, ctx)


def _delegate(metric: str) -> Any:
    def formula(op: Fused, node: NodeShapes) -> Any:
        kernel, shapes = _main(op, node)
        return definition(kernel).formula(metric)(kernel, shapes)
    formula.__doc__ = f"the kernel's {metric} (``main`` with a bias where BatchNorm is folded in)"
    return formula


def _flops(convention: str) -> Any:
    def formula(op: Fused, node: NodeShapes) -> Any:
        kernel, shapes = _main(op, node)
        total = definition(kernel).formula("flops", convention)(kernel, shapes)
        if op.activation:
            activation, activated = _activated(op, node)
            total = total + definition(activation).formula("flops", convention)(activation, activated)
        return total
    formula.__doc__ = "the kernel's FLOPs plus its activation's"
    return formula


def fused_saves(op: Fused, node: NodeShapes) -> "tuple[Saved, ...]":
    """What the kernel saves, and what its activation saves of the kernel's output: that output itself for ReLU,
    sigmoid and tanh (their output is the fused kernel's); else its input, a buffer of the output's size."""
    kernel, shapes = _main(op, node)
    saved = definition(kernel).backward.saves(kernel, shapes)          # type: ignore[union-attr]
    if not op.activation:
        return saved
    if op.activation in SAVES_OUTPUT:
        return (*saved, Saved("output"))
    return (*saved, Saved("own", elements=output_elements))


def _backward(metric: str, part: str, convention: str = "") -> Any:
    def formula(op: Fused, node: NodeShapes) -> Any:
        kernel, shapes = _main(op, node)
        total = definition(kernel).backward.formula(metric, part, convention)(kernel, shapes)  # type: ignore[union-attr]
        if op.activation and part == "input":
            activation, activated = _activated(op, node)
            total = total + definition(activation).backward.formula(  # type: ignore[union-attr]
                metric, part, convention)(activation, activated)
        return total
    formula.__doc__ = f"the kernel's {part} gradient's {metric}, and its activation's"
    return formula


def fused_kind(op: Fused, node: NodeShapes) -> str:
    kernel, shapes = _main(op, node)
    kernel_def = definition(kernel)
    return kernel_def.kind(kernel, shapes) if kernel_def.kind else next(iter(kernel_def.kinds))


def lower_fused(op: Fused, node: NodeShapes, kit: Any) -> Any:
    """The kernel's module (a convolution or linear layer with its bias, or the add), then the activation."""
    kernel, shapes = _main(op, node)
    module = definition(kernel).lower(kernel, shapes, kit)
    if not op.activation:
        return module
    activation, activated = _activated(op, node)
    act = definition(activation).lower(activation, activated, kit)
    if isinstance(op.main, Add):
        return kit.Function(lambda m, a, b: m.act(m.add(a, b)), add=module, act=act)
    return kit.nn.Sequential(module, act)


def _refuse(layer: Any) -> Fused:
    raise layer.fail("fused kernels are made by the fused view, not written in a spec file")


_KINDS = {**definition(Conv2d()).kinds, **definition(Linear()).kinds, **definition(Add()).kinds}

FUSED = register(OpDef(
    Fused,
    shape=fused_shape,
    params=_delegate("params"),
    madds=_delegate("madds"),
    flops={convention: _flops(convention) for convention in CONVENTIONS},
    memory_access=_delegate("memory_access"),
    activation=output_elements,
    backward=Backward(saves=fused_saves, per_input=False,
                      input_madds=_backward("madds", "input"), weight_madds=_backward("madds", "weight"),
                      input_flops={convention: _backward("flops", "input", convention) for convention in CONVENTIONS},
                      weight_flops={convention: _backward("flops", "weight", convention)
                                    for convention in CONVENTIONS}),
    kinds=_KINDS,
    kind=fused_kind,
    spec=SpecForm("fused", _refuse, fields="(made by --fused)"),
    lower=lower_fused,
    examples=(Fused(Conv2d(8, 3, padding=1), batchnorm=True, activation="relu", covers=("op", "bn", "act")),
              Fused(Conv2d(None, 3, groups="depthwise"), batchnorm=True, activation="relu6"),
              Fused(Conv2d(6, 1, bias=True), activation="hswish"),
              Fused(Conv2d(6, 1), batchnorm=True),
              Example(Fused(Linear(10), batchnorm=True), layout="NC"),
              Example(Fused(Add(), activation="relu"), inputs=("input", "input"))),
))
