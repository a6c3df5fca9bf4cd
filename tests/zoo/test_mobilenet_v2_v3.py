"""MobileNetV2 and V3 against the reference implementations' published figures and hand derivations."""
import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.core.ir import Network, Node
from costmodel.ops import Conv2d
from costmodel.core.papers import load
from costmodel.core.scaling import ChannelsOf, Expanded, resolve_width


def _without_batchnorm(result):
    return result.totals["params"] - sum(layer.params for layer in result.layers if layer.kind == "batchnorm")


def test_mobilenet_v2_matches_torchvision_and_fvcore():
    # torchvision's documented num_params for mobilenet_v2 (IMAGENET1K_V1): 3,504,872.
    # fvcore total on torchvision's MobileNetV2 at 224, measured (shared/reference/fvcore-conventions.md):
    # 314,193,216 = conv 299,494,272 + batch_norm 13,356,224 + linear 1,280,000 + adaptive_avg_pool2d 62,720.
    result = costmodel.analyze("mobilenet_v2")
    assert result.totals["params"] == 3_504_872
    assert result.totals["madds"] == 299_494_272 + 1_280_000
    assert costmodel.analyze("mobilenet_v2", convention="fvcore").totals["flops"] == 314_193_216
    by_kind = costmodel.analyze("mobilenet_v2", convention="fvcore").by_kind()
    assert by_kind["batchnorm"]["flops"] == 13_356_224 and by_kind["global_pool"]["flops"] == 62_720


def test_mobilenet_v2_structure():
    result = costmodel.analyze("mobilenet_v2")
    names = {layer.name: layer for layer in result.layers}
    assert names["features.0.0"].output_shape.sample == (32, 112, 112)
    assert "features.1.conv.0.0" in names and names["features.1.conv.0.0"].kind == "depthwise"  # t = 1
    assert names["features.2.conv.0.0"].output_shape.sample == (96, 112, 112)    # 16 * 6
    assert names["features.18.0"].output_shape.sample == (1280, 7, 7)
    assert sum(layer.kind == "add" for layer in result.layers) == 10      # stride-1 repeats with equal widths
    assert result.layers[-1].name == "classifier.1" and result.layers[-1].output_shape.sample == (1000,)


@pytest.mark.parametrize("row", [r for r in load("mobilenet_v2_tfslim_checkpoints.csv").rows
                                 if r["model"] == "mobilenet_v2"], ids=lambda r: f"{r['alpha']}-{r['resolution']}")
def test_mobilenet_v2_matches_the_reference_checkpoint_table(row):
    """TF-slim's published MACs and params (1001 classes; params without BatchNorm) at every width and resolution,
    within one unit of the last printed digit (the table truncates: 0.75 at 192 is 153.94M, printed 153)."""
    result = costmodel.analyze("mobilenet_v2", alpha=float(row["alpha"]), resolution=int(row["resolution"]))
    head = result.layers[-1].input_shapes[0].sample[0]          # 1001 classes instead of 1000: head more MACs and params
    assert abs((result.totals["madds"] + head) / 1e6 - float(row["million_macs"])) <= 1
    assert abs((_without_batchnorm(result) + head + 1) / 1e6 - float(row["million_params"])) <= 0.01


def test_mobilenet_v2_head_is_never_thinned():
    result = costmodel.analyze("mobilenet_v2", alpha=0.5)
    assert result.layers[-1].input_shapes[0].sample == (1280,)
    assert costmodel.analyze("mobilenet_v2", alpha=1.4).layers[-1].input_shapes[0].sample == (1792,)


def test_conditional_residual_follows_the_rounded_widths():
    # At alpha 0.25 block 1 maps make_divisible(8) = 8 channels to make_divisible(4) = 8: torchvision adds the
    # residual there (inp == oup), so there are 11 adds instead of 10; the skipped add is not a layer.
    full = costmodel.analyze("mobilenet_v2")
    narrow = costmodel.analyze("mobilenet_v2", alpha=0.25)
    assert "features.1.add" not in {layer.name for layer in full.layers}
    adds = [layer for layer in narrow.layers if layer.kind == "add"]
    assert len(adds) == 11 and adds[0].name == "features.1.add" and adds[0].output_shape.sample == (8, 112, 112)


def test_mobilenet_v3_matches_torchvision():
    # torchvision's documented num_params: mobilenet_v3_large 5,483,032; mobilenet_v3_small 2,542,856;
    # GFLOPS (multiply-accumulates) 0.22 and 0.06.
    large = costmodel.analyze("mobilenet_v3_large")
    small = costmodel.analyze("mobilenet_v3_small")
    assert large.totals["params"] == 5_483_032 and round(large.totals["madds"] / 1e9, 2) == 0.22
    assert small.totals["params"] == 2_542_856 and round(small.totals["madds"] / 1e9, 2) == 0.06


