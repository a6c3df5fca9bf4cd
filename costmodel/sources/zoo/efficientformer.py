"""EfficientFormer-L1: a MetaFormer of pooling blocks on maps and one attention block on tokens.

Source: Y. Li et al., "EfficientFormer: Vision Transformers at MobileNet Speed", arXiv:2206.01191, Section 3
(the 4D MetaBlocks ``MB4D`` and the 3D ``MB3D``) and Table 1 (L1: 12.3M params, 1.3 GMACs, 79.2% at 1.6 ms on an
iPhone 12). Layer for layer as timm's ``efficientformer.py`` (``efficientformer_l1``, ported from the authors'
code; node names are its module paths, and a module's own computation is named after the module):

- ``stem``: two 3x3 stride-2 convolutions (with bias) to 24 and 48, each + BN + ReLU;
- four stages of widths 48, 96, 224, 448 and depths 3, 2, 6, 4; each but the first opens with a ``downsample``
  (3x3 stride 2 with bias + BN);
- a MetaBlock4D: ``token_mixer`` = ``pool(x) - x`` (3x3 average pooling, stride 1, padding not counted), ``ls1``
  (a layer scale), ``add1``; ``mlp``: 1x1 ``fc1`` to 4 C + ``norm1`` (BN) + GELU, 1x1 ``fc2`` back + ``norm2``,
  ``ls2``, ``add2``;
- the last block of the last stage is a MetaBlock3D on the 49 tokens of the 7 x 7 map (``Flat`` turns the map into
  tokens): ``norm1`` (LayerNorm), the attention of 8 heads (``qkv`` a linear to 8 x (32 + 32 + 128), per head q
  and k of 32 and v of 128, ``q k^T x 32^-0.5`` plus a learned bias per head and relative offset (the
  ``token_mixer``'s ``attention_biases``: 8 x 49), softmax, ``@ v``, ``proj`` from 1024 back to 448), ``ls1``,
  ``add1``, ``norm2``, ``mlp`` (linear 4 C, GELU, linear), ``ls2``, ``add2``;
- ``norm`` (LayerNorm), the mean of the tokens, and the distillation heads: ``head`` and ``head_dist``, averaged.

The widths are fixed (the L1, L3 and L7 sizes differ in widths and depths), so the model refuses alpha; ``--depth``
scales the stages' blocks (the attention block stays one). The reference code sizes its attention biases for
the 7 x 7 map of a 224 input; at another input costmodel sizes them for that map (the network the code would build
for it).
"""
from __future__ import annotations

from ..builder import GraphBuilder
from ...core.ir import Network
from ...ops import (Activation, Add, AttentionBias, BatchNorm, Conv2d, Flatten, LayerNorm, LayerScale, Linear,
                   MatMul, Mean, Permute, Pool2d, Scale, Slice, Softmax, Subtract, Transpose, Unflatten)
from ...core.scaling import ChannelsOf, Expanded, Scaled, scaled_repeats
from .entry import ModelEntry

SOURCE = "Li et al. 2022 (arXiv:2206.01191), Table 1; timm efficientformer.py (efficientformer_l1)"

WIDTHS = (48, 96, 224, 448)
DEPTHS = (3, 2, 6, 4)
HEADS, KEY_DIM, VALUE_DIM = 8, 32, 128


def meta_block_4d(builder: GraphBuilder, prefix: str, x: str) -> str:
    """``x + ls1(pool(x) - x)``, then ``x + ls2(mlp(x))`` with a 1x1-conv MLP with BatchNorm."""
    pooled = builder.add(f"{prefix}.token_mixer.pool", Pool2d("avg", 3, 1, padding=1, count_include_pad=False), x)
    builder.add(f"{prefix}.token_mixer", Subtract(), (pooled, x))
    builder.add(f"{prefix}.ls1", LayerScale())
    mid = builder.add(f"{prefix}.add1", Add(), (x, builder.last))
    builder.add(f"{prefix}.mlp.fc1", Conv2d(Expanded(4), kernel=1, bias=True), mid)
    builder.add(f"{prefix}.mlp.norm1", BatchNorm())
    builder.add(f"{prefix}.mlp.act", Activation("gelu"))
    builder.add(f"{prefix}.mlp.fc2", Conv2d(ChannelsOf(mid), kernel=1, bias=True))
    builder.add(f"{prefix}.mlp.norm2", BatchNorm())
    builder.add(f"{prefix}.ls2", LayerScale())
    return builder.add(f"{prefix}.add2", Add(), (mid, builder.last))


