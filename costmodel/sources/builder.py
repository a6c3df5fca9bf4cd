"""Building networks: a small appender for execution-ordered nodes, and the layer groups the papers reuse.

``GraphBuilder`` is the only mutable thing on the way to a ``Network``; ``build`` freezes what it collected.
"""
from __future__ import annotations

from typing import Iterable

from ..core.ir import INPUT, Network, Node, Op
from ..ops import (Activation, Add, BatchNorm, Conv2d, Flatten, GlobalAvgPool, LayerNorm, Linear, MatMul, Multiply,
                  Permute, Scale, ScaledDotProductAttention, Select, Softmax, Transpose, Unflatten, same_padding)
from ..core.scaling import ChannelsOf, Expanded, Scaled, Squeezed, Width


class GraphBuilder:
    """Collects nodes in execution order. ``add`` returns the new node's name, to be used as a later input; a node
    added without inputs reads the previous node (or the network input, for the first)."""

    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self.names: set[str] = set()
        self.last = INPUT

    def add(self, name: str, op: Op, inputs: "str | Iterable[str] | None" = None) -> str:
        """Append a node.

        :param name: the node's name (unique in the network).
        :param op: the node's op.
        :param inputs: the names of the nodes it reads; None reads the previous node (or the network input, for the
            first).
        :returns: the new node's name, to be used as a later input."""
        if inputs is None:
            refs: tuple[str, ...] = (self.last,)
        elif isinstance(inputs, str):
            refs = (inputs,)
        else:
            refs = tuple(inputs)
        self._nodes.append(Node(name, op, refs))
        self.names.add(name)
        self.last = name
        return name

    @property
    def nodes(self) -> list[Node]:
        """The nodes added so far, in order."""
        return self._nodes

    def build(self, name: str, **network_fields: object) -> Network:
        """The network of the nodes added, frozen.

        :param name: the network's name.
        :param network_fields: any other field of ``Network`` (``base_resolution``, ``source``, ``description``...).
        :returns: the ``Network``."""
        return Network(name=name, nodes=tuple(self._nodes), **network_fields)  # type: ignore[arg-type]


def conv_bn_act(builder: GraphBuilder, prefix: str, out: "Width | int | None", kernel: "int | tuple[int, int]" = 3,
                stride: int = 1, groups: "int | str" = 1, activation: str | None = "relu", x: str | None = None,
                bias: bool = False, names: "tuple[str, str | None, str | None] | None" = None,
                padding: "int | tuple[int, int] | str | None" = None, bn: bool = True) -> str:
    """A convolution, BatchNorm (unless ``bn`` is False: the biased convolutions of VGG-era networks), and
    ``activation`` (unless it is None): the unit nearly every network of the zoo is made of.

    ``padding`` defaults to the symmetric "same"-size padding of the kernel (``ops.conv.same_padding``); it may be
    an int, an (h, w) pair, ``"same"`` or ``"valid"``. The nodes are ``prefix.conv``, ``prefix.bn``,
    ``prefix.<activation>``, or ``prefix.<name>`` for ``names`` (torchvision's ``Conv2dNormActivation`` numbers them
    ``0``, ``1``, ``2``; a name of None leaves that node out); with an empty ``prefix`` the names are whole node
    names. Returns the last node."""
    conv_name, bn_name, act_name = names or ("conv", "bn", activation or "")
    kernels = kernel if isinstance(kernel, tuple) else (kernel, kernel)
    if padding is None:
        padding = (same_padding(kernels[0]), same_padding(kernels[1]))
    path = (lambda name: f"{prefix}.{name}") if prefix else (lambda name: name)
    builder.add(path(conv_name), Conv2d(out_channels=out, kernel=kernel, stride=stride, padding=padding,
                                        groups=groups, bias=bias), x)
    last = builder.last
    if bn and bn_name is not None:
        last = builder.add(path(bn_name), BatchNorm())
    if activation is not None and act_name is not None:
        last = builder.add(path(act_name), Activation(activation))
    return last


