"""The meta values of a trace (``torch_sized``: each node's sizes, strides and type, which decide the attention
kernel torch runs) are laid out as torch's CPU kernels lay out the real values, op by op. The ops whose meta value
``torch_sized`` makes from its operands' layout (element-wise ops, norms, linear layers, interpolation, attention,
``F.normalize`` of a strided view) are checked against the module run on real tensors, node by node."""
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from costmodel.sources.importer import torch_sized  # noqa: E402

SIZE = (1, 12, 4, 6)


class LayoutRules(torch.nn.Module):
    """One call of each op with a layout rule, on contiguous, transposed and strided operands (XCiT's attention:
    a query and key that are strided slices of a permuted qkv, normalized over their last axis)."""

    def __init__(self):
        super().__init__()
        self.bn = torch.nn.BatchNorm2d(12)
        self.act = torch.nn.GELU()
        self.norm = torch.nn.LayerNorm(12)
        self.qkv = torch.nn.Linear(12, 36)
        self.proj = torch.nn.Linear(12, 12)

    def forward(self, x):
        x = self.bn(x)
        x = x + F.interpolate(F.interpolate(x, scale_factor=2.0), size=(4, 6))
        x = F.group_norm(torch.sigmoid(x), 3)
        tokens = x.flatten(2).transpose(1, 2)                  # 1 x 24 x 12, a transposed view
        h = self.norm(self.act(tokens))
        B, N, C = h.shape
        q, k, v = self.qkv(h).reshape(B, N, 3, 3, 4).permute(2, 0, 3, 4, 1).unbind(0)   # 1 x 3 x 4 x 24, strided
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = (q @ k.transpose(-2, -1)).softmax(-1)
        mixed = (attn @ v).permute(0, 3, 1, 2).reshape(B, N, C)
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
    quick = torch_sized._quick

    def recording(node, args, kwargs, root):
        value = quick(node, args, kwargs, root)
        if value is not None:
            made_by_rule.append(node.name)
        return value

    monkeypatch.setattr(torch_sized, "_quick", recording)
    module = LayoutRules().eval()
    graph = torch_sized.sized_trace(module, SIZE)
    meta = {node.name: node.meta["val"] for node in graph.nodes if isinstance(node.meta.get("val"), torch.Tensor)}
    real = _real_values(module, graph)
    assert {name: _layout(value) for name, value in meta.items()} == \
        {name: _layout(real[name]) for name in meta}
    assert {"bn", "add", "interpolate", "interpolate_1", "sigmoid", "group_norm", "act", "norm", "qkv",
            "normalize", "normalize_1", "scaled_dot_product_attention", "mul", "proj"} <= set(made_by_rule)
    assert meta["normalize"].stride() == (3 * 4 * 24, 4, 1, 3 * 4)    # dense in the order of q's (864, 4, 1, 36)


def test_the_meta_values_of_an_fx_trace_run_on_a_meta_input_are_laid_out_as_the_real_values():
    """An fx trace keeps no sizes: ``graph_values`` runs it on a meta input (the attention kernel's strides)."""
    module = LayoutRules().eval()
    graph = torch_sized.FastTracer().trace(module)
    values = torch_sized.graph_values(graph, module, SIZE)
    real = _real_values(module, graph)
    tensors = {node.name: value for node, value in values.items() if isinstance(value, torch.Tensor)}
    assert len(tensors) > 20
    assert {name: _layout(value) for name, value in tensors.items()} == \
        {name: _layout(real[name]) for name in tensors}
