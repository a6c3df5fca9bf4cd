"""One list of metrics: the JSON fields, CSV columns, tables, sweep columns and the guide's schema come from it."""
import json
from pathlib import Path

import costmodel
from costmodel.core.metrics import METRICS, layer_metrics, summed_metrics, total_metrics
from costmodel.ops import spec_names
from costmodel.design.sweep import FIELDS, sweep
from costmodel.present.analyses import json_schema, ops_reference, render

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_the_guide_shows_the_generated_schema():
    assert json_schema() in (DOCS / "commands.md").read_text()


def test_the_guide_lists_every_spec_op():
    guide = (DOCS / "own-networks.md").read_text()
    section = guide[guide.index("Ops and their fields"):guide.index("Blocks are")]
    assert ops_reference() in section
    assert all(f"`{name}`" in section for name in spec_names())


def test_outputs_use_the_metric_list():
    result = costmodel.analyze("mobilenet_v2", alpha=0.5)
    document = json.loads(render(result, "json"))
    assert list(document["totals"]) == [metric.field for metric in total_metrics()]
    assert [key for key in document["layers"][0] if key not in ("name", "kind", "output_shape", "layout")] == \
        [metric.field for metric in layer_metrics()]
    assert set(document["by_kind"]["pointwise"]) == {"layers"} | {m.field for m in summed_metrics()} | \
        {f"{m.field}_share" for m in summed_metrics()}
    assert FIELDS == tuple(metric.field for metric in total_metrics())
    assert sweep("mobilenet_v2", [0.5], [224]).header()[2:] == FIELDS
    header = render(result, "csv", per_layer=True).splitlines()[0].split(",")
    assert header[:4] == ["name", "kind", "input_shape", "output_shape"]
    assert header[4:] == [metric.field for metric in layer_metrics()]
    text = render(result, "text", per_layer=True)
    assert all(metric.column in text for metric in layer_metrics())
    # the totals are sums over the layers, and the peak is the largest live memory
    for metric in summed_metrics():
        assert result.totals[metric.field] == sum(layer.field(metric.field) for layer in result.layers)
    assert result.totals["peak_activation_bytes"] == max(layer.live_activation_bytes for layer in result.layers)
    assert {metric.name for metric in METRICS} == {"params", "madds", "flops", "memory_access", "activation",
                                                   "peak_activation"}