def test_mobilenet_v3_squeeze_excite_by_hand():
    result = costmodel.analyze("mobilenet_v3_large")
    layers = {layer.name: layer for layer in result.layers}
    # block 4 (5x5, exp 72, SE): squeeze make_divisible(72 // 4, 8) = 24, back to 72, gate multiplies 72x28x28
    assert layers["features.4.block.2.fc1"].output_shape.sample == (24, 1, 1)
    assert layers["features.4.block.2.fc1"].params == 72 * 24 + 24
    assert layers["features.4.block.2.fc2"].params == 24 * 72 + 72
    assert layers["features.4.block.2.mul"].output_shape.sample == (72, 28, 28)
    assert layers["features.4.block.1.0"].madds == 5 * 5 * 72 * 28 * 28
    assert layers["features.16.0"].output_shape.sample == (960, 7, 7)
    assert layers["classifier.0"].output_shape.sample == (1280,)


def test_mobilenet_v3_tfslim_rules_reproduce_the_papers_narrow_models():
    """The paper's Table 3 (and TF-slim's checkpoint table) print Large 0.75 at 155M / 4.0M and Small 0.75 at
    44M / 2.4M; TF-slim's rules (expansion = factor x rounded input, full-width penultimate layer) give those, and
    torchvision's do not (140.0M / 3.38M)."""
    printed = {(r["network"]): r for r in load("mobilenet_v3_table3_headline.csv").rows}
    large = costmodel.analyze("mobilenet_v3_large", alpha=0.75, options={"reference": "tfslim"})
    assert abs(large.totals["madds"] / 1e6 - float(printed["V3-Large 0.75"]["madds_M"])) <= 1
    assert abs(large.totals["params"] / 1e6 - float(printed["V3-Large 0.75"]["params_M"])) <= 0.1
    torchvision = costmodel.analyze("mobilenet_v3_large", alpha=0.75)
    assert round(torchvision.totals["madds"] / 1e6, 1) == 140.0
    small = costmodel.analyze("mobilenet_v3_small", alpha=0.75, options={"reference": "tfslim", "last_channel": 1280})
    assert abs(small.totals["madds"] / 1e6 - float(printed["V3-Small 0.75"]["madds_M"])) <= 1
    assert abs(small.totals["params"] / 1e6 - float(printed["V3-Small 0.75"]["params_M"])) <= 0.1
    # at alpha 1 the two rules build the same network
    assert (costmodel.analyze("mobilenet_v3_large", options={"reference": "tfslim"}).totals
            == costmodel.analyze("mobilenet_v3_large").totals)


def test_mobilenet_v3_small_paper_head():
    code = costmodel.analyze("mobilenet_v3_small")
    paper = costmodel.analyze("mobilenet_v3_small", options={"last_channel": 1280})
    # 576 -> 1280 -> 1000 instead of 576 -> 1024 -> 1000: (576 + 1 + 1000) * 256 more params
    assert paper.totals["params"] - code.totals["params"] == (576 + 1 + 1000) * 256
    assert round(paper.totals["params"] / 1e6, 1) == 2.9                     # the paper's printed 2.9M


def test_model_options_are_checked():
    with pytest.raises(CostModelError, match="option 'last_channel' must be one of 1024, 1280"):
        costmodel.analyze("mobilenet_v3_small", options={"last_channel": 999})
    with pytest.raises(CostModelError, match="option 'reference' must be one of torchvision, tfslim"):
        costmodel.analyze("mobilenet_v3_large", options={"reference": "keras"})
    with pytest.raises(CostModelError, match="must be a int"):
        costmodel.analyze("mobilenet_v3_small", options={"last_channel": "wide"})
    assert costmodel.analyze("mobilenet_v3_small", options={"last_channel": "1280"}).layers[-4].output_shape.sample == (1280,)


def test_expanded_with_a_divisor_and_channels_of():
    assert resolve_width(Expanded(88 / 24, 8), 0.75, 24) == 88             # TF-slim's factor x rounded input
    assert resolve_width(Expanded(4.5, 8), 1.0, 16) == 72
    assert resolve_width(Expanded(2.3, 8), 0.75, 64) == 144                 # int(147.2 + 4) // 8 * 8, >= 0.9 * 147.2
    with pytest.raises(CostModelError, match="channels_of 'later' is defined later"):
        Network("bad", (Node("a", Conv2d(ChannelsOf("later"), 1), ("input",)),
                        Node("later", Conv2d(8, 1), ("a",))))
