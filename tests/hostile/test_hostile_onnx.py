"""Hostile ONNX files (issue 22, items 3, 4, 6 and 7): each is built here with onnx.helper, without onnx's checker
(so that a malformed file can be written), and run through ``costmodel table``. Each case checks the exit status,
the one line (naming the file, the node and what is wrong) and that nothing is left on disk. onnxruntime 1.32
refuses the malformed graphs here as well (an axis out of range, a repeated perm, an index out of bounds, a cycle,
a missing input, Resize's infinite scales), and onnx's checker the tensors whose data do not match their dims;
where costmodel used to count such a file, the test says what it printed."""
import os
import resource
import time

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from helpers import one_line, run  # noqa: E402

IMAGE = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])


def save(tmp_path, nodes, initializers=(), output="y", opset=17, name="hostile.onnx"):
    """A model of ``nodes`` on the image input ``x`` (1 x 3 x 8 x 8), returning ``output``; saved unchecked."""
    graph = helper.make_graph(nodes, "g", [IMAGE], [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)],
                              initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / name
    path.write_bytes(model.SerializeToString())
    return path


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def refused(tmp_path, capsys, path, *fragments):
    """``costmodel table path`` ends in one line holding ``fragments`` and the file's name, quickly, leaving the
    folder as it was."""
    before = sorted(os.listdir(tmp_path))
    start = time.perf_counter()
    status, out, err = run(["table", str(path)], capsys)
    assert time.perf_counter() - start < 10
    line = one_line(status, err)
    assert out == "" and path.name in line, line
    for fragment in fragments:
        assert fragment in line, line
    assert sorted(os.listdir(tmp_path)) == before
    return line


def peak_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024         # Linux reports KiB


# 3. Small inputs never take unbounded memory or time ---------------------------------------------------------------

@pytest.mark.parametrize("sizes, elements", [([400_000_000], "400,000,000"),          # 1.6 GB of float32
                                             ([1 << 20, 1 << 20, 1 << 10], "1,125,899,906,842,624")])   # 4 PiB
def test_3_a_constant_of_shape_asking_for_gigabytes_is_refused_before_allocating(tmp_path, capsys, sizes, elements):
    """A MemoryError traceback (or 1.6 GB allocated) before: the size is checked before anything is made."""
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"]),
                           helper.make_node("ConstantOfShape", ["shape"], ["huge"], name="huge")],
                [ints("shape", sizes)])
    assert path.stat().st_size < 300
    before = peak_bytes()
    refused(tmp_path, capsys, path, "node 'huge' (ConstantOfShape)", f"a constant of {elements} elements",
            "more than the limit of 65,536")
    assert peak_bytes() - before < 200 << 20


def test_3_the_constants_of_one_file_are_bounded_in_all(tmp_path, capsys):
    """Each constant is at most 65,536 elements, and all those one mapping evaluates at most 2^24: 300 nodes of
    65,536 elements each (19,660,800 in all) are refused at the 257th."""
    nodes = [helper.make_node("ConstantOfShape", ["shape"], [f"c{i}"]) for i in range(300)]
    path = save(tmp_path, [*nodes, helper.make_node("Relu", ["x"], ["y"])], [ints("shape", [65_536])])
    refused(tmp_path, capsys, path, "node #256 (ConstantOfShape): the constants evaluated so far hold more than "
            "16,777,216 elements, the limit")


def external(name, dims, location, offset=None, length=None, data_type=TensorProto.FLOAT):
    """An initializer whose data is in file ``location`` (beside the model) at ``offset``, ``length`` bytes."""
    tensor = TensorProto()
    tensor.name, tensor.data_type = name, data_type
    tensor.dims.extend(dims)
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", offset), ("length", length)):
        if value is not None:
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(value)
    return tensor


