"""Device profiles: the fit recovers known coefficients, a profile file round-trips and is checked field by field,
and table --device sums each layer's model by hand. (Measured speed is never asserted: see benchmarks/.)"""
import json
import re

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.latency.devices import load_profile
from costmodel.latency import KernelModel, Profile, fit, fit_context

from helpers import run


def test_the_fit_recovers_known_coefficients():
    # conv: 5 us + 2 us per 10^6 mult-adds + 3 us per 10^6 bytes; add: 0.5 us per 10^6 bytes (memory-bound)
    conv = [("conv", "conv", m, b, 5 + 2 * m / 1e6 + 3 * b / 1e6) for m, b in ((1e6, 2e6), (4e6, 1e6), (9e6, 5e6),
                                                                      (2e6, 7e6))]
    add = [("add", "add", 0, b, 0.5 * b / 1e6) for b in (1e6, 3e6, 8e6)]
    profile = fit(conv + add, "toy", "made up", 1)
    model = profile.model("conv", "conv")
    assert (model.overhead_us, model.us_per_mmadd, model.us_per_mb) == pytest.approx((5, 2, 3))
    assert profile.model("add", "add").us_per_mb == pytest.approx(0.5) and profile.model("add", "add").overhead_us == 0
    # an unmeasured kind is priced by the memory-bound kinds' fit
    assert profile.model("resize", "resize") is profile.kinds["default"]
    assert profile.kinds["default"].us_per_mb == pytest.approx(0.5)


def test_the_context_fit_recovers_a_known_scale_and_cost_per_layer():
    # networks measured at 1.25 x their kernels' sum + 20 us per layer
    rows = [(kernel_ms, layers, 1.25 * kernel_ms + 0.020 * layers)
            for kernel_ms, layers in ((5.0, 60), (12.0, 150), (30.0, 90), (8.0, 300), (50.0, 40))]
    assert fit_context(rows) == pytest.approx((1.25, 20.0))
    # measured at 2 x the kernels less 10 us per layer: a cost per layer cannot be negative, so it is dropped and the
    # scale refitted alone, minimizing sum((s k / m - 1)^2): s = sum(k / m) / sum((k / m)^2)
    rows = [(kernel_ms, layers, 2.0 * kernel_ms - 0.010 * layers) for kernel_ms, layers in ((5.0, 60), (12.0, 150),
                                                                                            (30.0, 90))]
    ratios = [kernel_ms / measured for kernel_ms, _, measured in rows]
    assert fit_context(rows) == pytest.approx((sum(ratios) / sum(r * r for r in ratios), 0.0))
    with pytest.raises(CostModelError, match="positive times"):
        fit_context([(1.0, 10, 0.0)])


def test_a_layer_is_priced_with_the_profiles_context(tmp_path):
    # every kernel 10 us; in context 2 x 10 + 5 = 25 us a layer
    flat = KernelModel(10.0, 0.0, 0.0)
    profile = Profile("ctx", "", "unfused", 1, {"default": flat}, "min", scale=2.0, us_per_layer=5.0, networks=3)
    result = costmodel.analyze("mobilenet_v1", alpha=0.25, resolution=32)
    assert profile.layer_ms(result) == pytest.approx([0.025] * len(result.layers))
    assert profile.kernel_us(result) == pytest.approx([10.0] * len(result.layers))
    path = tmp_path / "ctx.toml"
    path.write_text(profile.to_toml())
    assert "[context]\nscale = 2.0\nus_per_layer = 5.0\nnetworks = 3\n" in profile.to_toml()
    assert load_profile(str(path)) == profile
    # a profile without a context (calibrated before it) prices each layer at its kernel alone
    plain = Profile("plain", "", "unfused", 1, {"default": flat})
    assert "[context]" not in plain.to_toml() and (plain.scale, plain.us_per_layer, plain.networks) == (1.0, 0.0, 0)
    # a context set by hand (no networks behind it) is written too, and reads back
    by_hand = Profile("hand", "", "unfused", 1, {"default": flat}, scale=1.5)
    path.write_text(by_hand.to_toml())
    assert load_profile(str(path)) == by_hand


