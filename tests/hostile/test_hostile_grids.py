"""Issue 22, items 5 and 6 (numbers): a sweep or fit grid is sized from its ranges before any value is listed or any
network built, and no number typed into sweep, fit, bench or calibrate gives a traceback or a hang. Each case runs
the command line and checks the exit status, the one line (naming the option and what it accepts), that it returns
within a generous bound, and that an existing -o file is untouched."""
import time
from decimal import Decimal, localcontext

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.core.ranges import MAX_DEPTHS, MAX_POINTS
from costmodel.design.sweep import parse_range, sweep

from helpers import one_line, run

SECONDS = 10        # a generous bound: every refusal here takes well under a second


def refused(argv, capsys, tmp_path, *expected):
    """Run ``argv`` with ``-o`` naming an existing file: status 2, one line holding each of ``expected``, within
    ``SECONDS``, the file untouched."""
    target = tmp_path / "previous.out"
    target.write_text("previous")
    start = time.perf_counter()
    status, out, err = run([*argv, "-o", str(target)], capsys)
    elapsed = time.perf_counter() - start
    one_line(status, err)
    for part in expected:
        assert part in err, err
    assert elapsed < SECONDS, elapsed
    assert out == "" and target.read_text() == "previous"
    return err


@pytest.fixture
def profile(tmp_path):
    """A made-up device profile file (each kind: overhead, per mult-add, per byte)."""
    from costmodel.latency import KernelModel, Profile

    path = tmp_path / "toy.toml"
    path.write_text(Profile("toy", "made up", "unfused", 1, {"default": KernelModel(0.5, 0.0, 1.0)}).to_toml())
    return str(path)


@pytest.fixture
def no_network_built(monkeypatch):
    """Any zoo network built, or any setting settled, fails the test."""
    from costmodel import models, sweep as sweep_module
    from costmodel.sources.zoo.entry import ModelEntry

    def built(*args, **kwargs):
        raise AssertionError("a network was built")

    monkeypatch.setattr(ModelEntry, "network", built)
    monkeypatch.setattr(models, "settle", built)
    monkeypatch.setattr(sweep_module, "settle", built)


# item 5: the grid's size, before any work ---------------------------------------------------------------------------

# by hand: (10 - 1) / 0.001 + 1 depths, (10 - 0.1) / 0.01 + 1 alphas, 8192 resolutions
DEPTHS, ALPHAS, RESOLUTIONS = 9_001, 991, 8_192
HUGE_GRID = ["--alpha", "0.1:10:0.01", "--resolution", "1:8192:1", "--depth", "1:10:0.001"]
HUGE_MESSAGE = (f"the grid has {DEPTHS:,} depths x {ALPHAS:,} alphas x {RESOLUTIONS:,} resolutions = "
                f"{DEPTHS * ALPHAS * RESOLUTIONS:,} points, more than the limit of 1,000,000")


@pytest.mark.parametrize("command", [["sweep"], ["fit", "--max-madds", "300M"]])
def test_the_7e10_point_grid_is_refused_at_once(command, capsys, tmp_path, no_network_built):
    """It ran past 120 s and 2.9 GB, building one network per depth before counting the points."""
    refused([command[0], "efficientnet_b0", *command[1:], *HUGE_GRID], capsys, tmp_path, HUGE_MESSAGE)


def test_the_python_api_sizes_the_grid_before_building(no_network_built):
    alphas = parse_range("0.1:10:0.01", "alpha", False)
    resolutions = parse_range("1:8192:1", "resolution", True)
    depths = parse_range("1:10:0.001", "depth", False)
    assert (len(depths), len(alphas), len(resolutions)) == (DEPTHS, ALPHAS, RESOLUTIONS)
    start = time.perf_counter()
    with pytest.raises(CostModelError, match=HUGE_MESSAGE):
        sweep("efficientnet_b0", alphas, resolutions, depths=depths)
    with pytest.raises(CostModelError, match=HUGE_MESSAGE):
        costmodel.fit("efficientnet_b0", max_madds="300M", alphas=alphas, resolutions=resolutions, depths=depths)
    # plain lists too: 1,001 alphas x 1,000 resolutions
    with pytest.raises(CostModelError, match="the grid has 1,001 alphas x 1,000 resolutions = 1,001,000 points"):
        sweep("mobilenet_v1", [1.0] * 1_001, [224] * 1_000)
    with pytest.raises(CostModelError, match="the grid has 1,001 alphas x 1,000 rhos = 1,001,000 points"):
        sweep("mobilenet_v1", [1.0] * 1_001, rhos=[1.0] * 1_000)
    assert time.perf_counter() - start < SECONDS


