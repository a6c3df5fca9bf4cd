"""MobileNetV4 Conv-S and Hybrid-M: universal inverted bottlenecks and mobile multi-query attention.

Source: D. Qin et al., "MobileNetV4: Universal Models for the Mobile Ecosystem", arXiv:2404.10518, the
architecture tables of the appendix (Conv-S at 224, Hybrid-M at 256) and Table 6 (Conv-S 3.8M params, 0.2G MACs;
Hybrid-M 10.5M, 1.2G). Layer for layer as timm's ``mobilenetv3.py`` (``mobilenetv4_conv_small``,
``mobilenetv4_hybrid_medium``; ported from the authors' TensorFlow code; node names are its module paths):

- ``conv_stem`` 3x3 stride 2 + ``bn1`` + ReLU;
- ``cn`` blocks: a k x k conv + BN + ReLU; ``er`` (FusedIB): ``conv_exp`` k x k with the stride to
  ``make_divisible(in x e, 8)`` + BN + ReLU, ``conv_pwl`` 1x1 + BN;
- ``uir`` (the universal inverted bottleneck, UIB): an optional depthwise ``dw_start`` (kernel a) + BN, ``pw_exp``
  1x1 to ``make_divisible(in x e, 8)`` + BN + ReLU, an optional depthwise ``dw_mid`` (kernel k, the stride) + BN +
  ReLU, ``pw_proj`` 1x1 + BN; ExtraDW has both depthwise convolutions, IR only k, ConvNeXt only a, FFN neither;
  the hybrid's blocks end in a ``layer_scale``; an ``add`` where the stride is 1 and the widths match;
- ``mqa`` (Hybrid-M): ``norm`` (BN), then multi-query attention (``attn``): ``query.proj`` a 1x1 to 4 heads of 64,
  ``key`` and ``value`` each a stride-2 3x3 depthwise ``down_conv`` + ``norm`` where marked (v2) and a 1x1
  ``proj`` to one head of 64, scaled dot-product attention of the 4 query heads over the single key / value head
  (broadcast), the heads merged back into a map and ``output.proj`` a 1x1; ``layer_scale``; ``add``;
- ``global_pool``, ``conv_head`` 1x1 to 1280 (no bias), ``norm_head`` + ReLU, ``flatten``, ``classifier``.

Widths are ``make_divisible(c x alpha, 8)``; the stem is scaled only above alpha 1 (timm: ``fix_stem`` below 1); the
attention's heads and head dimensions and the head's 1280 do not scale. The tables list every block, so the models
take no ``--depth``.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network
from ...ops import (Activation, Add, BatchNorm, Conv2d, Flatten, GlobalAvgPool, LayerScale, Permute,
                   ScaledDotProductAttention, Transpose, Unflatten, Unsqueeze)
from ...core.scaling import Expanded, Scaled, Width
from .entry import ModelEntry

SOURCE = "Qin et al. 2024 (arXiv:2404.10518), appendix architecture tables; timm mobilenetv3.py (mobilenetv4_*)"

# Blocks per stage, as timm's arch_def writes them: ("cn", kernel, stride, out), ("er", kernel, stride, expansion,
# out), ("uir", start kernel, mid kernel, stride, expansion, out), ("mqa", kv stride, out).
CONV_SMALL = (
    (("cn", 3, 2, 32), ("cn", 1, 1, 32)),
    (("cn", 3, 2, 96), ("cn", 1, 1, 64)),
    (("uir", 5, 5, 2, 3, 96), *(("uir", 0, 3, 1, 2, 96),) * 4, ("uir", 3, 0, 1, 4, 96)),
    (("uir", 3, 3, 2, 6, 128), ("uir", 5, 5, 1, 4, 128), ("uir", 0, 5, 1, 4, 128), ("uir", 0, 5, 1, 3, 128),
     ("uir", 0, 3, 1, 4, 128), ("uir", 0, 3, 1, 4, 128)),
    (("cn", 1, 1, 960),),
)
HYBRID_MEDIUM = (
    (("er", 3, 2, 4, 48),),
    (("uir", 3, 5, 2, 4, 80), ("uir", 3, 3, 1, 2, 80)),
    (("uir", 3, 5, 2, 6, 160), ("uir", 0, 0, 1, 2, 160), ("uir", 3, 3, 1, 4, 160), ("uir", 3, 5, 1, 4, 160),
     ("mqa", 2, 160), ("uir", 3, 3, 1, 4, 160), ("mqa", 2, 160), ("uir", 3, 0, 1, 4, 160), ("mqa", 2, 160),
     ("uir", 3, 3, 1, 4, 160), ("mqa", 2, 160), ("uir", 3, 0, 1, 4, 160)),
    (("uir", 5, 5, 2, 6, 256), ("uir", 5, 5, 1, 4, 256), ("uir", 3, 5, 1, 4, 256), ("uir", 3, 5, 1, 4, 256),
     ("uir", 0, 0, 1, 2, 256), ("uir", 3, 5, 1, 2, 256), ("uir", 0, 0, 1, 2, 256), ("uir", 0, 0, 1, 4, 256),
     ("mqa", 1, 256), ("uir", 3, 0, 1, 4, 256), ("mqa", 1, 256), ("uir", 5, 5, 1, 4, 256), ("mqa", 1, 256),
     ("uir", 5, 0, 1, 4, 256), ("mqa", 1, 256), ("uir", 5, 0, 1, 4, 256)),
    (("cn", 1, 1, 960),),
)
HEADS, KEY_DIM = 4, 64


def _width(channels: int) -> Scaled:
    return Scaled(channels, "make_divisible")


def _cna(builder: GraphBuilder, prefix: str, out: "Width | None", kernel: int, stride: int = 1,
         groups: "int | str" = 1, relu: bool = True, x: "str | None" = None) -> str:
    """timm's ``ConvNormAct``: ``prefix.conv``, ``prefix.bn`` (+ ``bn.act``)."""
    return conv_bn_act(builder, prefix, out, kernel=kernel, stride=stride, groups=groups,
                       activation="relu" if relu else None, x=x, names=("conv", "bn", "bn.act" if relu else None))


