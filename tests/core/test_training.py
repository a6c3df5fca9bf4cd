"""The training step's costs (``engine.training``) on a network small enough to count by hand: a 3x3 convolution,
BatchNorm, ReLU, a global pool and a linear classifier, batch 2 on an 8 x 8 input. The comparisons with torch
(FlopCounterMode, ``saved_tensors_hooks``) are the slow tests in ``tests/verify/test_training_*.py``."""
import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.engine.training import training
from costmodel.ops import (Activation, BatchNorm, Conv2d, Flatten, GlobalAvgPool, Linear, definitions)
from costmodel.ops.registry import OpDef, register
from costmodel.sources.builder import GraphBuilder

BATCH, CHANNELS, SIDE = 2, 8, 8
MAP = BATCH * CHANNELS * SIDE * SIDE                   # elements of the convolution's output: 1,024


def tiny(block=""):
    """The network; ``block`` puts the convolution, BatchNorm and ReLU under one dotted prefix."""
    conv, bn, relu = (f"{block}.{name}" if block else name for name in ("conv", "bn", "relu"))
    builder = GraphBuilder()
    builder.add(conv, Conv2d(CHANNELS, kernel=3, padding=(1, 1)), ("input",))
    builder.add(bn, BatchNorm(), (conv,))
    builder.add(relu, Activation("relu"), (bn,))
    builder.add("pool", GlobalAvgPool(), (relu,))
    builder.add("flat", Flatten(), ("pool",))
    builder.add("fc", Linear(10), ("flat",))
    return builder.build("tiny", input_channels=3, base_resolution=(SIDE, SIDE))


@pytest.fixture(scope="module")
def network():
    return tiny()


def costs(network, **options):
    return training(costmodel.analyze(network, batch=BATCH), **options).totals


def test_backward_mult_adds_by_hand(network):
    conv = 3 * 3 * 3 * CHANNELS * SIDE * SIDE * BATCH       # 27,648: the forward's, again for the weight gradient
    fc = CHANNELS * 10 * BATCH                              # 160: the input's gradient and the weight's
    totals = costs(network)
    assert totals["forward_madds"] == conv + fc
    assert totals["input_madds"] == fc                      # the image needs no gradient: the first layer makes none
    assert totals["weight_madds"] == conv + fc
    assert totals["step_madds"] == 2 * conv + 3 * fc


def test_saved_activations_by_hand(network):
    image = BATCH * 3 * SIDE * SIDE * 4                     # the convolution keeps its input, for its weights
    bn = MAP * 4 + 2 * CHANNELS * 4                         # its input, and its batch mean and 1 / std (float32)
    relu = MAP * 4                                          # ReLU keeps its output
    fc = BATCH * CHANNELS * 4                               # the pooled features, for the classifier's weights
    assert costs(network)["saved_bytes"] == image + bn + relu + fc       # the pool keeps nothing; flatten is a view


def test_state_memory_and_peak_by_hand(network):
    params = 3 * 3 * 3 * CHANNELS + 2 * CHANNELS + CHANNELS * 10 + 10        # 322
    adam = costs(network, optimizer="adam")
    assert adam["params_bytes"] == adam["gradient_bytes"] == params * 4
    assert adam["optimizer_bytes"] == 2 * params * 4                          # exp_avg and exp_avg_sq
    assert costs(network, optimizer="momentum")["optimizer_bytes"] == params * 4
    assert costs(network, optimizer="sgd")["optimizer_bytes"] == 0
    transient = 2 * MAP * 4                                 # BatchNorm's (and ReLU's) output and input gradients
    assert adam["transient_bytes"] == transient
    assert adam["peak_bytes"] == 4 * params * 4 + adam["saved_bytes"] + transient


def test_a_frozen_layer_costs_no_weight_gradient_and_saves_nothing(network):
    totals = costs(network, frozen=["conv"])
    assert totals["trainable_params"] == 2 * CHANNELS + CHANNELS * 10 + 10
    assert totals["weight_madds"] == CHANNELS * 10 * BATCH                     # the classifier's only
    # the frozen convolution's output needs no gradient, so it keeps nothing; BatchNorm still keeps its input
    assert totals["saved_bytes"] == (MAP * 4 + 2 * CHANNELS * 4) + MAP * 4 + BATCH * CHANNELS * 4


