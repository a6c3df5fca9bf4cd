"""costmodel.from_torch on real modules: the counts equal sum(p.numel()), fvcore's and FlopCounterMode's totals
on the original module (independent counts), node names are the module paths, and sizes are the asked input's."""
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")

import costmodel  # noqa: E402
from costmodel.errors import CostModelError  # noqa: E402
from_torch = costmodel.from_torch
from costmodel.verify import quiet_reference_tools  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import models  # noqa: E402
import torch_blocks  # noqa: E402


def reference_counts(module, size):
    """(params, fvcore total, FlopCounterMode total) of ``module`` run on a zero image of ``size``."""
    from torch.utils.flop_counter import FlopCounterMode

    module.eval()
    x = torch.zeros(1, *size)
    with quiet_reference_tools():
        from fvcore.nn import FlopCountAnalysis

        fvcore_total = (FlopCountAnalysis(module, x).unsupported_ops_warnings(False)
                        .uncalled_modules_warnings(False).tracer_warnings("none").total())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    return sum(p.numel() for p in module.parameters()), fvcore_total, counter.get_total_flops()


def assert_agrees(module, size):
    network = from_torch(module, size)
    params, fvcore_total, flop_counter_total = reference_counts(module, size)
    assert costmodel.analyze(network, convention="fvcore").totals["params"] == params
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == fvcore_total
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == flop_counter_total
    return network


HAND_WRITTEN = {
    "functional": (lambda: models.FunctionalNet(), (3, 32, 32)),
    "squeeze_excite": (lambda: models.SqueezeExciteNet(), (3, 16, 16)),
    "attention_sdpa": (lambda: models.TokenAttention("sdpa"), (3, 32, 32)),
    "attention_matmul": (lambda: models.TokenAttention("matmul"), (3, 32, 32)),
    "mobilenet_v1": (lambda: torch_blocks.MobileNetV1(), (3, 96, 96)),
    "inverted_residual": (lambda: torch_blocks.InvertedResidual(16, 24, 2, 6), (16, 20, 20)),
    "squeeze_excite_block": (lambda: torch_blocks.SqueezeExcite(32), (32, 9, 9)),
    "sandglass": (lambda: torch_blocks.Sandglass(32, 4), (32, 10, 10)),
    "shuffle_v1": (lambda: torch_blocks.ShuffleV1Unit(24, 48, 2, 3), (24, 12, 12)),
    "shuffle_v2": (lambda: torch_blocks.ShuffleV2Unit(48, 48, 1), (48, 10, 10)),
    "inception": (lambda: torch_blocks.InceptionModule(32, 16, 8, 16, 4, 8, 8), (32, 10, 10)),
    "xception": (lambda: torch_blocks.XceptionSeparable(32, 64), (32, 10, 10)),
    "blaze": (lambda: torch_blocks.BlazeBlock(24, 24, 1), (24, 16, 16)),
    "blaze_stride": (lambda: torch_blocks.BlazeBlock(24, 48, 2), (24, 16, 16)),
}


@pytest.mark.parametrize("name", HAND_WRITTEN)
def test_hand_written_modules_agree_with_the_reference_tools(name):
    factory, size = HAND_WRITTEN[name]
    network = assert_agrees(factory(), size)
    assert not costmodel.analyze(network).not_counted()


def test_nodes_are_named_by_module_path():
    network = from_torch(models.FunctionalNet(), (3, 32, 32))
    names = [node.name for node in network.nodes]
    assert names[:3] == ["stem", "bn", "relu"]
    assert "branch" in names and "fc" in names
    se = from_torch(torch_blocks.MobileNetV1(), (3, 64, 64))
    assert se.nodes[0].name.split(".")[-1] == "0"       # nn.Sequential's children keep their numbers


def test_sizes_are_the_asked_inputs():
    """The classifier's input follows the map: an input the module cannot take is refused, one line."""
    from costmodel.importer.torch_graph import TorchModel
    model = TorchModel(models.SqueezeExciteNet(), (3, 16, 16))
    for side in (16, 24, 40):
        params, fvcore_total, _ = reference_counts(models.SqueezeExciteNet(), (3, side, side))
        result = costmodel.analyze(model.network((side, side)), convention="fvcore")
        assert result.totals["flops"] == fvcore_total
    flat = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 2))
    traced = TorchModel(flat, (3, 8, 8))
    assert costmodel.analyze(traced.network()).totals["params"] == 3 * 4 * 9 + 4 + 144 * 2 + 2
    with pytest.raises(CostModelError, match="2 takes 144 features, it receives 256"):
        traced.network((10, 10))


def test_an_unknown_call_is_opaque_and_listed():
    module = models.TokenAttention("mha")
    network = from_torch(module, (3, 32, 32))
    result = costmodel.analyze(network)
    assert result.not_counted() == {"module MultiheadAttention": 1}
    assert result.totals["params"] == sum(p.numel() for p in module.parameters())
    from costmodel.views import render

    assert "not counted: module MultiheadAttention x 1" in render(result)
    with pytest.raises(CostModelError, match="cannot count module MultiheadAttention"):
        from_torch(module, (3, 32, 32), strict=True)


def test_unused_parameters_still_count():
    class WithSpareHead(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 1)
            self.spare = torch.nn.Linear(8, 5)

        def forward(self, x):
            return self.conv(x)

    module = WithSpareHead()
    result = costmodel.analyze(from_torch(module, (3, 8, 8)))
    assert result.totals["params"] == 32 + 45
    assert result.totals["madds"] == 3 * 8 * 64


def test_an_untraceable_module_ends_in_one_line():
    class DataDependent(torch.nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return x

    with pytest.raises(CostModelError, match=r"torch.fx cannot trace DataDependent: .*test_from_torch.py:\d+"):
        from_torch(DataDependent(), (3, 8, 8))


bfmd = pytest.importorskip("bfmd")

BFMD = {
    "mobilenet": (lambda: bfmd.mobilenet(), (3, 32, 32)),
    "mobilenetv2": (lambda: bfmd.mobilenetv2(), (3, 32, 32)),
    "googlenet": (lambda: bfmd.googlenet(), (3, 32, 32)),
    "inception_v3": (lambda: bfmd.inception_v3(), (3, 96, 96)),
    "xception": (lambda: bfmd.xception(), (3, 32, 32)),
    "mobilenetv3_large": (lambda: bfmd.mobilenetv3.Mobilenet_v3_large(), (3, 64, 64)),
    "mobilenetv3_small": (lambda: bfmd.mobilenetv3.Mobilenet_v3_small(), (3, 64, 64)),
    "mobilenext": (lambda: bfmd.mobilenext.MobileNeXt(), (3, 64, 64)),
    "blazeface": (lambda: bfmd.blazenet.BlazeEncoder(3), (3, 64, 64)),
    "efficientnet_b0": (lambda: bfmd.efficientnet_pytorch.EfficientNet.from_name("efficientnet-b0"), (3, 64, 64)),
}


@pytest.mark.parametrize("name", BFMD)
def test_bfmd_backbones_agree_with_the_reference_tools(name):
    factory, size = BFMD[name]
    network = assert_agrees(factory(), size)
    assert not costmodel.analyze(network).not_counted()
