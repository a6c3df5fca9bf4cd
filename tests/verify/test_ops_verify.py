"""Every op of the registry, in a small network around each of its examples, agrees with fvcore and FlopCounterMode through verify, per
layer and in total, parameters included: the lowering and every convention of every op are checked."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("fvcore")

import costmodel  # noqa: E402
from costmodel.ops import definitions  # noqa: E402
from costmodel.lowering.to_torch import to_torch  # noqa: E402
from costmodel.lowering.verify import compare  # noqa: E402

from op_examples import example_network  # noqa: E402

CASES = [(op_def, index) for op_def in definitions() for index in range(len(op_def.examples))]


@pytest.mark.parametrize("op_def, index", CASES, ids=[f"{d.spec.name}-{i}" for d, i in CASES])
@pytest.mark.parametrize("against, convention", [("fvcore", "fvcore"), ("flopcounter", "flop_counter")])
def test_one_op_network_agrees(op_def, index, against, convention):
    """At two settings: batch 1 on a 6 x 8 map and batch 3 on an 8 x 10 map."""
    network = example_network(op_def, op_def.examples[index], 4, (6, 8))
    for batch, size in ((1, (6, 8)), (3, (8, 10))):
        result = costmodel.analyze(network, convention=convention, batch=batch, resolution=size)
        module = to_torch(network, batch=batch, resolution=size)
        check = compare(result, module, against)
        assert check.agrees, [(layer.name, layer.flops, layer.reference_flops, layer.params,
                               layer.reference_params) for layer in check.layers]
        assert check.total_params == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("op_def, index", CASES, ids=[f"{d.spec.name}-{i}" for d, i in CASES])
def test_one_op_network_runs_to_the_shape_costmodel_gives(op_def, index):
    """torch's output of the lowered example (batch 2 on a 6 x 8 map) has the op's shape by costmodel's rule."""
    import torch

    network = example_network(op_def, op_def.examples[index], 4, (6, 8))
    result = costmodel.analyze(network, batch=2, resolution=(6, 8))
    module = to_torch(network, batch=2, resolution=(6, 8)).eval()
    with torch.no_grad():
        output = module(torch.zeros(2, 4, 6, 8))
    output = output[0] if isinstance(output, (tuple, list)) else output
    layers = {layer.name: layer for layer in result.layers}
    # a conditional op that does not happen at this size passes its input on
    source = "op" if "op" in layers else network.nodes[-1].inputs[0]
    expected = layers[source].output_shape.dims if source in layers else (2, 4, 6, 8)
    assert tuple(output.shape) == tuple(expected)
