"""`costmodel verify`: the exit contract, the diff table, quiet reference tools, and a perturbed formula caught."""
import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

pytest.importorskip("torch")
pytest.importorskip("fvcore")

import dataclasses
import json
import subprocess
import sys

import costmodel
from costmodel.ops import Conv2d, registry
from costmodel.lowering.to_torch import to_torch

from helpers import run




def test_verify_agrees_and_exits_0(capsys):
    status, out, err = run(["verify", "mobilenet_v1", "--alpha", "0.5", "--resolution", "128"], capsys)
    assert status == 0 and err == ""
    assert "every layer agrees with fvcore" in out
    # fvcore's total for MobileNetV1 0.5 at 128, by the fvcore convention: convs + linear + BN 2/elem + pool
    assert "total" in out


@pytest.fixture
def fresh_networks():
    """Zoo networks carry their compiled programs; a test that patches a formula needs newly built ones."""
    from costmodel.sources.zoo.entry import _build
    _build.cache_clear()
    yield
    _build.cache_clear()


def test_a_perturbed_formula_is_caught(capsys, monkeypatch, fresh_networks):
    """Break fvcore's convolution formula by one multiply-accumulate per layer: verify must name every
    convolution, put them first, and exit with status 1."""
    conv = registry.definition(Conv2d)
    original = conv.formula("flops", "fvcore")
    perturbed = {**conv.flops, "fvcore": lambda op, node: original(op, node) + 1}
    monkeypatch.setitem(registry._BY_TYPE, Conv2d, dataclasses.replace(conv, flops=perturbed))
    status, out, _ = run(["verify", "mobilenet_v1", "--format", "json"], capsys)
    assert status == 1
    document = json.loads(out)
    assert document["agrees"] is False
    differing = [layer for layer in document["layers"] if not layer["agrees"]]
    assert len(differing) == 27                                 # every convolution of Table 1
    assert all(layer["flops"] - layer["reference_flops"] == 1 for layer in differing)
    assert document["totals"]["flops"] - document["totals"]["reference_flops"] == 27
    status, out, _ = run(["verify", "mobilenet_v1"], capsys)
    table_rows = out.split("\n")[4:]
    assert table_rows[0].startswith("Conv2d_0.conv") and " NO" in table_rows[0]
    assert "27 layers differ from fvcore; totals differ" in out


def test_a_perturbed_parameter_count_is_caught(monkeypatch, fresh_networks):
    from costmodel.ops import BatchNorm
    from reference_tools import check
    monkeypatch.setitem(registry._BY_TYPE, BatchNorm, dataclasses.replace(
        registry.definition(BatchNorm), params=lambda op, node: 3 * node.output.channels))
    verification = check("mobilenet_v2", 0.35)
    assert not verification.agrees
    assert {layer.kind for layer in verification.layers if not layer.agrees} == {"batchnorm"}


def test_verify_against_flop_counter_and_spec_files(capsys, tmp_path):
    status, out, _ = run(["verify", "shufflenet_v2", "--against", "flopcounter", "--format", "csv"], capsys)
    assert status == 0 and out.startswith("name,kind,costmodel flops,FlopCounterMode flops")
    status, out, _ = run(["verify", "examples/inception_like.toml", "--format", "markdown"], capsys)
    assert status == 0 and "fvcore does not count: aten::add (1x), aten::max_pool2d (2x)" in out


def test_verify_bad_input(capsys):
    status, _, err = run(["verify", "mobilenet_v9"], capsys)
    assert status == 2 and err.startswith("costmodel: error: unknown model")
    status, _, err = run(["verify", "alexnet", "--resolution", "160"], capsys)
    assert status == 2 and "fixed input size" in err
    status, _, err = run(["verify", "mobilenet_v1", "--against", "thop"], capsys)
    assert status == 2 and "Invalid value for '--against'" in err


def test_to_torch_raises_the_documented_error():
    for call in (lambda: to_torch("mobilenet_v1", rho=0), lambda: to_torch("mobilenet_v1", batch=0)):
        with pytest.raises(costmodel.CostModelError):
            call()