def test_an_input_that_needs_a_gradient_makes_the_first_layer_compute_one(network):
    assert costs(network, input_grad=True)["input_madds"] == 3 * 3 * 3 * CHANNELS * SIDE * SIDE * BATCH + \
        CHANNELS * 10 * BATCH


def test_flop_conventions_of_the_backward(network):
    result = costmodel.analyze(network, batch=BATCH, convention="flop_counter")
    conv = 3 * 3 * 3 * CHANNELS * SIDE * SIDE * BATCH
    assert training(result).totals["backward_flops"] == 2 * conv + 2 * 2 * CHANNELS * 10 * BATCH
    cm = training(costmodel.analyze(network, batch=BATCH)).totals
    # costmodel: 2 per mult-add, one add per output element for the classifier's bias gradient, BatchNorm's
    # 5 + 5 per element, ReLU's 1, the pool's 1 per input element
    assert cm["backward_flops"] == 2 * conv + 2 * 2 * CHANNELS * 10 * BATCH + BATCH * 10 + 10 * MAP + MAP + MAP


def test_refusals():
    with pytest.raises(CostModelError, match="unknown optimizer 'lamb'; known: sgd, momentum, adam, adamw"):
        training(costmodel.analyze("mobilenet_v1"), optimizer="lamb")
    with pytest.raises(CostModelError, match="not on the fused inference view"):
        training(costmodel.analyze("mobilenet_v1", fused=True))
    with pytest.raises(CostModelError, match="node 'norm_head': BatchNorm in training needs more than one value"):
        training(costmodel.analyze("mobilenet_v4_conv_small"))          # batch 1, BatchNorm after the global pool
    assert training(costmodel.analyze("mobilenet_v4_conv_small", batch=2)).totals["saved_bytes"] > 0


def test_every_op_declares_its_backward():
    assert all(definition.backward is not None for definition in definitions())
    conv = next(d for d in definitions() if d.op is Conv2d)
    with pytest.raises(RuntimeError, match="declares no backward"):
        register(OpDef(type("Unbacked", (Conv2d,), {"op_name": "unbacked"}), conv.shape, conv.params, conv.madds,
                       conv.flops, conv.memory_access, conv.activation, conv.kinds,
                       type(conv.spec)("unbacked", conv.spec.read), conv.lower, kind=conv.kind))


def test_every_op_example_trains_under_every_convention_and_the_papers_count_mult_adds():
    """Every backward formula evaluates (the slow tests check FlopCounterMode's against torch); under the papers'
    convention a backward's FLOPs are its mult-adds, as a forward's are."""
    from costmodel.core.conventions import CONVENTIONS
    from op_examples import example_network

    for op_def in definitions():
        for example in op_def.examples:
            network = example_network(op_def, example, 4, (6, 8))
            for convention in CONVENTIONS:
                totals = training(costmodel.analyze(network, batch=2, convention=convention), input_grad=True).totals
                assert all(isinstance(value, int) and value >= 0 for value in totals.values()), op_def.spec.name
                if convention == "papers":
                    assert totals["backward_flops"] == totals["backward_madds"], op_def.spec.name


def test_a_checkpointed_segment_keeps_its_input_and_runs_again():
    """Checkpointing block (its convolution, BatchNorm and ReLU): it keeps the image it reads, nothing inside; its
    forward runs again in the backward, and while its backward runs its activations live again."""
    network = tiny("block")
    assert costs(network) == costs(network, checkpoint=[])
    image = BATCH * 3 * SIDE * SIDE * 4
    inside = image + (MAP * 4 + 2 * CHANNELS * 4) + MAP * 4        # what the segment would have kept
    totals = costs(network, checkpoint=["block"])
    assert totals["saved_bytes"] == image + BATCH * CHANNELS * 4      # the image, and the classifier's input
    conv_flops = 2 * 3 * 3 * 3 * CHANNELS * SIDE * SIDE * BATCH
    assert totals["recompute_flops"] == conv_flops + 2 * MAP + MAP    # convolution, BatchNorm (2), ReLU (1)
    assert totals["transient_bytes"] == 2 * MAP * 4 + inside
    assert totals["step_flops"] == totals["forward_flops"] + totals["backward_flops"] + totals["recompute_flops"]
