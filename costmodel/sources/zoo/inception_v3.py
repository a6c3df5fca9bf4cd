"""Inception v3 at 299 x 299, as torchvision builds it, optionally with its auxiliary classifier.

Source: C. Szegedy, V. Vanhoucke, S. Ioffe, J. Shlens, Z. Wojna, "Rethinking the Inception Architecture for
Computer Vision", arXiv:1512.00567 (2015), Table 1, with the modules of Figures 5 (35 x 35, the 5x5 factorised into
two 3x3), 6 (17 x 17, n x n factorised into 1 x n and n x 1, n = 7), 7 (8 x 8, expanded 1x3 / 3x1 outputs) and 10
(grid reduction: stride-2 convolutions beside a stride-2 pool).

Layer for layer as torchvision's ``models/inception.py`` (``Inception3``, which ports Google's TensorFlow weights).
Every convolution is ``BasicConv2d``: no bias, ``BatchNorm2d(eps=0.001)``, ReLU. The stem differs from the paper's
Table 1 the way every implementation does: after the three 3x3 convolutions and the 3x3/2 max pool come a 1x1
convolution to 80 and a valid 3x3 convolution to 192 (Table 1 prints "conv 3x3/1 73x73x64 -> 71x71x80" and
"conv 3x3/2 71x71x80 -> 35x35x192"), then a 3x3/2 max pool to 35 x 35 x 192. The 35 x 35 modules keep a 5x5
branch (``branch5x5_2``) beside the double 3x3 one. Head: global average pool (torchvision's
``AdaptiveAvgPool2d((1, 1))``, 8 x 8 at 299), dropout 0.5, a 1000-way linear layer. ``transform_input`` (an
element-wise rescaling of the input) is not part of the network.

``aux_logits=True`` adds the auxiliary classifier (``AuxLogits``, an ``InceptionAux``) where torchvision runs it:
right after ``Mixed_6e``, reading its 768 x 17 x 17 output: a 5x5/3 average pool, a 1x1 convolution to 128, a 5x5
convolution to 768 (to 1 x 1), a global average pool and a linear layer to 1000. It is a side branch: ``Mixed_7a``
still reads ``Mixed_6e``, and the network's output stays the main ``fc``. torchvision's published parameter count
(27,161,264) includes this head, because its pretrained model is built with ``aux_logits=True``; the published
operation count (5.713 G) is an inference pass, which never runs it.

Node names are torchvision's module paths (``Conv2d_1a_3x3.conv``, ``Mixed_5b.branch5x5_2.bn``,
``AuxLogits.conv1.relu``, ``fc``); the functional pools and concatenations inside a module are
``<module>.avg_pool``, ``<module>.max_pool``, ``<module>.cat`` (and ``Mixed_7b.branch3x3_cat``,
``Mixed_7b.branch3x3dbl_cat`` for the expanded outputs). The network ends in a global pool, so other input sizes
are accepted down to torchvision's minimum of 75 x 75 (with the auxiliary head, the 5x5 convolution needs a 5 x 5
map after its pool). There is no width multiplier.
"""
from __future__ import annotations

from typing import Any, Callable, Union

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network
from ...ops import Concat, Dropout, Flatten, GlobalAvgPool, Pool2d
from .entry import ModelEntry, ModelOption

SOURCE = "Szegedy et al. 2015, arXiv:1512.00567, Table 1 and Figures 5-7, 10; torchvision models/inception.py"

Kernel = Union[int, tuple[int, int]]

# The stem, one row per layer: (name, kind, output channels, kernel, stride, padding).
STEM: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("Conv2d_1a_3x3", "conv", 32, 3, 2, 0),    # 299 x 299 x 3   -> 149 x 149 x 32
    ("Conv2d_2a_3x3", "conv", 32, 3, 1, 0),    #                 -> 147 x 147 x 32
    ("Conv2d_2b_3x3", "conv", 64, 3, 1, 1),    # conv padded     -> 147 x 147 x 64
    ("maxpool1", "max", None, 3, 2, 0),        # pool 3x3/2      -> 73 x 73 x 64
    ("Conv2d_3b_1x1", "conv", 80, 1, 1, 0),    #                 -> 73 x 73 x 80
    ("Conv2d_4a_3x3", "conv", 192, 3, 1, 0),   #                 -> 71 x 71 x 192
    ("maxpool2", "max", None, 3, 2, 0),        # pool 3x3/2      -> 35 x 35 x 192
)
# The modules, one row each: (name, type, argument). Types: A = Figure 5 (argument: pool_features),
# B = grid reduction 35 -> 17, C = Figure 6 (argument: channels_7x7), D = grid reduction 17 -> 8, E = Figure 7.
MODULES: tuple[tuple[Any, ...], ...] = (   # the paper's rows, None where it prints none
    ("Mixed_5b", "A", 32),     # 3 x Inception (Figure 5)     35 x 35 x 256
    ("Mixed_5c", "A", 64),     #                              35 x 35 x 288
    ("Mixed_5d", "A", 64),     #                              35 x 35 x 288
    ("Mixed_6a", "B", None),   # grid reduction (Figure 10)   17 x 17 x 768
    ("Mixed_6b", "C", 128),    # 5 x Inception (Figure 6)     17 x 17 x 768
    ("Mixed_6c", "C", 160),
    ("Mixed_6d", "C", 160),
    ("Mixed_6e", "C", 192),    # (AuxLogits reads this output)
    ("Mixed_7a", "D", None),   # grid reduction               8 x 8 x 1280
    ("Mixed_7b", "E", None),   # 2 x Inception (Figure 7)     8 x 8 x 2048
    ("Mixed_7c", "E", None),
)                              # pool 8x8, linear, softmax: the head