def universal_inverted_bottleneck(builder: GraphBuilder, prefix: str, x: str, start: int, mid: int, stride: int,
                                  expansion: float, out: Width, layer_scale: bool) -> str:
    """timm's ``UniversalInvertedResidual`` (UIB)."""
    last = x
    if start:
        last = _cna(builder, f"{prefix}.dw_start", None, start, 1 if mid else stride, "depthwise", relu=False,
                    x=last)
    last = _cna(builder, f"{prefix}.pw_exp", Expanded(expansion, 8), 1, x=last)
    if mid:
        last = _cna(builder, f"{prefix}.dw_mid", None, mid, stride, "depthwise", x=last)
    last = _cna(builder, f"{prefix}.pw_proj", out, 1, relu=False, x=last)
    if layer_scale:
        last = builder.add(f"{prefix}.layer_scale", LayerScale())
    if stride == 1:
        last = builder.add(f"{prefix}.add", Add(if_shapes_match=True), (x, last))
    return last


def mobile_mqa(builder: GraphBuilder, prefix: str, x: str, kv_stride: int, out: Width) -> str:
    """timm's ``MobileAttention`` with ``MultiQueryAttention2d`` (fused attention)."""
    norm = builder.add(f"{prefix}.norm", BatchNorm(), x)
    attn = f"{prefix}.attn"
    builder.add(f"{attn}.query.proj", Conv2d(Scaled(HEADS * KEY_DIM), kernel=1), norm)
    builder.add(f"{attn}.q_flat", Flatten(2))                      # B x (heads key_dim) x (H W)
    builder.add(f"{attn}.q_heads", Unflatten(1, (HEADS, -1)))
    q = builder.add(f"{attn}.q", Transpose(-1, -2))                # B x heads x (H W) x key_dim
    kv = []
    for part in ("key", "value"):
        last = norm
        if kv_stride > 1:
            builder.add(f"{attn}.{part}.down_conv", Conv2d(None, kernel=3, stride=kv_stride, padding=1,
                                                           groups="depthwise"), norm)
            last = builder.add(f"{attn}.{part}.norm", BatchNorm())
        builder.add(f"{attn}.{part}.proj", Conv2d(Scaled(KEY_DIM), kernel=1), last)
        builder.add(f"{attn}.{part[0]}_flat", Flatten(2))
        builder.add(f"{attn}.{part[0]}_tokens", Transpose(1, 2))
        kv.append(builder.add(f"{attn}.{part[0]}", Unsqueeze(1)))   # B x 1 x (h w) x dim: one head for all
    builder.add(f"{attn}.sdpa", ScaledDotProductAttention(), (q, *kv))
    builder.add(f"{attn}.o_transpose", Transpose(1, 2))
    builder.add(f"{attn}.o_merge", Flatten(2))
    builder.add(f"{attn}.o_map", Unflatten(1, ("H", "W"), like=norm))
    builder.add(f"{attn}.o_permute", Permute((0, 3, 1, 2)))
    builder.add(f"{attn}.output.proj", Conv2d(out, kernel=1))
    last = builder.add(f"{prefix}.layer_scale", LayerScale())
    return builder.add(f"{prefix}.add", Add(if_shapes_match=True), (x, last))


