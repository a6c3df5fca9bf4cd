"""The ops of transformers and hybrids against hand computations: layer and group normalization, GELU, softmax,
token-wise linear layers, matrix products, scaled dot-product attention, reshapes, MobileViT's patches, resizing,
transposed convolution, and learned parameters used as tensors. Every expected value is worked out here from the
formula in the op's docstring (and the papers' notation), not read from costmodel's output."""
import pytest

import costmodel
from costmodel.sources.builder import GraphBuilder
from costmodel.core.errors import CostModelError
from costmodel.ops import (Activation, AttentionBias, ClassToken, ConvTranspose2d, Flatten, GroupNorm, Interpolate,
                           LayerNorm, LayerScale, Linear, MatMul, Pad, PatchFold, PatchUnfold, Permute,
                           PositionEmbedding, Scale, ScaledDotProductAttention, Select, Slice, Softmax, Subtract,
                           Transpose, Unflatten, Unsqueeze)
from costmodel.core.scaling import Scaled


def analyze(nodes, channels, size, convention="costmodel", **kwargs):
    """Analyze the network of ``nodes`` ((name, op, inputs) triples, inputs None for the previous node); return the
    rows by name and the analysis."""
    builder = GraphBuilder()
    for name, op, inputs in nodes:
        builder.add(name, op, inputs)
    network = builder.build("test", input_channels=channels, base_resolution=size)
    result = costmodel.analyze(network, convention=convention, **kwargs)
    return {row.name: row for row in result.layers}, result


# A map to tokens, as ViT's patch embedding does it: flatten(2), transpose(1, 2).
TOKENS = [("flat", Flatten(2), None), ("tokens", Transpose(1, 2), None)]


def test_tokens_from_a_map_have_the_tokens_layout():
    rows, _ = analyze(TOKENS, 8, (4, 5))
    assert rows["flat"].output_shape.layout == "NCL" and rows["flat"].output_shape.sample == (8, 20)
    assert rows["tokens"].output_shape.layout == "NLC" and rows["tokens"].output_shape.sample == (20, 8)
    assert rows["flat"].memory_access_bytes == 0                      # a view
    assert rows["tokens"].memory_access_bytes == 4 * 2 * 160          # a copy: 160 read, 160 written


def test_layernorm_over_tokens_and_channels_first():
    # 2 images, 20 tokens of 8 channels: 320 elements; gamma and beta over the 8 channels
    rows, _ = analyze(TOKENS + [("norm", LayerNorm(), None)], 8, (4, 5), batch=2)
    norm = rows["norm"]
    assert norm.params == 16
    assert norm.flops == (5 + 2) * 320
    assert norm.memory_access_bytes == 4 * (320 + 320 + 16)
    _, fvcore = analyze(TOKENS + [("norm", LayerNorm(), None)], 8, (4, 5), "fvcore", batch=2)
    assert fvcore.layers[-1].flops == 5 * 320
    rows, _ = analyze(TOKENS + [("norm", LayerNorm(affine=False), None)], 8, (4, 5), batch=2)
    assert rows["norm"].params == 0 and rows["norm"].flops == 5 * 320
    _, fvcore = analyze(TOKENS + [("norm", LayerNorm(affine=False), None)], 8, (4, 5), "fvcore", batch=2)
    assert fvcore.layers[-1].flops == 4 * 320
    # over the last two axes (20 x 8): gamma only (no bias) over 160 elements
    rows, _ = analyze(TOKENS + [("norm", LayerNorm(2, bias=False), None)], 8, (4, 5))
    assert rows["norm"].params == 160
    # LayerNorm2d: each pixel's 8 channels, on the map itself
    rows, _ = analyze([("norm", LayerNorm(channels_first=True), None)], 8, (4, 5))
    assert rows["norm"].params == 16 and rows["norm"].output_shape.layout == "NCHW"
    assert rows["norm"].flops == 7 * 160


def test_groupnorm():
    rows, _ = analyze([("norm", GroupNorm(4), None)], 8, (4, 5))
    assert rows["norm"].params == 16 and rows["norm"].flops == 7 * 160
    with pytest.raises(CostModelError, match="node 'norm': groups=3 must divide the 8 channels"):
        analyze([("norm", GroupNorm(3), None)], 8, (4, 5))