def _conv(builder: GraphBuilder, prefix: str, out: int, kernel: Kernel, stride: int = 1,
          padding: Kernel = 0, x: str | None = None) -> str:
    """torchvision's ``BasicConv2d``: ``prefix.conv`` (no bias), ``prefix.bn``, ``prefix.relu``; unpadded unless
    ``padding`` says otherwise."""
    return conv_bn_act(builder, prefix, out, kernel=kernel, stride=stride, padding=padding, x=x)


def _inception_a(b: GraphBuilder, name: str, pool_features: int) -> list[str]:
    x = b.last
    branch1x1 = _conv(b, f"{name}.branch1x1", 64, 1, x=x)
    _conv(b, f"{name}.branch5x5_1", 48, 1, x=x)
    branch5x5 = _conv(b, f"{name}.branch5x5_2", 64, 5, padding=2)
    _conv(b, f"{name}.branch3x3dbl_1", 64, 1, x=x)
    _conv(b, f"{name}.branch3x3dbl_2", 96, 3, padding=1)
    branch3x3dbl = _conv(b, f"{name}.branch3x3dbl_3", 96, 3, padding=1)
    b.add(f"{name}.avg_pool", Pool2d("avg", kernel=3, stride=1, padding=(1, 1)), x)
    branch_pool = _conv(b, f"{name}.branch_pool", pool_features, 1)
    return [branch1x1, branch5x5, branch3x3dbl, branch_pool]


def _inception_b(b: GraphBuilder, name: str, _: None) -> list[str]:
    x = b.last
    branch3x3 = _conv(b, f"{name}.branch3x3", 384, 3, stride=2, x=x)
    _conv(b, f"{name}.branch3x3dbl_1", 64, 1, x=x)
    _conv(b, f"{name}.branch3x3dbl_2", 96, 3, padding=1)
    branch3x3dbl = _conv(b, f"{name}.branch3x3dbl_3", 96, 3, stride=2)
    branch_pool = b.add(f"{name}.max_pool", Pool2d("max", kernel=3, stride=2), x)
    return [branch3x3, branch3x3dbl, branch_pool]


def _inception_c(b: GraphBuilder, name: str, c7: int) -> list[str]:
    x = b.last
    branch1x1 = _conv(b, f"{name}.branch1x1", 192, 1, x=x)
    _conv(b, f"{name}.branch7x7_1", c7, 1, x=x)
    _conv(b, f"{name}.branch7x7_2", c7, (1, 7), padding=(0, 3))
    branch7x7 = _conv(b, f"{name}.branch7x7_3", 192, (7, 1), padding=(3, 0))
    _conv(b, f"{name}.branch7x7dbl_1", c7, 1, x=x)
    _conv(b, f"{name}.branch7x7dbl_2", c7, (7, 1), padding=(3, 0))
    _conv(b, f"{name}.branch7x7dbl_3", c7, (1, 7), padding=(0, 3))
    _conv(b, f"{name}.branch7x7dbl_4", c7, (7, 1), padding=(3, 0))
    branch7x7dbl = _conv(b, f"{name}.branch7x7dbl_5", 192, (1, 7), padding=(0, 3))
    b.add(f"{name}.avg_pool", Pool2d("avg", kernel=3, stride=1, padding=(1, 1)), x)
    branch_pool = _conv(b, f"{name}.branch_pool", 192, 1)
    return [branch1x1, branch7x7, branch7x7dbl, branch_pool]


