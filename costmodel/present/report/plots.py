"""The report's plots: matplotlib (Agg) figures returned as inline SVG markup, deterministic byte for byte.

Every function takes plain numbers (lists and dicts the report context already holds) and returns an ``<svg>``
string; nothing here computes a cost.

Text is never smaller than the page's body text (14 px): every figure is drawn at ``FONT_PT`` (11 pt, 14.7 px at
the SVG's natural size) and is no wider than the column it sits in (``FULL_WIDTH_IN``, ``HALF_WIDTH_IN``), so the
page never scales it down. Labels of points are placed where they overlap no other label (``place_labels``).
"""
from __future__ import annotations

import io
from typing import Any, Sequence, cast

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from ...core.formatting import printable  # noqa: E402

FONT_PT = 11

plt.rcParams.update({
    "svg.hashsalt": "costmodel",      # stable ids in the SVG
    "svg.fonttype": "none",           # text stays text (the page's fonts), not paths
    "text.parse_math": False,         # a name is data: "$x$" is drawn as typed, and a lone "$" is no error
    "font.size": FONT_PT,
    "axes.spines.top": False,
    "axes.spines.right": False,
})

FULL_WIDTH_IN = 12.0        # drawn 12 in wide, about 1,000 px once cropped tight: inside the 1,116 px column
HALF_WIDTH_IN = 5.4         # one of two figures side by side: 550 px = 412 pt = 5.7 in, less a margin

KIND_COLORS = {
    "conv": "#4c72b0", "pointwise": "#dd8452", "depthwise": "#55a868", "group": "#c44e52", "linear": "#8172b3",
    "batchnorm": "#937860", "activation": "#da8bc3", "pool": "#8c8c8c", "global_pool": "#ccb974",
    "add": "#64b5cd", "mul": "#2f4b7c", "concat": "#a05195", "split": "#d45087", "shuffle": "#f95d6a",
    "flatten": "#bbbbbb", "dropout": "#dddddd", "deconv": "#6d904f", "layernorm": "#b47cc7",
    "groupnorm": "#c4ad66", "softmax": "#f28e2b", "attention": "#e15759", "matmul": "#ff9d9a",
    "reshape": "#cccccc", "permute": "#9c755f", "pad": "#bab0ac", "patches": "#76b7b2", "resize": "#59a14f",
    "embedding": "#edc948", "scale": "#af7aa1",
}


def _svg(figure: plt.Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    start, end = text.find(" <metadata>"), text.find("</metadata>")
    if start != -1 and end != -1:          # RDF metadata: names matplotlib, nothing the page needs
        text = text[:start] + text[end + len("</metadata>"):]
    return text


def _legend(axis: Any, **options: Any) -> None:
    """A legend, when something on the axis has a label (an empty one makes matplotlib warn)."""
    if axis.get_legend_handles_labels()[0]:
        axis.legend(**options)


def _millions(value: float, _: object = None) -> str:
    return f"{value / 1e6:g}M"


def _plain(value: float, _: object = None) -> str:
    """A tick value in plain figures with an SI suffix (300M, 1.2G, 0.5): no superscript exponents, which would be
    smaller than the text."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def _plain_log(axis: Any) -> None:
    """A log scale on ``axis`` (an x or y axis) labelled in plain figures at its major ticks only."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if axis.axis_name == "x":
        axis.axes.set_xscale("log")
    else:
        axis.axes.set_yscale("log")
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_formatter(NullFormatter())


def by_kind_chart(kinds: Sequence[str], madds_share: Sequence[float], params_share: Sequence[float],
                  memory_share: Sequence[float]) -> str:
    """Shares of mult-adds, parameters and memory access per layer kind (the MobileNetV1 paper's Table 2): three
    panels side by side across the page, one per metric (its title says which), the kinds in the same rows of each.
    Each bar has its kind's colour, as in every chart of the page."""
    figure, axes = plt.subplots(1, 3, figsize=(FULL_WIDTH_IN, 0.32 * len(kinds) + 1.3), sharey=True)
    y = list(range(len(kinds)))
    colors = [KIND_COLORS.get(kind, "#888888") for kind in kinds]
    top = max(100 * max([*madds_share, *params_share, *memory_share], default=0.0), 1.0) * 1.05
    for axis, title, shares in zip(axes, ("mult-adds", "params", "memory access"),
                                   (madds_share, params_share, memory_share)):
        axis.barh(y, [100 * share for share in shares], 0.7, color=colors)
        axis.set_title(title)
        axis.set_xlim(0, top)
        axis.set_xlabel("share of the total (%)")
    axes[0].set_yticks(y, kinds)
    axes[0].invert_yaxis()
    return _svg(figure)


def depth_chart(names: Sequence[str], madds: Sequence[int], params: Sequence[int], kinds: Sequence[str],
                xlabel: str = "layers with mult-adds in execution order (color: kind)") -> str:
    """Mult-adds and parameters of each layer (or run of layers), in execution order."""
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(FULL_WIDTH_IN, 4.2), sharex=True)
    x = range(len(names))
    colors = [KIND_COLORS.get(kind, "#888888") for kind in kinds]
    top.bar(x, madds, color=colors, width=0.85)
    top.set_ylabel("mult-adds")
    top.yaxis.set_major_formatter(_millions)
    bottom.bar(x, params, color=colors, width=0.85)
    bottom.set_ylabel("params")
    bottom.yaxis.set_major_formatter(_millions)
    bottom.set_xlabel(xlabel)
    handles = [plt.Rectangle((0, 0), 1, 1, color=KIND_COLORS.get(kind, "#888888")) for kind in dict.fromkeys(kinds)]
    top.legend(handles, list(dict.fromkeys(kinds)), frameon=False, ncol=8, loc="lower right",
               bbox_to_anchor=(1.0, 1.0))
    return _svg(figure)


