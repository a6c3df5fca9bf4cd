"""AlexNet, in its two common forms: torchvision's one-GPU network (default) and the original two-GPU network.

``variant="one_gpu"`` (default): A. Krizhevsky, "One weird trick for parallelizing convolutional neural networks",
arXiv:1404.5997 (2014), layer for layer as torchvision's ``models/alexnet.py``: 64/192/384/256/256 filters, no
groups, conv1 11x11 stride 4 padding 2 on a 224 x 224 input, 3x3 stride-2 max pools, no LRN. torchvision's
``AdaptiveAvgPool2d((6, 6))`` is an identity at 224 (the last map is 256 x 6 x 6) and is omitted. Node names are
torchvision's (``features.0`` ... ``features.12``, ``classifier.0`` ... ``classifier.6``).

``variant="original"``: A. Krizhevsky, I. Sutskever, G. E. Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NIPS 2012, Section 3.5 and Figure 2, as the Caffe reference model encodes it
(BVLC/caffe ``models/bvlc_alexnet/deploy.prototxt`` and ``train_val.prototxt``): 96/256/384/384/256 filters;
conv1 11x11 stride 4 with no padding on a 227 x 227 input (the paper's "224 x 224" does not give its 55 x 55 maps;
227 does); conv2 (5x5, padding 2), conv4 and conv5 (3x3, padding 1) split in 2 groups, as the two GPUs each saw half
of the previous layer's maps ("group: 2" in the prototxt); conv3 reads all maps of conv2 (no group); 3x3 stride-2
max pools after conv1, conv2 and conv5; FC-4096, FC-4096, FC-1000. Node names are the prototxt's layer names
(``conv1``, ``relu1``, ``pool1``, ... ``fc8``). The local response normalisation after conv1 and conv2 (``norm1``,
``norm2``) is omitted: the IR has no LRN op, and it has no parameters and no mult-adds (it costs a few element-wise
operations per output, which the FLOP conventions here would not count either).

Both: every convolution and fully connected layer has a bias and is followed by ReLU; dropout 0.5 in the classifier;
the soft-max has no parameters and is not counted. Convolutions cost ``D_K^2 (M/g) N D_F^2`` mult-adds. The input
size is fixed (the classifier reads a flattened 256 x 6 x 6 map), and there is no width multiplier.
"""
from __future__ import annotations

from typing import Callable

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network, Op
from ...ops import Activation, Dropout, Flatten, Linear, Pool2d
from .entry import ModelEntry, ModelOption

VARIANTS = ("one_gpu", "original")

# (name, kind, kernel, stride, padding, output channels, groups); kinds: conv, pool (3x3 / 2 max pool).
ONE_GPU = (                                    # Krizhevsky 2014 / torchvision, 224 x 224 input
    ("features.0", "conv", 11, 4, 2, 64, 1),   # -> 64 x 55 x 55
    ("features.2", "pool", 3, 2, 0, None, 1),  # -> 27 x 27
    ("features.3", "conv", 5, 1, 2, 192, 1),
    ("features.5", "pool", 3, 2, 0, None, 1),  # -> 13 x 13
    ("features.6", "conv", 3, 1, 1, 384, 1),
    ("features.8", "conv", 3, 1, 1, 256, 1),
    ("features.10", "conv", 3, 1, 1, 256, 1),
    ("features.12", "pool", 3, 2, 0, None, 1), # -> 256 x 6 x 6
)
ORIGINAL = (                                   # Krizhevsky et al. 2012 / Caffe bvlc_alexnet, 227 x 227 input
    ("conv1", "conv", 11, 4, 0, 96, 1),        # -> 96 x 55 x 55  (LRN norm1 omitted)
    ("pool1", "pool", 3, 2, 0, None, 1),       # -> 27 x 27
    ("conv2", "conv", 5, 1, 2, 256, 2),        # 2 groups         (LRN norm2 omitted)
    ("pool2", "pool", 3, 2, 0, None, 1),       # -> 13 x 13
    ("conv3", "conv", 3, 1, 1, 384, 1),        # reads both halves
    ("conv4", "conv", 3, 1, 1, 384, 2),        # 2 groups
    ("conv5", "conv", 3, 1, 1, 256, 2),        # 2 groups
    ("pool5", "pool", 3, 2, 0, None, 1),       # -> 256 x 6 x 6
)
HIDDEN = (4096, 4096)           # then FC-classes (FC-1000)


