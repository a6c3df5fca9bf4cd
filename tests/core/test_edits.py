"""What-if edits (``design.edits``) and the stages they name (``design.structure``): each edit of a zoo network
counts exactly what the same network built by hand with that change counts (the zoo's own table rewritten, or its
builder given the change), at every total and layer by layer."""
from collections import Counter

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.core.scaling import Scaled, make_divisible
from costmodel.design import edits as E
from costmodel.design.structure import block_of, stages
from costmodel.sources.settle import settle
from costmodel.sources.zoo import mobilenet_v2 as v2, mobilenet_v3 as v3, resnet

TOTALS = ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")


def network(model, **options):
    return settle(model, options=options).network


def assert_same_counts(edited, by_hand, alpha=1.0, hand_alpha=None):
    """Every total, and the multiset of (kind, mult-adds, params, output shape) of the layers, equal."""
    ours = costmodel.analyze(edited, alpha=alpha)
    theirs = costmodel.analyze(by_hand, alpha=alpha if hand_alpha is None else hand_alpha)
    assert {t: ours.totals[t] for t in TOTALS} == {t: theirs.totals[t] for t in TOTALS}

    def layers(result):
        return Counter((layer.kind, layer.madds, layer.params, tuple(layer.output_shape)) for layer in result.layers)

    assert layers(ours) == layers(theirs)


def rows(table, change):
    """``table`` with ``change(index, row)`` applied to each row (None keeps it)."""
    return tuple(change(index, row) or row for index, row in enumerate(table))


# ---- structure -----------------------------------------------------------------------------------------------

def test_block_names_follow_torch_tf_slim_and_keras_numbering():
    assert block_of("features.3.conv.0.0") == "features.3"           # torchvision MobileNetV2
    assert block_of("features.0.0") == "features.0"                  # a numbered child with a numbered layer in it
    assert block_of("blocks.2.1.conv_pw") == "blocks.2.1"            # timm: stage 2, block 1
    assert block_of("layer2.1.conv1") == "layer2.1"
    assert block_of("Conv2d_3_depthwise.conv") == "Conv2d_3"         # TF-slim
    assert block_of("block4_sepconv1_bn") == "block4"                # Keras
    for name in ("conv1", "bn1.act", "classifier.1", "conv5.2", "fc"):
        assert block_of(name) is None


def test_the_stages_are_the_rows_of_the_papers_tables():
    # MobileNetV2, Table 2: the stem, bottleneck rows of n = 1, 2, 3, 4, 3, 3, 1 blocks, the last 1x1 conv
    found = stages(network("mobilenet_v2"))
    assert [len(stage.blocks) for stage in found] == [1, 1, 2, 3, 4, 3, 3, 1, 1]
    assert [stage.out_shape[0] for stage in found] == [32, 16, 24, 32, 64, 96, 160, 320, 1280]
    assert found[4].name == "features.7-10" and found[4].out_shape == (64, 14, 14)
    # ResNet-50, Table 1: conv2_x ... conv5_x of 3, 4, 6, 3 bottlenecks
    assert [(s.name, len(s.blocks)) for s in stages(network("resnet50"))] == \
        [("layer1", 3), ("layer2", 4), ("layer3", 6), ("layer4", 3)]
    # MobileNetV1, Table 1: 512 x 14 x 14 five times after the stride-2 layer (TF-slim numbers Conv2d_6 ... 11)
    v1 = {stage.name: len(stage.blocks) for stage in stages(network("mobilenet_v1"))}
    assert v1["Conv2d_6-11"] == 6 and v1["Conv2d_12-13"] == 2


def test_an_unknown_stage_names_the_stages_there_are():
    with pytest.raises(CostModelError, match=r"has no stage 'layer9' \(its stages: layer1, layer2, layer3, layer4\)"):
        E.apply(network("resnet50"), E.Width("layer9", 0.5))


# ---- each edit against the network built by hand ------------------------------------------------------------

@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_mobilenet_v2_expansion_blocks_and_width_edits(monkeypatch, alpha):
    original = network("mobilenet_v2")
    row, table = 4, v2.TABLE_2                  # (14x14x64 ... 64, n = 4, s = 2): features.7-10

    def rebuilt(change):
        monkeypatch.setattr(v2, "TABLE_2", rows(table, lambda i, r: change(r) if i == row else None))
        return v2.mobilenet_v2()

    # t = 6 -> 4
    assert_same_counts(E.apply(original, E.Expansion("features.7-10", 4)),
                       rebuilt(lambda r: (r[0], r[1], 4, *r[3:])), alpha)
    # n = 4 -> 3 and 5
    assert_same_counts(E.apply(original, E.Blocks("features.7-10", -1)),
                       rebuilt(lambda r: (*r[:4], 3, r[5])), alpha)
    assert_same_counts(E.apply(original, E.Blocks("features.7-10", 1)),
                       rebuilt(lambda r: (*r[:4], 5, r[5])), alpha)
    # c = 64 x 1.25 = 80, rounded by make_divisible at every alpha as c = 80 would be
    assert_same_counts(E.apply(original, E.Width("features.7-10", 1.25)),
                       rebuilt(lambda r: (r[0], r[1], r[2], 80, *r[4:])), alpha)