def _inception_d(b: GraphBuilder, name: str, _: None) -> list[str]:
    x = b.last
    _conv(b, f"{name}.branch3x3_1", 192, 1, x=x)
    branch3x3 = _conv(b, f"{name}.branch3x3_2", 320, 3, stride=2)
    _conv(b, f"{name}.branch7x7x3_1", 192, 1, x=x)
    _conv(b, f"{name}.branch7x7x3_2", 192, (1, 7), padding=(0, 3))
    _conv(b, f"{name}.branch7x7x3_3", 192, (7, 1), padding=(3, 0))
    branch7x7x3 = _conv(b, f"{name}.branch7x7x3_4", 192, 3, stride=2)
    branch_pool = b.add(f"{name}.max_pool", Pool2d("max", kernel=3, stride=2), x)
    return [branch3x3, branch7x7x3, branch_pool]


def _inception_e(b: GraphBuilder, name: str, _: None) -> list[str]:
    x = b.last
    branch1x1 = _conv(b, f"{name}.branch1x1", 320, 1, x=x)
    reduced = _conv(b, f"{name}.branch3x3_1", 384, 1, x=x)
    left = _conv(b, f"{name}.branch3x3_2a", 384, (1, 3), padding=(0, 1))
    right = _conv(b, f"{name}.branch3x3_2b", 384, (3, 1), padding=(1, 0), x=reduced)
    branch3x3 = b.add(f"{name}.branch3x3_cat", Concat(), (left, right))
    _conv(b, f"{name}.branch3x3dbl_1", 448, 1, x=x)
    reduced = _conv(b, f"{name}.branch3x3dbl_2", 384, 3, padding=1)
    left = _conv(b, f"{name}.branch3x3dbl_3a", 384, (1, 3), padding=(0, 1))
    right = _conv(b, f"{name}.branch3x3dbl_3b", 384, (3, 1), padding=(1, 0), x=reduced)
    branch3x3dbl = b.add(f"{name}.branch3x3dbl_cat", Concat(), (left, right))
    b.add(f"{name}.avg_pool", Pool2d("avg", kernel=3, stride=1, padding=(1, 1)), x)
    branch_pool = _conv(b, f"{name}.branch_pool", 192, 1)
    return [branch1x1, branch3x3, branch3x3dbl, branch_pool]


BLOCKS: dict[str, Callable[..., list[str]]] = {     # (builder, name, the module's one argument, if any)
    "A": _inception_a, "B": _inception_b, "C": _inception_c, "D": _inception_d, "E": _inception_e}


def _aux_logits(b: GraphBuilder, x: str, num_classes: int) -> None:
    """torchvision's ``InceptionAux`` on ``Mixed_6e``'s output: a side branch nothing else reads."""
    b.add("AuxLogits.avg_pool", Pool2d("avg", kernel=5, stride=3), x)
    _conv(b, "AuxLogits.conv0", 128, 1)
    _conv(b, "AuxLogits.conv1", 768, 5)
    classifier(b, num_classes, "AuxLogits.fc", (("AuxLogits.adaptive_avg_pool", GlobalAvgPool()),
                                                ("AuxLogits.flatten", Flatten())))


def inception_v3(aux_logits: bool = False, num_classes: int = 1000) -> Network:
    """Inception v3 (torchvision's ``Inception3``) at 299 x 299; with ``aux_logits`` its auxiliary head too."""
    b = GraphBuilder()
    for name, kind, out, kernel, stride, padding in STEM:
        if kind == "max":
            b.add(name, Pool2d("max", kernel=kernel, stride=stride))
        else:
            _conv(b, name, out, kernel, stride, padding)
    for name, kind, argument in MODULES:
        branches = BLOCKS[kind](b, name, argument)
        concat = b.add(f"{name}.cat", Concat(), branches)
        if name == "Mixed_6e" and aux_logits:
            _aux_logits(b, concat, num_classes)
            b.last = concat
    classifier(b, num_classes, "fc", (("avgpool", GlobalAvgPool()), ("dropout", Dropout(0.5)),
                                      ("flatten", Flatten())))
    head = " with its auxiliary classifier" if aux_logits else ""
    return b.build("inception_v3", base_resolution=(299, 299), output="fc", source=SOURCE,
                   description=f"Inception v3 (torchvision's Inception3) at 299x299{head}")


ENTRIES = (
    ModelEntry("inception_v3", inception_v3,
               "Inception v3 at 299x299 (torchvision's Inception3, BN convs); default without the auxiliary "
               "classifier (aux_logits=true adds it as a side branch from Mixed_6e)",
               "Szegedy et al. 2015 (arXiv:1512.00567), Table 1; torchvision models/inception.py",
               accepts_alpha=False,
               options=(ModelOption("aux_logits", bool, False,
                                    help="add torchvision's AuxLogits head (a side branch; output stays fc)"),)),
)
