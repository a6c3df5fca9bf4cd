"""The classic comparison networks (VGG-16, AlexNet, SqueezeNet, GoogLeNet, Inception v3, ResNet-50, ResNeXt-50)
against torchvision's published figures and against hand derivations from the papers' tables.

torchvision publishes, per pretrained weight, ``num_params`` (exact) and ``_ops`` (GFLOPS on its model pages: giga
multiply-accumulates of the inference pass, at 224 x 224, 299 x 299 for Inception v3). Each figure below was read in
torchvision's source (``torchvision/models/<module>.py``, the ``*_Weights`` ``meta``) and on its documentation pages
(https://pytorch.org/vision/stable/models/generated/torchvision.models.<name>.html); ``_ops`` is printed there with
three decimals (the pages round some to two: 15.47, 4.23).
"""
import pytest

import costmodel
from costmodel import CostModelError

# name: (num_params, _ops in G mult-adds, decimals printed). Sources: VGG16_Weights.IMAGENET1K_V1,
# AlexNet_Weights.IMAGENET1K_V1, SqueezeNet1_0/1_1_Weights.IMAGENET1K_V1, GoogLeNet_Weights.IMAGENET1K_V1,
# Inception_V3_Weights.IMAGENET1K_V1, ResNet50_Weights.IMAGENET1K_V1/V2, ResNeXt50_32X4D_Weights.IMAGENET1K_V1.
TORCHVISION = {
    "vgg16": (138_357_544, 15.47, 2),
    "alexnet": (61_100_840, 0.714, 3),
    "squeezenet1_0": (1_248_424, 0.819, 3),
    "squeezenet1_1": (1_235_496, 0.349, 3),
    "resnet50": (25_557_032, 4.089, 3),
    "resnext50_32x4d": (25_028_904, 4.23, 2),
}
GOOGLENET_TV = (6_624_904, 1.498)          # built with aux_logits=False once the weights are loaded
INCEPTION_V3_TV = (27_161_264, 5.713)      # num_params counts AuxLogits (the weights are loaded with it)


def analyze(name, **options):
    return costmodel.analyze(name, options=options or None)


def layer(result, name):
    return next(item for item in result.layers if item.name == name)


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_published_figures(name):
    params, gmacs, decimals = TORCHVISION[name]
    result = analyze(name)
    assert result.totals["params"] == params
    assert round(result.totals["madds"] / 1e9, decimals) == gmacs
    assert result.layers[-1].output_shape.sample == (1000,)


def test_googlenet_torchvision_variant():
    params, gmacs = GOOGLENET_TV
    result = analyze("googlenet", variant="torchvision")
    assert result.totals["params"] == params
    assert round(result.totals["madds"] / 1e9, 3) == gmacs
    assert layer(result, "inception3a.branch3.1.conv").params == 3 * 3 * 16 * 32    # the "5x5" is 3x3
    assert layer(result, "maxpool4").output_shape.sample == (832, 7, 7)                     # 2x2/2 on 14x14


# GoogLeNet Table 1: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj, map size D, printed ops in M).
INCEPTION_ROWS = {
    "inception3a": (64, 96, 128, 16, 32, 32, 28, 128), "inception3b": (128, 128, 192, 32, 96, 64, 28, 304),
    "inception4a": (192, 96, 208, 16, 48, 64, 14, 73), "inception4b": (160, 112, 224, 24, 64, 64, 14, 88),
    "inception4c": (128, 128, 256, 24, 64, 64, 14, 100), "inception4d": (112, 144, 288, 32, 64, 64, 14, 119),
    "inception4e": (256, 160, 320, 32, 128, 128, 14, 170), "inception5a": (256, 160, 320, 32, 128, 128, 7, 54),
    "inception5b": (384, 192, 384, 48, 128, 128, 7, 71),
}