def test_3_unused_external_data_is_never_read(tmp_path, capsys):
    """2 GB of external data that no node reads (6.3 GB of memory and a segfault under a 4 GB cap before): the
    counts need its dims only. The convolution's weight (4 x 3 x 3 x 3) is read from the same file."""
    weight = np.arange(108, dtype=np.float32)
    with open(tmp_path / "weights.bin", "wb") as stream:
        stream.write(weight.tobytes())
        stream.truncate(432 + 2_000_000_000)                  # sparse: no disk is used
    path = save(tmp_path, [helper.make_node("Conv", ["x", "w"], ["y"])],
                [external("w", [4, 3, 3, 3], "weights.bin", 0, 432),
                 external("unused", [500_000_000], "weights.bin", 432, 2_000_000_000)])
    before, start = peak_bytes(), time.perf_counter()
    status, out, err = run(["table", str(path), "--format", "json"], capsys)
    assert status == 0, err
    import json

    totals = json.loads(out)["totals"]
    assert totals["params"] == 108 + 500_000_000               # the weight, and 2e9 bytes of float32
    assert totals["madds"] == 4 * 3 * 3 * 3 * 6 * 6            # 3x3 without padding: a 6x6 output
    assert time.perf_counter() - start < 10 and peak_bytes() - before < 500 << 20
    assert sorted(os.listdir(tmp_path)) == ["hostile.onnx", "weights.bin"]


@pytest.mark.parametrize("make, message", [
    (lambda d: external("w", [1000], "w.bin", 0, 4000), "asks for bytes 0 to 4,000 of 'w.bin', which holds 100"),
    (lambda d: external("w", [1000], "w.bin"), "(1,000 elements, 4,000 bytes) but its external data is 100 bytes"),
    (lambda d: external("w", [1000], "w.bin", 0, 8), "declares dims [1000] (1,000 elements, 4,000 bytes) but its "
                                                      "external data is 8 bytes"),
    (lambda d: external("w", [25], "../w.bin"), "must be a relative path inside the model's folder"),
    (lambda d: external("w", [25], "/etc/passwd"), "must be a relative path inside the model's folder"),
    (lambda d: external("w", [25], "nothing.bin"), "cannot read its external data 'nothing.bin'"),
    (lambda d: external("w", [25], "w.bin", "1e2"), "external data offset must be a non-negative integer"),
    (lambda d: (os.symlink("/dev/zero", d / "zero.bin"), external("w", [25], "zero.bin"))[1],
     "is a symbolic link or outside the model's folder"),
    (lambda d: (os.mkfifo(d / "fifo.bin"), external("w", [25], "fifo.bin"))[1], "is not a regular file"),
])
def test_3_external_data_is_checked_against_its_file_unread(tmp_path, capsys, make, message):
    """Each declared range is checked against the file's size, and the file must be a regular file inside the
    model's folder (a FIFO would hang a read; /dev/zero would never end)."""
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "w.bin").write_bytes(bytes(100))
    (tmp_path / "w.bin").write_bytes(bytes(100))
    path = save(model_dir, [helper.make_node("Relu", ["x"], ["y"])], [make(model_dir)])
    refused(model_dir, capsys, path, "initializer 'w'", message)


def declared(dims, field=None, values=(), raw=None):
    """Float initializer ``w`` of ``dims`` with ``values`` in ``field`` (and ``raw`` bytes in raw_data) as given,
    unchecked (onnx.helper would refuse them)."""
    tensor = TensorProto()
    tensor.name, tensor.data_type = "w", TensorProto.FLOAT
    tensor.dims.extend(dims)
    if field:
        getattr(tensor, field).extend(values)
    if raw is not None:
        tensor.raw_data = raw
    return tensor


@pytest.mark.parametrize("tensor, message", [
    (declared([10 ** 12]), "declares dims [1000000000000] (1,000,000,000,000 elements) but holds no data"),
    (declared([10 ** 12, 10 ** 12]), "declares 1,000,000,000,000,000,000,000,000 elements"),
    (declared([1000], raw=bytes(8)), "holds 8 bytes of data, not 4,000"),
    (declared([10], field="float_data", values=[1.0, 2.0, 3.0]), "holds 3 values of data, not 10"),
    (declared([-5]), "has a negative dim"),
    (declared([3], field="int64_data", values=[1, 2, 3]), "its values of type FLOAT cannot be held in int64_data"),
    (declared([3], field="float_data", values=[1.0, 2.0, 3.0], raw=bytes(12)),
     "holds its values in more than one field (float_data, raw_data)"),
])
def test_7_an_initializer_whose_dims_have_no_data_behind_them(tmp_path, capsys, tensor, message):
    """10^24 parameters were counted for an initializer holding no data: its data must match its dims."""
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"])], [tensor])
    refused(tmp_path, capsys, path, "initializer 'w'", message)


