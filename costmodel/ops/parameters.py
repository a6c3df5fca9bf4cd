"""Learned parameters used as tensors: ViT's class token and position embedding, the layer scale of CaiT,
ConvNeXt and MobileNetV4, and any other tensor the weights alone make, added to or multiplied with an activation
(a relative position bias, a mask). Each counts its parameters; the arithmetic is an element-wise add or multiply
(fvcore: ``aten::add`` / ``aten::mul`` are unsupported, 0; prepending the token is a concatenation, no arithmetic).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.ir import Op, check_bool, positive_int
from ..core.shapes import NodeShapes, Shape, ShapeContext, describe_layout, format_shape
from .common import NO_FLOPS, costmodel_only, output_elements, read_write, zero
from .elementwise import broadcasts_into
from .norm import NORM_BACKWARD_INPUT, NORM_FLOPS
from .registry import NO_BACKWARD, Backward, Example, OpDef, Saved, SpecForm, register
from .tensor import MAX_RANK

MAX_ELEMENTS = 1 << 40          # a learned term's size or values


@dataclass(frozen=True)
class ClassToken(Op):
    """A learned token of C features put before the L tokens of every sample: N x L x C -> N x (L + 1) x C
    (ViT's ``cls_token``)."""

    op_name: ClassVar[str] = "class_token"


def class_token_shape(op: ClassToken, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.layout(inputs[0], "NLC")
    return x.with_size(L=x.size("L") + 1)


def _one_token(op: Any, node: NodeShapes) -> Any:
    """C: the token's features."""
    return node.output.channels


def _class_token_memory(op: ClassToken, node: NodeShapes) -> Any:
    """The tokens read, the longer sequence written, the token read once per batch."""
    return read_write(op, node) + node.output.channels


def lower_class_token(op: ClassToken, node: NodeShapes, kit: Any) -> Any:
    token = kit.nn.Parameter(kit.torch.zeros(1, 1, node.output.channels))
    return kit.Function(lambda m, x: kit.torch.cat([m.cls_token.expand(x.shape[0], -1, -1), x], dim=1),
                        cls_token=token)


def _token_sums(op: ClassToken, node: NodeShapes) -> Any:
    """N C additions: the class token's gradient sums its copies in the N samples."""
    return node.output.dims[0] * node.output.channels


def _saves_input_for_weight(op: Any, node: NodeShapes) -> "tuple[Saved, ...]":
    """The input, for the learned factor's gradient (the sum of g x); the factor itself is a parameter."""
    return (Saved("input", needed_for="weight"),)


def _twice_the_elements(op: Any, node: NodeShapes) -> Any:
    """2 per element: a multiply and an addition of the sum."""
    return 2 * node.output.numel


CLASS_TOKEN = register(OpDef(
    ClassToken,
    shape=class_token_shape,
    params=_one_token,
    madds=zero,
    flops=NO_FLOPS,
    memory_access=_class_token_memory,
    activation=output_elements,
    backward=Backward(weight_flops=costmodel_only(_token_sums)),     # the token's N copies summed
    kinds={"embedding": "learned tokens and embeddings"},
    spec=SpecForm("class_token", lambda layer: ClassToken()),
    lower=lower_class_token,
    examples=(Example(ClassToken(), layout="NLC"),),
))


@dataclass(frozen=True)
class PositionEmbedding(Op):
    """A learned tensor of one sample's shape added to every sample (ViT's ``pos_embed``: L x C). Its parameters
    follow the input: a ViT at another resolution has another number of tokens, and so of parameters (timm
    resizes the table)."""

    op_name: ClassVar[str] = "position_embedding"


def _sample_elements(op: Any, node: NodeShapes) -> Any:
    """One sample's elements (L C for tokens)."""
    return node.output.numel // node.output.batch


def _position_memory(op: PositionEmbedding, node: NodeShapes) -> Any:
    """The input read, the output written, the embedding read once per batch."""
    return read_write(op, node) + _sample_elements(op, node)


def lower_position_embedding(op: PositionEmbedding, node: NodeShapes, kit: Any) -> Any:
    table = kit.nn.Parameter(kit.torch.zeros(1, *node.output.sample))
    return kit.Function(lambda m, x: x + m.pos_embed, pos_embed=table)


POSITION_EMBEDDING = register(OpDef(
    PositionEmbedding,
    shape=lambda op, inputs, ctx: inputs[0],
    params=_sample_elements,
    madds=zero,
    flops=costmodel_only(output_elements),          # one addition per element
    memory_access=_position_memory,
    activation=output_elements,
    backward=Backward(weight_flops=costmodel_only(output_elements)),   # summed over the batch
    kinds={"embedding": "learned tokens and embeddings"},
    spec=SpecForm("position_embedding", lambda layer: PositionEmbedding()),
    lower=lower_position_embedding,
    examples=(Example(PositionEmbedding(), layout="NLC"), PositionEmbedding()),
))


@dataclass(frozen=True)
class LayerScale(Op):
    """A learned scale per channel, ``x * gamma`` (CaiT's LayerScale; ConvNeXt's and MobileNetV4's gamma on a map)."""

    op_name: ClassVar[str] = "layer_scale"


def layer_scale_shape(op: LayerScale, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    ctx.channels(inputs[0])
    return inputs[0]


def _channels(op: Any, node: NodeShapes) -> Any:
    """gamma: one per channel."""
    return node.output.channels


def lower_layer_scale(op: LayerScale, node: NodeShapes, kit: Any) -> Any:
    shape = [1] * len(node.output.dims)
    axis = node.output.layout.index("C")
    shape[axis] = node.output.channels
    gamma = kit.nn.Parameter(kit.torch.zeros(node.output.channels))
    return kit.Function(lambda m, x: x * m.gamma.view(shape), gamma=gamma)


LAYER_SCALE = register(OpDef(
    LayerScale,
    shape=layer_scale_shape,
    params=_channels,
    madds=zero,
    flops=costmodel_only(output_elements),          # one multiply per element
    memory_access=lambda op, node: read_write(op, node) + node.output.channels,
    activation=output_elements,
    backward=Backward(saves=_saves_input_for_weight, input_flops=costmodel_only(output_elements),
                      weight_flops=costmodel_only(_twice_the_elements)),    # g gamma; the sum of g x
    kinds={"scale": "layer scale"},
    spec=SpecForm("layer_scale", lambda layer: LayerScale()),
    lower=lower_layer_scale,
    examples=(LayerScale(), Example(LayerScale(), layout="NLC")),
))


@dataclass(frozen=True)
class LearnedTerm(Op):
    """``x + t`` (``function`` "add", "sub", "mul" or "div") with a tensor ``t`` that the weights alone make, the
    same for every sample: a relative position bias gathered from its table and added to attention scores (Swin,
    MaxViT, TinyViT), a shifted-window mask (a buffer). ``sizes``: t's shape, which broadcasts into x's without
    growing it; ``params``: the learned values t reads (0 for buffers, or for a table an earlier node counts).
    Gathering and viewing the table is not arithmetic; the element-wise op is (fvcore: ``aten::add`` and
    ``aten::mul`` are unsupported, 0)."""

    function: str = "add"
    sizes: tuple = (1,)
    params: int = 0
    op_name: ClassVar[str] = "learned_term"

    def __post_init__(self) -> None:
        if self.function not in ("add", "sub", "mul", "div"):
            raise CostModelError(f"learned_term function must be add, sub, mul or div, got {self.function!r}")
        sizes = tuple(self.sizes) if isinstance(self.sizes, (tuple, list)) else (self.sizes,)
        object.__setattr__(self, "sizes", sizes)
        if not 1 <= len(sizes) <= MAX_RANK:
            raise CostModelError(f"learned_term needs 1 to {MAX_RANK} sizes, got {self.sizes!r}")
        for size in sizes:
            positive_int(size, "a learned_term size", MAX_ELEMENTS)
        if isinstance(self.params, bool) or not isinstance(self.params, int) or not 0 <= self.params <= MAX_ELEMENTS:
            raise CostModelError(f"learned_term params must be an integer in [0, {MAX_ELEMENTS:,}], got "
                                 f"{self.params!r}")


def learned_term_shape(op: LearnedTerm, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    ctx.require(broadcasts_into(op.sizes, x.dims), lambda: f"a term of {list(op.sizes)} does not broadcast into "
                                                           f"{describe_layout(x.layout)} of {format_shape(x)}")
    return x


def _learned_term_memory(op: LearnedTerm, node: NodeShapes) -> Any:
    """The input read, the output written, the term read once per batch."""
    return read_write(op, node) + math.prod(op.sizes)


def lower_learned_term(op: LearnedTerm, node: NodeShapes, kit: Any) -> Any:
    """The term as a buffer, and the values it reads as an unused parameter of their number."""
    import operator

    apply = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv}[op.function]
    one = 1.0 if op.function in ("mul", "div") else 0.0
    extra = {"table": kit.nn.Parameter(kit.torch.zeros(op.params))} if op.params else {}
    function = kit.Function(lambda m, x: apply(x, m.term), **extra)
    function.register_buffer("term", kit.torch.full(op.sizes, one))
    function.takes_module = True
    return function


def _learned_term_saves(op: LearnedTerm, node: NodeShapes) -> "tuple[Saved, ...]":
    """mul and div keep the input for the term's gradient (the term is a parameter or buffer); add and sub keep
    nothing."""
    return _saves_input_for_weight(op, node) if op.function in ("mul", "div") else ()


def _learned_term_input(op: LearnedTerm, node: NodeShapes) -> Any:
    """The input's gradient: g as it is for add and sub, g t (or g / t) for mul and div: one per element."""
    return node.output.numel if op.function in ("mul", "div") else 0


def _learned_term_weight(op: LearnedTerm, node: NodeShapes) -> Any:
    """The term's gradient summed over the batch: add and sub 1 per element (the sum; negated once for sub), mul
    2 (g x, summed), div 4 (-g x / t^2: multiply, divide, negate, sum)."""
    return {"add": 1, "sub": 1, "mul": 2, "div": 4}[op.function] * node.output.numel


LEARNED_TERM = register(OpDef(
    LearnedTerm,
    shape=learned_term_shape,
    params=lambda op, node: op.params,
    madds=zero,
    flops=costmodel_only(output_elements),
    memory_access=_learned_term_memory,
    activation=output_elements,
    backward=Backward(saves=_learned_term_saves, input_flops=costmodel_only(_learned_term_input),
                      weight_flops=costmodel_only(_learned_term_weight)),
    kinds={"add": "element-wise add", "mul": "element-wise multiply"},
    kind=lambda op, node: "mul" if op.function in ("mul", "div") else "add",
    spec=SpecForm("learned_term", lambda layer: LearnedTerm(layer.get("function", str, "add"),
                                                            tuple(layer.get("sizes", list, required=True)),
                                                            layer.get("params", int, 0)),
                  fields="function (add, sub, mul, div), sizes, params"),
    lower=lower_learned_term,
    examples=(LearnedTerm("add", (1, 4, 1, 1), 4), LearnedTerm("mul", (4, 1, 1), 0),
              Example(LearnedTerm("sub", (1, 4), 4), layout="NLC")),
))


@dataclass(frozen=True)
class Weights(Op):
    """A tensor of the weights alone read as a tensor of its own, with no batch: a parameter or buffer that an
    arithmetic op computes on (Swin V2's MLP over a buffer of coordinates, ``sigmoid`` of a learned gate, a
    clamped and exponentiated logit scale), or a view or gathering of what such ops computed (the nodes named as
    its inputs). ``sizes``: its shape as torch holds it (a leading 1 is its batch axis; else one is put before
    it); ``params``: the learned values it reads that no earlier node counts. Every op on it counts once per
    forward pass, whatever the batch (torch runs it once; fvcore and FlopCounterMode count it so). Reading it is
    not arithmetic; a gathering writes a tensor."""

    sizes: tuple = (1,)
    params: int = 0
    arity: ClassVar[tuple[int, float]] = (0, float("inf"))
    op_name: ClassVar[str] = "weights"

    def __post_init__(self) -> None:
        sizes = tuple(self.sizes) if isinstance(self.sizes, (tuple, list)) else (self.sizes,)
        object.__setattr__(self, "sizes", sizes)
        if not sizes or len(weights_dims(sizes)) > MAX_RANK:
            raise CostModelError(f"weights needs 1 to {MAX_RANK} sizes (with the batch axis), got {self.sizes!r}")
        for size in sizes:
            positive_int(size, "a weights size", MAX_ELEMENTS)
        if isinstance(self.params, bool) or not isinstance(self.params, int) or not 0 <= self.params <= MAX_ELEMENTS:
            raise CostModelError(f"weights params must be an integer in [0, {MAX_ELEMENTS:,}], got {self.params!r}")


def weights_dims(sizes: tuple) -> tuple:
    """The dims of a weights tensor of torch ``sizes``: a leading 1 is its batch axis; else one is put first."""
    return tuple(sizes) if len(sizes) > 1 and sizes[0] == 1 else (1, *sizes)


def weights_shape(op: Weights, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    from .imported import layout_of_rank

    dims = weights_dims(op.sizes)
    return Shape(layout_of_rank(len(dims)), dims)


def _weights_memory(op: Weights, node: NodeShapes) -> Any:
    """Reading a parameter is its reader's access; a gathering of computed tensors reads them and writes its own."""
    return read_write(op, node) if node.inputs else 0


def lower_weights(op: Weights, node: NodeShapes, kit: Any) -> Any:
    """A learned tensor of its shape when it reads as many values as it holds and nothing else (the parameter
    itself, trained as one); otherwise zeros of its shape as a buffer, and the values it reads as a parameter of
    their number."""
    sizes = tuple(node.output.dims)
    if not node.inputs and op.params and op.params == node.output.numel:
        function = kit.Function(lambda m, *xs: m.value, value=kit.nn.Parameter(kit.torch.zeros(sizes)))
    else:
        extra = {"table": kit.nn.Parameter(kit.torch.zeros(op.params))} if op.params else {}
        function = kit.Function(lambda m, *xs: m.value, **extra)
        function.register_buffer("value", kit.torch.zeros(sizes))
    function.takes_module = True
    return function


WEIGHTS = register(OpDef(
    Weights,
    shape=weights_shape,
    params=lambda op, node: op.params,
    madds=zero,
    flops=NO_FLOPS,
    memory_access=_weights_memory,
    activation=lambda op, node: output_elements(op, node) if node.inputs else 0,
    backward=NO_BACKWARD,                  # the gradient arrives at the parameters as it is
    kinds={"weights": "tensors of the weights alone"},
    spec=SpecForm("weights", lambda layer: Weights(tuple(layer.get("sizes", list, required=True)),
                                                   layer.get("params", int, 0)),
                  fields="sizes, params"),
    lower=lower_weights,
    examples=(Weights((4, 3), 12), Weights((1, 2, 3, 3), 0)),
))


@dataclass(frozen=True)
class Standardize(Op):
    """Weight standardization (Qiao et al., 2019; the scaled form of NF-Nets, Brock et al., 2021): each row of a
    filter bank held as 1 x out x fan_in, ``w_hat = gain * (w - mean(w)) / sqrt(var(w) + eps)`` over its row, the
    gain (one per row, the second input) when ``gain``. torch computes it every forward pass with
    ``F.batch_norm(w, None, None, weight=gain, training=True)`` (timm's ``StdConv2d`` and ``ScaledStdConv2d``).

    FLOPs: costmodel 5 per element (a layer norm's: sum, subtract, square, sum, multiply) and 1 more for the gain;
    fvcore counts batch_norm in training mode with its norm handle, 5 per element with the weight and 4 without;
    FlopCounterMode none. No parameters of its own (the filter and gain are the weights nodes it reads)."""

    gain: bool = False
    arity: ClassVar[tuple[int, float]] = (1, 2)
    op_name: ClassVar[str] = "standardize"

    def __post_init__(self) -> None:
        check_bool(self.gain, "gain")


def standardize_shape(op: Standardize, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    ctx.require(x.rank >= 2, lambda: f"standardize needs rows on axis 1, got {describe_layout(x.layout)}")
    ctx.require(len(inputs) == 1 + op.gain, lambda: f"standardize {'with' if op.gain else 'without'} a gain takes "
                                                    f"{1 + op.gain} input{'s' if op.gain else ''}, got {len(inputs)}")
    if op.gain:
        rows, gains = x.dims[1], inputs[1].numel
        ctx.require(gains == rows, lambda: f"a gain of {gains} values does not scale {rows} rows")
    return x


def _standardize_fvcore(op: Standardize, node: NodeShapes) -> Any:
    """fvcore's norm handle for batch_norm in training mode: 5 per element with a weight, 4 without."""
    return (5 if op.gain else 4) * node.inputs[0].numel


def _standardize_flops(op: Standardize, node: NodeShapes) -> Any:
    """A layer norm's 5 per element, and the gain's multiply."""
    return (NORM_FLOPS + op.gain) * node.inputs[0].numel


def _standardize_saves(op: Standardize, node: NodeShapes) -> "tuple[Saved, ...]":
    """A normalization's: the weights and the mean and 1 / std of each output channel (float32)."""
    return (Saved("input"), Saved("own", elements=lambda op, node: 2 * node.inputs[0].dims[1], dtype="float32"))


def _standardize_backward(op: Standardize, node: NodeShapes) -> Any:
    """A normalization's input gradient (``norm.NORM_BACKWARD_INPUT`` per element), and the gain's (2 more)."""
    return (NORM_BACKWARD_INPUT + (2 if op.gain else 0)) * node.inputs[0].numel


def lower_standardize(op: Standardize, node: NodeShapes, kit: Any) -> Any:
    functional = kit.torch.nn.functional
    return kit.Function(lambda x, *gain: functional.batch_norm(x, None, None, weight=gain[0].reshape(-1) if gain
                                                               else None, training=True, momentum=0.0, eps=1e-6))


STANDARDIZE = register(OpDef(
    Standardize,
    shape=standardize_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": _standardize_flops, "papers": zero, "fvcore": _standardize_fvcore, "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    backward=Backward(saves=_standardize_saves, input_flops=costmodel_only(_standardize_backward)),
    kinds={"weights": "tensors of the weights alone"},
    spec=SpecForm("standardize", lambda layer: Standardize(layer.get("gain", bool, False)), fields="gain"),
    lower=lower_standardize,
    examples=(Example(Standardize(), prelude=(("w", Weights((1, 4, 12), 48), ()),), inputs=("w",)),
              Example(Standardize(True), prelude=(("w", Weights((1, 4, 12), 48), ()), ("g", Weights((4,), 4), ())),
                      inputs=("w", "g"))),
))
