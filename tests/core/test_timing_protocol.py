"""The timing protocol (issue 25): interleaved rounds, the minimum, and its spread between windows of the run. The
values here are worked by hand from the samples given; the clock is a fake one, so nothing is timed."""
import itertools

import pytest

from costmodel.latency.protocol import faster_throughout, interleave, measured


def test_the_figure_is_the_minimum_and_the_spread_is_its_windows_largest_over_smallest():
    # 10 samples, 5 windows of 2: minima 10, 11, 10.5, 12, 10 -> spread 12 / 10 - 1 = 20%
    samples = [10.0, 14.0, 11.0, 30.0, 10.5, 13.0, 12.0, 12.5, 40.0, 10.0]
    figure = measured(samples, windows=5)
    assert figure.value == 10.0 and figure.runs == 10
    assert figure.windows == (10.0, 11.0, 10.5, 12.0, 10.0)
    assert figure.spread == pytest.approx(0.2)
    # medians: of all 10 (sorted 10, 10, 10.5, 11, 12 | 12.5, 13, 14, 30, 40): (12 + 12.5) / 2; per window the mean
    # of each pair: 12, 20.5, 11.75, 12.25, 25 -> 25 / 11.75 - 1
    assert figure.median == 12.25
    assert figure.median_windows == (12.0, 20.5, 11.75, 12.25, 25.0)
    assert figure.median_spread == pytest.approx(25 / 11.75 - 1)
    assert figure.describe() == "10.00 ms (min of 10 runs; 5 windows within 20.0%)"
    assert figure.to_dict()["statistic"] == "min" and figure.to_dict()["spread"] == pytest.approx(0.2)


def test_windows_that_do_not_divide_give_the_first_ones_a_sample_more():
    # 7 samples in 3 windows: 3, 2, 2
    figure = measured([5.0, 4.0, 6.0, 3.0, 7.0, 8.0, 2.0], windows=3)
    assert figure.windows == (4.0, 3.0, 2.0)
    assert figure.spread == pytest.approx(1.0)
    # more windows than samples: one sample each
    assert measured([3.0, 2.0], windows=5).windows == (3.0, 2.0)
    single = measured([4.0])
    assert single.spread == 0.0 and single.describe(unit="us", digits=1) == "4.0 us (min of 1 run)"


def test_bad_requests_are_refused():
    with pytest.raises(ValueError):
        measured([])
    with pytest.raises(ValueError):
        measured([1.0], windows=0)
    with pytest.raises(ValueError):
        interleave({"a": lambda: None}, rounds=0)


def test_rounds_run_each_callable_in_turn_and_time_each_run_alone():
    order = []
    ticks = itertools.count()

    def clock():                                   # each reading a millisecond after the last
        return next(ticks) / 1e3

    runs = {"a": lambda: order.append("a"), "b": lambda: order.append("b")}
    figures = interleave(runs, rounds=3, per_round=2, clock=clock, windows=3)
    assert order == ["a", "a", "b", "b"] * 3
    # each run is read between two consecutive clock readings: 1 ms each
    assert figures["a"].value == pytest.approx(1.0) and figures["a"].runs == 6
    assert figures["b"].windows == pytest.approx((1.0, 1.0, 1.0)) and figures["b"].spread == pytest.approx(0.0)


def test_faster_throughout_asks_for_the_order_in_every_window():
    # windows of two runs: a's minima 1.0, 1.2, 1.1; b's 1.1, 1.3, 1.15 (b slower in each); c's 1.05, 1.1, 1.2
    a = measured([1.0, 1.4, 1.2, 1.3, 1.1, 1.1], windows=3)
    b = measured([1.1, 1.2, 1.3, 1.5, 1.15, 1.2], windows=3)
    c = measured([1.05, 1.3, 1.1, 1.2, 1.2, 1.2], windows=3)
    assert faster_throughout(a, b) and not faster_throughout(b, a)
    # a is faster overall (1.0 against 1.05) but c beats it in the second window: within the spread, both ways
    assert not faster_throughout(a, c) and not faster_throughout(c, a)
    assert not faster_throughout(a, a)                      # a tie is not faster
    with pytest.raises(ValueError, match="3 and 2 windows"):
        faster_throughout(a, measured([1.0, 1.0], windows=2))
