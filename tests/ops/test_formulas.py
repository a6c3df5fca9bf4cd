"""Every cost formula against a hand computation, including grouped, strided, padded and dilated cases.

Notation of the MobileNetV1 paper: D_K kernel, M input channels, N output channels, D_F output map, g groups.
"""
import pytest

from costmodel.ops import (Activation, Add, BatchNorm, ChannelShuffle, Concat, Conv2d,
                           Dropout, Flatten, GlobalAvgPool, Linear, Multiply, Pool2d, Split)
from costmodel.sources.builder import GraphBuilder
import costmodel

from helpers import single


def test_standard_convolution():
    # D_K=3, M=16, N=32, D_F=28 (stride 1, padding 1): D_K^2 M N D_F^2
    row = single(Conv2d(32, kernel=3, padding=1), 16, 28)
    assert row.kind == "conv"
    assert row.output_shape.sample == (32, 28, 28)
    assert row.madds == 3 * 3 * 16 * 32 * 28 * 28 == 3_612_672
    assert row.params == 3 * 3 * 16 * 32 == 4608
    assert row.flops == 2 * 3_612_672


def test_convolution_with_bias():
    row = single(Conv2d(32, kernel=3, padding=1, bias=True), 16, 28)
    assert row.params == 4608 + 32
    assert row.madds == 3_612_672                          # bias is not a multiply-accumulate
    assert row.flops == 2 * 3_612_672 + 32 * 28 * 28       # one add per output element


def test_strided_padded_convolution():
    # floor((15 + 2*1 - 3) / 2) + 1 = 8
    row = single(Conv2d(32, kernel=3, stride=2, padding=1), 16, 15)
    assert row.output_shape.sample == (32, 8, 8)
    assert row.madds == 9 * 16 * 32 * 64


def test_unpadded_convolution_shrinks_the_map():
    row = single(Conv2d(8, kernel=5), 4, 12)        # 12 - 5 + 1 = 8
    assert row.output_shape.sample == (8, 8, 8)
    assert row.madds == 25 * 4 * 8 * 64


def test_dilated_convolution():
    # effective kernel d(k-1)+1 = 5: with padding 2 the map keeps 20; without it shrinks to 16
    padded = single(Conv2d(8, kernel=3, padding=2, dilation=2), 4, 20)
    assert padded.output_shape.sample == (8, 20, 20)
    assert padded.madds == 9 * 4 * 8 * 400                 # dilation does not add multiply-accumulates
    unpadded = single(Conv2d(8, kernel=3, dilation=2), 4, 20)
    assert unpadded.output_shape.sample == (8, 16, 16)
    assert unpadded.params == 9 * 4 * 8


def test_asymmetric_kernel():
    # Inception v3's 1x7: padding (0, 3) keeps 17x17; D_K,h * D_K,w * M * N * D_F^2
    row = single(Conv2d(192, kernel=(1, 7), padding=(0, 3)), 160, 17)
    assert row.output_shape.sample == (192, 17, 17)
    assert row.madds == 1 * 7 * 160 * 192 * 17 * 17
    assert row.params == 7 * 160 * 192


def test_same_padding_matches_tensorflow():
    # "same": ceil(D / S), whatever the kernel
    assert single(Conv2d(8, kernel=3, stride=2, padding="same"), 3, 7).output_shape.sample == (8, 4, 4)
    assert single(Conv2d(8, kernel=7, stride=2, padding="same"), 3, 224).output_shape.sample == (8, 112, 112)
    assert single(Conv2d(8, kernel=3, padding="valid"), 3, 7).output_shape.sample == (8, 5, 5)


def test_depthwise_convolution():
    # D_K^2 M D_F^2 with stride 2: 112 -> 56
    row = single(Conv2d(None, kernel=3, stride=2, padding=1, groups="depthwise"), 32, 112)
    assert row.kind == "depthwise"
    assert row.output_shape.sample == (32, 56, 56)
    assert row.madds == 9 * 32 * 56 * 56 == 903_168
    assert row.params == 9 * 32


def test_depthwise_with_channel_multiplier():
    row = single(Conv2d(64, kernel=3, padding=1, groups="depthwise"), 32, 10)
    assert row.kind == "depthwise"
    assert row.params == 9 * 1 * 64
    assert row.madds == 9 * 64 * 100


def test_integer_groups_equal_to_channels_is_depthwise():
    assert single(Conv2d(16, kernel=3, padding=1, groups=16), 16, 8).kind == "depthwise"


def test_pointwise_convolution():
    row = single(Conv2d(128, kernel=1), 64, 56)
    assert row.kind == "pointwise"
    assert row.madds == 64 * 128 * 56 * 56              # M N D_F^2
    assert row.params == 64 * 128


