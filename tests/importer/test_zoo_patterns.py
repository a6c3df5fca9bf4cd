"""Issue 24: the patterns of timm's and torchvision's models that the importer met badly, each re-created in a small
hand-written module (no timm or torchvision needed). Counts are worked by hand from the layers' formulas."""
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import costmodel  # noqa: E402


class _Residual(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


def test_module_names_that_are_not_identifiers_keep_their_names():
    """torchvision's RegNet names its blocks ``block1-0``: all 15 RegNets were refused for the name alone. A hyphen
    is kept (the node is named as torch names the module); any other character a node name may not hold (a
    space) becomes ``_``."""
    model = nn.Sequential()
    model.add_module("stem", nn.Conv2d(3, 8, 3, padding=1))
    model.add_module("block1-0", _Residual(8))
    model.add_module("block1-1", _Residual(8))
    model.add_module("head one", nn.Conv2d(8, 4, 1))
    result = costmodel.analyze(costmodel.from_torch(model.eval(), (3, 16, 16)))
    names = [layer.name for layer in result.layers]
    assert names == ["stem", "block1-0.conv", "block1-0.add", "block1-1.conv", "block1-1.add", "head_one"]
    # params: 3*8*9 + 8; each block 8*8*9 + 8; the head 8*4 + 4
    assert result.totals["params"] == 224 + 2 * 584 + 36
    # mult-adds on 16x16: 256 * (8 * 27) + 2 * 256 * (8 * 72) + 256 * (4 * 8)
    assert result.totals["madds"] == 55_296 + 2 * 147_456 + 8_192


class _TableMLP(nn.Module):
    """Swin V2's continuous position bias: a Linear applied to a buffer (a table of coordinates), not to the image."""

    def __init__(self):
        super().__init__()
        self.register_buffer("coords", torch.zeros(1, 7, 7, 2))
        self.mlp = nn.Linear(2, 4)
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        bias = self.mlp(self.coords).permute(0, 3, 1, 2)
        return self.conv(x) + bias.mean()


def test_a_module_applied_to_a_buffer_is_refused_in_one_line():
    """It ended in AttributeError: 'Learned' object has no attribute 'shape' (a traceback)."""
    from costmodel.core.errors import CostModelError

    with pytest.raises(CostModelError) as refused:
        costmodel.from_torch(_TableMLP().eval(), (3, 7, 7))
    message = str(refused.value)
    assert "\n" not in message
    assert "mlp: cannot import Linear on the buffer coords: a computation on the weights alone" in message


class _OptionalMask(nn.Module):
    """timm's VisionTransformer: ``forward(x, attn_mask=None)``, called with the image alone."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x, attn_mask=None, scale: float = 1.0):
        if attn_mask is not None:
            x = x + attn_mask
        return self.conv(x) * scale


def test_a_forward_whose_other_arguments_have_defaults_is_imported_at_them():
    """It was refused: "takes more than one input (attn_mask)". The module is called with one input, so the
    other arguments take their defaults (the mask's branch is not taken; the scale is 1.0)."""
    result = costmodel.analyze(costmodel.from_torch(_OptionalMask().eval(), (3, 8, 8)))
    assert [layer.kind for layer in result.layers] == ["pointwise", "mul"]      # the mask's add is not there
    assert result.totals["params"] == 3 * 4 + 4
    assert result.totals["madds"] == 8 * 8 * 4 * 3
