"""The meta values of a trace (``torch_sized``: each node's sizes, strides and type, which decide the attention
kernel torch runs) are laid out as torch's CPU kernels lay out the real values, op by op. The ops whose meta value
``torch_sized`` makes from its operands' layout (element-wise ops, norms, linear layers, interpolation, attention,
``F.normalize`` of a strided view) are checked against the module run on real tensors, node by node."""
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from costmodel.sources.importer import torch_layouts, torch_sized  # noqa: E402

SIZE = (1, 12, 4, 6)


class LayoutRules(torch.nn.Module):
    """One call of each op with a layout rule, on contiguous, transposed and strided operands (XCiT's attention:
    a query and key that are strided slices of a permuted qkv, normalized over their last axis; element-wise ops
    of operands laid out differently, broadcast, in place)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(12, 12, 3, stride=2, padding=2, dilation=2)
        self.bn = torch.nn.BatchNorm2d(12)
        self.act = torch.nn.GELU()
        self.norm = torch.nn.LayerNorm(12)
        self.qkv = torch.nn.Linear(12, 36)
        self.proj = torch.nn.Linear(12, 12)

    def forward(self, x):
        x = self.bn(x) + F.interpolate(self.conv(x), size=(4, 6))
        x = x + F.interpolate(F.interpolate(x, scale_factor=2.0), size=(4, 6))
        strided = x[:, ::2].transpose(2, 3)                     # 1 x 6 x 6 x 4: neither dense nor contiguous
        gated = F.gelu(strided) * torch.sigmoid(x[:, 1::2].mean(2, keepdim=True).transpose(2, 3))
        gated = F.dropout(gated, 0.1, training=False) + F.relu(strided.clone().transpose(1, 2), inplace=True).transpose(1, 2)
        kept = strided * 1.0
        kept.add_(1.0)                                          # in place: the operand itself
        x = x + torch.cat([gated, kept], 1).transpose(2, 3).reshape(1, 12, 4, 6)
        x = x + torch.stack([x[:, :6], x[:, 6:]], 1).flatten(1, 2) + torch.cat([x[:, 6:], x[:, :6]], 1)
        x = F.group_norm(torch.sigmoid(x), 3)
        tokens = x.flatten(2).transpose(1, 2)                  # 1 x 24 x 12, a transposed view
        h = self.norm(self.act(tokens))
        B, N, C = h.shape
        q, k, v = self.qkv(h).reshape(B, N, 3, 3, 4).permute(2, 0, 3, 4, 1).unbind(0)   # 1 x 3 x 4 x 24, strided
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1)).softmax(-1)
        mixed = (attn @ v).permute(0, 3, 1, 2).reshape(B, N, C) + F.linear(tokens, self.proj.weight)
        fused = F.scaled_dot_product_attention(q.transpose(-2, -1), k.transpose(-2, -1), v.transpose(-2, -1))
        return self.proj(mixed * 0.5 + tokens) + fused.transpose(1, 2).reshape(B, N, C)


def _real_values(module, graph):
    """Each node's value (by name) when the graph runs on a real input."""
    real = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, node):
            real[node.name] = super().run_node(node)
            return real[node.name]

    with torch.no_grad():
        Recorder(torch.fx.GraphModule(module, graph)).run(torch.randn(SIZE))
    return real


def _layout(value):
    return tuple(value.shape), value.stride(), value.dtype


def test_each_meta_value_of_a_trace_at_one_size_is_laid_out_as_the_real_value(monkeypatch):
    made_by_rule = []
    rule = torch_layouts.meta_result

    def recording(node, args, kwargs, module):
        value = rule(node, args, kwargs, module)
        if value is not None:
            made_by_rule.append(node.name)
        return value

    monkeypatch.setattr(torch_layouts, "meta_result", recording)
    module = LayoutRules().eval()
    graph = torch_sized.sized_trace(module, SIZE)
    meta = {node.name: node.meta["val"] for node in graph.nodes if isinstance(node.meta.get("val"), torch.Tensor)}
    real = _real_values(module, graph)
    assert {name: _layout(value) for name, value in meta.items()} == \
        {name: _layout(real[name]) for name in meta}
    assert {"conv", "bn", "add", "interpolate", "interpolate_1", "sigmoid", "group_norm", "act", "norm", "qkv",
            "normalize", "normalize_1", "scaled_dot_product_attention", "mul", "proj", "gelu", "dropout", "relu",
            "add_",
            "cat_1", "stack", "linear"} <= set(made_by_rule)
    assert meta["normalize"].stride() == (3 * 4 * 24, 4, 1, 3 * 4)    # dense in the order of q's (864, 4, 1, 36)


def test_the_meta_values_of_an_fx_trace_run_on_a_meta_input_are_laid_out_as_the_real_values():
    """An fx trace keeps no sizes: ``graph_values`` runs it on a meta input (the attention kernel's strides)."""
    module = LayoutRules().eval()
    graph = torch_sized.FastTracer().trace(module)
    values = torch_sized.graph_values(graph, torch_sized.MetaValues(module), SIZE)
    real = _real_values(module, graph)
    tensors = {node.name: value for node, value in values.items() if isinstance(value, torch.Tensor)}
    assert len(tensors) > 20
    assert {name: _layout(value) for name, value in tensors.items()} == \
        {name: _layout(real[name]) for name in tensors}


def _strided(rng, sizes):
    """A tensor of ``sizes`` laid out at random: its axes permuted in memory, and at times a strided slice of a
    larger tensor (so neither dense nor contiguous)."""
    order = list(range(len(sizes)))
    rng.shuffle(order)
    physical = [sizes[axis] for axis in order]
    spread = rng.choice([1, 1, 2])
    base = torch.randn(*physical[:-1], physical[-1] * spread)
    if spread > 1:
        base = base[..., ::spread] if rng.random() < 0.5 else base[..., :physical[-1]]
    return base.permute(*[order.index(axis) for axis in range(len(sizes))])


def test_element_wise_results_are_laid_out_as_tensor_iterator_lays_them_out():
    """``iterated`` against torch's CPU kernels on random operands: permuted, strided, broadcast, of sizes 1."""
    import random

    rng = random.Random(0)
    for _ in range(600):
        rank = rng.choice([1, 2, 3, 4, 4, 5])
        a = _strided(rng, [rng.choice([1, 2, 3, 4]) for _ in range(rank)])
        if rng.random() < 0.25:
            operands, real = [a], torch.sigmoid(a)
        else:
            kept = rng.randint(1, rank)
            sizes = [1 if rng.random() < 0.3 else size for size in a.shape[rank - kept:]]
            operands = [a, _strided(rng, sizes)]
            if rng.random() < 0.5:
                operands.reverse()
            real = operands[0] + operands[1] if rng.random() < 0.5 else operands[0] * operands[1]
        made = torch_layouts.iterated([torch.empty_strided(o.shape, o.stride(), device="meta") for o in operands],
                                      tuple(real.shape), real.dtype)
        assert (made.shape, made.stride()) == (real.shape, real.stride()), [(o.shape, o.stride()) for o in operands]
