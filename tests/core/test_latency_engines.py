"""A device profile per engine (issue 25, item 3): a profile says which engine ran its kernels, an ONNX Runtime
profile prices the fused view with the activations that engine runs apart as kernels of their own, and
``calibrate --engine onnxruntime`` measures kernels and networks in ONNX Runtime sessions. Values by hand from the
kernel models; measured speed is never asserted (see benchmarks/)."""
import json

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.latency import KernelModel, Profile
from costmodel.latency.devices import load_profile
from costmodel.latency.profiles import separate_activation

from helpers import run

KINDS = {"default": KernelModel(1.0, 0.0, 0.0), "activation.silu": KernelModel(2.0, 0.0, 100.0)}


def test_a_profile_says_which_engine_ran_its_kernels(tmp_path):
    torch_profile = Profile("eager", "", "unfused", 1, KINDS)
    assert torch_profile.engine == "torch" and "engine" not in torch_profile.to_toml()   # as written before
    ort = Profile("ort", "", "fused", 2, KINDS, "min", engine="onnxruntime")
    assert 'engine = "onnxruntime"' in ort.to_toml()
    path = tmp_path / "ort.toml"
    path.write_text(ort.to_toml())
    assert load_profile(str(path)) == ort


def test_onnx_runtime_runs_silu_and_gelu_apart_from_the_layer_before():
    """EfficientNet-B0's stem is a 3x3 convolution, BatchNorm and SiLU: fused, one kernel, which ONNX Runtime runs as
    the convolution then a kernel of its own for x * sigmoid(x) (QuickGelu). Priced by a profile of 1 us a kernel and
    an activation.silu model of 2 us + 100 us per 10^6 bytes: the stem's SiLU reads and writes its 32 x 112 x 112
    float32 output, 2 x 401,408 x 4 = 3,211,264 bytes: 1 + 2 + 321.1264 us, and us_per_layer twice."""
    fused = costmodel.analyze("efficientnet_b0", fused=True)
    stem = fused.layers[0]
    assert stem.output_shape.dims == (1, 32, 112, 112) and stem.activation_bytes == 32 * 112 * 112 * 4
    op = next(node.op for node in fused.network.nodes if node.name == stem.name)
    assert separate_activation(op, "onnxruntime") == "silu" and separate_activation(op, "torch") == ""
    ort = Profile("ort", "", "fused", 1, KINDS, "min", scale=2.0, us_per_layer=5.0, engine="onnxruntime")
    assert ort.kernel_us(fused)[0] == pytest.approx(1.0 + 2.0 + 100.0 * 3_211_264 / 1e6)
    assert ort.layer_ms(fused)[0] == pytest.approx((2.0 * (3.0 + 321.1264) + 2 * 5.0) / 1e3)
    # a ReLU6 (MobileNetV2's) stays in its convolution: one kernel
    v2 = costmodel.analyze("mobilenet_v2", fused=True)
    assert ort.kernel_us(v2)[0] == pytest.approx(1.0) and ort.layer_ms(v2)[0] == pytest.approx((2.0 + 5.0) / 1e3)
    # the kernels counted for the per-layer term: every layer once, and each SiLU a second time. EfficientNet-B0
    # has a SiLU after its stem, after each of its 16 blocks' depthwise convolutions, after the 15 expansions
    # (the first block has none) and after the head: 1 + 16 + 15 + 1 = 33; its squeeze-excites' SiLUs follow a
    # 1x1 convolution on a vector, 16 more: 49
    assert ort.kernels_run(fused) == len(fused.layers) + 49
    eager = Profile("eager-fused", "", "fused", 1, KINDS, "min")
    assert eager.kernels_run(fused) == len(fused.layers)


def test_calibrate_refuses_an_unknown_engine(capsys):
    status, _, err = run(["calibrate", "--engine", "tvm", "-o", "unused.toml"], capsys)
    assert status == 2 and "'tvm' is not one of 'torch', 'onnxruntime'" in err


