"""A reshape (``view``, ``reshape``, ``flatten``, ``squeeze``) as the flatten and unflatten steps it is made of.

torch's reshape only regroups adjacent axes: the input's axes and the output's fall into groups of equal products,
each group a run of input axes becoming a run of output axes. A group of several input axes is a ``Flatten`` of
them, a group of several output axes an ``Unflatten`` into them; a group of one axis on each side is left as it
is. A group that holds the batch (axis 0) merges it with the axes after it (windowed attention's
``reshape(-1, ws * ws, C)``: ``Flatten(0, ...)``) or splits such a merged batch again, the batch first (``view(-1,
h, w, C)``: ``Unflatten(0, (-1, ...))``). Shapes are those of one image, so a split's first size is the batch's, 1.
"""
from __future__ import annotations

from ...ops import Flatten, Unflatten


def groups(before: tuple[int, ...], after: tuple[int, ...]) -> "list[tuple[int, int]] | None":
    """The (input axes, output axes) count of each group, left to right, or None when the sizes do not regroup."""
    result: list[tuple[int, int]] = []
    i = j = 0
    while i < len(before) and j < len(after):
        start_i, start_j = i, j
        left, right = before[i], after[j]
        i, j = i + 1, j + 1
        while left != right:
            if left < right:
                if i == len(before):
                    return None
                left *= before[i]
                i += 1
            else:
                if j == len(after):
                    return None
                right *= after[j]
                j += 1
        result.append((i - start_i, j - start_j))
    # Axes of size 1 left over on one side join the last group (a squeeze or an unsqueeze at the end).
    if any(size != 1 for size in before[i:]) or any(size != 1 for size in after[j:]) or not result:
        return None
    a, b = result[-1]
    result[-1] = (a + len(before) - i, b + len(after) - j)
    return result


def refine(before: tuple[int, ...], after: tuple[int, ...]) -> "list[tuple[int, int, int]] | None":
    """The sizes both ``before`` and ``after`` split into, left to right, each with the axis of ``before`` and the
    axis of ``after`` it belongs to: (size, before axis, after axis). None where a size of one does not divide the
    other's (a reshape that is not a split and a merge)."""
    fine: list[tuple[int, int, int]] = []
    i = j = 0
    left, right = (before[0], after[0]) if before and after else (0, 0)
    while i < len(before) and j < len(after):
        if left == right:
            fine.append((left, i, j))
            i, j = i + 1, j + 1
            left = before[i] if i < len(before) else 0
            right = after[j] if j < len(after) else 0
        elif right == 1 or (left > right and left % right == 0):
            fine.append((right, i, j))
            left //= right
            j += 1
            right = after[j] if j < len(after) else 0
        elif left == 1 or (right > left and right % left == 0):
            fine.append((left, i, j))
            right //= left
            i += 1
            left = before[i] if i < len(before) else 0
        else:
            return None
    if i < len(before) or j < len(after):
        return None
    return fine


def _split_and_merge(before: tuple[int, ...], after: tuple[int, ...]) -> "list | None":
    """A reshape that splits axes and merges pieces of different axes (timm's MobileViT: N x C x H x W viewed as
    (N C h) x ph x w x pw): every axis of ``before`` split into its pieces (``refine``), then the pieces of each
    axis of ``after`` merged. A split of the batch axis keeps the batch (1) first."""
    fine = refine(before, after)
    if fine is None:
        return None
    steps: list = []
    position = 0
    for axis in range(len(before)):
        pieces = [size for size, source, _ in fine if source == axis]
        if len(pieces) > 1:
            if axis == 0 and pieces[0] != 1:
                return None
            steps.append(Unflatten(position, (-1, *pieces[1:]) if axis == 0 else tuple(pieces)))
        position += len(pieces)
    for axis in reversed(range(len(after))):
        positions = [k for k, (_, _, target) in enumerate(fine) if target == axis]
        if len(positions) > 1:
            steps.append(Flatten(positions[0], positions[-1]))
    return steps


def reshape_steps(before: tuple[int, ...], after: tuple[int, ...]) -> "list | None":
    """The ops that turn a tensor of sizes ``before`` (batch first, a batch of one image) into ``after``, or None
    when the reshape is neither a regrouping nor a split and merge, or splits a merged batch with another size than
    the batch's first."""
    found = groups(before, after)
    if found is None or (found[0][1] > 1 and after[0] != 1):
        return _split_and_merge(before, after)
    steps: list = []
    position = 0
    offset = 0              # output axes of the groups done so far
    for count_in, count_out in found:
        if count_in > 1:
            steps.append(Flatten(position, position + count_in - 1))
        if count_out > 1:
            sizes = tuple(after[offset:offset + count_out])
            steps.append(Unflatten(position, (-1, *sizes[1:]) if position == 0 else sizes))
        position += count_out
        offset += count_out
    return steps
