"""costmodel's Python API in a few lines: a zoo model at several widths, the per-kind view, a network of your own.

Run: python examples/api_quickstart.py
"""
import costmodel
from costmodel.sources.builder import GraphBuilder, conv_bn_act
from costmodel.ops import Flatten, GlobalAvgPool, Linear
from costmodel.core.scaling import Scaled

# 1. The MobileNetV1 paper's Table 6, from the tool: exact mult-adds and params per width multiplier.
for alpha in (1.0, 0.75, 0.5, 0.25):
    totals = costmodel.analyze("mobilenet_v1", alpha=alpha).totals
    print(f"mobilenet_v1 alpha={alpha:<4}  madds={totals['madds']:>11,}  params={totals['params']:>9,}")

# 2. Where the cost goes (the paper's Table 2): shares per layer kind.
for kind, row in costmodel.analyze("mobilenet_v1").by_kind().items():
    if row["madds"]:
        print(f"{kind:<10} {100 * row['madds_share']:6.2f}% of mult-adds")

# 3. A network of your own: a stem and two depthwise separable layers whose widths follow MobileNetV1's rule.
builder = GraphBuilder()
conv_bn_act(builder, "stem", Scaled(16, "mobilenet_v1"), kernel=3, stride=2)
for i, (out, stride) in enumerate([(32, 2), (64, 2)], start=1):
    conv_bn_act(builder, f"block{i}.dw", None, kernel=3, stride=stride, groups="depthwise")
    conv_bn_act(builder, f"block{i}.pw", Scaled(out, "mobilenet_v1"), kernel=1)
builder.add("pool", GlobalAvgPool())
builder.add("flatten", Flatten())
builder.add("classifier", Linear(10))
tiny = builder.build("tiny_separable", base_resolution=64)

result = costmodel.analyze(tiny, alpha=0.5)
print(f"{result.model}: input {result.input_shape}, madds={result.totals['madds']:,}, "
      f"params={result.totals['params']:,}, peak activation={result.totals['peak_activation_bytes']:,} B")

# 4. As a pandas DataFrame: the three most expensive layers.
frame = result.to_frame()
print(frame.sort_values("madds", ascending=False)[["kind", "madds", "params"]].head(3).to_string())

# 5. A budget: the widths and resolutions of MobileNetV1 within 150M mult-adds that nothing else within it dominates,
#    with the published accuracy of each that is itself a published setting (costmodel does not estimate the rest).
front = costmodel.fit("mobilenet_v1", max_madds="150M", alphas=[0.25, 0.5, 0.75, 1.0],
                      resolutions=[128, 160, 192, 224])
for row in front.itertuples():
    published = (f"published {row.published_top1}%: {row.published_setting}"
                 if isinstance(row.published_setting, str) else "not a published setting")
    print(f"front: alpha={row.alpha} resolution={row.resolution} madds={row.madds:,} ({published})")
