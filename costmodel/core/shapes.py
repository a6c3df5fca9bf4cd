"""Tensor shapes, the size arithmetic of the shape rules, and what a rule needs to run.

A shape is a tuple of sizes with a layout that names them, batch first: an image ``NCHW``, a sequence of tokens
``NLC``, a feature vector ``NC``. The batch N is explicit, so every count but the parameters scales with it. The
layout lets an op find its channels, map or tokens by name, so ops of any rank need no special cases. What a user
sees of a shape is its per-sample part (``32x112x112``, ``1000``); the batch is shown once, with the input.

The output-size formulas here are exact integer arithmetic; they run on numbers, and on the symbolic expressions of
``symbolic`` when a network is traced (``trace``). Widths are resolved through ``scaling.resolve_width``, the one
place that rounds.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, NamedTuple

from .errors import CostModelError
from .scaling import Width, resolve_width
from .symbolic import Expr, gcd, select

if TYPE_CHECKING:
    from .ir import Node, Op

LAYOUTS = {"NCHW": "image", "NLC": "tokens", "NC": "features"}
# Letters for the axes of other layouts (a reshape's new axes, a matrix product's columns), in the order they are
# taken; N, C, H, W and L keep their meanings.
FREE_LETTERS = "SGDPKTUVXYZABEFIJMOQR"


def describe_layout(layout: str) -> str:
    """``image``, ``tokens``, ``features``, or ``tensor NGLD`` for any other layout."""
    return LAYOUTS.get(layout, f"tensor {layout}")


def free_letter(used: str) -> str:
    """The first letter of ``FREE_LETTERS`` not in ``used``: a name for a new axis."""
    for letter in FREE_LETTERS:
        if letter not in used:
            return letter
    raise CostModelError(f"a tensor of layout {used} cannot have more axes")


class Shape(NamedTuple):
    """Sizes ``dims`` named by ``layout`` (one letter per size, N first)."""

    layout: str
    dims: tuple

    @classmethod
    def image(cls, batch: Any, channels: Any, height: Any, width: Any) -> "Shape":
        return cls("NCHW", (batch, channels, height, width))

    @classmethod
    def features(cls, batch: Any, channels: Any) -> "Shape":
        return cls("NC", (batch, channels))

    @classmethod
    def tokens(cls, batch: Any, length: Any, channels: Any) -> "Shape":
        return cls("NLC", (batch, length, channels))

    def size(self, axis: str) -> Any:
        """The size of the axis named ``axis`` (``"C"``, ``"H"``, ...)."""
        return self.dims[self.layout.index(axis)]

    @property
    def rank(self) -> int:
        return len(self.dims)

    def axis(self, dim: int) -> int:
        """The position of torch's ``dim`` (negative counts from the end), or -1 if out of range."""
        position = dim + len(self.dims) if dim < 0 else dim
        return position if 0 <= position < len(self.dims) else -1

    @property
    def batch(self) -> Any:
        return self.dims[0]

    @property
    def channels(self) -> Any:
        return self.dims[self.layout.index("C")]

    @property
    def sample(self) -> tuple:
        """The per-sample sizes (everything but the batch): ``(C, H, W)``, ``(L, C)``, ``(C,)``."""
        return self.dims[1:]

    @property
    def numel(self) -> Any:
        """Number of elements, batch included."""
        count: Any = 1
        for size in self.dims:
            count = count * size
        return count

    def with_size(self, **sizes: Any) -> "Shape":
        """The same layout with the named axes replaced: ``shape.with_size(C=64)``."""
        dims = list(self.dims)
        for axis, size in sizes.items():
            dims[self.layout.index(axis)] = size
        return Shape(self.layout, tuple(dims))


def as_image(shape: Shape) -> Shape:
    """A 4-D ``shape`` named as an image (N, C, H, W), as torch's 2-D layers read any 4-D tensor whatever
    costmodel calls its axes (a map permuted to N x H x W x C has H as its channels); other shapes as they are."""
    return Shape("NCHW", shape.dims) if shape.rank == 4 and shape.layout != "NCHW" else shape


def numel(shape: Shape) -> Any:
    """Number of elements of a tensor of this shape, batch included."""
    return shape.numel


def format_shape(shape: Shape) -> str:
    """The per-sample sizes: ``32x112x112`` for a map, ``1000`` for a vector."""
    return "x".join(str(size) for size in shape.sample)


