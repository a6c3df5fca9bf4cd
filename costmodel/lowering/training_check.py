"""A training step measured in torch, to check ``engine.training`` against: FlopCounterMode's count of the forward
and of the backward, and the bytes autograd saves for the backward (``torch.autograd.graph.saved_tensors_hooks``:
every tensor it packs, counted once per storage, the module's parameters and buffers left out, as they are the
model's state, not saved activations)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class MeasuredStep:
    """What torch did in one training step: FLOPs (FlopCounterMode) of the forward and of the backward, and the
    bytes of the distinct storages autograd saved that are not parameters or buffers."""

    forward_flops: int
    backward_flops: int
    saved_bytes: int
    saved: tuple[tuple[tuple[int, ...], str], ...]       # (shape, dtype) of every saved activation, in order


def measure_step(module: Any, x: Any, input_grad: bool = False) -> MeasuredStep:
    """Run ``module`` in training mode on ``x`` (a tensor, or a tuple of them) and back from the sum of its output.

    :param module: a torch module (put in training mode here).
    :param x: the input.
    :param input_grad: whether the input needs a gradient.
    :returns: the ``MeasuredStep``."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    module.train()
    inputs = x if isinstance(x, tuple) else (x,)
    inputs = tuple(t.detach().requires_grad_(input_grad) for t in inputs)
    state = {p.untyped_storage().data_ptr() for p in module.parameters()} | \
        {b.untyped_storage().data_ptr() for b in module.buffers()}
    packed: list[Any] = []

    def pack(tensor: Any) -> Any:
        packed.append(tensor)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        with FlopCounterMode(display=False) as forward:
            output = module(*inputs)
    outputs = output if isinstance(output, (tuple, list)) else (output,)
    total = sum(out.float().sum() for out in outputs if isinstance(out, torch.Tensor) and out.requires_grad)
    backward_flops = 0
    if isinstance(total, torch.Tensor):
        with FlopCounterMode(display=False) as backward:
            total.backward()
        backward_flops = backward.get_total_flops()
    storages: dict[int, int] = {}
    saved = []
    for tensor in packed:
        pointer = tensor.untyped_storage().data_ptr()
        if pointer in state:
            continue
        storages.setdefault(pointer, tensor.untyped_storage().nbytes())
        saved.append((tuple(tensor.shape), str(tensor.dtype).removeprefix("torch.")))
    return MeasuredStep(forward.get_total_flops(), backward_flops, sum(storages.values()), tuple(saved))
