"""FLOP conventions: what "FLOPs" means, because the tools and the papers disagree. Each op declares its FLOPs
under every convention here (``ops``); outputs name the convention they used.

- ``costmodel`` (default): 2 FLOPs per multiply-accumulate, one per bias addition, and the element-wise work of
  BatchNorm, activations, pooling, add and multiply at the per-element costs their op modules state.
- ``papers``: the papers' "mult-adds" (MobileNet, ShuffleNet: "FLOPs" = multiply-adds): convolutions and fully
  connected layers only.
- ``fvcore``: what fvcore 0.1.5 counts (its "flops" are multiply-accumulates): convolutions and linear layers,
  BatchNorm in eval 2 per element (1 without affine), adaptive average pooling 1 per input element; everything else 0.
- ``flop_counter``: torch.utils.flop_counter.FlopCounterMode: 2 per multiply-accumulate of convolutions and linear
  layers; everything else 0.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    """A named FLOP-counting convention and a one-line statement of it for outputs."""

    name: str
    summary: str


CONVENTIONS = {
    "costmodel": Convention(
        "costmodel", "2 FLOPs per multiply-accumulate + bias adds + element-wise ops (BN 2, ReLU 1, ReLU6 2, "
        "h-sigmoid 4, h-swish 5, sigmoid 4, SiLU 5 per element; pooling per window element; add and multiply "
        "1 per output element)"),
    "papers": Convention(
        "papers", "the papers' mult-adds: multiply-accumulates of convolutions and fully connected layers only"),
    "fvcore": Convention(
        "fvcore", "fvcore's 'flops' (multiply-accumulates of conv and linear, BatchNorm 2 per element, global "
        "average pool 1 per input element; other ops 0)"),
    "flop_counter": Convention(
        "flop_counter", "torch FlopCounterMode: 2 per multiply-accumulate of conv and linear; other ops 0"),
}
DEFAULT_CONVENTION = "costmodel"
