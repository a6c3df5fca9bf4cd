"""GoogLeNet (Inception v1), the MobileNetV1 paper's Table 8 baseline, without the auxiliary classifiers.

Source: C. Szegedy et al., "Going Deeper with Convolutions", arXiv:1409.4842 (2014), Table 1. An Inception module
has four branches, concatenated: a 1x1 convolution (#1x1); a 1x1 reduction (#3x3 reduce) then a 3x3 convolution
(#3x3); a 1x1 reduction (#5x5 reduce) then a 5x5 convolution (#5x5); a 3x3 stride-1 max pool then a 1x1 projection
(pool proj). Its output has ``#1x1 + #3x3 + #5x5 + pool proj`` channels.

``variant="paper"`` (default) is Table 1 as the paper's Caffe model has it (BVLC/caffe ``models/bvlc_googlenet``):
every convolution has a bias and a ReLU and no BatchNorm; the 5x5 branch is a real 5x5 convolution (padding 2); max
pools round up (Caffe, ``ceil_mode``), the one after inception (4e) is 3x3 stride 2 as Table 1 prints; the 7x7
average pool (a global pool at 224, represented as one here), dropout 0.4 and a 1000-way linear layer. The two local
response normalisations of the stem (after the first max pool and after the 3x3 convolution) are omitted: the IR has
no LRN op; they have no parameters and no mult-adds.

``variant="torchvision"`` is torchvision's ``models/googlenet.py`` layer for layer: ``BasicConv2d`` = convolution
without bias, ``BatchNorm2d(eps=0.001)``, ReLU; the "5x5" branch uses a 3x3 kernel (padding 1), a known deviation
kept for the ported weights (pytorch/vision issue #906 and the comment in the source); the max pool after (4e) is
2x2 stride 2 (``ceil_mode``); dropout 0.2. ``transform_input`` (an element-wise rescaling of the input) and the
auxiliary heads (built only for training; the published weights run with ``aux_logits=False``) are not part of it.

Both variants use torchvision's module paths as node names: ``conv1``, ``maxpool1``, ``conv2``, ``conv3``,
``maxpool2``, ``inception3a.branch1``, ``inception3a.branch2.0``/``.1``, ``inception3a.branch3.0``/``.1``,
``inception3a.branch4.0`` (the pool), ``inception3a.branch4.1``, ... ``avgpool``, ``dropout``, ``fc``; each
convolution is ``<path>.conv`` (``.bn``, ``.relu``), and a module's concatenation is ``inception3a.cat``. The network
ends in a global pool and accepts other input sizes; it has no width multiplier.
"""
from __future__ import annotations

from typing import Any

from ..builder import GraphBuilder, classifier, conv_bn_act, pooled
from ...core.ir import Network
from ...ops import Concat, Dropout, Pool2d
from .entry import ModelEntry, ModelOption

VARIANTS = ("paper", "torchvision")

# Table 1, one row per line. Stem rows: (name, type, kernel, stride, output channels); the "convolution 3x3/1" line
# (depth 2: #3x3 reduce 64, #3x3 192) is unrolled into conv2 (1x1) and conv3 (3x3).
STEM: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("conv1", "conv", 7, 2, 64),         # convolution 7x7/2      112 x 112 x 64
    ("maxpool1", "max", 3, 2, None),     # max pool 3x3/2         56 x 56 x 64
    ("conv2", "conv", 1, 1, 64),         # convolution 3x3/1      #3x3 reduce 64
    ("conv3", "conv", 3, 1, 192),        #                        56 x 56 x 192
    ("maxpool2", "max", 3, 2, None),     # max pool 3x3/2         28 x 28 x 192
)
# Inception rows: (name, #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj); ("maxpoolN",) between stages.
INCEPTION = (
    ("inception3a", 64, 96, 128, 16, 32, 32),      # 28 x 28 x 256
    ("inception3b", 128, 128, 192, 32, 96, 64),    # 28 x 28 x 480
    ("maxpool3",),                                 # max pool 3x3/2   14 x 14 x 480
    ("inception4a", 192, 96, 208, 16, 48, 64),     # 14 x 14 x 512
    ("inception4b", 160, 112, 224, 24, 64, 64),    # 14 x 14 x 512
    ("inception4c", 128, 128, 256, 24, 64, 64),    # 14 x 14 x 512
    ("inception4d", 112, 144, 288, 32, 64, 64),    # 14 x 14 x 528
    ("inception4e", 256, 160, 320, 32, 128, 128),  # 14 x 14 x 832
    ("maxpool4",),                                 # max pool 3x3/2 (torchvision: 2x2/2)   7 x 7 x 832
    ("inception5a", 256, 160, 320, 32, 128, 128),  # 7 x 7 x 832
    ("inception5b", 384, 192, 384, 48, 128, 128),  # 7 x 7 x 1024
)                                                  # avg pool 7x7/1, dropout (40%), linear, softmax: the head