@pytest.mark.parametrize("function, per_element", [("gelu", 5), ("gelu_tanh", 9), ("leaky_relu", 2), ("tanh", 1)])
def test_new_activations_per_element(function, per_element):
    rows, _ = analyze([("act", Activation(function), None)], 8, (4, 5))
    assert rows["act"].flops == per_element * 160
    _, papers = analyze([("act", Activation(function), None)], 8, (4, 5), "papers")
    assert papers.totals["flops"] == 0


def test_softmax():
    rows, _ = analyze(TOKENS + [("softmax", Softmax(-1), None)], 8, (4, 5))
    assert rows["softmax"].flops == 5 * 160 and rows["softmax"].madds == 0
    with pytest.raises(CostModelError, match="node 'softmax': dim=3 is out of range"):
        analyze(TOKENS + [("softmax", Softmax(3), None)], 8, (4, 5))


def test_linear_over_tokens_counts_every_token():
    # 20 tokens of 8 -> 12 features: 8 * 12 weights + 12 biases; 8 * 12 mult-adds per token
    rows, _ = analyze(TOKENS + [("fc", Linear(12), None)], 8, (4, 5), batch=3)
    assert rows["fc"].output_shape.sample == (20, 12)
    assert rows["fc"].params == 8 * 12 + 12
    assert rows["fc"].madds == 3 * 20 * 8 * 12
    assert rows["fc"].flops == 2 * 3 * 20 * 8 * 12 + 3 * 20 * 12


# ViT-Ti's attention at 224: 197 tokens of 192 channels, 3 heads of 64 (timm's Attention: qkv, reshape to
# B x N x 3 x heads x head_dim, permute to 3 x B x heads x N x head_dim, unbind, SDPA, transpose, reshape, proj).
def _vit_attention(attention="fused"):
    nodes = TOKENS + [("cls", ClassToken(), None), ("pos", PositionEmbedding(), None),
                      ("qkv", Linear(3 * 192), None), ("split", Unflatten(-1, (3, 3, -1)), None),
                      ("heads", Permute((0, 2, 3, 1, 4)), None),
                      ("q", Select(1, 0), ("heads",)), ("k", Select(1, 1), ("heads",)), ("v", Select(1, 2), ("heads",))]
    if attention == "fused":
        nodes.append(("sdpa", ScaledDotProductAttention(), ("q", "k", "v")))
    else:
        nodes += [("q_scaled", Scale(0.125), ("q",)), ("k_t", Transpose(-2, -1), ("k",)),
                  ("scores", MatMul(), ("q_scaled", "k_t")), ("weights", Softmax(-1), None),
                  ("sdpa", MatMul(), ("weights", "v"))]
    nodes += [("merge", Transpose(1, 2), None), ("concat_heads", Flatten(2), None), ("proj", Linear(192), None)]
    return nodes


def test_vit_tiny_attention_by_hand():
    # the input is the 14 x 14 map of 16 x 16 patches, 192 channels
    rows, result = analyze(_vit_attention(), 192, (14, 14))
    assert rows["cls"].output_shape.sample == (197, 192) and rows["cls"].params == 192
    assert rows["pos"].params == 197 * 192
    assert rows["heads"].output_shape.layout == "NSGLD" and rows["heads"].output_shape.sample == (3, 3, 197, 64)
    assert rows["q"].output_shape.sample == (3, 197, 64)
    sdpa = rows["sdpa"]
    assert sdpa.kind == "attention" and sdpa.output_shape.sample == (3, 197, 64)
    scores = 3 * 197 * 197
    assert sdpa.madds == scores * (64 + 64) == 14_902_656
    assert sdpa.flops == 2 * 14_902_656 + 6 * scores
    assert sdpa.memory_access_bytes == 4 * (4 * 3 * 197 * 64 + 2 * scores)
    assert rows["concat_heads"].output_shape.layout == "NLC"
    assert rows["concat_heads"].output_shape.sample == (197, 192)
    assert rows["qkv"].madds == 197 * 192 * 576 and rows["proj"].madds == 197 * 192 * 192
    conventions = {c: analyze(_vit_attention(), 192, (14, 14), c)[0]["sdpa"].flops
                   for c in ("papers", "fvcore", "flop_counter")}
    assert conventions == {"papers": 14_902_656, "fvcore": 0, "flop_counter": 0}   # flash kernel: not counted