def _torchvision_name(name: str, offset: int) -> str:
    """``features.3`` with ``offset`` 1 is ``features.4``: the ReLU right after a torchvision layer."""
    prefix, index = name.rsplit(".", 1)
    return f"{prefix}.{int(index) + offset}"


def _features(builder: GraphBuilder, rows: tuple, relu_name: Callable[[str], str]) -> None:
    """The convolutions (each with a bias and a ReLU named ``relu_name(conv)``) and max pools of ``rows``."""
    for name, kind, kernel, stride, padding, out, groups in rows:
        if kind == "pool":
            builder.add(name, Pool2d("max", kernel=kernel, stride=stride))
        else:
            conv_bn_act(builder, "", out, kernel=kernel, stride=stride, padding=padding, groups=groups, bias=True,
                        bn=False, names=(name, None, relu_name(name)))


def _one_gpu(num_classes: int) -> Network:
    builder = GraphBuilder()
    _features(builder, ONE_GPU, lambda name: _torchvision_name(name, 1))
    layers: list[tuple[str, Op]] = [("flatten", Flatten())]
    for position, features in enumerate(HIDDEN):      # torchvision: Dropout, Linear, ReLU, twice
        layers += [(f"classifier.{3 * position}", Dropout(0.5)), (f"classifier.{3 * position + 1}", Linear(features)),
                   (f"classifier.{3 * position + 2}", Activation("relu"))]
    classifier(builder, num_classes, "classifier.6", tuple(layers))
    return builder.build("alexnet", source="Krizhevsky 2014, arXiv:1404.5997; torchvision models/alexnet.py",
                         description="AlexNet, one-GPU variant (torchvision): 5 convolutions, 3 fully connected")


def _original(num_classes: int) -> Network:
    builder = GraphBuilder()
    _features(builder, ORIGINAL, lambda name: name.replace("conv", "relu"))
    layers: list[tuple[str, Op]] = [("flatten", Flatten())]
    for layer, features in zip((6, 7), HIDDEN):       # Caffe: fc, relu, drop, twice
        layers += [(f"fc{layer}", Linear(features)), (f"relu{layer}", Activation("relu")),
                   (f"drop{layer}", Dropout(0.5))]
    classifier(builder, num_classes, "fc8", tuple(layers))
    return builder.build("alexnet", base_resolution=(227, 227),
                         source="Krizhevsky et al. 2012 (NIPS), Section 3.5; Caffe bvlc_alexnet deploy.prototxt",
                         description="AlexNet, original two-GPU variant: conv2/4/5 in 2 groups, 227x227 input")


def alexnet(variant: str = "one_gpu", num_classes: int = 1000) -> Network:
    """AlexNet: torchvision's one-GPU network (default) or the original two-GPU network (``variant="original"``)."""
    return _original(num_classes) if variant == "original" else _one_gpu(num_classes)


ENTRIES = (
    ModelEntry("alexnet", alexnet,
               "AlexNet, default variant one_gpu (torchvision, 224x224); original: 2012 two-GPU net "
               "(96/256/384/384/256, grouped conv2/4/5, 227x227); fixed resolution, LRN omitted",
               "Krizhevsky 2014 (arXiv:1404.5997), torchvision models/alexnet.py; Krizhevsky et al. 2012, "
               "Caffe bvlc_alexnet",
               accepts_alpha=False, accepts_resolution=False,
               options=(ModelOption("variant", str, "one_gpu", VARIANTS,
                                    help="one_gpu: torchvision's (One weird trick); original: Krizhevsky et al. 2012 "
                                         "as in Caffe's bvlc_alexnet"),)),
)
