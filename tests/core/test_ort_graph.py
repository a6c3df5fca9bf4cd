"""The graph ONNX Runtime runs, mapped onto costmodel's nodes (issue 25, item 3): a residual block exported with
torch's exporter and optimized by ONNX Runtime. What ONNX Runtime does is taken from its documentation of its graph
optimizations: the exporter folds each BatchNorm into its convolution, the extended level fuses a convolution with
the ReLU after it (``FusedConv``) and fuses nothing into an add, and on an x86 CPU the layout level runs
convolutions in a blocked layout (``com.microsoft.nchwc.Conv``), where a convolution also takes the residual add
after it and the ReLU after that (its ``Sum`` input), with layout reorders at the graph's edges."""
import pytest

pytest.importorskip("torch")
pytest.importorskip("onnx")
pytest.importorskip("onnxscript")
pytest.importorskip("onnxruntime")

import costmodel  # noqa: E402
from costmodel.latency.ort_graph import differences, engine_kernels, engine_only, export, fused_groups, \
    optimized_graph  # noqa: E402
from costmodel.ops import Activation, Add, BatchNorm, Conv2d  # noqa: E402
from costmodel.sources.builder import GraphBuilder  # noqa: E402

pytestmark = pytest.mark.slow          # torch's exporter takes seconds


@pytest.fixture(scope="module")
def residual(tmp_path_factory):
    """A stem (conv-BN-ReLU), then a block: conv-BN-ReLU, conv-BN, add of the block's input, ReLU; exported, with
    its analysis."""
    import onnx
    import torch

    from costmodel.lowering.to_torch import to_torch

    builder = GraphBuilder()
    for name, op, inputs in (("conv0", Conv2d(16, 3, 1, 1), ("input",)), ("bn0", BatchNorm(), ("conv0",)),
                             ("relu0", Activation("relu"), ("bn0",)),
                             ("conv1", Conv2d(16, 3, 1, 1), ("relu0",)), ("bn1", BatchNorm(), ("conv1",)),
                             ("relu1", Activation("relu"), ("bn1",)), ("conv2", Conv2d(16, 3, 1, 1), ("relu1",)),
                             ("bn2", BatchNorm(), ("conv2",)), ("add", Add(), ("relu0", "bn2")),
                             ("relu2", Activation("relu"), ("add",))):
        builder.add(name, op, inputs)
    network = builder.build("residual", input_channels=16, base_resolution=(16, 16))
    result = costmodel.analyze(network)
    module = to_torch(network)
    path = str(tmp_path_factory.mktemp("ort") / "residual.onnx")
    export(module, torch.zeros(module.example_input().shape), path)
    return result, path, onnx.load(path, load_external_data=False)


def _kinds(result):
    return {layer.name: layer.kind for layer in result.layers}


def test_the_fused_view_groups_the_block_as_costmodel_fuses_it(residual):
    result, _, _ = residual
    assert fused_groups(result.network) == [("conv0", "bn0", "relu0"), ("conv1", "bn1", "relu1"), ("conv2", "bn2"),
                                            ("add", "relu2")]


def test_the_extended_level_fuses_conv_and_relu_and_leaves_the_add_alone(residual):
    result, path, exported = residual
    kernels = engine_kernels(exported, optimized_graph(path, 1, "extended"), result.network, _kinds(result))
    assert [(kernel.op, kernel.covers) for kernel in kernels] == [
        ("com.microsoft.FusedConv", ("conv0", "bn0", "relu0")), ("com.microsoft.FusedConv", ("conv1", "bn1", "relu1")), ("Conv", ("conv2", "bn2")), ("Add", ("add",)),
        ("Relu", ("relu2",))]
    found = differences(kernels, result.network, _kinds(result))
    assert [difference.pattern for difference in found] == ["add+activation -> Add(add) | Relu(activation)"]
    assert found[0].costmodel == (("add", "relu2"),)
    assert engine_only(kernels) == []


def test_the_blocked_layout_takes_the_residual_add_into_the_convolution(residual):
    result, path, exported = residual
    optimized = optimized_graph(path, 1, "all")
    if not any(node.domain == "com.microsoft.nchwc" for node in optimized.graph.node):
        pytest.skip("this CPU has no blocked layout in ONNX Runtime (it needs AVX2 or better)")
    kernels = engine_kernels(exported, optimized, result.network, _kinds(result))
    computing = [(kernel.op, kernel.covers) for kernel in kernels if kernel.covers]
    assert computing == [("com.microsoft.nchwc.Conv", ("conv0", "bn0", "relu0")),
                         ("com.microsoft.nchwc.Conv", ("conv1", "bn1", "relu1")),
                         ("com.microsoft.nchwc.Conv", ("conv2", "bn2", "add", "relu2"))]
    # the input's reorder into the blocked layout, and the output's back, are the engine's own
    assert {kernel.op for kernel in engine_only(kernels)} == {"com.microsoft.nchwc.ReorderInput",
                                                              "com.microsoft.nchwc.ReorderOutput"}
    found = differences(kernels, result.network, _kinds(result))
    assert [difference.pattern for difference in found] == [
        "conv+batchnorm | add+activation -> com.microsoft.nchwc.Conv(conv+batchnorm+add+activation)"]
