"""Every op of the registry, in the small network around each of its examples, trains as costmodel says it does: the
backward's FLOPs under FlopCounterMode's convention equal what FlopCounterMode counts in torch's backward, and the
activation bytes costmodel says the backward keeps equal what torch's autograd saves (``saved_tensors_hooks``), at
two settings, with the input needing a gradient (so every op runs its backward) and without."""
import warnings

import pytest

pytest.importorskip("torch")

import costmodel  # noqa: E402
from costmodel.engine.training import training  # noqa: E402
from costmodel.lowering.to_torch import to_torch  # noqa: E402
from costmodel.lowering.training_check import measure_step  # noqa: E402
from costmodel.ops import definitions  # noqa: E402

from op_examples import example_network  # noqa: E402

pytestmark = pytest.mark.slow           # a reference comparison: python -m pytest -m slow

CASES = [(op_def, index) for op_def in definitions() for index in range(len(op_def.examples))]
SETTINGS = ((2, (6, 8)), (3, (8, 10)))        # batch 2, not 1: BatchNorm1d refuses one value per channel in training


def step(network, batch, size, input_grad):
    import torch

    torch.manual_seed(0)
    module = to_torch(network, batch=batch, resolution=size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return measure_step(module, torch.randn(batch, network_channels(network), *size), input_grad)


def network_channels(network):
    return network.input_channels.base if hasattr(network.input_channels, "base") else 4


@pytest.mark.parametrize("op_def, index", CASES, ids=[f"{d.spec.name}-{i}" for d, i in CASES])
@pytest.mark.parametrize("input_grad", [True, False], ids=["input-grad", "no-input-grad"])
def test_one_op_network_trains_as_torch_does(op_def, index, input_grad):
    network = example_network(op_def, op_def.examples[index], 4, (6, 8))
    example = op_def.examples[index]
    if getattr(getattr(example, "op", example), "mask_params", 0) and not input_grad:
        pytest.xfail("the lowering's mask table is a parameter torch's attention never reads, so torch trains "
                     "nothing here; costmodel trains it, as a relative-position table is trained")
    for batch, size in SETTINGS:
        measured = step(network, batch, size, input_grad)
        result = costmodel.analyze(network, convention="flop_counter", batch=batch, resolution=size)
        costed = training(result, input_grad=input_grad).totals
        assert (costed["backward_flops"], costed["saved_bytes"]) == (measured.backward_flops, measured.saved_bytes), \
            (batch, size, measured.saved)
