"""The MobileNetV2 and MobileNetV3 papers' tables, and the reference implementation's checkpoint table.

Sources: Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks", arXiv:1801.04381 (Tables 3, 4);
Howard et al., "Searching for MobileNetV3", arXiv:1905.02244 (Table 3); tensorflow/models
research/slim/nets/mobilenet/README.md (the checkpoints' MACs and parameters). Printed figures are in
``costmodel/data/papers/``.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Any

from ..sources.analyze import Analysis, LayerCost, analyze
from ..core.papers import load
from .core import Figure, Reproduction, Row

V2_CITATION = "Sandler et al. 2018, MobileNetV2, arXiv:1801.04381"
V3_CITATION = "Howard et al. 2019, Searching for MobileNetV3, arXiv:1905.02244"
SLIM_CITATION = "tensorflow/models research/slim/nets/mobilenet/README.md, pretrained checkpoints"


def _batchnorm(result: Analysis) -> int:
    return sum(layer.params for layer in result.layers if layer.kind == "batchnorm")


def _params(printed: str, result: Analysis) -> tuple[Figure, str]:
    """The params figure, and where it does not agree, whether the count without BatchNorm does."""
    figure = Figure("params (M)", printed, result.totals["params"])
    if figure.agrees:
        return figure, ""
    batchnorm = _batchnorm(result)
    without = Figure(figure.metric, printed, figure.exact - batchnorm)
    verdict = "agrees: the paper leaves BatchNorm out" if without.agrees else "does not agree either"
    return figure, (f"params without BatchNorm's {batchnorm:,} gamma and beta: {without.exact / 1e6:.3f}M, which "
                    f"{verdict}")


def _join(*notes: str) -> str:
    return "; ".join(note for note in notes if note)


def _setting(model: str, result: Analysis, options: dict | None = None) -> str:
    extra = "".join(f", {key}={value}" for key, value in (options or {}).items())
    return f"{model}, alpha={result.alpha:g}, {result.resolution[0]}x{result.resolution[1]}{extra}"


def _millions(text: str) -> str:
    """``'575M'`` or ``'4.2M'`` as printed, without the unit."""
    return text.rstrip("M")


# MobileNetV2 paper Table 4 rows -> (model, alpha, options); rows not in the zoo map to None.
_V2_TABLE_4 = {
    "MobileNetV1": ("mobilenet_v1", 1.0, {}),
    "ShuffleNet (1.5)": ("shufflenet_v1", 1.5, {"groups": 3}),
    "ShuffleNet (x2)": ("shufflenet_v1", 2.0, {"groups": 3}),
    "NasNet-A": None,
    "MobileNetV2": ("mobilenet_v2", 1.0, {}),
    "MobileNetV2 (1.4)": ("mobilenet_v2", 1.4, {}),
}


def _v2_table_4_note(label: str, result: Analysis) -> str:
    madds, params = result.totals["madds"], result.totals["params"]
    if label == "MobileNetV1":
        bn_elements = sum(layer.activation for layer in result.layers if layer.kind == "batchnorm")
        return (f"this paper prints 575M for the network the MobileNetV1 paper prints as 569M (its Table 8); the "
                f"exact {madds / 1e6:.2f}M agrees with the latter. No counting convention closes the gap: "
                f"1001 classes add 1,024, and BatchNorm as one multiply-add per element adds {bn_elements:,} "
                f"({(madds + bn_elements) / 1e6:.2f}M)")
    if label == "MobileNetV2 (1.4)":
        return (f"the authors' released 1.4 checkpoint is listed at 582M and 6.06M (TF-slim README, see "
                f"`costmodel reproduce mobilenet_v2 --table slim`), which costmodel reproduces: "
                f"{madds / 1e6:.2f}M and {(params - _batchnorm(result)) / 1e6:.2f}M without BatchNorm; the "
                "paper's 585M / 6.9M count the same model differently")
    return ""


def v2_table4() -> Reproduction:
    """MobileNetV2 Table 4: ImageNet comparison (mult-adds and parameters)."""
    rows, skipped = [], []
    for paper in load("mobilenet_v2_table4_imagenet.csv").rows:
        mapping = _V2_TABLE_4[paper["network"]]
        if mapping is None:
            skipped.append(f"{paper['network']} ({paper['params']}, {paper['madds']})")
            continue
        model, alpha, options = mapping
        result = analyze(model, alpha=alpha, options=options)
        params, params_note = _params(_millions(paper["params"]), result)
        rows.append(Row(paper["network"], _setting(model, result, options), (
            Figure("mult-adds (M)", _millions(paper["madds"]), result.totals["madds"]), params),
            note=_join(_v2_table_4_note(paper["network"], result), params_note)))
    notes = [f"Not in the zoo, not reproduced: {', '.join(skipped)}."] if skipped else []
    v2 = analyze("mobilenet_v2")
    notes.append("params are torch's count (BatchNorm's gamma and beta included); MobileNetV2 without them is "
                 f"{(v2.totals['params'] - _batchnorm(v2)) / 1e6:.2f}M, as in the reference checkpoint table.")
    return Reproduction("mobilenet_v2", "4", "MobileNetV2 paper, Table 4: ImageNet comparison",
                        f"{V2_CITATION}, Table 4", tuple(rows), notes=tuple(notes))


def slim_checkpoints() -> Reproduction:
    """The reference implementation's published checkpoint table for MobileNetV2 and V3."""
    rows = []
    for paper in load("mobilenet_v2_tfslim_checkpoints.csv").rows:
        model, alpha, resolution = paper["model"], float(paper["alpha"]), int(paper["resolution"])
        options: dict[str, Any] = {"reference": "tfslim"} if model.startswith("mobilenet_v3") else {}
        if model == "mobilenet_v3_small":
            options["last_channel"] = 1280
        result = analyze(model, alpha=alpha, resolution=resolution, options=options)
        head = result.layers[-1].input_shapes[0].channels
        # TF-slim classifies 1001 classes (a background class): one more output of the last layer.
        macs = Figure("MACs (M)", paper["million_macs"], result.totals["madds"] + head)
        params = Figure("params (M)", paper["million_params"], result.totals["params"] - _batchnorm(result) + head + 1)
        note = ""
        if model == "mobilenet_v3_small":
            code = analyze(model, alpha=alpha, options={**options, "last_channel": 1024})
            code_params = code.totals["params"] - _batchnorm(code) + 1025
            verdict = "match" if params.agrees else "do not match"
            note = (f"the params {verdict} the 1280-wide penultimate layer of the paper's Table 2 (the code's 1024 "
                    f"gives {code_params / 1e6:.2f}M)")
            if not macs.agrees:
                head_difference = result.totals["madds"] - code.totals["madds"]
                note += (f"; the printed MACs are not reproduced ({macs.exact / 1e6:.2f}M counted; 1280 vs 1024 "
                         f"changes them by {head_difference / 1e6:.2f}M, far less than the gap), and the paper's "
                         "Table 3 prints the same")
        rows.append(Row(f"{model} {paper['alpha']} {resolution}", _setting(model, result, options),
                        (macs, params), note=note))
    return Reproduction(
        "mobilenet_v2", "slim", "MobileNetV2/V3 reference checkpoints (TF-slim README)", SLIM_CITATION,
        tuple(rows),
        notes=("TF-slim's models classify 1001 classes (one background class): counts here add the extra "
               "output to costmodel's 1000-class models. Its parameter counts leave out BatchNorm, so these do "
               "too. The table truncates (0.75 at 192: 153.94M printed 153).",
               "MobileNetV3 rows use the tfslim width rules (expansion = factor x rounded input, full-width "
               "penultimate layer), the rules of the code that trained these checkpoints; Small rows the 1280-wide "
               "penultimate layer."))


