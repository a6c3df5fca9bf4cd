"""ViT-Ti and MobileViT by hand: the counts follow from the papers' architecture tables and the formulas."""
import costmodel


def test_vit_tiny_by_hand():
    """DeiT-Ti at 224: 196 patches of 16 x 16 and a class token (197 tokens) of 192 channels, 12 blocks of 3 heads
    of 64, an MLP of 768."""
    result = costmodel.analyze("vit_tiny")
    tokens, dim, hidden = 197, 192, 768
    embed = 3 * 16 * 16 * dim + dim
    block = (2 * dim) + (dim * 3 * dim + 3 * dim) + (dim * dim + dim) + (2 * dim) + (dim * hidden + hidden) + \
        (hidden * dim + dim)
    assert result.totals["params"] == embed + dim + tokens * dim + 12 * block + 2 * dim + dim * 1000 + 1000
    attention = 3 * tokens * tokens * (64 + 64)                # q k^T and weights x v, 3 heads
    per_block = tokens * dim * 3 * dim + attention + tokens * dim * dim + 2 * tokens * dim * hidden
    assert result.totals["madds"] == 196 * 3 * 16 * 16 * dim + 12 * per_block + dim * 1000 == 1_253_683_200
    kinds = {layer.kind for layer in result.layers}
    assert {"attention", "layernorm", "embedding", "linear"} <= kinds
    # at 384 the position embedding has 577 entries of 192 (timm's deit_tiny at img_size=384)
    assert costmodel.analyze("vit_tiny", resolution=384).totals["params"] == result.totals["params"] + 380 * dim


def test_explicit_attention_counts_the_same_mult_adds():
    fused = costmodel.analyze("vit_tiny").totals
    explicit = costmodel.analyze("vit_tiny", options={"attention": "explicit"}).totals
    assert fused["madds"] == explicit["madds"] and fused["params"] == explicit["params"]


def test_mobilevit_resizes_the_last_stage_at_224():
    """XS at 224: the stages' maps are 28, 14 and 7; the 7 x 7 map is resized to 8 x 8 for its 2 x 2 patches."""
    layers = {layer.name: layer for layer in costmodel.analyze("mobilevit_xs", resolution=224).layers}
    assert layers["stages.4.1.resize"].output_shape.sample == (144, 8, 8)
    assert layers["stages.4.1.unfold"].output_shape.sample == (4, 16, 144)
    assert layers["stages.4.1.restore"].output_shape.sample == (144, 7, 7)
    assert "stages.3.1.resize" not in layers                   # 14 is a whole number of patches
    at_256 = {layer.name for layer in costmodel.analyze("mobilevit_xs").layers}
    assert "stages.4.1.resize" not in at_256
    # the transformer of the last stage: 3 blocks of 4 heads of 36 over 4 sequences of 16 patches
    assert layers["stages.4.1.transformer.0.attn.sdpa"].madds == 4 * 4 * 16 * 16 * (36 + 36)


def test_mobilevit_xxs_expands_by_2():
    layers = {layer.name: layer for layer in costmodel.analyze("mobilevit_xxs").layers}
    assert layers["stages.0.0.conv1_1x1.conv"].output_shape.sample == (32, 128, 128)     # 16 x 2
    assert layers["stages.0.0.add"].output_shape.sample == (16, 128, 128)
    assert "stages.1.0.add" not in layers                                                  # stride 2
    assert layers["stages.2.1.conv_fusion.conv"].params == 9 * (48 + 48) * 48
