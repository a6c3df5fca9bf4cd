"""Issue 24: the patterns of timm's and torchvision's models that the importer met badly, each re-created in a small
hand-written module (no timm or torchvision needed). Counts are worked by hand from the layers' formulas."""
import collections

import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import costmodel  # noqa: E402


def _shifted_attention(x, qkv_weight, qkv_bias, heads: int, shift: int):
    """torchvision's ``shifted_window_attention``, in small: it branches on sizes (which torch.fx cannot trace, so
    torchvision wraps it), rolls the map, zeroes the k bias in a copy, and adds a mask made in forward."""
    b, h, w, c = x.shape
    if shift >= h:
        shift = 0
    if shift:
        x = torch.roll(x, shifts=(-shift, -shift), dims=(1, 2))
    bias = qkv_bias.clone()
    bias[c:2 * c].zero_()
    qkv = nn.functional.linear(x.reshape(b, h * w, c), qkv_weight, bias)
    q, k, v = qkv.reshape(b, h * w, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    mask = x.new_zeros((h * w, h * w))
    mask[: h * w // 2, h * w // 2:] = -100.0
    attn = (q @ k.transpose(-2, -1) + mask).softmax(-1)
    return (attn @ v).transpose(1, 2).reshape(b, h, w, c)


def _merge(x):
    """torchvision's ``_patch_merging_pad``: the four pixels of each 2 x 2 patch joined along the channels."""
    return torch.cat([x[..., 0::2, 0::2, :], x[..., 1::2, 0::2, :], x[..., 0::2, 1::2, :], x[..., 1::2, 1::2, :]], -1)


def _assigns_into(x):
    y = x * 2
    y[..., 0] = 0
    return y


torch.fx.wrap("_shifted_attention")
torch.fx.wrap("_merge")
torch.fx.wrap("_assigns_into")


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


class _ContinuousBias(nn.Module):
    """Swin V2's attention: a continuous position bias, an MLP over a buffer of coordinates gathered by an index
    buffer and squashed (``16 * sigmoid``), and a learned logit scale clamped and exponentiated; timm's and
    torchvision's Swin V2, VitRelPos and MaxViT-RMLP compute so on the weights alone."""

    def __init__(self, heads=2):
        super().__init__()
        self.heads = heads
        self.conv = nn.Conv2d(3, 8, 1)
        self.register_buffer("coords", torch.zeros(1, 5, 5, 2))
        self.cpb_mlp = nn.Sequential(nn.Linear(2, 16), nn.ReLU(inplace=True), nn.Linear(16, heads, bias=False))
        self.register_buffer("index", torch.randint(0, 25, (9, 9)))
        self.logit_scale = nn.Parameter(torch.zeros(heads, 1, 1))

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)                             # N x 9 x 8
        n, tokens, c = x.shape
        q = x.reshape(n, tokens, self.heads, -1).transpose(1, 2)               # N x 2 x 9 x 4
        attn = (q @ q.transpose(-2, -1)) * torch.clamp(self.logit_scale, max=4.6).exp()
        table = self.cpb_mlp(self.coords).view(-1, self.heads)                 # 25 x 2
        bias = table[self.index.view(-1)].view(tokens, tokens, -1).permute(2, 0, 1).contiguous()
        attn = attn + (16 * torch.sigmoid(bias)).unsqueeze(0)
        return attn.softmax(-1) @ q


@pytest.mark.parametrize("capture", ["auto", "export"])
def test_a_computation_on_the_weights_alone_counts_once_per_forward(capture):
    """It was refused: "cannot import Linear on the buffer ...: a computation on the weights alone" (it ended in a
    traceback before). The MLP runs on the 25 coordinates once per forward pass, whatever the batch, as torch
    runs it; the logit scale's clamp and exp are listed as not counted (no reference counts them either)."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _ContinuousBias().eval()
    network = costmodel.from_torch(module, (3, 3, 3), capture=capture)
    result = costmodel.analyze(network)
    assert set(result.not_counted()) <= {"clamp", "exp", "Tensor.exp"} and sum(result.not_counted().values()) == 2
    # params: conv 3*8 + 8, fc1 2*16 + 16, fc2 16*2, the logit scale 2 (the coordinates and index are buffers)
    assert result.totals["params"] == 32 + 48 + 32 + 2
    # the tensors of the weights read: the logit scale, the coordinates, the gathered table (a 2x9x9 copy)
    assert sorted((layer.params, layer.activation) for layer in result.layers if layer.kind == "weights") == \
        [(0, 0), (0, 162), (2, 0)]
    # mult-adds: conv 9*8*3 per image; fc1 25*2*16 and fc2 25*16*2 once; q k^T and attn q 2 heads*9*9*4 per image
    mlp, per_image = 800 + 800, 216 + 2 * 648
    assert result.totals["madds"] == mlp + per_image
    assert costmodel.analyze(network, batch=3).totals["madds"] == mlp + 3 * per_image
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == mlp + per_image   # one per MAC
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(3, 3, 3, 3))
    counted = costmodel.analyze(network, batch=3, convention="flop_counter").totals["flops"]
    assert counted == counter.get_total_flops() == 2 * (mlp + 3 * per_image)


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


def _stochastic_depth(x, p: float, mode: str, training: bool = True):
    """torchvision.ops.stochastic_depth's signature (the real one draws a random mask in training)."""
    return x if not training or p == 0.0 else x * torch.bernoulli(torch.full_like(x, 1 - p))


_stochastic_depth.__name__ = "stochastic_depth"


def drop_path(x, drop_prob: float = 0.0, training: bool = False, scale_by_keep: bool = True):
    """timm.layers.drop_path's signature."""
    return x if drop_prob == 0.0 or not training else x / (1 - drop_prob)


class _BatchNormAct2d(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a BatchNorm2d subclass whose forward calls F.batch_norm, then an activation."""

    def forward(self, x):
        x = nn.functional.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, self.training,
                                     self.momentum, self.eps)
        return nn.functional.relu(x)


class _Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bn = _BatchNormAct2d(8)

    def forward(self, x):
        y = self.bn(self.conv(x))
        return x + drop_path(_stochastic_depth(y, 0.2, "row", self.training), 0.1, self.training)


def test_stochastic_depth_drop_path_and_functional_batch_norm_are_counted():
    """torchvision's stochastic_depth (488 nodes in 15 models) and timm's drop_path are the input itself at
    inference; timm's BatchNormAct2d calls F.batch_norm (24 timm CNNs missed fvcore's count by 0.1-5%). All three
    were opaque, left uncounted."""
    result = costmodel.analyze(costmodel.from_torch(_Block().eval(), (8, 8, 8)))
    assert result.not_counted() == {}
    assert [layer.kind for layer in result.layers] == ["conv", "batchnorm", "activation", "add"]
    # params: the conv's 8*8*9 and the BatchNorm's weight and bias (its running statistics are buffers)
    assert result.totals["params"] == 576 + 16
    fvcore_view = costmodel.analyze(costmodel.from_torch(_Block().eval(), (8, 8, 8)), convention="fvcore")
    # fvcore (shared/reference/fvcore-conventions.md): a conv's MACs, and 2 per element of a BatchNorm with affine
    # parameters in eval mode; ReLU and the add count 0
    assert fvcore_view.totals["flops"] == 8 * 8 * 8 * 72 + 2 * 8 * 8 * 8


class _RelativePosition(nn.Module):
    """BoTNet's relative position logits: a parameter transposed, then multiplied with the queries."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.rel = nn.Parameter(torch.zeros(5, 8))

    def forward(self, x):
        q = self.conv(x).flatten(2).transpose(1, 2)            # N x 16 x 8
        return q @ self.rel.transpose(0, 1)


def test_a_product_with_a_parameter_transposed_is_a_linear_layer():
    """``self.rel.transpose(0, 1)`` ended in AttributeError: 'Learned' object has no attribute 'shape' (BoTNet),
    then was refused as a computation on the weights alone. A transpose computes nothing; the product of the
    queries with that matrix is a linear layer without bias."""
    result = costmodel.analyze(costmodel.from_torch(_RelativePosition().eval(), (3, 4, 4)))
    assert result.not_counted() == {}
    assert [layer.kind for layer in result.layers][-1] == "linear"
    # params: the conv's 3*8 + 8, the matrix's 5*8; mult-adds: the conv 16 * 8 * 3, the product 16 * 8 * 5
    assert result.totals["params"] == 32 + 40
    assert result.totals["madds"] == 384 + 640


class _BatchAxisMoved(nn.Module):
    """ConViT: a view that moves the batch axis, then a function of it (not an unbind)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        tokens = self.conv(x).flatten(2).transpose(1, 2)           # N x 16 x 8
        return tokens.permute(1, 0, 2).softmax(dim=-1)


def test_a_function_of_a_view_that_moves_the_batch_axis_is_refused_in_one_line():
    """It ended in AttributeError: 'Permuted' object has no attribute 'shape' (ConViT)."""
    from costmodel.core.errors import CostModelError

    with pytest.raises(CostModelError) as refused:
        costmodel.from_torch(_BatchAxisMoved().eval(), (3, 4, 4))
    assert "\n" not in str(refused.value)
    assert "cannot import softmax on a view that moves the batch axis" in str(refused.value)


class _AutocastRegion(nn.Module):
    """timm's EfficientViT (MIT): attention computed in a ``torch.autocast(enabled=False)`` region, which
    torch.export captures as a higher-order op whose body is a sub-module of the program (``submod_1``)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        x = self.conv(x).flatten(2)                               # N x 8 x 16
        with torch.autocast(device_type="cpu", enabled=False):
            x = x.float()
            x = (x.transpose(-1, -2) @ x) * 2.0                   # N x 16 x 16
        return x


def test_a_region_of_an_exported_program_is_mapped_inline():
    """It ended in AttributeError: 'NoneType' object has no attribute 'submod_1' (EfficientViT B0-B2), then was
    refused ("the body of a higher-order op"). The region's ops count as the caller's."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _AutocastRegion().eval()
    network = costmodel.from_torch(module, (3, 4, 4), capture="export")
    result = costmodel.analyze(network)
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 8 + 8
    assert result.totals["madds"] == 16 * 8 * 3 + 16 * 16 * 8          # the conv, the product
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 4, 4))
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == counter.get_total_flops()


class _TokenMixing(nn.Module):
    """MLP-Mixer's token mixing (gMLP's spatial gate and CaiT's talking heads are the same pattern): a Linear over
    the tokens, applied to the tokens transposed (N x C x L), whose last axis is not the channels."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 2, stride=2)         # 16 tokens of 8 channels on 8x8
        self.tokens = nn.Linear(16, 12)
        self.back = nn.Linear(12, 16)

    def forward(self, x):
        x = self.stem(x).flatten(2)                      # N x C x L
        return self.back(torch.relu(self.tokens(x))).transpose(1, 2)


def test_a_linear_layer_reads_the_last_axis_whatever_it_holds():
    """It was refused: "costmodel's linear layer reads the channels (C) last" (MLP-Mixer, gMLP, CaiT). torch's
    Linear reads the last axis, here the tokens."""
    result = costmodel.analyze(costmodel.from_torch(_TokenMixing().eval(), (3, 8, 8)))
    assert result.not_counted() == {}
    # params: the stem 8*3*4 + 8, the token Linears 16*12 + 12 and 12*16 + 16
    assert result.totals["params"] == 104 + 204 + 208
    # mult-adds: the stem 16 positions * 8 * 12, each Linear 8 rows (channels) * 16 * 12
    assert result.totals["madds"] == 16 * 96 + 2 * 8 * 16 * 12


class _ChannelsLastConv(nn.Module):
    """CoaT's convolutional position encoding and iFormer's mixers: a convolution of a 4-D tensor that costmodel
    did not name an image (tokens reshaped to N x C x H x W through a transpose; here a map permuted to channels
    last, which torch reads with H as the channels); and BatchNorm1d of tokens transposed to N x C x L
    (NextViT)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 1)
        self.conv = nn.Conv2d(6, 5, 3, padding=1)       # reads 6 "channels": the height of the map
        self.norm = nn.BatchNorm1d(5)

    def forward(self, x):
        x = self.conv(self.stem(x).permute(0, 2, 3, 1))    # N x 6 x 7 x 4 read as an image: N x 5 x 7 x 4
        return self.norm(x.flatten(2))                      # N x 5 x 28


def test_2d_layers_read_any_4d_tensor_and_batch_norm_1d_reads_axis_1():
    """It was refused: "needs an image, got 16x56x56" (CoaT, iFormer, LowFormer's ConvTranspose2d), and
    BatchNorm1d on N x C x L was left uncounted (NextViT)."""
    network = costmodel.from_torch(_ChannelsLastConv().eval(), (3, 6, 7))
    result = costmodel.analyze(network, convention="fvcore")
    assert result.not_counted() == {}
    # params: the stem 3*4 + 4, the conv 6*5*9 + 5, the BatchNorm 2*5
    assert result.totals["params"] == 16 + 275 + 10
    # fvcore: the stem 42 positions * 4 * 3, the conv 28 positions * 5 * 54, the BatchNorm 2 per element (140)
    assert result.totals["flops"] == 42 * 12 + 28 * 270 + 2 * 140


class _BlockedAttention(nn.Module):
    """NesT: attention within blocks, called on 5-D tensors (N x blocks x heads x tokens x features)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)

    def forward(self, x):
        tokens = self.conv(x).flatten(2).transpose(1, 2)                     # N x 16 x 8
        q = tokens.reshape(-1, 2, 8, 2, 4).permute(0, 1, 3, 2, 4)           # N x 2 blocks x 2 heads x 8 x 4
        return nn.functional.scaled_dot_product_attention(q, q, q)


def test_attention_called_at_rank_5_takes_torchs_math_path():
    """NesT's flop_counter count was 1.18G short: torch runs a 5-D call on its math path (two bmm, which
    FlopCounterMode counts); costmodel took it for the flash kernel, which it counts as 0."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _BlockedAttention().eval()
    result = costmodel.analyze(costmodel.from_torch(module, (3, 4, 4)), convention="flop_counter")
    # the conv: 16 positions * 8 * 3 mult-adds; attention: B L S (E + E_v) = (2 * 2) * 8 * 8 * (4 + 4); 2 each
    assert result.totals["flops"] == 2 * 384 + 2 * 2048
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 4, 4))
    assert counter.get_total_flops() == result.totals["flops"]


class _ReadsAnAttribute(nn.Module):
    """A call the fx trace's graph cannot be mapped at (an attribute of a traced tensor passed on as a value),
    which torch.export resolves while it captures."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.conv(x)
        return nn.functional.dropout(y, 0.5, training=y.requires_grad)


def test_where_the_traced_graph_cannot_be_mapped_the_module_is_exported_instead():
    """The automatic capture fell back to torch.export only where the fx trace itself failed, not where its graph
    could not be mapped; and a constant the module makes in its forward is refused in one line."""
    from costmodel.core.errors import CostModelError

    with pytest.raises(CostModelError, match="cannot read 'requires_grad' of a traced value"):
        costmodel.from_torch(_ReadsAnAttribute().eval(), (3, 4, 4), capture="fx")
    network = costmodel.from_torch(_ReadsAnAttribute().eval(), (3, 4, 4))
    assert "torch.export" in network.source and "cannot read 'requires_grad'" in network.source
    result = costmodel.analyze(network)
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 4 + 4 and result.totals["madds"] == 16 * 4 * 3


class _MadeInForward(nn.Module):
    """A Fourier position encoding: a constant made in forward from the map's size, then a convolution of it. XCiT
    makes one grid and repeats the convolution's result over the batch; EdgeNeXt makes one grid per image
    (``torch.zeros(B, H, W)``), so its convolution runs once per image."""

    def __init__(self, per_image: bool):
        super().__init__()
        self.per_image = per_image
        self.conv = nn.Conv2d(3, 4, 1)
        self.projection = nn.Conv2d(2, 4, 1)

    def forward(self, x):
        y = self.conv(x)
        b, _, h, w = y.shape
        grid = torch.zeros((b if self.per_image else 1, 2, h, w), dtype=y.dtype).to(y.device)
        position = self.projection(grid)
        return y + (position if self.per_image else position.repeat(b, 1, 1, 1))


def test_a_layer_of_a_constant_made_once_per_forward_is_counted_once():
    """XCiT was refused ("a layer of constants ... a trace of one image cannot tell which"): the fx trace records
    where each size comes from, and this grid reads none of the batch's. Its convolution is a computation on the
    weights, counted once per forward pass whatever the batch, as torch runs it."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _MadeInForward(per_image=False).eval()
    result = costmodel.analyze(costmodel.from_torch(module, (3, 4, 4)), batch=3, convention="flop_counter")
    assert result.totals["params"] == 3 * 4 + 4 + 2 * 4 + 4
    # per image: the conv's 16 positions * 3 * 4; once: the projection's 16 positions * 2 * 4
    assert result.totals["madds"] == 3 * 192 + 128
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(3, 3, 4, 4))
    assert counter.get_total_flops() == result.totals["flops"] == 2 * (3 * 192 + 128)


def test_a_layer_of_a_constant_made_per_image_is_counted_per_image():
    """EdgeNeXt was refused (a layer of constants). Its grid has the batch's size (the fx trace shows it read from
    ``x.shape``): the layer runs on one grid per image, counted per image; what makes the grid (zeros, cumulative
    sums, sines) is listed as not counted, one tensor made per image."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _MadeInForward(per_image=True).eval()
    result = costmodel.analyze(costmodel.from_torch(module, (3, 4, 4)), batch=3, convention="flop_counter")
    assert result.not_counted() == {"a tensor made in forward per image": 1}
    assert result.totals["params"] == 3 * 4 + 4 + 2 * 4 + 4
    assert result.totals["madds"] == 3 * (192 + 128)           # both convolutions, per image
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(3, 3, 4, 4))
    assert counter.get_total_flops() == result.totals["flops"] == 2 * 3 * (192 + 128)