def test_a_range_of_1e18_values_is_counted_not_listed():
    start = time.perf_counter()
    with pytest.raises(CostModelError, match="^resolution '1:1e18:1' has 1,000,000,000,000,000,000 values"):
        parse_range("1:1e18:1", "resolution", True)
    # 0 to 10^18 by 1: 10^18 + 1 values, exactly
    with pytest.raises(CostModelError, match="^alpha '0:1e18:1' has 1,000,000,000,000,000,001 values, more than "
                                             "the limit of 1,000,000"):
        parse_range("0:1e18:1", "alpha", False)
    # the limit itself is accepted: 10^-7 to 10^-1 by 10^-7 is 10^6 values
    assert len(parse_range("0.0000001:0.1:0.0000001", "alpha", False)) == MAX_POINTS
    assert time.perf_counter() - start < SECONDS


def test_more_depths_than_the_limit_are_refused_before_building(capsys, tmp_path, no_network_built):
    """A network is built and counted per depth: 0.05 to 10 by 0.05 is 200 depths."""
    refused(["sweep", "efficientnet_b0", "--depth", "0.05:10:0.05"], capsys, tmp_path,
            f"the grid has 200 depths, more than the limit of {MAX_DEPTHS}")
    refused(["fit", "efficientnet_b0", "--max-madds", "300M", "--depth", "0.05:10:0.05"], capsys, tmp_path,
            f"the grid has 200 depths, more than the limit of {MAX_DEPTHS}")


def test_a_latency_limit_refuses_a_grid_it_would_price_for_minutes(capsys, tmp_path, monkeypatch, profile):
    """21 depths x 126 alphas, each a bisection of 8 steps over 225 resolutions: 21,168 analyses (about two
    minutes); refused before the first."""
    from costmodel import analysis

    def analyzed(*args, **kwargs):
        raise AssertionError("a setting was analyzed")

    monkeypatch.setattr(analysis, "analyze", analyzed)
    refused(["fit", "efficientnet_b0", "--max-latency", "1000ms", "--device", profile, "--alpha",
             "0.25:1.5:0.01", "--depth", "1:2:0.05", "--resolution", "96:320:1"], capsys, tmp_path,
            f"a latency or training-memory limit analyzes up to {21 * 126 * 8:,} settings of this grid",
            "more than the limit of 5,000")
    # a training-memory limit analyzes each setting as a latency limit does: refused alike
    refused(["fit", "efficientnet_b0", "--max-train-memory", "24GB", "--alpha", "0.25:1.5:0.01", "--depth",
             "1:2:0.05", "--resolution", "96:320:1"], capsys, tmp_path,
            f"analyzes up to {21 * 126 * 8:,} settings of this grid", "more than the limit of 5,000")


def test_depths_that_build_the_same_network_count_alike():
    """MobileNetV2's stages repeat 1, 2, 3, 4, 3, 3 and 1 blocks; at depths 1.01, 1.05 and 1.1 each keeps
    ceil(d x n) = n + 1 (d x n is between n and n + 1 for n <= 4): one network for the three, counted once, and
    every row equal to table at its own depth."""
    depths = [1.0, 1.01, 1.05, 1.1]
    grid = sweep("mobilenet_v2", [0.5, 1.0], [96, 224], depths=depths)
    rows = list(zip(grid.columns["depth"].tolist(), grid.columns["alpha"].tolist(),
                    grid.columns["resolution"].tolist(), grid.columns["madds"].tolist(),
                    grid.columns["params"].tolist()))
    assert len(rows) == 4 * 2 * 2
    for depth, alpha, resolution, madds, params in rows:
        totals = costmodel.analyze("mobilenet_v2", alpha=alpha, resolution=resolution, depth=depth).totals
        assert (madds, params) == (totals["madds"], totals["params"])
    per_depth = [rows[4 * i:4 * i + 4] for i in range(4)]
    assert [row[3:] for row in per_depth[1]] == [row[3:] for row in per_depth[2]] == [row[3:] for row in per_depth[3]]
    assert [row[3:] for row in per_depth[0]] != [row[3:] for row in per_depth[1]]


