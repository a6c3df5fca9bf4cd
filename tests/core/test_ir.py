"""The IR refuses malformed networks with one-line messages that name the node and the field."""
import pytest

import costmodel
from costmodel.sources.builder import GraphBuilder
from costmodel.core.errors import CostModelError
from costmodel.core.ir import Network, Node
from costmodel.ops import (Activation, Add, BatchNorm, ChannelShuffle, Concat,
                           Conv2d, Flatten, Linear, Multiply, Pool2d, Split)

from helpers import single


def _network(*nodes, **kwargs):
    return Network("test", nodes, **kwargs)


def test_network_is_immutable_and_hashable():
    network = _network(Node("a", Conv2d(8, 3), ("input",)))
    with pytest.raises(AttributeError):
        network.name = "other"  # type: ignore[misc]
    assert hash(network) == hash(_network(Node("a", Conv2d(8, 3), ("input",))))


def test_duplicate_names():
    with pytest.raises(CostModelError, match="'a' is defined twice"):
        _network(Node("a", Conv2d(8, 3), ("input",)), Node("a", BatchNorm(), ("a",)))


def test_inputs_must_name_earlier_nodes():
    with pytest.raises(CostModelError, match="node 'a': input 'b' is defined later"):
        _network(Node("a", Add(), ("input", "b")), Node("b", Conv2d(3, 1), ("input",)))
    with pytest.raises(CostModelError, match="node 'a': input 'ghost' is defined nowhere"):
        _network(Node("a", Conv2d(8, 3), ("ghost",)))


def test_a_layer_may_also_be_a_group_of_layers():
    # as timm's BatchNormAct2d: the norm at "bn", its activation at "bn.act"
    network = _network(Node("block", Conv2d(8, 3), ("input",)), Node("block.conv", Conv2d(8, 3), ("block",)))
    assert [node.name for node in network.nodes] == ["block", "block.conv"]


def test_bad_names_and_arity():
    for bad in ("", "a..b", "a b", "a.", "input", ".a", "a/b", "a:b", "caf\u00e9"):
        with pytest.raises(CostModelError):
            Node(bad, Conv2d(8, 3), ("input",))
    # module paths of an nn.Sequential start with a digit (an imported module's ``0.conv``); torchvision's RegNet
    # names its blocks with a hyphen (``block1-0``)
    assert Node("0.conv", Conv2d(8, 3), ("input",)).name == "0.conv"
    assert Node("trunk_output.block1-0.conv", Conv2d(8, 3), ("input",)).name == "trunk_output.block1-0.conv"
    with pytest.raises(CostModelError, match="add takes at least 2 input"):
        Node("sum", Add(), ("input",))
    with pytest.raises(CostModelError, match="conv2d takes 1 input"):
        Node("c", Conv2d(8, 3), ("input", "input"))
    with pytest.raises(CostModelError, match="no nodes"):
        _network()


@pytest.mark.parametrize("make, message", [
    (lambda: Conv2d(8, kernel=0), "kernel must be at least 1"),
    (lambda: Conv2d(8, stride=-1), "stride must be at least 1"),
    (lambda: Conv2d(0), "channels must be a positive integer"),
    (lambda: Conv2d(8, padding="full"), "padding must be"),
    (lambda: Conv2d(8, groups=0), "groups must be a positive integer"),
    (lambda: Conv2d(8, bias="yes"), "bias must be true or false"),
    (lambda: Pool2d("median"), "pool mode"),
    (lambda: Pool2d("max", 3, 1, 2), "exceeds half the kernel"),
    (lambda: Activation("swish"), "unknown activation"),
    (lambda: Split(2, 2), "split index"),
    (lambda: ChannelShuffle(0), "groups must be a positive integer"),
])
def test_ops_validate_their_fields(make, message):
    with pytest.raises(CostModelError, match=message):
        make()


