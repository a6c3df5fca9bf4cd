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


class Checkpointed:
    """A lowered network run with each segment (the nodes under a prefix) recomputed in the backward:
    ``torch.utils.checkpoint`` (reentrant: it keeps the segment's inputs and nothing inside)."""

    def __new__(cls, lowered, segments):
        import torch
        from torch.utils.checkpoint import checkpoint

        def segment_of(name):
            return next((prefix for prefix in segments if name == prefix or name.startswith(prefix + ".")), "")

        class Module(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.lowered = lowered

            def forward(self, x):
                plan, values, index = lowered._plan, {"input": x}, 0
                while index < len(plan):
                    name, module, inputs = plan[index]
                    segment = segment_of(name)
                    if not segment:
                        values[name] = module(*(values[ref] for ref in inputs))
                        index += 1
                        continue
                    end = index
                    while end < len(plan) and segment_of(plan[end][0]) == segment:
                        end += 1
                    group = plan[index:end]
                    inside = {step[0] for step in group}
                    outside = list(dict.fromkeys(ref for _, _, refs in group for ref in refs if ref not in inside))
                    later = {ref for _, _, refs in plan[end:] for ref in refs} | {lowered.output_name}
                    outputs = [step[0] for step in group if step[0] in later]

                    def run(*args, group=group, outside=outside, outputs=outputs):
                        local = dict(zip(outside, args))
                        for step_name, step_module, refs in group:
                            local[step_name] = step_module(*(local[ref] for ref in refs))
                        return tuple(local[out] for out in outputs)
                    values.update(zip(outputs, checkpoint(run, *(values[ref] for ref in outside),
                                                          use_reentrant=True)))
                    index = end
                return values[lowered.output_name]
        return Module()


@pytest.mark.parametrize("name, segments", [("mobilenet_v2", ("features.3", "features.10", "features.17")),
                                            ("resnet50", ("layer2.1", "layer3"))])
def test_checkpointed_segments_keep_and_recompute_as_torch_does(name, segments):
    import torch

    result = costmodel.analyze(name, batch=2, convention="flop_counter")
    module = Checkpointed(to_torch(name, batch=2), segments)
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        measured = measure_step(module, torch.randn(2, 3, *result.resolution))
    costed = training(result, checkpoint=segments).totals
    plain = training(result).totals
    assert costed["saved_bytes"] < plain["saved_bytes"] and costed["recompute_flops"] > 0
    assert (costed["backward_flops"] + costed["recompute_flops"], costed["saved_bytes"]) == \
        (measured.backward_flops, measured.saved_bytes)
