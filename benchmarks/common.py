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


def min_seconds(function, repeat: int = 5) -> float:
    """The fastest of ``repeat`` calls after one warm-up call (noise on a shared machine only adds time)."""
    function()
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        rounds.append(time.perf_counter() - start)
    return min(rounds)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
