"""The strides of torch's views (``engine.views``), worked by hand on the token attention's q, k, v: a (B, N, 3 C)
projection viewed as (B, N, 3, H, d), permuted to (3, B, H, N, d) and unbound."""
from costmodel.engine.views import contiguous, mergeable, view_strides
from costmodel.ops import Flatten, Permute, Select, Transpose, Unflatten, Unsqueeze

B, N, H, D = 3, 65, 4, 8


def qkv():
    dims = (B, N, 3, H, D)
    strides = contiguous(dims)                                      # (N 3 H D, 3 H D, H D, D, 1)
    assert strides == (N * 3 * H * D, 3 * H * D, H * D, D, 1)
    permuted = view_strides(Permute((2, 0, 3, 1, 4)), dims, strides, (3, B, H, N, D))
    assert permuted == (H * D, N * 3 * H * D, D, 3 * H * D, 1)
    k = view_strides(Select(0, 1), (3, B, H, N, D), permuted, (B, H, N, D))
    return (B, H, N, D), k


def test_a_key_transposed_for_a_product_does_not_fold_its_batch_and_heads():
    dims, k = qkv()
    assert k == (N * 3 * H * D, D, 3 * H * D, 1)
    transposed = view_strides(Transpose(-2, -1), dims, k, (B, H, D, N))
    assert transposed == (N * 3 * H * D, D, 1, 3 * H * D)
    # batch and heads lie N 3 H D and D apart: one axis only where the batch is 1
    assert not mergeable((B, H, D, N), transposed, 0, 1)
    assert mergeable((1, H, D, N), transposed, 0, 1)


def test_flatten_unflatten_unsqueeze():
    assert view_strides(Flatten(1), (2, 3, 4), contiguous((2, 3, 4)), (2, 12)) == (12, 1)
    # a transposed map's channels and positions do not merge: torch copies
    assert view_strides(Flatten(1), (2, 4, 3), (12, 1, 4), (2, 12)) is None
    assert view_strides(Unflatten(2, (2, -1)), (2, 3, 8), contiguous((2, 3, 8)), (2, 3, 2, 4)) == (24, 8, 4, 1)
    assert view_strides(Unsqueeze(1), (2, 5), (5, 1), (2, 1, 5)) == (5, 1, 1)
    assert contiguous(()) == () and mergeable((1, 7, 1), (99, 1, 5))          # axes of size 1 merge anywhere
