"""MobileNetV4 and EfficientFormer by hand: their attention's shapes and counts follow from the architecture."""
import costmodel


def _layers(model, **kwargs):
    return {layer.name: layer for layer in costmodel.analyze(model, **kwargs).layers}


def test_mobilenet_v4_hybrid_medium_multi_query_attention_by_hand():
    """Stage 2's MQA at 256: a 16 x 16 map of 160 channels; 4 query heads of 64 over 256 positions, one key and
    value head of 64 over the 8 x 8 positions of a stride-2 depthwise 3x3."""
    layers = _layers("mobilenet_v4_hybrid_medium")
    prefix = "blocks.2.4.attn"
    assert layers[f"{prefix}.query.proj"].params == 160 * 256
    assert layers[f"{prefix}.key.down_conv"].output_shape.sample == (160, 8, 8)
    assert layers[f"{prefix}.key.proj"].params == 160 * 64
    assert layers[f"{prefix}.q"].output_shape.sample == (4, 256, 64)
    assert layers[f"{prefix}.k"].output_shape.sample == (1, 64, 64)
    sdpa = layers[f"{prefix}.sdpa"]
    assert sdpa.output_shape.sample == (4, 256, 64)
    assert sdpa.madds == 4 * 256 * 64 * (64 + 64)
    assert layers[f"{prefix}.o_permute"].output_shape.sample == (256, 16, 16)
    assert layers[f"{prefix}.output.proj"].params == 256 * 160
    assert layers["blocks.2.4.layer_scale"].params == 160
    # FlopCounterMode (torch 2.13) counts this broadcast-key attention: the math path's two bmm
    counter = _layers("mobilenet_v4_hybrid_medium", convention="flop_counter")
    assert counter[f"{prefix}.sdpa"].flops == 2 * sdpa.madds
    # stage 3 has no key/value downsampling: 64 positions attend to 64
    assert layers["blocks.3.8.attn.sdpa"].madds == 4 * 64 * 64 * 128
    assert "blocks.3.8.attn.key.down_conv" not in layers


def test_mobilenet_v4_conv_small_by_hand():
    layers = _layers("mobilenet_v4_conv_small")
    # ExtraDW (5x5 start, 5x5 mid, stride 2, e3): 64 -> 192 -> 96 at 28 -> 14
    assert layers["blocks.2.0.dw_start.conv"].params == 25 * 64
    assert layers["blocks.2.0.pw_exp.conv"].output_shape.sample == (192, 28, 28)
    assert layers["blocks.2.0.dw_mid.conv"].output_shape.sample == (192, 14, 14)
    assert "blocks.2.0.add" not in layers and "blocks.2.1.add" in layers
    # ConvNeXt-like (start 3x3 only), and IR (mid only)
    assert "blocks.2.5.dw_mid.conv" not in layers and "blocks.3.2.dw_start.conv" not in layers
    assert layers["conv_head"].params == 960 * 1280 and layers["norm_head"].params == 2 * 1280
    # the stem is not thinned below alpha 1 (timm's fix_stem)
    assert _layers("mobilenet_v4_conv_small", alpha=0.5)["conv_stem"].output_shape.channels == 32
    assert _layers("mobilenet_v4_conv_small", alpha=1.5)["conv_stem"].output_shape.channels == 48


def test_efficientformer_l1_by_hand():
    """The attention block on the 49 tokens of the 7 x 7 map: 8 heads, q and k of 32, v of 128."""
    layers = _layers("efficientformer_l1")
    prefix = "stages.3.blocks.4.token_mixer"
    assert layers["stages.3.blocks.3.transpose"].output_shape.sample == (49, 448)
    assert layers[f"{prefix}.qkv"].params == 448 * 1536 + 1536
    assert layers[f"{prefix}.q"].output_shape.sample == (8, 49, 32)
    assert layers[f"{prefix}.v"].output_shape.sample == (8, 49, 128)
    assert layers[f"{prefix}.scores"].madds == 8 * 49 * 49 * 32
    assert layers[f"{prefix}.weighted"].madds == 8 * 49 * 49 * 128
    assert layers[prefix].params == 8 * 49 and layers[prefix].kind == "attention"
    assert layers[f"{prefix}.proj"].params == 1024 * 448 + 448
    assert layers["stages.0.blocks.0.token_mixer"].kind == "add"          # pool(x) - x
    assert layers["stages.0.blocks.0.ls1"].params == 48
    assert layers["head"].params == layers["head_dist"].params == 448 * 1000 + 1000
    # at 256 the last map is 8 x 8: the biases cover its 64 offsets
    assert _layers("efficientformer_l1", resolution=256)[prefix].params == 8 * 64