def test_mobilenet_v3_kernel_squeeze_excite_activation_and_expansion_edits(monkeypatch):
    original, table = network("mobilenet_v3_large"), v3.LARGE

    def rebuilt(first, last, change):       # Table 1's rows first..last (1-based, as features.<i>) changed
        monkeypatch.setattr(v3, "LARGE", rows(table, lambda i, r: change(r) if first <= i + 1 <= last else None))
        return v3.mobilenet_v3_large()

    # features.7-10 (the 80-channel stage: 3x3, no SE, h-swish)
    assert_same_counts(E.apply(original, E.Kernel("features.7-10", 5)),
                       rebuilt(7, 10, lambda r: (r[0], 5, *r[2:])))
    assert_same_counts(E.apply(original, E.SqueezeExcite("features.7-10", True)),
                       rebuilt(7, 10, lambda r: (*r[:4], True, *r[5:])))
    # features.13-15 (the 160-channel stage: 5x5, SE, h-swish, expansion 672/112 = 960/160 = 6)
    assert_same_counts(E.apply(original, E.SqueezeExcite("features.13-15", False)),
                       rebuilt(13, 15, lambda r: (*r[:4], False, *r[5:])))
    assert_same_counts(E.apply(original, E.SwapActivation("features.13-15", "hswish", "relu")),
                       rebuilt(13, 15, lambda r: (*r[:5], "RE", r[6])))
    assert_same_counts(E.apply(original, E.Kernel("features.13-15", 3)),
                       rebuilt(13, 15, lambda r: (r[0], 3, *r[2:])))
    # expansion 4: 4 x 112 = 448 in the first block, 4 x 160 = 640 in the others (multiples of 8 already)
    assert_same_counts(E.apply(original, E.Expansion("features.13-15", 4)),
                       rebuilt(13, 15, lambda r: (r[0], r[1], 448 if r[0] == "14x14x112" else 640, *r[3:])))


def test_resnet_width_and_blocks_edits(monkeypatch):
    original, table = network("resnet50"), resnet.RESNET50

    def rebuilt(change):
        monkeypatch.setattr(resnet, "RESNET50", rows(table, lambda i, r: change(r) if i == 2 else None))
        return resnet.resnet50()

    # layer3 x 0.75: no rule of its own, so MobileNetV2's: make_divisible(256 x 0.75) = 192, 1024 x 0.75 = 768
    assert_same_counts(E.apply(original, E.Width("layer3", 0.75)), rebuilt(lambda r: (r[0], r[1], 192, 768, *r[4:])))
    assert_same_counts(E.apply(original, E.Blocks("layer3", 1)), rebuilt(lambda r: (*r[:4], 7, r[5])))


def test_fewer_groups_in_every_stage_is_resnext_with_fewer_groups(monkeypatch):
    edited = network("resnext50_32x4d")
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        edited = E.apply(edited, E.Groups(stage, 16))
    monkeypatch.setattr(resnet, "CARDINALITY", 16)
    assert_same_counts(edited, resnet.resnext50_32x4d())


def test_channels_rounded_to_16_are_the_widths_rounded_by_hand(monkeypatch):
    # MobileNetV2 at alpha 0.35: every width make_divisible(c x 0.35, 8), then made a multiple of 16 (8 -> 16,
    # 24 -> 32, 56 -> 64); the expansions 6 x M follow the rounded M (multiples of 16 already)
    edited = E.apply(network("mobilenet_v2"), E.RoundChannels(16), alpha=0.35)
    monkeypatch.setattr(v2, "_width", lambda c: Scaled(make_divisible(make_divisible(c * 0.35, 8), 16)))
    by_hand = v2.mobilenet_v2()
    assert_same_counts(edited, by_hand, alpha=0.35, hand_alpha=1.0)
    widths = {layer.output_shape[1] for layer in costmodel.analyze(edited, alpha=0.35).layers
              if len(layer.output_shape) == 4}
    assert all(width % 16 == 0 for width in widths)
    with pytest.raises(CostModelError, match="no width that is not a multiple of 8 already"):
        E.apply(network("mobilenet_v2"), E.RoundChannels(8))


def test_an_edit_that_does_not_apply_says_why():
    with pytest.raises(CostModelError, match="stage features.1: one block fewer: stage 'features.1' has one block"):
        E.apply(network("mobilenet_v2"), E.Blocks("features.1", -1))
    with pytest.raises(CostModelError, match="has no squeeze-and-excite"):
        E.apply(network("mobilenet_v2"), E.SqueezeExcite("features.7-10", False))
    # 24 x 0.75 = 18 rounds back to 24 (make_divisible never goes 10% below)
    with pytest.raises(CostModelError, match="rounding keeps every width of the stage"):
        E.apply(network("mobilenet_v2"), E.Width("features.2-3", 0.75))