def test_traffic_past_the_cache_threshold_costs_more_per_byte():
    # add: 25 us per 10^6 bytes, and 30 more on all of a kernel's bytes once they exceed 16 x 10^6
    model = KernelModel(2.0, 0.0, 25.0, us_per_mb_beyond=30.0)
    assert model.microseconds(0, 10 * 10**6, 16.0) == pytest.approx(2 + 25 * 10)
    assert model.microseconds(0, 40 * 10**6, 16.0) == pytest.approx(2 + 25 * 40 + 30 * 40)
    assert model.microseconds(0, 40 * 10**6) == pytest.approx(2 + 25 * 40)       # no threshold: all bytes alike
    sizes = (1, 2, 4, 6, 10, 14, 20, 28, 40, 60, 80)
    add = [("add", "add", 0, mb * 10**6, 2 + 25 * mb + (30 * mb if mb > 16 else 0)) for mb in sizes]
    profile = fit(add, "toy", "", 1, caches=(None, 8.0, 16.0, 32.0))
    fitted = profile.model("add", "add")
    assert profile.cache_mb == 16.0
    assert (fitted.overhead_us, fitted.us_per_mb, fitted.us_per_mb_beyond) == pytest.approx((2, 25, 30))
    # the same kernels fitted without a threshold: one cost per byte, and no threshold in the profile
    plain = fit(add, "toy", "", 1, caches=(None,))
    assert plain.cache_mb is None and plain.model("add", "add").us_per_mb_beyond == 0
    # kernels that all cost the same per byte keep no threshold (a threshold must fit better, not tie)
    linear = [("add", "add", 0, mb * 10**6, 25 * mb) for mb in sizes]
    assert fit(linear, "toy", "", 1).cache_mb is None


def test_a_cache_threshold_round_trips_and_prices_each_layer(tmp_path):
    # every layer: 1 us + 10 us per 10^6 bytes, and 20 more past 0.5 x 10^6 bytes
    model = KernelModel(1.0, 0.0, 10.0, us_per_mb_beyond=20.0)
    profile = Profile("cached", "", "unfused", 1, {"default": model}, "min", cache_mb=0.5)
    path = tmp_path / "cached.toml"
    path.write_text(profile.to_toml())
    assert "cache_mb = 0.5\n" in profile.to_toml() and "us_per_mb_beyond = 20.0\n" in profile.to_toml()
    assert load_profile(str(path)) == profile
    result = costmodel.analyze("mobilenet_v1", alpha=0.25, resolution=64)
    expected = [(1 + 10 * layer.memory_access_bytes / 1e6 + (20 * layer.memory_access_bytes / 1e6
                                                             if layer.memory_access_bytes > 0.5e6 else 0)) / 1e3
                for layer in result.layers]
    assert any(layer.memory_access_bytes > 0.5e6 for layer in result.layers)
    assert any(layer.memory_access_bytes <= 0.5e6 for layer in result.layers)
    assert profile.layer_ms(result) == pytest.approx(expected)
    # a profile written before the threshold (no cache_mb, no us_per_mb_beyond) prices all bytes alike
    path.write_text("[profile]\n[kinds.default]\noverhead_us = 1\nus_per_mmadd = 0\nus_per_mb = 10\n")
    old = load_profile(str(path))
    assert old.cache_mb is None and "cache_mb" not in old.to_toml() and "beyond" not in old.to_toml()
    assert old.layer_ms(result) == pytest.approx([(1 + 10 * layer.memory_access_bytes / 1e6) / 1e3
                                                  for layer in result.layers])


def test_calibration_reaches_past_the_cache_and_a_wide_networks_shapes():
    from costmodel.latency.calibration import samples

    measured = {}
    for network in samples(4, 0):
        layer = next(layer for layer in costmodel.analyze(network).layers if layer.name == "op")
        measured.setdefault(layer.kind, []).append((layer.memory_access_bytes, layer.output_shape.dims))
    # the first large map is 96 x 224 x 224 float32: an add of two reads 2 and writes 1 (3 x 96 x 224 x 224 x 4 bytes
    # = 57.8 MB), a batchnorm or an activation reads 1 and writes 1 (38.5 MB), past any cache; the main kernels stop at
    # 128 x 112 x 112 (an add: 19.3 MB)
    assert max(size for size, _ in measured["add"]) == 3 * 96 * 224 * 224 * 4
    for kind in ("mul", "batchnorm", "activation", "depthwise"):
        assert max(size for size, _ in measured[kind]) >= 2 * 96 * 224 * 224 * 4, kind
    # a pointwise convolution from it reads 96 and writes at least 16 channels: (96 + 16) x 224 x 224 x 4 = 22.5 MB
    assert max(size for size, _ in measured["pointwise"]) > (96 + 16) * 224 * 224 * 4
    # AlexNet's first classifier: 9216 x 4096 float32 weights (151 MB) read, with its bias, input and output
    assert max(size for size, _ in measured["linear"]) == (9216 * 4096 + 4096 + 9216 + 4096) * 4


