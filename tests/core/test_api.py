"""The Python API: analyze's result, its roll-ups and conversions, and the runnable example."""
import subprocess
import sys
from pathlib import Path

import pytest

import costmodel
from costmodel.core.errors import CostModelError

ROOT = Path(__file__).resolve().parents[2]


def test_totals_are_sums_over_layers():
    result = costmodel.analyze("mobilenet_v1", alpha=0.5, resolution=160)
    for key in ("params", "madds", "flops", "memory_access", "memory_access_bytes"):
        assert result.totals[key] == sum(getattr(layer, key) for layer in result.layers)
    assert all(isinstance(value, int) for value in result.totals.values())
    assert result.resolution == (160, 160)


def test_by_kind_rolls_up_every_layer():
    result = costmodel.analyze("mobilenet_v1")
    by_kind = result.by_kind()
    assert sum(row["layers"] for row in by_kind.values()) == len(result.layers)
    assert sum(row["madds"] for row in by_kind.values()) == result.totals["madds"]
    assert abs(sum(row["madds_share"] for row in by_kind.values()) - 1) < 1e-12
    assert by_kind["batchnorm"]["params"] == 21_888 and by_kind["batchnorm"]["madds_share"] == 0.0


def test_to_frame():
    result = costmodel.analyze("mobilenet_v1", alpha=0.75)
    frame = result.to_frame()
    assert len(frame) == len(result.layers)
    assert int(frame["madds"].sum()) == 325_400_448
    assert frame.loc["Logits", "params"] == 768 * 1000 + 1000
    assert frame.loc["Conv2d_0.conv", "output_shape"] == [24, 112, 112]


def test_analyze_takes_a_network():
    network = costmodel.analyze("mobilenet_v1").network
    assert costmodel.analyze(network, alpha=0.25).totals["madds"] == 41_030_272


def test_the_example_runs():
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "api_quickstart.py")], capture_output=True,
                            text=True, check=True)
    out = result.stdout
    assert "alpha=0.75  madds=325,400,448  params=2,585,560" in out
    assert "94.86% of mult-adds" in out
    # The example's tiny network at alpha 0.5, by hand: stem 3->8 3x3/2 on 64 (27*8*32*32 = 221,184), dw 8 on 16x16
    # (18,432), pw 8->16 (32,768), dw 16 on 8x8 (9,216), pw 16->32 (32,768), fc 32->10 (320).
    assert "madds=314,688" in out
    # params: 216 + 72 + 128 + 144 + 512 + 330 weights, 2 * (8 + 8 + 16 + 16 + 32) BatchNorm
    assert "params=1,562" in out
    # peak: the stem reads 3x64x64 and writes 8x32x32 = 20,480 elements of 4 bytes
    assert "peak activation=81,920 B" in out
    # the budget: 0.5 MobileNet-224 is within 150M (149,497,088 mult-adds, MobileNetV1 Table 6: 63.7%)
    assert "front: alpha=0.5 resolution=224 madds=149,497,088 (published 63.7%: 0.5 MobileNet-224)" in out
    # 0.75 at 128 px fits too; the paper trained no such network (Table 7 varies the resolution at alpha 1 only)
    assert "front: alpha=0.75 resolution=128 madds=106,770,432 (not a published setting)" in out


def test_analyze_takes_a_torch_module_and_its_input_size():
    torch = pytest.importorskip("torch")
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                                 torch.nn.Conv2d(8, 16, 1))
    # by hand at 32 x 32: 27 x 8 and 8 x 16 mult-adds per output pixel, 2 images
    result = costmodel.analyze(module, input_size=(2, 3, 32, 32))
    assert result.batch == 2 and result.totals["madds"] == 2 * (27 * 8 + 8 * 16) * 32 * 32
    assert costmodel.analyze(module, input_size=(3, 32, 32)).totals["madds"] == (27 * 8 + 8 * 16) * 32 * 32
    assert costmodel.analyze(module, resolution=16).totals["madds"] == (27 * 8 + 8 * 16) * 16 * 16
    with pytest.raises(CostModelError, match=r"input_size must be \(C, H, W\) or \(N, C, H, W\)"):
        costmodel.analyze(module, input_size=(3, 32))
    with pytest.raises(CostModelError, match="input_size is a torch module's input"):
        costmodel.analyze("mobilenet_v2", input_size=(3, 224, 224))


def test_sweep_is_a_function_of_the_package_and_its_result_a_frame():
    result = costmodel.sweep("mobilenet_v2", [0.5, 1.0], [160, 224])
    frame = result.to_frame()
    assert len(frame) == 4 and list(frame["alpha"]) == [0.5, 0.5, 1.0, 1.0]
    assert int(frame["madds"].iloc[3]) == costmodel.analyze("mobilenet_v2").totals["madds"] == 300_774_272
    import costmodel.sweep as old_path                   # the module's path before it moved still imports
    assert old_path is costmodel.sweep and old_path.sweep("mobilenet_v2", [1.0]).points == 1
