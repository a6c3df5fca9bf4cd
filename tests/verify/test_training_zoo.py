"""Issue 28, item 3: every zoo network, lowered to torch and trained one step at batch 1 and 3, does what costmodel
says: the backward's FLOPs under FlopCounterMode's convention are what FlopCounterMode counts, and the activation
bytes the backward keeps are what autograd saves (``saved_tensors_hooks``, per storage). Where torch refuses to
train (BatchNorm with one value per channel), costmodel refuses too, naming the node."""
import warnings

import pytest

pytest.importorskip("torch")

import costmodel  # noqa: E402
from costmodel.core.errors import CostModelError  # noqa: E402
from costmodel.engine.training import training  # noqa: E402
from costmodel.lowering.to_torch import to_torch  # noqa: E402
from costmodel.lowering.training_check import measure_step  # noqa: E402
from costmodel.sources.zoo import MODELS  # noqa: E402

pytestmark = pytest.mark.slow           # a reference comparison: python -m pytest -m slow


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_zoo_network_trains_as_torch_does(name, batch):
    import torch

    result = costmodel.analyze(name, batch=batch, convention="flop_counter")
    module = to_torch(name, batch=batch)
    torch.manual_seed(0)
    x = torch.randn(batch, result.input_shape.dims[1], *result.resolution)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            measured = measure_step(module, x)
        except ValueError as refusal:                 # torch's BatchNorm: one value per channel
            assert "Expected more than 1 value per channel" in str(refusal)
            with pytest.raises(CostModelError, match="BatchNorm in training needs more than one value per channel"):
                training(result)
            return
    costed = training(result).totals
    assert (costed["backward_flops"], costed["saved_bytes"]) == (measured.backward_flops, measured.saved_bytes)