@pytest.mark.parametrize("per_image", [True, False])
def test_a_layer_of_a_constant_in_an_exported_program_is_refused_in_one_line(per_image):
    """EdgeNeXt exported ended in AttributeError: 'torch.Size' object has no attribute 'rank'. An exported
    program's sizes are numbers with no record of where they came from: made once or once per image cannot be
    told, and the layer is refused."""
    from costmodel.core.errors import CostModelError

    with pytest.raises(CostModelError) as refused:
        costmodel.from_torch(_MadeInForward(per_image).eval(), (3, 4, 4), capture="export")
    assert "\n" not in str(refused.value)
    assert "projection" in str(refused.value) and "on a constant tensor the module makes in its forward" in \
        str(refused.value)


class _GroupNorm1(nn.GroupNorm):
    """timm's GroupNorm1 (PoolFormer, SHViT): an nn.GroupNorm subclass whose forward calls F.group_norm."""

    def __init__(self, channels):
        super().__init__(1, channels)

    def forward(self, x):
        return nn.functional.group_norm(x, self.num_groups, self.weight, self.bias, self.eps)


def test_functional_group_norm_is_counted():
    """F.group_norm was left uncounted (PoolFormer, SHViT, LowFormer, RegNetY-SGN, MobileViT-V2: 10 models)."""
    model = nn.Sequential(nn.Conv2d(3, 6, 1), _GroupNorm1(6)).eval()
    result = costmodel.analyze(costmodel.from_torch(model, (3, 5, 5)), convention="fvcore")
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 6 + 6 + 2 * 6
    # fvcore (shared/reference/fvcore-conventions.md): the conv's 25 * 6 * 3 MACs, 5 per element of a GroupNorm
    assert result.totals["flops"] == 25 * 18 + 5 * 150