def test_the_report_cross_checks_with_fvcore(tmp_path):
    from costmodel.present.report import write_report
    html = write_report(str(tmp_path / "r.html"), "mobilenet_v1", alpha=0.75)
    assert "Every layer agrees with fvcore" in html and "325,400,448" in html
    html = write_report(str(tmp_path / "r.html"), "mobilenet_v2", alpha=0.5, batch=2)
    assert "Every layer agrees with fvcore" in html


def test_the_user_sees_only_costmodels_output():
    """No fvcore DeprecationWarning, no fvcore log lines, no tracer warnings on stderr."""
    result = subprocess.run([sys.executable, "-W", "default", "-m", "costmodel", "verify", "mobilenet_v3_small"],
                            capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.startswith("mobilenet_v3_small  alpha=1  224x224  against fvcore: every layer agrees")


def test_lowered_module_names_are_the_node_names():
    module = to_torch("mobilenet_v2", alpha=0.5)
    names = {name for name, _ in module.named_modules()}
    for layer in costmodel.analyze("mobilenet_v2", alpha=0.5).layers:
        assert layer.name in names
    output = module(module.example_input())
    assert tuple(output.shape) == (1, 1000)
    assert not module.training


def test_same_padding_lowers_to_tensorflow_sizes():
    from costmodel.sources.builder import GraphBuilder
    builder = GraphBuilder()
    builder.add("conv", Conv2d(8, kernel=3, stride=2, padding="same"))
    network = builder.build("same", input_channels=3, base_resolution=(7, 8))
    module = to_torch(network)
    assert tuple(module(module.example_input()).shape) == (1, 8, 4, 4)
    from reference_tools import compare_network
    assert compare_network(network).agrees


def test_torch_failures_end_in_one_line(capsys, monkeypatch):
    """Issue 12, item 8: a tensor torch cannot make (RuntimeError, or MemoryError) is one line and status 2."""
    from costmodel import torch_lowering

    def refuse(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory\n"
                           "more detail")
    monkeypatch.setattr(torch_lowering, "to_torch", refuse)
    status, out, err = run(["verify", "mobilenet_v1"], capsys)
    assert status == 2 and out == "" and err == ("costmodel: error: torch could not run mobilenet_v1: [enforce fail "
                                                 "at alloc_cpu.cpp:117] data. DefaultCPUAllocator: not enough memory\n")


def test_a_node_that_is_also_a_parent_is_compared_on_its_own_counts():
    """timm's modules own parameters and children at once: BatchNormAct2d's ``bn`` with ``bn.act``, an attention
    module's biases beside its ``qkv``; costmodel names them so, and verify compares each module less the nodes
    below it."""
    from costmodel.sources.builder import GraphBuilder
    from costmodel.ops import (Activation, AttentionBias, BatchNorm, Flatten, Linear, MatMul, Transpose, Unflatten)
    from costmodel.lowering.verify import compare
    builder = GraphBuilder()
    builder.add("stem", Conv2d(16, kernel=3, padding=1))
    builder.add("stem.bn", BatchNorm())
    builder.add("stem.bn.act", Activation("silu"))
    builder.add("tokens", Flatten(2))
    builder.add("tokens.t", Transpose(1, 2))
    builder.add("attn.qkv", Linear(16))
    builder.add("attn.heads", Unflatten(-1, (2, -1)))
    q = builder.add("attn.q", Transpose(1, 2))
    builder.add("attn.k", Transpose(-2, -1), q)
    builder.add("attn.scores", MatMul(), (q, "attn.k"))
    builder.add("attn", AttentionBias(2, like="stem"))          # a node after its children, as its own module
    network = builder.build("parents", base_resolution=(4, 5))
    for against, convention in (("fvcore", "fvcore"), ("flopcounter", "flop_counter")):
        result = costmodel.analyze(network, convention=convention)
        module = to_torch(network)
        assert type(module.get_submodule("attn.qkv")).__name__ == "Linear"   # kept under the biases' module
        check = compare(result, module, against)
        assert check.agrees, [(layer.name, layer.flops, layer.reference_flops, layer.params,
                               layer.reference_params) for layer in check.layers]
        rows = {layer.name: layer for layer in check.layers}
        assert rows["stem"].params == 3 * 9 * 16 and rows["stem.bn"].params == 32
        assert rows["attn"].params == 2 * 20 and rows["attn.qkv"].params == 16 * 16 + 16
        assert check.total_params == sum(p.numel() for p in module.parameters())
