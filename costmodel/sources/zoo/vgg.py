"""VGG-16, the MobileNetV1 paper's large baseline (Table 8).

Source: K. Simonyan and A. Zisserman, "Very Deep Convolutional Networks for Large-Scale Image Recognition",
arXiv:1409.1556 (2014), Table 1, configuration D: thirteen 3x3 convolutions (stride 1, padding 1) in five stacks
separated by 2x2 max pools with stride 2, then FC-4096, FC-4096, FC-1000 and soft-max.

Layer for layer as torchvision's ``models/vgg.py`` (``vgg16``, no BatchNorm): every convolution and fully connected
layer has a bias and is followed by ReLU; the classifier is ``Linear, ReLU, Dropout, Linear, ReLU, Dropout,
Linear``. Node names are torchvision's module paths (``features.0`` ... ``features.30``, ``classifier.0`` ...
``classifier.6``). Each 3x3 convolution costs ``D_K^2 M N D_F^2 = 9 M N D_F^2`` mult-adds; a fully connected layer
``M N``.

torchvision's ``AdaptiveAvgPool2d((7, 7))`` (``avgpool``) before the classifier averages the last map to 7 x 7, so
FC-4096 always reads 512 * 7 * 7 values and the network takes any input from 32 x 32 up (an identity at 224, where
the map is already 7 x 7; fvcore still counts its 25,088 input elements). The final soft-max has no parameters and
is not counted. VGG has no width multiplier.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network, Op
from ...ops import Activation, AdaptiveAvgPool, Dropout, Flatten, Linear, Pool2d
from .entry import ModelEntry

SOURCE = "Simonyan & Zisserman 2014, arXiv:1409.1556, Table 1 (configuration D)"

# Table 1, column D, one row per line: ("conv3", output channels) or ("maxpool", None).
CONFIG_D = (
    ("conv3", 64),     # conv3-64        224 x 224
    ("conv3", 64),     # conv3-64
    ("maxpool", None), # maxpool         -> 112 x 112
    ("conv3", 128),    # conv3-128
    ("conv3", 128),    # conv3-128
    ("maxpool", None), # maxpool         -> 56 x 56
    ("conv3", 256),    # conv3-256
    ("conv3", 256),    # conv3-256
    ("conv3", 256),    # conv3-256
    ("maxpool", None), # maxpool         -> 28 x 28
    ("conv3", 512),    # conv3-512
    ("conv3", 512),    # conv3-512
    ("conv3", 512),    # conv3-512
    ("maxpool", None), # maxpool         -> 14 x 14
    ("conv3", 512),    # conv3-512
    ("conv3", 512),    # conv3-512
    ("conv3", 512),    # conv3-512
    ("maxpool", None), # maxpool         -> 7 x 7
)
HIDDEN = (4096, 4096)   # FC-4096, FC-4096; then FC-classes (FC-1000) and soft-max, not counted


def vgg16(num_classes: int = 1000) -> Network:
    """VGG-16 (configuration D) at 224 x 224, as torchvision builds it."""
    builder = GraphBuilder()
    index = 0
    for kind, channels in CONFIG_D:
        if kind == "maxpool":
            builder.add(f"features.{index}", Pool2d("max", kernel=2, stride=2))
            index += 1
        else:
            conv_bn_act(builder, "features", channels, kernel=3, bias=True, bn=False,
                        names=(str(index), None, str(index + 1)))
            index += 2
    layers: list[tuple[str, Op]] = [("avgpool", AdaptiveAvgPool((7, 7))), ("flatten", Flatten())]
    for position, features in enumerate(HIDDEN):
        layers += [(f"classifier.{3 * position}", Linear(features)),
                   (f"classifier.{3 * position + 1}", Activation("relu")),
                   (f"classifier.{3 * position + 2}", Dropout(0.5))]
    classifier(builder, num_classes, f"classifier.{3 * len(HIDDEN)}", tuple(layers))
    return builder.build("vgg16", source=SOURCE,
                         description="VGG-16: 13 3x3 convolutions and 3 fully connected layers (configuration D)")


ENTRIES = (
    ModelEntry("vgg16", vgg16,
               "VGG-16 (configuration D, no BatchNorm), 1000 classes; torchvision's vgg16 (adaptive 7x7 pool)",
               "Simonyan & Zisserman 2014 (arXiv:1409.1556), Table 1 D; torchvision models/vgg.py",
               accepts_alpha=False),
)