# 4. Importing is linear in the graph's size ------------------------------------------------------------------------

@pytest.mark.slow          # graphs of 20,000 nodes
def test_4_a_long_chain_of_unnamed_or_scoped_nodes_imports_in_linear_time(tmp_path):
    """20,000 unnamed Relu nodes took 55 s (the unique-name search started from 1 for every node), and as many
    nodes each in its own module scope about as long (every scope was compared with every other)."""
    from costmodel.sources.importer.onnx_graph import OnnxModel

    count = 20_000
    for named in (False, True):
        nodes = [helper.make_node("Relu", [f"v{i - 1}" if i else "x"], [f"v{i}"],
                                  name=f"/block{i}/Relu" if named else "") for i in range(count)]
        path = save(tmp_path, nodes, output=f"v{count - 1}", name=f"chain_{named}.onnx")
        start = time.perf_counter()
        network = OnnxModel(str(path)).network()
        assert time.perf_counter() - start < 20
        names = [node.name for node in network.nodes]
        expected = [f"block{i}" for i in range(count)] if named else ["relu"] + [f"relu_{i}" for i in range(1, count)]
        assert names == expected


def test_4_a_name_taken_before_its_suffix_is_skipped():
    """The builder keeps the next free suffix of each base: names stay those of the search from 1."""
    from costmodel.sources.importer.mapping import GraphMapper
    from costmodel.core.ir import INPUT

    builder = GraphMapper()
    given = [builder.name(base) for base in ("a", "a_2", "a", "a", "a", INPUT, INPUT, "a_1")]
    assert given == ["a", "a_2", "a_1", "a_3", "a_4", "input_1", "input_2", "a_1_1"]


# 6. No traceback from any malformed graph --------------------------------------------------------------------------

def test_6_a_cycle_and_an_unsorted_graph(tmp_path, capsys):
    nodes = [helper.make_node("Relu", ["b"], ["a"], name="A"), helper.make_node("Relu", ["a"], ["b"], name="B"),
             helper.make_node("Add", ["x", "a"], ["y"])]
    refused(tmp_path, capsys, save(tmp_path, nodes), "node 'A' (Relu) reads 'b' before node 'B' (Relu) makes it",
            "the graph has a cycle, or its nodes are not in topological order")


def test_6_a_node_reading_a_value_nothing_makes(tmp_path, capsys):
    path = save(tmp_path, [helper.make_node("Relu", ["ghost"], ["y"])])
    refused(tmp_path, capsys, path, "node #0 (Relu) reads 'ghost', which no node, graph input or initializer makes")


def test_6_a_graph_output_nothing_makes(tmp_path, capsys):
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["r"])], output="ghost")
    refused(tmp_path, capsys, path, "its output 'ghost' is made by no node, input or initializer")


@pytest.mark.parametrize("node, message", [
    (helper.make_node("Conv", ["x"], ["y"]), "node #0 (Conv) has 1 input; Conv takes 2 to 3"),
    (helper.make_node("Relu", ["x", "x"], ["y"]), "node #0 (Relu) has 2 inputs; Relu takes 1"),
    (helper.make_node("Relu", ["x"], ["y", "z"]), "node #0 (Relu) has 2 outputs; Relu takes 1"),
    (helper.make_node("Add", ["x"], ["y"]), "node #0 (Add) has 1 input; Add takes 2"),
    (helper.make_node("MaxPool", ["x"], ["y"]), "node #0 (MaxPool) lacks its required attribute 'kernel_shape'"),
    (helper.make_node("Transpose", ["x"], ["y"], perm=1.5), "attribute 'perm' must be of type INTS"),
])
def test_6_a_node_whose_inputs_outputs_or_attributes_its_op_does_not_take(tmp_path, capsys, node, message):
    refused(tmp_path, capsys, save(tmp_path, [node]), message)