def pooled(pool: str = "avgpool", *after: "tuple[str, Op]") -> tuple[tuple[str, Op], ...]:
    """The usual start of a classifier: a global average pool named ``pool``, a flatten, then ``after``."""
    return ((pool, GlobalAvgPool()), ("flatten", Flatten()), *after)


def classifier(builder: GraphBuilder, num_classes: int, fc: str = "fc",
               layers: "tuple[tuple[str, Op], ...] | None" = None, bias: bool = True, x: str | None = None) -> str:
    """The classifier head: ``layers`` in order (pooling, flatten, hidden layers, dropout; default ``pooled()``),
    then the fully connected layer ``fc`` to ``num_classes`` outputs, the one layer ``num_classes`` changes.
    Returns ``fc``."""
    last = x
    for name, op in pooled() if layers is None else layers:
        last = builder.add(name, op, last)
    return builder.add(fc, Linear(Scaled(num_classes), bias=bias), last)


def norm_act(builder: GraphBuilder, prefix: str, bn: bool = True, activation: str | None = "relu") -> str:
    """BatchNorm (``prefix.bn``) when ``bn``, then ``activation`` (``prefix.<activation>``) unless it is None, after
    the last node. Returns the last node."""
    last = builder.last
    if bn:
        last = builder.add(f"{prefix}.bn", BatchNorm())
    if activation:
        last = builder.add(f"{prefix}.{activation}", Activation(activation))
    return last


TORCHVISION = ("0", "1", "2")
TIMM = ("conv", "bn", "bn.act")           # timm's ConvNormAct: the activation lives inside BatchNormAct2d


def squeeze_excite(builder: GraphBuilder, prefix: str, x: str) -> str:
    """Squeeze-and-excite on ``x`` (C channels), as torchvision's ``ops.SqueezeExcitation`` with a hard-sigmoid
    gate (MobileNetV3): ``x * hsigmoid(fc2(relu(fc1(pool(x)))))``, fc1 a 1x1 to ``make_divisible(C // 4, 8)``, fc2
    a 1x1 back to C, both with bias. Returns the scaled map."""
    builder.add(f"{prefix}.avgpool", GlobalAvgPool(), x)
    builder.add(f"{prefix}.fc1", Conv2d(Squeezed(4, 8), kernel=1, bias=True))
    builder.add(f"{prefix}.activation", Activation("relu"))
    builder.add(f"{prefix}.fc2", Conv2d(ChannelsOf(x), kernel=1, bias=True))
    gate = builder.add(f"{prefix}.scale_activation", Activation("hsigmoid"))
    return builder.add(f"{prefix}.mul", Multiply(), (x, gate))


def inverted_residual(builder: GraphBuilder, prefix: str, x: str, out: Width, expansion: "Width | None",
                      kernel: int = 3, stride: int = 1, activation: str = "relu6", se: bool = False,
                      container: str = "conv", nested_projection: bool = False, residual: bool = True) -> str:
    """The inverted residual with a linear bottleneck (MobileNetV2, Table 1; MobileNetV3's bneck): a 1x1
    expansion to ``expansion`` + BN + activation (none when ``expansion`` is None), a k x k depthwise with the
    stride + BN + activation, squeeze-and-excite if ``se``, and a linear 1x1 projection to ``out`` + BN. With
    ``residual``, a stride-1 block ends in an add that applies when the rounded input and output widths match.

    Names follow torchvision: ``prefix.<container>.<i>`` numbers the parts (``conv`` in MobileNetV2, ``block`` in
    V3); V3 nests the projection's conv and BN (``.<i>.0``, ``.<i>.1``), V2 does not (``.<i>``, ``.<i + 1>``)."""
    index, last = 0, x
    if expansion is not None:
        last = conv_bn_act(builder, f"{prefix}.{container}.0", expansion, kernel=1, activation=activation,
                           x=last, names=TORCHVISION)
        index = 1
    last = conv_bn_act(builder, f"{prefix}.{container}.{index}", None, kernel=kernel, stride=stride,
                       groups="depthwise", activation=activation, x=last, names=TORCHVISION)
    index += 1
    if se:
        last = squeeze_excite(builder, f"{prefix}.{container}.{index}", last)
        index += 1
    conv_name, bn_name = ((f"{index}.0", f"{index}.1") if nested_projection else (f"{index}", f"{index + 1}"))
    builder.add(f"{prefix}.{container}.{conv_name}", Conv2d(out, kernel=1), last)
    last = builder.add(f"{prefix}.{container}.{bn_name}", BatchNorm())
    if residual and stride == 1:
        last = builder.add(f"{prefix}.add", Add(if_shapes_match=True), (x, last))
    return last


