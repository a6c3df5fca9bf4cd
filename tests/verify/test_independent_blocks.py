"""Hand-written torch blocks (tests/torch_blocks.py), counted by fvcore, against the IR's numbers for the same
configuration: a check that does not rest on costmodel's own torch lowering."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("fvcore")

import torch

import costmodel
from costmodel.sources.builder import GraphBuilder, conv_bn_act, inverted_residual, squeeze_excite
from costmodel.ops import Activation, Add, BatchNorm, ChannelShuffle, Concat, Conv2d, Pool2d, Split
from costmodel.core.scaling import Expanded, Scaled
from costmodel.lowering.verify import quiet_reference_tools

import torch_blocks as tb


def fvcore_counts(module, shape):
    with quiet_reference_tools():
        from fvcore.nn import FlopCountAnalysis
        module = module.eval()
        analysis = FlopCountAnalysis(module, torch.zeros(1, *shape))
        analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
        return int(analysis.total()), sum(p.numel() for p in module.parameters())


def ir_counts(builder, shape, alpha=1.0):
    channels, height, width = shape
    network = builder.build("block", input_channels=channels, base_resolution=(height, width))
    totals = costmodel.analyze(network, alpha=alpha, convention="fvcore").totals
    return totals["flops"], totals["params"]


def dw_separable(b, prefix, x, out, stride):
    conv_bn_act(b, f"{prefix}.dw", None, 3, stride, groups="depthwise", x=x)
    return conv_bn_act(b, f"{prefix}.pw", out, 1)


def test_depthwise_separable():
    b = GraphBuilder()
    dw_separable(b, "block", "input", 64, 1)
    assert ir_counts(b, (32, 112, 112)) == fvcore_counts(tb.DepthwiseSeparable(32, 64, 1), (32, 112, 112))


@pytest.mark.parametrize("cin, cout, stride", [(24, 24, 1), (24, 32, 2)])
def test_inverted_residual(cin, cout, stride):
    b = GraphBuilder()
    inverted_residual(b, "block", "input", Scaled(cout), Expanded(6), stride=stride)
    assert ir_counts(b, (cin, 56, 56)) == fvcore_counts(tb.InvertedResidual(cin, cout, stride, 6), (cin, 56, 56))


def test_squeeze_excite():
    b = GraphBuilder()
    squeeze_excite(b, "se", "input")
    assert ir_counts(b, (72, 28, 28)) == fvcore_counts(tb.SqueezeExcite(72), (72, 28, 28))


def test_sandglass_block():
    b = GraphBuilder()
    conv_bn_act(b, "dw1", None, 3, groups="depthwise", activation="relu6")
    conv_bn_act(b, "reduce", 16, 1, activation=None)
    conv_bn_act(b, "expand", 96, 1, activation="relu6")
    last = conv_bn_act(b, "dw2", None, 3, groups="depthwise", activation=None)
    b.add("add", Add(), ("input", last))
    assert ir_counts(b, (96, 14, 14)) == fvcore_counts(tb.Sandglass(96, 6), (96, 14, 14))


@pytest.mark.parametrize("cin, cout, stride", [(240, 240, 1), (240, 480, 2)])
def test_shufflenet_v1_unit(cin, cout, stride):
    b = GraphBuilder()
    mid, out = cout // 4, (cout - cin if stride == 2 else cout)
    conv_bn_act(b, "gconv1", mid, 1, groups=3)
    b.add("shuffle", ChannelShuffle(3))
    conv_bn_act(b, "dw", None, 3, stride, groups="depthwise", activation=None)
    last = conv_bn_act(b, "gconv2", out, 1, groups=3, activation=None)
    if stride == 2:
        b.add("pool", Pool2d("avg", 3, 2, 1), "input")
        b.add("relu", Activation("relu"), last)
        b.add("cat", Concat(), ("pool", "relu"))
    else:
        b.add("add", Add(), ("input", last))
        b.add("relu", Activation("relu"))
    assert ir_counts(b, (cin, 28, 28)) == fvcore_counts(tb.ShuffleV1Unit(cin, cout, stride, 3), (cin, 28, 28))


@pytest.mark.parametrize("cin, cout, stride", [(116, 116, 1), (116, 232, 2)])
def test_shufflenet_v2_unit(cin, cout, stride):
    b = GraphBuilder()
    half = cout // 2
    if stride == 1:
        left = b.add("left", Split(2, 0), "input")
        source = b.add("right", Split(2, 1), "input")
    else:
        conv_bn_act(b, "branch1.dw", None, 3, 2, groups="depthwise", activation=None, x="input")
        left = conv_bn_act(b, "branch1.pw", half, 1)
        source = "input"
    conv_bn_act(b, "branch2.pw1", half, 1, x=source)
    conv_bn_act(b, "branch2.dw", None, 3, stride, groups="depthwise", activation=None)
    right = conv_bn_act(b, "branch2.pw2", half, 1)
    b.add("cat", Concat(), (left, right))
    b.add("shuffle", ChannelShuffle(2))
    assert ir_counts(b, (cin, 28, 28)) == fvcore_counts(tb.ShuffleV2Unit(cin, cout, stride), (cin, 28, 28))


def test_inception_module():
    b = GraphBuilder()
    branches = []
    for name, steps in (("b1", [(64, 1)]), ("b2", [(96, 1), (128, 3)]), ("b3", [(16, 1), (32, 5)])):
        x = "input"
        for i, (out, k) in enumerate(steps):
            b.add(f"{name}.{i}.conv", Conv2d(out, k, padding=k // 2, bias=True), x)
            x = b.add(f"{name}.{i}.relu", Activation("relu"))
        branches.append(x)
    b.add("b4.pool", Pool2d("max", 3, 1, 1), "input")
    b.add("b4.conv", Conv2d(32, 1, bias=True))
    branches.append(b.add("b4.relu", Activation("relu")))
    b.add("cat", Concat(), branches)
    module = tb.InceptionModule(192, 64, 96, 128, 16, 32, 32)
    assert ir_counts(b, (192, 28, 28)) == fvcore_counts(module, (192, 28, 28))


def test_xception_separable_conv():
    b = GraphBuilder()
    b.add("depthwise", Conv2d(None, 3, padding=1, groups="depthwise"))
    b.add("pointwise", Conv2d(256, 1))
    b.add("bn", BatchNorm())
    assert ir_counts(b, (128, 74, 74)) == fvcore_counts(tb.XceptionSeparable(128, 256), (128, 74, 74))


@pytest.mark.parametrize("cin, cout, stride", [(24, 24, 1), (24, 48, 2)])
def test_blaze_block(cin, cout, stride):
    b = GraphBuilder()
    b.add("dw.conv", Conv2d(None, 5, stride, 2, groups="depthwise", bias=True))
    b.add("dw.bn", BatchNorm())
    b.add("pw.conv", Conv2d(cout, 1, bias=True))
    branch = b.add("pw.bn", BatchNorm())
    shortcut = b.add("pool", Pool2d("max", 2, 2), "input") if stride == 2 else "input"
    if cout == cin:
        b.add("add", Add(), (branch, shortcut))
    else:       # the zero-padded channels add nothing: add the shortcut to the first half, keep the second
        first = b.add("first", Split(2, 0), branch)
        second = b.add("second", Split(2, 1), branch)
        b.add("add", Add(), (first, shortcut))
        b.add("cat", Concat(), ("add", second))
    b.add("relu", Activation("relu"))
    assert ir_counts(b, (cin, 64, 64)) == fvcore_counts(tb.BlazeBlock(cin, cout, stride), (cin, 64, 64))


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_mobilenet_v1(alpha):
    totals = costmodel.analyze("mobilenet_v1", alpha=alpha, convention="fvcore").totals
    assert (totals["flops"], totals["params"]) == fvcore_counts(tb.MobileNetV1(alpha), (3, 224, 224))