class _EfficientChannelAttention(nn.Module):
    """timm's EcaModule (ECA-ResNet, ECA-VoVNet, ECA-BoTNeXt): a Conv1d across the pooled channels, the gate
    broadcast with ``expand_as``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        y = x.mean((2, 3)).view(x.shape[0], 1, -1)
        y = self.conv(y).view(x.shape[0], -1, 1, 1).sigmoid()
        return x * y.expand_as(x)


def test_conv1d_and_a_gate_broadcast_with_expand_as_are_counted():
    """Conv1d and expand_as were left uncounted (ECA: 5 models)."""
    model = nn.Sequential(nn.Conv2d(3, 8, 1), _EfficientChannelAttention()).eval()
    result = costmodel.analyze(costmodel.from_torch(model, (3, 4, 4)), convention="fvcore")
    assert result.not_counted() == {}
    assert [layer.kind for layer in result.layers if layer.kind not in ("reshape", "flatten")] == \
        ["pointwise", "global_pool", "conv1d", "activation", "mul"]
    assert result.totals["params"] == 3 * 8 + 8 + 3
    # fvcore: the 1x1 conv's 16 * 8 * 3 MACs, the Conv1d's 8 positions * 3 taps; the mean, the sigmoid and the
    # multiply 0 (unsupported)
    assert result.totals["flops"] == 16 * 24 + 8 * 3


class _WindowAttention(nn.Module):
    """Swin's, MaxViT's and DaViT's windowed attention: the map cut into windows merged into the batch
    (``reshape(-1, ws * ws, C)``), multi-head attention within each window, the windows put back (``view(-1, ...)``)."""

    def __init__(self, window=4, heads=2):
        super().__init__()
        self.window, self.heads = window, heads
        self.conv = nn.Conv2d(3, 8, 1)
        self.qkv = nn.Linear(8, 24)
        self.proj = nn.Linear(8, 8)

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)                       # N x H x W x C
        n, h, w, c = x.shape
        ws = self.window
        x = x.view(n, h // ws, ws, w // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, c)
        windows, tokens, _ = x.shape
        q, k, v = self.qkv(x).reshape(windows, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        attn = (q @ k.transpose(-2, -1)).softmax(dim=-1)
        x = self.proj((attn @ v).transpose(1, 2).reshape(windows, tokens, -1))
        x = x.view(-1, h // ws, w // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, h, w, c)
        return x.permute(0, 3, 1, 2)


def test_windows_merged_into_the_batch_are_counted():
    """Windowed attention was refused ("cannot view [7, 7, 96] as [8, 8, 7, 7, 96]", DaViT; MaxViT's windows
    became an opaque view with a 64th of the real size). The batch merged with the windows is a batch of windows;
    every count, which reads whole tensors, is that of the image."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _WindowAttention().eval()
    network = costmodel.from_torch(module, (3, 8, 8))
    result = costmodel.analyze(network, convention="flop_counter")
    assert result.not_counted() == {}
    # params: conv 3*8 + 8, qkv 8*24 + 24, proj 8*8 + 8
    assert result.totals["params"] == 32 + 216 + 72
    # mult-adds: conv 64 * 8 * 3; qkv 64 tokens * 8 * 24; q k^T and attn v: 4 windows * 2 heads * 16 * 16 * 4 each;
    # proj 64 * 8 * 8
    madds = 1536 + 12288 + 2 * 8192 + 4096
    assert costmodel.analyze(network).totals["madds"] == madds
    assert result.totals["flops"] == 2 * madds
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 8, 8))
    assert counter.get_total_flops() == result.totals["flops"]
    # a batch of 3 images: 3 times every count (the merged batch is 3 x 4 windows)
    assert costmodel.analyze(network, batch=3).totals["madds"] == 3 * madds


class _RelativeBiasAttention(nn.Module):
    """Swin's, MaxViT's and CoAtNet's relative position bias: a table gathered by an index buffer, viewed and
    permuted (no arithmetic), added to the attention scores; and a mask buffer added too (Swin's shifted windows)."""

    def __init__(self, side=3, heads=2):
        super().__init__()
        tokens = side * side
        self.heads = heads
        self.conv = nn.Conv2d(3, 8, 1)
        self.qkv = nn.Linear(8, 24)
        self.table = nn.Parameter(torch.zeros((2 * side - 1) ** 2, heads))
        self.register_buffer("index", torch.randint(0, (2 * side - 1) ** 2, (tokens, tokens)))
        self.register_buffer("mask", torch.zeros(tokens, tokens))

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)                                      # N x 9 x 8
        n, tokens, c = x.shape
        q, k, v = self.qkv(x).reshape(n, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4).unbind(0)
        bias = self.table[self.index.view(-1)].view(tokens, tokens, -1).permute(2, 0, 1).contiguous()
        attn = q @ k.transpose(-2, -1) + bias.unsqueeze(0)
        attn = (attn + self.mask).softmax(dim=-1)
        return (attn @ v).transpose(1, 2).reshape(n, tokens, c)


def test_a_bias_the_weights_make_added_to_attention_is_counted():
    """Swin's relative position bias was refused: "cannot import _get_relative_position_bias" (torchvision),
    "cannot evaluate view" (timm's Swin, MaxViT, CoAtNet, GCViT). Gathering and viewing the table computes
    nothing; its values count as parameters once, and adding it is an element-wise add."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _RelativeBiasAttention().eval()
    network = costmodel.from_torch(module, (3, 3, 3))
    result = costmodel.analyze(network)
    assert result.not_counted() == {}
    # params: conv 3*8 + 8, qkv 8*24 + 24, the table 25*2 (the index and mask are buffers)
    assert result.totals["params"] == 32 + 216 + 50
    ops = {node.name: node.op.op_name for node in network.nodes}
    terms = [layer for layer in result.layers if ops[layer.name] == "learned_term"]
    assert [(layer.params, layer.flops) for layer in terms] == [(50, 2 * 81), (0, 2 * 81)]   # 1 per score
    # mult-adds: conv 9 * 8 * 3, qkv 9 * 8 * 24, q k^T and attn v 2 heads * 9 * 9 * 4 each
    madds = 216 + 1728 + 2 * 648
    assert result.totals["madds"] == madds
    counted = costmodel.analyze(network, convention="flop_counter").totals["flops"]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 3, 3))
    assert counted == counter.get_total_flops() == 2 * madds


class _BiasedAttention(nn.Module):
    """TinyViT's and EfficientViT-MSRA's attention biases: a table of one bias per head and offset, gathered by an
    index buffer, passed to SDPA as its additive mask (3-D: heads x L x S)."""

    def __init__(self, heads=2, tokens=9):
        super().__init__()
        self.heads = heads
        self.conv = nn.Conv2d(3, 8, 1)
        self.attention_biases = nn.Parameter(torch.zeros(heads, 5))
        self.register_buffer("attention_bias_idxs", torch.randint(0, 5, (tokens, tokens)), persistent=False)

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)                               # N x 9 x 8
        n, tokens, c = x.shape
        q = x.reshape(n, tokens, self.heads, -1).transpose(1, 2)                 # N x 2 x 9 x 4
        bias = self.attention_biases[:, self.attention_bias_idxs]
        return nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=bias)


def test_attention_with_a_mask_the_weights_make_is_counted():
    """SDPA with a mask was left uncounted (TinyViT, timm's Swin, EVA...). A 3-D mask makes torch take its math
    path, which FlopCounterMode counts."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _BiasedAttention().eval()
    network = costmodel.from_torch(module, (3, 3, 3))
    result = costmodel.analyze(network)
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 8 + 8 + 2 * 5                    # the conv and the bias table
    # mult-adds: conv 9 * 8 * 3; attention 2 heads * 9 * 9 * (4 + 4)
    assert result.totals["madds"] == 216 + 1296
    counted = costmodel.analyze(network, convention="flop_counter").totals["flops"]
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 3, 3))
    assert counted == counter.get_total_flops() == 2 * (216 + 1296)