def test_groups_must_divide_channels():
    with pytest.raises(CostModelError, match=r"node 'layer': groups=3 must divide both in_channels 32 and"):
        single(Conv2d(32, kernel=1, groups=3), 32, 8)


def test_add_of_unequal_shapes_names_the_node():
    builder = GraphBuilder()
    builder.add("a", Conv2d(24, kernel=1))
    builder.add("b", Conv2d(32, kernel=1), "input")
    builder.add("block.add", Add(), ("a", "b"))
    with pytest.raises(CostModelError, match=r"node 'block.add': cannot add inputs of different shapes "
                                             r"24x8x8, 32x8x8"):
        costmodel.analyze(builder.build("bad", input_channels=3, base_resolution=8))


def test_concat_of_unequal_maps():
    builder = GraphBuilder()
    builder.add("a", Conv2d(8, kernel=1, stride=2))
    builder.add("b", Conv2d(8, kernel=1), "input")
    builder.add("cat", Concat(), ("a", "b"))
    with pytest.raises(CostModelError, match="node 'cat': cannot concatenate"):
        costmodel.analyze(builder.build("bad", input_channels=3, base_resolution=8))


def test_a_map_that_shrinks_to_nothing_names_the_layer():
    builder = GraphBuilder()
    builder.add("stem", Conv2d(8, kernel=3, stride=2, padding=1))
    builder.add("head.conv", Conv2d(8, kernel=3))
    network = builder.build("shrinking", input_channels=3, base_resolution=8)
    costmodel.analyze(network)                      # 8 -> 4 -> 2
    with pytest.raises(CostModelError, match=r"node 'head.conv': output size would be 0 .*too small"):
        costmodel.analyze(network, resolution=4)    # 4 -> 2 -> 0


def test_shape_mismatches():
    with pytest.raises(CostModelError, match="linear needs a flat input, got 8x2x2; add a flatten"):
        single(Linear(10), 8, 2)
    with pytest.raises(CostModelError, match=r"conv2d needs an image \(N, C, H, W\) input, got features of 48"):
        builder = GraphBuilder()
        builder.add("flat", Flatten())
        builder.add("conv", Conv2d(8, 1))
        costmodel.analyze(builder.build("bad", input_channels=3, base_resolution=4))
    with pytest.raises(CostModelError, match="cannot split 5 channels into 2"):
        single(Split(2, 0), 5, 4)
    with pytest.raises(CostModelError, match="groups=3 must divide the 8 channels"):
        single(ChannelShuffle(3), 8, 4)
    builder = GraphBuilder()
    builder.add("a", Conv2d(8, kernel=1))
    builder.add("b", Conv2d(4, kernel=1, stride=2), "input")
    builder.add("mul", Multiply(), ("a", "b"))
    with pytest.raises(CostModelError, match="cannot multiply shapes 8x8x8 and 4x4x4"):
        costmodel.analyze(builder.build("bad", input_channels=3, base_resolution=8))


def test_analyze_argument_errors():
    for bad in (0, -0.5, float("nan"), float("inf"), 11, "1", True):
        with pytest.raises(CostModelError, match="alpha"):
            costmodel.analyze("mobilenet_v1", alpha=bad)
    with pytest.raises(CostModelError, match="unknown convention"):
        costmodel.analyze("mobilenet_v1", convention="macs")
    with pytest.raises(CostModelError, match="unknown dtype"):
        costmodel.analyze("mobilenet_v1", dtype="float64")
    with pytest.raises(CostModelError, match="unknown model 'mobilenet_v2x'"):
        costmodel.analyze("mobilenet_v2x")
    with pytest.raises(CostModelError, match="has no option 'groups'"):
        costmodel.analyze("mobilenet_v1", options={"groups": 3})
    with pytest.raises(CostModelError, match="model must be a zoo name, a spec file, file.py:factory, package.module:factory or a Network"):
        costmodel.analyze(42)
    assert issubclass(CostModelError, ValueError)