def test_edits_chain_and_the_edited_network_is_a_network_like_any_other():
    edited = E.apply(E.apply(network("mobilenet_v2"), E.Blocks("features.7-10", -1)), E.Expansion("features.7-9", 4))
    assert [len(stage.blocks) for stage in stages(edited)] == [1, 1, 2, 3, 3, 3, 3, 1, 1]
    assert costmodel.analyze(edited, alpha=0.75).totals["madds"] < costmodel.analyze("mobilenet_v2", alpha=0.75) \
        .totals["madds"]


def test_a_depthwise_layer_stated_by_its_numbers_follows_a_width_edit():
    """An imported network states a depthwise layer as ``nn.Conv2d(96, 96, 3, groups=96)``; a width edit that
    narrows the block must narrow it too (bfmd's MobileNetV2 refused every width edit: "groups=96 must divide both
    in_channels 72 and out_channels 72")."""
    from costmodel.ops import Add, BatchNorm, Conv2d
    from costmodel.sources.builder import GraphBuilder

    def imported(width, hidden, depthwise_groups):
        b = GraphBuilder()
        last = b.add("stem", Conv2d(16, kernel=3, stride=2, padding=1))
        for index in range(2):          # blocks.0 strides and widens (the stage's first), blocks.1 keeps the shape
            b.add(f"blocks.{index}.expand", Conv2d(hidden[index], kernel=1), last)
            groups = hidden[index] if depthwise_groups else "depthwise"
            b.add(f"blocks.{index}.dw", Conv2d(hidden[index] if depthwise_groups else None, kernel=3, padding=1,
                                               stride=2 - index, groups=groups))
            b.add(f"blocks.{index}.project", Conv2d(width, kernel=1))
            last = b.add(f"blocks.{index}.bn", BatchNorm())
            if index:
                last = b.add(f"blocks.{index}.add", Add(), (f"blocks.{index - 1}.bn", last))
        return b.build("imported", base_resolution=(32, 32))

    edited = E.apply(imported(32, (96, 96), True), E.Width("blocks", 0.75))
    # widths with no rule of their own round as MobileNetV2's: make_divisible(32 x 0.75) = 24, 96 x 0.75 = 72
    assert_same_counts(edited, imported(24, (72, 72), False))
    # expansion 2: 2 x the block's input, 16 from the stem, then 32
    assert_same_counts(E.apply(imported(32, (96, 96), True), E.Expansion("blocks", 2)), imported(32, (32, 64), False))


def test_identity_shortcuts_off_is_the_block_built_without_its_residual(monkeypatch):
    original = network("mobilenet_v2")
    build = v2.inverted_residual

    def without_residual(builder, prefix, *args, **kwargs):        # features.8-10: the stride-1 blocks of the stage
        if prefix in ("features.8", "features.9", "features.10"):
            kwargs["residual"] = False
        return build(builder, prefix, *args, **kwargs)

    monkeypatch.setattr(v2, "inverted_residual", without_residual)
    assert_same_counts(E.apply(original, E.Shortcuts("features.7-10")), v2.mobilenet_v2())
    with pytest.raises(CostModelError, match="has no identity shortcut"):
        E.apply(original, E.Shortcuts("features.18"))


def test_g1s_fix_keeps_a_mobilenet_v1_stage_at_the_width_before_it(monkeypatch):
    from costmodel.design.advise import advise
    from costmodel.sources.zoo import mobilenet_v1 as v1

    g1 = {s.stage: s for s in advise("mobilenet_v1").suggestions if s.guideline == "G1"}
    # the five 1x1 layers that double the width (Table 1's rows 3, 5, 9, 13, 25): the review's five G1 flags
    assert sorted(g1) == sorted(["Conv2d_1", "Conv2d_2-3", "Conv2d_4-5", "Conv2d_6-11", "Conv2d_12-13"])
    # Conv2d_2-3 at 64:64: Table 1's rows 5-7 at 64 channels instead of 128
    table = v1.TABLE_1
    monkeypatch.setattr(v1, "TABLE_1", rows(table, lambda i, r: (*r[:3], 64) if r[0] in ("5", "6", "7") else None))
    by_hand = costmodel.analyze(v1.mobilenet_v1()).totals
    assert {name: g1["Conv2d_2-3"].deltas[name] for name in TOTALS} == \
        {name: by_hand[name] - costmodel.analyze("mobilenet_v1").totals[name] for name in TOTALS}
    # ResNet's 1x1 layers are its bottlenecks' (and shortcuts') design: no G1 fix is offered for them
    assert not [s for s in advise("resnet50").suggestions if s.guideline == "G1"]