class _LinearNorm(nn.Module):
    """LeViT's LinearNorm: a Linear, then BatchNorm1d of the tokens merged into the batch, viewed back with
    ``reshape_as``; and its subsampling by a strided slice."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.linear = nn.Linear(8, 6, bias=False)
        self.bn = nn.BatchNorm1d(6)

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)                     # N x 16 x 8
        x = self.linear(x)
        x = self.bn(x.flatten(0, 1)).reshape_as(x)
        return x.view(x.shape[0], 4, 4, 6)[:, ::2, ::2]


def test_batch_norm_of_tokens_merged_into_the_batch_and_reshape_as_are_counted():
    """LeViT was refused: "cannot import reshape_as (costmodel could not find its output shape)" (the tokens
    merged into the batch were an opaque view), then at its strided subsampling ("cannot evaluate reshape")."""
    result = costmodel.analyze(costmodel.from_torch(_LinearNorm().eval(), (3, 4, 4)), convention="fvcore")
    assert result.not_counted() == {"index": 1}                 # the strided slice: a copy, no arithmetic
    assert result.totals["params"] == 3 * 8 + 8 + 8 * 6 + 2 * 6
    # fvcore: the conv's 16 * 8 * 3 and the linear's 16 * 8 * 6 MACs, 2 per element of the BatchNorm (96)
    assert result.totals["flops"] == 384 + 768 + 2 * 96


class _PatchUnfoldByReshape(nn.Module):
    """timm's MobileViT: the map cut into 2x2 patches by a reshape that splits the height and width and merges
    the pieces with the batch and channels (``reshape(B * C * nh, ph, nw, pw)``), a Linear over each patch row's
    pixels, and the map put back."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.mix = nn.Linear(2, 2)

    def forward(self, x):
        x = self.conv(x)
        b, c, h, w = x.shape
        x = self.mix(x.reshape(b * c * (h // 2), 2, w // 2, 2))                    # (B C nh) x ph x nw x pw
        return x.reshape(b, c, h, w)


def test_reshapes_that_split_axes_and_merge_their_pieces_are_views():
    """timm's MobileViT was refused ("cannot view [16, 2, 2] as [64, 256, 4]"): its first reshape splits H into
    (nh, ph) and merges nh with the batch and channels, which no regrouping of whole axes gives."""
    module = _PatchUnfoldByReshape().eval()
    network = costmodel.from_torch(module, (3, 4, 6))
    result = costmodel.analyze(network)
    assert result.not_counted() == {}
    # params: conv 3*4 + 4, mix 2*2 + 2; mult-adds: conv 24 positions * 4 * 3, mix 48 rows of 2 pixels * 2
    assert result.totals["params"] == 16 + 6
    assert result.totals["madds"] == 288 + 48 * 4
    assert tuple(result.layers[-1].output_shape.dims) == tuple(module(torch.zeros(1, 3, 4, 6)).shape)
    assert costmodel.analyze(network, batch=2).totals["madds"] == 2 * (288 + 48 * 4)


class _BlurPool(nn.Module):
    """timm's BlurPool2d (ResNet-Blur, TResNet): a reflecting pad, then F.conv2d with a fixed filter held in a
    buffer."""

    def __init__(self, channels=4):
        super().__init__()
        self.conv = nn.Conv2d(3, channels, 1)
        self.register_buffer("filt", torch.ones(channels, 1, 3, 3) / 9)

    def forward(self, x):
        x = nn.functional.pad(self.conv(x), (1, 1, 1, 1), mode="reflect")
        return nn.functional.conv2d(x, self.filt, stride=2, groups=x.shape[1])


@pytest.mark.parametrize("capture", ["auto", "export"])
def test_a_convolution_with_a_filter_in_a_buffer_has_no_parameters(capture):
    """ResNet-Blur's parameters were 4 x 9 per blur too many (the fixed filter, a buffer, counted as weights);
    then the blur and its reflecting pad were left uncounted (ResNet-Blur and TResNet missed fvcore's count by
    0.1%). The filter is a weights node of no parameters, the convolution counted; the pad is a copy."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _BlurPool().eval()
    result = costmodel.analyze(costmodel.from_torch(module, (3, 6, 6), capture=capture), convention="flop_counter")
    assert result.totals["params"] == 3 * 4 + 4                   # sum(p.numel()): the 1x1 conv alone
    assert result.not_counted() == {}
    # the 1x1 conv: 36 positions * 3 * 4; the blur: 3 x 3 outputs of 4 channels, 9 each
    assert result.totals["madds"] == 432 + 324
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 6, 6))
    assert counter.get_total_flops() == result.totals["flops"] == 2 * (432 + 324)
    assert [layer.kind for layer in result.layers].count("pad") == 1


class _QkvBias(nn.Module):
    """BEiT's and EVA's attention input: q and v biases (parameters) and a zero k bias (a buffer) joined by cat,
    passed to F.linear as its bias."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.qkv = nn.Linear(4, 12, bias=False)
        self.q_bias, self.v_bias = nn.Parameter(torch.zeros(4)), nn.Parameter(torch.zeros(4))
        self.register_buffer("k_bias", torch.zeros(4), persistent=False)

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)                         # N x 9 x 4
        bias = torch.cat((self.q_bias, self.k_bias, self.v_bias))
        return nn.functional.linear(x, self.qkv.weight, bias)


def test_a_bias_joined_from_parameters_and_a_buffer_is_counted():
    """BEiT and EVA were refused: "cat: expected Tensor as element 0 in argument 0, but got Learned"."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _QkvBias().eval()
    network = costmodel.from_torch(module, (3, 3, 3))
    result = costmodel.analyze(network, convention="flop_counter")
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 4 + 4 + 4 * 12 + 2 * 4          # the k bias is a buffer
    # the conv 9 * 4 * 3 and the linear 9 * 4 * 12 mult-adds, 2 FLOPs each; the bias add is not counted
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 3, 3))
    assert result.totals["flops"] == counter.get_total_flops() == 2 * (108 + 432)


class _ScaledStdConv(nn.Module):
    """timm's ScaledStdConv2d (NF-Nets) and StdConv2d (BiT, the ResNet stems of the hybrid ViTs): the filter is
    standardized every forward pass by ``F.batch_norm`` in training mode, then convolved."""

    def __init__(self, gain=True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(4, 3, 3, 3))
        self.bias = nn.Parameter(torch.zeros(4))
        self.gain = nn.Parameter(torch.ones(4, 1, 1, 1)) if gain else None
        self.scale = 27 ** -0.5

    def forward(self, x):
        gain = None if self.gain is None else (self.gain * self.scale).view(-1)
        weight = nn.functional.batch_norm(self.weight.reshape(1, 4, -1), None, None, weight=gain, training=True,
                                          momentum=0.0, eps=1e-6)
        return nn.functional.conv2d(x, weight.reshape_as(self.weight), self.bias, padding=1)


@pytest.mark.parametrize("capture", ["auto", "export"])
@pytest.mark.parametrize("gain", [True, False])
def test_a_standardized_filter_is_counted_once_per_forward(capture, gain):
    """NF-Nets (5 in the sample) and the hybrid ViTs' ResNet stems were "uncounted: batch_norm, conv2d" or refused:
    the standardization is counted once per pass (fvcore's batch_norm in training mode: 5 per element of the
    filter with a weight, 4 without; FlopCounterMode: none), the convolution per image, its filter's values once."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _ScaledStdConv(gain).eval()
    network = costmodel.from_torch(module, (3, 5, 5), capture=capture)
    result = costmodel.analyze(network, batch=2)
    assert result.not_counted() == {}
    assert result.totals["params"] == 108 + 4 + 4 * gain               # filter, bias, gain
    conv = 2 * 25 * 4 * 27                                              # 2 images of 5x5x4 outputs, 27 MACs each
    assert result.totals["madds"] == conv
    assert costmodel.analyze(network, batch=2, convention="fvcore").totals["flops"] == conv + (5 if gain else 4) * 108
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(2, 3, 5, 5))
    assert costmodel.analyze(network, batch=2, convention="flop_counter").totals["flops"] == \
        counter.get_total_flops() == 2 * conv


class _RotaryTokens(nn.Module):
    """DINOv3's and Qwen3-ViT's rotary tables: coordinates made in forward from the token count (a constant),
    over a buffer of periods moved to the input's device, their sine multiplied into the tokens; the prefix
    tokens before them are none here (``x[:, :0]``, an empty slice joined back by ``cat``)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.register_buffer("periods", torch.arange(1, 9, dtype=torch.float32))
        self.prefix = 0

    def forward(self, x):
        x = self.conv(x).flatten(2).transpose(1, 2)                             # N x 9 x 8
        coords = torch.arange(x.shape[1], dtype=torch.float32)                  # made in forward
        rope = torch.sin(coords[:, None] / self.periods[None, :].to(x.device))  # 9 x 8, no image in it
        return torch.cat([x[:, :self.prefix], x[:, self.prefix:] * rope], dim=1)


@pytest.mark.parametrize("capture", ["auto", "export"])
def test_a_table_made_in_forward_from_sizes_and_buffers_is_counted(capture):
    """DINOv3, Qwen3-ViT and DeepSeek's ViT were refused ("cannot import truediv on a constant tensor the module
    makes in its forward"), and Qwen3-ViT's empty prefix slice ended in "channels must be a positive integer, got
    0". The table is computed once per pass (its division is an element-wise op on 72 values, its sine listed as
    not counted) and multiplies every image's tokens."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _RotaryTokens().eval()
    network = costmodel.from_torch(module, (3, 3, 3), capture=capture)
    result = costmodel.analyze(network, batch=2)
    assert sum(result.not_counted().values()) == 1 and set(result.not_counted()) <= {"sin", "Tensor.sin"}
    assert result.totals["params"] == 3 * 8 + 8
    assert result.totals["madds"] == 2 * 9 * 8 * 3                          # the conv, per image
    # costmodel's convention: the conv 2 per MAC and its bias, the table's 72 divisions once, 2 x 72 products
    assert result.totals["flops"] == 2 * (2 * 216 + 72) + 72 + 2 * 72
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(2, 3, 3, 3))
    assert costmodel.analyze(network, batch=2, convention="flop_counter").totals["flops"] == \
        counter.get_total_flops() == 2 * 2 * 216


