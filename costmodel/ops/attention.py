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

import contextlib
import math
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError, shorten
from ..core.ir import Op, check_bool, check_number, positive_int
from ..core.shapes import NodeShapes, Shape, ShapeContext, describe_layout, format_shape, free_letter
from ..core.symbolic import floor_int, four_digits, select
from .activation import SOFTMAX_BACKWARD, SOFTMAX_FLOPS
from .common import costmodel_only, output_elements, read_write, scaled, zero
from .elementwise import all_equal, broadcasts_into, product_saves
from .registry import Backward, Example, FieldReader, OpDef, Saved, SpecForm, register
from .parameters import Weights
from .tensor import Flatten, Permute, Select, Slice, Transpose, Unflatten, Unsqueeze


def _batch_axes(ctx: ShapeContext, shapes: tuple[Shape, ...], what: str) -> tuple:
    """The broadcast sizes of the leading (batch) axes of ``shapes``, all of one rank of at least 3: per axis the
    sizes must be equal, or 1 (a single key head shared by every query head, as in multi-query attention)."""
    first = shapes[0]
    described = lambda: ", ".join(f"{describe_layout(s.layout)} of {format_shape(s)}" for s in shapes)  # noqa: E731
    if any(shape.rank != first.rank for shape in shapes) or first.rank < 3:
        raise ctx.fail(f"{what} needs inputs of one rank of at least 3 (the batch, then any batch axes, then the two "
                       f"matrix axes), got {described()}")
    sizes = []
    pairs: list[tuple[Any, Any]] = []
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


def product_backward(madds: Any) -> Backward:
    """A product's backward (``a @ b``, an einsum of two operands): each operand's gradient is the output gradient
    times the other operand, the forward's mult-adds each (computed for each operand that needs one; each is kept
    for the other's gradient). FLOPs as the forward's: 2 per mult-add (costmodel, FlopCounterMode's bmm), 1 (the
    papers; fvcore, which counts no backward)."""
    return Backward(saves=product_saves, per_input=True, input_madds=madds,
                    input_flops={"costmodel": scaled(2, madds), "papers": madds, "fvcore": madds,
                                 "flop_counter": scaled(2, madds)})


