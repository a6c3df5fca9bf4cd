"""Width and resolution scaling: the one place where channel counts and input sizes are rounded.

The width multiplier alpha thins every layer (MobileNetV1 paper, Section 3.3: M -> alpha*M, N -> alpha*N); the
resolution multiplier rho shrinks the input (Section 3.4: D_F -> rho*D_F). The papers' formulas assume real-valued
widths; the reference implementations round them, each in its own way. Those rounding rules live here and nowhere
else: cost formulas receive resolved integers and never round.

A width in the IR is one of five small records:

- ``Scaled(base, rule)``: a channel count from the paper's table, scaled by alpha under a named rule;
- ``Expanded(ratio)``: a multiple of the layer's (already rounded) input width, MobileNetV2's expansion t;
- ``Squeezed(divisor)``: a fraction of the input width, squeeze-and-excite's bottleneck;
- ``Tabulated(columns)``: a width per allowed alpha, where a paper tabulates widths instead of scaling them;
- ``ChannelsOf(node)``: the width of another node's output;
- ``Rounded(width, multiple)``: another width made a multiple of ``multiple`` (a what-if edit's hardware rounding).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

from .errors import CostModelError
from .symbolic import floor_int, is_symbolic, maximum, round_even, select


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """Round ``value`` to the nearest multiple of ``divisor``, as the MobileNetV2/V3 reference code does.

    The result is at least ``min_value`` (default: ``divisor``) and, if rounding down would lose more than 10% of
    ``value``, one more ``divisor`` is added. ``make_divisible(32 * 0.35) == 16``, ``make_divisible(24 * 0.75) == 24``.
    """
    if min_value is None:
        min_value = divisor
    rounded = maximum(min_value, floor_int(value + divisor / 2) // divisor * divisor)
    return select(rounded < 0.9 * value, rounded + divisor, rounded)


def round_up_to_multiple(value: int, divisor: int) -> int:
    """``ceil(value / divisor) * divisor``: ShuffleNet V1's stem and bottleneck widths, which its group
    convolutions split into ``divisor`` groups (the reference code rounds its g = 8 stem 12 up to 16 this way)."""
    return -(-value // divisor) * divisor


def sandglass_hidden(in_channels: int, out_channels: int, reduction: int) -> int:
    """MobileNeXt's hidden width (the authors' code): ``M // t``, raised to ``make_divisible(ceil(N / 6), 16)``
    where it falls below N / 6."""
    hidden = in_channels // reduction
    if hidden < out_channels / 6:
        hidden = make_divisible(-(-out_channels // 6), 16)
    return hidden


def _fixed(channels: int, alpha: float) -> int:
    """Not scaled: the layer keeps its width at every alpha (the input image, a classifier's classes)."""
    return channels


def _mobilenet_v1(channels: int, alpha: float) -> int:
    """MobileNetV1 (TF-slim ``mobilenet_v1.py``): ``max(int(c * alpha), 8)``, truncation with a floor of 8."""
    return maximum(floor_int(channels * alpha), 8)


def _truncate(channels: int, alpha: float) -> int:
    """FD-MobileNet (the authors' ``pyvision/models/ImageNet/MobileNet.py``): ``int(c * alpha)``, truncation with
    no floor (the same as MobileNetV1's rule wherever c * alpha >= 8, e.g. every width at alpha >= 0.25)."""
    return floor_int(channels * alpha)


def _make_divisible(channels: int, alpha: float) -> int:
    """MobileNetV2/V3: ``make_divisible(c * alpha, 8)``, nearest multiple of 8, never 10% below."""
    return make_divisible(channels * alpha, 8)


def _make_divisible_4(channels: int, alpha: float) -> int:
    """GhostNet (timm ``ghostnet.py``): ``make_divisible(c * alpha, 4)``, nearest multiple of 4, never 10% below."""
    return make_divisible(channels * alpha, 4)


def _ghost_primary(channels: int, alpha: float) -> int:
    """A Ghost module's primary convolution: ``ceil(out / 2)`` of its output width ``make_divisible(c * alpha,
    4)``; the cheap depthwise operation makes the other half."""
    return -(-make_divisible(channels * alpha, 4) // 2)


def _make_divisible_head(channels: int, alpha: float) -> int:
    """MobileNetV2's last 1x1 layer: ``make_divisible(c * max(1, alpha), 8)``; widened above 1, never thinned."""
    return make_divisible(channels * maximum(1.0, alpha), 8)


WIDTH_RULES: dict[str, Callable[[int, float], int]] = {
    "fixed": _fixed,
    "mobilenet_v1": _mobilenet_v1,
    "truncate": _truncate,
    "make_divisible": _make_divisible,
    "make_divisible_head": _make_divisible_head,
    "make_divisible_4": _make_divisible_4,
    "ghost_primary": _ghost_primary,
}


@dataclass(frozen=True)
class Scaled:
    """A width from the paper's table (``base``), scaled by alpha under the rule named ``rule``; ``factor``
    multiplies alpha first (EfficientNet-B2 is B0's table at width 1.1: ``make_divisible(c x 1.1 x alpha)``)."""

    base: int
    rule: str = "fixed"
    factor: float = 1.0

    def __post_init__(self) -> None:
        if isinstance(self.factor, bool) or not isinstance(self.factor, (int, float)) or \
                not math.isfinite(self.factor) or not 0 < self.factor <= MAX_ALPHA:
            raise CostModelError(f"a width factor must be a number in (0, {MAX_ALPHA:g}], got {self.factor!r}")
        if isinstance(self.base, bool) or not isinstance(self.base, int) or self.base < 1:
            raise CostModelError(f"channels must be a positive integer, got {self.base!r}")
        if self.base > MAX_CHANNELS:
            raise CostModelError(f"channels must be at most {MAX_CHANNELS:,}, got {self.base:,}")
        if self.rule not in WIDTH_RULES:
            raise CostModelError(f"unknown width rule {self.rule!r}; known: {', '.join(WIDTH_RULES)}")


@dataclass(frozen=True)
class Expanded:
    """``ratio`` times the input width M: rounded to the nearest integer, ``int(round(M * t))`` (torchvision's
    MobileNetV2), or with ``divisor`` > 1 ``make_divisible(M * t, divisor)`` (TF-slim's ``expand_input_by_factor``)."""

    ratio: float
    divisor: int = 1

    def __post_init__(self) -> None:
        if not (isinstance(self.ratio, (int, float)) and math.isfinite(self.ratio) and 0 < self.ratio <= MAX_RATIO):
            raise CostModelError(f"expansion ratio must be a number in (0, {MAX_RATIO:,}], got {self.ratio!r}")
        if isinstance(self.divisor, bool) or not isinstance(self.divisor, int) or not 1 <= self.divisor <= MAX_CHANNELS:
            raise CostModelError(f"expansion divisor must be an integer in [1, {MAX_CHANNELS:,}], got {self.divisor!r}")


@dataclass(frozen=True)
class Squeezed:
    """The input width divided by ``divisor`` (floor), then ``make_divisible(., round_to)``: squeeze-excite's
    bottleneck as the MobileNetV3 reference code computes it."""

    divisor: int = 4
    round_to: int = 8

    def __post_init__(self) -> None:
        for field in ("divisor", "round_to"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CHANNELS:
                raise CostModelError(f"squeeze {field} must be an integer in [1, {MAX_CHANNELS:,}], got {value!r}")


@dataclass(frozen=True)
class Tabulated:
    """A width read from a table of (alpha, channels) columns, for networks whose paper tabulates each width
    instead of scaling one (ShuffleNetV2's Table 5: 0.5x, 1x, 1.5x, 2x). Other alphas are refused."""

    columns: tuple[tuple[float, int], ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple((float(a), int(c)) for a, c in self.columns))
        if not self.columns or any(not 1 <= c <= MAX_CHANNELS or a <= 0 for a, c in self.columns):
            raise CostModelError(f"a tabulated width needs positive (alpha, channels) columns, got {self.columns!r}")


@dataclass(frozen=True)
class ChannelsOf:
    """The channel count of another node's output (``input`` for the network input): squeeze-and-excite's
    expanding 1x1 restores the width of the map it gates, whatever rule gave that map its width."""

    ref: str

    def __post_init__(self) -> None:
        if not isinstance(self.ref, str) or not self.ref:
            raise CostModelError(f"channels_of needs a node name, got {self.ref!r}")


@dataclass(frozen=True)
class Rounded:
    """``width`` made a multiple of ``multiple`` as MobileNetV2's reference code makes its widths one:
    ``make_divisible(c, multiple)``, the nearest multiple, never more than 10% below ``c`` (``design.edits``' channels
    rounded to a hardware multiple). ``width`` is any width but ``ChannelsOf`` (which follows another, rounded
    itself)."""

    width: "Scaled | Expanded | Squeezed | Tabulated"
    multiple: int = 8

    def __post_init__(self) -> None:
        if not isinstance(self.width, (Scaled, Expanded, Squeezed, Tabulated)):
            raise CostModelError(f"a rounded width rounds a Scaled, Expanded, Squeezed or Tabulated width, got "
                                 f"{type(self.width).__name__}")
        if isinstance(self.multiple, bool) or not isinstance(self.multiple, int) or \
                not 1 <= self.multiple <= MAX_CHANNELS:
            raise CostModelError(f"a rounding multiple must be an integer in [1, {MAX_CHANNELS:,}], "
                                 f"got {self.multiple!r}")


Width = Union[Scaled, Expanded, Squeezed, Tabulated, ChannelsOf, Rounded]
WIDTH_TYPES = (Scaled, Expanded, Squeezed, Tabulated, ChannelsOf, Rounded)


def as_width(value: "int | Width") -> Width:
    """An int is a fixed width; a Width record is kept as it is."""
    if isinstance(value, WIDTH_TYPES):
        return value
    return Scaled(value, "fixed")


def resolve_width(width: Width, alpha: float, in_channels: int,
                  channels_of: Callable[[str], int] | None = None) -> int:
    """The integer channel count of ``width`` at width multiplier ``alpha`` for an input of ``in_channels``;
    ``channels_of(name)`` gives the channels of an earlier node's output (for ``ChannelsOf``). alpha and the
    channels may also be NumPy arrays or symbolic expressions (see ``symbolic``): the rules use its helpers."""
    if isinstance(width, Rounded):
        return make_divisible(resolve_width(width.width, alpha, in_channels, channels_of), width.multiple)
    if isinstance(width, ChannelsOf):
        if channels_of is None:
            raise CostModelError(f"channels of {width.ref!r} are not known here")
        return channels_of(width.ref)
    if isinstance(width, Scaled):
        return WIDTH_RULES[width.rule](width.base, alpha if width.factor == 1.0 else alpha * width.factor)
    if isinstance(width, Expanded):
        if width.divisor > 1:
            return make_divisible(in_channels * width.ratio, width.divisor)
        return round_even(in_channels * width.ratio)
    if isinstance(width, Tabulated):
        if is_symbolic(alpha):
            resolved: object = 0       # outside the table: 0 channels, which shape inference refuses
            for column, channels in reversed(width.columns):
                resolved = select(alpha == column, channels, resolved)
            return resolved  # type: ignore[return-value]
        for column, channels in width.columns:
            if column == alpha:
                return channels
        allowed = ", ".join(f"{column:g}" for column, _ in width.columns)
        raise CostModelError(f"alpha must be one of {allowed} for this network (its widths are tabulated), "
                             f"got {alpha:g}")
    return make_divisible(in_channels // width.divisor, width.round_to)


# Bounds on the multipliers; beyond them a network is no longer the one its paper describes and counts explode.
MAX_DEPTH = 10.0
MAX_ALPHA = 10.0
MAX_RHO = 10.0
MAX_RESOLUTION = 8192
MAX_BATCH = 1_000_000
# Bounds on what a network can set, so that no accepted network takes unbounded time or memory to count.
MAX_CHANNELS = 1_000_000      # a width before alpha, groups, chunks
MAX_SIZE = MAX_RESOLUTION     # a kernel, stride, dilation, padding or pooled output size
MAX_RATIO = 1_000             # an expansion ratio


def _multiplier(value: object, name: str, most: float) -> float:
    """``value`` as a multiplier: a finite number in (0, ``most``]; one line naming ``name`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CostModelError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value) or not 0 < value <= most:
        raise CostModelError(f"{name} must be in (0, {most:g}], got {value!r}")
    return float(value)


def check_alpha(alpha: object) -> float:
    """alpha must be a finite number in (0, MAX_ALPHA]."""
    return _multiplier(alpha, "alpha", MAX_ALPHA)


def check_depth(depth: object) -> float:
    """The depth multiplier must be a finite number in (0, MAX_DEPTH]."""
    return _multiplier(depth, "depth", MAX_DEPTH)


def scaled_repeats(repeats: int, depth: float) -> int:
    """The repeats of a stage at depth multiplier ``depth``: ``ceil(depth * repeats)`` in floating point, as
    EfficientNet's reference code rounds them (``round_repeats``: ``int(math.ceil(depth_coefficient * repeats))``;
    timm's ``_scale_stage_depth`` with ``depth_trunc="ceil"`` for a stage of one block type). At least one repeat
    of a stage is kept; at depth 1 the count is unchanged."""
    if depth == 1.0:
        return repeats
    return max(1, int(math.ceil(depth * repeats)))


def check_batch(batch: object) -> int:
    """The batch must be a whole number of images in [1, MAX_BATCH]."""
    if isinstance(batch, bool) or not isinstance(batch, int):
        raise CostModelError(f"batch must be a whole number of images, got {batch!r}")
    if not 1 <= batch <= MAX_BATCH:
        raise CostModelError(f"batch must be in [1, {MAX_BATCH:,}], got {batch}")
    return batch


def parse_resolution(text: str) -> "int | tuple[int, int]":
    """``"224"`` -> 224, ``"160x224"`` -> (160, 224) (height x width)."""
    parts = text.strip().lower().split("x")
    if len(parts) not in (1, 2) or not all(part.strip().isascii() and part.strip().isdigit() for part in parts):
        raise CostModelError(f"resolution must be N or HxW in pixels (224, 160x224), got {text!r}")
    if any(len(part.strip().lstrip("0")) > len(str(MAX_RESOLUTION)) for part in parts):     # no huge int made
        raise CostModelError(f"resolution must be in [1, {MAX_RESOLUTION}], got {text!r}")
    sizes = [int(part) for part in parts]
    return sizes[0] if len(sizes) == 1 else (sizes[0], sizes[1])


def scaled_resolution(base: int, rho: float) -> int:
    """``D_F = base * rho`` rounded to the nearest integer, halves up: ``224 * 0.714 = 159.94 -> 160``."""
    return math.floor(base * rho + 0.5)


def input_size(base: tuple[int, int], rho: object = None, resolution: object = None) -> tuple[int, int]:
    """The (H, W) of the network input: ``base`` scaled by ``rho``, or ``resolution`` (an int, (H, W) or
    ``"HxW"``) as given."""
    if rho is not None and resolution is not None:
        raise CostModelError("give rho or resolution, not both")
    if isinstance(resolution, str):
        resolution = parse_resolution(resolution)
    if resolution is not None:
        sizes = resolution if isinstance(resolution, (tuple, list)) else (resolution, resolution)
        if len(sizes) != 2:
            raise CostModelError(f"resolution must be an integer or (height, width), got {resolution!r}")
        for size in sizes:
            if isinstance(size, bool) or not isinstance(size, int):
                raise CostModelError(f"resolution must be a whole number of pixels, got {size!r}")
            if not 1 <= size <= MAX_RESOLUTION:
                raise CostModelError(f"resolution must be in [1, {MAX_RESOLUTION}], got {size}")
        return (sizes[0], sizes[1])
    if rho is None:
        return base
    if isinstance(rho, bool) or not isinstance(rho, (int, float)):
        raise CostModelError(f"rho must be a number, got {rho!r}")
    if not math.isfinite(rho) or not 0 < rho <= MAX_RHO:
        raise CostModelError(f"rho must be in (0, {MAX_RHO:g}], got {rho!r}")
    height, width = (scaled_resolution(side, rho) for side in base)
    if height < 1 or width < 1:
        raise CostModelError(f"rho={rho:g} shrinks the {base[0]}x{base[1]} input to nothing")
    return (height, width)
