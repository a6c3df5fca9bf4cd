"""The published Pixel 1 latencies of the MobileNets and MnasNet beside costmodel's estimates
(``costmodel reproduce mobilenet_v1|mobilenet_v2 --table latency [--device PROFILE]``).

Each row sets a published latency (one large core of a Google Pixel 1, TF-Lite, float, batch 1) beside:

- the roofline estimate on the ``pixel1-big-core`` preset, on the fused view (TF-Lite folds BatchNorm and fuses
  activations): each layer takes max(FLOPs / peak, bytes / bandwidth);
- a FLOPs-proportional baseline: mult-adds x the Pixel 1's milliseconds per mult-add, that constant the median over
  the other rows (leave one out, so no row predicts itself);
- with a device profile (``--device PROFILE``, from ``costmodel calibrate``): the profile's predicted latency, which
  prices each kernel on the machine it was measured on, carried to the Pixel 1 by one constant, the median ratio of
  published to predicted over the other rows (leave one out again). The profile gives the networks' relative costs;
  the one constant is the Pixel 1's speed against that machine.

The roofline and baseline columns are counts only (the committed page); the calibrated column depends on the
profile given."""
from __future__ import annotations

import platform
import statistics
from dataclasses import dataclass
from typing import Any

from ..sources.analyze import analyze
from ..core.formatting import Table
from .core import TablePage
from ..core.papers import load
from ..latency.protocol import Measured

# (published row's model, its source paper, zoo model, alpha)
ROWS = (
    ("MobileNetV1 1.0-224", "MobileNetV2 (Sandler et al. 2018)", "mobilenet_v1", 1.0),
    ("MobileNetV2 1.0-224", "MobileNetV2 (Sandler et al. 2018)", "mobilenet_v2", 1.0),
    ("MobileNetV2 1.4-224", "MobileNetV2 (Sandler et al. 2018)", "mobilenet_v2", 1.4),
    ("MnasNet-A1", "MnasNet (Tan et al. 2019)", "mnasnet_a1", 1.0),
    ("MobileNetV2 1.0-224", "MobileNetV3 (Howard et al. 2019), final version", "mobilenet_v2", 1.0),
    ("MnasNet-A1", "MobileNetV3 (Howard et al. 2019), final version", "mnasnet_a1", 1.0),
    ("MobileNetV3-Large 1.0", "MobileNetV3 (Howard et al. 2019), final version", "mobilenet_v3_large", 1.0),
    ("MobileNetV3-Large 0.75", "MobileNetV3 (Howard et al. 2019), final version", "mobilenet_v3_large", 0.75),
    ("MobileNetV3-Small 1.0", "MobileNetV3 (Howard et al. 2019), final version", "mobilenet_v3_small", 1.0),
    ("MobileNetV3-Small 0.75", "MobileNetV3 (Howard et al. 2019), final version", "mobilenet_v3_small", 0.75),
)
DEVICE = "pixel1-big-core"


@dataclass(frozen=True)
class LatencyRow:
    label: str
    source: str
    setting: str
    published_ms: float
    madds: int
    roofline_ms: float
    baseline_ms: float
    calibrated_ms: float | None
    measured: "Measured | None" = None       # this network timed here (``--measure``): min of its runs, spread
    carried_ms: float | None = None          # that minimum carried to the Pixel 1 by one constant (leave one out)


def _leave_one_out(ratios: "list[float]") -> list[float]:
    """For each index, the median of the other ratios."""
    return [statistics.median(ratios[:index] + ratios[index + 1:]) for index in range(len(ratios))]


def _error(estimate: float, published: float) -> str:
    return f"{100 * (estimate / published - 1):+.0f}%"