def test_a_negative_term_is_dropped_and_the_rest_refitted():
    import numpy

    # time falls with bytes here (t = 1 + m - 0.1 b, in us and 10^6 units): that term is dropped, the rest refitted
    points = ((1e6, 9e6), (2e6, 1e6), (5e6, 3e6), (3e6, 6e6))
    times = [1 + m / 1e6 - 0.1 * b / 1e6 for m, b in points]
    model = fit([("linear", "linear", m, b, t) for (m, b), t in zip(points, times)] +
                [("add", "add", 0, 1e6, 1.0)], "toy", "", 1).model("linear", "linear")
    reduced, *_ = numpy.linalg.lstsq(numpy.array([[1.0, m / 1e6] for m, _ in points]), numpy.array(times),
                                     rcond=None)
    assert model.us_per_mb == 0 and (model.overhead_us, model.us_per_mmadd) == pytest.approx(tuple(reduced))


def test_a_key_refines_its_kind_and_the_kind_pools_its_keys():
    # ReLU 1 us per 10^6 bytes, GELU 4: each key has its own fit; the kind fits both; a function not measured
    # (tanh) is priced by the kind's
    relu = [("activation", "activation.relu", 0, b, 1.0 * b / 1e6) for b in (1e6, 2e6, 4e6)]
    gelu = [("activation", "activation.gelu", 0, b, 4.0 * b / 1e6) for b in (1e6, 3e6)]
    profile = fit(relu + gelu, "toy", "", 1)
    assert profile.model("activation.relu", "activation").us_per_mb == pytest.approx(1.0)
    assert profile.model("activation.gelu", "activation").us_per_mb == pytest.approx(4.0)
    assert profile.model("activation.tanh", "activation") is profile.kinds["activation"]
    assert profile.kinds["activation"].samples == 5


def test_kernel_keys():
    from costmodel.latency import kernel_key
    from costmodel.ops import Activation, Conv2d, Dropout, Flatten, Linear, Pool2d

    assert kernel_key(Activation("gelu"), "activation") == "activation.gelu"
    from costmodel.core.shapes import Shape

    assert kernel_key(Pool2d("avg", 3, 1, 1), "pool") == "pool.avg.3x3s1"
    assert kernel_key(Pool2d("max", 2, 2), "pool") == "pool.max.2x2s2"
    assert kernel_key(Flatten(1), "flatten") == kernel_key(Dropout(), "dropout") == "view"
    assert kernel_key(Conv2d(8, 3), "conv", Shape("NCHW", (1, 8, 14, 14))) == "conv"
    assert kernel_key(Conv2d(None, 5, groups="depthwise"), "depthwise") == "depthwise.5x5"
    assert kernel_key(Conv2d(8, 1, bias=True), "pointwise", Shape("NCHW", (1, 8, 1, 1))) == "pointwise.on_vector"
    assert kernel_key(Linear(10), "linear", Shape("NC", (1, 10))) == "linear.vector"
    assert kernel_key(Linear(10), "linear", Shape("NLC", (1, 197, 10))) == "linear.tokens"


def test_a_key_with_a_dot_round_trips_through_the_file(tmp_path):
    profile = Profile("toy", "", "unfused", 1, {"activation.relu": KernelModel(1.0, 0.0, 2.0, 3),
                                                "default": KernelModel(0.5, 0.0, 1.0, 1)})
    path = tmp_path / "keys.toml"
    path.write_text(profile.to_toml())
    assert load_profile(str(path)).kinds == profile.kinds


def profile_file(tmp_path):
    profile = Profile("toy", "a made-up device", "unfused", 1, {
        "conv": KernelModel(10.0, 2.0, 0.0), "pointwise": KernelModel(1.0, 4.0, 0.0),
        "depthwise": KernelModel(0.0, 0.0, 3.0), "default": KernelModel(0.5, 0.0, 1.0)})
    path = tmp_path / "toy.toml"
    path.write_text(profile.to_toml())
    return path