@pytest.mark.parametrize("node, message", [
    (helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1]),
     "pads [1, 1, 1] must have 4 values, one per side of each spatial axis"),
    (helper.make_node("Conv", ["x", "w"], ["y"], pads=[-1, -1, -1, -1]), "pads [-1, -1, -1, -1] must be non-negative"),
    (helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], pads=[0, -2, 0, -2]), "must be non-negative"),
    (helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], strides=[0, 0]), "strides [0, 0] must be positive"),
    (helper.make_node("MaxPool", ["x"], ["y"], kernel_shape=[0, 2]), "kernel_shape [0, 2] must be positive"),
    (helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[5, 5]), "kernel_shape [5, 5] differs from its weight's "
                                                                       "3x3"),
    (helper.make_node("Pad", ["x", "pads"], ["y"]), "its pads [1, 1, 1] must have 8 values"),
])
def test_6_bad_pads_strides_and_kernels(tmp_path, capsys, node, message):
    path = save(tmp_path, [node], [floats("w", np.zeros((4, 3, 3, 3))), ints("pads", [1, 1, 1])])
    refused(tmp_path, capsys, path, f"node #0 ({node.op_type})", message)


@pytest.mark.parametrize("scale", [float("inf"), float("nan")])
def test_6_resize_with_scales_that_are_not_finite(tmp_path, capsys, scale):
    """``int(inf)`` raised an OverflowError (NaN a ValueError) before."""
    path = save(tmp_path, [helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest",
                                            coordinate_transformation_mode="asymmetric")],
                [floats("scales", [1, 1, scale, scale])])
    refused(tmp_path, capsys, path, "node #0 (Resize): its scales must be finite numbers")


def test_6_clip_with_nan(tmp_path, capsys):
    path = save(tmp_path, [helper.make_node("Clip", ["x", "low", "high"], ["y"])],
                [floats("low", float("nan")), floats("high", 6.0)])
    refused(tmp_path, capsys, path, "node #0 (Clip): its min is NaN")


def test_6_shape_of_an_initializer_is_its_dims(tmp_path, capsys):
    """An AttributeError before: the shape of an initializer is its dims (1 x 192 here), and reshaping the
    3 x 8 x 8 image to it flattens it."""
    import json

    path = save(tmp_path, [helper.make_node("Shape", ["k"], ["sizes"]),
                           helper.make_node("Reshape", ["x", "sizes"], ["y"])], [ints("k", np.zeros((1, 192)))])
    status, out, err = run(["table", str(path), "--format", "json"], capsys)
    assert status == 0, err
    assert json.loads(out)["layers"][-1]["output_shape"] == [192]


def test_6_a_convolution_of_a_constant(tmp_path, capsys):
    path = save(tmp_path, [helper.make_node("Conv", ["c", "w"], ["z"], name="on_constant"),
                           helper.make_node("Relu", ["x"], ["y"])],
                [floats("c", np.zeros((1, 3, 8, 8))), floats("w", np.zeros((4, 3, 3, 3)))])
    refused(tmp_path, capsys, path, "node 'on_constant' (Conv): none of its inputs is computed from the image input")


@pytest.mark.parametrize("text, message", [
    ("['', 'features'" + ", 'x'" * 5000 + "]", "is 25,016 characters long, more than the limit of 10,000"),
    ("[" * 5000 + "]" * 5000, "is not a list of names (SyntaxError)"),       # deeper than Python's parser nests
    ("-" * 9000 + "1", "is not a list of names"),                            # a RecursionError in literal_eval
    ("['a', 'b'", "is not a list of names (SyntaxError)"),
])
def test_6_node_metadata_literal_eval_chokes_on(tmp_path, capsys, text, message):
    node = helper.make_node("Relu", ["x"], ["y"], name="meta")
    for key in ("pkg.torch.onnx.name_scopes", "pkg.torch.onnx.class_hierarchy"):
        entry = node.metadata_props.add()
        entry.key, entry.value = key, text
    refused(tmp_path, capsys, save(tmp_path, [node]), "node 'meta' (Relu): its metadata pkg.torch.onnx.name_scopes",
            message)