def grid_heatmap(alphas: Sequence[float], resolutions: Sequence[int], madds: Sequence[Sequence[int]]) -> str:
    """Mult-adds over a grid of width multipliers (rows) and input resolutions (columns)."""
    figure, axis = plt.subplots(figsize=(HALF_WIDTH_IN, 0.45 * len(alphas) + 1.4))
    image = axis.imshow([[value / 1e6 for value in row] for row in madds], cmap="viridis", aspect="auto")
    axis.set_xticks(range(len(resolutions)), [str(r) for r in resolutions])
    axis.set_yticks(range(len(alphas)), [f"{a:g}" for a in alphas])
    axis.set_xlabel("input resolution")
    axis.set_ylabel("alpha")
    for i, row in enumerate(madds):
        for j, value in enumerate(row):
            axis.text(j, i, f"{value / 1e6:.0f}", ha="center", va="center", color="white")
    figure.colorbar(image, ax=axis, label="mult-adds (M)")
    return _svg(figure)


def law_chart(ideal: Sequence[float], exact: Sequence[float], law: str = "alpha^2 rho^2") -> str:
    """Exact mult-adds relative to the base setting against the ideal law (``law``: "alpha^2 rho^2", or "rho^2"
    for a network without a width multiplier)."""
    figure, axis = plt.subplots(figsize=(HALF_WIDTH_IN, 4.2))
    top = max(max(ideal), max(exact)) * 1.05
    axis.plot([0, top], [0, top], color="#999999", linewidth=1, label=f"ideal: {law}")
    axis.scatter(ideal, exact, s=14, color="#222222", label="exact count", zorder=3)
    axis.set_xlabel(law.replace(" ", " x "))
    axis.set_ylabel("exact mult-adds / at the base setting")
    _legend(axis, frameon=False)
    return _svg(figure)


def memory_chart(names: Sequence[str], activation: Sequence[int], live: Sequence[int], peak_index: int,
                 xlabel: str = "layers in execution order") -> str:
    """Each layer's (or run of layers') output size and the memory live while it runs, with the peak marked."""
    figure, axis = plt.subplots(figsize=(FULL_WIDTH_IN, 3.4))
    x = range(len(names))
    axis.bar(x, [value / 1e6 for value in activation], color="#8da0cb", width=1.0, label="layer output")
    axis.plot(x, [value / 1e6 for value in live], color="#e78ac3", linewidth=1.2, label="live activation memory")
    axis.scatter([peak_index], [live[peak_index] / 1e6], color="#222222", zorder=3,
                 label=f"peak: {printable(names[peak_index])}")
    axis.set_ylabel("MB")
    axis.set_xlabel(xlabel)
    _legend(axis, frameon=False, loc="upper right")
    return _svg(figure)


