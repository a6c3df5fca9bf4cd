"""A generated chain network for the scaling benchmark: conv 3x3 + BatchNorm + ReLU, repeated."""
from costmodel.sources.builder import GraphBuilder, conv_bn_act
from costmodel.core.ir import Network
from costmodel.ops import BatchNorm, Conv2d
from costmodel.core.scaling import Scaled


def chain(nodes: int, channels: int = 32) -> Network:
    """A chain of exactly ``nodes`` nodes (groups of conv, BN, ReLU; the last group cut short if needed)."""
    builder = GraphBuilder()
    for block in range(nodes // 3):
        conv_bn_act(builder, f"blocks.{block}", Scaled(channels, "make_divisible"), kernel=3)
    names = ("conv", "bn")
    for i in range(nodes % 3):
        op = Conv2d(Scaled(channels, "make_divisible"), kernel=3, padding=1) if i == 0 else BatchNorm()
        builder.add(f"tail.{names[i]}", op)
    return builder.build(f"chain{nodes}", base_resolution=32)
