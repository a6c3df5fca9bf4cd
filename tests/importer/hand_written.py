"""The hand-written torch modules the importer's tests and the training checks import: each re-creates a pattern of
the seed papers' code or of timm's and torchvision's models, with the input it takes."""
import models
import torch_blocks

HAND_WRITTEN = {
    "functional": (lambda: models.FunctionalNet(), (3, 32, 32)),
    "squeeze_excite": (lambda: models.SqueezeExciteNet(), (3, 16, 16)),
    "attention_sdpa": (lambda: models.TokenAttention("sdpa"), (3, 32, 32)),
    "attention_matmul": (lambda: models.TokenAttention("matmul"), (3, 32, 32)),
    "attention_mha": (lambda: models.TokenAttention("mha"), (3, 32, 32)),                 # torch's fused kernel
    "attention_mha_unfused": (lambda: models.TokenAttention("mha", heads=1, need_weights=True), (3, 24, 24)),
    "mobilenet_v1": (lambda: torch_blocks.MobileNetV1(), (3, 96, 96)),
    "inverted_residual": (lambda: torch_blocks.InvertedResidual(16, 24, 2, 6), (16, 20, 20)),
    "squeeze_excite_block": (lambda: torch_blocks.SqueezeExcite(32), (32, 9, 9)),
    "sandglass": (lambda: torch_blocks.Sandglass(32, 4), (32, 10, 10)),
    "shuffle_v1": (lambda: torch_blocks.ShuffleV1Unit(24, 48, 2, 3), (24, 12, 12)),
    "shuffle_v2": (lambda: torch_blocks.ShuffleV2Unit(48, 48, 1), (48, 10, 10)),
    "inception": (lambda: torch_blocks.InceptionModule(32, 16, 8, 16, 4, 8, 8), (32, 10, 10)),
    "xception": (lambda: torch_blocks.XceptionSeparable(32, 64), (32, 10, 10)),
    "blaze": (lambda: torch_blocks.BlazeBlock(24, 24, 1), (24, 16, 16)),
    "blaze_stride": (lambda: torch_blocks.BlazeBlock(24, 48, 2), (24, 16, 16)),
}