def mobilenet_v4(name: str, stages: tuple, hybrid: bool, resolution: int, description: str,
                 num_classes: int = 1000) -> Network:
    builder = GraphBuilder()
    x = conv_bn_act(builder, "", Scaled(32, "make_divisible_head"), kernel=3, stride=2,
                    names=("conv_stem", "bn1", "bn1.act"))
    for stage, blocks in enumerate(stages):
        for index, block in enumerate(blocks):
            prefix = f"blocks.{stage}.{index}"
            kind, *args = block
            if kind == "cn":
                kernel, stride, out = args
                x = conv_bn_act(builder, prefix, _width(out), kernel=kernel, stride=stride,
                                names=("conv", "bn1", "bn1.act"), x=x)
            elif kind == "er":
                kernel, stride, expansion, out = args
                conv_bn_act(builder, prefix, Expanded(expansion, 8), kernel=kernel, stride=stride,
                            names=("conv_exp", "bn1", "bn1.act"), x=x)
                x = conv_bn_act(builder, prefix, _width(out), kernel=1, activation=None,
                                names=("conv_pwl", "bn2", None))
            elif kind == "uir":
                start, mid, stride, expansion, out = args
                x = universal_inverted_bottleneck(builder, prefix, x, start, mid, stride, expansion, _width(out),
                                                  layer_scale=hybrid)
            else:
                kv_stride, out = args
                x = mobile_mqa(builder, prefix, x, kv_stride, _width(out))
    builder.add("global_pool.pool", GlobalAvgPool(), x)
    builder.add("conv_head", Conv2d(Scaled(1280), kernel=1))
    builder.add("norm_head", BatchNorm())
    builder.add("norm_head.act", Activation("relu"))
    classifier(builder, num_classes, "classifier", (("flatten", Flatten()),))
    return builder.build(name, base_resolution=resolution, source=SOURCE, description=description)


def mobilenet_v4_conv_small(num_classes: int = 1000) -> Network:
    return mobilenet_v4("mobilenet_v4_conv_small", CONV_SMALL, False, 224,
                        "MobileNetV4 Conv-S: conv and UIB blocks (ExtraDW, IR, ConvNeXt) at 224", num_classes)


def mobilenet_v4_hybrid_medium(num_classes: int = 1000) -> Network:
    return mobilenet_v4("mobilenet_v4_hybrid_medium", HYBRID_MEDIUM, True, 256,
                        "MobileNetV4 Hybrid-M: UIB blocks and mobile multi-query attention at 256", num_classes)


ENTRIES = (
    ModelEntry("mobilenet_v4_conv_small", mobilenet_v4_conv_small,
               "MobileNetV4 Conv-S: universal inverted bottlenecks, ReLU, 224x224 (3.8M params)", SOURCE),
    ModelEntry("mobilenet_v4_hybrid_medium", mobilenet_v4_hybrid_medium,
               "MobileNetV4 Hybrid-M: UIBs with layer scale and multi-query attention (one key head), 256x256",
               SOURCE),
)
