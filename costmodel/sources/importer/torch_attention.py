"""Which kernel torch runs for a traced ``F.scaled_dot_product_attention`` call on a CPU.

FlopCounterMode counts the math path (two bmm) and not the fused flash kernel, so the flop_counter convention needs
torch's choice. It depends on more than shapes: the strides (a query whose last axis is not contiguous, as a
permuted ``qkv.chunk`` makes, runs the math path) and torch's version (2.13 runs the math path for 3-D tensors and
a broadcast key head, 2.14 the flash kernel). So the importer asks torch itself: ``torch._fused_sdp_choice`` on
empty tensors of the call's sizes and strides. The strides come from the exported program's fake tensors, or, for
an fx trace (which keeps no tensors), from its graph run on meta tensors (``torch_sized.attention_inputs``).
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

ATTENTION = F.scaled_dot_product_attention


def is_attention(target: Any) -> bool:
    """Whether ``target`` (of a traced or exported call) is ``scaled_dot_product_attention``."""
    return target is ATTENTION or target is torch.ops.aten.scaled_dot_product_attention.default


def kernel(args: tuple, kwargs: dict) -> str:
    """``"flash"`` or ``"math"``: the kernel torch runs on a CPU for ``F.scaled_dot_product_attention(*args,
    **kwargs)`` whose tensors (real, meta or fake) have the call's sizes and strides; ``""`` when the arguments are
    not all known or torch does not say."""
    names = ("query", "key", "value", "attn_mask", "dropout_p", "is_causal")
    given = dict(zip(names, args), **kwargs)
    if not all(isinstance(given.get(name), torch.Tensor) for name in names[:3]):
        return ""
    try:
        empty = {name: _empty_like(value) if isinstance(value, torch.Tensor) else value
                 for name, value in given.items() if name in (*names, "scale", "enable_gqa")}
        if empty.get("attn_mask") is not None and not isinstance(empty["attn_mask"], torch.Tensor):
            return ""
        choice = int(torch._fused_sdp_choice(**empty))  # type: ignore[arg-type]
    except Exception:                                # noqa: BLE001 - an argument torch's chooser does not take
        return ""
    return {0: "math", 1: "flash"}.get(choice, "")


def _empty_like(value: torch.Tensor) -> torch.Tensor:
    """An uninitialized CPU tensor of ``value``'s sizes, strides and type (no data is read)."""
    sizes = tuple(int(size) for size in value.shape)
    strides = tuple(int(stride) for stride in value.stride())
    return torch.empty_strided(sizes, strides, dtype=value.dtype)