def v3_table3() -> Reproduction:
    """MobileNetV3 Table 3: mult-adds and parameters of the headline models."""
    settings: dict[str, tuple[str, float, dict[str, Any]]] = {
        "V3-Large 1.0": ("mobilenet_v3_large", 1.0, {}),
        "V3-Large 0.75": ("mobilenet_v3_large", 0.75, {"reference": "tfslim"}),
        "V3-Small 1.0": ("mobilenet_v3_small", 1.0, {"last_channel": 1280}),
        "V3-Small 0.75": ("mobilenet_v3_small", 0.75, {"reference": "tfslim", "last_channel": 1280}),
        "V2 1.0": ("mobilenet_v2", 1.0, {}),
    }
    rows = []
    for paper in load("mobilenet_v3_table3_headline.csv").rows:
        model, alpha, options = settings[paper["network"]]
        result = analyze(model, alpha=alpha, options=options)
        madds = Figure("mult-adds (M)", paper["madds_M"], result.totals["madds"])
        params, params_note = _params(paper["params_M"], result)
        note = ""
        if paper["network"] == "V3-Large 1.0" and not madds.agrees:
            note = (f"Table 1 counted exactly gives {madds.exact / 1e6:.2f}M; the reference checkpoint table "
                    "prints 217M for the same model, which this agrees with; 219M is not reproduced")
        elif paper["network"] == "V3-Small 1.0" and not madds.agrees:
            code = analyze(model, alpha=alpha)
            note = (f"Table 2 counted exactly gives {madds.exact / 1e6:.2f}M with its 1280 head and "
                    f"{code.totals['madds'] / 1e6:.2f}M with the code's 1024; the {-float(madds.difference):.1f}M "
                    f"gap to {madds.printed}M is not a head width (1280 vs 1024 is "
                    f"{(madds.exact - code.totals['madds']) / 1e6:.2f}M) and is not reproduced")
        elif paper["network"] == "V3-Small 0.75" and not madds.agrees:
            note = "see V3-Small 1.0"
        rows.append(Row(paper["network"], _setting(model, result, options), (madds, params),
                        note=_join(note, params_note)))
    return Reproduction(
        "mobilenet_v3", "3", "MobileNetV3 paper, Table 3: ImageNet headline models", f"{V3_CITATION}, Table 3",
        tuple(rows),
        notes=("Width 0.75 rows use TF-slim's width rules (option reference=tfslim), whose checkpoints the table "
               "reports; torchvision's rules give Large 0.75 140.0M / 3.38M.",
               "Small rows use the paper's 1280-wide penultimate layer (option last_channel=1280); the code's "
               "default is 1024."))


