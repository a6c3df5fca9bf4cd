"""Attention: the matrix product of tensors of any rank, scaled dot-product attention as one op, and the learned
attention biases of EfficientFormer and LeViT.

Notation (Vaswani et al. 2017, "Attention is all you need", eq. 1): queries Q of L tokens and keys K of S tokens,
both of E features per head, values V of S tokens of E_v features; ``Attention(Q, K, V) = softmax(Q K^T / sqrt(E))
V``. B counts everything the product is batched over: the batch, the heads, and any other leading axes
(MobileViT's patch positions). Then

- mult-adds ``B L S E`` for ``Q K^T`` plus ``B L S E_v`` for the weights times V; the scale and softmax are not
  multiply-accumulates;
- costmodel's FLOPs: 2 per mult-add, plus one multiply per score for the scale and 5 per score for the softmax
  (``activation.SOFTMAX_FLOPS``): ``2 B L S (E + E_v) + 6 B L S``;
- fvcore counts 0 for ``scaled_dot_product_attention`` (unsupported) but counts the explicit form's matmuls;
  FlopCounterMode (torch 2.13, CPU) counts 0 where torch runs its fused flash kernel and 2 per mult-add where it
  falls back to the math path (see ``sdpa_flop_counter``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import CostModelError
from ..ir import Op, check_number, positive_int
from ..shapes import NodeShapes, Shape, ShapeContext, describe_layout, format_shape, free_letter
from ..symbolic import select
from .activation import SOFTMAX_FLOPS
from .common import costmodel_only, output_elements, read_write, scaled, zero
from .elementwise import all_equal
from .registry import Example, FieldReader, OpDef, SpecForm, register
from .tensor import Flatten, Select, Slice, Transpose, Unflatten, Unsqueeze


def _batch_axes(ctx: ShapeContext, shapes: tuple[Shape, ...], what: str) -> tuple:
    """The broadcast sizes of the leading (batch) axes of ``shapes``, all of one rank of at least 3: per axis the
    sizes must be equal, or 1 (a single key head shared by every query head, as in multi-query attention)."""
    first = shapes[0]
    described = lambda: ", ".join(f"{describe_layout(s.layout)} of {format_shape(s)}" for s in shapes)  # noqa: E731
    if any(shape.rank != first.rank for shape in shapes) or first.rank < 3:
        raise ctx.fail(f"{what} needs inputs of one rank of at least 3 (the batch, then any batch axes, then the two "
                       f"matrix axes), got {described()}")
    sizes = []
    pairs = []
    for axis in range(first.rank - 2):
        wide = [shape.dims[axis] for shape in shapes if not (type(shape.dims[axis]) is int and shape.dims[axis] == 1)]
        size = wide[0] if wide else 1
        pairs.extend((other, size) for other in wide[1:])
        sizes.append(size)
    ctx.require(all_equal(pairs), lambda: f"the batch axes of {described()} do not broadcast")
    return tuple(sizes)


def _product(sizes: tuple) -> Any:
    total: Any = 1
    for size in sizes:
        total = total * size
    return total


def _output_layout(left: str, right_letter: str) -> str:
    """``left`` (every axis but the last of the first operand) and the last axis of the product, named
    ``right_letter`` unless ``left`` already uses it."""
    return left + (right_letter if right_letter not in left else free_letter(left))


# Example inputs: N x 2 x 2 x H x W maps (2 "heads"), their transposes, and the first head of each (it broadcasts).
_MAPS = (("maps", Unflatten(1, (2, -1)), ("input",)), ("keys", Transpose(-2, -1), ("maps",)),
         ("one", Slice(1, 0, 1), ("keys",)), ("one_map", Slice(1, 0, 1), ("maps",)))


@dataclass(frozen=True)
class MatMul(Op):
    """``a @ b`` of tensors of one rank: (B..., M, K) @ (B..., K, P) -> (B..., M, P), the batch axes broadcast
    (``torch.matmul``)."""

    arity: ClassVar[tuple[int, float]] = (2, 2)
    op_name: ClassVar[str] = "matmul"


def matmul_shape(op: MatMul, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    a, b = inputs
    batch = _batch_axes(ctx, inputs, "matmul")
    ctx.require(a.dims[-1] == b.dims[-2],
                lambda: f"cannot multiply {format_shape(a)} by {format_shape(b)}: {a.dims[-1]} != {b.dims[-2]}")
    return Shape(_output_layout(a.layout[:-1], b.layout[-1]), batch + (a.dims[-2], b.dims[-1]))


def matmul_madds(op: MatMul, node: NodeShapes) -> Any:
    """``B M K P``: K multiply-accumulates per output element."""
    return node.inputs[0].dims[-1] * node.output.numel


def fvcore_matmul_flops(op: MatMul, node: NodeShapes) -> Any:
    """fvcore's matmul handle: ``numel(a) * P``, which is ``B M K P`` unless ``a`` is the operand that
    broadcasts (then it counts too little, by the broadcast factor)."""
    return node.inputs[0].numel * node.inputs[1].dims[-1]


MATMUL = register(OpDef(
    MatMul,
    shape=matmul_shape,
    params=zero,
    madds=matmul_madds,
    flops={"costmodel": scaled(2, matmul_madds), "papers": matmul_madds, "fvcore": fvcore_matmul_flops,
           "flop_counter": scaled(2, matmul_madds)},       # FlopCounterMode's bmm / mm: 2 per mult-add
    memory_access=read_write,
    activation=output_elements,
    kinds={"matmul": "matrix product"},
    spec=SpecForm("matmul", lambda layer: MatMul()),
    lower=lambda op, node, kit: kit.Function(lambda a, b: a @ b),
    examples=(
        Example(MatMul(), prelude=_MAPS, inputs=("maps", "keys")),
        # the second operand broadcasts over the first's 2 heads (fvcore exact), then the first over the second's
        Example(MatMul(), prelude=_MAPS, inputs=("maps", "one")),
        Example(MatMul(), prelude=_MAPS, inputs=("one_map", "keys")),
        Example(MatMul(), prelude=(("tokens", Flatten(2), ("input",)), ("first", Select(1, 0), ("tokens",)),
                                   ("row", Unflatten(1, (1, -1)), ("first",)),
                                   ("columns", Transpose(1, 2), ("tokens",))),
                inputs=("row", "columns")),
    ),
))


@dataclass(frozen=True)
class ScaledDotProductAttention(Op):
    """``F.scaled_dot_product_attention(q, k, v)``: q of (B..., L, E), k of (B..., S, E), v of (B..., S, E_v) ->
    (B..., L, E_v), the batch axes (batch, heads, ...) broadcast; ``scale`` defaults to 1 / sqrt(E)."""

    scale: "float | None" = None
    arity: ClassVar[tuple[int, float]] = (3, 3)
    op_name: ClassVar[str] = "attention"

    def __post_init__(self) -> None:
        if self.scale is not None:
            check_number(self.scale, "attention scale")


def sdpa_shape(op: ScaledDotProductAttention, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    q, k, v = inputs
    batch = _batch_axes(ctx, inputs, "attention")
    ctx.require(all_equal([(q.dims[-1], k.dims[-1]), (k.dims[-2], v.dims[-2])]),
                lambda: f"queries {format_shape(q)}, keys {format_shape(k)} and values {format_shape(v)} do not fit: "
                        "q and k need the same features, k and v the same tokens")
    return Shape(_output_layout(q.layout[:-1], v.layout[-1]), batch + (q.dims[-2], v.dims[-1]))


def _scores(node: NodeShapes) -> Any:
    """``B L S``: the attention weights (scores) of every batch, head and query."""
    return node.output.numel // node.output.dims[-1] * node.inputs[1].dims[-2]


def sdpa_madds(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """``B L S E`` (Q K^T) + ``B L S E_v`` (the weights times V)."""
    return _scores(node) * (node.inputs[0].dims[-1] + node.inputs[2].dims[-1])


def sdpa_flops(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """2 per mult-add, one multiply per score for the scale, 5 per score for the softmax."""
    return 2 * sdpa_madds(op, node) + (1 + SOFTMAX_FLOPS) * _scores(node)


def flash_eligible(node: NodeShapes) -> Any:
    """Whether torch 2.13 on a CPU runs the fused flash kernel, which FlopCounterMode does not count: a call on
    4-D tensors (costmodel merges the axes before the heads, as the reference code's (B P) batch does) with equal
    batch and head sizes in q, k and v (no broadcast key head) and E == E_v. Otherwise the math path runs two
    bmm, which it counts (measured; the README's conventions table)."""
    q, k, v = node.inputs
    if q.rank < 4:
        return False
    return all_equal([(q.dims[axis], other.dims[axis]) for other in (k, v) for axis in range(q.rank - 2)]
                     + [(q.dims[-1], v.dims[-1])])


def sdpa_flop_counter(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """0 where torch runs the flash kernel (``flash_eligible``); otherwise 2 per mult-add (the math path's two
    bmm)."""
    return select(flash_eligible(node), 0, 2 * sdpa_madds(op, node))


def sdpa_memory_access(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """q, k and v read, the output written, and the ``B L S`` scores written once and read once: the attention
    matrix of a mobile runtime, which fuses the scale and softmax into the products but keeps the matrix in memory.
    This term grows with the square of the tokens."""
    return read_write(op, node) + 2 * _scores(node)


def read_sdpa(layer: FieldReader) -> ScaledDotProductAttention:
    return ScaledDotProductAttention(layer.get("scale", (int, float), None))


def lower_sdpa(op: ScaledDotProductAttention, node: NodeShapes, kit: Any) -> Any:
    """``F.scaled_dot_product_attention``; tensors of rank 5 or more whose leading axes agree are merged to 4-D
    first (batch x heads), as MobileViT's reference code holds its patches in the batch."""
    q, k, v = node.inputs
    merge = q.rank > 4 and all(q.dims[:-3] == other.dims[:-3] for other in (k, v))

    def attention(q: Any, k: Any, v: Any) -> Any:
        if merge:
            lead = q.shape[:-3]
            q, k, v = (t.reshape(-1, *t.shape[-3:]) for t in (q, k, v))
            return kit.F.scaled_dot_product_attention(q, k, v, scale=op.scale).reshape(*lead, *q.shape[-3:-1],
                                                                                         v.shape[-1])
        return kit.F.scaled_dot_product_attention(q, k, v, scale=op.scale)
    return kit.Function(attention)


def _heads(prelude_name: str, source: str, heads: int) -> tuple:
    """Prelude nodes turning ``source`` tokens (N x L x C) into N x heads x L x (C / heads)."""
    return ((f"{prelude_name}_split", Unflatten(-1, (heads, -1)), (source,)),
            (prelude_name, Transpose(1, 2), (f"{prelude_name}_split",)))


_TOKENS = (("flat", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flat",)))

SDPA = register(OpDef(
    ScaledDotProductAttention,
    shape=sdpa_shape,
    params=zero,
    madds=sdpa_madds,
    flops={"costmodel": sdpa_flops, "papers": sdpa_madds,
           "fvcore": zero,                   # aten::scaled_dot_product_attention is unsupported: 0
           "flop_counter": sdpa_flop_counter},
    memory_access=sdpa_memory_access,
    activation=output_elements,
    kinds={"attention": "attention (q·kT, softmax, ·v)"},
    spec=SpecForm("attention", read_sdpa, fields="scale (default 1 / sqrt(E)); inputs: q, k, v"),
    lower=lower_sdpa,
    examples=(
        # one q, k, v of 2 heads: the flash kernel (FlopCounterMode counts 0)
        Example(ScaledDotProductAttention(), prelude=_TOKENS + _heads("q", "tokens", 2),
                inputs=("q", "q", "q")),
        # a single key head shared by 2 query heads, fewer keys than queries: the math path (counted)
        Example(ScaledDotProductAttention(), prelude=_TOKENS + _heads("q", "tokens", 2) + (
            ("k_flat", Flatten(2), ("input",)), ("k_half", Unflatten(-1, (2, -1)), ("k_flat",)),
            ("k_first", Select(-2, 0), ("k_half",)), ("k_tokens", Transpose(1, 2), ("k_first",)),
            ("k_two", Slice(-1, 0, 2), ("k_tokens",)), ("k", Unsqueeze(1), ("k_two",))),
                inputs=("q", "k", "k")),
        # no heads (3-D): the math path
        Example(ScaledDotProductAttention(0.5), prelude=_TOKENS, inputs=("tokens", "tokens", "tokens")),
    ),
))


@dataclass(frozen=True)
class AttentionBias(Op):
    """EfficientFormer's and LeViT's learned attention biases: scores of (N, heads, L, L) over the L = H W tokens of
    the map ``like`` get a bias per head and per offset (|dx|, |dy|) between query and key, from a table of
    ``heads * H * W`` parameters (an H x W grid has H W such offsets)."""

    heads: int = 8
    like: str = ""
    op_name: ClassVar[str] = "attention_bias"

    def __post_init__(self) -> None:
        positive_int(self.heads, "heads")
        if not isinstance(self.like, str) or not self.like:
            raise CostModelError("attention_bias needs 'like', the map whose tokens attend to each other")


def attention_bias_shape(op: AttentionBias, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    grid = ctx.layout(ctx.reference(op.like), "NCHW")
    if x.rank != 4:
        raise ctx.fail(f"attention_bias needs scores of N x heads x L x L, got a {describe_layout(x.layout)} of "
                       f"{format_shape(x)}")
    tokens = grid.size("H") * grid.size("W")
    ctx.require(all_equal([(x.dims[1], op.heads), (x.dims[2], tokens), (x.dims[3], tokens)]),
                lambda: f"scores {format_shape(x)} are not {op.heads} heads of {tokens}x{tokens} for the "
                        f"{grid.size('H')}x{grid.size('W')} map of {op.like!r}")
    return x


def attention_bias_params(op: AttentionBias, node: NodeShapes) -> Any:
    """``heads * H * W``: one bias per head and per distinct offset of an H x W grid."""
    return op.heads * node.output.dims[2]


def attention_bias_memory(op: AttentionBias, node: NodeShapes) -> Any:
    """The scores read and written, and the (heads, L, L) biases gathered from the table read once per batch."""
    return 2 * node.output.numel + node.output.numel // node.output.batch


def _offset_index(height: int, width: int) -> list[list[int]]:
    """The table column of each (query, key) pair of an H x W grid: ``|dy| * W + |dx|``."""
    points = [(y, x) for y in range(height) for x in range(width)]
    return [[abs(y1 - y2) * width + abs(x1 - x2) for y2, x2 in points] for y1, x1 in points]


def lower_attention_bias(op: AttentionBias, node: NodeShapes, kit: Any) -> Any:
    grid = kit.reference(op.like)
    tokens = node.output.dims[2]
    index = _offset_index(grid.size("H"), grid.size("W"))
    table = kit.nn.Parameter(kit.torch.zeros(op.heads, tokens))

    def add_bias(m: Any, x: Any) -> Any:
        return x + m.attention_biases[:, kit.torch.as_tensor(index, device=x.device)]
    return kit.Function(add_bias, attention_biases=table)


ATTENTION_BIAS = register(OpDef(
    AttentionBias,
    shape=attention_bias_shape,
    params=attention_bias_params,
    madds=zero,
    flops=costmodel_only(output_elements),          # one addition per score; aten::add is unsupported by fvcore
    memory_access=attention_bias_memory,
    activation=output_elements,
    kinds={"attention": "attention (q·kT, softmax, ·v)"},
    spec=SpecForm("attention_bias", lambda layer: AttentionBias(layer.get("heads", int, required=True),
                                                                layer.ref("like")),
                  fields="heads, like (the map whose tokens attend)"),
    lower=lower_attention_bias,
    examples=(Example(AttentionBias(2, like="input"), prelude=_TOKENS + _heads("q", "tokens", 2) + (
        ("k", Transpose(-2, -1), ("q",)), ("scores", MatMul(), ("q", "k"))), inputs=("scores",)),),
))