def test_googlenet_paper_variant_from_the_torchvision_one():
    """The paper's network differs from torchvision's only in each convolution's normalisation (a bias, 1 parameter
    per output channel, instead of BatchNorm's 2) and in the 5x5 kernels (25 instead of 9 weights per connection);
    the 2x2 or 3x3 max pool before (5a) gives 7x7 either way."""
    tv, paper = analyze("googlenet", variant="torchvision"), analyze("googlenet")
    conv_channels = sum(item.output_shape.sample[0] for item in tv.layers if item.kind in ("conv", "pointwise"))
    extra_weights = sum(16 * r[3] * r[4] for r in INCEPTION_ROWS.values())
    extra_madds = sum(16 * r[3] * r[4] * r[6] ** 2 for r in INCEPTION_ROWS.values())
    assert paper.totals["params"] == GOOGLENET_TV[0] - conv_channels + extra_weights == 6_998_552
    assert paper.totals["madds"] == tv.totals["madds"] + extra_madds == 1_582_671_872
    assert not any(item.kind == "batchnorm" for item in paper.layers)
    assert layer(paper, "inception3a.branch3.1.conv").params == 5 * 5 * 16 * 32 + 32
    assert layer(paper, "maxpool4").output_shape.sample == (832, 7, 7)
    assert layer(paper, "inception5b.cat").output_shape.sample == (1024, 7, 7)
    assert layer(paper, "dropout").output_shape.sample == (1024,)


def test_googlenet_paper_table_1_ops_column():
    """Table 1's ops column per Inception module, within one unit of the printed million (the paper rounds most;
    73.6M of (4a) is printed 73), except (5a): printed 54M, while its row gives 51.08M (1x1 832*256, 1x1 832*160 +
    3x3 160*320, 1x1 832*32 + 5x5 32*128, pool proj 832*128, times 7 * 7). A #5x5 reduce of 48, as in (5b), would
    add (16 * 832 + 25 * 16 * 128) * 49 = 3.16M, 54.24M: the printed figure fits that, not the printed row."""
    result = analyze("googlenet")
    for name, row in INCEPTION_ROWS.items():
        c1, r3, c3, r5, c5, proj, d, printed = row
        m = layer(result, f"{name}.branch1.conv").input_shapes[0].sample[0]
        hand = (m * c1 + m * r3 + 9 * r3 * c3 + m * r5 + 25 * r5 * c5 + m * proj) * d * d
        madds = sum(item.madds for item in result.layers if item.name.startswith(f"{name}."))
        assert madds == hand
        if name == "inception5a":
            assert (printed, round(madds / 1e6, 2)) == (54, 51.08)
        else:
            assert abs(madds / 1e6 - printed) < 1


def test_inception_v3_without_and_with_the_auxiliary_head():
    params, gmacs = INCEPTION_V3_TV
    # AuxLogits by hand: conv0 1x1 768->128 + BN, conv1 5x5 128->768 + BN, fc 768->1000 with bias.
    aux_params = (768 * 128 + 2 * 128) + (25 * 128 * 768 + 2 * 768) + (768 * 1000 + 1000)
    aux_madds = 768 * 128 * 5 * 5 + 25 * 128 * 768 * 1 * 1 + 768 * 1000
    plain, aux = analyze("inception_v3"), analyze("inception_v3", aux_logits=True)
    assert aux.totals["params"] == params
    assert plain.totals["params"] == params - aux_params == 23_834_568
    assert round(plain.totals["madds"] / 1e9, 3) == gmacs           # the published count is an inference pass
    assert aux.totals["madds"] == plain.totals["madds"] + aux_madds
    assert plain.input_shape.sample == (3, 299, 299)
    assert layer(plain, "Mixed_6e.cat").output_shape.sample == (768, 17, 17)
    assert layer(plain, "Mixed_7c.cat").output_shape.sample == (2048, 8, 8)
    assert layer(aux, "AuxLogits.avg_pool").output_shape.sample == (768, 5, 5)
    assert layer(aux, "AuxLogits.conv1.conv").output_shape.sample == (768, 1, 1)
    names = [item.name for item in aux.layers]
    assert names.index("Mixed_6e.cat") < names.index("AuxLogits.avg_pool") < names.index("Mixed_7a.branch3x3_1.conv")
    assert aux.network.output == "fc"
    assert aux.network.nodes[aux.network.index["Mixed_7a.branch3x3_1.conv"]].inputs == ("Mixed_6e.cat",)