# MobileNetV2 Table 3 columns: (printed name, model, alpha, options, what the paper materializes).
_V2_TABLE_3: tuple[tuple[str, str, float, dict[str, Any], str], ...] = (
    ("MobileNetV1", "mobilenet_v1", 1.0, {}, "every layer's output"),
    ("MobileNetV2", "mobilenet_v2", 1.0, {}, "the tensors between bottleneck blocks"),
    ("ShuffleNet_2x_g3", "shufflenet_v1", 2.0, {"groups": 3}, "every layer's output but the first layer's"),
)


def _materialized(model: str, result: Analysis) -> list:
    """The layer outputs the paper counts: Section 5.1 computes MobileNetV2's expanded tensors in pieces, so only
    the bottleneck tensors between blocks (each block's last node) are materialized; the first layer of MobileNetV2
    and of ShuffleNet uses Section 5's trick and is left out; the 1x1 maps after pooling count for every network."""
    maps = [layer for layer in result.layers if layer.output_shape.layout == "NCHW"]
    if model == "mobilenet_v1":
        return maps
    if model == "shufflenet_v1":
        return [layer for layer in maps if not layer.name.startswith("first_conv.")]
    last_of_block: dict[str, object] = {}
    for layer in maps:
        parts = layer.name.split(".")
        if parts[0] == "features" and 1 <= int(parts[1]) <= 17:
            last_of_block[parts[1]] = layer
    return list(last_of_block.values()) + [layer for layer in maps if layer.output_shape.sample[1:] == (1, 1)]


def _largest(layers: list) -> dict[int, tuple[int, LayerCost]]:
    """Per spatial size H, the channels of the largest materialized tensor and its layer."""
    largest: dict[int, tuple[int, LayerCost]] = {}
    for layer in layers:
        channels, height, _ = layer.output_shape.sample
        if channels > largest.get(height, (0, None))[0]:
            largest[height] = (channels, layer)
    return largest


def _memory(printed_kb: str, channels: int, height: int, width: int, **figure: Any) -> Figure:
    return Figure("memory (kB)", printed_kb, channels * height * width * 2, 1000, significant=2, **figure)


