"""MobileViT-XXS, -XS and -S: MobileNetV2 blocks and MobileViT blocks, transformers between the patches of a map.

Source: S. Mehta and M. Rastegari, "MobileViT: Light-weight, General-purpose, and Mobile-friendly Vision
Transformer", arXiv:2110.02178 (ICLR 2022), Section 3.1 and Table 4 (1.3M, 2.3M and 5.6M parameters at 256 x 256).
Layer for layer as timm's ``mobilevit.py`` and ``byobnet.py`` (ported from the authors' ml-cvnets; node names are
its module paths; timm's ``BatchNormAct2d`` holds its activation at ``bn.act``):

- ``stem``: 3x3 stride-2 conv to 16 + BN + SiLU;
- inverted residual blocks (``bottle``): ``conv1_1x1`` to ``make_divisible(in x ratio, 8)`` + BN + SiLU,
  ``conv2_kxk`` 3x3 depthwise with the stride + BN + SiLU, ``conv3_1x1`` linear projection + BN, and an ``add`` when
  the stride is 1 and the widths match; the ratio is 2 for XXS and 4 otherwise;
- a MobileViT block (Fig. 1b): ``conv_kxk`` 3x3 + BN + SiLU, ``conv_1x1`` to the transformer's width d, the map
  resized to whole 2 x 2 patches where it is not (bilinear, ``resize``), unfolded into 4 sequences of patches,
  ``transformer.i`` pre-norm blocks of 4 heads with an MLP of ratio 2 and SiLU, ``norm``, folded back (and
  resized back), ``conv_proj`` 1x1 to the block's width + BN + SiLU, and ``conv_fusion`` 3x3 over the input and
  the result concatenated + BN + SiLU;
- ``final_conv`` 1x1 + BN + SiLU, ``head.global_pool``, ``head.fc``.

| model | channels of stages 1-5 | transformer d | depths L | final |
|---|---|---|---|---|
| XXS | 16, 24, 48, 64, 80 | 64, 80, 96 | 2, 4, 3 | 320 |
| XS | 32, 48, 64, 80, 96 | 96, 120, 144 | 2, 4, 3 | 384 |
| S | 32, 64, 96, 128, 160 | 144, 192, 240 | 2, 4, 3 | 640 |

The widths are fixed (MobileViT comes in three sizes, not a multiplier), so the models refuse alpha. At 224 x 224
the last stage's 7 x 7 map is resized to 8 x 8 for its patches and back, as the reference code does.
"""
from __future__ import annotations

from ..builder import TIMM, GraphBuilder, classifier, conv_bn_act, transformer_block
from ...core.ir import Network
from ...ops import (Add, Concat, Conv2d, Flatten, GlobalAvgPool, Interpolate, LayerNorm, PatchFold, PatchUnfold)
from ...core.scaling import Expanded, scaled_repeats
from .entry import ModelEntry

SOURCE = "Mehta & Rastegari 2022 (arXiv:2110.02178), Table 4; timm mobilevit.py"

# Per model: stage widths, transformer widths, expansion ratio of the inverted residuals, final width.
CONFIGS = {
    "mobilevit_xxs": ((16, 24, 48, 64, 80), (64, 80, 96), 2.0, 320),
    "mobilevit_xs": ((32, 48, 64, 80, 96), (96, 120, 144), 4.0, 384),
    "mobilevit_s": ((32, 64, 96, 128, 160), (144, 192, 240), 4.0, 640),
}
DEPTHS = (1, 3)              # inverted residual blocks in stages 1 and 2
TRANSFORMER_DEPTHS = (2, 4, 3)
PATCH = 2
HEADS = 4


def inverted_residual(builder: GraphBuilder, prefix: str, x: str, out: int, stride: int, ratio: float,
                      residual: bool) -> str:
    """timm's ``BottleneckBlock`` as MobileViT configures it (``bottle_in``, ``linear_out``, depthwise)."""
    conv_bn_act(builder, f"{prefix}.conv1_1x1", Expanded(ratio, 8), kernel=1, activation="silu", x=x, names=TIMM)
    conv_bn_act(builder, f"{prefix}.conv2_kxk", None, kernel=3, stride=stride, groups="depthwise",
                activation="silu", names=TIMM)
    last = conv_bn_act(builder, f"{prefix}.conv3_1x1", out, kernel=1, activation=None, names=TIMM)
    if residual:
        last = builder.add(f"{prefix}.add", Add(), (x, last))
    return last


