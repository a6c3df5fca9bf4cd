"""Spec files: the format, the block notation, the examples, and errors that name file, line, layer and field."""
from pathlib import Path

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.sources.spec import load_spec, parse_block

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path, text, name="net.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


TINY = """
name = "tiny"
input_channels = 3
resolution = 32
width_rule = "mobilenet_v1"

[[layer]]
name = "stem"
block = "cn_k3_s2_c16"

[[layer]]
name = "sep"
block = "ds_r2_k3_s2_c32"

[[layer]]
name = "pool"
op = "global_avg_pool"
[[layer]]
op = "flatten"
[[layer]]
name = "fc"
op = "linear"
out = 10
fixed = true
"""


def test_a_small_spec_by_hand(tmp_path):
    result = costmodel.analyze(str(write(tmp_path, TINY)))
    # stem: 3->16, 3x3/2 on 32 -> 16x16; sep.0: dw 16 /2 -> 8x8, pw 16->32; sep.1: dw 32 on 8x8, pw 32->32; fc 32->10
    madds = (9 * 3 * 16 * 256) + (9 * 16 * 64 + 16 * 32 * 64) + (9 * 32 * 64 + 32 * 32 * 64) + 32 * 10
    assert result.totals["madds"] == madds
    weights = 9 * 3 * 16 + (9 * 16 + 16 * 32) + (9 * 32 + 32 * 32) + 32 * 10 + 10
    batchnorm = 2 * (16 + 16 + 32 + 32 + 32)
    assert result.totals["params"] == weights + batchnorm
    names = [layer.name for layer in result.layers]
    assert names[:4] == ["stem.conv", "stem.bn", "stem.relu", "sep.0.dw.conv"]
    assert "sep.1.pw.relu" in names
    # alpha scales the blocks by the spec's rule and keeps the fixed classifier
    narrow = costmodel.analyze(str(tmp_path / "net.toml"), alpha=0.5)
    assert narrow.layers[0].output_shape.sample == (8, 16, 16) and narrow.layers[-1].output_shape.sample == (10,)


def test_block_notation():
    assert parse_block("ir_r2_k3_s2_e6_c24") == ("ir", 2, {"k": 3, "s": 2, "e": 6.0, "c": 24})
    assert parse_block("ir_k5_e4.5_c40_se_ahswish") == ("ir", 1, {"k": 5, "s": 1, "e": 4.5, "c": 40, "se": True,
                                                                  "a": "hswish"})
    assert parse_block("cn_c8") == ("cn", 1, {"k": 3, "s": 1, "c": 8})
    assert "unknown block kind 'xx'" in parse_block("xx_c8")
    assert "missing the output channels" in parse_block("ir_r2_k3")
    assert "cannot read 'q7'" in parse_block("cn_q7_c8")
    assert "applies to ir blocks only" in parse_block("ds_c8_se")
    assert "unknown activation 'swish'" in parse_block("cn_c8_aswish")
    assert "k0: must be at least 1" in parse_block("cn_k0_c8")


def test_the_mobilenet_v2_like_example_matches_the_zoo_body():
    """Its stages are MobileNetV2's Table 2 rows: the zoo's blocks cost the same (the spec adds SE in stage 6)."""
    spec = costmodel.analyze(str(ROOT / "examples" / "mobilenet_v2_like.toml"))
    zoo = costmodel.analyze("mobilenet_v2")
    spec_body = [layer.madds for layer in spec.layers if layer.name.startswith(("stage1", "stage2", "stage3",
                                                                               "stage4", "stage5"))]
    zoo_body = [layer.madds for layer in zoo.layers
                if layer.name.split(".")[0] == "features" and 1 <= int(layer.name.split(".")[1]) <= 13]
    assert spec_body == zoo_body
    se = [layer for layer in spec.layers if layer.name.startswith("stage6.0.conv.2.")]
    assert [layer.name.rsplit(".", 1)[1] for layer in se] == ["avgpool", "fc1", "activation", "fc2",
                                                             "scale_activation", "mul"]
    assert se[1].output_shape.sample == (144, 1, 1)            # make_divisible(576 // 4, 8): 96 expanded 6 times


def test_the_branching_example_by_hand():
    result = costmodel.analyze(str(ROOT / "examples" / "inception_like.toml"))
    layers = {layer.name: layer for layer in result.layers}
    assert layers["stem_pool"].output_shape.sample == (64, 28, 28)
    assert layers["branch3x3.conv"].madds == 9 * 96 * 128 * 28 * 28
    assert layers["branch5x5.conv"].madds == 25 * 16 * 32 * 28 * 28
    assert layers["mixed"].output_shape.sample == (64 + 128 + 32 + 32, 28, 28)
    assert layers["res.add"].flops == 256 * 28 * 28
    assert layers["fc"].params == 256 * 10 + 10