def v2_table3() -> Reproduction:
    """MobileNetV2 Table 3: the largest tensor materialized at each spatial resolution, 16-bit activations."""
    printed = load("mobilenet_v2_table3_max_memory.csv").rows
    rows = []
    for column, model, alpha, options, what in _V2_TABLE_3:
        result = analyze(model, alpha=alpha, options=options, dtype="float16")
        materialized = _materialized(model, result)
        largest = _largest(materialized)
        cells = {paper["size"]: paper[column] for paper in printed}
        for paper in printed:
            cell = paper[column]
            if paper["size"] == "max":
                # the paper's maximum is its largest cell; set it beside costmodel's largest tensor
                top_size = min((size for size in cells if size != "max"),
                               key=lambda size: abs(float(cells[size].split("/")[1]) - float(cell.rstrip("K"))))
                top_height = max(largest, key=lambda h: largest[h][0] * h * h)
                channels, layer = largest[top_height]
                figures = (Figure("channels", cells[top_size].split("/")[0], channels, 1),
                           _memory(cell.rstrip("K"), channels, top_height, top_height))
                note = "" if all(f.agrees for f in figures) else (
                    f"the paper's maximum is its {top_size} cell; costmodel's largest tensor is at "
                    f"{top_height}x{top_height} (see that row)")
                rows.append(Row(f"max {column}", f"{model}, largest: {layer.name} ({top_height}x{top_height})",
                                figures, note=note))
                continue
            height = int(paper["size"].split("x")[0])
            printed_channels, printed_kb = cell.split("/")
            if height in largest:
                channels, layer = largest[height]
                note = ""
            else:     # only the first layer works at this size, and the paper shrinks it with a trick
                channels, layer = _largest([l for l in result.layers if l.output_shape.layout == "NCHW"])[height]
                note = (f"only the first layer's output ({channels} channels) is at {height}x{height}; the paper "
                        f"prints {printed_channels} after the memory trick of its Section 5, not reproduced")
            figures = (Figure("channels", printed_channels, channels, 1),
                       _memory(printed_kb, channels, height, height))
            note = note or _cell_note(model, height, int(printed_channels), printed_kb, materialized, figures)
            rows.append(Row(f"{paper['size']} {column}", f"{model}, largest: {layer.name}", figures, note=note))
    notes = tuple(f"{column}: {what}." for column, _, _, _, what in _V2_TABLE_3)
    peaks = ", ".join(
        f"{model} "
        f"{analyze(model, alpha=alpha, options=options, dtype='float16').totals['peak_activation_bytes'] / 1000:.0f} kB"
        for _, model, alpha, options, _ in _V2_TABLE_3)
    return Reproduction(
        "mobilenet_v2", "3", "MobileNetV2 paper, Table 3: largest tensor per spatial resolution (16-bit)",
        f"{V2_CITATION}, Table 3", tuple(rows),
        notes=("Each cell is channels / kB of the largest tensor the paper counts at that resolution: "
               "H x W x C x 2 bytes / 1000; memory figures are printed with two significant digits.", *notes,
               f"costmodel's own peak activation memory (live tensors over the execution order, 16-bit): {peaks}."))


def _where(layers: list, channels: int) -> str:
    """Where tensors of ``channels`` channels are, as "28x28 (features.4.conv.3)", or "nowhere"."""
    places: dict[int, str] = {}
    for layer in layers:
        if layer.output_shape.sample[0] == channels:
            places.setdefault(layer.output_shape.sample[1], layer.name)
    return ", ".join(f"{h}x{h} ({name})" for h, name in places.items()) or "nowhere"


def _shufflenet_g2(height: int) -> int:
    """The largest materialized width at ``height`` of ShuffleNet 2x with g = 2."""
    result = analyze("shufflenet_v1", alpha=2.0, options={"groups": 2}, dtype="float16")
    return _largest(_materialized("shufflenet_v1", result))[height][0]


def _cell_note(model: str, height: int, printed_channels: int, printed_kb: str, layers: list,
               figures: tuple[Figure, Figure]) -> str:
    """Why a cell differs, from the counts: another tensor count, another stage's width, or g = 2 widths."""
    if all(figure.agrees for figure in figures):
        return ""
    channels, one = figures[0].exact, figures[1].exact
    if printed_channels == channels:
        ratio = Fraction(printed_kb) * 1000 / one
        return (f"{printed_kb} kB is {float(ratio):.2f} times one {channels}-channel {height}x{height} tensor "
                f"({one / 1000:.1f} kB): two tensors, the last 1x1 layer's input and output, where the column's "
                "other cells count one")
    if model == "shufflenet_v1" and _shufflenet_g2(height) == printed_channels:
        return (f"{printed_channels} is the width of ShuffleNet 2x with g = 2 at {height}x{height}; with g = 3 "
                f"it is {channels}: the column's widths are those of g = 2")
    return (f"the largest tensor at {height}x{height} has {channels} channels; {printed_channels}-channel tensors "
            f"are at {_where(layers, printed_channels)}, and {height}x{height}x{printed_channels}x2 B = "
            f"{height * height * printed_channels * 2 / 1000:.1f} kB is the printed {printed_kb}")


V2_TABLES = {"3": v2_table3, "4": v2_table4, "slim": slim_checkpoints}
V3_TABLES = {"3": v3_table3}