def conv_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """Output length of a convolution (torch): ``floor((D + 2P - d(K - 1) - 1) / S) + 1``."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def same_output_size(size: int, stride: int) -> int:
    """Output length under TensorFlow's "same" padding: ``ceil(D / S)``."""
    return -(-size // stride)


def pool_output_size(size: int, kernel: int, stride: int, padding: int, ceil_mode: bool) -> int:
    """Output length of torch's max/avg pooling: ``floor`` or ``ceil((D + 2P - K) / S) + 1``; with ``ceil_mode``
    a last window that would start inside the right padding is dropped."""
    span = size + 2 * padding - kernel
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    return select((out - 1) * stride >= size + padding, out - 1, out)


def adaptive_window_total(size: Any, output: int) -> Any:
    """The summed window lengths of adaptive pooling along one axis: sum over i < o of
    ``ceil((i + 1) D / o) - floor(i D / o)``, which is ``D + o - gcd(D, o)`` (D when o divides D; more when the
    windows overlap). The sum of floors is ``((D - 1)(o - 1) + gcd - 1) / 2``; the sum of ceilings is that, plus D,
    plus one for each of the ``o - gcd`` windows whose end is not a whole row."""
    return size + output - gcd(size, output)


class NodeShapes(NamedTuple):
    """A node with its resolved input shapes and output shape at one setting."""

    node: "Node"
    inputs: tuple[Shape, ...]
    output: Shape
    skipped: bool = False      # a conditional op that does not happen at this setting (see ``ops.Add``)

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def op(self) -> "Op":
        return self.node.op


class ShapeContext:
    """What a shape rule needs besides the op and its input shapes: the node (for messages), alpha, earlier
    outputs, and where its requirements go. Evaluated on numbers, a failed requirement raises at once with its
    message; traced on symbols (``trace``), the requirements are collected as conditions to check."""

    def __init__(self, node: "Node", alpha: Any, produced: dict[str, Shape]):
        self.node = node
        self.alpha = alpha
        self.produced = produced
        self.requirements: list[Any] = []
        self.skip: Any = False        # a conditional residual that does not apply

    def width(self, width: Width, in_channels: Any) -> Any:
        """``width`` resolved for this node (``ChannelsOf`` reads an earlier node's output)."""
        return resolve_width(width, self.alpha, in_channels, lambda ref: self.produced[ref].channels)

    def fail(self, message: str) -> CostModelError:
        return CostModelError(f"node {self.node.name!r}: {message}")

    def require(self, condition: Any, message: Callable[[], str]) -> None:
        """``condition`` must hold; ``message()`` says what is wrong when it does not."""
        if isinstance(condition, Expr):
            self.requirements.append(condition)
        elif not condition:
            raise self.fail(message())

    def layout(self, shape: Shape, *layouts: str) -> Shape:
        """``shape``, which must have one of ``layouts``; otherwise a message naming what the op needs."""
        if shape.layout not in layouts:
            wanted = " or ".join(f"{LAYOUTS[layout]} ({', '.join(layout)})" for layout in layouts)
            raise self.fail(f"{self.node.op.op_name} needs {'an' if wanted[0] in 'aeiou' else 'a'} {wanted} input, "
                            f"got {describe_layout(shape.layout)} of {format_shape(shape)}")
        return shape

    def image(self, shape: Shape) -> Shape:
        """``shape`` read as an image (N, C, H, W): any 4-D tensor, whatever its axes are called, as torch's 2-D
        layers read one (a map permuted to N x H x W x C is read with H as its channels); another rank is refused
        with a message naming what the op needs."""
        return as_image(shape) if shape.rank == 4 else self.layout(shape, "NCHW")

    def axis(self, shape: Shape, dim: int, what: str = "dim", batch: bool = False) -> int:
        """The position of torch's ``dim`` in ``shape``; the batch axis 0 only when ``batch``."""
        position = shape.axis(dim)
        if position < 0 or (position == 0 and not batch):
            raise self.fail(f"{what}={dim} is out of range for a {describe_layout(shape.layout)} of "
                            f"{format_shape(shape)}{'' if batch else ' (the batch axis 0 is not one)'}")
        return position

    def channels(self, shape: Shape) -> Any:
        """The channels of ``shape``, which must have a channel axis (C)."""
        if "C" not in shape.layout:
            raise self.fail(f"{self.node.op.op_name} needs an input with channels, got a "
                            f"{describe_layout(shape.layout)} of {format_shape(shape)}")
        return shape.channels

    def reference(self, name: str) -> Shape:
        """The output shape of the earlier node ``name`` (an op's ``like``)."""
        return self.produced[name]

    def positive(self, what: str, value: Any, detail: Callable[[], str]) -> Any:
        self.require(value >= 1, lambda: f"{what} would be {value} ({detail()}); the input is too small for this "
                                          "layer")
        return value