class _EmptyRead(nn.Module):
    def forward(self, x):
        return x[:, :, :0] * 2


def test_an_empty_slice_read_by_anything_but_cat_is_refused_in_one_line():
    from costmodel.core.errors import CostModelError

    with pytest.raises(CostModelError) as refused:
        costmodel.from_torch(_EmptyRead().eval(), (3, 4, 4), capture="fx")
    assert "\n" not in str(refused.value) and "of an empty slice" in str(refused.value)


class _AveragedHeads(nn.Module):
    """CrossViT's head: the logits of two branches stacked before the batch and averaged over that axis."""

    def __init__(self, then=None):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.heads = nn.ModuleList([nn.Linear(8, 5), nn.Linear(8, 5)])
        self.then = then

    def forward(self, x):
        x = self.conv(x).mean((2, 3))                                          # N x 8
        stacked = torch.stack([head(x) for head in self.heads], dim=0)        # 2 x N x 5
        if self.then == "sum":
            return stacked.sum(0)
        return stacked.softmax(-1) if self.then == "softmax" else torch.mean(stacked, dim=0)


def test_tensors_stacked_before_the_batch_and_averaged_are_their_mean():
    """CrossViT was refused ("dim=0 is out of range for a tokens of 1x1000"): the stack was an opaque call whose
    first axis was taken for the batch. Averaged over that axis, the stack is an add and a scale; read by anything
    else, it is refused in one line."""
    from costmodel.core.errors import CostModelError

    result = costmodel.analyze(costmodel.from_torch(_AveragedHeads().eval(), (3, 2, 2)), batch=3)
    assert result.not_counted() == {}
    assert result.totals["params"] == 3 * 8 + 8 + 2 * (8 * 5 + 5)
    assert result.totals["madds"] == 3 * (4 * 8 * 3 + 2 * 8 * 5)               # conv and heads, per image
    assert [layer.kind for layer in result.layers][-2:] == ["add", "mul"]             # the sum, times 1/2
    # EfficientViM's head sums them (it was refused): the add alone
    summed = costmodel.analyze(costmodel.from_torch(_AveragedHeads("sum").eval(), (3, 2, 2)), batch=3)
    assert summed.not_counted() == {} and summed.totals["madds"] == result.totals["madds"]
    assert [layer.kind for layer in summed.layers][-1:] == ["add"]
    assert summed.totals["flops"] == result.totals["flops"] - 3 * 5                     # no scale of 5 logits
    with pytest.raises(CostModelError) as refused:
        costmodel.from_torch(_AveragedHeads("softmax").eval(), (3, 2, 2), capture="fx")
    assert "\n" not in str(refused.value) and "stacked before the batch axis" in str(refused.value)


class _ChunkedQkvAttention(nn.Module):
    """LowFormer's and CPU-Bone's attention: a 1x1 convolution makes q, k and v as heads x 3E x HW, permuted to
    tokens last-but-one and chunked, so the features of each are not contiguous (torch runs its math path); timm's
    Attention2d calls ``.contiguous()`` on each first (the flash kernel)."""

    def __init__(self, contiguous: bool):
        super().__init__()
        self.contiguous = contiguous
        self.qkv = nn.Conv2d(3, 24, 1)

    def forward(self, x):
        n, _, h, w = x.shape
        q, k, v = self.qkv(x).reshape(n, 2, 12, h * w).permute(0, 1, 3, 2).chunk(3, dim=3)    # N x 2 x HW x 4 each
        if self.contiguous:
            q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        return torch.nn.functional.scaled_dot_product_attention(q, k, v)


@pytest.mark.parametrize("capture", ["auto", "export"])
@pytest.mark.parametrize("contiguous", [False, True])
def test_attention_on_a_query_whose_features_are_not_contiguous_counts_the_math_path(capture, contiguous):
    """The flop_counter convention was short by the attention of LowFormer and CPU-Bone (6.8M of 1.89G in
    LowFormer-B0): torch runs the math path (two bmm, which FlopCounterMode counts) for a query whose last axis is
    not contiguous, where the shapes alone say flash kernel (counted 0). The importer now asks torch which kernel it
    runs, on tensors of the traced sizes and strides."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _ChunkedQkvAttention(contiguous).eval()
    network = costmodel.from_torch(module, (3, 4, 4), capture=capture)
    attention = [node.op for node in network.nodes if node.op.op_name == "attention"]
    assert [op.kernel for op in attention] == ["flash" if contiguous else "math"]
    # conv 16 positions * 3 * 24 mult-adds; the math path's q k^T and weights times v: 2 heads * 16 * 16 * 4 each
    conv, products = 16 * 3 * 24, 2 * (2 * 16 * 16 * 4)
    expected = 2 * conv + (0 if contiguous else 2 * products)
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == expected
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 4, 4))
    assert counter.get_total_flops() == expected


def test_torch_chooses_the_attention_kernel_whatever_the_mask_s_layout():
    """The importer stands a contiguous tensor of the mask's sizes and type for an attention mask made of the
    weights (it does not run the gather and views that make it on meta tensors): torch's choice of kernel reads the
    query's, key's and value's strides, not the mask's. Checked on random layouts of each."""
    import random

    from costmodel.sources.importer import torch_attention

    rng = random.Random(3)

    def laid_out(sizes, dtype=torch.float32):
        order = list(range(len(sizes)))
        rng.shuffle(order)
        if dtype is torch.float32 and rng.random() < 0.7:       # a query, key or value: the features innermost
            order.remove(len(sizes) - 1)
            order.append(len(sizes) - 1)
        spread = rng.choice([1, 1, 2])
        base = torch.empty(*[sizes[axis] for axis in order][:-1], sizes[order[-1]] * spread, dtype=dtype)
        return base[..., ::spread].permute(*[order.index(axis) for axis in range(len(sizes))])

    kernels = collections.Counter()
    for _ in range(300):
        heads, tokens, width = rng.choice([1, 2, 4]), rng.choice([3, 8, 16]), rng.choice([4, 8, 16])
        q, k, v = (laid_out([1, heads, tokens, width]) for _ in range(3))
        dtype = rng.choice([torch.float32, torch.bool])
        sizes = rng.choice([[1, heads, tokens, tokens], [heads, tokens, tokens], [tokens, tokens]])
        mask = laid_out(sizes, dtype) if dtype is torch.bool or rng.random() < 0.5 else \
            laid_out(sizes[:-1] + [1], dtype).expand(sizes)                          # broadcast: strides of 0
        chosen = torch_attention.kernel((q, k, v, mask), {})
        assert chosen == torch_attention.kernel((q, k, v, torch.empty(sizes, dtype=dtype)), {}) != ""
        kernels[chosen] += 1
    assert kernels["flash"] > 30 and kernels["math"] > 30                  # both kernels met


class _MaskedByBias(nn.Module):
    """BEiT's and CoAtNet's attention: the relative position bias (a table gathered by an index, viewed and
    permuted) is the mask of ``F.scaled_dot_product_attention``; the query contiguous or not (chunked)."""

    def __init__(self, chunked: bool, side=3, heads=2):
        super().__init__()
        self.chunked, self.heads, self.tokens = chunked, heads, side * side
        self.qkv = nn.Conv2d(3, 24, 1)
        self.table = nn.Parameter(torch.randn((2 * side - 1) ** 2, heads))
        self.register_buffer("index", torch.randint(0, (2 * side - 1) ** 2, (self.tokens, self.tokens)))

    def forward(self, x):
        n = x.shape[0]
        q, k, v = self.qkv(x).reshape(n, self.heads, 12, self.tokens).permute(0, 1, 3, 2).chunk(3, dim=3)
        if not self.chunked:                       # features not contiguous (the math path) unless made so
            q, k, v = q.contiguous(), k.contiguous(), v.contiguous()
        bias = self.table[self.index.view(-1)].view(self.tokens, self.tokens, -1).permute(2, 0, 1).unsqueeze(0)
        attended = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        return attended.transpose(1, 2).reshape(n, self.tokens, 8)


@pytest.mark.parametrize("chunked", [False, True])
def test_an_attention_masked_by_a_bias_of_the_weights_takes_torch_s_kernel(chunked, monkeypatch):
    """The kernel of an attention whose mask is a relative position bias is torch's (the math path for a chunked
    query, counted by FlopCounterMode; flash otherwise), found without sizing the ops that make the mask."""
    from torch.utils.flop_counter import FlopCounterMode

    from costmodel.sources.importer import torch_sized

    sized = []
    compute = torch_sized.MetaValues.compute

    def recording(self, node, *args):
        sized.append(node.name)
        return compute(self, node, *args)

    monkeypatch.setattr(torch_sized.MetaValues, "compute", recording)
    module = _MaskedByBias(chunked).eval()
    network = costmodel.from_torch(module, (3, 3, 3))
    assert [node.op.kernel for node in network.nodes if node.op.op_name == "attention"] == \
        ["math" if chunked else "flash"]
    graph = torch.fx.Tracer().trace(_MaskedByBias(chunked))            # fx's names, which the importer's trace keeps
    attention = next(node for node in graph.nodes if node.target is torch.nn.functional.scaled_dot_product_attention)
    mask_ops, stack = set(), [attention.kwargs["attn_mask"]]
    while stack:
        node = stack.pop()
        if node.op.startswith("call_"):
            mask_ops.add(node.name)
            stack.extend(node.all_input_nodes)
    assert len(mask_ops) >= 4 and sized and not mask_ops & set(sized)        # the gather and views: not run
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 3, 3))
    # qkv: 9 positions * 3 * 24; the math path: q k^T and the weights times v, 2 heads * 9 * 9 * 4 each
    expected = 2 * (9 * 3 * 24) + (2 * 2 * (2 * 9 * 9 * 4) if chunked else 0)
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == \
        counter.get_total_flops() == expected


class _CrossCovarianceAttention(nn.Module):
    """XCiT's attention: q and k, strided slices of a permuted qkv (B x heads x features x tokens), normalized over
    the tokens, then a features x features attention per head scaled by a learned temperature."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(8, 24)
        self.temperature = nn.Parameter(torch.ones(2, 1, 1))

    def forward(self, x):
        tokens = x.flatten(2).transpose(1, 2)                                               # 1 x 16 x 8
        b, n, c = tokens.shape
        q, k, v = self.qkv(tokens).reshape(b, n, 3, 2, 4).permute(2, 0, 3, 4, 1).unbind(0)   # 1 x 2 x 4 x 16 each
        q = torch.nn.functional.normalize(q, dim=-1)
        k = torch.nn.functional.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(-1)                   # 1 x 2 x 4 x 4
        return (attn @ v).permute(0, 3, 1, 2).reshape(b, n, c)