def test_the_explicit_form_counts_the_same_products():
    rows, _ = analyze(_vit_attention("explicit"), 192, (14, 14))
    scores = 3 * 197 * 197
    assert rows["scores"].output_shape.layout == "NGLS" and rows["scores"].output_shape.sample == (3, 197, 197)
    assert rows["scores"].madds == scores * 64 and rows["sdpa"].madds == scores * 64
    assert rows["weights"].flops == 5 * scores
    assert rows["q_scaled"].flops == 3 * 197 * 64
    assert rows["sdpa"].output_shape.layout == "NGLD"
    fvcore, _ = analyze(_vit_attention("explicit"), 192, (14, 14), "fvcore")
    assert fvcore["scores"].flops == 3 * 197 * 64 * 197 and fvcore["weights"].flops == 0


def test_multi_query_attention_broadcasts_one_key_head():
    # MobileNetV4's Mobile MQA: 4 query heads of 16 over an 8 x 8 map, one key/value head over a 4 x 4 map
    nodes = TOKENS + [("q", Unflatten(-1, (4, 16)), None), ("q_heads", Transpose(1, 2), None),
                      ("head", Select(1, 0), ("q_heads",)), ("kv", Slice(1, 0, 16), ("head",)),
                      ("kv_one", Unsqueeze(1), None),
                      ("mqa", ScaledDotProductAttention(), ("q_heads", "kv_one", "kv_one"))]
    rows, _ = analyze(nodes, 64, (8, 8))
    assert rows["kv_one"].output_shape.sample == (1, 16, 16)
    assert rows["mqa"].output_shape.sample == (4, 64, 16)
    madds = 4 * 64 * 16 * (16 + 16)
    assert rows["mqa"].madds == madds
    flop_counter, _ = analyze(nodes, 64, (8, 8), "flop_counter")
    assert flop_counter["mqa"].flops == 2 * madds      # a broadcast key head: torch's math path, counted


def test_matmul_broadcast_and_fvcores_undercount():
    # a of 1 x 2 x 6 x 8 (its head axis broadcasts) @ b of 3 x 2 x 8 x 5, as maps of 1 and 3 heads
    nodes = [("maps", Unflatten(1, (3, 2)), None), ("b", Slice(-1, 0, 5), ("maps",)),
             ("b_t", Transpose(-2, -1), None), ("a", Slice(1, 0, 1), ("maps",)),
             ("a_cols", Slice(-1, 0, 6), None), ("mm", MatMul(), ("a_cols", "maps"))]
    rows, _ = analyze(nodes, 6, (6, 6))
    assert rows["a_cols"].output_shape.sample == (1, 2, 6, 6)
    assert rows["mm"].output_shape.sample == (3, 2, 6, 6)
    assert rows["mm"].madds == 3 * 2 * 6 * 6 * 6
    fvcore, _ = analyze(nodes, 6, (6, 6), "fvcore")
    assert fvcore["mm"].flops == (1 * 2 * 6 * 6) * 6          # numel(a) * P: 3x too low
    with pytest.raises(CostModelError, match="node 'mm': cannot multiply 3x2x6x5 by 3x2x6x6: 5 != 6"):
        analyze(nodes[:2] + [("mm", MatMul(), ("b", "maps"))], 6, (6, 6))


def test_mobilevit_unfold_and_fold():
    # 8 channels on a 4 x 6 map, 2 x 2 patches: 4 sequences of 6 patches
    nodes = [("unfold", PatchUnfold(2), None), ("fold", PatchFold(2, like="input"), None)]
    rows, _ = analyze(nodes, 8, (4, 6))
    assert rows["unfold"].output_shape.layout == "NPLC" and rows["unfold"].output_shape.sample == (4, 6, 8)
    assert rows["fold"].output_shape.sample == (8, 4, 6)
    assert rows["unfold"].memory_access_bytes == 4 * 2 * 192
    with pytest.raises(CostModelError, match="node 'unfold': the 5x6 map is not a whole number of 2x2 patches"):
        analyze(nodes, 8, (5, 6))


