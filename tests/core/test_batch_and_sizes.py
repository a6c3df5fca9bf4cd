"""Shapes carry the batch and a layout: params do not depend on the batch, every other count is linear in it (memory
access reads the weights once per batch), the peak included; inputs may be non-square."""
import json

import pytest

import costmodel
from costmodel.sources.builder import GraphBuilder
from costmodel.core.errors import CostModelError
from costmodel.ops import Conv2d, Flatten, Linear

from helpers import run

V1_MADDS = 568_740_352          # MobileNetV1 1.0-224, the paper's Table 1 summed by hand (tests/zoo)
V1_PARAMS = 4_231_976


@pytest.mark.parametrize("model", ["mobilenet_v1", "mobilenet_v2", "shufflenet_v2", "inception_v3", "vgg16"])
@pytest.mark.parametrize("batch", [2, 7])
def test_counts_are_linear_in_the_batch(model, batch):
    one = costmodel.analyze(model)
    many = costmodel.analyze(model, batch=batch)
    assert many.totals["params"] == one.totals["params"]
    for key in ("madds", "flops", "peak_activation", "peak_activation_bytes"):
        assert many.totals[key] == batch * one.totals[key], key
    # memory access: activations once per image, every weight once per batch
    assert many.totals["memory_access"] == batch * (one.totals["memory_access"] - one.totals["params"]) + \
        one.totals["params"]
    assert [layer.output_shape.sample for layer in many.layers] == [layer.output_shape.sample for layer in one.layers]
    assert all(layer.output_shape.batch == batch for layer in many.layers)


def test_mobilenet_v1_at_batch_8_by_hand():
    result = costmodel.analyze("mobilenet_v1", batch=8)
    assert result.totals["madds"] == 8 * V1_MADDS and result.totals["params"] == V1_PARAMS
    # the peak: the first pointwise layer reads 32 x 112 x 112 and writes 64 x 112 x 112, per image, 4 bytes each
    assert result.totals["peak_activation_bytes"] == 8 * (32 + 64) * 112 * 112 * 4
    assert result.input_shape.dims == (8, 3, 224, 224) and result.batch == 8


def test_non_square_input_by_hand():
    builder = GraphBuilder()
    builder.add("conv", Conv2d(8, kernel=3, stride=2, padding=1))
    builder.add("flatten", Flatten())
    builder.add("fc", Linear(10))
    network = builder.build("small", base_resolution=(160, 224))
    result = costmodel.analyze(network)
    conv, _, fc = result.layers
    assert conv.output_shape.sample == (8, 80, 112) and conv.output_shape.layout == "NCHW"
    assert conv.madds == 9 * 3 * 8 * 80 * 112 == 1_935_360
    assert fc.input_shapes[0].sample == (8 * 80 * 112,) and fc.output_shape.layout == "NC"
    assert fc.madds == 8 * 80 * 112 * 10 and fc.params == 8 * 80 * 112 * 10 + 10
    assert costmodel.analyze(network, resolution="96x64").layers[0].output_shape.sample == (8, 48, 32)
    assert costmodel.analyze(network, rho=0.5).resolution == (80, 112)


def test_cli_batch_and_non_square_resolution(capsys):
    status, out, _ = run(["table", "mobilenet_v1", "--batch", "4", "--resolution", "160x224", "--format", "json"],
                         capsys)
    assert status == 0
    document = json.loads(out)
    assert document["batch"] == 4 and document["resolution"] == [160, 224]
    first = document["layers"][0]
    assert first["output_shape"] == [32, 80, 112] and first["layout"] == "NCHW"
    assert first["madds"] == 4 * 27 * 32 * 80 * 112           # 3x3x3 -> 32 on an 80 x 112 map, 4 images
    status, out, _ = run(["table", "mobilenet_v1", "--batch", "4"], capsys)
    assert "input 4x3x224x224" in out
    for bad, message in ((["--batch", "0"], "batch must be in [1, 1,000,000], got 0"),
                         (["--resolution", "160x"], "resolution must be N or HxW"),
                         (["--resolution", "0x224"], "resolution must be in [1, 8192], got 0")):
        status, _, err = run(["table", "mobilenet_v1", *bad], capsys)
        assert status == 2 and message in err and err.count("\n") == 1


def test_the_batch_is_checked_in_python():
    with pytest.raises(CostModelError, match="batch must be a whole number"):
        costmodel.analyze("mobilenet_v1", batch=1.5)
    with pytest.raises(CostModelError, match=r"batch must be in \[1, 1,000,000\]"):
        costmodel.analyze("mobilenet_v1", batch=2_000_000)