@pytest.mark.parametrize("capture", ["auto", "sized"])
def test_normalize_of_a_strided_view_is_listed_with_its_sizes(capture):
    """XCiT's import was slower than fvcore's analysis: the sizes of each ``F.normalize`` (which costmodel does not
    count, nor FlopCounterMode) came from torch's meta kernel, 4 ms a call. They are the operand's; the products are
    counted as FlopCounterMode counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _CrossCovarianceAttention().eval()
    result = costmodel.analyze(costmodel.from_torch(module, (8, 4, 4), capture=capture), convention="flop_counter")
    assert result.not_counted() == {"normalize": 2}
    normalized = [layer for layer in result.layers if layer.name.startswith("normalize")]
    assert [tuple(layer.output_shape.dims) for layer in normalized] == [(1, 2, 4, 16)] * 2
    # qkv: 16 tokens * 8 * 24 mult-adds; q k^T and attn v: 2 heads * 4 * 4 * 16 each; 2 FLOPs a mult-add
    expected = 2 * (16 * 8 * 24 + 2 * (2 * 4 * 4 * 16))
    assert result.totals["flops"] == expected
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 8, 4, 4))
    assert counter.get_total_flops() == expected


class _EinsumAttention(nn.Module):
    """MaxViT's attention written with einsum, MViTv2's relative position (an einsum of the queries with a table
    of the weights) and MaxViT-TF's relative position bias (an einsum of two tensors of the weights alone)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.table = nn.Parameter(torch.zeros(4, 4))
        self.bias_table = nn.Parameter(torch.zeros(2, 3, 64))
        self.register_buffer("lookup", torch.zeros(8, 8, 3))

    def forward(self, x):
        n = x.shape[0]
        q = self.conv(x).reshape(n, 2, 4, 64).transpose(-2, -1)                         # N x 2 heads x 64 x 4
        bias = torch.einsum("nhw,ixh->nixw", self.bias_table, self.lookup).reshape(2, 64, 64)
        scores = torch.einsum("b h i d, b h j d -> b h i j", q, q) + bias.unsqueeze(0)
        out = torch.einsum("bhij,bhjd->bhid", scores.softmax(-1), q)
        return out + torch.einsum("bhid,kd->bhik", q, self.table)


@pytest.mark.parametrize("capture", ["auto", "export"])
def test_einsum_that_is_a_batched_matrix_product_is_counted(capture):
    """MaxViT (torchvision), MViTv2 and MaxViT-TF left their einsums uncounted or were refused ("einsum of the
    weights alone"). An einsum whose every index is in the output or in both operands is the bmm torch runs; fvcore
    counts it from numpy's path cost, which it reads as printed to 4 significant digits."""
    from torch.utils.flop_counter import FlopCounterMode
    fvcore = pytest.importorskip("fvcore.nn")

    module = _EinsumAttention().eval()
    network = costmodel.from_torch(module, (3, 8, 8), capture=capture)
    assert costmodel.analyze(network).not_counted() == {}
    # params: conv 3*8 + 8, the table 4*4, the bias table 2*3*64 (the lookup is a buffer)
    assert costmodel.analyze(network).totals["params"] == 32 + 16 + 384
    # mult-adds: conv 64*3*8; q q^T and scores q: 2*64*64*4 each; q with the table 2*64*4*4; the bias 2*3*64*8*8
    conv, product, relative, bias = 1536, 32768, 2048, 24576
    flop_counter = costmodel.analyze(network, convention="flop_counter").totals["flops"]
    assert flop_counter == 2 * (conv + 2 * product + relative + bias)
    # fvcore: numpy's cost of a two-operand contraction is 2 P + 1, printed as %.3e: 65,537 reads 65,540 (32,770
    # halved), 4,097 reads 4,097 (2,048), 49,153 reads 49,150 (24,575)
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == conv + 2 * 32770 + 2048 + 24575
    x = torch.zeros(1, 3, 8, 8)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert counter.get_total_flops() == flop_counter
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = fvcore.FlopCountAnalysis(module, x).unsupported_ops_warnings(False).tracer_warnings("none")
        assert analysis.total() == conv + 2 * 32770 + 2048 + 24575


def test_einsum_of_another_form_is_listed_as_not_counted():
    """An einsum that sums an index away within one operand is no batched matrix product: listed, not guessed."""
    class _Pooled(nn.Module):
        def forward(self, x):
            return torch.einsum("nchw,nc->nc", x, x.mean((2, 3)))

    result = costmodel.analyze(costmodel.from_torch(_Pooled().eval(), (3, 4, 4)))
    assert result.totals["madds"] == 0 and sum(result.not_counted().values()) == 1


def test_a_negative_zero_pad_crops():
    """NASNet's and PNASNet's factorized reduction shifts the map by one pixel with ``ZeroPad2d((-1, 1, -1, 1))``:
    refused ("a padding must be an integer in [0, 8,193), got -1"). A negative pad crops; the shape stays."""
    from torch.utils.flop_counter import FlopCounterMode

    module = nn.Sequential(nn.ZeroPad2d((-1, 1, -1, 1)), nn.AvgPool2d(1, 2, count_include_pad=False),
                           nn.Conv2d(3, 4, 1, bias=False)).eval()
    network = costmodel.from_torch(module, (3, 6, 6))
    result = costmodel.analyze(network, convention="flop_counter")
    assert [layer.kind for layer in result.layers][0] == "pad" and result.layers[0].output_shape.dims == (1, 3, 6, 6)
    assert result.totals["madds"] == 9 * 3 * 4                  # the conv on the 3 x 3 pooled map
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 6, 6))
    assert counter.get_total_flops() == result.totals["flops"] == 2 * 108