def mobilevit_block(builder: GraphBuilder, prefix: str, x: str, out: int, dim: int, depth: int) -> str:
    """Fig. 1b: local convolutions, transformers between the patches, the fold, and the fusion."""
    conv_bn_act(builder, f"{prefix}.conv_kxk", None, kernel=3, activation="silu", x=x, names=TIMM)
    local = builder.add(f"{prefix}.conv_1x1", Conv2d(dim, kernel=1))
    resized = builder.add(f"{prefix}.resize", Interpolate("bilinear", multiple=PATCH, if_needed=True))
    tokens = builder.add(f"{prefix}.unfold", PatchUnfold(PATCH))
    for index in range(depth):
        tokens = transformer_block(builder, f"{prefix}.transformer.{index}", tokens, HEADS, 2.0, "silu", lead=2)
    builder.add(f"{prefix}.norm", LayerNorm(), tokens)
    builder.add(f"{prefix}.fold", PatchFold(PATCH, like=resized))
    builder.add(f"{prefix}.restore", Interpolate("bilinear", like=local, if_needed=True))
    projected = conv_bn_act(builder, f"{prefix}.conv_proj", out, kernel=1, activation="silu", names=TIMM)
    builder.add(f"{prefix}.cat", Concat(), (x, projected))
    return conv_bn_act(builder, f"{prefix}.conv_fusion", out, kernel=3, activation="silu", names=TIMM)


def mobilevit(name: str, num_classes: int = 1000, depth: float = 1.0) -> Network:
    """MobileViT ``name``; at ``depth`` every stage's blocks and every transformer's layers become ``ceil(depth x
    n)``."""
    widths, dims, ratio, final = CONFIGS[name]
    builder = GraphBuilder()
    x = conv_bn_act(builder, "stem", 16, kernel=3, stride=2, activation="silu", names=TIMM)
    width = 16
    for stage, out in enumerate(widths):
        if stage < 2:
            for index in range(scaled_repeats(DEPTHS[stage], depth)):
                stride = 2 if stage == 1 and index == 0 else 1
                x = inverted_residual(builder, f"stages.{stage}.{index}", x, out, stride, ratio,
                                      residual=stride == 1 and width == out)
                width = out
        else:
            blocks = scaled_repeats(1, depth)
            for index in range(blocks):
                x = inverted_residual(builder, f"stages.{stage}.{index}", x, out, 2 if index == 0 else 1, ratio,
                                      residual=index > 0)
            x = mobilevit_block(builder, f"stages.{stage}.{blocks}", x, out, dims[stage - 2],
                                scaled_repeats(TRANSFORMER_DEPTHS[stage - 2], depth))
            width = out
    conv_bn_act(builder, "final_conv", final, kernel=1, activation="silu", x=x, names=TIMM)
    classifier(builder, num_classes, "head.fc", (("head.global_pool.pool", GlobalAvgPool()),
                                                 ("head.global_pool.flatten", Flatten())))
    label = name.split("_")[1].upper()
    return builder.build(name, base_resolution=256, source=SOURCE, depth=depth,
                         description=f"MobileViT-{label} (Table 4) at 256x256")


def _entry(name: str, label: str, params: str) -> ModelEntry:
    return ModelEntry(name, lambda num_classes=1000, depth=1.0: mobilevit(name, num_classes, depth),
                      f"MobileViT-{label}: MobileNetV2 blocks and transformers over 2x2 patches ({params} params)",
                      SOURCE, accepts_alpha=False, accepts_depth=True)


ENTRIES = (_entry("mobilevit_xxs", "XXS", "1.3M"), _entry("mobilevit_xs", "XS", "2.3M"),
           _entry("mobilevit_s", "S", "5.6M"))
