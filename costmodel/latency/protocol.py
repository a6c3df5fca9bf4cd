"""How costmodel times anything on a shared machine (issue 25): interleaved rounds, a low order statistic, and that
statistic's own repeatability.

Noise on a shared machine only ever adds time, and it comes in bursts of seconds to minutes. So the things compared
run in interleaved rounds (each round runs each of them in turn, so a burst reaches all alike), and the figure kept
for each is the **minimum** of its runs: the run that met the least interference. Its repeatability is measured,
not assumed: the runs are cut into consecutive **windows** (equal shares of the rounds, in time order), the
statistic is taken in each window alone, and the **spread** is the largest window's value over the smallest, less
one (0.034: the windows agreed within 3.4%). The median's spread is kept beside it, for comparison: on this machine
the median per window moved by 20-37% between windows where the minimum moved by 3.4-5.7% (issue 25's probe).

The figure printed is the minimum over all runs, "17.00 ms (min of 30 runs; 5 windows within 3.4%)". No torch here:
``interleave`` takes any callables and a clock.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

STATISTIC = "min"          # the order statistic every measured figure reports
WINDOWS = 5                # the windows a run is cut into for the spread
PER_ROUND = 1              # runs of one thing in a row in each interleaved round


@dataclass(frozen=True)
class Measured:
    """One measured figure: the minimum of ``runs`` timings and how far it moved between windows of the run.

    :ivar value: the minimum of all runs, in the samples' unit (``interleave`` gives milliseconds)
    :ivar runs: how many timed runs it is the minimum of
    :ivar windows: the minimum of each window, in time order
    :ivar median: the median of all runs
    :ivar median_windows: the median of each window (the statistic this protocol replaces, kept to compare)
    """

    value: float
    runs: int
    windows: tuple[float, ...]
    median: float
    median_windows: tuple[float, ...]

    @property
    def spread(self) -> float:
        """The windows' largest minimum over their smallest, less one (0 with one window).

        :returns: a fraction, 0.034 for 3.4%"""
        return _spread(self.windows)

    @property
    def median_spread(self) -> float:
        """The same spread of the windows' medians.

        :returns: a fraction"""
        return _spread(self.median_windows)

    def to_dict(self) -> dict[str, Any]:
        """The figure as JSON holds it.

        :returns: the statistic's name, its value, the runs, the per-window values and spreads of the minimum and
            of the median"""
        return {"statistic": STATISTIC, "value": self.value, "runs": self.runs, "windows": list(self.windows),
                "spread": self.spread, "median": self.median, "median_windows": list(self.median_windows),
                "median_spread": self.median_spread}

    def how(self) -> str:
        """How the figure was taken: ``min of 30 runs; 5 windows within 3.4%``.

        :returns: a phrase"""
        within = f"; {len(self.windows)} windows within {self.spread:.1%}" if len(self.windows) > 1 else ""
        runs = f"{self.runs} run" + ("s" if self.runs != 1 else "")
        return f"{STATISTIC} of {runs}{within}"

    def describe(self, unit: str = "ms", digits: int = 2) -> str:
        """The figure in words: ``17.00 ms (min of 30 runs; 5 windows within 3.4%)``.

        :param unit: the samples' unit
        :param digits: decimals of the value
        :returns: one line"""
        return f"{self.value:.{digits}f} {unit} ({self.how()})"


def _spread(values: Sequence[float]) -> float:
    if len(values) < 2 or min(values) <= 0:
        return 0.0
    return max(values) / min(values) - 1.0


def faster_throughout(fast: Measured, slow: Measured) -> bool:
    """Whether ``fast`` beat ``slow`` beyond the measurement's spread: its minimum was the lower in every window of
    the run (the two measured in the same interleaved rounds and cut into as many windows). A slowdown of the
    machine reaches both in the same window, so a difference that holds in every window is the things', not the
    moment's; one that changes sides between windows is within the spread.

    :param fast: the figure claimed faster
    :param slow: the other, from the same rounds
    :returns: True when ``fast`` was faster in each window (and so overall)
    :raises ValueError: when the two were not cut into the same number of windows"""
    if len(fast.windows) != len(slow.windows):
        raise ValueError(f"the figures have {len(fast.windows)} and {len(slow.windows)} windows: not of one run")
    return all(a < b for a, b in zip(fast.windows, slow.windows))


def measured(samples: Sequence[float], windows: int = WINDOWS) -> Measured:
    """The figure of ``samples`` (timings in the order they were taken): their minimum, cut into ``windows``
    consecutive windows of as equal a number of samples as can be (the first windows take one more where they do
    not divide), at most one window per sample.

    :param samples: timings, in time order (at least one)
    :param windows: how many windows to cut them into (at least one)
    :returns: a ``Measured``
    :raises ValueError: with no samples, or fewer than one window"""
    if not samples:
        raise ValueError("no timings to summarize")
    if windows < 1:
        raise ValueError(f"windows must be at least 1, got {windows}")
    count = min(windows, len(samples))
    size, extra = divmod(len(samples), count)
    parts, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        parts.append(samples[start:end])
        start = end
    return Measured(min(samples), len(samples), tuple(min(part) for part in parts), statistics.median(samples),
                    tuple(statistics.median(part) for part in parts))


def interleave(runs: Mapping[str, Callable[[], Any]], rounds: int, per_round: int = 1,
               clock: Callable[[], float] = time.perf_counter, windows: int = WINDOWS) -> dict[str, Measured]:
    """Each of ``runs`` timed in ``rounds`` interleaved rounds: every round runs each callable ``per_round`` times
    in turn (in the order given), each run timed alone with ``clock``.

    :param runs: the callables to time, by name
    :param rounds: how many rounds (at least one)
    :param per_round: timed runs of each callable in a round
    :param clock: seconds as a float (``time.perf_counter``)
    :param windows: windows of the spread (``measured``)
    :returns: each name's ``Measured``, in milliseconds"""
    if rounds < 1 or per_round < 1:
        raise ValueError(f"rounds and per_round must be at least 1, got {rounds} and {per_round}")
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            for _ in range(per_round):
                start = clock()
                run()
                samples[name].append((clock() - start) * 1e3)
    return {name: measured(taken, windows) for name, taken in samples.items()}