def test_inception_v3_smallest_input_is_torchvisions_75():
    assert layer(costmodel.analyze("inception_v3", resolution=75), "Mixed_7c.cat").output_shape.sample == (2048, 1, 1)
    with pytest.raises(CostModelError, match="Mixed_7a"):
        costmodel.analyze("inception_v3", resolution=74)


# VGG-16 configuration D by hand: (M, N, D_F) per 3x3 convolution.
VGG_CONVS = ([(3, 64, 224), (64, 64, 224), (64, 128, 112), (128, 128, 112), (128, 256, 56)] + [(256, 256, 56)] * 2
             + [(256, 512, 28)] + [(512, 512, 28)] * 2 + [(512, 512, 14)] * 3)
VGG_FCS = [(512 * 7 * 7, 4096), (4096, 4096), (4096, 1000)]


def test_vgg16_by_hand():
    result = analyze("vgg16")
    assert result.totals["params"] == sum(9 * m * n + n for m, n, _ in VGG_CONVS) + sum(m * n + n for m, n in VGG_FCS)
    assert result.totals["madds"] == sum(9 * m * n * d * d for m, n, d in VGG_CONVS) + sum(m * n for m, n in VGG_FCS)
    assert layer(result, "features.30").output_shape.sample == (512, 7, 7)
    assert layer(result, "classifier.0").input_shapes[0].sample == (25088,)
    assert [item.name for item in result.layers if item.kind == "linear"] == ["classifier.0", "classifier.3",
                                                                               "classifier.6"]


def test_alexnet_variants_by_hand():
    one_gpu = analyze("alexnet")
    # conv1 11x11x3 -> 64 on 55x55, conv2 5x5x64 -> 192 on 27x27, conv3-5 3x3 on 13x13, FCs 9216-4096-4096-1000.
    assert one_gpu.totals["madds"] == (121 * 3 * 64 * 55 ** 2 + 25 * 64 * 192 * 27 ** 2
                                       + 9 * (192 * 384 + 384 * 256 + 256 * 256) * 13 ** 2
                                       + 9216 * 4096 + 4096 * 4096 + 4096 * 1000) == 714_188_480
    original = analyze("alexnet", variant="original")
    # Krizhevsky et al. 2012 / Caffe bvlc_alexnet: 227x227, conv2, conv4, conv5 in 2 groups (half the inputs each).
    weights = (121 * 3 * 96 + 25 * 48 * 256 + 9 * 256 * 384 + 9 * 192 * 384 + 9 * 192 * 256
               + 9216 * 4096 + 4096 * 4096 + 4096 * 1000)
    biases = 96 + 256 + 384 + 384 + 256 + 4096 + 4096 + 1000
    assert original.totals["params"] == weights + biases == 60_965_224
    assert original.totals["madds"] == (121 * 3 * 96 * 55 ** 2 + 25 * 48 * 256 * 27 ** 2
                                        + 9 * (256 * 384 + 192 * 384 + 192 * 256) * 13 ** 2
                                        + 9216 * 4096 + 4096 * 4096 + 4096 * 1000) == 724_406_816
    assert original.input_shape.sample == (3, 227, 227)
    assert layer(original, "conv1").output_shape.sample == (96, 55, 55)
    assert layer(original, "pool5").output_shape.sample == (256, 6, 6)
    assert [item.kind for item in original.layers if item.name in ("conv2", "conv3", "conv4")] == ["group", "conv",
                                                                                                   "group"]


