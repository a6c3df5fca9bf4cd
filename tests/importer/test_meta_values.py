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
        self.filters = torch.nn.Parameter(torch.randn(12, 4, 3, 3))

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
        x = x + F.conv2d(x, self.filters, None, 1, (1, 1), 1, 3) * x.mean((2, 3), keepdim=True) + \
            torch.sum(x, dim=1, keepdim=True) + F.softmax(x, dim=1)     # a grouped convolution, reductions
        tokens = x.flatten(2).transpose(1, 2)                  # 1 x 24 x 12, a transposed view
        h = self.norm(self.act(tokens))
        B, N, C = h.shape
        q, k, v = self.qkv(h).reshape(B, N, 3, 3, 4).permute(2, 0, 3, 4, 1).unbind(0)   # 1 x 3 x 4 x 24, strided
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = torch.bmm((q @ k.transpose(-2, -1)).softmax(-1).flatten(0, 1), torch.eye(4).expand(3, 4, 4))
        attn = attn.view(1, 3, 4, 4)
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
            "add_", "conv2d", "mean_1", "sum_1", "softmax", "softmax_1", "matmul", "bmm",
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


def _node(target, args, kwargs=None, method=False):
    """A graph node calling ``target`` (a method's name where ``method``), its arguments' meta values given."""
    graph = torch.fx.Graph()
    kind = graph.call_method if method else graph.call_function
    return kind(target, tuple(graph.placeholder(f"a{index}") if isinstance(value, torch.Tensor) else value
                              for index, value in enumerate(args)), kwargs or {})


def _meta_of(value):
    return torch.empty_strided(value.shape, value.stride(), dtype=value.dtype, device="meta")


def test_products_softmax_and_reductions_are_laid_out_as_the_cpu_kernels_lay_them_out():
    """The rules for ``matmul``/``bmm`` (a new contiguous tensor whatever the operands' layout, batch axes
    broadcast), softmax (contiguous) and a reduction of a contiguous tensor, against torch's CPU kernels on random
    strided operands; every call a rule takes is checked, and the rules take most."""
    import operator
    import random

    rng = random.Random(1)
    taken = 0
    for round_ in range(400):
        rank = rng.choice([2, 3, 4])
        m, k, n = (rng.choice([1, 2, 3, 5]) for _ in range(3))
        batch = [rng.choice([1, 2, 3]) for _ in range(rank - 2)]
        other = [size if rng.random() < 0.7 else 1 for size in batch][rng.randint(0, len(batch)):]
        a, b = _strided(rng, batch + [m, k]), _strided(rng, other + [k, n])
        if rng.random() < 0.5:
            a, b = b.transpose(-1, -2), a.transpose(-1, -2)          # the lower rank first
        x = _strided(rng, [rng.choice([1, 2, 3, 4]) for _ in range(rank)])
        y = torch.randn(*x.shape)                                      # contiguous
        dims = sorted(rng.sample(range(rank), rng.randint(1, rank)))
        dim = dims if rng.random() < 0.7 else dims[0]
        keep = rng.choice([True, False])
        calls = [(operator.matmul, (a, b), {}, False, a @ b),
                 ("softmax", (x, rng.randrange(-rank, rank)), {}, True, None),
                 (F.softmax, (x,), {"dim": -1}, False, F.softmax(x, dim=-1)),
                 ("mean", (y, dim), {"keepdim": keep}, True, y.mean(dim, keepdim=keep)),
                 (torch.sum, (y, dim, keep), {}, False, torch.sum(y, dim, keep))]
        if a.ndim == b.ndim == 3 and a.shape[0] == b.shape[0]:
            calls.append((torch.bmm, (a, b), {}, False, torch.bmm(a, b)))
        for target, args, kwargs, method, real in calls:
            if real is None:
                real = x.softmax(args[1])
            node = _node(target, args, kwargs, method)
            made = torch_layouts.meta_result(node, tuple(_meta_of(v) if isinstance(v, torch.Tensor) else v
                                                         for v in args), kwargs, None)
            if made is not None:
                taken += 1
                assert (made.shape, made.stride(), made.dtype) == (real.shape, real.stride(), real.dtype), \
                    (target, [(v.shape, v.stride()) for v in args if isinstance(v, torch.Tensor)], kwargs)
    assert taken > 400 * 5


class KeptTensors(torch.nn.Module):
    """Weights read in every way fx names them: a parameter shared by two parts, a buffer, a plain tensor attribute
    (not registered), tensors made in forward (a view of a buffer, a new tensor), and slices with ints and None."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Linear(6, 6)
        self.b = torch.nn.Linear(6, 6)
        self.b.weight = self.a.weight                       # shared: named by its first path
        self.register_buffer("scale", torch.full((6,), 2.0))
        self.table = torch.randn(4, 6)                     # a plain attribute: fx's tensor_attrs names it

    def forward(self, x):
        y = self.a(x) + F.linear(x, self.b.weight) * self.scale + self.scale.view(1, 6)   # a view made in forward
        return y[:, None, 1::2] + torch.ones(3) + F.linear(x, self.table)[..., :3]


def test_the_fast_tracer_makes_fx_s_own_graph():
    """``FastTracer`` finds weights by tables made in one walk and takes slices without fx's questions: its graph
    is torch.fx's own node for node (each node's op, target and arguments)."""
    def nodes(graph):
        return [(node.op, node.name, str(node.target), str(node.args), str(node.kwargs)) for node in graph.nodes]

    ours = torch_sized.FastTracer().trace(KeptTensors().eval())
    theirs = torch.fx.Tracer().trace(KeptTensors().eval())     # another instance: each trace keeps its constants
    assert nodes(ours) == nodes(theirs)
    targets = {str(node.target) for node in ours.nodes if node.op == "get_attr"}
    assert {"a.weight", "scale", "table", "_tensor_constant0", "_tensor_constant1"} <= targets and \
        "b.weight" not in targets
