"""ONNX files exported from real modules by torch.onnx.export: torch's exporter folds each BatchNorm into its
convolution, so the file is the fused network. Its counts are checked against torch's own fusion of the module
(torch.fx.experimental.optimization.fuse, an independent fused view): params equal sum(p.numel()) of the fused
module, and the fvcore and flop_counter conventions equal fvcore's and FlopCounterMode's totals on it."""
import contextlib
import io
import json
import sys
import warnings
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")
pytest.importorskip("onnx")

import costmodel  # noqa: E402
from costmodel.core.errors import CostModelError  # noqa: E402
from costmodel.sources.importer.onnx_graph import OnnxModel  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import models  # noqa: E402
import torch_blocks  # noqa: E402
from helpers import run  # noqa: E402
from test_from_torch import reference_counts  # noqa: E402

bfmd = pytest.importorskip("bfmd")

MODULES = {
    "mobilenetv2": (lambda: bfmd.mobilenetv2(), (3, 32, 32)),
    "mobilenetv3_small": (lambda: bfmd.mobilenetv3.Mobilenet_v3_small(), (3, 64, 64)),
    "functional": (lambda: models.FunctionalNet(), (3, 32, 32)),        # chunk, cat, shuffle, interpolate, pad
    "squeeze_excite": (lambda: models.SqueezeExciteNet(), (3, 16, 16)),
    "attention_matmul": (lambda: models.TokenAttention("matmul"), (3, 32, 32)),   # class token, q k v, softmax
    "shuffle_v2": (lambda: torch_blocks.ShuffleV2Unit(48, 48, 1), (48, 10, 10)),
    "blaze_stride": (lambda: torch_blocks.BlazeBlock(24, 48, 2), (24, 16, 16)),   # channel padding
}


def export(module, size, path, dynamo=False):
    """``dynamo=False``: torch's TorchScript-based exporter; True: its torch.export-based one (the default since
    torch 2.9, which needs onnxscript)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
            contextlib.redirect_stderr(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (torch.zeros(1, *size),), str(path), dynamo=dynamo)
    return path


def as_if_trained(module):
    """BatchNorm statistics and shifts away from their initial zeros, as in a trained network: an exporter that
    drops a bias of zeros (onnxscript's optimizer, after folding an untrained BatchNorm) then keeps every one."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, torch.nn.BatchNorm2d):
                layer.running_mean.copy_(torch.rand(layer.num_features, generator=generator))
                if layer.bias is not None:
                    layer.bias.copy_(torch.rand(layer.num_features, generator=generator) + 0.5)
    return module


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx")
    return {name: (as_if_trained(factory()), size) for name, (factory, size) in MODULES.items()}, folder


@pytest.mark.parametrize("name", MODULES)
def test_an_onnx_file_is_the_fused_module(exported, name):
    from torch.fx.experimental.optimization import fuse

    modules, folder = exported
    module, size = modules[name]
    path = export(module, size, folder / f"{name}.onnx")
    network = OnnxModel(str(path)).network()
    params, fvcore_total, flop_counter_total = reference_counts(fuse(module.eval()), size)
    assert costmodel.analyze(network).not_counted() == {}
    assert costmodel.analyze(network).totals["params"] == params
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == fvcore_total
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == flop_counter_total
    if any(isinstance(m, torch.nn.BatchNorm2d) for m in module.modules()):
        assert "torch's exporter folds BatchNorm into the convolutions" in network.source


def test_an_onnx_file_is_costed_at_another_size_and_named_by_module_path(exported):
    modules, folder = exported
    module, _ = modules["mobilenetv2"]
    path = export(module, (3, 32, 32), folder / "resized.onnx")
    model = OnnxModel(str(path))
    # the module's mult-adds at 64x64 (BatchNorm has none, so folding keeps them)
    at_64 = costmodel.analyze(costmodel.from_torch(module, (3, 64, 64))).totals["madds"]
    assert costmodel.analyze(model.network((64, 64))).totals["madds"] == at_64
    names = [node.name for node in model.network().nodes]
    assert names[:3] == ["pre.0", "pre.2", "stage1.residual.0"]          # pre.1, the BatchNorm, is folded away


def test_onnx_on_the_command_line(exported, capsys):
    modules, folder = exported
    module, size = modules["squeeze_excite"]
    path = export(module, size, folder / "se.onnx")
    status, out, err = run(["table", str(path), "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["resolution"] == 16
    assert document["totals"]["params"] == sum(p.numel() for p in module.parameters())     # no BatchNorm in it
    for argv, message in ((["verify", str(path)], "is an ONNX graph: fvcore counts torch modules"),
                          (["table", str(path), "-O", "width=2"], "is a saved graph: it takes no options"),
                          (["table", str(path), "--input", "4x16x16"], "se.onnx takes 3 channels, not 4")):
        status, out, err = run(argv, capsys)
        assert status == 2 and message in err and len(err.strip().splitlines()) == 1, err


def test_a_file_that_is_not_onnx(tmp_path, capsys):
    path = tmp_path / "broken.onnx"
    path.write_bytes(b"\x00not protobuf\xff" * 10)
    with pytest.raises(CostModelError, match="broken.onnx is not an ONNX model"):
        OnnxModel(str(path))


def test_multihead_attention_exported_to_onnx_ends_in_one_line(tmp_path, capsys):
    """Its ONNX graph moves the batch to the second axis (torch's exporter writes the unfused path), which
    costmodel's layouts do not hold: refused, not miscounted."""
    path = export(models.TokenAttention("mha"), (3, 32, 32), tmp_path / "mha.onnx")
    status, out, err = run(["table", str(path)], capsys)
    assert status == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("name", ["mobilenetv2", "functional"])
def test_the_default_exporter_writes_module_paths_into_metadata(exported, name):
    """torch's torch.export-based exporter (onnxscript) names nodes node_Conv_11 and keeps the module paths in each
    node's metadata; its optimizer fuses each BatchNorm into the convolution before it, and that convolution then
    carries the BatchNorm's path."""
    pytest.importorskip("onnxscript")
    from torch.fx.experimental.optimization import fuse

    modules, folder = exported
    module, size = modules[name]
    network = OnnxModel(str(export(module, size, folder / f"{name}_dynamo.onnx", dynamo=True))).network()
    params, fvcore_total, flop_counter_total = reference_counts(fuse(module.eval()), size)
    result = costmodel.analyze(network)
    assert result.not_counted() == {} and result.totals["params"] == params
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == fvcore_total
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == flop_counter_total
    if name == "mobilenetv2":
        assert [node.name for node in network.nodes][:3] == ["pre.1", "pre.2", "stage1.residual.1"]