def roofline_chart(peak_gflops: float, bandwidth_gbps: float, intensity: Sequence[float],
                   attainable: Sequence[float], kinds: Sequence[str]) -> str:
    """Each layer's arithmetic intensity against the device's compute and bandwidth roofs (log-log)."""
    figure, axis = plt.subplots(figsize=(FULL_WIDTH_IN - 1.8, 4.2))
    positive = [value for value in intensity if value > 0] or [1.0]
    low = min(min(positive), peak_gflops / bandwidth_gbps) / 4
    high = max(max(positive), peak_gflops / bandwidth_gbps) * 4
    xs = [low * (high / low) ** (i / 200) for i in range(201)]
    axis.plot(xs, [min(peak_gflops, x * bandwidth_gbps) for x in xs], color="#333333", linewidth=1.2,
              label="roofline")
    for kind in dict.fromkeys(kinds):
        points = [(i, a) for i, a, k in zip(intensity, attainable, kinds) if k == kind and i > 0]
        if points:
            axis.scatter([p[0] for p in points], [p[1] for p in points], s=12, label=kind,
                         color=KIND_COLORS.get(kind, "#888888"), zorder=3)
    _plain_log(axis.xaxis)
    _plain_log(axis.yaxis)
    axis.set_xlabel("arithmetic intensity (FLOPs per byte)")
    axis.set_ylabel("attainable GFLOP/s (estimate)")
    _legend(axis, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _svg(figure)


def stacked_kinds_chart(networks: Sequence[str], kinds: Sequence[str], madds: Sequence[Sequence[int]],
                        xlabel: str = "mult-adds (M)") -> str:
    """A metric per layer kind (mult-adds by default; values in millions), one stacked horizontal bar per network,
    the networks' names level beside their bars (first network on top; a name over 28 characters shortened in its
    middle, the page's table names it whole) and the kinds' legend under the axis."""
    from matplotlib.transforms import ScaledTranslation

    networks = [shortened(printable(name), 28) for name in networks]
    figure, axis = plt.subplots(figsize=(HALF_WIDTH_IN, 0.45 * len(networks) + 1.0))
    lefts = [0.0] * len(networks)
    for kind, values in zip(kinds, madds):
        axis.barh(range(len(networks)), [v / 1e6 for v in values], 0.7, left=lefts, label=kind,
                  color=KIND_COLORS.get(kind, "#888888"))
        lefts = [left + v / 1e6 for left, v in zip(lefts, values)]
    axis.set_yticks(range(len(networks)), networks)
    axis.invert_yaxis()
    axis.set_xlabel(xlabel)
    renderer = cast(FigureCanvasAgg, figure.canvas).get_renderer()     # the names' room, inside the figure's width
    names_in = max(label.get_window_extent(renderer).width for label in axis.get_yticklabels()) / figure.dpi
    figure.subplots_adjust(left=min(0.6, (names_in + 0.25) / HALF_WIDTH_IN), right=0.97)
    below = axis.transAxes + ScaledTranslation(0, -0.55, figure.dpi_scale_trans)    # under the axis' label
    for columns in (4, 3, 2, 1) if kinds else ():   # the most columns whose legend stays inside the figure
        legend = axis.legend(frameon=False, loc="upper left", bbox_to_anchor=(0.0, 0.0), bbox_transform=below,
                             ncol=columns)
        if legend.get_window_extent(renderer).x1 <= figure.bbox.x1:
            break
    return _svg(figure)


def shortened(text: str, limit: int) -> str:
    """``text`` cut in its middle to ``limit`` characters (an ellipsis in place of the cut) when it is longer."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[:(keep + 1) // 2] + "\u2026" + text[len(text) - keep // 2:]


def scatter_chart(background: Sequence[tuple[float, float]], highlight: Sequence[tuple[float, float, str]],
                  xlabel: str, ylabel: str, log_x: bool = True, log_y: bool = False) -> str:
    """Published points (grey, unlabelled: the page lists them in a table) and the compared networks (black, each
    labelled where its label overlaps no other; a compared network left unlabelled is counted in the legend)."""
    figure, axis = plt.subplots(figsize=(HALF_WIDTH_IN, 4.6))
    if background:
        axis.scatter([p[0] for p in background], [p[1] for p in background], s=12, color="#bbbbbb",
                     label="published (the table below)")
    if highlight:
        axis.scatter([p[0] for p in highlight], [p[1] for p in highlight], s=28, color="#222222",
                     label="compared", zorder=3)
    if log_x:
        _plain_log(axis.xaxis)
    if log_y:
        _plain_log(axis.yaxis)
    axis.set_xlabel(xlabel)
    axis.set_ylabel(ylabel)
    placed = place_labels(figure, axis, [(x, y, shortened(printable(label), 40), "#222222")
                                         for x, y, label in highlight])
    left = len(highlight) - len(placed)
    if left:
        axis.plot([], [], " ", label=f"{left} compared unlabelled: no room")
    _legend(axis, frameon=False, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2)     # above: clear of labels
    return _svg(figure)


OFFSETS = ((4, 4), (4, -14), (-4, 4), (-4, -14), (8, -5), (-8, -5), (0, 10), (0, -20), (12, 12), (-12, 12),
           (12, -22), (-12, -22))


def place_labels(figure: plt.Figure, axis: Any, points: Sequence[tuple[float, float, str, str]]) -> list[Any]:
    """Label each (x, y, text, color) point in order, at the first of ``OFFSETS`` (points) where its text overlaps
    no label already placed and stays inside the axes; a label with no such place is left out. Returns the placed
    annotations. Deterministic: the order and the offsets decide."""
    renderer = cast(FigureCanvasAgg, figure.canvas).get_renderer()     # the Agg backend's
    frame = axis.get_window_extent(renderer)
    boxes: list[Any] = []
    placed = []
    for x, y, text, color in points:
        for dx, dy in OFFSETS:
            annotation = axis.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points", color=color,
                                       ha="left" if dx >= 0 else "right")
            box = annotation.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in boxes):
                boxes.append(box)
                placed.append(annotation)
                break
            annotation.remove()
    return placed


def front_chart(families: Sequence[tuple[str, Sequence[tuple[float, float, str]], Sequence[tuple[float, Any]]]],
                max_madds: "float | None", path: Any = None) -> str:
    """The MobileNetV1 paper's Figure 4 for budgets: each family's published accuracies against its exact
    mult-adds (log scale), joined in order of cost, and its front under the budget at the front's exact mult-adds:
    a filled marker at the published accuracy where a front setting is itself published, and a tick on the cost
    axis for every other front setting (its cost is exact; no accuracy is drawn for a setting no paper trained).

    :param families: (name, published [(madds, top1, label)], front [(madds, published top1 or None)]) per model.
    :param max_madds: the budget on mult-adds, drawn as a labelled line (None: none).
    :param path: where a PNG is written (a file name or a binary stream), if given.
    :returns: the SVG."""
    from matplotlib.transforms import blended_transform_factory

    figure, axis = plt.subplots(figsize=(HALF_WIDTH_IN * 1.6, 4.8))
    on_the_axis = blended_transform_factory(axis.transData, axis.transAxes)
    colors = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")
    for index, (name, published, front) in enumerate(families):
        color, name = colors[index % len(colors)], printable(name)
        if published:
            ordered = sorted(published)
            axis.plot([p[0] for p in ordered], [p[1] for p in ordered], color=color, linewidth=1, alpha=0.6,
                      marker=".", label=f"{name}: published")
        same = [(m, top1) for m, top1 in front if top1 is not None]
        if same:
            axis.scatter([m for m, _ in same], [t for _, t in same], s=40, color=color, zorder=3,
                         label=f"{name}: front setting, published")
        unknown = [m for m, top1 in front if top1 is None]
        if unknown:          # a row of ticks per family along the bottom: the cost is exact, the accuracy unknown
            axis.scatter(unknown, [0.02 + 0.03 * index] * len(unknown), marker="|", s=60, linewidths=1, color=color,
                         transform=on_the_axis, clip_on=False, zorder=3,
                         label=f"{name}: {len(unknown)} front setting{'' if len(unknown) == 1 else 's'} "
                               "(cost only; no published accuracy)")
    if max_madds:
        budget = f"budget: {_plain(max_madds)} mult-adds"
        axis.axvline(max_madds, color="#999999", linestyle="--", linewidth=1, label=budget)
        axis.text(max_madds, 0.98, f" {_plain(max_madds)}", transform=on_the_axis, ha="left", va="top",
                  color="#666666")
    _plain_log(axis.xaxis)
    axis.set_xlabel("mult-adds (exact, log scale)")
    axis.set_ylabel("published ImageNet top-1 (%)")
    _legend(axis, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if path is not None:
        figure.savefig(path, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    return _svg(figure)
