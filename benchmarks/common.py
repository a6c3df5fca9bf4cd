"""Timing helpers for the benchmarks (run by hand: python benchmarks/run_all.py)."""
import statistics
import time


def median_seconds(function, repeat: int = 7, number: int = 1) -> float:
    """The median over ``repeat`` rounds of the time per call of ``number`` calls."""
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            function()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds)


def interleaved(functions: dict, rounds: int = 5) -> dict:
    """Each of ``functions`` (by label) timed in ``rounds`` interleaved rounds after one warm-up call of each (so a
    slow spell of the shared machine falls on all of them): ``{label: (fastest seconds, slowest / fastest)}``."""
    times = {label: [] for label in functions}
    for function in functions.values():
        function()
    for _ in range(rounds):
        for label, function in functions.items():
            start = time.perf_counter()
            function()
            times[label].append(time.perf_counter() - start)
    return {label: (min(values), max(values) / min(values)) for label, values in times.items()}


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