def attention(builder: GraphBuilder, prefix: str, x: str, grid: str) -> str:
    """timm's EfficientFormer ``Attention`` on the tokens of the map ``grid``."""
    builder.add(f"{prefix}.qkv", Linear(Scaled(HEADS * (2 * KEY_DIM + VALUE_DIM))), x)
    builder.add(f"{prefix}.reshape", Unflatten(-1, (HEADS, -1)))
    heads = builder.add(f"{prefix}.permute", Permute((0, 2, 1, 3)))              # B x heads x N x 192
    q = builder.add(f"{prefix}.q", Slice(-1, 0, Scaled(KEY_DIM)), heads)
    k = builder.add(f"{prefix}.k", Slice(-1, KEY_DIM, Scaled(2 * KEY_DIM)), heads)
    v = builder.add(f"{prefix}.v", Slice(-1, 2 * KEY_DIM, Scaled(2 * KEY_DIM + VALUE_DIM)), heads)
    builder.add(f"{prefix}.k_t", Transpose(-2, -1), k)
    builder.add(f"{prefix}.scores", MatMul(), (q, builder.last))
    builder.add(f"{prefix}.scale", Scale(KEY_DIM ** -0.5))
    builder.add(prefix, AttentionBias(HEADS, like=grid))                       # the module's attention_biases
    builder.add(f"{prefix}.softmax", Softmax(-1))
    builder.add(f"{prefix}.weighted", MatMul(), (builder.last, v))
    builder.add(f"{prefix}.transpose", Transpose(1, 2))
    builder.add(f"{prefix}.merge", Flatten(2))
    return builder.add(f"{prefix}.proj", Linear(ChannelsOf(x)))


def meta_block_3d(builder: GraphBuilder, prefix: str, x: str, grid: str) -> str:
    """``x + ls1(attention(norm1(x)))``, then ``x + ls2(mlp(norm2(x)))`` on tokens."""
    builder.add(f"{prefix}.norm1", LayerNorm(), x)
    attention(builder, f"{prefix}.token_mixer", builder.last, grid)
    builder.add(f"{prefix}.ls1", LayerScale())
    mid = builder.add(f"{prefix}.add1", Add(), (x, builder.last))
    builder.add(f"{prefix}.norm2", LayerNorm(), mid)
    builder.add(f"{prefix}.mlp.fc1", Linear(Expanded(4)))
    builder.add(f"{prefix}.mlp.act", Activation("gelu"))
    builder.add(f"{prefix}.mlp.fc2", Linear(ChannelsOf(mid)))
    builder.add(f"{prefix}.ls2", LayerScale())
    return builder.add(f"{prefix}.add2", Add(), (mid, builder.last))


def efficientformer_l1(num_classes: int = 1000, depth: float = 1.0) -> Network:
    builder = GraphBuilder()
    for index, width in ((1, 24), (2, 48)):
        builder.add(f"stem.conv{index}", Conv2d(width, kernel=3, stride=2, padding=1, bias=True))
        builder.add(f"stem.norm{index}", BatchNorm())
        x = builder.add(f"stem.act{index}", Activation("relu"))
    for stage, (width, blocks) in enumerate(zip(WIDTHS, DEPTHS)):
        prefix = f"stages.{stage}"
        if stage:
            builder.add(f"{prefix}.downsample.conv", Conv2d(width, kernel=3, stride=2, padding=1, bias=True), x)
            x = builder.add(f"{prefix}.downsample.norm", BatchNorm())
        blocks = scaled_repeats(blocks, depth)
        last_stage = stage == len(WIDTHS) - 1
        for index in range(blocks - 1 if last_stage else blocks):
            x = meta_block_4d(builder, f"{prefix}.blocks.{index}", x)
        if last_stage:
            grid = x
            builder.add(f"{prefix}.blocks.{blocks - 1}.flatten", Flatten(2), x)
            x = builder.add(f"{prefix}.blocks.{blocks - 1}.transpose", Transpose(1, 2))
            x = meta_block_3d(builder, f"{prefix}.blocks.{blocks}", x, grid)
    builder.add("norm", LayerNorm(), x)
    pooled = builder.add("pool", Mean((1,)))
    head = builder.add("head", Linear(Scaled(num_classes)), pooled)
    dist = builder.add("head_dist", Linear(Scaled(num_classes)), pooled)
    builder.add("average.add", Add(), (head, dist))                  # (head(x) + head_dist(x)) / 2
    builder.add("average.div", Scale(0.5))
    return builder.build("efficientformer_l1", source=SOURCE, depth=depth,
                         description="EfficientFormer-L1: pooling MetaBlocks on maps, one attention block on tokens")


ENTRIES = (
    ModelEntry("efficientformer_l1", efficientformer_l1,
               "EfficientFormer-L1: PoolFormer-style 4D blocks, one 8-head attention block with learned biases, "
               "two distillation heads", SOURCE, accepts_alpha=False, accepts_depth=True),
)
