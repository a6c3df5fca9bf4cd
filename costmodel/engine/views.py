"""The strides of torch's views, for a module as its code wrote it (``Network.torch_views``): which reshapes torch
can run as views and which it must copy. A tensor's strides say how far apart, in its storage, the neighbours along
each axis are; a permute or transpose reorders them, a reshape that merges axes is a view only where those axes lie
one after the other in the storage (``mergeable``), and otherwise torch copies. The training step reads this to know
whether what an op keeps for its backward is the storage it read or a copy (``torch.matmul`` folds the batch axes of
its operands into one for ``bmm``; ``nn.Linear`` folds every axis but the last)."""
from __future__ import annotations

from typing import Any, Sequence

from ..ops import Flatten, Permute, Select, Transpose, Unflatten, Unsqueeze


def contiguous(dims: Sequence[int]) -> tuple[int, ...]:
    """The strides of a tensor of ``dims`` laid out in order (the last axis adjacent)."""
    strides, step = [], 1
    for size in reversed(dims):
        strides.append(step)
        step *= int(size)
    return tuple(reversed(strides))


def mergeable(dims: Sequence[int], strides: Sequence[int], start: int = 0, end: "int | None" = None) -> bool:
    """Whether axes ``start`` to ``end`` (inclusive; default the last) can be viewed as one: every axis larger than
    1 lies right after the next such one in the storage."""
    end = len(dims) - 1 if end is None else end
    axes = [axis for axis in range(start, end + 1) if int(dims[axis]) != 1]
    return all(strides[a] == strides[b] * int(dims[b]) for a, b in zip(axes, axes[1:]))


def _axis(dim: int, rank: int) -> int:
    return dim + rank if dim < 0 else dim


def view_strides(op: Any, in_dims: Sequence[int], in_strides: Sequence[int],
                 out_dims: Sequence[int]) -> "tuple[int, ...] | None":
    """The strides of a view op's output read from its input's, or None where torch copies instead (a flatten of
    axes that do not merge).

    :param op: the view's op (permute, transpose, flatten, unflatten, select, unsqueeze; any other view keeps the
        input's strides: a slice, a channel chunk, dropout with p = 0).
    :param in_dims: the input's sizes.
    :param in_strides: the input's strides.
    :param out_dims: the output's sizes.
    :returns: the output's strides, or None."""
    rank = len(in_dims)
    if isinstance(op, Permute):
        return tuple(in_strides[_axis(d, rank)] for d in op.dims)
    if isinstance(op, Transpose):
        strides = list(in_strides)
        a, b = _axis(op.dim0, rank), _axis(op.dim1, rank)
        strides[a], strides[b] = strides[b], strides[a]
        return tuple(strides)
    if isinstance(op, Flatten):
        start, end = _axis(op.start, rank), _axis(op.end, rank)
        if not mergeable(in_dims, in_strides, start, end):
            return None
        inner = [axis for axis in range(start, end + 1) if int(in_dims[axis]) != 1]
        merged = in_strides[inner[-1]] if inner else 1
        return tuple(in_strides[:start]) + (merged,) + tuple(in_strides[end + 1:])
    if isinstance(op, Unflatten):
        dim = _axis(op.dim, rank)
        count = len(out_dims) - rank + 1
        parts = contiguous(out_dims[dim:dim + count])
        return tuple(in_strides[:dim]) + tuple(p * in_strides[dim] for p in parts) + tuple(in_strides[dim + 1:])
    if isinstance(op, Select):
        dim = _axis(op.dim, rank)
        return tuple(in_strides[:dim]) + tuple(in_strides[dim + 1:])
    if isinstance(op, Unsqueeze):
        dim = _axis(op.dim, rank + 1)
        return tuple(in_strides[:dim]) + (1,) + tuple(in_strides[dim:])
    return tuple(in_strides) if len(out_dims) == rank else None