def test_a_range_is_exact_as_typed():
    """Value i is start + i x step in decimal, then the nearest float: compared with Decimal's own arithmetic."""
    for text in ("0.25:1.4:0.05", "0.1:0.3:0.1", "1e-300:1e-299:1e-300", "0.3:0.30000000000000000000000000001:1e-29"):
        start, stop, step = (Decimal(part) for part in text.split(":"))
        expected, value = [], start
        with localcontext(prec=400):
            while value <= stop:
                expected.append(float(value))
                value += step
        assert parse_range(text, "alpha", False) == expected
    assert parse_range("0.1:0.3:0.1", "alpha", False) == [0.1, 0.2, 0.3]          # not 0.30000000000000004
    assert parse_range("96:1e2:2", "resolution", True) == [96, 98, 100]
    assert parse_range("0.5:1:1e999999999", "alpha", False) == [0.5]                 # a step past the stop: one value


# item 6: numbers in ranges ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, text, expected", [
    # huge and tiny exponents: Decimal reads them; nothing is computed with them
    ("--alpha", "0:1e999999999:1", "has about 1.00e+999999999 values, more than the limit of 1,000,000"),
    ("--alpha", "0.5:1:1e-999999999", "has about 5e+999999998 values, more than the limit of 1,000,000"),
    ("--alpha", "1:1e5000:1", "has about 1.00e+5000 values"),
    ("--alpha", "1e999999999", "--alpha must be in (0, 10]"),
    ("--alpha", "1e-999999999", "--alpha must be in (0, 10]"),                 # positive, but 0.0 as a float
    ("--alpha", "1e400", "--alpha must be in (0, 10]"),
    ("--alpha", "1e-9999999999999999999999", "--alpha must be in (0, 10]"),    # past Decimal's own exponents
    ("--alpha", "0.5:20:0.5", "--alpha must be in (0, 10]"),
    ("--rho", "1e5000", "--rho must be in (0, 10]"),
    ("--rho", "0:1:0.5", "--rho must be in (0, 10]"),
    ("--rho", "0.5:1:1e-9", "--rho '0.5:1:1e-9' has 500,000,001 values"),
    ("--depth", "1e-999999999:1:0.5", "--depth must be in (0, 10]"),
    ("--depth", "0:1:0.5", "--depth must be in (0, 10]"),
    ("--resolution", "1e999999999", "--resolution must be in [1, 8192]"),
    ("--resolution", "0:64:32", "--resolution must be in [1, 8192]"),
    ("--resolution", "96:9000:8", "--resolution must be in [1, 8192]"),
    ("--resolution", "1e-999999999", "--resolution must be whole numbers of pixels"),
    # malformed ranges
    ("--alpha", "", "--alpha must be numbers like 0.25:1.4:0.05"),
    ("--alpha", "::", "--alpha must be numbers like 0.25:1.4:0.05"),
    ("--alpha", "1:2", "--alpha must be VALUE or START:STOP:STEP"),
    ("--alpha", "1:2:0", "--alpha step must be positive"),
    ("--alpha", "1:2:-0.5", "--alpha step must be positive"),
    ("--alpha", "1:0.5:0.1", "--alpha range is reversed"),
    ("--alpha", "nan", "--alpha must be finite numbers"),
    ("--alpha", "0.5:inf:0.1", "--alpha must be finite numbers"),
    ("--alpha", "-0", "--alpha must be in (0, 10]"),
    ("--alpha", "1_000", "--alpha must be numbers like"),                        # Decimal reads 1000
    ("--alpha", "\u0661", "--alpha must be numbers like"),                       # ARABIC-INDIC ONE: Decimal reads 1
    ("--alpha", "0x1", "--alpha must be numbers like"),
    ("--alpha", "1" * 5_000, "--alpha is 5,000 characters long, more than the limit of 200"),
    ("--resolution", "96.5", "--resolution must be whole numbers of pixels"),
    ("--resolution", "0x0", "resolution must be in [1, 8192]"),
    ("--resolution", "1e3x1e3", "resolution must be N or HxW in pixels"),
    ("--resolution", "\u00b2x2", "resolution must be N or HxW in pixels"),      # SUPERSCRIPT TWO: isdigit, not int
    ("--resolution", "9" * 5_000 + "x1", "resolution must be in [1, 8192]"),   # int() refuses 5,000 digits
])
def test_a_bad_range_is_one_line(option, text, expected, capsys, tmp_path):
    refused(["sweep", "mobilenet_v1", option, text], capsys, tmp_path, expected)