def test_squeezenet_fire_module_by_hand():
    # fire2 of SqueezeNet 1.0 on 54x54x96: squeeze 1x1 96->16, expand 1x1 16->64 and 3x3 16->64, with biases.
    result = analyze("squeezenet1_0")
    fire = [item for item in result.layers if item.name.startswith("features.3.")]
    assert sum(item.params for item in fire) == (96 * 16 + 16) + (16 * 64 + 64) + (9 * 16 * 64 + 64)
    assert sum(item.madds for item in fire) == (96 * 16 + 16 * 64 + 9 * 16 * 64) * 54 * 54
    assert layer(result, "features.3.cat").output_shape.sample == (128, 54, 54)
    assert layer(result, "features.12.cat").output_shape.sample == (512, 13, 13)
    assert layer(result, "classifier.3").output_shape.sample == (1000, 1, 1)
    assert layer(analyze("squeezenet1_1"), "features.12.cat").output_shape.sample == (512, 13, 13)


# Stride-2 first blocks of layer2-4 at output D: (input channels M, bottleneck width w, D).
STRIDED_BLOCKS = [(256, 128, 28), (512, 256, 14), (1024, 512, 7)]


@pytest.mark.parametrize("name, widen", [("resnet50", 1), ("resnext50_32x4d", 2)])
def test_resnet_v1_moves_the_stride_to_the_first_1x1(name, widen):
    """v1 runs conv1 (1x1, M -> w) of each strided block on the halved map: 3 M w D^2 fewer mult-adds than v1.5,
    which runs it on the 2D x 2D input; the parameters are the same."""
    v15, v1 = analyze(name), analyze(name, variant="v1")
    saved = sum(3 * m * (w * widen) * d * d for m, w, d in STRIDED_BLOCKS)
    assert v1.totals["params"] == v15.totals["params"]
    assert v1.totals["madds"] == v15.totals["madds"] - saved
    assert layer(v1, "layer2.0.conv1").output_shape.sample == (128 * widen, 28, 28)
    assert layer(v15, "layer2.0.conv1").output_shape.sample == (128 * widen, 56, 56)
    assert layer(v1, "layer4.2.relu3").output_shape.sample == (2048, 7, 7)


def test_resnext_group_convolution():
    result = analyze("resnext50_32x4d")
    conv2 = layer(result, "layer1.0.conv2")               # 3x3, 128 -> 128 in 32 groups of 4 on 56x56
    assert conv2.kind == "group"
    assert conv2.params == 9 * 4 * 128
    assert conv2.madds == 9 * 4 * 128 * 56 * 56
    assert layer(result, "layer1.0.downsample.0").output_shape.sample == (256, 56, 56)


def test_resnet_accepts_other_resolutions():
    result = costmodel.analyze("resnet50", resolution=160)
    assert layer(result, "layer4.2.relu3").output_shape.sample == (2048, 5, 5)
    assert result.totals["params"] == TORCHVISION["resnet50"][0]


@pytest.mark.parametrize("name", ["alexnet"])
def test_fixed_resolution_networks_refuse_other_sizes(name):
    with pytest.raises(CostModelError, match="fixed input size"):
        costmodel.analyze(name, resolution=256)
    with pytest.raises(CostModelError, match="fixed input size"):
        costmodel.analyze(name, rho=0.5)


@pytest.mark.parametrize("name", ["vgg16", "alexnet", "squeezenet1_0", "squeezenet1_1", "googlenet", "inception_v3",
                                  "resnet50", "resnext50_32x4d"])
def test_no_width_multiplier(name):
    with pytest.raises(CostModelError, match="no width multiplier"):
        costmodel.analyze(name, alpha=0.5)


def test_bad_variants_are_refused():
    with pytest.raises(CostModelError, match="must be one of"):
        analyze("resnet50", variant="v2")
    with pytest.raises(CostModelError, match="must be one of"):
        analyze("googlenet", variant="caffe")
    with pytest.raises(CostModelError, match="has no option"):
        analyze("vgg16", variant="original")


def test_squeezenet_too_small_input_is_an_error():
    with pytest.raises(CostModelError, match="too small"):
        costmodel.analyze("squeezenet1_0", resolution=16)
