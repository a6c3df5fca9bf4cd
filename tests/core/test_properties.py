"""Property-based tests (hypothesis): generated valid networks always analyze, consistently; generated malformed
specs and argument lists never raise anything but the documented error.

The suite runs 1,450 generated cases (profile "ci", deterministic). A longer run by hand:
    python -m pytest tests/core/test_properties.py --hypothesis-profile=long
"""
import io
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import costmodel
from costmodel.cli import main
from costmodel.engine.counting import compiled_counts, interpret
from costmodel.core.errors import CostModelError
from costmodel.sources.spec import load_spec

from strategies import networks, spec_documents

ALPHA = st.floats(0.1, 2.0, allow_nan=False).map(lambda a: round(a, 3))


def _fast_and_thorough(body, examples: int, health: tuple = (), **strategies):
    """``body`` as two property tests: a fifth of ``examples`` in the fast part (``python -m pytest``) and all of
    them in the slow part (``-m slow``); the README's test command runs both, so CI checks every example."""
    def made(count: int):
        return settings(max_examples=count, suppress_health_check=list(health))(given(**strategies)(body))
    return made(max(examples // 5, 10)), pytest.mark.slow(made(examples))


def _analyze_consistently(network, alpha, scale):
    alpha = alpha if network.scales_with_alpha else 1.0        # a network of fixed widths refuses other alphas
    base = network.base_resolution[0]
    result = costmodel.analyze(network, alpha=alpha)
    totals = result.totals
    for key in ("params", "madds", "flops", "memory_access", "memory_access_bytes"):
        assert totals[key] == sum(getattr(layer, key) for layer in result.layers)
    assert totals["peak_activation"] == max(layer.live_activation_bytes for layer in result.layers) // 4
    bigger = costmodel.analyze(network, alpha=alpha, resolution=base * scale)
    assert bigger.totals["params"] == totals["params"]                 # params do not depend on the resolution
    assert bigger.totals["madds"] >= totals["madds"]
    for convention in ("costmodel", "fvcore"):
        for batch in (1, 3):
            counts = interpret(network, alpha, (base, base), batch, convention)
            assert compiled_counts(network, alpha, (base, base), batch, convention) == counts


@pytest.mark.slow
@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(network=networks(min_steps=200, max_steps=700), alpha=ALPHA)
def test_large_generated_networks_compile_and_sweep_like_the_interpreter(network, alpha):
    """Hundreds to thousands of nodes: the compiled program (where the network has at most 2,000 nodes) and the grid
    program count what the interpreter counts, or hand the setting back to it."""
    from costmodel.engine.counting import COMPILE_LIMIT
    from costmodel.design.sweep import sweep
    alpha = alpha if network.scales_with_alpha else 1.0
    base = network.base_resolution[0]
    try:
        expected = interpret(network, alpha, (base, base), 2, "costmodel")
    except CostModelError:           # hundreds of pools can shrink a map to nothing: every engine must say so
        with pytest.raises(CostModelError):
            sweep(network, [alpha], [base], batch=2)
        return
    if len(network.nodes) <= COMPILE_LIMIT:
        assert compiled_counts(network, alpha, (base, base), 2, "costmodel") == expected
    grid = sweep(network, [alpha], [base], batch=2)
    totals = costmodel.analyze(network, alpha=alpha, batch=2).totals
    assert [int(grid.columns[key][0]) for key in ("params", "madds", "flops", "peak_activation_bytes")] == [
        totals["params"], totals["madds"], totals["flops"], totals["peak_activation_bytes"]]


def _sweep_like_table(network, alphas):
    from costmodel.design.sweep import sweep
    alphas = alphas if network.scales_with_alpha else [1.0]
    base = network.base_resolution[0]
    grid = sweep(network, alphas, [base, base + 5])
    for index, (alpha, resolution) in enumerate(zip(grid.columns["alpha"].tolist(),
                                                     grid.columns["resolution"].tolist())):
        totals = costmodel.analyze(network, alpha=alpha, resolution=resolution).totals
        assert [grid.columns[key][index] for key in ("params", "madds", "flops", "memory_access_bytes",
                                                     "peak_activation_bytes")] == [
            totals["params"], totals["madds"], totals["flops"], totals["memory_access_bytes"],
            totals["peak_activation_bytes"]]


def _malformed_specs(text, alpha, resolution):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "net.toml"
        path.write_text(text)
        try:
            network = load_spec(path)
            costmodel.analyze(network, alpha=alpha, resolution=resolution).layers
        except CostModelError as error:
            assert "\n" not in str(error) and str(error)


@settings(max_examples=100)
@given(data=st.binary(max_size=200))
def test_random_bytes_as_a_spec(data):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "net.toml"
        path.write_bytes(data)
        try:
            load_spec(path)
        except CostModelError:
            pass


FLAG_VALUES = {
    "--alpha": st.sampled_from(["0.5", "1", "0", "-1", "nan", "inf", "1e9", "x", "", "0.25:1:0.25", "3:1:1"]),
    "--rho": st.sampled_from(["0.5", "0", "-2", "nan", "11", "y"]),
    "--resolution": st.sampled_from(["160", "0", "-5", "1", "9000", "1.5", "zz", "96:160:32", "160:96:32", "1:2:0"]),
    "--format": st.sampled_from(["text", "csv", "json", "markdown", "xml"]),
    "--convention": st.sampled_from(["costmodel", "papers", "fvcore", "flop_counter", "thop"]),
    "--dtype": st.sampled_from(["float32", "int8", "float64"]),
    "-O": st.sampled_from(["groups=3", "groups=7", "last_channel=1280", "variant=v1", "bogus", "=1", "a=b"]),
    "--table": st.sampled_from(["3", "6", "all", "99"]),
}
FLAGS = ["--alpha", "--rho", "--resolution", "--format", "--convention", "--dtype", "-O", "--per-layer",
         "--by-kind", "--bogus", "--table"]
MODELS = ["mobilenet_v1", "mobilenet_v2", "shufflenet_v1", "shufflenet_v2", "vgg16", "alexnet", "mobilenet_v3_small",
          "mobilenet_v9", "", "examples/inception_like.toml", "missing.toml"]


@st.composite
def argument_lists(draw):
    command = draw(st.sampled_from(["table", "sweep", "list", "reproduce", "frobnicate", "--version"]))
    argv = [command]
    if command in ("table", "sweep"):
        argv.append(draw(st.sampled_from(MODELS)))
    if command == "reproduce":
        argv += [draw(st.sampled_from(["mobilenet_v1", "mobilenet_v3", "resnet"])), "--no-write"]
    for flag in draw(st.lists(st.sampled_from(FLAGS), max_size=4)):
        argv.append(flag)
        if flag in FLAG_VALUES:
            argv.append(draw(FLAG_VALUES[flag]))
    return argv


def _argument_lists(argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
    status = exit_info.value.code
    assert status in (0, 2), (argv, status, err.getvalue())
    if status == 2:
        message = err.getvalue()
        assert message.startswith("costmodel: error: ") and message.count("\n") == 1, (argv, message)


test_generated_networks_analyze_consistently, test_generated_networks_analyze_consistently_thoroughly = \
    _fast_and_thorough(_analyze_consistently, 300, (HealthCheck.too_slow,), network=networks(), alpha=ALPHA,
                       scale=st.integers(1, 3))
test_generated_networks_sweep_like_table, test_generated_networks_sweep_like_table_thoroughly = \
    _fast_and_thorough(_sweep_like_table, 150, (HealthCheck.too_slow,), network=networks(),
                       alphas=st.lists(ALPHA, min_size=1, max_size=4, unique=True))
test_malformed_specs_raise_only_the_documented_error, test_malformed_specs_raise_only_the_documented_error_thoroughly \
    = _fast_and_thorough(_malformed_specs, 500, text=spec_documents(), alpha=st.sampled_from([0.5, 1.0]),
                         resolution=st.sampled_from([None, 1, 33]))
test_argument_lists_end_in_a_status_and_one_line, test_argument_lists_end_in_a_status_and_one_line_thoroughly = \
    _fast_and_thorough(_argument_lists, 400, (HealthCheck.too_slow,), argv=argument_lists())