def test_mobilevit_resizes_only_where_needed():
    # a 7 x 7 map is resized to 8 x 8 for 2 x 2 patches (bilinear), and back; an 8 x 8 map is not
    nodes = [("resize", Interpolate("bilinear", multiple=2, if_needed=True), None),
             ("unfold", PatchUnfold(2), None), ("fold", PatchFold(2, like="resize"), None),
             ("restore", Interpolate("bilinear", like="input", if_needed=True), None)]
    rows, result = analyze(nodes, 4, (7, 7))
    assert rows["resize"].output_shape.sample == (4, 8, 8) and rows["resize"].flops == 9 * 256
    assert rows["restore"].output_shape.sample == (4, 7, 7) and rows["restore"].flops == 9 * 196
    _, fvcore = analyze(nodes, 4, (7, 7), "fvcore")
    assert fvcore.totals["flops"] == 4 * (256 + 196)
    rows, result = analyze(nodes, 4, (8, 8))
    assert set(rows) == {"unfold", "fold"}          # neither resize happens


def test_interpolate_nearest_and_scale():
    rows, _ = analyze([("up", Interpolate(scale=2), None)], 3, (4, 5))
    assert rows["up"].output_shape.sample == (3, 8, 10) and rows["up"].flops == 0
    _, fvcore = analyze([("up", Interpolate(scale=2), None)], 3, (4, 5), "fvcore")
    assert fvcore.totals["flops"] == 240
    with pytest.raises(CostModelError, match="exactly one of scale, like, multiple and size"):
        Interpolate(scale=2, multiple=2)


def test_transposed_convolution():
    # 4 -> 6 channels, 2 x 2 kernel, stride 2 on a 5 x 5 map: (5 - 1) 2 + (2 - 1) + 1 = 10
    rows, _ = analyze([("up", ConvTranspose2d(6), None)], 4, (5, 5))
    up = rows["up"]
    assert up.kind == "deconv" and up.output_shape.sample == (6, 10, 10)
    assert up.params == 4 * 6 * 2 * 2 + 6
    assert up.madds == 25 * 4 * 6 * 4 == 2400           # every input element times its 6 x 2 x 2 products
    assert up.flops == 2 * 2400 + 600
    # grouped, padded, output padding: (5 - 1) 2 - 2 + 2 + 1 + 1 = 10
    rows, _ = analyze([("up", ConvTranspose2d(4, kernel=3, stride=2, padding=1, output_padding=1, groups=2,
                                              bias=False), None)], 4, (5, 5))
    assert rows["up"].output_shape.sample == (4, 10, 10)
    assert rows["up"].params == 4 * 2 * 9 and rows["up"].madds == 25 * 4 * 2 * 9


def test_learned_parameters():
    rows, _ = analyze([("scale", LayerScale(), None)], 8, (4, 5))
    assert rows["scale"].params == 8 and rows["scale"].flops == 160
    rows, _ = analyze(TOKENS + [("scale", LayerScale(), None)], 8, (4, 5))
    assert rows["scale"].params == 8
    # a position embedding follows the tokens: 20 at 4 x 5, 42 at 6 x 7
    rows, _ = analyze(TOKENS + [("pos", PositionEmbedding(), None)], 8, (4, 5))
    assert rows["pos"].params == 160
    rows, _ = analyze(TOKENS + [("pos", PositionEmbedding(), None)], 8, (4, 5), resolution=(6, 7))
    assert rows["pos"].params == 336


def test_attention_bias_counts_one_bias_per_head_and_offset():
    # EfficientFormer's last stage: 8 heads over a 7 x 7 map: a table of 8 x 49, whatever the 49 x 49 scores
    nodes = TOKENS + [("qk", Unflatten(-1, (8, -1)), None), ("q", Transpose(1, 2), None),
                      ("k_t", Transpose(-2, -1), ("q",)), ("scores", MatMul(), ("q", "k_t")),
                      ("bias", AttentionBias(8, like="input"), None)]
    rows, _ = analyze(nodes, 64, (7, 7))
    assert rows["bias"].params == 8 * 49
    assert rows["bias"].flops == 8 * 49 * 49
    with pytest.raises(CostModelError, match="node 'bias': scores 8x49x49 are not 4 heads"):
        analyze(nodes[:-1] + [("bias", AttentionBias(4, like="input"), None)], 64, (7, 7))


