"""EfficientNet, MnasNet and GhostNet by hand, and compound scaling through the depth multiplier."""
import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.core.scaling import make_divisible, scaled_repeats


def test_efficientnet_b1_to_b3_are_b0_at_their_width_depth_and_resolution():
    """The reference code's efficientnet_params: B1 (1.0, 1.1, 240), B2 (1.1, 1.2, 260), B3 (1.2, 1.4, 300)."""
    for name, (width, depth, resolution) in {"efficientnet_b1": (1.0, 1.1, 240), "efficientnet_b2": (1.1, 1.2, 260),
                                             "efficientnet_b3": (1.2, 1.4, 300)}.items():
        scaled = costmodel.analyze(name)
        assert scaled.resolution == (resolution, resolution)
        b0 = costmodel.analyze("efficientnet_b0", alpha=width, depth=depth, resolution=resolution)
        assert scaled.totals == b0.totals, name
        assert [layer.name for layer in scaled.layers] == [layer.name for layer in b0.layers]


def test_efficientnet_repeats_are_rounded_up():
    """round_repeats(n) = ceil(d n): B0's stages of 1, 2, 2, 3, 3, 4, 1 blocks are 2, 3, 3, 4, 4, 5, 2 at d = 1.1
    (23 blocks), and 2, 3, 3, 5, 5, 6, 2 at d = 1.4 (26 blocks; 1.4 x 3 = 4.2 -> 5)."""
    def blocks(model):
        names = {tuple(layer.name.split(".")[:3]) for layer in costmodel.analyze(model).layers
                 if layer.name.startswith("blocks.")}
        return [sum(1 for name in names if name[1] == str(stage)) for stage in range(7)]
    assert blocks("efficientnet_b0") == [1, 2, 2, 3, 3, 4, 1]
    assert blocks("efficientnet_b1") == [2, 3, 3, 4, 4, 5, 2]
    assert blocks("efficientnet_b3") == [2, 3, 3, 5, 5, 6, 2]
    assert [scaled_repeats(n, 1.1) for n in (1, 2, 3, 4)] == [2, 3, 4, 5]
    assert scaled_repeats(3, 0.5) == 2 and scaled_repeats(1, 0.1) == 1     # ceil(1.5); at least one block


def test_efficientnet_b0_by_hand():
    """The first MBConv6 (16 -> 24, k3 s2) at 112 x 112 in, 56 x 56 out: expand 16 x 96, depthwise 9 x 96, SE 96 ->
    round(96 x 0.25 / 6) = 4 -> 96, project 96 x 24."""
    layers = {layer.name: layer for layer in costmodel.analyze("efficientnet_b0").layers}
    assert layers["blocks.1.0.conv_pw"].madds == 16 * 96 * 112 * 112
    assert layers["blocks.1.0.conv_dw"].madds == 9 * 96 * 56 * 56
    assert layers["blocks.1.0.se.conv_reduce"].params == 96 * 4 + 4
    assert layers["blocks.1.0.se.conv_expand"].params == 4 * 96 + 96
    assert layers["blocks.1.0.conv_pwl"].madds == 96 * 24 * 56 * 56
    assert layers["blocks.1.0.bn1"].params == 2 * 96 and layers["blocks.1.0.bn1.act"].kind == "activation"
    assert "blocks.1.0.add" not in layers and layers["blocks.1.1.add"].kind == "add"
    assert layers["conv_head"].output_shape.sample == (1280, 7, 7)
    # B2's widths: make_divisible(c x 1.1, 8): 32 -> 32 (35.2), 16 -> 16 (17.6), 1280 -> 1408
    b2 = {layer.name: layer for layer in costmodel.analyze("efficientnet_b2").layers}
    assert b2["conv_stem"].output_shape.channels == make_divisible(32 * 1.1) == 32
    assert b2["conv_head"].output_shape.channels == make_divisible(1280 * 1.1) == 1408


def test_mnasnet_a1_by_hand():
    layers = {layer.name: layer for layer in costmodel.analyze("mnasnet_a1").layers}
    assert "blocks.0.0.add" not in layers                                     # the first block has no skip
    assert layers["blocks.2.0.conv_pw"].output_shape.channels == 72            # MBConv3: 24 x 3
    assert layers["blocks.2.0.se.conv_reduce"].output_shape.channels == 6      # round(72 x 0.25 / 3)
    assert "blocks.1.0.se.mean" not in layers                                  # no SE in stage 1
    assert layers["conv_head"].output_shape.channels == 1280
    assert costmodel.analyze("mnasnet_a1", alpha=0.5).layers[-1].params == 1280 * 1000 + 1000   # head not scaled


def test_ghostnet_by_hand():
    """blocks.3.0 (k5, exp 72, out 40, SE, stride 2) at 56 x 56 in: ghost1 makes 36 + 36 maps, SE reduces 72 to
    make_divisible(18, 4) = 20, ghost2 makes 20 + 20, the shortcut is a depthwise 5x5 and a 1x1 24 -> 40."""
    layers = {layer.name: layer for layer in costmodel.analyze("ghostnet").layers}
    assert layers["blocks.3.0.ghost1.primary_conv.0"].params == 24 * 36
    assert layers["blocks.3.0.ghost1.cheap_operation.0"].params == 9 * 36
    assert layers["blocks.3.0.ghost1.slice"].output_shape.sample == (72, 56, 56)
    assert layers["blocks.3.0.conv_dw"].madds == 25 * 72 * 28 * 28
    assert layers["blocks.3.0.se.conv_reduce"].output_shape.channels == 20
    assert layers["blocks.3.0.se.gate"].kind == "activation"
    assert layers["blocks.3.0.shortcut.2"].params == 24 * 40
    assert layers["conv_head"].params == 960 * 1280 + 1280
    with pytest.raises(CostModelError, match="comes in alpha 0.5, 1, 1.3 only"):
        costmodel.analyze("ghostnet", alpha=0.75)
    with pytest.raises(CostModelError, match="has no repeated stages to scale"):
        costmodel.analyze("ghostnet", depth=1.5)


def test_depth_multiplier_everywhere_it_applies():
    """Every zoo network with repeated stages takes --depth; at depth 1 nothing changes."""
    from costmodel.sources.zoo import MODELS
    deep = {name for name, entry in MODELS.items() if entry.accepts_depth}
    assert {"mobilenet_v1", "mobilenet_v2", "mobilenext", "shufflenet_v1", "shufflenet_v2", "resnet50",
            "resnext50_32x4d", "xception", "vit_tiny", "mobilevit_xxs", "efficientnet_b0", "mnasnet_a1"} <= deep
    for name in sorted(deep):
        shallow, default, deeper = (costmodel.analyze(name, depth=d).totals["params"] for d in (0.5, 1.0, 1.5))
        assert shallow < default < deeper, name
        assert costmodel.analyze(name).totals == costmodel.analyze(name, depth=1.0).totals
    # ResNet-50 at depth 2: 6-8-12-6 bottlenecks
    layers = costmodel.analyze("resnet50", depth=2).layers
    stages = [len({layer.name.split(".")[1] for layer in layers if layer.name.startswith(f"layer{i}.")})
              for i in range(1, 5)]
    assert stages == [6, 8, 12, 6]
    with pytest.raises(CostModelError, match=r"depth must be in \(0, 10\]"):
        costmodel.analyze("resnet50", depth=0)
