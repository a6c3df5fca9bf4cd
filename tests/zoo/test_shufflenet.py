"""ShuffleNet V1/V2, Xception, MobileNeXt, BlazeFace's backbone and FD-MobileNet against hand derivations from the
papers' tables and against the reference implementations' published figures."""
import math

import pytest

import costmodel

from by_hand import shufflenet_v1_by_hand
from costmodel.core.errors import CostModelError
from costmodel.core.papers import load
from costmodel.core.scaling import make_divisible, resolve_width, Scaled


def _layers(result):
    return {layer.name: layer for layer in result.layers}


def _agrees(exact, printed):
    """Within one unit of the last printed digit (the reproductions' rule)."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    return abs(exact / 1e6 - float(printed)) <= 10 ** -decimals


# ---------------------------------------------------------------------------------------------- ShuffleNet V1

def test_shufflenet_v1_g3_by_hand():
    # Table 1, g = 3: stages 240, 480, 960, bottlenecks c/4 = 60, 120, 240; stem 24.
    madds, params = shufflenet_v1_by_hand(24, (240, 480, 960), (60, 120, 240), 3)
    result = costmodel.analyze("shufflenet_v1")
    assert result.totals["madds"] == madds == 137_460_672
    assert result.totals["params"] == params == 1_864_728
    for g, stages in ((1, (144, 288, 576)), (2, (200, 400, 800)), (4, (272, 544, 1088)), (8, (384, 768, 1536))):
        hand = shufflenet_v1_by_hand(24, stages, tuple(c // 4 for c in stages), g)
        other = costmodel.analyze("shufflenet_v1", options={"groups": g})
        assert (other.totals["madds"], other.totals["params"]) == hand


# megvii-model/ShuffleNet-Series ShuffleNetV1/README.md, the reference code's published FLOPs and params:
# (groups, scale, MFLOPs, M params)
MEGVII_V1 = [(3, 2.0, "524", "5.4"), (8, 2.0, "522", "6.5"), (3, 1.5, "292", "3.4"), (8, 1.5, "290", "4.3"),
             (3, 1.0, "138", "1.9"), (8, 1.0, "138", "2.4"), (3, 0.5, "38", "0.7"), (8, 0.5, "40", "1.0")]


@pytest.mark.parametrize("groups, scale, mflops, mparams", MEGVII_V1)
def test_shufflenet_v1_matches_the_reference_codes_readme(groups, scale, mflops, mparams):
    result = costmodel.analyze("shufflenet_v1", alpha=scale, options={"groups": groups})
    assert _agrees(result.totals["madds"], mflops)
    assert _agrees(result.totals["params"], mparams)


def test_shufflenet_v1_reference_widths():
    # the reference code's stage_out_channels: g=8 0.5x [-1, 16, 192, 384, 768]; g=3 1.5x [-1, 24, 360, 720, 1440]
    layers = _layers(costmodel.analyze("shufflenet_v1", alpha=0.5, options={"groups": 8}))
    assert layers["first_conv.0"].output_shape.sample == (16, 112, 112)
    assert layers["features.0.cat"].output_shape.sample == (192, 28, 28)
    assert layers["features.0.branch_main_2.0"].output_shape.sample == (192 - 16, 28, 28)
    assert layers["features.15.relu"].output_shape.sample == (768, 7, 7)
    layers = _layers(costmodel.analyze("shufflenet_v1", alpha=1.5))
    assert layers["first_conv.0"].output_shape.sample == (24, 112, 112)        # not 36: the code keeps 24 at 1.5x
    assert layers["features.4.branch_main_1.0"].output_shape.sample == (720 // 4, 28, 28)   # before the stride
    assert layers["features.15.relu"].output_shape.sample == (1440, 7, 7)


def test_shufflenet_v1_widths_outside_the_reference_code():
    # g = 4, 0.25x: stages 68, 136, 272; stem 24 * 0.25 = 6 -> 8 (a multiple of 4); bottlenecks 68 // 4 = 17 -> 20,
    # 136 // 4 = 34 -> 36, 272 // 4 = 68.
    layers = _layers(costmodel.analyze("shufflenet_v1", alpha=0.25, options={"groups": 4}))
    assert layers["first_conv.0"].output_shape.sample == (8, 112, 112)
    assert layers["features.0.branch_main_1.0"].output_shape.sample == (20, 56, 56)
    assert layers["features.4.branch_main_1.0"].output_shape.sample == (36, 28, 28)
    assert layers["features.12.branch_main_1.0"].output_shape.sample == (68, 14, 14)
    assert layers["features.15.relu"].output_shape.sample == (272, 7, 7)
    # g = 2, 0.5x: stage 2 is 100 wide, 100 // 4 = 25 -> 26; g = 1, 0.25x: stem 6, bottleneck 36 // 4 = 9
    assert _layers(costmodel.analyze("shufflenet_v1", alpha=0.5, options={"groups": 2}))[
        "features.1.branch_main_1.0"].output_shape.sample == (26, 28, 28)
    layers = _layers(costmodel.analyze("shufflenet_v1", alpha=0.25, options={"groups": 1}))
    assert layers["first_conv.0"].output_shape.sample == (6, 112, 112)
    assert layers["features.1.branch_main_1.0"].output_shape.sample == (9, 28, 28)


def test_shufflenet_v1_half_width_g4_matches_the_papers_table_5():
    # ShuffleNet paper, Table 5 (other_networks.csv): "ShuffleNet 0.5x (g = 4)": 38 MFLOPs. By hand: stem 12,
    # stages 136, 272, 544, bottlenecks 36 (34 rounded up to a multiple of 4), 68, 136.
    printed = {row["network"]: row for row in load("other_networks.csv").rows}["ShuffleNet 0.5x g=4"]
    madds, _ = shufflenet_v1_by_hand(12, (136, 272, 544), (36, 68, 136), 4)
    result = costmodel.analyze("shufflenet_v1", alpha=0.5, options={"groups": 4})
    assert result.totals["madds"] == madds == 37_468_832
    assert _agrees(madds, printed["million_mult_adds"])
    # rounding the bottleneck down instead (32) would give 36.47M, which does not agree
    assert not _agrees(shufflenet_v1_by_hand(12, (136, 272, 544), (32, 68, 136), 4)[0], "38")


def test_shufflenet_v1_unit_structure():
    result = costmodel.analyze("shufflenet_v1")
    layers = _layers(result)
    assert layers["features.0.branch_main_1.0"].kind == "pointwise"          # Stage 2's first 1x1: not grouped
    assert layers["features.1.branch_main_1.0"].kind == "group"
    assert layers["features.0.branch_proj"].output_shape.sample == (24, 28, 28)     # 3x3 avg pool, stride 2, padding 1
    assert layers["features.0.relu"].output_shape.sample == (216, 28, 28)           # ReLU on the branch only
    assert layers["features.0.cat"].output_shape.sample == (240, 28, 28)
    assert layers["features.1.add"].output_shape.sample == (240, 28, 28)
    assert sum(layer.kind == "shuffle" for layer in result.layers) == 16
    assert sum(layer.kind == "add" for layer in result.layers) == 13         # 3 + 7 + 3 stride-1 units
    assert result.layers[-1].name == "classifier.0" and result.layers[-1].params == 960 * 1000
    plain = costmodel.analyze("shufflenet_v1", options={"groups": 1})
    assert not any(layer.kind == "shuffle" for layer in plain.layers)       # the code shuffles only if g > 1


def test_shufflenet_v1_refuses_other_scales_and_groups():
    with pytest.raises(CostModelError, match="comes in alpha 0.25, 0.5, 1, 1.5, 2 only"):
        costmodel.analyze("shufflenet_v1", alpha=0.75)
    with pytest.raises(CostModelError, match="option 'groups' must be one of 1, 2, 3, 4, 8"):
        costmodel.analyze("shufflenet_v1", options={"groups": 6})


# ---------------------------------------------------------------------------------------------- ShuffleNet V2

def shufflenet_v2_madds_by_hand(stages, conv5):
    """Table 5 counted by hand: stem 27*24*112^2; a stride-2 unit from c_in (at 2h) to c (at h), m = c/2:
    branch1 9 c_in h^2 + c_in m h^2, branch2 c_in m (2h)^2 + 9 m h^2 + m^2 h^2; a stride-1 unit 2 m^2 h^2 + 9 m h^2;
    conv5 and the FC."""
    total, c_in = 27 * 24 * 112 * 112, 24
    for c, repeat, h in zip(stages, (4, 8, 4), (28, 14, 7)):
        m = c // 2
        total += 9 * c_in * h * h + c_in * m * h * h + c_in * m * 4 * h * h + 9 * m * h * h + m * m * h * h
        total += (repeat - 1) * (2 * m * m * h * h + 9 * m * h * h)
        c_in = c
    return total + c_in * conv5 * 49 + conv5 * 1000


# torchvision models/shufflenetv2.py: num_params and _ops (GFLOPS = GMACs) of ShuffleNet_V2_X*_Weights
TORCHVISION_V2 = [(0.5, (48, 96, 192), 1024, 1_366_792, 0.04), (1.0, (116, 232, 464), 1024, 2_278_604, 0.145),
                  (1.5, (176, 352, 704), 1024, 3_503_624, 0.296), (2.0, (244, 488, 976), 2048, 7_393_996, 0.583)]


@pytest.mark.parametrize("alpha, stages, conv5, params, gflops", TORCHVISION_V2)
def test_shufflenet_v2_matches_torchvision(alpha, stages, conv5, params, gflops):
    result = costmodel.analyze("shufflenet_v2", alpha=alpha)
    assert result.totals["params"] == params
    assert result.totals["madds"] == shufflenet_v2_madds_by_hand(stages, conv5)
    decimals = len(str(gflops).split(".")[1])
    assert round(result.totals["madds"] / 1e9, decimals) == gflops


def test_shufflenet_v2_layers_follow_torchvision():
    result = costmodel.analyze("shufflenet_v2")
    layers = _layers(result)
    assert layers["conv1.0"].output_shape.sample == (24, 112, 112) and layers["maxpool"].output_shape.sample == (24, 56, 56)
    assert layers["stage2.0.branch1.0"].kind == "depthwise" and layers["stage2.0.branch1.0"].output_shape.sample == (
        24, 28, 28)
    assert layers["stage2.0.branch1.2"].output_shape.sample == (58, 28, 28)
    assert layers["stage2.0.branch2.0"].output_shape.sample == (58, 56, 56)         # 1x1 on the whole input, before stride
    assert layers["stage2.0.cat"].output_shape.sample == (116, 28, 28)
    assert layers["stage2.1.chunk.0"].kind == "split" and layers["stage2.1.chunk.1"].output_shape.sample == (58, 28, 28)
    assert tuple(x.sample for x in layers["stage2.1.branch2.0"].input_shapes) == ((58, 28, 28),)
    assert layers["stage2.1.channel_shuffle"].kind == "shuffle"
    assert layers["stage4.3.channel_shuffle"].output_shape.sample == (464, 7, 7)
    assert layers["conv5.0"].output_shape.sample == (1024, 7, 7)
    assert result.layers[-1].name == "fc" and result.layers[-1].params == 1024 * 1000 + 1000
    assert sum(layer.kind == "split" for layer in result.layers) == 2 * 13   # two chunks per stride-1 unit


def test_shufflenet_v2_paper_weights_and_refused_alphas():
    table = {row["layer"]: row for row in load("shufflenet_v2_table5.csv").rows}
    for alpha, column in zip((0.5, 1.0, 1.5, 2.0), ("x0_5", "x1_0", "x1_5", "x2_0")):
        assert _agrees(costmodel.analyze("shufflenet_v2", alpha=alpha).totals["params"],
                       table["Num_of_weights"][column].rstrip("M"))
    with pytest.raises(CostModelError, match="comes in alpha 0.5, 1, 1.5, 2 only"):
        costmodel.analyze("shufflenet_v2", alpha=0.75)


# ---------------------------------------------------------------------------------------------- Xception

def xception_by_hand():
    """(mult-adds, params) of Figure 5 by hand. A separable conv at D x D: 9 M D^2 + M N D^2 mult-adds,
    9 M + M N + 2 N params (with its BN)."""
    madds = 27 * 32 * 149 ** 2 + 9 * 32 * 64 * 147 ** 2
    params = 27 * 32 + 2 * 32 + 9 * 32 * 64 + 2 * 64

    def sep(m, n, d):
        return 9 * m * d * d + m * n * d * d, 9 * m + m * n + 2 * n

    for m, (a, b), d, d_out in ((64, (128, 128), 147, 74), (128, (256, 256), 74, 37), (256, (728, 728), 37, 19),
                                (728, (728, 1024), 19, 10)):
        for cost in (sep(m, a, d), sep(a, b, d), (m * b * d_out ** 2, m * b + 2 * b)):   # two seps, the shortcut
            madds, params = madds + cost[0], params + cost[1]
    for _ in range(8 * 3):
        madds, params = madds + sep(728, 728, 19)[0], params + sep(728, 728, 19)[1]
    for m, n in ((1024, 1536), (1536, 2048)):
        madds, params = madds + sep(m, n, 10)[0], params + sep(m, n, 10)[1]
    return madds + 2048 * 1000, params + 2048 * 1000 + 1000


def test_xception_reproduces_the_papers_parameter_count():
    # Xception paper Table 3: 22,855,952 (Keras' trainable count of applications/xception.py, BN gamma/beta in)
    printed = {row["network"]: row for row in load("other_networks.csv").rows}["Xception"]
    result = costmodel.analyze("xception")
    madds, params = xception_by_hand()
    assert result.totals["params"] == params == round(float(printed["million_params"]) * 1e6) == 22_855_952
    assert result.totals["madds"] == madds == 8_357_403_496


def test_xception_flows():
    result = costmodel.analyze("xception")
    layers = _layers(result)
    assert result.input_shape.sample == (3, 299, 299)
    assert layers["block1_conv1"].output_shape.sample == (32, 149, 149)             # "valid"
    assert layers["block1_conv2"].output_shape.sample == (64, 147, 147)
    assert layers["block2_pool"].output_shape.sample == (128, 74, 74)               # "same": ceil(147 / 2)
    assert layers["block2_residual.conv"].output_shape.sample == (128, 74, 74)
    assert "block2_sepconv1_act" not in layers and "block2_sepconv2_act" in layers
    assert layers["block4_add"].output_shape.sample == (728, 19, 19)
    assert tuple(x.sample for x in layers["block12_add"].input_shapes) == ((728, 19, 19), (728, 19, 19))
    assert layers["block13_add"].output_shape.sample == (1024, 10, 10)
    assert layers["block14_sepconv2_act"].output_shape.sample == (2048, 10, 10)
    assert layers["block5_sepconv1.depthwise"].params == 9 * 728             # no bias
    assert sum(layer.kind == "add" for layer in result.layers) == 12
    assert layers["predictions"].params == 2048 * 1000 + 1000
    with pytest.raises(CostModelError, match="has no width multiplier"):
        costmodel.analyze("xception", alpha=0.5)
    assert costmodel.analyze("xception", resolution=71).layers[-4].output_shape.sample == (2048, 3, 3)


# ---------------------------------------------------------------------------------------------- MobileNeXt

def mobilenext_by_hand(alpha=1.0, blocks_960=3):
    """(mult-adds, params) of the authors' mnext.py counted by hand: widths make_divisible(c * alpha, 8), the
    1280 block never thinned; hidden M // t, or make_divisible(ceil(N / 6), 16) below N / 6; block forms as in
    the code (full dw-pw-pw-dw, or pw-pw, or pw-pw-dw for a stage's first t = 6 block with M != N)."""
    def width(c):
        return make_divisible(c * max(alpha, 1.0), 8) if c == 1280 else make_divisible(c * alpha, 8)

    size = 112
    stem = width(32)
    madds, params = 27 * stem * size * size, 27 * stem + 2 * stem
    m = stem
    rows = [(2, 96, 1, 2), (6, 144, 1, 1), (6, 192, 3, 2), (6, 288, 3, 2), (6, 384, 4, 1), (6, 576, 4, 2),
            (6, 960, blocks_960, 1), (6, 1280, 1, 1)]
    for t, c, b, s in rows:
        n = width(c)
        for repeat in range(b):
            stride = s if repeat == 0 else 1
            hidden = m // t if m // t >= n / 6 else make_divisible(math.ceil(n / 6), 16)
            full = t == 2 or m == n or (b == 1 and s == 1)
            out_size = size // stride
            if full:
                madds, params = madds + 9 * m * size * size, params + 9 * m + 2 * m
            madds += (m * hidden + hidden * n) * size * size
            params += m * hidden + 2 * hidden + hidden * n + 2 * n
            if full or stride == 2:
                madds, params = madds + 9 * n * out_size * out_size, params + 9 * n + 2 * n
            m, size = n, out_size
    return madds + m * 1000, params + m * 1000 + 1000


def test_mobilenext_by_hand_and_the_authors_readme():
    result = costmodel.analyze("mobilenext")
    madds, params = mobilenext_by_hand()
    assert (result.totals["madds"], result.totals["params"]) == (madds, params) == (311_342_592, 3_535_416)
    # README of zhoudaquan/rethinking_bottleneck_design: MobileNeXt-1.00 3.5M params (agrees), 300M MAdds (the
    # code's network counts 311.34M; with Table 2's two 960 blocks 295.44M; neither is 300 to the unit).
    assert _agrees(params, "3.5")
    table = costmodel.analyze("mobilenext", options={"blocks_960": 2})
    assert (table.totals["madds"], table.totals["params"]) == mobilenext_by_hand(blocks_960=2)
    assert (table.totals["madds"], table.totals["params"]) == (295_443_072, 3_204_856)


@pytest.mark.parametrize("alpha", [0.35, 0.5, 0.75, 1.4])
def test_mobilenext_width_multipliers_by_hand(alpha):
    result = costmodel.analyze("mobilenext", alpha=alpha)
    assert (result.totals["madds"], result.totals["params"]) == mobilenext_by_hand(alpha)


def test_mobilenext_blocks():
    result = costmodel.analyze("mobilenext")
    layers = _layers(result)
    assert layers["features.0.0"].output_shape.sample == (32, 112, 112)
    # block 1 (t = 2, 32 -> 96, stride 2 on the last depthwise): dw, 1x1 to 32 // 2 = 16, 1x1 to 96, dw
    assert layers["features.1.conv.0"].output_shape.sample == (32, 112, 112)
    assert layers["features.1.conv.3"].output_shape.sample == (16, 112, 112)
    assert layers["features.1.conv.8"].output_shape.sample == (96, 56, 56)
    # block 2 (144, single stride-1 block, keep_3x3): full form, hidden max(96 // 6, md16(ceil(144 / 6))) = 32
    assert layers["features.2.conv.3"].output_shape.sample == (32, 56, 56) and "features.2.add" not in layers
    # block 3 (144 -> 192, stride 2): no leading depthwise: 1x1 to 32, 1x1 to 192, dw stride 2
    assert layers["features.3.conv.0"].kind == "pointwise" and layers["features.3.conv.5"].output_shape.sample == (
        192, 28, 28)
    # block 9 (288 -> 384, stride 1): the two 1x1 convs only
    assert [layers[f"features.9.conv.{i}"].kind for i in range(5)] == [
        "pointwise", "batchnorm", "pointwise", "batchnorm", "activation"] and "features.9.conv.5" not in layers
    assert layers["features.4.add"].output_shape.sample == (192, 28, 28)
    assert sum(layer.kind == "add" for layer in result.layers) == 2 + 2 + 3 + 3 + 2
    # last block: 960 -> 1280, hidden make_divisible(ceil(1280 / 6), 16) = make_divisible(214, 16) = 208
    assert layers["features.20.conv.3"].output_shape.sample == (208, 7, 7)
    assert result.layers[-1].params == 1280 * 1000 + 1000
    assert _layers(costmodel.analyze("mobilenext", alpha=0.5))["features.20.conv.5"].output_shape.sample == (1280, 7, 7)


def test_mobilenext_refuses_unpublished_multipliers():
    with pytest.raises(CostModelError, match="comes in alpha 0.35, 0.5, 0.75, 1, 1.4 only"):
        costmodel.analyze("mobilenext", alpha=0.6)
    with pytest.raises(CostModelError, match="option 'blocks_960' must be one of 2, 3"):
        costmodel.analyze("mobilenext", options={"blocks_960": 4})


# ---------------------------------------------------------------------------------------------- BlazeFace

def blazeface_by_hand(blocks=11):
    """(mult-adds, params) of Table 4 by hand: every conv has a bias and a BN; a 5x5 depthwise on M channels at
    D x D output costs 25 M D^2 (params 25 M + M + 2 M), a 1x1 M -> N costs M N D^2 (params M N + N + 2 N)."""
    madds, params = 75 * 24 * 64 * 64, 75 * 24 + 24 + 2 * 24
    table = [(24, 1, (24,), 64), (24, 1, (24,), 64), (24, 2, (48,), 32), (48, 1, (48,), 32), (48, 1, (48,), 32),
             (48, 2, (24, 96), 16), (96, 1, (24, 96), 16), (96, 1, (24, 96), 16), (96, 2, (24, 96), 8),
             (96, 1, (24, 96), 8), (96, 1, (24, 96), 8)][:blocks]
    for m, _, widths, d in table:
        for n in widths:
            madds += 25 * m * d * d + m * n * d * d
            params += 25 * m + 3 * m + m * n + 3 * n
            m = n
    return madds, params


def test_blazeface_backbone_by_hand():
    result = costmodel.analyze("blazeface_backbone")
    assert (result.totals["madds"], result.totals["params"]) == blazeface_by_hand() == (32_678_400, 61_536)
    assert result.input_shape.sample == (3, 128, 128) and result.layers[-1].output_shape.sample == (96, 8, 8)
    head = costmodel.analyze("blazeface_backbone", options={"output": "16x16"})
    assert (head.totals["madds"], head.totals["params"]) == blazeface_by_hand(blocks=8)
    assert head.layers[-1].name == "features.10.act" and head.layers[-1].output_shape.sample == (96, 16, 16)


def test_blazeface_blocks_and_the_padded_shortcut():
    layers = _layers(costmodel.analyze("blazeface_backbone"))
    assert layers["features.0"].output_shape.sample == (24, 64, 64) and layers["features.0"].params == 75 * 24 + 24
    assert layers["features.3.add"].output_shape.sample == (24, 64, 64)             # single block, identity shortcut
    # stride-2 single block 24 -> 48: pooled 24-channel shortcut added to the branch's first 24 channels
    assert layers["features.5.mp"].output_shape.sample == (24, 32, 32)
    assert tuple(x.sample for x in layers["features.5.shortcut.add"].input_shapes) == ((24, 32, 32), (24, 32, 32))
    assert layers["features.5.shortcut.cat"].output_shape.sample == (48, 32, 32)
    assert layers["features.5.shortcut.add"].flops == 24 * 32 * 32         # the padded add would be 48 * 32 * 32
    # double block: 1x1 reduces to 24 before the second 5x5 depthwise
    assert layers["features.9.conv1.2"].output_shape.sample == (24, 16, 16)
    assert layers["features.9.conv2.1"].kind == "depthwise" and layers["features.9.conv2.3"].output_shape.sample == (
        96, 16, 16)
    assert layers["features.11.mp"].output_shape.sample == (96, 8, 8) and "features.11.add" in layers   # 96 -> 96


def test_blazeface_refuses_alpha_and_odd_maps():
    with pytest.raises(CostModelError, match="has no width multiplier"):
        costmodel.analyze("blazeface_backbone", alpha=0.5)
    with pytest.raises(CostModelError, match="cannot add inputs of different shapes"):
        costmodel.analyze("blazeface_backbone", resolution=120)      # 120 / 8 = 15: pool and conv disagree
    assert costmodel.analyze("blazeface_backbone", resolution=256).layers[-1].output_shape.sample == (96, 16, 16)


# ---------------------------------------------------------------------------------------------- FD-MobileNet

FD_LAYERS = [(32, 64, 2, 56), (64, 128, 2, 28), (128, 128, 1, 28), (128, 256, 2, 14), (256, 256, 1, 14),
             (256, 512, 2, 7)] + [(512, 512, 1, 7)] * 4 + [(512, 1024, 1, 7)]      # (M, N, stride, output D_F)


def fd_mobilenet_by_hand(alpha=1.0):
    def w(c):
        return int(c * alpha)

    madds = 27 * w(32) * 112 * 112 + sum(9 * w(m) * d * d + w(m) * w(n) * d * d for m, n, _, d in FD_LAYERS)
    params = 27 * w(32) + 2 * w(32) + sum(9 * w(m) + 2 * w(m) + w(m) * w(n) + 2 * w(n) for m, n, _, _ in FD_LAYERS)
    return madds + w(1024) * 1000, params + w(1024) * 1000 + 1000


@pytest.mark.parametrize("alpha, printed", [(1.0, "144"), (0.5, "40"), (0.25, "12")])
def test_fd_mobilenet_matches_the_papers_complexities(alpha, printed):
    # FD-MobileNet paper (and the authors' README): 144, 40 and 12 MFLOPs at 1x, 0.5x and 0.25x
    result = costmodel.analyze("fd_mobilenet", alpha=alpha)
    assert (result.totals["madds"], result.totals["params"]) == fd_mobilenet_by_hand(alpha)
    assert _agrees(result.totals["madds"], printed)


def test_fd_mobilenet_downsamples_fast():
    result = costmodel.analyze("fd_mobilenet")
    assert result.totals["madds"] == 144_489_728
    convs = [layer for layer in result.layers if layer.kind in ("conv", "depthwise", "pointwise")]
    assert convs[11].name == "features.dw_conv_5" and convs[11].output_shape.sample == (256, 7, 7)   # layer 12: 32x down
    assert convs[-1].output_shape.sample == (1024, 7, 7)
    # the code's int(c * alpha) has no floor of 8: at 0.2 the stem is int(6.4) = 6 (MobileNetV1's rule: 8)
    assert _layers(costmodel.analyze("fd_mobilenet", alpha=0.2))["features.conv_0"].output_shape.sample == (6, 112, 112)
    assert resolve_width(Scaled(32, "truncate"), 0.2, 3) == 6 and resolve_width(Scaled(32, "mobilenet_v1"), 0.2, 3) == 8