def test_reshape_errors_name_the_node():
    with pytest.raises(CostModelError, match=r"node 'p': dims \[0, 2, 1\] move the batch|node 'p': dims"):
        analyze(TOKENS + [("p", Permute((1, 0, 2)), None)], 8, (4, 5))
    with pytest.raises(CostModelError, match=r"node 'u': cannot split an axis of 8 into \[3, -1\]"):
        analyze(TOKENS + [("u", Unflatten(-1, (3, -1)), None)], 8, (4, 5))
    with pytest.raises(CostModelError, match="node 's': index 20 is out of range for an axis of 20"):
        analyze(TOKENS + [("s", Select(1, 20), None)], 8, (4, 5))
    with pytest.raises(CostModelError, match=r"node 's': slice \[0:9\] is empty or out of range"):
        analyze([("s", Slice(1, 0, 9), None)], 8, (4, 5))
    with pytest.raises(CostModelError, match="at most one size of -1"):
        Unflatten(1, (-1, -1))


def test_pad_subtract_and_slice_widths():
    rows, _ = analyze([("pad", Pad((1, 2, 0, 1)), None)], 3, (4, 5))
    assert rows["pad"].output_shape.sample == (3, 5, 8) and rows["pad"].memory_access_bytes == 4 * (60 + 120)
    rows, _ = analyze([("a", Scale(2.0), None), ("d", Subtract(), ("a", "input"))], 3, (4, 5))
    assert rows["d"].flops == 60
    # GhostNet's slice to the output width scales with alpha (make_divisible(16 * 0.5) = 8)
    rows, _ = analyze([("s", Slice(1, 0, Scaled(16, "make_divisible")), None)], 24, (4, 5), alpha=0.5)
    assert rows["s"].output_shape.sample == (8, 4, 5)


def test_sweeps_of_attention_equal_one_setting_at_a_time():
    """Attention's square in the tokens, parameters that follow the resolution, and resizes that happen at some
    sizes only, through the compiled and the grid programs."""
    from costmodel.design.sweep import sweep
    builder = GraphBuilder()
    for name, op, inputs in [("stem", costmodel.Conv2d(Scaled(32, "make_divisible"), kernel=3, stride=2, padding=1),
                              None),
                             ("resize", Interpolate("bilinear", multiple=2, if_needed=True), None),
                             ("unfold", PatchUnfold(2), None)] + [
            (name, op, inputs) for name, op, inputs in [
                ("qkv", Linear(Scaled(96, "make_divisible")), None), ("split", Unflatten(-1, (3, 2, -1)), None),
                ("heads", Permute((0, 1, 3, 4, 2, 5)), None), ("q", Select(2, 0), ("heads",)),
                ("k", Select(2, 1), ("heads",)), ("v", Select(2, 2), ("heads",)),
                ("sdpa", ScaledDotProductAttention(), ("q", "k", "v")), ("merge", Transpose(2, 3), None),
                ("joined", Flatten(3), None), ("fold", PatchFold(2, like="resize"), None),
                ("restore", Interpolate("bilinear", like="stem", if_needed=True), None)]]:
        builder.add(name, op, inputs)
    network = builder.build("mini_vit", base_resolution=32)
    alphas, resolutions = [0.5, 0.75, 1.0], [28, 30, 32, 34, 36]
    fields = ("params", "madds", "flops", "memory_access_bytes", "peak_activation_bytes")
    for convention in ("costmodel", "flop_counter"):
        grid = sweep(network, alphas, resolutions, convention=convention, batch=2)
        rows = list(zip(*(grid.columns[name].tolist() for name in ("alpha", "resolution") + fields)))
        assert len(rows) == 15
        for alpha, resolution, *values in rows:
            totals = costmodel.analyze(network, alpha=alpha, resolution=resolution, convention=convention,
                                       batch=2).totals
            assert values == [totals[field] for field in fields], (alpha, resolution)