@pytest.mark.parametrize("capture", ["auto", "export"])
def test_a_padding_given_as_a_string_is_what_fvcore_does_not_count(capture):
    """ConvMixer's convolutions take ``padding="same"``: torch runs them as ``aten::_convolution_mode``, which
    fvcore does not count (it warns and counts 0), so the fvcore convention was 6% high. FlopCounterMode counts
    them as any convolution."""
    from torch.utils.flop_counter import FlopCounterMode
    fvcore = pytest.importorskip("fvcore.nn")

    module = nn.Sequential(nn.Conv2d(3, 8, 3, padding="same"), nn.Conv2d(8, 8, 1),
                           nn.Conv2d(8, 8, 3, padding="valid", groups=8)).eval()
    network = costmodel.from_torch(module, (3, 6, 6), capture=capture)
    # mult-adds: 36 positions * 8 * 27, 36 * 8 * 8, and the valid depthwise conv's 16 positions * 8 * 9
    assert costmodel.analyze(network).totals["madds"] == 7776 + 2304 + 1152
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == 2304      # the 1x1 conv alone
    x = torch.zeros(1, 3, 6, 6)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert counter.get_total_flops() == costmodel.analyze(network, convention="flop_counter").totals["flops"] == \
        2 * (7776 + 2304 + 1152)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fvcore.FlopCountAnalysis(module, x).unsupported_ops_warnings(False).total() == 2304


class _ResizedGate(nn.Module):
    """GhostNetV3's gate, pooled by 2 then resized back to the map's odd size, and CoaT's downsampling by a scale
    factor of 0.5: resizes that are no whole-number factor of the map."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        y = self.conv(x)
        gate = nn.functional.avg_pool2d(y, 2)
        y = y * nn.functional.interpolate(gate, size=(y.shape[-2], y.shape[-1]), mode="nearest")
        return nn.functional.interpolate(y, scale_factor=0.5, mode="bilinear", align_corners=False)


def test_a_resize_to_a_size_that_is_no_whole_factor_is_counted():
    """GhostNetV3 and CoaT left these resizes uncounted (fvcore's count short by 0.07% and 0.02%). The importer
    maps the graph again at each input size, so the output's size is an exact size of the op."""
    fvcore = pytest.importorskip("fvcore.nn")

    module = _ResizedGate().eval()
    network = costmodel.from_torch(module, (3, 5, 5))
    result = costmodel.analyze(network, convention="fvcore")
    assert result.not_counted() == {} and result.layers[-1].output_shape.dims == (1, 4, 2, 2)
    # fvcore: the conv's 25 positions * 3 * 4; nearest, 1 per output element of 4 x 5 x 5; bilinear 4 per output
    # element of 4 x 2 x 2
    assert result.totals["flops"] == 300 + 100 + 4 * 16
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fvcore.FlopCountAnalysis(module, torch.zeros(1, 3, 5, 5)).unsupported_ops_warnings(False).total() == \
            300 + 100 + 4 * 16
    # at another input size (the graph mapped again): 7 x 7 pools to 3 x 3, resized back to 7 x 7, then to 3 x 3
    seven = costmodel.analyze(costmodel.from_torch(module, (3, 7, 7)), convention="fvcore")
    assert seven.layers[-1].output_shape.dims == (1, 4, 3, 3) and seven.totals["flops"] == 588 + 196 + 4 * 36


class _KeptWhole(nn.Module):
    """torchvision's Swin block in small: attention and patch merging in functions torch.fx keeps whole."""

    def __init__(self, then=None):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 1)
        self.qkv = nn.Linear(8, 24)
        self.reduction = nn.Linear(32, 16)
        self.then = then

    def forward(self, x):
        x = self.conv(x).permute(0, 2, 3, 1)                                    # N x 4 x 4 x 8
        x = x + _shifted_attention(x, self.qkv.weight, self.qkv.bias, 2, 1)
        x = self.reduction(_merge(x))
        return _assigns_into(x) if self.then == "assign" else x


def test_a_function_torch_fx_keeps_whole_is_run_on_the_importers_values():
    """torchvision's Swin and Swin V2 left ``shifted_window_attention`` and ``_patch_merging_pad`` uncounted: fx
    keeps them as one node each. The importer knows every size, so it runs their bodies on its own values; the roll
    and the strided slices stay listed (copies, no arithmetic)."""
    from torch.utils.flop_counter import FlopCounterMode
    fvcore = pytest.importorskip("fvcore.nn")

    module = _KeptWhole().eval()
    network = costmodel.from_torch(module, (3, 4, 4))
    result = costmodel.analyze(network, convention="fvcore")
    assert set(result.not_counted()) <= {"roll", "index", "cat"} and result.not_counted()["roll"] == 1
    # params: conv 3*8 + 8, qkv 8*24 + 24, reduction 32*16 + 16 (the k bias zeroed in a copy is still counted once)
    assert result.totals["params"] == 32 + 216 + 528
    # mult-adds: conv 16*3*8, qkv 16*8*24, q k^T and attn v 2 heads*16*16*4 each, the reduction 4 patches*32*16
    madds = 384 + 3072 + 2 * 2048 + 2048
    assert result.totals["madds"] == madds and result.totals["flops"] == madds
    x = torch.zeros(1, 3, 4, 4)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert counter.get_total_flops() == costmodel.analyze(network, convention="flop_counter").totals["flops"] == \
        2 * madds
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fvcore.FlopCountAnalysis(module, x).unsupported_ops_warnings(False).total() == madds


def test_a_function_kept_whole_whose_body_the_importer_refuses_stays_one_opaque_node():
    """A body that assigns into a tensor computed from the input cannot run on the importer's values: the node it
    made (the product) is taken back, and the call is one node listed as not counted, as before."""
    network = costmodel.from_torch(_KeptWhole("assign").eval(), (3, 4, 4))
    assert costmodel.analyze(network).not_counted()["_assigns_into"] == 1
    assert not any(node.name.endswith(".mul") for node in network.nodes)


class _SizesInPython(nn.Module):
    """The timm models fx could not trace, in small: each makes Python numbers of its sizes. A TensorFlow "same"
    padding computed in Python (timm's ``get_same_padding``: the tf_ ports, NFNet), a pad when the map is not a
    multiple of the window (Twins, CPU-Bone), a branch on the device (EfficientViT), a cache of attention biases by
    device in eval mode (TinyViT), an assignment into a slice of the scores (MViTv2), and a query chunked from a
    permuted projection for ``scaled_dot_product_attention`` (the math kernel on a CPU)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.qkv = nn.Linear(8, 24)
        self.biases = nn.Parameter(torch.zeros(2, 3))
        self.cache = {}

    def forward(self, x):
        import math

        h, w = x.shape[-2:]
        pad_h = max((math.ceil(h / 2) - 1) * 2 + 3 - h, 0)
        pad_w = max((math.ceil(w / 2) - 1) * 2 + 3 - w, 0)
        x = self.conv(nn.functional.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2)))
        b, c, height, width = x.shape
        if height % 2 or width % 2:
            x = nn.functional.pad(x, (0, width % 2, 0, height % 2))
        tokens = x.flatten(2).transpose(1, 2)                                  # B x N x 8
        n = tokens.shape[1]
        q, k, v = self.qkv(tokens).reshape(b, n, 3, 2, 4).permute(2, 0, 3, 1, 4)
        if torch.jit.is_tracing():                                              # as TinyViT: fvcore's trace
            bias = self.biases[:, :1].unsqueeze(-1)
        else:
            key = str(tokens.device)
            if key not in self.cache:
                self.cache[key] = self.biases[:, :1].unsqueeze(-1)           # 2 x 1 x 1
            bias = self.cache[key]
        attn = q @ k.transpose(-2, -1) * 0.5 + bias
        attn[:, :, 0, :] = 0.0
        if v.device.type != "meta":
            with torch.autocast(device_type=v.device.type, enabled=False):
                y = attn.softmax(-1) @ v
        else:
            y = attn.softmax(-1) @ v
        q, k, v = self.qkv(y.transpose(1, 2).reshape(b, n, 8)).reshape(b, n, 3, 2, 4).permute(2, 0, 3, 1, 4)
        return nn.functional.scaled_dot_product_attention(q, k, v)


@pytest.mark.parametrize("size", [(9, 9), (16, 10)])
def test_a_module_that_makes_python_numbers_of_its_sizes_is_traced_at_each_size(size):
    """31 of the sample's 48 models that fx could not trace were captured by torch.export, 2 to 4 times slower than
    fvcore; an fx trace whose proxies carry their sizes (``torch_sized``) runs the module's own arithmetic and
    branches, and is traced again at each size. Counted as torch counts, at both sizes (different branches)."""
    from torch.utils.flop_counter import FlopCounterMode
    fvcore = pytest.importorskip("fvcore.nn")
    from costmodel.sources.importer.torch_graph import TorchModel

    module = _SizesInPython().eval()
    model = TorchModel(module, (3, 9, 9))
    assert model.capture.startswith("torch.fx trace at each input size")
    network = model.network(size)
    assert not any(isinstance(value, torch.fx.Proxy) for value in module.cache.values())
    result = costmodel.analyze(network)
    assert dict(result.not_counted()) == {"setitem": 1}
    if size == (9, 9):
        # padded to 11x11, 5x5 after the stride-2 conv, padded to 6x6: 36 tokens. Mult-adds: the conv 25*8*27,
        # two qkv projections 36*8*24 each, q k^T and attn v 2 heads*36*36*4 each, twice
        assert result.totals["madds"] == 5400 + 2 * 6912 + 4 * 10368
        assert result.totals["params"] == 224 + 216 + 6
    x = torch.zeros(1, 3, *size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(x)
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == counter.get_total_flops()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = fvcore.FlopCountAnalysis(module, x).unsupported_ops_warnings(False).total()
    assert costmodel.analyze(network, convention="fvcore").totals["flops"] == expected


class _CachedBiases(nn.Module):
    """LeViT's and EfficientFormer's attention in eval mode: the biases gathered from a table are cached in a dict
    by the input's device, and only ``train()`` empties the cache."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.table = nn.Parameter(torch.zeros(4, 3))
        self.register_buffer("index", torch.tensor([2, 0, 1, 1]), persistent=False)
        self.cache = {}

    def train(self, mode=True):
        super().train(mode)
        self.cache = {}
        return self

    def forward(self, x):
        key = str(x.device)
        if key not in self.cache:
            self.cache[key] = self.table[:, self.index].reshape(1, 4, 2, 2)
        return self.conv(x) + self.cache[key]