def test_spec_files_work_on_the_command_line(capsys):
    from costmodel.cli import main
    with pytest.raises(SystemExit) as exit_info:
        main(["table", str(ROOT / "examples" / "inception_like.toml"), "--format", "json"])
    assert exit_info.value.code == 0
    assert '"model": "inception_like"' in capsys.readouterr().out


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("name = ", "invalid TOML: "),
    ('name = "x"', "no layers"),
    ('[[layer]]\nop = "flatten"', "missing field 'name'"),
    ('name = "x"\ncolour = 1\n[[layer]]\nop = "flatten"', "unknown field 'colour'"),
    ('name = "x"\nwidth_rule = "v9"\n[[layer]]\nop = "flatten"', "width_rule must be one of"),
    ('name = "x"\n\n[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\nkernal = 3',
     "net.toml:3: layer 'a': unknown field 'kernal'"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "conv2d"', "net.toml:2: layer 'a': missing field 'out'"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "conv2d"\nout = "wide"', "field 'out' must be a number of channels"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\nkernel = "3"', "field 'kernel' must be int or list"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "conv2d"\nout = 0', "field 'out' must be a positive number"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\nkernel = 0', "kernel must be at least 1"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "conv2d"\nout = 8\nstride = -2', "stride must be at least 1"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "warp"', "layer 'a': unknown op 'warp'"),
    ('name = "x"\n[[layer]]\nname = "a"\nblock = "ir_c8_q"', "layer 'a': block 'ir_c8_q': cannot read 'q'"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "flatten"\nblock = "cn_c8"', "exactly one of 'op' or 'block'"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "flatten"\ninput = "b"\n[[layer]]\nname = "b"\nop = "flatten"',
     "input 'b' is a later layer"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "flatten"\ninput = "ghost"', "input 'ghost' is not a layer"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "flatten"\n[[layer]]\nname = "a"\nop = "flatten"',
     "net.toml:5: layer 'a': a layer named 'a' is defined twice"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "activation"\nfunction = "swish"', "unknown activation 'swish'"),
    ('name = "x"\n[[layer]]\nname = "a b"\nop = "flatten"', "is not a dotted path"),
    ('name = "x"\nlayer = 3', "field 'layer' must be list"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "fold_patches"\nlike = "later"', "field 'like': 'later' is not an "
     "earlier layer"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "fold_patches"', "missing field 'like'"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "unflatten"\nsizes = [2, "H"]', "unflatten size 'H' needs 'like'"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "permute"\ndims = [0, "a"]', "a permute dim must be an axis index"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "interpolate"', "exactly one of scale, like, multiple and size"),
    ('name = "x"\n[[layer]]\nname = "a"\nop = "pad"\npads = [1]', "pad needs (before, after) pairs"),
])
def test_errors_name_the_file_layer_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(CostModelError) as error:
        load_spec(path)
    assert message in str(error.value)
    assert str(error.value).startswith(str(path))
    assert "\n" not in str(error.value)


def test_the_hybrid_example_by_hand():
    """examples/mobilevit_block.toml at 64 x 64: the stem gives a 32 x 32 map, unfolded into 4 sequences of 256
    patches of 64 channels; attention of 4 heads of 16 between them."""
    result = costmodel.analyze(str(ROOT / "examples" / "mobilevit_block.toml"))
    layers = {layer.name: layer for layer in result.layers}
    assert "resized" not in layers and "restored" not in layers          # 32 is a whole number of 2x2 patches
    assert layers["patches"].output_shape.sample == (4, 256, 64)
    assert layers["attn"].madds == 4 * 4 * 256 * 256 * (16 + 16)
    assert layers["qkv"].madds == 4 * 256 * 64 * 192 and layers["qkv"].params == 64 * 192 + 192
    assert layers["folded"].output_shape.sample == (64, 32, 32)
    assert layers["fusion_in"].output_shape.sample == (64, 32, 32)
    # at 62 x 62 the 31 x 31 map is resized to 32 x 32 for the patches and back
    layers = {layer.name: layer for layer in costmodel.analyze(str(ROOT / "examples" / "mobilevit_block.toml"),
                                                               resolution=62).layers}
    assert layers["resized"].output_shape.sample == (64, 32, 32)
    assert layers["restored"].output_shape.sample == (64, 31, 31)
    assert layers["restored"].flops == 9 * 64 * 31 * 31


def test_shape_errors_in_a_spec_name_the_node(tmp_path):
    text = ('name = "x"\nresolution = 8\n[[layer]]\nname = "a"\nop = "conv2d"\nout = 6\n'
            '[[layer]]\nname = "b"\nop = "conv2d"\nout = 8\ngroups = 4')
    with pytest.raises(CostModelError, match="layer 'b': groups=4 must divide both in_channels 6"):
        costmodel.analyze(str(write(tmp_path, text)))


def test_unreadable_spec_files(tmp_path):
    with pytest.raises(CostModelError, match="does not exist"):
        load_spec(tmp_path / "missing.toml")
    with pytest.raises(CostModelError, match="is a directory"):
        load_spec(tmp_path)
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    with pytest.raises(CostModelError, match="not a text file"):
        load_spec(binary)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"')
    with pytest.raises(CostModelError, match="not UTF-8"):
        load_spec(latin)
