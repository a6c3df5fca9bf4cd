"""SqueezeNet 1.0 and 1.1, the MobileNetV1 paper's small baseline (Table 9).

Source: F. N. Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
arXiv:1602.07360 (2016), Table 1 (SqueezeNet 1.0); SqueezeNet 1.1 is from the authors' repository
(DeepScale/SqueezeNet, ``SqueezeNet_v1.1``): a 3x3 first convolution with 64 filters and the max pools moved
earlier, "2.4x less computation" at about the same accuracy.

Layer for layer as torchvision's ``models/squeezenet.py``. A Fire module (Section 3.2) is a ``squeeze`` 1x1
convolution to s_1x1 channels, then two ``expand`` convolutions read it, 1x1 to e_1x1 and 3x3 (padding 1) to e_3x3
channels, concatenated: ``e_1x1 + e_3x3`` output channels. Every convolution has a bias and a ReLU. Max pools are
3x3 stride 2 with ``ceil_mode`` (Caffe's rounding). The classifier is dropout 0.5, a 1x1 convolution to 1000
classes (conv10) with ReLU, and a global average pool (torchvision's ``AdaptiveAvgPool2d((1, 1))``, the paper's
13x13 avgpool10 at 224), flattened. A Fire module costs
``s M D^2 + (e_1x1 + 9 e_3x3) s D^2`` mult-adds on a D x D map with M input channels.

Node names are torchvision's module paths (``features.3.squeeze``, ``features.3.expand3x3_activation``,
``classifier.1``); the concatenation of a Fire module, a ``torch.cat`` in torchvision, is ``features.N.cat``. The
network ends in a global pool, so any input size that keeps every map non-empty is accepted. There is no width
multiplier.
"""
from __future__ import annotations

from ..builder import GraphBuilder, conv_bn_act
from ...core.ir import Network
from ...ops import Concat, Dropout, Flatten, GlobalAvgPool, Pool2d
from ...core.scaling import Scaled
from .entry import ModelEntry

SOURCE_1_0 = "Iandola et al. 2016, arXiv:1602.07360, Table 1"
SOURCE_1_1 = "Iandola et al. 2016, arXiv:1602.07360; DeepScale/SqueezeNet SqueezeNet_v1.1"

# Rows of Table 1 (1.0) and of the v1.1 prototxt, one per layer of torchvision's ``features``:
# ("conv", out, kernel, stride), ("maxpool",), or ("fire", s_1x1, e_1x1, e_3x3).
SQUEEZENET_1_0 = (
    ("conv", 96, 7, 2),        # conv1      7x7/2, 96        -> 109 x 109 at 224
    ("maxpool",),              # maxpool1   3x3/2            -> 54 x 54
    ("fire", 16, 64, 64),      # fire2      128 out
    ("fire", 16, 64, 64),      # fire3      128
    ("fire", 32, 128, 128),    # fire4      256
    ("maxpool",),              # maxpool4   3x3/2            -> 27 x 27
    ("fire", 32, 128, 128),    # fire5      256
    ("fire", 48, 192, 192),    # fire6      384
    ("fire", 48, 192, 192),    # fire7      384
    ("fire", 64, 256, 256),    # fire8      512
    ("maxpool",),              # maxpool8   3x3/2            -> 13 x 13
    ("fire", 64, 256, 256),    # fire9      512
)                              # conv10 1x1/1 to 1000, avgpool10: the classifier below
SQUEEZENET_1_1 = (
    ("conv", 64, 3, 2),        # conv1      3x3/2, 64        -> 111 x 111 at 224
    ("maxpool",),              # pool1                       -> 55 x 55
    ("fire", 16, 64, 64),      # fire2
    ("fire", 16, 64, 64),      # fire3
    ("maxpool",),              # pool3                       -> 27 x 27
    ("fire", 32, 128, 128),    # fire4
    ("fire", 32, 128, 128),    # fire5
    ("maxpool",),              # pool5                       -> 13 x 13
    ("fire", 48, 192, 192),    # fire6
    ("fire", 48, 192, 192),    # fire7
    ("fire", 64, 256, 256),    # fire8
    ("fire", 64, 256, 256),    # fire9
)