@pytest.mark.parametrize("nodes, message", [
    ([helper.make_node("Gather", ["x", "seven"], ["y"], axis=1)], "index [7] is out of bounds for axis 1 of size 3"),
    ([helper.make_node("Reshape", ["x", "two_minus"], ["y"])], "has a negative size other than one -1"),
    ([helper.make_node("Squeeze", ["x", "one"], ["y"])], "it squeezes axis 1 of size 3"),
    ([helper.make_node("Split", ["x", "split"], ["y", "z"], axis=1)], "its split [2, 2] is not 2 non-negative sizes "
                                                                       "adding up to the 3 of axis 1"),
    ([helper.make_node("Slice", ["x", "zero", "one", "one", "zero"], ["y"])], "a step of 0"),
    ([helper.make_node("ConstantOfShape", ["two_minus"], ["c"]), helper.make_node("Relu", ["x"], ["y"])],
     "its shape [-1, -1] has a negative size"),
    ([helper.make_node("Div", ["seven", "zero"], ["c"]), helper.make_node("Relu", ["x"], ["y"])],
     "it divides integers by zero"),
])
def test_6_values_onnx_refuses(tmp_path, capsys, nodes, message):
    path = save(tmp_path, nodes, [ints("seven", 7), ints("two_minus", [-1, -1]), ints("one", [1]),
                                  ints("split", [2, 2]), ints("zero", [0])])
    refused(tmp_path, capsys, path, f"node #0 ({nodes[0].op_type})", message)


# 7. Never a wrong number: axes outside the rank are refused, not wrapped -------------------------------------------

RANGE = "is out of range for a tensor of rank 4 (it must be in [-4, 3])"


@pytest.mark.parametrize("node, message", [
    (helper.make_node("Transpose", ["x"], ["y"], perm=[0, 5, 7]), "perm [0, 5, 7] is not a permutation of the 4 axes"),
    (helper.make_node("Transpose", ["x"], ["y"], perm=[0, 1, 1, 3]), "perm [0, 1, 1, 3] is not a permutation"),
    (helper.make_node("Gather", ["x", "index"], ["y"], axis=5), f"axis 5 {RANGE}"),
    (helper.make_node("ReduceMean", ["x"], ["y"], axes=[5]), f"axes 5 {RANGE}"),
    (helper.make_node("ReduceMean", ["x"], ["y"], axes=[2, -2]), "axes [2, -2] repeat an axis"),
    (helper.make_node("LayerNormalization", ["x", "scale"], ["y"], axis=9), f"axis 9 {RANGE}"),
    (helper.make_node("Flatten", ["x"], ["y"], axis=9), "axis 9 is out of range for a tensor of rank 4 (it must be "
                                                        "in [-4, 4])"),
    (helper.make_node("Softmax", ["x"], ["y"], axis=5), f"axis 5 {RANGE}"),
    (helper.make_node("Squeeze", ["x", "seven"], ["y"]), f"axes 7 {RANGE}"),
    (helper.make_node("Unsqueeze", ["x", "seven"], ["y"]), "axes 7 is out of range for a tensor of rank 5"),
    (helper.make_node("Split", ["x"], ["y", "z"], axis=7), f"axis 7 {RANGE}"),
    (helper.make_node("Slice", ["x", "zero", "one", "seven"], ["y"]), f"axes 7 {RANGE}"),
    (helper.make_node("Concat", ["x", "x"], ["y"], axis=7), f"axis 7 {RANGE}"),
])
def test_7_an_axis_outside_the_rank_is_refused(tmp_path, capsys, node, message):
    """Each was wrapped modulo the rank and counted: perm [0, 5, 7] made a 32 x 3 x 32 tensor."""
    path = save(tmp_path, [node], [ints("index", 1), ints("seven", [7]), ints("zero", [0]), ints("one", [1]),
                                   floats("scale", np.ones(8))])
    refused(tmp_path, capsys, path, f"node #0 ({node.op_type})", message)


# Bounds on what a file declares ------------------------------------------------------------------------------------

@pytest.mark.parametrize("dims", [[1, 3, 100_000, 8], [1, 0, 8, 8], [1, 3, -8, 8]])
def test_3_an_input_size_past_the_bounds(tmp_path, capsys, dims):
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "big_input.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    refused(tmp_path, capsys, path, f"its input 'x' declares sizes {dims}",
            "channels must be in [1, 1,000,000] and each side in [1, 65,536]")