def _conv(builder: GraphBuilder, prefix: str, out: int, kernel: int, stride: int = 1, x: str | None = None,
          batchnorm: bool = False) -> str:
    """A convolution with "same" padding ``(k - 1) / 2`` and ReLU: the paper's (biased, no BN) or torchvision's
    ``BasicConv2d`` (no bias, BatchNorm). Returns the ReLU's name."""
    return conv_bn_act(builder, prefix, out, kernel=kernel, stride=stride, x=x, bias=not batchnorm, bn=batchnorm)


def _inception(builder: GraphBuilder, name: str, row: tuple, torchvision: bool) -> None:
    """One Inception module, its branches in torchvision's execution order, then their concatenation."""
    ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj = row
    x = builder.last
    kernel5 = 3 if torchvision else 5        # torchvision's known 3x3 in the "5x5" branch (vision issue #906)
    branch1 = _conv(builder, f"{name}.branch1", ch1x1, 1, x=x, batchnorm=torchvision)
    _conv(builder, f"{name}.branch2.0", ch3x3red, 1, x=x, batchnorm=torchvision)
    branch2 = _conv(builder, f"{name}.branch2.1", ch3x3, 3, batchnorm=torchvision)
    _conv(builder, f"{name}.branch3.0", ch5x5red, 1, x=x, batchnorm=torchvision)
    branch3 = _conv(builder, f"{name}.branch3.1", ch5x5, kernel5, batchnorm=torchvision)
    builder.add(f"{name}.branch4.0", Pool2d("max", kernel=3, stride=1, padding=(1, 1), ceil_mode=True), x)
    branch4 = _conv(builder, f"{name}.branch4.1", pool_proj, 1, batchnorm=torchvision)
    builder.add(f"{name}.cat", Concat(), (branch1, branch2, branch3, branch4))


def googlenet(variant: str = "paper", num_classes: int = 1000) -> Network:
    """GoogLeNet without auxiliary heads: Table 1 with the paper's Caffe conventions, or torchvision's network."""
    torchvision = variant == "torchvision"
    builder = GraphBuilder()
    for name, kind, kernel, stride, out in STEM:
        if kind == "max":
            builder.add(name, Pool2d("max", kernel=kernel, stride=stride, ceil_mode=True))
        else:
            _conv(builder, name, out, kernel, stride, batchnorm=torchvision)
    for row in INCEPTION:
        if len(row) == 1:
            size = 2 if torchvision and row[0] == "maxpool4" else 3
            builder.add(row[0], Pool2d("max", kernel=size, stride=2, ceil_mode=True))
        else:
            _inception(builder, row[0], row[1:], torchvision)
    classifier(builder, num_classes, "fc", pooled("avgpool", ("dropout", Dropout(0.2 if torchvision else 0.4))))
    if torchvision:
        return builder.build("googlenet", source="torchvision models/googlenet.py (Szegedy et al. 2014, Table 1)",
                             description="GoogLeNet as torchvision builds it: BasicConv2d (BN), 3x3 in the 5x5 branch")
    return builder.build("googlenet", source="Szegedy et al. 2014, arXiv:1409.4842, Table 1",
                         description="GoogLeNet (Inception v1), Table 1: biased convolutions, no BN, LRN omitted")


ENTRIES = (
    ModelEntry("googlenet", googlenet,
               "GoogLeNet (Inception v1) without auxiliary heads; default variant paper (Table 1: biased convs, "
               "no BN, real 5x5, LRN omitted); torchvision: BN, 3x3 in the 5x5 branch",
               "Szegedy et al. 2014 (arXiv:1409.4842), Table 1; torchvision models/googlenet.py",
               accepts_alpha=False,
               options=(ModelOption("variant", str, "paper", VARIANTS,
                                    help="paper: Table 1 as the Caffe model; torchvision: torchvision's googlenet"),)),
)
