"""Every op of the registry, alone in a one-op network, agrees with fvcore and FlopCounterMode through verify, per
layer and in total, parameters included: the lowering and every convention of every op are checked."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("fvcore")

import costmodel  # noqa: E402
from costmodel.builder import GraphBuilder  # noqa: E402
from costmodel.ops import definitions  # noqa: E402
from costmodel.torch_lowering import to_torch  # noqa: E402
from costmodel.verify import compare  # noqa: E402

CASES = [(op_def, index) for op_def in definitions() for index in range(len(op_def.examples))]


def _network(op_def, op, batch_channels):
    builder = GraphBuilder()
    source = "input"
    if op_def.example_input == "NC":
        source = builder.add("flatten", costmodel.Flatten())
    builder.add("op", op, (source,) * op.arity[0])
    return builder.build(f"one_{op_def.spec.name}", input_channels=batch_channels, base_resolution=(6, 7))


@pytest.mark.parametrize("op_def, index", CASES, ids=[f"{d.spec.name}-{i}" for d, i in CASES])
@pytest.mark.parametrize("against, convention", [("fvcore", "fvcore"), ("flopcounter", "flop_counter")])
def test_one_op_network_agrees(op_def, index, against, convention):
    op = op_def.examples[index]
    network = _network(op_def, op, 4)
    for batch in (1, 3):
        result = costmodel.analyze(network, convention=convention, batch=batch)
        check = compare(result, to_torch(network, batch=batch), against)
        assert check.agrees, [(layer.name, layer.flops, layer.reference_flops, layer.params,
                               layer.reference_params) for layer in check.layers]
        assert check.total_params == sum(p.numel() for p in to_torch(network, batch=batch).parameters())