def test_3_more_nodes_than_a_network_holds(tmp_path, capsys):
    """The same bound as a spec's: 200,000 nodes, checked before any node is read."""
    graph = helper.make_graph([], "g", [IMAGE], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    graph.node.extend([helper.make_node("Relu", ["x"], ["y"])] * 200_001)
    path = tmp_path / "many.onnx"
    path.write_bytes(helper.make_model(graph).SerializeToString())
    refused(tmp_path, capsys, path, "200,001 nodes is more than the limit of 200,000")


def test_7_an_opaque_output_shape_that_is_not_a_size(tmp_path, capsys):
    """An op costmodel does not know takes its output shape from ONNX's shape inference, which keeps what the file
    declares: a negative size is refused, not counted."""
    node = helper.make_node("Mystery", ["x"], ["y"], domain="example.custom", name="mystery")
    graph = helper.make_graph([node], "g", [IMAGE], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, -5])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("example.custom", 1)])
    path = tmp_path / "mystery.onnx"
    path.write_bytes(model.SerializeToString())
    refused(tmp_path, capsys, path, "node 'mystery' (Mystery): cannot import Mystery: its output shape [1, -5]")


def test_6_a_graph_that_crashes_onnx_shape_inference(tmp_path, capsys):
    """onnx's shape inference is a segmentation fault on a LayerNormalization whose axis is 2^31 and which outputs
    its mean (onnx 1.23): it runs in a child process, so the crash ends in one line. The LayerNormalization reads a
    permuted tensor, which costmodel leaves to inference."""
    nodes = [helper.make_node("Reshape", ["x", "five"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[2, 0, 1, 3, 4]),
             helper.make_node("LayerNormalization", ["t", "scale"], ["y", "mean"], axis=1 << 31, name="norm")]
    path = save(tmp_path, nodes, [ints("five", [1, 3, 1, 8, 8]), floats("scale", np.ones(8))], opset=19)
    refused(tmp_path, capsys, path, "node 'norm' (LayerNormalization): cannot import LayerNormalization (its output "
            "shape is unknown")


@pytest.mark.parametrize("child, reason", [
    ("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)", "crashed on this graph, signal 11"),
    ("import signal, sys, time; signal.alarm(int(sys.argv[2])); time.sleep(30)", "did not finish within 1 s"),
    ("import sys; sys.stdout.write('not a graph')", "answered with something other than shapes"),
])
def test_6_shape_inference_runs_apart(monkeypatch, child, reason):
    """Whatever happens to the child (a crash, its time limit, an answer that is not a graph), the sizes are
    unknown and the reason is one line."""
    from costmodel.sources.importer import onnx_inference

    monkeypatch.setattr(onnx_inference, "CHILD", child)
    monkeypatch.setattr(onnx_inference, "TIME_LIMIT", 1)
    model = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [IMAGE], []))
    assert onnx_inference.inferred_sizes(model) == ({}, f"ONNX's shape inference {reason}")


def test_7_unnamed_nodes_after_a_linear_layer_are_all_mapped(tmp_path, capsys):
    """A MatMul whose bias Add it takes in marked that Add done by its name: with unnamed nodes, every later
    unnamed node was skipped (here the Relu, and the file had no output). 64 tokens of 3 features to 4: 768
    mult-adds and 4 x 3 + 4 parameters; the ReLU on 64 x 4 values: 256 FLOPs."""
    import json

    nodes = [helper.make_node("Reshape", ["x", "tokens"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1]), helper.make_node("MatMul", ["t", "w"], ["m"]),
             helper.make_node("Add", ["m", "b"], ["a"]), helper.make_node("Relu", ["a"], ["y"])]
    path = save(tmp_path, nodes, [ints("tokens", [1, 3, 64]), floats("w", np.ones((3, 4))), floats("b", np.ones(4))])
    status, out, err = run(["table", str(path), "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    relu = [layer for layer in document["layers"] if layer["kind"] == "activation"]
    assert [layer["flops"] for layer in relu] == [256]
    assert document["totals"]["madds"] == 768 and document["totals"]["params"] == 16