def test_calibrate_without_onnx_runtime_says_what_to_install(monkeypatch, capsys, tmp_path):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    target = tmp_path / "ort.toml"
    status, _, err = run(["calibrate", "--engine", "onnxruntime", "-o", str(target)], capsys)
    assert status == 2 and err.count("\n") == 1 and not target.exists()
    assert err.strip().endswith("the onnxruntime engine needs onnxruntime, not installed: pip install "
                                "'costmodel[onnxruntime]'"), err


@pytest.mark.slow          # kernels exported and measured in ONNX Runtime on this CPU
def test_calibrate_on_onnx_runtime_writes_a_fused_profile(tmp_path, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    target = tmp_path / "ort.toml"
    status, _, err = run(["calibrate", "--engine", "onnxruntime", "--samples", "2", "--repeats", "3", "--networks",
                          "2", "-o", str(target)], capsys)
    assert status == 0, err
    profile = load_profile(str(target))
    assert (profile.engine, profile.view, profile.networks) == ("onnxruntime", "fused", 2)
    assert {"conv", "pointwise", "depthwise", "linear", "attention", "activation.relu", "default"} <= set(profile.kinds)
    assert "onnxruntime" in profile.description and "a node (an empty node's)" in profile.description
    # 2 of each of the 25 kernels of calibration.samples' loop, and one of each of the 7 large-map and 7 wide-stage
    # kernels: 64
    assert "64 kernels (2 per kind" in profile.description
    status, out, err = run(["table", "mobilenet_v1", "--device", str(target), "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    # priced in the fused view: MobileNetV1's 27 convolutions with their BatchNorm and ReLU, the pool, the flatten
    # and the classifier
    assert document["latency"]["view"] == "fused" and len(document["latency"]["layers_ms"]) == 30


@pytest.mark.slow
def test_a_kernel_runs_alone_in_its_session_as_torch_computes_it(tmp_path):
    torch = pytest.importorskip("torch")
    numpy = pytest.importorskip("numpy")
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from costmodel.latency.ort_kernels import kernel_sessions, op_alone, profiled_runs, run_in_passes
    from costmodel.lowering.to_torch import to_torch
    from costmodel.ops import Activation, Add, Conv2d
    from costmodel.sources.builder import GraphBuilder

    def one_op(ops, channels, name):
        builder = GraphBuilder()
        for node, op, inputs in ops:
            builder.add(node, op, inputs)
        return to_torch(builder.build(name, input_channels=channels, base_resolution=(14, 14)))

    conv = one_op([("op", Conv2d(16, 3, 1, 1), ("input",))], 8, "conv")
    add = one_op([("other", Activation("relu"), ("input",)), ("op", Add(), ("input", "other"))], 8, "add")
    x = torch.randn(1, 8, 14, 14, generator=torch.Generator().manual_seed(0))
    kernels = [op_alone(conv.eval(), x), op_alone(add.eval(), x)]
    assert len(kernels[1][1]) == 2 and torch.equal(kernels[1][1][1], torch.relu(x))     # the add's two inputs
    sessions = kernel_sessions(kernels, 1, str(tmp_path))
    with torch.no_grad():
        expected = [module(*inputs).numpy() for module, inputs in kernels]
    for (session, feed), want in zip(sessions, expected):
        numpy.testing.assert_allclose(session.run(None, feed)[0], want, rtol=1e-4, atol=1e-5)
    run_in_passes(sessions, 1, 3, burst=3)
    for session, _ in sessions:
        times, nodes = profiled_runs(session, 2)
        # the runs after the one checked above and the warm-up: in the one pass, its untimed run, its 3 timed runs
        # and 3 runs before the other kernel's timed runs; one node each (a convolution's layout reorders, where
        # the engine adds them, are not counted)
        assert len(times) == 7 and nodes == 1 and all(time >= 0 for time in times)
