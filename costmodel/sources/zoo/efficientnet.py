"""EfficientNet-B0 to B3: MBConv blocks with squeeze-and-excite and SiLU, scaled in width, depth and resolution.

Source: M. Tan and Q. V. Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
arXiv:1905.11946, Table 1 (the B0 network) and Section 3.3 (compound scaling: depth d = alpha^phi, width w =
beta^phi, resolution r = gamma^phi); the reference code's ``efficientnet_params`` gives (width, depth, resolution):
B0 (1.0, 1.0, 224), B1 (1.0, 1.1, 240), B2 (1.1, 1.2, 260), B3 (1.2, 1.4, 300). Layer for layer as timm's
``efficientnet.py`` / ``_efficientnet_blocks.py`` (``efficientnet_b0``; node names are its module paths, timm's
``BatchNormAct2d`` holding its activation at ``bn<i>.act``):

- ``conv_stem`` 3x3 stride 2 to 32, ``bn1`` + SiLU;
- the stages of Table 1, one row each ``(block, repeats, kernel, stride, expansion, channels)``: a depthwise
  separable block (``conv_dw``, ``bn1`` + SiLU, ``se``, ``conv_pw``, ``bn2``) for the first, MBConv blocks for the
  rest (``conv_pw`` to ``make_divisible(in x e, 8)``, ``bn1`` + SiLU, ``conv_dw`` with the stride, ``bn2`` + SiLU,
  ``se``, ``conv_pwl``, ``bn3``); an ``add`` where the stride is 1 and the widths match;
- ``se``: the mean of the map (``x.mean``, which fvcore does not count), ``conv_reduce`` to ``round(in x 0.25)``
  of the block's input width (so ``round(mid x 0.25 / e)``) with bias, SiLU, ``conv_expand`` back, a sigmoid
  ``gate``, and the multiply;
- ``conv_head`` 1x1 to 1280, ``bn2`` + SiLU, ``global_pool``, ``classifier``.

Widths are ``make_divisible(c x w x alpha, 8)``; a stage of n blocks has ``ceil(d x depth x n)`` (the reference
code's ``round_repeats``). ``efficientnet_b1`` .. ``b3`` are ``efficientnet_b0`` at their (w, d, r): B2 counts what
``efficientnet_b0 --alpha 1.1 --depth 1.2 --resolution 260`` counts.
"""
from __future__ import annotations

from ..builder import GraphBuilder, classifier, conv_bn_act
from ...core.ir import Network
from ...ops import Activation, Add, Conv2d, Flatten, GlobalAvgPool, Mean, Multiply
from ...core.scaling import ChannelsOf, Expanded, Scaled, Width, scaled_repeats
from .entry import ModelEntry

SOURCE = "Tan & Le 2019 (arXiv:1905.11946), Table 1; timm efficientnet.py"

# Table 1 (EfficientNet-B0): (block, repeats, kernel, stride, expansion, channels, squeeze-excite ratio).
B0 = (
    ("ds", 1, 3, 1, 1, 16, 0.25),
    ("ir", 2, 3, 2, 6, 24, 0.25),
    ("ir", 2, 5, 2, 6, 40, 0.25),
    ("ir", 3, 3, 2, 6, 80, 0.25),
    ("ir", 3, 5, 1, 6, 112, 0.25),
    ("ir", 4, 5, 2, 6, 192, 0.25),
    ("ir", 1, 3, 1, 6, 320, 0.25),
)
# The reference code's efficientnet_params: width, depth, resolution.
SCALING = {"efficientnet_b0": (1.0, 1.0, 224), "efficientnet_b1": (1.0, 1.1, 240),
           "efficientnet_b2": (1.1, 1.2, 260), "efficientnet_b3": (1.2, 1.4, 300)}


def squeeze_excite(builder: GraphBuilder, prefix: str, x: str, reduced: Width, activation: str,
                   gate: str = "sigmoid") -> str:
    """timm's ``SqueezeExcite``: ``x * gate(conv_expand(act1(conv_reduce(x.mean((2, 3))))))``, both 1x1
    convolutions with bias; the functional steps are ``mean`` and ``mul``."""
    builder.add(f"{prefix}.mean", Mean((2, 3), keepdim=True), x)
    builder.add(f"{prefix}.conv_reduce", Conv2d(reduced, kernel=1, bias=True))
    builder.add(f"{prefix}.act1", Activation(activation))
    builder.add(f"{prefix}.conv_expand", Conv2d(ChannelsOf(x), kernel=1, bias=True))
    scale = builder.add(f"{prefix}.gate", Activation(gate))
    return builder.add(f"{prefix}.mul", Multiply(), (x, scale))