def test_a_proxy_the_module_caches_in_a_trace_is_dropped_after_it():
    """timm's LeViT and EfficientFormer failed from their second import on in one process (``KeyError:
    getitem_6``): the first fx trace left a proxy of its own graph in the module's cache, which the next trace read.
    The trace now takes it out, so each import traces the gather again; a proxy another tracer left there (the
    user's own ``torch.fx`` trace) is taken out before."""
    module = _CachedBiases().eval()
    first = costmodel.analyze(costmodel.from_torch(module, (3, 2, 2)))
    assert not any(isinstance(value, torch.fx.Proxy) for value in module.cache.values())
    second = costmodel.analyze(costmodel.from_torch(module, (3, 2, 2)))
    torch.fx.Tracer().trace(module)                                     # leaves its proxy in the cache
    assert any(isinstance(value, torch.fx.Proxy) for value in module.cache.values())
    third = costmodel.analyze(costmodel.from_torch(module, (3, 2, 2)))
    # the conv: 4 positions * 3 * 4 mult-adds; params 3*4 + 4 and the table's 12
    assert first.totals["madds"] == second.totals["madds"] == third.totals["madds"] == 4 * 3 * 4
    assert first.totals["params"] == second.totals["params"] == third.totals["params"] == 16 + 12


class _RolledByMethod(nn.Module):
    """A map rolled with the tensor method (``x.roll``), then a 1x1 convolution."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)

    def forward(self, x):
        return self.conv(x.roll(shifts=1, dims=3))


def test_a_roll_by_the_tensor_method_keeps_its_sizes_and_is_listed():
    """A roll moves elements and computes none: listed as not counted, of its input's sizes (taken without running
    torch's meta kernel of it, 2 ms a call), so the convolution after it counts the whole 2x5 map."""
    result = costmodel.analyze(costmodel.from_torch(_RolledByMethod(), (3, 2, 5)))
    assert dict(result.not_counted()) == {"Tensor.roll": 1}
    # the 1x1 conv: 2*5 positions * 3 * 4 mult-adds, 3*4 + 4 params
    assert result.totals["madds"] == 10 * 3 * 4 and result.totals["params"] == 16


class _SameSizesUncounted(nn.Module):
    """Calls costmodel lists as not counted whose result has their first operand's sizes: an RMS norm (timm's
    DeepSeek and Gemma encoders), a negation (rotary embeddings), a clamp with number bounds on the map and on a
    parameter (torchvision's Swin V2 logit scale)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.logit_scale = nn.Parameter(torch.zeros(4, 1, 1))
        self.norm_weight = nn.Parameter(torch.ones(5))

    def forward(self, x):
        y = nn.functional.rms_norm(self.conv(x), (5,), self.norm_weight)
        y = (-y).clamp(min=-1.0, max=1.0)
        return y * torch.clamp(self.logit_scale, max=4.6).exp()


def test_uncounted_calls_of_their_operands_sizes_keep_them():
    """Their sizes are their first operand's (taken without torch's meta kernels, 0.1 to 1 ms a call): the map's
    1 x 4 x 2 x 5 after the conv, the parameter's 4 x 1 x 1; each is listed as not counted."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _SameSizesUncounted().eval()
    network = costmodel.from_torch(module, (3, 2, 5))
    sizes = {node.name: node.op.sizes for node in network.nodes if type(node.op).__name__ == "Opaque"}
    assert sizes == {"rms_norm": (4, 2, 5), "neg": (4, 2, 5), "clamp": (4, 2, 5), "clamp_1": (4, 1, 1),
                     "exp": (4, 1, 1)}
    result = costmodel.analyze(network)
    assert dict(result.not_counted()) == {"rms_norm": 1, "neg": 1, "Tensor.clamp": 1, "clamp": 1, "Tensor.exp": 1}
    # the 1x1 conv: 2*5 positions * 3 * 4 mult-adds; params: the conv's 3*4 + 4, the scale's 4, the norm's 5
    assert result.totals["madds"] == 10 * 3 * 4 and result.totals["params"] == 16 + 4 + 5
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 2, 5))
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == counter.get_total_flops()


class _KeepsWhatItSaw(nn.Module):
    """A forward that keeps its values on the module: an attribute it overwrites, one it makes, and a dictionary
    it makes (as a module that keeps its last activation or attention map for a hook does)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.last = None
        self.maps = None

    def forward(self, x):
        y = self.conv(x)
        self.last = y
        self.first_input = x
        self.seen = {"output": y}
        self.maps = collections.OrderedDict(output=y)
        return y


def test_what_a_forward_keeps_on_the_module_is_not_a_proxy_after_the_import():
    """After each trace the module holds no proxy of it: an overwritten attribute has its value back, a made one is
    gone, a made dictionary has its proxies taken out; so a second import counts the same."""
    module = _KeepsWhatItSaw().eval()
    first = costmodel.analyze(costmodel.from_torch(module, (3, 2, 2)))
    assert module.last is None and not hasattr(module, "first_input") and module.seen == module.maps == {}
    second = costmodel.analyze(costmodel.from_torch(module, (3, 2, 2)))
    # the 1x1 conv: 4 positions * 3 * 4 mult-adds, 3*4 + 4 params
    assert first.totals["madds"] == second.totals["madds"] == 4 * 3 * 4
    assert first.totals["params"] == second.totals["params"] == 16


def test_a_branch_on_values_is_not_traced_at_one_size_either():
    """A branch on a tensor's values needs the values: the trace at one size stops there in one line, naming the
    source line."""
    from costmodel.core.errors import CostModelError

    class _Gate(nn.Module):
        def forward(self, x):
            return x * 2 if x.mean() > 0 else x

    with pytest.raises(CostModelError, match=r"^torch.fx cannot trace _Gate at one input size either: .*"
                                             r"test_zoo_patterns.py:\d+: return x \* 2 if x.mean\(\) > 0 else x\)$"):
        costmodel.from_torch(_Gate(), (3, 4, 4), capture="sized")


class _OneHotPositions(nn.Module):
    """Gemma 4's vision encoder, in small: the positions of the tokens as one-hot rows made in forward from the
    sizes (``F.one_hot(...).to(table)``) times a learned table, added to the tokens; it branches on the rank, so fx
    cannot trace it and it is traced at one size."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Conv2d(3, 8, 2, stride=2)
        self.table = nn.Parameter(torch.zeros(2, 4, 8))

    def forward(self, x):
        x = self.proj(x).flatten(2).transpose(1, 2)                           # N x T x 8
        if x.ndim != 3:
            raise ValueError("tokens")
        steps = torch.arange(x.shape[1])
        positions = torch.stack([steps % 4, steps // 4 % 4], -1).unsqueeze(0).expand(x.shape[0], -1, -1)
        one_hot = nn.functional.one_hot(positions, num_classes=4).permute(0, 2, 1, 3).to(self.table)  # N x 2 x T x 4
        return x + (one_hot @ self.table).sum(1)


def test_a_product_of_a_table_made_in_forward_and_the_weights_counts_once_per_forward():
    """The one-hot rows are made from sizes alone (a constant) and multiplied by the table once per forward: the
    product's sizes are the trace's own (its meta value), where costmodel's meta run of the converted constant found
    none and refused the call."""
    from torch.utils.flop_counter import FlopCounterMode

    module = _OneHotPositions().eval()
    network = costmodel.from_torch(module, (3, 6, 8))
    assert network.source.startswith("torch.fx trace at each input size")
    result = costmodel.analyze(network)
    # 3x4 = 12 tokens; mult-adds: the conv 12*8*12, the product of the two axes' one-hot rows and tables 2*12*4*8
    assert result.totals["madds"] == 1152 + 768
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, 3, 6, 8))
    assert costmodel.analyze(network, convention="flop_counter").totals["flops"] == counter.get_total_flops()
