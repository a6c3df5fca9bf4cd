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
    """A named FLOP-counting convention: ``summary`` states it in full (``table --explain``, Markdown, reports),
    ``short`` in a few words (``line``, under a text table)."""

    name: str
    summary: str
    short: str = ""

    def line(self) -> str:
        """The line under a text table: ``FLOPs (costmodel): 2 per multiply-accumulate + ...`` (under 100 columns
        with the hint the presentation adds)."""
        return f"FLOPs ({self.name}): {self.short}"


CONVENTIONS = {
    "costmodel": Convention(
        "costmodel", "2 FLOPs per multiply-accumulate + bias adds + element-wise ops (BN 2, LayerNorm and "
        "GroupNorm 7, ReLU 1, ReLU6 2, h-sigmoid 4, h-swish 5, sigmoid 4, SiLU 5, GELU 5 per element; softmax 5 and "
        "attention's scale 1 per score; pooling per window element; add and multiply 1 per output element)",
        "2 per multiply-accumulate + bias adds + element-wise ops"),
    "papers": Convention(
        "papers", "the papers' mult-adds: multiply-accumulates of convolutions, fully connected layers and matrix "
        "products (attention's included) only", "mult-adds of conv, linear and matmul only"),
    "fvcore": Convention(
        "fvcore", "fvcore's 'flops' (multiply-accumulates of conv, linear and matmul but not of "
        "scaled_dot_product_attention, BatchNorm 2 and LayerNorm / GroupNorm 5 per element, adaptive average "
        "pool 1 per input element, upsampling 1 or 4 per output element; other ops 0)",
        "fvcore's multiply-accumulates + some element-wise ops"),
    "flop_counter": Convention(
        "flop_counter", "torch 2.13 FlopCounterMode: 2 per multiply-accumulate of conv, linear and matmul, and of "
        "scaled dot-product attention where torch runs its math path instead of the CPU flash kernel; other ops 0",
        "2 per multiply-accumulate of conv, linear, matmul only"),
}
DEFAULT_CONVENTION = "costmodel"
