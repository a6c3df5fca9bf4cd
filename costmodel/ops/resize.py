"""Resizing a map: ``F.interpolate`` / ``nn.Upsample``, nearest or bilinear (``align_corners=False``).

The output size is the input's times integer ``scale`` factors, the size of the map of the node ``like``, a fixed
``size`` (an imported call to a size that is no whole multiple of the input's: GhostNetV3's gate), or the
input's rounded up to a ``multiple`` (MobileViT resizes a map whose sides are not whole numbers of patches, and
back after the fold). With ``if_needed`` the resize happens only where the size changes, as MobileViT's code checks:
elsewhere the node passes its input through and is not a layer of that analysis (like ``ops.Add``'s conditional
residual).

No parameters or mult-adds. costmodel counts nearest as a copy (0 FLOPs) and bilinear as two horizontal
interpolations and a vertical one per output element, 6 multiplies and 3 additions (9); fvcore's upsample handles
count 1 (nearest) and 4 (bilinear) per output element; FlopCounterMode counts none. Memory access: the input read,
the output written.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ..core.errors import CostModelError
from ..core.ir import Op, check_bool, pair_of
from ..core.shapes import NodeShapes, Shape, ShapeContext
from ..core.symbolic import both
from .common import costmodel_only, output_elements, read_write, zero
from .registry import Backward, Example, FieldReader, OpDef, SpecForm, register

MODES = {"nearest": 0, "bilinear": 9}           # costmodel's FLOPs per output element
FVCORE = {"nearest": 1, "bilinear": 4}          # fvcore's upsample_nearest2d / upsample_bilinear2d handles


@dataclass(frozen=True)
class Interpolate(Op):
    """Resize an N x C x H x W map by ``mode``; exactly one of ``scale`` (an (h, w) pair of integer factors),
    ``like`` (the node whose map size to take), ``multiple`` (round each side up to a multiple) and ``size``
    (the output's (h, w), whatever the input's)."""

    mode: str = "nearest"
    scale: "tuple[int, int] | None" = None
    like: str = ""
    multiple: "tuple[int, int] | None" = None
    if_needed: bool = False
    size: "tuple[int, int] | None" = None
    op_name: ClassVar[str] = "interpolate"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CostModelError(f"interpolate mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.scale is not None:
            object.__setattr__(self, "scale", pair_of(self.scale, "scale", 1))
        if self.multiple is not None:
            object.__setattr__(self, "multiple", pair_of(self.multiple, "multiple", 1))
        if self.size is not None:
            object.__setattr__(self, "size", pair_of(self.size, "size", 1))
        if not isinstance(self.like, str):
            raise CostModelError(f"like must be a node name, got {self.like!r}")
        given = [name for name in ("scale", "like", "multiple", "size") if getattr(self, name)]
        if len(given) != 1:
            raise CostModelError(f"interpolate needs exactly one of scale, like, multiple and size, got "
                                 f"{', '.join(given) or 'none'}")
        check_bool(self.if_needed, "if_needed")

    def conditional(self) -> bool:
        return self.if_needed


def interpolate_shape(op: Interpolate, inputs: tuple[Shape, ...], ctx: ShapeContext) -> Shape:
    x = ctx.image(inputs[0])
    batch, channels, height, width = x.dims
    if op.scale is not None:
        sizes = (height * op.scale[0], width * op.scale[1])
    elif op.multiple is not None:
        sizes = (-(-height // op.multiple[0]) * op.multiple[0], -(-width // op.multiple[1]) * op.multiple[1])
    elif op.size is not None:
        sizes = op.size
    else:
        reference = ctx.layout(ctx.reference(op.like), "NCHW")
        sizes = (reference.size("H"), reference.size("W"))
    if op.if_needed:
        ctx.skip = both(sizes[0] == height, sizes[1] == width)
    return Shape.image(batch, channels, sizes[0], sizes[1])


def interpolate_flops(op: Interpolate, node: NodeShapes) -> Any:
    """Per output element: nearest 0 (a copy), bilinear 9 (6 multiplies, 3 additions)."""
    return MODES[op.mode] * node.output.numel


def fvcore_interpolate_flops(op: Interpolate, node: NodeShapes) -> Any:
    """fvcore: 1 (nearest) or 4 (bilinear) per output element."""
    return FVCORE[op.mode] * node.output.numel


def read_interpolate(layer: FieldReader) -> Interpolate:
    scale = layer.pair("scale", None) if layer.has("scale") else None
    multiple = layer.pair("multiple", None) if layer.has("multiple") else None
    size = layer.pair("size", None) if layer.has("size") else None
    return Interpolate(layer.get("mode", str, "nearest"), scale=scale,
                       like=layer.ref("like") if layer.has("like") else "", multiple=multiple,
                       if_needed=layer.get("if_needed", bool, False), size=size)


def lower_interpolate(op: Interpolate, node: NodeShapes, kit: Any) -> Any:
    size = (node.output.size("H"), node.output.size("W"))
    corners = {"align_corners": False} if op.mode == "bilinear" else {}
    return kit.Function(lambda x: kit.F.interpolate(x, size=size, mode=op.mode, **corners))


INTERPOLATE = register(OpDef(
    Interpolate,
    shape=interpolate_shape,
    params=zero,
    madds=zero,
    flops={"costmodel": interpolate_flops, "papers": zero, "fvcore": fvcore_interpolate_flops,
           "flop_counter": zero},
    memory_access=read_write,
    activation=output_elements,
    # each output's gradient goes back to the elements it read, with the same weights: the forward's arithmetic;
    # nothing is saved (the backward needs the sizes only)
    backward=Backward(input_flops=costmodel_only(interpolate_flops)),
    kinds={"resize": "resize (interpolate)"},
    spec=SpecForm("interpolate", read_interpolate,
                  fields="mode (nearest, bilinear), scale, like, multiple, size (one of the four), if_needed"),
    lower=lower_interpolate,
    examples=(Interpolate(scale=2), Interpolate("bilinear", scale=(2, 3)), Interpolate("bilinear", multiple=4),
              Interpolate("bilinear", multiple=(2, 7), if_needed=True), Interpolate("bilinear", multiple=1,
                                                                                     if_needed=True),
              Example(Interpolate(scale=2), layout="NHWC"), Interpolate(size=(7, 5))),
))
