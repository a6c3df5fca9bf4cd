"""ViT-Ti as DeiT trains it (DeiT-Ti).

Sources: A. Dosovitskiy et al., "An Image is Worth 16x16 Words", arXiv:2010.11929, eq. 1-4 (the architecture);
H. Touvron et al., "Training data-efficient image transformers", arXiv:2012.12877, Table 1 (DeiT-Ti: embedding
dimension 192, 3 heads, 12 layers, 5M parameters). Layer for layer as timm's ``vision_transformer.py``
(``deit_tiny_patch16_224``; node names are its module paths, and the functional steps of its forward are named
after what they do):

- ``patch_embed.proj``: a 16 x 16 convolution of stride 16 to 192 channels (with bias); the 14 x 14 map is
  flattened into 196 tokens (``patch_embed.flatten``, ``patch_embed.transpose``);
- ``cls_token`` puts a learned token first (197 tokens); ``pos_embed`` adds a learned 197 x 192 position embedding;
- 12 pre-norm blocks: ``norm1`` (LayerNorm), ``attn`` (``qkv`` to 576, 3 heads of 64, scaled dot-product
  attention, ``proj`` back to 192), ``add1``; ``norm2``, ``mlp`` (``fc1`` to 768, GELU, ``fc2`` to 192), ``add2``;
- ``norm`` (LayerNorm), ``pool`` (the class token, ``x[:, 0]``), ``head`` (linear to 1000).

At another resolution the position embedding has one entry per token of that input, as timm's model built for it
(``img_size``) has: its parameters follow the resolution. The widths are fixed (DeiT varies the heads, not a
multiplier), so the model refuses alpha. With ``attention=explicit`` the attention is timm's non-fused form
(``q * scale``, ``q @ k^T``, softmax, ``@ v``): the same mult-adds, and fvcore then counts the two products it does
not count in the fused op.
"""
from __future__ import annotations

from ..builder import GraphBuilder, transformer_block
from ...core.ir import Network
from ...ops import ClassToken, Conv2d, Flatten, LayerNorm, Linear, PositionEmbedding, Select, Transpose
from ...core.scaling import Scaled, scaled_repeats
from .entry import ModelEntry, ModelOption

SOURCE = "Touvron et al. 2021 (arXiv:2012.12877), Table 1 (DeiT-Ti); timm vision_transformer.py"


def vit(name: str, dim: int, blocks: int, heads: int, patch: int = 16, mlp_ratio: float = 4.0,
        attention: str = "fused", num_classes: int = 1000, description: str = "", depth: float = 1.0) -> Network:
    """A ViT of ``blocks`` blocks (``ceil(depth x blocks)`` at ``depth``) of ``heads`` heads on ``dim`` channels,
    on ``patch`` x ``patch`` patches."""
    builder = GraphBuilder()
    builder.add("patch_embed.proj", Conv2d(dim, kernel=patch, stride=patch, bias=True))
    builder.add("patch_embed.flatten", Flatten(2))
    builder.add("patch_embed.transpose", Transpose(1, 2))
    builder.add("cls_token", ClassToken())
    x = builder.add("pos_embed", PositionEmbedding())
    for index in range(scaled_repeats(blocks, depth)):
        x = transformer_block(builder, f"blocks.{index}", x, heads, mlp_ratio,
                              explicit=attention == "explicit")
    builder.add("norm", LayerNorm(), x)
    builder.add("pool", Select(1, 0))
    builder.add("head", Linear(Scaled(num_classes)))
    return builder.build(name, source=SOURCE, description=description, depth=depth)


def vit_tiny(attention: str = "fused", num_classes: int = 1000, depth: float = 1.0) -> Network:
    """DeiT-Ti: ViT of 192 channels, 3 heads, 12 blocks on 16 x 16 patches."""
    return vit("vit_tiny", 192, 12, 3, attention=attention, num_classes=num_classes, depth=depth,
               description="DeiT-Ti (ViT-Ti/16): 12 blocks of 3 heads on 192 channels, 16x16 patches")


ATTENTION = ModelOption("attention", str, "fused", ("fused", "explicit"),
                        "scaled dot-product attention as one op (timm's default), or as its matmuls and softmax")

ENTRIES = (
    ModelEntry("vit_tiny", vit_tiny, "DeiT-Ti (ViT-Ti/16): a plain vision transformer; fixed widths, any resolution",
               SOURCE, accepts_alpha=False, accepts_depth=True, options=(ATTENTION,)),
)
