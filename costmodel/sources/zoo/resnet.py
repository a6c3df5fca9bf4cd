"""ResNet-50 and ResNeXt-50 (32x4d), as torchvision builds them, with the original (v1) stride placement as an option.

Sources: K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", arXiv:1512.03385 (2015),
Table 1, 50-layer column; S. Xie, R. Girshick, P. Dollar, Z. Tu, K. He, "Aggregated Residual Transformations for
Deep Neural Networks", arXiv:1611.05431 (2016), Table 1, ResNeXt-50 (32x4d) column: the same network with the 3x3
convolution of each bottleneck a group convolution of cardinality C = 32 (4 channels per group) and the bottleneck
twice as wide.

Layer for layer as torchvision's ``models/resnet.py``: a 7x7/2 convolution (64), BatchNorm, ReLU and a 3x3/2 max
pool (padding 1); four stages (``layer1`` ... ``layer4``) of ``Bottleneck`` blocks, each ``conv1`` 1x1 to the
bottleneck width, ``conv2`` 3x3 (``groups`` = 1 or 32), ``conv3`` 1x1 to 4x the stage's base width, every
convolution without bias and followed by BatchNorm (gamma and beta: 2 parameters per channel), ReLU after the first
two and after the residual add. The first block of each stage projects its shortcut with ``downsample.0`` (1x1
convolution, the block's stride) and ``downsample.1`` (BatchNorm). Head: global average pool, a 1000-way linear
layer. A group convolution costs ``D_K^2 (M/g) N D_F^2`` mult-adds.

``variant="v1.5"`` (default, torchvision): a stage's stride 2 is on the 3x3 ``conv2`` of its first block.
``variant="v1"`` (He et al. 2015 and the original Caffe/Torch models): the stride 2 is on the first 1x1 ``conv1``,
so that block's 3x3 convolution runs on the already halved map (fewer mult-adds, same parameters).

Node names are torchvision's module paths (``conv1``, ``bn1``, ``layer1.0.conv2``, ``layer2.0.downsample.0``,
``fc``). torchvision applies one ``relu`` module three times per block; the IR has one node per call:
``layerN.i.relu1``, ``.relu2`` and, after the residual ``layerN.i.add``, ``.relu3``. The network ends in a global
pool and accepts any input size that keeps the maps non-empty; it has no width multiplier.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network
from ...ops import Activation, Add, Pool2d
from ...core.scaling import scaled_repeats
from .entry import ModelEntry, ModelOption

VARIANTS = ("v1.5", "v1")

# Table 1 (He et al.), 50-layer column, one row per stage: (paper stage, torchvision layer, bottleneck width,
# output channels, blocks, first stride). conv1 (7x7, 64, stride 2) and the 3x3 max pool are the stem below.
RESNET50 = (
    ("conv2_x", "layer1", 64, 256, 3, 1),      # [1x1, 64; 3x3, 64; 1x1, 256] x 3        56 x 56
    ("conv3_x", "layer2", 128, 512, 4, 2),     # [1x1, 128; 3x3, 128; 1x1, 512] x 4      28 x 28
    ("conv4_x", "layer3", 256, 1024, 6, 2),    # [1x1, 256; 3x3, 256; 1x1, 1024] x 6     14 x 14
    ("conv5_x", "layer4", 512, 2048, 3, 2),    # [1x1, 512; 3x3, 512; 1x1, 2048] x 3     7 x 7
)
# Table 1 (Xie et al.), ResNeXt-50 (32x4d) column: the 3x3 convolutions have C = 32 groups.
RESNEXT50_32X4D = (
    ("conv2", "layer1", 128, 256, 3, 1),       # [1x1, 128; 3x3, 128, C=32; 1x1, 256] x 3
    ("conv3", "layer2", 256, 512, 4, 2),       # [1x1, 256; 3x3, 256, C=32; 1x1, 512] x 4
    ("conv4", "layer3", 512, 1024, 6, 2),      # [1x1, 512; 3x3, 512, C=32; 1x1, 1024] x 6
    ("conv5", "layer4", 1024, 2048, 3, 2),     # [1x1, 1024; 3x3, 1024, C=32; 1x1, 2048] x 3
)
CARDINALITY = 32


def _bottleneck(b: GraphBuilder, prefix: str, width: int, out: int, stride: int, groups: int, project: bool,
                variant: str) -> None:
    """torchvision's ``Bottleneck``; with ``variant="v1"`` the stride moves from ``conv2`` to ``conv1``."""
    x = b.last
    stride1, stride2 = (stride, 1) if variant == "v1" else (1, stride)
    conv_bn_act(b, prefix, width, kernel=1, stride=stride1, names=("conv1", "bn1", "relu1"), x=x)
    conv_bn_act(b, prefix, width, kernel=3, stride=stride2, groups=groups, names=("conv2", "bn2", "relu2"))
    branch = conv_bn_act(b, prefix, out, kernel=1, activation=None, names=("conv3", "bn3", None))
    shortcut = x
    if project:
        shortcut = conv_bn_act(b, f"{prefix}.downsample", out, kernel=1, stride=stride, activation=None,
                               names=("0", "1", None), x=x)
    b.add(f"{prefix}.add", Add(), (branch, shortcut))
    b.add(f"{prefix}.relu3", Activation("relu"))