def attention(builder: GraphBuilder, prefix: str, x: str, heads: int, lead: int = 1, explicit: bool = False,
              qkv_bias: bool = True) -> str:
    """Multi-head self-attention as timm's ``Attention`` (ViT, DeiT, MobileViT) computes it, on tokens of C
    channels with ``lead`` leading axes (1: N x L x C; 2: MobileViT's N x P x L x C): ``qkv`` a linear to 3C, the
    result split into (3, heads, C / heads) and permuted to (3, heads, L, head_dim), q, k and v taken apart,
    softmax(q k^T / sqrt(head_dim)) v (``F.scaled_dot_product_attention``, or with ``explicit`` the matmul form:
    q scaled, q @ k^T, softmax, @ v), the heads transposed and merged, and ``proj`` a linear back to C. The
    functional steps are named after what they do (``attn.reshape``, ``attn.sdpa``). Returns ``proj``."""
    k = lead
    builder.add(f"{prefix}.qkv", Linear(Expanded(3), bias=qkv_bias), x)
    builder.add(f"{prefix}.reshape", Unflatten(-1, (3, heads, -1)))
    split = builder.add(f"{prefix}.permute", Permute((*range(k), k + 1, k + 2, k, k + 3)))
    q, key, v = (builder.add(f"{prefix}.{part}", Select(k, index), split) for index, part in enumerate("qkv"))
    if explicit:
        scaled = builder.add(f"{prefix}.scale", Scale(), q)
        key_t = builder.add(f"{prefix}.k_t", Transpose(-2, -1), key)
        builder.add(f"{prefix}.scores", MatMul(), (scaled, key_t))
        weights = builder.add(f"{prefix}.softmax", Softmax(-1))
        builder.add(f"{prefix}.weighted", MatMul(), (weights, v))
    else:
        builder.add(f"{prefix}.sdpa", ScaledDotProductAttention(), (q, key, v))
    builder.add(f"{prefix}.transpose", Transpose(k, k + 1))
    builder.add(f"{prefix}.merge", Flatten(k + 1))
    return builder.add(f"{prefix}.proj", Linear(ChannelsOf(x)))


def mlp(builder: GraphBuilder, prefix: str, x: str, ratio: float, activation: str = "gelu") -> str:
    """timm's ``Mlp``: ``fc1`` a linear to ``ratio`` x C, the activation (``act``), ``fc2`` back to C."""
    builder.add(f"{prefix}.fc1", Linear(Expanded(ratio)), x)
    builder.add(f"{prefix}.act", Activation(activation))
    return builder.add(f"{prefix}.fc2", Linear(ChannelsOf(x)))


def transformer_block(builder: GraphBuilder, prefix: str, x: str, heads: int, mlp_ratio: float = 4.0,
                      activation: str = "gelu", lead: int = 1, explicit: bool = False) -> str:
    """timm's pre-norm transformer ``Block`` (ViT, Dosovitskiy et al. 2021, eq. 2-3): ``x + attn(norm1(x))``, then
    ``x + mlp(norm2(x))``; the adds are ``add1`` and ``add2``. Returns the second add."""
    builder.add(f"{prefix}.norm1", LayerNorm(), x)
    branch = attention(builder, f"{prefix}.attn", builder.last, heads, lead, explicit)
    mid = builder.add(f"{prefix}.add1", Add(), (x, branch))
    builder.add(f"{prefix}.norm2", LayerNorm(), mid)
    branch = mlp(builder, f"{prefix}.mlp", builder.last, mlp_ratio, activation)
    return builder.add(f"{prefix}.add2", Add(), (mid, branch))