def test_a_profile_round_trips_and_prices_every_layer(tmp_path, capsys):
    path = profile_file(tmp_path)
    profile = load_profile(str(path))
    assert profile.kinds["conv"] == KernelModel(10.0, 2.0, 0.0, 0)
    status, out, err = run(["table", "mobilenet_v1", "--alpha", "0.25", "--resolution", "96", "--device", str(path),
                            "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    rates = {"conv": (10.0, 2.0, 0.0), "pointwise": (1.0, 4.0, 0.0), "depthwise": (0.0, 0.0, 3.0)}
    expected = 0.0
    for layer in document["layers"]:
        overhead, per_mmadd, per_mb = rates.get(layer["kind"], (0.5, 0.0, 1.0))
        microseconds = overhead + per_mmadd * layer["madds"] / 1e6 + per_mb * layer["memory_access_bytes"] / 1e6
        assert document["latency"]["layers_ms"][layer["name"]] == pytest.approx(microseconds / 1e3)
        expected += microseconds / 1e3
    assert document["latency"]["total_ms"] == pytest.approx(expected)
    status, out, err = run(["table", "mobilenet_v1", "--device", str(path), "--per-layer"], capsys)
    assert "predicted latency on toy (unfused view, 1 thread)" in out and "predicted (ms)" in out


@pytest.mark.parametrize("text, message", [
    ("[profile]\nname = 'x'\n", "needs a [profile] table and [kinds.*] tables"),
    ("[profile]\n[kinds.default]\noverhead_us = -1\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "[kinds.default] overhead_us must be a number in [0, 1e+09] (us per kernel), got -1"),
    ("[profile]\nview = 'sideways'\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "view must be one of unfused, fused"),
    ("[profile]\nstatistic = 'mean'\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "[profile] statistic must be one of min, median, got 'mean'"),
    ("[profile]\n[context]\nscale = 0\nus_per_layer = 1\nnetworks = 2\n[kinds.default]\noverhead_us = 0\n"
     "us_per_mmadd = 0\nus_per_mb = 0\n", "[context] scale must be a number in (0, 100], got 0"),
    ("[profile]\n[context]\nscale = 1\nus_per_layer = -1\nnetworks = 2\n[kinds.default]\noverhead_us = 0\n"
     "us_per_mmadd = 0\nus_per_mb = 0\n", "[context] us_per_layer must be a number in [0, 1e+09], got -1"),
    ("[profile]\n[context]\nscale = 1\nus_per_layer = 1\n[kinds.default]\noverhead_us = 0\n"
     "us_per_mmadd = 0\nus_per_mb = 0\n", "[context] missing field 'networks'"),
    ("[profile]\n[context]\nscale = 1\nus_per_layer = 1\nnetworks = 1\nlayers = 2\n[kinds.default]\n"
     "overhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n", "[context] unknown field 'layers'"),
    ("[profile]\ncache_mb = 0\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "[profile] cache_mb must be a number in (0, 1e+06] (10^6 bytes), got 0"),
    ("[profile]\ncache_mb = 'large'\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "[profile] cache_mb must be a number in (0, 1e+06] (10^6 bytes), got 'large'"),
    ("[profile]\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\nus_per_mb_beyond = -1\n",
     "[kinds.default] us_per_mb_beyond must be a number in [0, 1e+09] (us per 10^6 bytes), got -1"),
    ("[profile]\nengine = 'tvm'\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "[profile] engine must be one of torch, onnxruntime, got 'tvm'"),
    ("[profile]\nengine = 'onnxruntime'\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "[profile] view must be 'fused' for the onnxruntime engine (it folds BatchNorm and fuses activations), "
     "got 'unfused'"),
    ("not toml [", "invalid TOML"),
])
def test_a_malformed_profile_is_one_line(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(CostModelError) as raised:
        load_profile(str(path))
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_device_on_the_command_line_refuses_csv_and_missing_files(tmp_path, capsys):
    status, _, err = run(["table", "mobilenet_v1", "--device", str(tmp_path / "none.toml")], capsys)
    assert status == 2 and "does not exist" in err
    status, _, err = run(["table", "mobilenet_v1", "--device", str(profile_file(tmp_path)), "--format", "csv"],
                         capsys)
    assert status == 2 and "not to CSV" in err


@pytest.mark.slow          # kernels measured on this CPU
def test_calibrate_writes_a_profile(tmp_path, capsys):
    pytest.importorskip("torch")
    target = tmp_path / "cpu.toml"
    status, _, err = run(["calibrate", "--samples", "2", "--repeats", "1", "-o", str(target)], capsys)
    assert status == 0, err
    profile = load_profile(str(target))
    assert {"conv", "pointwise", "depthwise", "linear", "attention", "default"} <= set(profile.kinds)
    assert profile.kinds["conv"].samples == 2 and profile.view == "unfused"
    assert sum(profile.layer_ms(costmodel.analyze("mobilenet_v1"))) > 0
    # 2 of each of the 25 kernels of calibration.samples' loop, and one of each of the 7 large-map and 7 wide-stage
    # kernels (a quarter of 2, at least 1): 64
    assert profile.statistic == "min" and ("64 kernels (2 per kind, more on large maps and a wide network's stages), "
                                           "each the min of 1 run, steady heap;") in profile.description
    assert profile.networks == 24 and profile.scale > 0 and profile.description.endswith(
        "context fitted on 24 synthetic networks")
    status, _, err = run(["calibrate", "--samples", "2", "--repeats", "4", "--networks", "0", "-o", str(target)],
                         capsys)
    assert status == 0, err
    profile = load_profile(str(target))
    assert re.search(r"each the min of 4 runs \(4 windows within a median [0-9.]+%\), steady heap$",
                     profile.description)
    assert (profile.scale, profile.us_per_layer, profile.networks) == (1.0, 0.0, 0)
    assert "[context]" not in target.read_text()


def test_a_profile_says_which_statistic_it_was_fitted_on(tmp_path):
    # calibrate's kernels are minima (the timing protocol); a file written before it says nothing and held medians
    path = tmp_path / "old.toml"
    path.write_text("[profile]\nname = 'old'\n[kinds.default]\noverhead_us = 1\nus_per_mmadd = 0\nus_per_mb = 0\n")
    assert load_profile(str(path)).statistic == "median"
    profile = fit([("add", "add", 0, 10**6, 5.0), ("add", "add", 0, 2 * 10**6, 9.0)], "new", "", 1)
    assert profile.statistic == "min" and 'statistic = "min"' in profile.to_toml()
    path.write_text(profile.to_toml())
    assert load_profile(str(path)) == profile


def test_a_fused_table_is_priced_in_the_profiles_own_view(tmp_path, capsys):
    path = profile_file(tmp_path)                  # measured unfused: BatchNorm and ReLU priced as their own kernels
    status, out, err = run(["table", "mobilenet_v1", "--fused", "--device", str(path), "--format", "json"], capsys)
    assert status == 0, err
    fused = json.loads(out)
    status, out, err = run(["table", "mobilenet_v1", "--device", str(path), "--format", "json"], capsys)
    unfused = json.loads(out)
    assert fused["latency"] == unfused["latency"] and fused["fused"] and not unfused["fused"]


def _per_layer_profile(view):
    # 1 us per layer and nothing else: the predicted milliseconds count the layers of the view priced
    return Profile("layers", "1 us a layer", view, 1, {"default": KernelModel(1.0, 0.0, 0.0)})


def test_a_profile_prices_the_view_it_was_measured_in():
    """MobileNetV1 has 27 convolutions (a full one, 13 depthwise, 13 pointwise), each followed by BatchNorm and ReLU,
    then a global pool, a flatten and the FC layer: 27 x 3 + 3 = 84 layers unfused; fused, the BatchNorms fold and
    the ReLUs fuse into the convolutions, 27 + 3 = 30."""
    from costmodel.sources.setting import Setting

    setting = Setting("mobilenet_v1")
    unfused, fused = costmodel.analyze(setting), costmodel.analyze(setting.but(fused=True))
    assert (len(unfused.layers), len(fused.layers)) == (84, 30)
    by_fused, by_unfused = _per_layer_profile("fused"), _per_layer_profile("unfused")
    assert by_unfused.priced(unfused) is unfused and by_fused.priced(fused) is fused
    assert len(by_fused.priced(unfused).layers) == len(fused.layers)           # made from the unfused analysis
    assert by_fused.priced(unfused, fused) is fused and by_unfused.priced(fused, unfused) is unfused
    assert len(by_unfused.priced(fused, setting).layers) == len(unfused.layers)   # analyzed from the setting
    assert sum(by_fused.layer_ms(by_fused.priced(unfused))) == pytest.approx(30 / 1e3)
    with pytest.raises(CostModelError, match="prices the unfused view"):
        by_unfused.priced(fused)
    with pytest.raises(CostModelError, match="not of it"):
        by_fused.priced(unfused, unfused)