@dataclass(frozen=True)
class LatencyTable(TablePage):
    paper: str
    rows: tuple[LatencyRow, ...]
    profile: str = ""           # the profile's name and description, when one was given
    measured_on: str = ""       # where the networks were timed (``--measure``), else ""

    table = "latency"
    title = "Published Pixel 1 latencies beside costmodel's estimates"
    source = ("MobileNetV2 Table 4 (arXiv:1801.04381), MnasNet Sec. 6.1 (arXiv:1807.11626), MobileNetV3 Table 3 "
              "(arXiv:1905.02244, ICCV 2019 version)")

    def table_view(self) -> Table:
        headings = ["network", "published in", "costmodel setting", "published (ms)", "mult-adds",
                    f"roofline on {DEVICE} (ms)", "error", "FLOPs-proportional (ms)", "error"]
        if self.profile:
            headings += ["calibrated (ms)", "error"]
        if self.measured_on:
            headings += ["measured here (ms)", "windows within", "carried (ms)", "error"]
        table = Table(tuple(headings), align=("l", "l", "l") + ("r",) * (len(headings) - 3))
        for row in self.rows:
            cells = [row.label, row.source, row.setting, f"{row.published_ms:g}", f"{row.madds:,}",
                     f"{row.roofline_ms:.1f}", _error(row.roofline_ms, row.published_ms), f"{row.baseline_ms:.1f}",
                     _error(row.baseline_ms, row.published_ms)]
            if self.profile and row.calibrated_ms is not None:
                cells += [f"{row.calibrated_ms:.1f}", _error(row.calibrated_ms, row.published_ms)]
            if row.measured is not None and row.carried_ms is not None:
                cells += [f"{row.measured.value:.2f}", f"{row.measured.spread:.1%}", f"{row.carried_ms:.1f}",
                          _error(row.carried_ms, row.published_ms)]
            table.add(*cells)
        return table

    def summary(self) -> list[str]:
        def within(values: "list[tuple[float, float]]") -> str:
            errors = [abs(estimate / published - 1) for estimate, published in values]
            return (f"median error {100 * statistics.median(errors):.0f}%, "
                    f"{sum(error <= 0.10 for error in errors)} of {len(errors)} within +-10%")
        lines = [f"roofline: {within([(row.roofline_ms, row.published_ms) for row in self.rows])}",
                 f"FLOPs-proportional: {within([(row.baseline_ms, row.published_ms) for row in self.rows])}"]
        if self.profile:
            calibrated = [(row.calibrated_ms, row.published_ms) for row in self.rows if row.calibrated_ms is not None]
            lines.append(f"calibrated: {within(calibrated)}")
        if self.measured_on:
            carried = [(row.carried_ms, row.published_ms) for row in self.rows if row.carried_ms is not None]
            lines.append(f"measured here, carried by one constant: {within(carried)}")
        return lines

    def notes(self) -> list[str]:
        notes = ["Published: one large core of a Google Pixel 1, TF-Lite, float, batch 1. The MobileNetV3 paper's "
                 "final version times MobileNetV2 and MnasNet again (64 and 71 ms against 75 and 78 ms) with a newer "
                 "TF-Lite: both are rows.",
                 f"Roofline: the fused view (BatchNorm folded, activations fused) on the {DEVICE} preset (its peak "
                 "and bandwidth in costmodel/data/devices.toml); each layer takes max(FLOPs / peak, bytes / "
                 "bandwidth). It assumes every kernel reaches the roofs, so it comes out low.",
                 "FLOPs-proportional: mult-adds x the median ms per mult-add of the other rows (leave one out)."]
        if self.profile:
            notes.append(f"Calibrated: the profile {self.profile}, its predicted latency x the median ratio of "
                         "published to predicted over the other rows (leave one out): the profile's machine is not "
                         "a Pixel 1, so one constant carries its relative costs across.")
        else:
            notes.append("With a device profile (costmodel calibrate -o cpu.toml; then --device cpu.toml) the page "
                         "adds the calibrated column.")
        if self.measured_on:
            notes.append(f"Measured here: {self.measured_on}; each network timed whole with torch in interleaved "
                         "rounds (each timed run right after an untimed one), the minimum of its runs, 'windows "
                         "within' how far that minimum moved between windows of the run; carried to the Pixel 1 by "
                         "the median ratio of published to measured over the other rows (leave one out). A row whose "
                         "error is within its spread is not told apart from the published figure here.")
        return notes

    def all_notes(self) -> list[str]:
        return self.notes()

    def command(self) -> str:
        return f"costmodel reproduce {self.paper} --table latency --write"



def latency_table(paper: str, profile: Any = None, measure: bool = False, progress: bool = False,
                  repeats: int = 30) -> LatencyTable:
    """The published Pixel 1 latencies with the roofline, FLOPs-proportional and (given a ``latency.Profile``)
    calibrated estimates, and (``measure``) each network timed on this CPU with the timing protocol.

    :param paper: "mobilenet_v1" or "mobilenet_v2".
    :param profile: a calibrated ``latency.Profile``, for the calibrated column.
    :param measure: time each row's network here (torch needed), for the measured column.
    :param progress: a progress bar on standard error while measuring.
    :param repeats: the interleaved rounds of the measurement.
    :returns: the ``LatencyTable``."""
    from ..latency.devices import load_device

    device = load_device(DEVICE)
    published = {(row["model"], row["paper"]): float(row["latency_ms"])
                 for row in load("published_latencies.csv").rows
                 if row["device"].startswith("Google Pixel 1") and row["latency_ms"]
                 and "quantized" not in row["runtime_or_setting"]}
    measured = []
    for label, source, model, alpha in ROWS:
        result = analyze(model, alpha=alpha)
        fused = analyze(model, alpha=alpha, fused=True)
        roofline = 1e3 * sum(device.seconds(layer.flops, layer.memory_access_bytes) for layer in fused.layers)
        predicted = None
        if profile is not None:
            predicted = sum(profile.layer_ms(profile.priced(result, fused)))
        measured.append((label, source, f"{model} alpha={alpha:g}", published[(label, source)],
                         result.totals["madds"], roofline, predicted))
    per_madd = _leave_one_out([ms / madds for _, _, _, ms, madds, _, _ in measured])
    scale: "list[float | None]" = [None] * len(measured)
    if profile is not None:
        scale = list(_leave_one_out([ms / predicted for _, _, _, ms, _, _, predicted in measured
                                     if predicted is not None]))
    here: "list[Measured | None]" = [None] * len(measured)
    carried: "list[float | None]" = [None] * len(measured)
    measured_on = ""
    if measure:
        from ..latency.bench import networks_whole

        settings = list(dict.fromkeys((model, alpha) for _, _, model, alpha in ROWS))
        answer = networks_whole(settings, repeats=repeats, progress=progress)
        timed = dict(zip(settings, answer["rows"]))
        here = [timed[(model, alpha)] for _, _, model, alpha in ROWS]
        factors = _leave_one_out([row[3] / figure.value for row, figure in zip(measured, here) if figure is not None])
        carried = [figure.value * factor if figure is not None else None for figure, factor in zip(here, factors)]
        measured_on = (f"{platform.machine()}, 1 thread, torch {answer['torch']} eager, {answer['heap']} heap, "
                       f"{repeats} rounds, {len(here[0].windows) if here[0] else 0} windows")
    rows = tuple(LatencyRow(label, source, setting, ms, madds, roofline, madds * rate,
                            predicted * factor if predicted is not None and factor is not None else None,
                            figure, carried_ms)
                 for (label, source, setting, ms, madds, roofline, predicted), rate, factor, figure, carried_ms
                 in zip(measured, per_madd, scale, here, carried))
    described = f"{profile.name} ({profile.description})" if profile is not None else ""
    return LatencyTable(paper, rows, described, measured_on)