def test_fit_says_it_searches_square_inputs(capsys, tmp_path):
    refused(["fit", "mobilenet_v1", "--max-madds", "100M", "--resolution", "160x224"], capsys, tmp_path,
            "fit searches square inputs: --resolution takes START:STOP:STEP or N, got '160x224'")


@pytest.mark.parametrize("option, text, expected", [
    ("--alpha", "0:1e999999999:1", "has about 1.00e+999999999 values"),
    ("--resolution", "1e999999999", "--resolution must be in [1, 8192]"),
    ("--depth", "0.5:1:1e-999999999", "has about 5e+999999998 values"),
    ("--depth", "1:11:1", "--depth must be in (0, 10]"),
])
def test_fit_reads_ranges_alike(option, text, expected, capsys, tmp_path):
    refused(["fit", "mobilenet_v2", "--max-madds", "150M", option, text], capsys, tmp_path, expected)


@pytest.mark.parametrize("argv, expected", [
    (["--alpha", "1e400"], "alpha must be in (0, 10], got inf"),     # click's float: inf
    (["--batch", str(10**30)], "batch must be in [1, 1,000,000]"),   # click's int
    (["--rho", "nan"], "rho must be in (0, 10], got nan"),
])
def test_click_numbers_past_every_bound_are_one_line(argv, expected, capsys, tmp_path):
    refused(["table", "mobilenet_v1", *argv], capsys, tmp_path, expected)


# item 6: fit's limits ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option, text, expected", [
    ("--max-madds", "1e400", "--max-madds must be in (0, 1e30]"),
    ("--max-madds", "1e999999999", "--max-madds must be in (0, 1e30]"),          # was 10**999999999: a hang
    ("--max-params", "1e99999999999999999999999", "--max-params must be in (0, 1e30]"),
    ("--max-flops", "1.0000000001e30", "--max-flops must be in (0, 1e30]"),
    ("--max-memory-access", "1e31B", "--max-memory-access must be in (0, 1e30] bytes"),
    ("--max-peak-memory", "0.5", "--max-peak-memory must be more than 0"),      # a count below one byte
    ("--max-madds", "1e-999999999", "--max-madds must be more than 0"),
    ("--max-madds", "0", "--max-madds must be in (0, 1e30]"),
    ("--max-madds", "-1M", "--max-madds must be a number with a unit like 150M"),
    ("--max-madds", "\u0661M", "--max-madds must be a number with a unit like 150M"),
    ("--max-madds", "1_000M", "--max-madds must be a number with a unit like 150M"),
    ("--max-madds", "1" * 5_000, "--max-madds is 5,000 characters long, more than the limit of 100"),
])
def test_a_bad_limit_is_one_line(option, text, expected, capsys, tmp_path):
    refused(["fit", "mobilenet_v2", option, text], capsys, tmp_path, expected)


@pytest.mark.parametrize("text, expected", [
    ("1e400ms", "--max-latency must be in (0, 1e30] ms"),
    ("1e999999999ms", "--max-latency must be in (0, 1e30] ms"),
    ("1e28s", "--max-latency must be in (0, 1e30] ms"),                          # 10^31 ms
    ("1e-999999999ms", "--max-latency must be more than 0"),
    ("infms", "--max-latency must be a number with a unit like 20ms"),
    ("nanms", "--max-latency must be a number with a unit like 20ms"),
])
def test_a_bad_latency_limit_is_one_line(text, expected, capsys, tmp_path, profile):
    refused(["fit", "mobilenet_v2", "--max-latency", text, "--device", profile], capsys, tmp_path, expected)


