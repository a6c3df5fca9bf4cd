"""What a MODEL argument names, decided once (``sources.model_source``), for every form a command takes."""
import pytest

from costmodel.core.errors import CostModelError
from costmodel.core.ir import Network
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


def test_a_source_gives_the_network_of_a_setting_and_only_its_own_torch_module():
    from costmodel.sources.setting import Setting

    source = model_source("mobilenet_v1")
    network = source.network(Setting("ignored", alpha=0.5, depth=1.0))
    assert network.name == "mobilenet_v1" and network == model_source("mobilenet_v1").resolve()[0]
    # a zoo network, a spec file and an ONNX graph have no torch module of their own (a zoo network's is its
    # lowering, made by torch_lowering.to_torch)
    assert source.torch_module(Setting("mobilenet_v1")) is None
    assert model_source("examples/mobilenet_v2_like.toml").torch_module(Setting("x")) is None
    assert model_source("net.onnx").torch_module(Setting("net.onnx")) is None
    # EfficientNet-B0's stages repeat 1, 2, 2, 3, 3, 4, 1 blocks (its Table 1): 16; at depth 1.2 each stage keeps
    # ceil(1.2 n): 2, 3, 3, 4, 4, 5, 2 = 23
    blocks = {depth: {".".join(node.name.split(".")[:3]) for node in model_source("efficientnet_b0").network(
        Setting("efficientnet_b0", depth=depth)).nodes if node.name.startswith("blocks.")} for depth in (1.0, 1.2)}
    assert (len(blocks[1.0]), len(blocks[1.2])) == (16, 23)
    with pytest.raises(CostModelError, match="depth must be in"):
        source.network(Setting("mobilenet_v1", depth=50))


def test_an_imported_module_is_its_own_torch_module(tmp_path):
    torch = pytest.importorskip("torch")
    from costmodel.sources.setting import Setting

    path = tmp_path / "net.py"
    path.write_text("import torch\n\ndef build():\n    return torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3))\n")
    source = model_source(f"{path}:build")
    setting = Setting(f"{path}:build", options={"input": "3x16x16"})
    module = source.torch_module(setting)
    assert isinstance(module, torch.nn.Sequential) and module[0].out_channels == 4
    assert [node.name for node in source.network(setting).nodes] == ["0"]
