"""costmodel.from_torch on real modules: the counts equal sum(p.numel()), fvcore's and FlopCounterMode's totals
on the original module (independent counts), node names are the module paths, and sizes are the asked input's."""
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")

import costmodel  # noqa: E402
from costmodel.core.errors import CostModelError  # noqa: E402
from_torch = costmodel.from_torch
from costmodel.lowering.verify import quiet_reference_tools  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
import models  # noqa: E402
import torch_blocks  # noqa: E402
from hand_written import HAND_WRITTEN  # noqa: E402


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
    from costmodel.sources.importer.torch_graph import TorchModel
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
    module = models.PixelShuffleNet()
    network = from_torch(module, (3, 8, 8))
    result = costmodel.analyze(network)
    assert result.not_counted() == {"module PixelShuffle": 1}
    assert result.totals["params"] == sum(p.numel() for p in module.parameters())
    # its shape is torch's: 32 channels of 8x8 become 8 of 16x16, which the next convolution reads
    assert [layer.output_shape.dims for layer in result.layers][1:] == [(1, 8, 16, 16), (1, 3, 16, 16)]
    assert result.totals["madds"] == 8 * 8 * 32 * 3 * 9 + 16 * 16 * 3 * 8
    from costmodel.present.analyses import render

    assert "not counted: module PixelShuffle x 1" in render(result)
    with pytest.raises(CostModelError, match="cannot count module PixelShuffle"):
        from_torch(module, (3, 8, 8), strict=True)


def test_multihead_attention_is_one_node_of_the_modules_formula():
    """nn.MultiheadAttention(32, 4) on 1 + 8x8 tokens: in projection 65 x 32 x 96, out projection 65 x 32 x 32,
    and two 65 x 65 x 32 products (4 heads of 8), by hand."""
    result = costmodel.analyze(from_torch(models.TokenAttention("mha"), (3, 32, 32)))
    attention = next(layer for layer in result.layers if layer.name == "attn")
    assert attention.params == 4 * 32 * 32 + 4 * 32
    assert attention.madds == 65 * 32 * 96 + 65 * 32 * 32 + 2 * 65 * 65 * 32
    assert result.not_counted() == {}


@pytest.mark.parametrize("capture", ["fx", "sized"])
def test_the_module_is_traced_in_eval_mode_and_each_part_keeps_its_own_mode(capture):
    """A model being trained with one BatchNorm frozen (in eval mode): the import counts inference (dropout as the
    identity: no opaque call) and leaves each part's mode as it was, the frozen BatchNorm's too."""
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 1), torch.nn.BatchNorm2d(8), torch.nn.Dropout(0.5),
                                 torch.nn.BatchNorm2d(8))
    module.train()
    module[3].eval()
    result = costmodel.analyze(from_torch(module, (3, 8, 8), capture=capture))
    assert [part.training for part in module.modules()] == [True, True, True, True, False]
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 8 + 8 + 2 * (2 * 8)


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


