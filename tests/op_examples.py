"""The small networks the completeness tests build around each op's examples (``OpDef.examples``): the op reads an
input of its example's layout, made from a 4-channel image, or the nodes of the example's prelude."""
from costmodel.sources.builder import GraphBuilder
from costmodel.ops import Example, Flatten, OpDef, Permute, Transpose

# How each layout is made from the N x 4 x H x W image input.
LAYOUT_PRELUDES = {
    "NCHW": (),
    "NC": (("flatten", Flatten(), ("input",)),),
    "NCL": (("flatten", Flatten(2), ("input",)),),
    "NLC": (("flatten", Flatten(2), ("input",)), ("tokens", Transpose(1, 2), ("flatten",))),
    "NHWC": (("channels_last", Permute((0, 2, 3, 1)), ("input",)),),       # a 4-D tensor not named an image
}


def as_example(op_def: OpDef, example) -> Example:
    return example if isinstance(example, Example) else Example(example)


def example_network(op_def: OpDef, example, channels: int = 4, size=(6, 6)):
    """The network of one example: its prelude (or the nodes making its layout), then the op, named ``op``."""
    example = as_example(op_def, example)
    builder = GraphBuilder()
    prelude = example.prelude or LAYOUT_PRELUDES[example.layout or op_def.example_input]
    source = "input"
    for name, op, inputs in prelude:
        source = builder.add(name, op, inputs)
    inputs = example.inputs or (source,) * example.op.arity[0]
    builder.add("op", example.op, inputs)
    return builder.build(f"one_{op_def.spec.name}", input_channels=channels, base_resolution=size)


def example_networks(op_def: OpDef, channels: int = 4, size=(6, 6)):
    return [example_network(op_def, example, channels, size) for example in op_def.examples]
