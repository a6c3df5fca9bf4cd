"""Which kernel torch runs for a traced ``F.scaled_dot_product_attention`` call on a CPU.

FlopCounterMode counts the math path (two bmm) and not the fused flash kernel, so the flop_counter convention needs
torch's choice. It depends on more than shapes: the strides (a query whose last axis is not contiguous, as a
permuted ``qkv.chunk`` makes, runs the math path) and torch's version (2.13 runs the math path for 3-D tensors and
a broadcast key head, 2.14 the flash kernel). So the importer asks torch itself: ``torch._fused_sdp_choice`` on
empty tensors of the call's sizes and strides. The strides come from the exported program's fake tensors, or, for
an fx trace (which keeps no tensors), from one run of the traced module on meta tensors (``traced_inputs``).
"""
from __future__ import annotations

import contextlib
import warnings
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


class _Recorder(torch.overrides.TorchFunctionMode):
    """Keeps the arguments of every attention call, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[tuple, dict]] = []

    def __torch_function__(self, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is ATTENTION:
            self.calls.append((args, kwargs))
        return func(*args, **kwargs)


def traced_inputs(graph: torch.fx.GraphModule, input_size: tuple) -> "dict[str, tuple[tuple, dict]]":
    """The arguments (meta tensors of the true sizes and strides) of each attention call of the traced ``graph``
    run once on a meta input of ``input_size`` (N x C x H x W), by node name; empty when the graph has none, or
    when it does not run on meta tensors (a module that makes a tensor on the CPU in its forward)."""
    nodes = [node.name for node in graph.graph.nodes if node.op == "call_function" and node.target is ATTENTION]
    if not nodes:
        return {}
    state = {name: torch.empty_like(tensor, device="meta")
             for name, tensor in (*graph.named_parameters(), *graph.named_buffers())}
    recorder = _Recorder()
    try:
        with torch.no_grad(), warnings.catch_warnings(), recorder, contextlib.redirect_stdout(None):
            warnings.simplefilter("ignore")
            torch.func.functional_call(graph, state, (torch.empty(input_size, device="meta"),))
    except Exception:                                # noqa: BLE001 - the module's own code failing on meta tensors
        return {}
    if len(recorder.calls) != len(nodes):
        return {}
    return dict(zip(nodes, recorder.calls))