def test_data_dependent_control_flow_ends_in_one_line_naming_the_module_and_line():
    class Gate(torch.nn.Module):
        def forward(self, x):
            if x.sum() > 0:
                return x * 2
            return x

    class DataDependent(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = torch.nn.Conv2d(3, 3, 1)
            self.gate = Gate()

        def forward(self, x):
            return self.gate(self.stem(x))

    line = Gate.forward.__code__.co_firstlineno + 1
    with pytest.raises(CostModelError) as raised:
        from_torch(DataDependent(), (3, 8, 8))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("torch.export cannot capture DataDependent: its control flow depends on the values")
    assert f"in module 'gate' (Gate) at {__file__}:{line}: if x.sum() > 0:; torch.fx cannot trace" in message
    with pytest.raises(CostModelError, match=r"torch.fx cannot trace DataDependent: .*test_from_torch.py:\d+"):
        from_torch(DataDependent(), (3, 8, 8), capture="fx")
    with pytest.raises(CostModelError, match="capture must be 'auto', 'fx', 'sized' or 'export', got 'jit'"):
        from_torch(DataDependent(), (3, 8, 8), capture="jit")


EXPORTED = ["functional", "squeeze_excite", "attention_sdpa", "attention_matmul", "attention_mha",
            "attention_mha_unfused", "inverted_residual",
            "sandglass", "shuffle_v1", "shuffle_v2", "inception", "blaze_stride"]


@pytest.mark.parametrize("name", EXPORTED)
def test_torch_export_maps_to_the_same_network_as_the_fx_trace(name):
    """The two captures walk different graphs (module calls and torch functions; ATen ops with parameters as
    inputs) through the same table: every count and every counted node agrees (export drops dropout, an eval-mode
    no-op, and names an ATen op by the Python call that made it)."""
    factory, size = HAND_WRITTEN[name]
    module = factory()
    traced = from_torch(module, size, capture="fx")
    exported = from_torch(module, size, capture="export")
    assert exported.source.startswith("torch.export (non-strict)") and traced.source.startswith("torch.fx")
    for convention in ("costmodel", "fvcore", "flop_counter"):
        a = costmodel.analyze(traced, convention=convention)
        b = costmodel.analyze(exported, convention=convention)
        assert a.totals == b.totals
        counted = lambda result: [(layer.kind, layer.params, layer.madds, layer.flops)  # noqa: E731
                                  for layer in result.layers if layer.kind != "dropout"]
        assert counted(a) == counted(b)


@pytest.mark.parametrize("name", EXPORTED)
def test_a_trace_at_one_size_maps_to_the_same_network_as_the_fx_trace(name):
    """``capture="sized"`` (``torch_sized``: fx with the sizes as numbers, traced again at each size) walks the same
    kind of graph as fx's trace: every node and count agrees, at the first size and at another."""
    from costmodel.sources.importer.torch_graph import TorchModel

    factory, size = HAND_WRITTEN[name]
    module = factory()
    traced, sized = TorchModel(module, size, capture="fx"), TorchModel(module, size, capture="sized")
    assert sized.capture.startswith("torch.fx trace at each input size") and sized.graph is None
    for at in (size[1:], (2 * size[1], 2 * size[2])):
        a, b = traced.network(at), sized.network(at)
        assert [(node.name, node.op, node.inputs) for node in b.nodes] == \
            [(node.name, node.op, node.inputs) for node in a.nodes]
        assert costmodel.analyze(b).totals == costmodel.analyze(a).totals
    assert len(sized._programs) == 2                 # traced once per size


bfmd = pytest.importorskip("bfmd")

BFMD = {
    "mobilenet": (lambda: bfmd.mobilenet(), (3, 32, 32)),
    "mobilenetv2": (lambda: bfmd.mobilenetv2(), (3, 32, 32)),
    "googlenet": (lambda: bfmd.googlenet(), (3, 32, 32)),
    "inception_v3": (lambda: bfmd.inception_v3(), (3, 96, 96)),
    "inception_resnet_v2": (lambda: bfmd.InceptionResnetV2(), (3, 96, 96)),
    "xception": (lambda: bfmd.xception(), (3, 32, 32)),
    "mobilenetv3_large": (lambda: bfmd.mobilenetv3.Mobilenet_v3_large(), (3, 64, 64)),
    "mobilenetv3_small": (lambda: bfmd.mobilenetv3.Mobilenet_v3_small(), (3, 64, 64)),
    "mobilenext": (lambda: bfmd.mobilenext.MobileNeXt(), (3, 64, 64)),
    "blazeface": (lambda: bfmd.blazenet.BlazeEncoder(3), (3, 64, 64)),
    "efficientnet_b0": (lambda: bfmd.efficientnet_pytorch.EfficientNet.from_name("efficientnet-b0"), (3, 64, 64)),
    "shufflenet": (lambda: bfmd.shufflenet(), (3, 32, 32)),           # int(channels // groups): torch.export
    "shufflenetv2": (lambda: bfmd.shufflenetv2(), (3, 32, 32)),
}


@pytest.mark.parametrize("name", BFMD)
def test_bfmd_backbones_agree_with_the_reference_tools(name):
    factory, size = BFMD[name]
    network = assert_agrees(factory(), size)
    assert not costmodel.analyze(network).not_counted()


@pytest.mark.parametrize("capture", ["auto", "export"])
@pytest.mark.parametrize("name", ["shufflenet", "shufflenetv2"])
def test_modules_fx_cannot_trace_are_captured_again_at_each_size(name, capture):
    """bfmd's ShuffleNets make Python numbers of sizes (``int(channels / self.groups)`` of ``x.data.size()``): fx
    cannot trace them. The automatic capture traces them at each size with the sizes as numbers (``torch_sized``);
    ``torch.export`` does the same, slower. Both count as the reference tools do at another size than the first."""
    from costmodel.sources.importer.torch_graph import TorchModel

    factory, size = BFMD[name]
    module = factory()
    with pytest.raises(CostModelError, match="torch.fx cannot trace"):
        from_torch(module, size, capture="fx")
    model = TorchModel(module, size, capture=capture)
    assert model.capture == {
        "auto": "torch.fx trace at each input size (its sizes numbers), traced again at each size",
        "export": "torch.export (non-strict) of the module, exported again at each input size"}[capture]
    network = model.network((48, 48))
    params, fvcore_total, flop_counter_total = reference_counts(module, (3, 48, 48))
    assert costmodel.analyze(network, convention="fvcore").totals["params"] == params
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == fvcore_total
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == flop_counter_total
    assert network.nodes[0].name in ("conv1.conv", "pre.0")          # named by module path, as fx names them


def test_view_transpose_view_is_one_channel_shuffle():
    """The seed's shuffle, ``x.view(n, g, c // g, h, w).transpose(1, 2).reshape(n, c, h, w)``."""
    result = costmodel.analyze(from_torch(torch_blocks.ShuffleV1Unit(24, 48, 2, 3), (24, 12, 12)))
    kinds = [layer.kind for layer in result.layers]
    assert kinds.count("shuffle") == 1 and "reshape" not in kinds and "permute" not in kinds


class PaddedConv(torch.nn.Module):
    """A zero padding then a convolution without padding (timm's Conv2dSame, TensorFlow ports)."""

    def __init__(self, pads):
        super().__init__()
        self.pads = pads
        self.conv = torch.nn.Conv2d(3, 4, 3, stride=2)

    def forward(self, x):
        return self.conv(torch.nn.functional.pad(x, self.pads))


def test_a_padding_that_is_tensorflows_same_joins_the_convolution():
    # 8x8, kernel 3, stride 2: TensorFlow's "same" pads 0 before and 1 after (4 outputs per side)
    same = from_torch(PaddedConv((0, 1, 0, 1)), (3, 8, 8))
    assert [node.name for node in same.nodes] == ["conv"] and same.nodes[0].op.padding == "same"
    other = from_torch(PaddedConv((2, 2, 2, 2)), (3, 8, 8))
    assert [type(node.op).__name__ for node in other.nodes] == ["Pad", "Conv2d"]
    for network, size in ((same, 9), (other, 12)):
        result = costmodel.analyze(network)
        assert result.layers[-1].output_shape.dims == (1, 4, (size - 3) // 2 + 1, (size - 3) // 2 + 1)


@pytest.mark.parametrize("capture", ["fx", "export"])
def test_a_module_called_twice_counts_its_parameters_once(capture):
    """4 -> 4 channels, 3x3, on 8x8, twice: 148 parameters (4 * 4 * 9 + 4) once, 2 * 8 * 8 * 4 * 4 * 9 mult-adds."""
    network = from_torch(models.SharedConv(), (4, 8, 8), capture=capture)
    assert [(node.name, node.shares) for node in network.nodes] == [("conv", ""), ("act", ""), ("conv_1", "conv"),
                                                                     ("act_1", "")]
    result = costmodel.analyze(network)
    assert result.totals["params"] == 148 and result.totals["madds"] == 2 * 8 * 8 * 4 * 4 * 9
    assert_agrees(models.SharedConv(), (4, 8, 8))
