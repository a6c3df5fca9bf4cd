"""The fused inference view: by hand on a small network, and against torch's own fusion
(torch.fx.experimental.optimization.fuse folds each BatchNorm into its convolution) counted by fvcore and
FlopCounterMode on the zoo networks."""
import json

import pytest

import costmodel
from costmodel.sources.builder import GraphBuilder
from costmodel.engine.fusion import fuse
from costmodel.ops import Activation, Add, BatchNorm, Conv2d, Fused

from helpers import run


def small():
    """conv 3->8 3x3 (no bias), BN, ReLU; conv 8->8 1x1, BN; add with the first block, ReLU; on 8x8."""
    g = GraphBuilder()
    g.add("c1", Conv2d(8, 3, padding=1), ("input",))
    g.add("b1", BatchNorm(), ("c1",))
    g.add("r1", Activation("relu"), ("b1",))
    g.add("c2", Conv2d(8, 1), ("r1",))
    g.add("b2", BatchNorm(), ("c2",))
    g.add("sum", Add(), ("b2", "r1"))
    g.add("out", Activation("relu"), ("sum",))
    return g.build("small", base_resolution=(8, 8))


def test_a_small_network_fused_by_hand():
    network = fuse(small())
    assert [(node.name, node.op.covers, node.inputs) for node in network.nodes] == [
        ("c1", ("c1", "b1", "r1"), ("input",)),
        ("c2", ("c2", "b2"), ("c1",)),
        ("sum", ("sum", "out"), ("c2", "c1")),
    ]
    result = costmodel.analyze(small(), fused=True)
    c1, c2, add = result.layers
    # c1: 3*9*8 weights + 8 biases (the folded BatchNorm's); 64 positions x 27 x 8 mult-adds
    assert c1.params == 3 * 9 * 8 + 8 and c1.madds == 64 * 27 * 8
    # 2 per mult-add, a bias and a ReLU per output element
    assert c1.flops == 2 * 64 * 27 * 8 + 64 * 8 + 64 * 8
    # the input read, the weights and biases read, the output written once (BatchNorm and ReLU fused)
    assert c1.memory_access == 3 * 64 + (3 * 9 * 8 + 8) + 8 * 64
    assert c2.params == 8 * 8 + 8 and c2.memory_access == 8 * 64 + 72 + 8 * 64
    # the add reads two maps and writes one; its ReLU adds arithmetic, no traffic
    assert add.params == 0 and add.flops == 8 * 64 + 8 * 64 and add.memory_access == 3 * 8 * 64
    assert result.totals["params"] == 224 + 72
    unfused = costmodel.analyze(small())
    assert unfused.totals["params"] == 3 * 9 * 8 + 16 + 64 + 16            # BatchNorm's gamma and beta
    assert unfused.totals["madds"] == result.totals["madds"]


def test_fusion_keeps_a_node_read_twice_or_returned():
    g = GraphBuilder()
    g.add("c1", Conv2d(8, 3, padding=1), ("input",))
    g.add("b1", BatchNorm(), ("c1",))
    g.add("side", Activation("relu"), ("c1",))           # c1 has two readers: BatchNorm stays apart
    g.add("sum", Add(), ("b1", "side"))
    network = fuse(g.build("twice", base_resolution=(8, 8)))
    assert [type(node.op).__name__ for node in network.nodes] == ["Conv2d", "BatchNorm", "Activation", "Add"]
    g = GraphBuilder()
    g.add("c1", Conv2d(8, 3, padding=1), ("input",))
    g.add("b1", BatchNorm(), ("c1",))
    assert isinstance(fuse(g.build("tail", base_resolution=(8, 8))).nodes[0].op, Fused)


def test_a_kernel_that_shares_its_weights_keeps_sharing_them():
    """A convolution called twice (an imported module's second call shares the first's weights), each time with
    a ReLU: two kernels, the weights counted once (3 * 9 * 8 = 216)."""
    from costmodel.core.ir import Network, Node

    conv = Conv2d(8, 3, padding=1)
    first = Conv2d(3, 3, padding=1)
    network = Network("shared", (Node("pre", first, ("input",)), Node("c", conv, ("pre",)),
                                 Node("r", Activation("relu"), ("c",)), Node("pre2", first, ("input",), shares="pre"),
                                 Node("c2", conv, ("pre2",), shares="c"), Node("r2", Activation("relu"), ("c2",)),
                                 Node("sum", Add(), ("r", "r2"))), base_resolution=(8, 8))
    fused = costmodel.analyze(network, fused=True)
    assert [node.shares for node in fuse(network).nodes] == ["", "", "pre", "c", ""]
    assert fused.totals["params"] == costmodel.analyze(network).totals["params"] == 3 * 9 * 3 + 3 * 9 * 8


def test_the_fused_view_on_the_command_line(capsys):
    status, out, err = run(["table", "mobilenet_v2", "--fused", "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["fused"] is True
    first = document["layers"][0]
    assert first["name"] == "features.0.0" and first["covers"] == ["features.0.0", "features.0.1", "features.0.2"]
    status, out, err = run(["table", "mobilenet_v2", "--fused"], capsys)
    assert "fused view" in out.splitlines()[0]


torch = pytest.importorskip("torch")
pytest.importorskip("fvcore")

NETWORKS = ["mobilenet_v1", "mobilenet_v2", "mobilenet_v3_large", "shufflenet_v2", "resnet50", "efficientnet_b0",
            "mnasnet_a1", "ghostnet", "mobilevit_xxs"]


@pytest.mark.slow
@pytest.mark.parametrize("name", NETWORKS)
def test_the_fused_view_counts_what_torch_fusion_leaves(name):
    from torch.fx.experimental.optimization import fuse as torch_fuse
    from torch.utils.flop_counter import FlopCounterMode

    from costmodel.lowering.to_torch import to_torch
    from costmodel.lowering.verify import quiet_reference_tools

    module = torch_fuse(to_torch(name).eval())
    x = torch.zeros(1, *costmodel.analyze(name).input_shape.sample)
    with quiet_reference_tools():
        from fvcore.nn import FlopCountAnalysis

        fvcore_total = (FlopCountAnalysis(module, x).unsupported_ops_warnings(False)
                        .uncalled_modules_warnings(False).tracer_warnings("none").total())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert costmodel.analyze(name, fused=True).totals["params"] == sum(p.numel() for p in module.parameters())
    assert costmodel.analyze(name, fused=True, convention="fvcore").totals["flops"] == fvcore_total
    assert costmodel.analyze(name, fused=True, convention="flop_counter").totals["flops"] == \
        counter.get_total_flops()