def _conv(builder: GraphBuilder, prefix: str, name: str, bn: int, out: "Width | None", kernel: int, stride: int = 1,
          groups: "int | str" = 1, activation: "str | None" = None, x: "str | None" = None) -> str:
    """A convolution ``prefix.name`` and its ``prefix.bn<bn>`` (+ ``.act``), timm's conv / BatchNormAct2d pair."""
    return conv_bn_act(builder, prefix, out, kernel=kernel, stride=stride, groups=groups, activation=activation,
                       x=x, names=(name, f"bn{bn}", f"bn{bn}.act" if activation else None))


def depthwise_separable(builder: GraphBuilder, prefix: str, x: str, out: Width, kernel: int, stride: int,
                        se: float, activation: str, skip: bool = True) -> str:
    """timm's ``DepthwiseSeparableConv``: conv_dw + bn1 + act, se (of the input width), conv_pw + bn2."""
    last = _conv(builder, prefix, "conv_dw", 1, None, kernel, stride, "depthwise", activation, x)
    if se:
        last = squeeze_excite(builder, f"{prefix}.se", last, Expanded(se), activation)
    last = _conv(builder, prefix, "conv_pw", 2, out, 1, x=last)
    if skip and stride == 1:
        last = builder.add(f"{prefix}.add", Add(if_shapes_match=True), (x, last))
    return last


def inverted_residual(builder: GraphBuilder, prefix: str, x: str, out: Width, kernel: int, stride: int,
                      expansion: float, se: float, activation: str) -> str:
    """timm's ``InvertedResidual`` (MBConv): conv_pw to ``make_divisible(in x e, 8)`` + bn1 + act, conv_dw + bn2
    + act, se (reduced to ``round(mid x se / e)``), conv_pwl + bn3, and the residual."""
    _conv(builder, prefix, "conv_pw", 1, Expanded(expansion, 8), 1, activation=activation, x=x)
    last = _conv(builder, prefix, "conv_dw", 2, None, kernel, stride, "depthwise", activation)
    if se:
        last = squeeze_excite(builder, f"{prefix}.se", last, Expanded(se / expansion), activation)
    last = _conv(builder, prefix, "conv_pwl", 3, out, 1, x=last)
    if stride == 1:
        last = builder.add(f"{prefix}.add", Add(if_shapes_match=True), (x, last))
    return last


def efficientnet_family(name: str, table: tuple, activation: str, width: float, depth: float, head: Width,
                        num_classes: int, description: str, source: str, resolution: int = 224,
                        noskip_first: bool = False, base_depth: float = 1.0) -> Network:
    """A timm ``EfficientNet`` of ``table``'s stages: stem, blocks, head, classifier; a stage of n blocks has
    ``ceil(base_depth x depth x n)`` (the network records ``depth``, the multiplier asked for)."""
    def channels(c: int) -> Scaled:
        return Scaled(c, "make_divisible", factor=width)

    builder = GraphBuilder()
    x = _conv(builder, "", "conv_stem", 1, channels(32), 3, 2, activation=activation)
    for stage, (block, repeats, kernel, stride, expansion, out, se) in enumerate(table):
        for index in range(scaled_repeats(repeats, base_depth * depth)):
            prefix, step = f"blocks.{stage}.{index}", stride if index == 0 else 1
            if block == "ds":
                x = depthwise_separable(builder, prefix, x, channels(out), kernel, step, se, activation,
                                        skip=not (noskip_first and stage == 0))
            else:
                x = inverted_residual(builder, prefix, x, channels(out), kernel, step, expansion, se, activation)
    _conv(builder, "", "conv_head", 2, head, 1, activation=activation, x=x)
    classifier(builder, num_classes, "classifier", (("global_pool.pool", GlobalAvgPool()),
                                                    ("global_pool.flatten", Flatten())))
    return builder.build(name, base_resolution=resolution, source=source, description=description, depth=depth)


def efficientnet(name: str, num_classes: int = 1000, depth: float = 1.0) -> Network:
    """EfficientNet ``name`` (B0 .. B3): B0's table at the reference code's (width, depth, resolution)."""
    width, base_depth, resolution = SCALING[name]
    label = name.split("_")[1].upper()
    return efficientnet_family(
        name, B0, "silu", width, depth, Scaled(1280, "make_divisible", factor=width), num_classes,
        f"EfficientNet-{label}: B0 (Table 1) at width {width:g}, depth {base_depth:g}, {resolution}x{resolution}",
        SOURCE, resolution, base_depth=base_depth)


def _entry(name: str) -> ModelEntry:
    width, depth, resolution = SCALING[name]
    return ModelEntry(name, lambda num_classes=1000, depth=1.0: efficientnet(name, num_classes, depth),
                      f"EfficientNet-{name[-2:].upper()}: MBConv + SE + SiLU; B0 at width {width:g}, depth "
                      f"{depth:g}, {resolution}x{resolution} (alpha and --depth multiply these)",
                      SOURCE, accepts_depth=True, published_depth=True)


ENTRIES = tuple(_entry(name) for name in SCALING)
