"""What a MODEL argument names, decided once (``sources.model_source``), for every form a command takes."""
import pytest

from costmodel.errors import CostModelError
from costmodel.ir import Network
from costmodel.sources import MODULE, NETWORK, ONNX, PROGRAM, SPEC, ZOO, model_source, split_settings


@pytest.mark.parametrize("argument, kind", [
    ("mobilenet_v1", ZOO), ("examples/mobilenet_v2_like.toml", SPEC), ("my_net.toml", SPEC), ("dir/net", SPEC),
    ("net.py:build", MODULE), ("package.module:factory", MODULE), ("net.py:build:num_classes=10", MODULE),
    ("net.onnx", ONNX), ("NET.ONNX", ONNX), ("net.pt2", PROGRAM)])
def test_each_form_is_its_kind(argument, kind):
    assert model_source(argument).kind == kind


def test_a_network_is_its_own_source():
    network = model_source("mobilenet_v1").resolve()[0]
    assert isinstance(network, Network) and model_source(network).kind == NETWORK
    assert model_source(network).resolve() == (network, None)


def test_what_each_form_reads_and_runs():
    assert model_source("net.py:build").files == ("net.py",) and model_source("net.py:build").runs_code
    assert model_source("package.module:factory").files == () and model_source("package.module:factory").runs_code
    for argument in ("net.onnx", "net.pt2", "my_net.toml"):
        assert model_source(argument).files == (argument,) and not model_source(argument).runs_code
    assert model_source("mobilenet_v1").files == () and not model_source("mobilenet_v1").imported


def test_an_unknown_name_suggests_the_closest():
    with pytest.raises(CostModelError, match="unknown model 'mobilenet_v9'; did you mean"):
        model_source("mobilenet_v9")
    with pytest.raises(CostModelError, match="model must be a zoo name"):
        model_source(3)


@pytest.mark.parametrize("text, model, settings", [
    ("mobilenet_v1:alpha=0.75", "mobilenet_v1", "alpha=0.75"), ("mobilenet_v1", "mobilenet_v1", ""),
    ("net.py:build", "net.py:build", ""), ("net.py:build:alpha=1,num_classes=10", "net.py:build",
                                           "alpha=1,num_classes=10"),
    ("good.onnx", "good.onnx", ""), ("good.onnx:resolution=64", "good.onnx", "resolution=64"),
    ("good.pt2:resolution=64", "good.pt2", "resolution=64"), ("net.toml:alpha=0.5", "net.toml", "alpha=0.5")])
def test_compare_arguments_split_after_the_model(text, model, settings):
    """`compare good.onnx mobilenet_v1` read "good.onnx:" as the model (issue 22, item 10)."""
    assert split_settings(text) == (model, settings)
