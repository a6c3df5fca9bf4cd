"""Every zoo network lowered to torch (to_torch) and imported again (from_torch) is the same network: node for
node the same names, kinds, shapes and counts under every convention. The lowering is costmodel's, the import reads
only the torch module, so each checks the other."""
import pytest

pytestmark = pytest.mark.slow           # a reference comparison or a measurement: python -m pytest -m slow

torch = pytest.importorskip("torch")

import costmodel  # noqa: E402
from costmodel.sources.settle import resolve_model  # noqa: E402
from costmodel.lowering.to_torch import to_torch  # noqa: E402
from costmodel.sources.zoo import MODELS  # noqa: E402


@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_lowered_zoo_network_imports_as_itself(name):
    network, _ = resolve_model(name, None)
    zoo = costmodel.analyze(network)
    back = costmodel.from_torch(to_torch(network), (zoo.input_shape.channels, *zoo.resolution))
    assert back.source == "torch.fx trace of the module"
    # A conditional residual skipped at this size (MobileNetV2's first block) is a node of the zoo network but no
    # op of the lowered module; the zoo's memory model keeps its other input live until it, so the memory live
    # while the nodes between run can differ (the peak does not: the totals are compared whole).
    conditional = any(node.op.conditional() for node in network.nodes)
    fields = len(zoo.layers[0]) - 1 if conditional else len(zoo.layers[0])
    for convention in ("costmodel", "papers", "fvcore", "flop_counter"):
        expected = costmodel.analyze(network, convention=convention)
        found = costmodel.analyze(back, convention=convention)
        assert found.not_counted() == {}
        assert [tuple(layer)[:fields] for layer in found.layers] == [tuple(layer)[:fields] for layer in expected.layers]
        assert found.totals == expected.totals