def test_limits_are_exact_in_python_too():
    from costmodel.core.units import parse_quantity

    # exactly 1.1 x 10^20 (a float of 1.1 times 10**20 would be 110000000000000016384)
    assert parse_quantity("1.1e20", "count", "max_madds") == 110 * 10**18
    assert parse_quantity("1e30", "count", "max_madds") == 10**30
    assert parse_quantity(10**30, "bytes", "max_peak_memory") == 10**30
    assert parse_quantity("1e27s", "time", "max_latency") == 1e30
    for value in (10**400, 10**5000, -(10**40), float("inf"), float("nan"), 1e31):
        with pytest.raises(CostModelError, match="max_madds must be"):
            parse_quantity(value, "count", "max_madds")
    with pytest.raises(CostModelError, match=r"max_madds must be in \(0, 1e30\], .* got about 10\^5000"):
        costmodel.fit("mobilenet_v2", max_madds=10**5000)


# item 6: bench and calibrate, refused before any child process starts ----------------------------------------------

@pytest.fixture
def no_measurement(monkeypatch):
    from costmodel import bench

    def measured(*args, **kwargs):
        raise AssertionError("a measurement started")

    monkeypatch.setattr(bench, "run_child", measured)


@pytest.mark.parametrize("command", [["bench", "mobilenet_v1"], ["calibrate"]])
@pytest.mark.parametrize("timeout, shown", [("inf", "inf"), ("1e12", "1000000000000.0"), ("1e400", "inf"),
                                            ("nan", "nan"), ("-1", "-1.0"), ("0", "0.0")])
def test_a_bad_timeout_is_refused_before_measuring(command, timeout, shown, capsys, tmp_path, no_measurement):
    """inf and 1e12 overflowed the wait for the child ("OverflowError: timeout value is too large")."""
    refused([*command, "--timeout", timeout], capsys, tmp_path,
            f"--timeout must be a number of seconds in (0, 604,800] (a week), got {shown}")


@pytest.mark.parametrize("argv, expected", [
    (["bench", "mobilenet_v1", "--warmup", "-1"], "--warmup must be an integer >= 0, got -1 (it takes 0 to 10,000)"),
    (["bench", "mobilenet_v1", "--warmup", str(10**12)], "--warmup must be at most 10,000, got 1000000000000"),
    (["bench", "mobilenet_v1", "--repeats", "0"], "--repeats must be an integer >= 1, got 0 (it takes 1 to 10,000)"),
    (["bench", "mobilenet_v1", "--repeats", str(10**12)], "--repeats must be at most 10,000"),
    (["bench", "mobilenet_v1", "--threads", "0"], "--threads must be an integer >= 1"),
    (["bench", "mobilenet_v1", "--threads", str(10**12)], "--threads must be at most 1,024"),
    (["bench", "mobilenet_v1", "--batch", str(10**30)], "--batch must be at most 1,000,000, got about 10^30"),
    (["calibrate", "--samples", "1"], "--samples must be an integer >= 2, got 1 (it takes 2 to 1,000)"),
    (["calibrate", "--samples", str(10**12)], "--samples must be at most 1,000"),
    (["calibrate", "--repeats", "-3"], "--repeats must be an integer >= 1"),
    (["calibrate", "--threads", str(10**12)], "--threads must be at most 1,024"),
    (["bench", "mobilenet_v1", "--alpha", "1e400"], "alpha must be in (0, 10], got inf"),
    (["bench", "mobilenet_v1", "--depth", "nan"], "depth must be in (0, 10], got nan"),
    (["bench", "mobilenet_v1", "--rho", "20"], "rho must be in (0, 10], got 20.0"),
    (["bench", "mobilenet_v1", "--resolution", "0x5"], "resolution must be in [1, 8192]"),
])
def test_a_bad_count_is_refused_before_measuring(argv, expected, capsys, tmp_path, no_measurement):
    refused(argv, capsys, tmp_path, expected)


def test_the_python_api_refuses_bad_timeouts_before_measuring(no_measurement):
    from costmodel.latency.bench import bench, calibrate, microbench

    for timeout in (float("inf"), 1e12, float("nan"), 0, -1, 10**400, True, "60"):
        for call in (lambda: bench("mobilenet_v1", timeout=timeout), lambda: calibrate(timeout=timeout),
                     lambda: microbench("1", timeout=timeout)):
            with pytest.raises(CostModelError, match="^timeout must be a number of seconds"):
                call()
