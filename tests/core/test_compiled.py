"""The compiled program (one setting) and the grid program (a whole grid) count exactly what the interpreter
counts."""
import random

import pytest

import costmodel
from costmodel.engine.compiled import Fallback
from costmodel.engine.counting import compiled_counts, interpret, plan_of
from costmodel.core.errors import CostModelError
from costmodel.core.scaling import Scaled, input_size
from costmodel.sources.zoo import MODELS

SETTINGS = [(1.0, None), (0.5, 160), (0.35, 97), (1.4, 256)]


def _cases():
    for name, entry in MODELS.items():
        for alpha, resolution in SETTINGS:
            if not entry.accepts_alpha and alpha != 1.0:
                continue
            if entry.alpha_choices and alpha not in entry.alpha_choices:
                alpha = entry.alpha_choices[0]
            if not entry.accepts_resolution and resolution is not None:
                continue
            yield pytest.param(name, alpha, resolution, id=f"{name}-{alpha:g}-{resolution}")


@pytest.mark.parametrize("model, alpha, resolution", list(_cases()))
def test_compiled_equals_interpreted(model, alpha, resolution):
    network = costmodel.analyze(model).network
    size = input_size(network.base_resolution, None, resolution)
    for convention in ("costmodel", "fvcore"):
        for batch in (1, 2):
            expected = interpret(network, alpha, size, batch, convention)
            assert compiled_counts(network, alpha, size, batch, convention) == expected


def test_analyze_switches_to_the_compiled_program_and_keeps_its_errors():
    from costmodel.sources.builder import GraphBuilder
    from costmodel.ops import Conv2d
    builder = GraphBuilder()
    builder.add("a", Conv2d(Scaled(8, "make_divisible"), kernel=3, stride=2))
    builder.add("b", Conv2d(8, kernel=3))
    network = builder.build("small", base_resolution=16)
    results = [costmodel.analyze(network, alpha=0.5).totals for _ in range(4)]
    assert plan_of(network).programs.get("costmodel") is not None
    assert all(totals == results[0] for totals in results)
    with pytest.raises(Fallback):
        compiled_counts(network, 1.0, (4, 4), 1, "costmodel")     # 4 -> 1 -> nothing
    with pytest.raises(CostModelError, match=r"node 'b': output size would be -1"):
        costmodel.analyze(network, resolution=4)


@pytest.mark.parametrize("model", ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "shufflenet_v2",
                                   "inception_v3", "googlenet", "blazeface_backbone", "efficientnet_b0", "vit_tiny",
                                   "mobilevit_xs", "mobilenet_v4_hybrid_medium", "efficientformer_l1", "ghostnet"])
def test_numpy_grid_equals_one_setting_at_a_time(model):
    from costmodel.design.sweep import sweep
    entry = MODELS[model]
    alphas = list(entry.alpha_choices) if entry.alpha_choices else \
        ([0.25, 0.35, 0.5, 0.751, 1.0, 1.3] if entry.accepts_alpha else [1.0])
    resolutions = [96, 97, 128, 161, 224] if entry.accepts_resolution else [224]
    if model == "blazeface_backbone":           # its stride-2 blocks need even maps down to 8x8
        resolutions = [96, 128, 160, 192]
    grid = sweep(model, alphas, resolutions)
    rows = list(zip(*(grid.columns[name].tolist() for name in ("alpha", "resolution", "params", "madds", "flops",
                                                                "memory_access_bytes", "peak_activation_bytes"))))
    for alpha, resolution, *values in random.Random(0).sample(rows, min(12, len(rows))):
        totals = costmodel.analyze(model, alpha=alpha, resolution=resolution).totals
        assert values == [totals[k] for k in ("params", "madds", "flops", "memory_access_bytes",
                                              "peak_activation_bytes")], (alpha, resolution)


def test_a_grid_point_that_does_not_fit_is_named():
    from costmodel.design.sweep import sweep
    with pytest.raises(CostModelError, match=r"alpha=1, resolution=97: node 'features.5.shortcut.add': cannot add"):
        sweep("blazeface_backbone", [1.0], [96, 97])


def _example_cases():
    from costmodel.ops import definitions
    from op_examples import example_network
    for op_def in definitions():
        for index, example in enumerate(op_def.examples):
            yield pytest.param(example_network(op_def, example, 4, (6, 8)), id=f"{op_def.spec.name}-{index}")


@pytest.mark.parametrize("network", list(_example_cases()))
def test_every_op_example_compiles_to_what_the_interpreter_counts(network):
    for size, batch in (((6, 8), 1), ((8, 10), 3)):
        for convention in ("costmodel", "papers", "fvcore", "flop_counter"):
            expected = interpret(network, 1.0, size, batch, convention)
            assert compiled_counts(network, 1.0, size, batch, convention) == expected


def test_fvcores_rounded_einsum_count_is_the_same_in_every_engine():
    """fvcore reads an einsum's cost as numpy prints it, 2 P + 1 to 4 significant digits (``four_digits``); the
    interpreter, the compiled program and the numpy grid all round so. Attention of 2 x 2 heads over H x W maps,
    ``maps @ maps^T`` per head: P = 4 H W H."""
    from costmodel.design.sweep import sweep
    from costmodel.ops import Einsum, Transpose, Unflatten
    from costmodel.sources.builder import GraphBuilder
    builder = GraphBuilder()
    builder.add("maps", Unflatten(1, (2, -1)), ("input",))
    builder.add("keys", Transpose(-2, -1), ("maps",))
    builder.add("scores", Einsum("bghij,bghjk->bghik"), ("maps", "keys"))
    network = builder.build("einsum", input_channels=4, base_resolution=32)
    # 32 x 32: P = 131,072; numpy's 262,145 prints 2.621e+05, halved 131,050
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == 131_050
    for size in ((32, 32), (20, 30)):
        expected = interpret(network, 1.0, size, 1, "fvcore")
        assert compiled_counts(network, 1.0, size, 1, "fvcore") == expected
    # 20 x 30: P = 48,000; 96,001 prints 9.600e+04, halved 48,000
    assert costmodel.analyze(network, convention="fvcore", resolution=(20, 30)).totals["flops"] == 48_000
    grid = sweep(network, [1.0], [32, (20, 30), 64], convention="fvcore")
    # 64 x 64: P = 1,048,576; 2,097,153 prints 2.097e+06, halved 1,048,500
    assert grid.columns["flops"].tolist() == [131_050, 48_000, 1_048_500]
