"""Issue 28, items 2 and 3 on imported modules: the hand-written modules the importer's tests use, trained one step
at batch 1 and 3 as they are (in-place activations, views, squeeze-excite, shuffles, attention), cost what torch
counts and saves; a module with frozen parameters (``requires_grad`` off) trains no weight gradient there, in
costmodel as in torch."""
import sys
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import costmodel  # noqa: E402
from costmodel.engine.training import training  # noqa: E402
from costmodel.lowering.training_check import measure_step  # noqa: E402
from costmodel.sources.importer import from_torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).parents[1] / "importer"))
import torch_blocks  # noqa: E402
from hand_written import HAND_WRITTEN  # noqa: E402

pytestmark = pytest.mark.slow           # a reference comparison: python -m pytest -m slow

MODULES = HAND_WRITTEN


def compare(module, size, batch):
    network = from_torch(module, size)
    result = costmodel.analyze(network, convention="flop_counter", batch=batch)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        measured = measure_step(module, torch.randn(batch, *size))
    costed = training(result).totals
    return costed, measured


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", MODULES)
def test_an_imported_module_trains_as_torch_does(name, batch):
    factory, size = MODULES[name]
    costed, measured = compare(factory(), size, batch)
    assert (costed["backward_flops"], costed["saved_bytes"]) == (measured.backward_flops, measured.saved_bytes), \
        measured.saved


def test_frozen_parameters_train_no_weight_gradient():
    module = torch_blocks.MobileNetV1()
    first = next(module.children())
    for parameter in first.parameters():
        parameter.requires_grad_(False)
    network = from_torch(module, (3, 64, 64))
    assert network.frozen and all(name.startswith(network.nodes[0].name.split(".")[0]) for name in network.frozen)
    costed, measured = compare(module, (3, 64, 64), 2)
    assert (costed["backward_flops"], costed["saved_bytes"]) == (measured.backward_flops, measured.saved_bytes)
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert costed["trainable_params"] == trainable < sum(p.numel() for p in module.parameters())