def _conv_relu(builder: GraphBuilder, prefix: str, name: str, out: "int | Scaled", kernel: int,
               x: str | None = None) -> str:
    """A biased convolution (``prefix.name``, "same"-size padding) and its ReLU (``prefix.name_activation``)."""
    return conv_bn_act(builder, prefix, out, kernel=kernel, bias=True, bn=False, x=x,
                       names=(name, None, f"{name}_activation"))


def _fire(builder: GraphBuilder, prefix: str, squeeze: int, expand1x1: int, expand3x3: int) -> None:
    """torchvision's ``Fire``: squeeze 1x1 + ReLU, then expand 1x1 + ReLU and expand 3x3 + ReLU, concatenated."""
    squeezed = _conv_relu(builder, prefix, "squeeze", squeeze, 1)
    left = _conv_relu(builder, prefix, "expand1x1", expand1x1, 1, x=squeezed)
    right = _conv_relu(builder, prefix, "expand3x3", expand3x3, 3, x=squeezed)
    builder.add(f"{prefix}.cat", Concat(), (left, right))


def _squeezenet(name: str, rows: tuple, description: str, source: str, num_classes: int) -> Network:
    builder = GraphBuilder()
    index = 0
    for row in rows:
        if row[0] == "conv":
            _, out, kernel, stride = row
            conv_bn_act(builder, "features", out, kernel=kernel, stride=stride, padding=0, bias=True, bn=False,
                        names=(str(index), None, str(index + 1)))
            index += 1
        elif row[0] == "maxpool":
            builder.add(f"features.{index}", Pool2d("max", kernel=3, stride=2, ceil_mode=True))
        else:
            _fire(builder, f"features.{index}", *row[1:])
        index += 1
    builder.add("classifier.0", Dropout(0.5))         # the classifier is a 1x1 convolution to the classes
    conv_bn_act(builder, "classifier", Scaled(num_classes), kernel=1, bias=True, bn=False, names=("1", None, "2"))
    builder.add("classifier.3", GlobalAvgPool())
    builder.add("flatten", Flatten())
    return builder.build(name, description=description, source=source)


def squeezenet1_0(num_classes: int = 1000) -> Network:
    """SqueezeNet 1.0 (Table 1): a 7x7 convolution, eight Fire modules, a 1x1 convolution to the classes."""
    return _squeezenet("squeezenet1_0", SQUEEZENET_1_0, "SqueezeNet 1.0: conv1, 8 Fire modules, conv10 (Table 1)",
                       SOURCE_1_0, num_classes)


def squeezenet1_1(num_classes: int = 1000) -> Network:
    """SqueezeNet 1.1: a 3x3 first convolution with 64 filters and earlier pools; same Fire modules."""
    return _squeezenet("squeezenet1_1", SQUEEZENET_1_1,
                       "SqueezeNet 1.1: 3x3 conv1, earlier pools, 8 Fire modules, conv10", SOURCE_1_1, num_classes)


ENTRIES = (
    ModelEntry("squeezenet1_0", squeezenet1_0,
               "SqueezeNet 1.0: 7x7 conv1 (96), 8 Fire modules, 1x1 conv10 + global pool; torchvision's",
               "Iandola et al. 2016 (arXiv:1602.07360), Table 1; torchvision models/squeezenet.py",
               accepts_alpha=False),
    ModelEntry("squeezenet1_1", squeezenet1_1,
               "SqueezeNet 1.1: 3x3 conv1 (64), pools moved earlier, 8 Fire modules; torchvision's",
               "DeepScale/SqueezeNet v1.1 (Iandola et al. 2016, arXiv:1602.07360); torchvision models/squeezenet.py",
               accepts_alpha=False),
)