def _resnet(name: str, stages: tuple, groups: int, variant: str, source: str, description: str,
            num_classes: int, depth: float = 1.0) -> Network:
    b = GraphBuilder()
    conv_bn_act(b, "", 64, kernel=7, stride=2, names=("conv1", "bn1", "relu"))
    b.add("maxpool", Pool2d("max", kernel=3, stride=2, padding=(1, 1)))
    channels = 64
    for _, layer, width, out, blocks, stride in stages:
        for index in range(scaled_repeats(blocks, depth)):
            first = index == 0
            _bottleneck(b, f"{layer}.{index}", width, out, stride if first else 1, groups,
                        project=first and (stride != 1 or channels != out), variant=variant)
            channels = out
    classifier(b, num_classes, "fc")
    return b.build(name, source=source, description=f"{description} (ResNet {variant})", depth=depth)


def resnet50(variant: str = "v1.5", num_classes: int = 1000, depth: float = 1.0) -> Network:
    """ResNet-50 (Table 1, 50-layer): 16 bottleneck blocks in four stages; torchvision's v1.5 strides by default.
    At ``depth`` each stage's blocks become ``ceil(depth x n)``."""
    return _resnet("resnet50", RESNET50, 1, variant, "He et al. 2015, arXiv:1512.03385, Table 1",
                   "ResNet-50: 3-4-6-3 bottleneck blocks", num_classes, depth)


def resnext50_32x4d(variant: str = "v1.5", num_classes: int = 1000, depth: float = 1.0) -> Network:
    """ResNeXt-50 (32x4d): ResNet-50 with 32-group 3x3 convolutions in bottlenecks twice as wide."""
    return _resnet("resnext50_32x4d", RESNEXT50_32X4D, CARDINALITY, variant,
                   "Xie et al. 2016, arXiv:1611.05431, Table 1", "ResNeXt-50 (32x4d): 32-group 3x3 bottlenecks",
                   num_classes, depth)


def _variant_option() -> ModelOption:
    return ModelOption("variant", str, "v1.5", VARIANTS,
                       help="v1.5: stride 2 on the 3x3 conv2 (torchvision); v1: on the first 1x1 conv1 (He et al.)")


ENTRIES = (
    ModelEntry("resnet50", resnet50,
               "ResNet-50 (bottleneck, BN), 1000 classes; default variant v1.5 (torchvision: stride on the 3x3), "
               "v1: stride on the first 1x1",
               "He et al. 2015 (arXiv:1512.03385), Table 1; torchvision models/resnet.py",
               accepts_alpha=False, accepts_depth=True, options=(_variant_option(),)),
    ModelEntry("resnext50_32x4d", resnext50_32x4d,
               "ResNeXt-50 32x4d (cardinality 32, 4 channels per group in the 3x3); default variant v1.5 "
               "(torchvision), v1: stride on the first 1x1",
               "Xie et al. 2016 (arXiv:1611.05431), Table 1; torchvision models/resnet.py",
               accepts_alpha=False, accepts_depth=True, options=(_variant_option(),)),
)