def test_group_convolution_divides_by_g():
    # ResNeXt-style 3x3 with g=4: the standard cost / g
    standard = single(Conv2d(64, kernel=3, padding=1), 64, 14)
    grouped = single(Conv2d(64, kernel=3, padding=1, groups=4), 64, 14)
    assert grouped.kind == "group"
    assert grouped.madds == 9 * (64 // 4) * 64 * 196 == 1_806_336
    assert grouped.madds * 4 == standard.madds
    assert grouped.params == 9 * 16 * 64


def test_grouped_pointwise_is_a_group_convolution():
    row = single(Conv2d(240, kernel=1, groups=3), 60, 28)   # ShuffleNet's 1x1 GConv
    assert row.kind == "group"
    assert row.madds == (60 // 3) * 240 * 28 * 28


def test_linear():
    builder = GraphBuilder()
    builder.add("flatten", Flatten())
    builder.add("fc", Linear(1000))
    result = costmodel.analyze(builder.build("fc", input_channels=1024, base_resolution=1))
    fc = result.layers[1]
    assert fc.madds == 1024 * 1000
    assert fc.params == 1024 * 1000 + 1000
    assert fc.flops == 2 * 1024 * 1000 + 1000


def test_batchnorm():
    row = single(BatchNorm(), 32, 10)
    assert row.params == 64
    assert row.madds == 0
    assert row.flops == 2 * 32 * 100
    assert single(BatchNorm(affine=False), 32, 10).params == 0


@pytest.mark.parametrize("function, per_element", [
    ("relu", 1), ("relu6", 2), ("hsigmoid", 4), ("hswish", 5), ("sigmoid", 4), ("silu", 5)])
def test_activation_flops_per_element(function, per_element):
    row = single(Activation(function), 8, 5)
    assert row.flops == per_element * 8 * 25
    assert row.madds == row.params == 0


def test_max_pool():
    # 3x3 stride 2 padding 1: 112 -> 56; 8 comparisons per output element
    row = single(Pool2d("max", 3, 2, 1), 64, 112)
    assert row.output_shape.sample == (64, 56, 56)
    assert row.flops == 8 * 64 * 56 * 56


def test_avg_pool_with_ceil_mode():
    # GoogLeNet / SqueezeNet pools use ceil_mode: 111 -> ceil((111 - 3) / 2) + 1 = 55
    row = single(Pool2d("avg", 3, 2, 0, ceil_mode=True), 96, 111)
    assert row.output_shape.sample == (96, 55, 55)
    assert row.flops == 9 * 96 * 55 * 55


def test_ceil_mode_drops_a_window_starting_in_the_padding():
    # 5 with k=2, s=2, p=1: ceil(5/2)+1 = 4, but the 4th window would start at 6 >= 5 + 1, so 3 (as torch)
    assert single(Pool2d("max", 2, 2, 1, ceil_mode=True), 1, 5).output_shape.sample == (1, 3, 3)
    assert single(Pool2d("max", 2, 2, 1), 1, 5).output_shape.sample == (1, 3, 3)
    # 6 with k=3, s=2: floor(3/2)+1 = 2, ceil(3/2)+1 = 3
    assert single(Pool2d("max", 3, 2, 0, ceil_mode=True), 1, 6).output_shape.sample == (1, 3, 3)
    assert single(Pool2d("max", 3, 2, 0), 1, 6).output_shape.sample == (1, 2, 2)


def test_global_average_pool():
    row = single(GlobalAvgPool(), 1024, 7)
    assert row.output_shape.sample == (1024, 1, 1)
    assert row.flops == 1024 * 49           # H W - 1 adds and one multiply per channel


def test_memory_access_of_a_pointwise_convolution_is_shufflenet_v2s_formula():
    # MAC = hw(c1 + c2) + c1 c2 with h = w = 56, c1 = 64, c2 = 128
    row = single(Conv2d(128, kernel=1), 64, 56)
    assert row.memory_access == 56 * 56 * (64 + 128) + 64 * 128 == 610_304
    assert row.memory_access_bytes == 4 * 610_304


def test_memory_access_of_a_group_convolution():
    # MAC = hw(c1 + c2) + c1 c2 / g
    row = single(Conv2d(64, kernel=1, groups=4), 64, 28)
    assert row.memory_access == 28 * 28 * 128 + 64 * 64 // 4 == 101_376


def test_memory_access_of_element_wise_and_pooling_layers():
    assert single(BatchNorm(), 32, 10).memory_access == 2 * 32 * 100 + 2 * 32      # in + out + gamma, beta
    assert single(Activation("relu6"), 32, 10).memory_access == 2 * 32 * 100
    assert single(Pool2d("max", 2), 32, 10).memory_access == 32 * 100 + 32 * 25
    assert single(GlobalAvgPool(), 32, 10).memory_access == 32 * 100 + 32


def test_memory_access_in_other_dtypes():
    row = single(Conv2d(128, kernel=1), 64, 56, dtype="float16")
    assert row.memory_access_bytes == 2 * 610_304


def _two_branch(op, channels=(8, 8)):
    builder = GraphBuilder()
    builder.add("a", Conv2d(channels[0], kernel=1))
    builder.add("b", Conv2d(channels[1], kernel=1), "input")
    builder.add("merge", op, ("a", "b"))
    return costmodel.analyze(builder.build("merge", input_channels=4, base_resolution=6))


def test_add_concat_multiply():
    add = _two_branch(Add()).layers[2]
    assert add.flops == 8 * 36 and add.memory_access == 3 * 8 * 36
    concat = _two_branch(Concat(), (8, 16)).layers[2]
    assert concat.output_shape.sample == (24, 6, 6) and concat.flops == 0 and concat.memory_access == 2 * 24 * 36
    multiply = _two_branch(Multiply()).layers[2]
    assert multiply.flops == 8 * 36


def test_squeeze_excite_multiply_broadcasts_the_gate():
    builder = GraphBuilder()
    builder.add("pool", GlobalAvgPool())
    builder.add("fc1", Conv2d(4, kernel=1, bias=True))
    builder.add("fc2", Conv2d(16, kernel=1, bias=True))
    builder.add("gate", Activation("hsigmoid"))
    builder.add("scale", Multiply(), ("input", "gate"))
    result = costmodel.analyze(builder.build("se", input_channels=16, base_resolution=7))
    scale = result.layers[-1]
    assert scale.output_shape.sample == (16, 7, 7)
    assert scale.flops == 16 * 49
    assert scale.memory_access == 16 * 49 + 16 + 16 * 49
    assert result.totals["params"] == (16 * 4 + 4) + (4 * 16 + 16)


def test_views_and_shuffle():
    assert single(Flatten(), 8, 3).output_shape.sample == (72,)
    assert single(Flatten(), 8, 3).memory_access == 0
    assert single(Dropout(0.2), 8, 3).memory_access == 0
    split = single(Split(2, 1), 8, 3)
    assert split.output_shape.sample == (4, 3, 3) and split.memory_access == 0
    shuffle = single(ChannelShuffle(2), 8, 3)
    assert shuffle.flops == 0 and shuffle.memory_access == 2 * 72


@pytest.mark.parametrize("convention, conv, bn, relu6, gap, fc", [
    # 16->32 3x3 conv on 8x8 (bias), BN, ReLU6, global pool, flatten, fc 32->10 (bias)
    ("costmodel", 2 * 9 * 16 * 32 * 64 + 32 * 64, 2 * 32 * 64, 2 * 32 * 64, 32 * 64, 2 * 320 + 10),
    ("papers", 9 * 16 * 32 * 64, 0, 0, 0, 320),
    ("fvcore", 9 * 16 * 32 * 64, 2 * 32 * 64, 0, 32 * 64, 320),
    ("flop_counter", 2 * 9 * 16 * 32 * 64, 0, 0, 0, 640),
])
def test_flop_conventions(convention, conv, bn, relu6, gap, fc):
    builder = GraphBuilder()
    builder.add("conv", Conv2d(32, kernel=3, padding=1, bias=True))
    builder.add("bn", BatchNorm())
    builder.add("act", Activation("relu6"))
    builder.add("pool", GlobalAvgPool())
    builder.add("flatten", Flatten())
    builder.add("fc", Linear(10))
    result = costmodel.analyze(builder.build("small", input_channels=16, base_resolution=8),
                               convention=convention)
    assert [layer.flops for layer in result.layers] == [conv, bn, relu6, gap, 0, fc]
    assert result.totals["madds"] == 9 * 16 * 32 * 64 + 320      # mult-adds do not depend on the convention


def test_fvcore_batchnorm_without_affine_counts_one_per_element():
    assert single(BatchNorm(affine=False), 4, 5, convention="fvcore").flops == 100


def test_width_multiplier_scales_madds_by_alpha_squared():
    # The paper's D_K^2 alpha M alpha N D_F^2: at alpha 0.5 a fragment with scaled input and output costs 1/4
    from costmodel.core.scaling import Scaled
    builder = GraphBuilder()
    builder.add("conv", Conv2d(Scaled(64, "mobilenet_v1"), kernel=1))
    network = builder.build("fragment", input_channels=Scaled(64, "mobilenet_v1"), base_resolution=14)
    full = costmodel.analyze(network).totals["madds"]
    half = costmodel.analyze(network, alpha=0.5).totals["madds"]
    assert full == 64 * 64 * 196 and half * 4 == full
    quarter_area = costmodel.analyze(network, rho=0.5).totals["madds"]
    assert quarter_area * 4 == full