MATMUL = register(OpDef(
    MatMul,
    shape=matmul_shape,
    params=zero,
    madds=matmul_madds,
    flops={"costmodel": scaled(2, matmul_madds), "papers": matmul_madds, "fvcore": fvcore_matmul_flops,
           "flop_counter": scaled(2, matmul_madds)},       # FlopCounterMode's bmm / mm: 2 per mult-add
    memory_access=read_write,
    activation=output_elements,
    backward=product_backward(matmul_madds),
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


def einsum_terms(equation: str) -> "tuple[tuple[str, ...], str]":
    """The input terms and the output term of an einsum equation (spaces ignored).

    :param equation: torch's einsum equation, as "bhwc,hkc->bhwk".
    :returns: (the input terms, the output term; "" where the equation has no "->")."""
    text = equation.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = tuple(inputs.split(","))
    return terms, output if arrow else ""


@dataclass(frozen=True)
class Einsum(Op):
    """``torch.einsum(equation, a, b)`` that is a batched matrix product: every index of the equation is in the
    output or in both operands, and at least one is in both and not in the output (summed over). Its indices
    split into batch (both operands and the output), free (one operand and the output) and contracted (both
    operands only); torch runs it as one ``bmm`` over them. An operand of one axis more than its term has a
    leading axis of size 1 outside the equation (a tensor of the weights, which has no batch); when both have
    it, so has the output.

    With P the product of the sizes of all the equation's indices: mult-adds ``P``; FLOPs ``2 P`` (costmodel and
    FlopCounterMode, whose ``bmm`` is 2 per mult-add); fvcore ``P`` to 4 significant digits
    (``fvcore_einsum_flops``)."""

    equation: str
    arity: ClassVar[tuple[int, float]] = (2, 2)
    op_name: ClassVar[str] = "einsum"

    def __post_init__(self) -> None:
        if not isinstance(self.equation, str) or len(self.equation) > 200:
            raise CostModelError(f"an einsum equation is a string of at most 200 characters, got "
                                 f"{shorten(repr(self.equation))}")
        terms, output = einsum_terms(self.equation)
        letters = "".join(terms) + output
        wrong = ("->" not in self.equation or len(terms) != 2 or not all(terms) or not output
                 or not letters.isalpha() or any(len(set(term)) != len(term) for term in (*terms, output)))
        if wrong:
            raise CostModelError(f"an einsum equation names two operands and the output, each index once per "
                                 f"term (\"bhid,bhjd->bhij\"), got {shorten(repr(self.equation))}")
        a, b = map(set, terms)
        if not set(output) <= a | b or not all(index in output or index in a & b for index in a | b) or \
                not (a & b) - set(output):
            raise CostModelError(f"einsum {self.equation!r} is not a batched matrix product: every index must be "
                                 "in the output or in both operands, and one in both operands only")


def _einsum_sizes(op: Einsum, inputs: tuple[Shape, ...]) -> "tuple[dict, list[tuple], bool]":
    """The size of every index of the equation (its first operand's), the pairs of sizes of one index that must
    agree, and whether both operands (so the output) have the leading axis of size 1 outside the equation."""
    terms, _ = einsum_terms(op.equation)
    sizes: dict[str, Any] = {}
    pairs = []
    for term, shape in zip(terms, inputs):
        lead = shape.rank - len(term)
        for index, size in zip(term, shape.dims[lead:]):
            if index in sizes:
                pairs.append((sizes[index], size))
            sizes.setdefault(index, size)
    return sizes, pairs, all(shape.rank == len(term) + 1 for term, shape in zip(terms, inputs))


def einsum_shape(op: Einsum, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    terms, output = einsum_terms(op.equation)
    for term, shape in zip(terms, inputs):
        ctx.require(shape.rank == len(term) or (shape.rank == len(term) + 1 and shape.dims[0] == 1),
                    lambda: f"einsum {op.equation!r} cannot read {describe_layout(shape.layout)} of "
                            f"{format_shape(shape)}")
    sizes, pairs, lead = _einsum_sizes(op, inputs)
    ctx.require(all_equal(pairs), lambda: f"the operands of einsum {op.equation!r}, "
                f"{' and '.join(format_shape(shape) for shape in inputs)}, differ in an index's size")
    layout = inputs[0].layout[0] if lead else ""
    for index in output:                    # each output axis keeps the letter of the axis it comes from
        term, shape = (terms[0], inputs[0]) if index in terms[0] else (terms[1], inputs[1])
        letter = shape.layout[term.index(index) + (shape.rank - len(term))]
        layout += letter if letter not in layout else free_letter(layout)
    return Shape(layout, (1,) * lead + tuple(sizes[index] for index in output))


def einsum_madds(op: Einsum, node: NodeShapes) -> Any:
    """``P``: the product of the sizes of all the equation's indices."""
    sizes, _, _ = _einsum_sizes(op, node.inputs)
    return _product(tuple(sizes.values()))


def _fvcore_letters(equation: str) -> str:
    """``equation`` without spaces and with its letters renamed a, b, c... in the order they first appear, as
    fvcore compares it."""
    text = equation.replace(" ", "")
    order = list(dict.fromkeys(letter for letter in text if letter.isalpha()))
    return "".join(chr(97 + order.index(letter)) if letter.isalpha() else letter for letter in text)


def fvcore_einsum_flops(op: Einsum, node: NodeShapes) -> Any:
    """fvcore's einsum handle: ``P`` for the two equations it knows ("abc,abd->acd" and "abc,adc->adb", letters
    renamed in order); for any other, numpy's "optimal" path cost as ``einsum_path`` prints it, ``2 P + 1`` to 4
    significant digits (``%.3e``), halved and floored. So above 4 digits its count is rounded (a 2 x 3 x 7 x 7 x
    13 x 13 table of MaxViT-TF counts 16,560 for 16,562)."""
    madds = einsum_madds(op, node)
    if _fvcore_letters(op.equation) in ("abc,abd->acd", "abc,adc->adb"):
        return madds
    return floor_int(four_digits(2 * madds + 1) / 2)


def lower_einsum(op: Einsum, node: NodeShapes, kit: Any) -> Any:
    """``torch.einsum`` on the operands without their leading axis outside the equation."""
    terms, _ = einsum_terms(op.equation)
    leads = [shape.rank == len(term) + 1 for term, shape in zip(terms, node.inputs)]

    def einsum(a: Any, b: Any) -> Any:
        result = kit.torch.einsum(op.equation, *(t.squeeze(0) if lead else t for t, lead in zip((a, b), leads)))
        return result.unsqueeze(0) if all(leads) else result
    return kit.Function(einsum)


EINSUM = register(OpDef(
    Einsum,
    shape=einsum_shape,
    params=zero,
    madds=einsum_madds,
    flops={"costmodel": scaled(2, einsum_madds), "papers": einsum_madds, "fvcore": fvcore_einsum_flops,
           "flop_counter": scaled(2, einsum_madds)},
    memory_access=read_write,
    activation=output_elements,
    backward=product_backward(einsum_madds),
    kinds={"matmul": "matrix product"},
    spec=SpecForm("einsum", lambda layer: Einsum(layer.get("equation", str)),
                  fields="equation (a batched matrix product: \"bhid,bhjd->bhij\"); inputs: the two operands"),
    lower=lower_einsum,
    examples=(
        # MaxViT's attention: heads of windows (N x 2 x 2 x H x W maps), written with spaces
        Example(Einsum("b g h i j, b g h j k -> b g h i k"), prelude=_MAPS, inputs=("maps", "keys")),
        # MViTv2's relative position: the image's positions with a table the weights make (5 x C)
        Example(Einsum("bhwc,kc->bhwk"), prelude=(("rows", Permute((0, 2, 3, 1)), ("input",)),
                                                  ("table", Weights((5, 4), 20), ())), inputs=("rows", "table")),
        # MaxViT-TF's relative position bias: two tensors of the weights alone
        Example(Einsum("nhw,ixh->nixw"), prelude=(("bias", Weights((2, 3, 4), 24), ()),
                                                  ("lookup", Weights((5, 6, 3), 0), ())), inputs=("bias", "lookup")),
    ),
))


KERNELS = ("", "flash", "math")


@dataclass(frozen=True)
class ScaledDotProductAttention(Op):
    """``F.scaled_dot_product_attention(q, k, v)``: q of (B..., L, E), k of (B..., S, E), v of (B..., S, E_v) ->
    (B..., L, E_v), the batch axes (batch, heads, ...) broadcast; ``scale`` defaults to 1 / sqrt(E).
    ``merged``: whether torch is called with the axes before the heads merged into the batch (MobileViT's
    reference code holds its patches so, and costmodel's lowering calls it so), or at the tensors' own rank
    (NesT's B x blocks x heads x N x E), which decides torch's kernel (``flash_eligible``). ``mask``: the sizes of
    an additive mask that the weights make (``attn_mask``: TinyViT's attention biases, timm's Swin's relative
    position bias), added to the scores; ``mask_params`` the learned values it reads. ``kernel``: the kernel torch
    runs on a CPU, ``"flash"`` (the fused kernel) or ``"math"`` (two bmm), where it is known (the importer asks
    torch for its choice, ``torch._fused_sdp_choice``, on tensors of the traced sizes and strides: a query whose
    last axis is not contiguous runs the math path, and the rules differ between torch versions); ``""`` decides
    by the shapes, as torch 2.13 does for contiguous tensors (``flash_eligible``)."""

    scale: "float | None" = None
    merged: bool = True
    mask: tuple = ()
    mask_params: int = 0
    kernel: str = ""
    arity: ClassVar[tuple[int, float]] = (3, 3)
    op_name: ClassVar[str] = "attention"

    def __post_init__(self) -> None:
        if self.scale is not None:
            check_number(self.scale, "attention scale")
        check_bool(self.merged, "merged")
        mask = tuple(self.mask) if isinstance(self.mask, (tuple, list)) else (self.mask,)
        object.__setattr__(self, "mask", mask)
        if len(mask) > 8:
            raise CostModelError(f"an attention mask has at most 8 sizes, got {list(mask)}")
        for size in mask:
            positive_int(size, "an attention mask size", 1 << 40)
        if isinstance(self.mask_params, bool) or not isinstance(self.mask_params, int) or self.mask_params < 0:
            raise CostModelError(f"mask_params must be a count, got {self.mask_params!r}")
        if self.kernel not in KERNELS:
            raise CostModelError(f"an attention kernel is one of {', '.join(map(repr, KERNELS))}, got "
                                 f"{shorten(repr(self.kernel))}")


def sdpa_shape(op: ScaledDotProductAttention, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    q, k, v = inputs
    batch = _batch_axes(ctx, inputs, "attention")
    ctx.require(all_equal([(q.dims[-1], k.dims[-1]), (k.dims[-2], v.dims[-2])]),
                lambda: f"queries {format_shape(q)}, keys {format_shape(k)} and values {format_shape(v)} do not fit: "
                        "q and k need the same features, k and v the same tokens")
    scores = batch + (q.dims[-2], k.dims[-2])
    ctx.require(broadcasts_into(op.mask, scores),
                lambda: f"a mask of {list(op.mask)} does not broadcast into the scores of {format_shape(q)} queries")
    return Shape(_output_layout(q.layout[:-1], v.layout[-1]), batch + (q.dims[-2], v.dims[-1]))


def _scores(node: NodeShapes) -> Any:
    """``B L S``: the attention weights (scores) of every batch, head and query."""
    return node.output.numel // node.output.dims[-1] * node.inputs[1].dims[-2]


def sdpa_madds(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """``B L S E`` (Q K^T) + ``B L S E_v`` (the weights times V)."""
    return _scores(node) * (node.inputs[0].dims[-1] + node.inputs[2].dims[-1])


def sdpa_flops(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """2 per mult-add, one multiply per score for the scale, 5 per score for the softmax, and one add per score
    for a mask."""
    return 2 * sdpa_madds(op, node) + (1 + SOFTMAX_FLOPS + (1 if op.mask else 0)) * _scores(node)


def flash_eligible(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """Whether torch 2.13 on a CPU runs the fused flash kernel, which FlopCounterMode does not count: a call on
    4-D tensors (of rank 4, or more with the axes before the heads merged into the batch, as the reference code's
    (B P) batch does: ``merged``) with equal batch and head sizes in q, k and v (no broadcast key head) and E ==
    E_v. Otherwise the math path runs two bmm, which it counts (measured; the conventions table,
    docs/commands.md)."""
    q, k, v = node.inputs
    if q.rank < 4 or (q.rank > 4 and not op.merged) or len(op.mask) not in (0, 2, 4):
        return False            # torch's CPU kernel takes a mask of 2 or 4 dimensions only
    return all_equal([(q.dims[axis], other.dims[axis]) for other in (k, v) for axis in range(q.rank - 2)]
                     + [(q.dims[-1], v.dims[-1])])


def sdpa_flop_counter(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """0 where torch runs the flash kernel (``kernel``, else ``flash_eligible``); otherwise 2 per mult-add (the
    math path's two bmm)."""
    if op.kernel:
        return 0 if op.kernel == "flash" else 2 * sdpa_madds(op, node)
    return select(flash_eligible(op, node), 0, 2 * sdpa_madds(op, node))


def sdpa_memory_access(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """q, k and v read, the output written, and the ``B L S`` scores written once and read once: the attention
    matrix of a mobile runtime, which fuses the scale and softmax into the products but keeps the matrix in memory.
    This term grows with the square of the tokens."""
    return read_write(op, node) + 2 * _scores(node) + (math.prod(op.mask) if op.mask else 0)


def runs_flash(op: ScaledDotProductAttention, node: NodeShapes) -> bool:
    """Whether torch runs the flash kernel (``kernel``, else ``flash_eligible`` at these shapes)."""
    return op.kernel == "flash" if op.kernel else bool(flash_eligible(op, node))


def sdpa_saves(op: ScaledDotProductAttention, node: NodeShapes) -> "tuple[Saved, ...]":
    """What torch 2.13's CPU kernels keep. The flash kernel: q, k, v, the output and the log-sum-exp of each query's
    scores (float32, ``B L``). The math path: q and k scaled (copies; k at every query head), the softmax's output,
    which the second product reads (one ``B L S`` tensor, viewed twice), and v (a copy at every query head where
    a shared head broadcasts)."""
    if runs_flash(op, node):
        return (Saved("input", 0), Saved("input", 1), Saved("input", 2), Saved("output"),
                Saved("own", elements=lambda op, node: node.output.numel // node.output.dims[-1], dtype="float32"))
    def broadcast(index: int) -> Any:          # k or v at every query head (a shared key head is copied per head)
        return lambda op, node: _scores(node) // node.inputs[0].dims[-2] * node.inputs[index].dims[-1]

    v = Saved("input", 2) if node.inputs[2].numel == broadcast(2)(op, node) else Saved("own", elements=broadcast(2))
    return (Saved("own", elements=lambda op, node: node.inputs[0].numel), Saved("own", elements=broadcast(1)),
            Saved("own", elements=lambda op, node: _scores(node)), v)


def sdpa_backward_flops(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """The gradients of q, k and v: four products (dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q), twice the
    forward's mult-adds at 2 FLOPs each, and per score the softmax's backward (``SOFTMAX_BACKWARD``) and the
    scale's multiply (and a mask's sum)."""
    return 4 * sdpa_madds(op, node) + (SOFTMAX_BACKWARD + 1 + (1 if op.mask else 0)) * _scores(node)


def sdpa_backward_flop_counter(op: ScaledDotProductAttention, node: NodeShapes) -> Any:
    """FlopCounterMode: 0 for the flash kernel's backward on a CPU (it has no formula for it); the math path's four
    bmm otherwise, 2 per mult-add."""
    return 0 if runs_flash(op, node) else 4 * sdpa_madds(op, node)


SDPA_BACKWARD_FLOPS = {"costmodel": sdpa_backward_flops, "papers": scaled(2, sdpa_madds), "fvcore": zero,
                       "flop_counter": sdpa_backward_flop_counter}


def read_sdpa(layer: FieldReader) -> ScaledDotProductAttention:
    return ScaledDotProductAttention(layer.get("scale", (int, float), None), layer.get("merged", bool, True),
                                     tuple(layer.get("mask", list, [])), layer.get("mask_params", int, 0),
                                     layer.get("kernel", str, ""))


def _kernel(kit: Any, kernel: str) -> Any:
    """A context in which torch runs ``kernel`` ("flash" or "math"), or leaves the choice to its rules ("")."""
    if not kernel:
        return contextlib.nullcontext()
    attention = kit.torch.nn.attention
    return attention.sdpa_kernel(attention.SDPBackend.FLASH_ATTENTION if kernel == "flash" else
                                 attention.SDPBackend.MATH)


def lower_sdpa(op: ScaledDotProductAttention, node: NodeShapes, kit: Any) -> Any:
    """``F.scaled_dot_product_attention``; tensors of rank 5 or more whose leading axes agree are merged to 4-D
    first (batch x heads) when ``merged``, as MobileViT's reference code holds its patches in the batch."""
    q, k, v = node.inputs
    merge = op.merged and q.rank > 4 and all(q.dims[:-3] == other.dims[:-3] for other in (k, v))
    lead = tuple(int(size) for size in q.dims[1:-3])      # the axes after the batch merged into it

    def attention(m: Any, q: Any, k: Any, v: Any) -> Any:
        mask = m.mask if op.mask else None
        if merge:
            q, k, v = (t.flatten(0, len(lead)) for t in (q, k, v))
        with _kernel(kit, op.kernel):
            out = kit.F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=op.scale)
        return out.unflatten(0, (-1, *lead)) if merge else out
    extra = {"table": kit.nn.Parameter(kit.torch.zeros(op.mask_params))} if op.mask_params else {}
    function = kit.Function(attention, **extra)
    if op.mask:
        function.register_buffer("mask", kit.torch.zeros(op.mask))
    function.takes_module = True
    return function


def _heads(prelude_name: str, source: str, heads: int) -> tuple:
    """Prelude nodes turning ``source`` tokens (N x L x C) into N x heads x L x (C / heads)."""
    return ((f"{prelude_name}_split", Unflatten(-1, (heads, -1)), (source,)),
            (prelude_name, Transpose(1, 2), (f"{prelude_name}_split",)))


_TOKENS = (("flat", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flat",)))

SDPA = register(OpDef(
    ScaledDotProductAttention,
    shape=sdpa_shape,
    params=lambda op, node: op.mask_params,
    madds=sdpa_madds,
    flops={"costmodel": sdpa_flops, "papers": sdpa_madds,
           "fvcore": zero,                   # aten::scaled_dot_product_attention is unsupported: 0
           "flop_counter": sdpa_flop_counter},
    memory_access=sdpa_memory_access,
    activation=output_elements,
    backward=Backward(saves=sdpa_saves, input_madds=scaled(2, sdpa_madds), input_flops=SDPA_BACKWARD_FLOPS,
                      weight_flops=costmodel_only(lambda op, node: _scores(node))),    # a mask table's: a sum per score
    kinds={"attention": "attention (q·kT, softmax, ·v)"},
    spec=SpecForm("attention", read_sdpa, fields="scale (default 1 / sqrt(E)), merged (default true), mask (sizes of "
                                                 "a learned additive mask), mask_params, kernel (\"flash\", \"math\" "
                                                 "or \"\": by the shapes); inputs: q, k, v"),
    lower=lower_sdpa,
    examples=(
        # one q, k, v of 2 heads: the flash kernel (FlopCounterMode counts 0)
        Example(ScaledDotProductAttention(), prelude=_TOKENS + _heads("q", "tokens", 2),
                inputs=("q", "q", "q")),
        # the same, where torch was found to run its math path (a query whose last axis is not contiguous)
        Example(ScaledDotProductAttention(kernel="math"), prelude=_TOKENS + _heads("q", "tokens", 2),
                inputs=("q", "q", "q")),
        # a single key head shared by 2 query heads, fewer keys than queries: the math path (counted)
        Example(ScaledDotProductAttention(), prelude=_TOKENS + _heads("q", "tokens", 2) + (
            ("k_flat", Flatten(2), ("input",)), ("k_half", Unflatten(-1, (2, -1)), ("k_flat",)),
            ("k_first", Select(-2, 0), ("k_half",)), ("k_tokens", Transpose(1, 2), ("k_first",)),
            ("k_two", Slice(-1, 0, 2), ("k_tokens",)), ("k", Unsqueeze(1), ("k_two",))),
                inputs=("q", "k", "k")),
        # no heads (3-D): the math path
        Example(ScaledDotProductAttention(0.5), prelude=_TOKENS, inputs=("tokens", "tokens", "tokens")),
        # a learned mask of 2 heads (3-D: the math path) or 1 x 2 heads (4-D: the flash kernel)
        *(Example(ScaledDotProductAttention(mask=mask, mask_params=params), prelude=_TOKENS + _heads("q", "tokens", 2),
                  inputs=("q", "q", "q")) for mask, params in (((2, 1, 1), 2), ((1, 2, 1, 1), 0))),
        # 5-D (2 blocks of 2 heads), merged into the batch when torch is called (the flash kernel) or called at
        # rank 5, as NesT calls it (the math path)
        *(Example(ScaledDotProductAttention(merged=merged), prelude=_TOKENS + _heads("h", "tokens", 2) + (
            ("q", Unflatten(-2, (2, -1)), ("h",)), ("blocks", Transpose(1, 2), ("q",))), inputs=("blocks",) * 3)
          for merged in (True, False)),
    ),
))


@dataclass(frozen=True)
class MultiheadAttention(Op):
    """``nn.MultiheadAttention(E, heads, bias, batch_first=True)`` called as self-attention, ``attn(x, x, x)``, on
    tokens x of (N, L, E): the input projection to q, k and v (one E x 3E matrix), scaled dot-product attention in
    ``heads`` heads of ``E / heads`` features, and the output projection (E x E). ``need_weights``: the call also
    returns the attention weights averaged over the heads, which makes torch compute them explicitly (two bmm)
    instead of in a fused kernel.

    With T = N L tokens and d = E / heads: params ``4 E^2 (+ 4 E)``; mult-adds ``4 T E^2`` for the projections plus
    ``2 T L E`` for ``Q K^T`` and the weights times V (``heads`` heads of ``T L d`` each)."""

    heads: int = 8
    bias: bool = True
    need_weights: bool = False
    op_name: ClassVar[str] = "multihead_attention"

    def __post_init__(self) -> None:
        positive_int(self.heads, "heads")
        check_bool(self.bias, "bias")
        check_bool(self.need_weights, "need_weights")

    @property
    def fused(self) -> bool:
        """Whether torch 2.13 runs its fused kernel (``_native_multi_head_attention``) at inference (eval, no
        grad): projections with biases and an even number of heads; FlopCounterMode counts none of that kernel."""
        return self.bias and self.heads % 2 == 0


def mha_shape(op: MultiheadAttention, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = inputs[0]
    if x.rank != 3:
        raise ctx.fail(f"multihead_attention needs tokens (N, L, E), got a {describe_layout(x.layout)} of "
                       f"{format_shape(x)}")
    ctx.require(x.dims[-1] % op.heads == 0,
                lambda: f"{x.dims[-1]} features do not split into {op.heads} heads")
    return x


def _tokens_features_length(node: NodeShapes) -> tuple:
    x = node.inputs[0]
    return x.numel // x.dims[-1], x.dims[-1], x.dims[-2]


def mha_params(op: MultiheadAttention, node: NodeShapes) -> Any:
    """``3 E^2 + E^2`` projection weights, plus ``3 E + E`` biases."""
    features = node.inputs[0].dims[-1]
    return 4 * features * features + (4 * features if op.bias else 0)


def _projection_madds(node: NodeShapes) -> Any:
    tokens, features, _ = _tokens_features_length(node)
    return 4 * tokens * features * features


def _attention_madds(node: NodeShapes) -> Any:
    tokens, features, length = _tokens_features_length(node)
    return 2 * tokens * length * features


def mha_madds(op: MultiheadAttention, node: NodeShapes) -> Any:
    """``4 T E^2`` (the projections) + ``2 T L E`` (the attention's two products)."""
    return _projection_madds(node) + _attention_madds(node)


def _mha_scores(op: MultiheadAttention, node: NodeShapes) -> Any:
    tokens, _, length = _tokens_features_length(node)
    return tokens * length * op.heads


def mha_flops(op: MultiheadAttention, node: NodeShapes) -> Any:
    """2 per mult-add, the ``4 E`` bias additions per token, and 6 per score (the scale and the softmax), as the
    projections and ``attention`` count apart."""
    tokens, features, _ = _tokens_features_length(node)
    return 2 * mha_madds(op, node) + (4 * tokens * features if op.bias else 0) + \
        (1 + SOFTMAX_FLOPS) * _mha_scores(op, node)


def fvcore_mha_flops(op: MultiheadAttention, node: NodeShapes) -> Any:
    """fvcore run as documented, with autograd on, traces the unfused path: its linear handle counts the
    projections' mult-adds; the attention is ``scaled_dot_product_attention`` (unsupported, 0), or with
    ``need_weights`` two bmm (counted). (Under ``torch.no_grad`` torch takes its fused fast path, which fvcore
    counts as 0 whole, projections included: that is not this convention.)"""
    return _projection_madds(node) + (_attention_madds(node) if op.need_weights else 0)


def flop_counter_mha_flops(op: MultiheadAttention, node: NodeShapes) -> Any:
    """FlopCounterMode at inference (torch 2.13, CPU, no grad): 0 for the fused kernel (``fused``); otherwise 2
    per mult-add of the projections' addmm, plus those of the two bmm with ``need_weights`` (without, the
    attention is the flash kernel: 0)."""
    if op.fused:
        return 0
    return 2 * _projection_madds(node) + (2 * _attention_madds(node) if op.need_weights else 0)


def _mha_input_madds(op: MultiheadAttention, node: NodeShapes) -> Any:
    """The input's own gradient: through the packed in-projection, ``3 T E^2``."""
    return 3 * _projection_madds(node) // 4


def _mha_internal_madds(op: MultiheadAttention, node: NodeShapes) -> Any:
    """The gradients inside, which either outer gradient needs: the out-projection's input (``T E^2``) and the
    attention's four products (twice its forward's ``2 T L E``)."""
    return _projection_madds(node) // 4 + 2 * _attention_madds(node)


def _mha_weight_madds(op: MultiheadAttention, node: NodeShapes) -> Any:
    """The projections' weight gradients: ``4 T E^2``."""
    return _projection_madds(node)


def _mha_internal_costmodel(op: MultiheadAttention, node: NodeShapes) -> Any:
    return 2 * _mha_internal_madds(op, node) + (SOFTMAX_BACKWARD + 1) * _mha_scores(op, node)


def _mha_weight_costmodel(op: MultiheadAttention, node: NodeShapes) -> Any:
    tokens, features, _ = _tokens_features_length(node)
    return 2 * _projection_madds(node) + (4 * tokens * features if op.bias else 0)


def _mha_internal_flop_counter(op: MultiheadAttention, node: NodeShapes) -> Any:
    """In training torch runs the out-projection's mm (counted) and, with ``need_weights``, the attention as two
    bmm (counted), else the flash kernel (not counted)."""
    return 2 * _projection_madds(node) // 4 + (4 * _attention_madds(node) if op.need_weights else 0)


MHA_INPUT_FLOPS = {"costmodel": scaled(2, _mha_input_madds), "papers": _mha_input_madds, "fvcore": _mha_input_madds,
                   "flop_counter": scaled(2, _mha_input_madds)}
MHA_INTERNAL_FLOPS = {"costmodel": _mha_internal_costmodel, "papers": _mha_internal_madds,
                      "fvcore": _mha_internal_madds, "flop_counter": _mha_internal_flop_counter}
MHA_WEIGHT_FLOPS = {"costmodel": _mha_weight_costmodel, "papers": _mha_weight_madds, "fvcore": _mha_weight_madds,
                    "flop_counter": lambda op, node: 2 * _projection_madds(node)}


def mha_saves(op: MultiheadAttention, node: NodeShapes) -> "tuple[Saved, ...]":
    """What ``nn.MultiheadAttention`` keeps in training (torch 2.13, CPU): the input as the in-projection reads it
    (``T E``), its packed q, k, v (``3 T E``) and the attention's output, which the out-projection reads (``T E``);
    with the flash kernel the log-sum-exp of each query's scores too (float32, ``B heads L``), with
    ``need_weights`` the scaled q (``T E``) and the weights (``B heads L L``)."""
    size = lambda op, node: _tokens_features_length(node)[0] * _tokens_features_length(node)[1]  # noqa: E731
    kept = (Saved("own", elements=size), Saved("own", elements=lambda op, node: 3 * size(op, node)),
            Saved("own", elements=size))
    if op.need_weights:
        return (*kept, Saved("own", elements=size), Saved("own", elements=_mha_scores))
    return (*kept, Saved("own", elements=lambda op, node: _mha_scores(op, node) // _tokens_features_length(node)[2],
                         dtype="float32"))


def mha_memory_access(op: MultiheadAttention, node: NodeShapes) -> Any:
    """The tokens read; q, k and v written and read; the scores written and read; the heads' output written and
    read by the output projection, which writes the result; every weight read once: ``10 T E + 2 T L heads +
    params``."""
    tokens, features, _ = _tokens_features_length(node)
    return 10 * tokens * features + 2 * _mha_scores(op, node) + mha_params(op, node)


def read_mha(layer: FieldReader) -> MultiheadAttention:
    return MultiheadAttention(layer.get("heads", int, required=True), layer.get("bias", bool, True),
                              layer.get("need_weights", bool, False))


def lower_mha(op: MultiheadAttention, node: NodeShapes, kit: Any) -> Any:
    features = node.inputs[0].dims[-1]
    attention = kit.nn.MultiheadAttention(features, op.heads, bias=op.bias, batch_first=True)
    return kit.Function(lambda m, x: m.attn(x, x, x, need_weights=op.need_weights)[0], attn=attention)


MHA = register(OpDef(
    MultiheadAttention,
    shape=mha_shape,
    params=mha_params,
    madds=mha_madds,
    flops={"costmodel": mha_flops, "papers": mha_madds, "fvcore": fvcore_mha_flops,
           "flop_counter": flop_counter_mha_flops},
    memory_access=mha_memory_access,
    activation=output_elements,
    backward=Backward(saves=mha_saves, input_madds=_mha_input_madds, weight_madds=_mha_weight_madds,
                      internal_madds=_mha_internal_madds, input_flops=MHA_INPUT_FLOPS,
                      weight_flops=MHA_WEIGHT_FLOPS, internal_flops=MHA_INTERNAL_FLOPS),
    kinds={"attention": "attention (q·kT, softmax, ·v)"},
    spec=SpecForm("multihead_attention", read_mha, fields="heads, bias, need_weights"),
    lower=lower_mha,
    examples=(
        Example(MultiheadAttention(2), layout="NLC"),                           # the fused kernel
        Example(MultiheadAttention(2, need_weights=True), layout="NLC"),
        Example(MultiheadAttention(1, bias=False), layout="NLC"),               # unfused: counted
        Example(MultiheadAttention(1, need_weights=True), layout="NLC"),
    ),
    example_input="NLC",
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
        return x + m.attention_biases[:, m.attention_bias_idxs]
    function = kit.Function(add_bias, attention_biases=table)
    function.register_buffer("attention_bias_idxs", kit.torch.as_tensor(index), persistent=False)   # as the models
    return function


ATTENTION_BIAS = register(OpDef(
    AttentionBias,
    shape=attention_bias_shape,
    params=attention_bias_params,
    madds=zero,
    flops=costmodel_only(output_elements),          # one addition per score; aten::add is unsupported by fvcore
    memory_access=attention_bias_memory,
    activation=output_elements,
    backward=Backward(weight_flops=costmodel_only(output_elements)),   # each bias's gradient: a sum of scores
    kinds={"attention": "attention (q·kT, softmax, ·v)"},
    spec=SpecForm("attention_bias", lambda layer: AttentionBias(layer.get("heads", int, required=True),
                                                                layer.ref("like")),
                  fields="heads, like (the map whose tokens attend)"),
    lower=lower_attention_bias,
    examples=(Example(AttentionBias(2, like="input"), prelude=_TOKENS + _heads("q", "tokens", 2) + (
        ("k", Transpose(-2, -1), ("q",)), ("scores", MatMul(), ("q", "k"))), inputs=("scores",)),),
))
