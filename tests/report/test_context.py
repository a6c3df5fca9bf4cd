"""What the report templates receive: the values behind each section, checked by hand or against the passes."""
import re

import pytest

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.present.report.compare import compare_context, parse_compare_spec
from costmodel.sources.setting import Setting
from costmodel.present.report.page import report_context
from costmodel.latency.devices import Device, load_device, presets
from costmodel.present.report.sections.review import review


@pytest.fixture(scope="module")
def v1_report():
    return report_context("mobilenet_v1", alpha=0.75, cross_check=False)


def test_summary_and_layers(v1_report):
    summary = {row["metric"]: row for row in v1_report["summary"]}
    assert summary["mult-adds"]["exact"] == "325,400,448"
    # arithmetic intensity: mult-adds per byte moved = 325,400,448 / 101,722,880
    assert summary["arithmetic intensity"]["value"] == f"{325_400_448 / 101_722_880:.2f}"
    assert len(v1_report["layers"]) == 84
    madds_share = v1_report["layer_columns"]["shares"].index("mult-adds share")
    assert abs(sum(row["shares"][madds_share] for row in v1_report["layers"]) - 100) < 1e-9
    assert v1_report["kinds"][0]["kind"] == "conv"


def test_width_resolution_grid_values_are_the_passes(v1_report):
    grid = v1_report["grid"]
    assert grid["alphas"] == ["0.25", "0.35", "0.5", "0.75", "1", "1.25", "1.4"]
    assert grid["resolutions"] == [96, 128, 160, 192, 224, 256]
    assert grid["matrix"][4][4] == 568_740_352                       # alpha 1 at 224
    assert grid["matrix"][3][2] == costmodel.analyze("mobilenet_v1", alpha=0.75, resolution=160).totals["madds"]
    assert grid["heatmap"].startswith("<svg") and grid["law"].startswith("<svg")
    # the narrowest, smallest setting departs most from alpha^2 rho^2 (the fixed 1000-way classifier dominates)
    assert grid["worst_at"] == "alpha=0.25, 96x96"
    small = costmodel.analyze("mobilenet_v1", alpha=0.25, resolution=96).totals["madds"]
    assert grid["worst_ratio"] == f"{small / 568_740_352 / (0.25 ** 2 * (96 / 224) ** 2):.3f}"


def test_no_alpha_heatmap_for_a_network_that_does_not_scale_with_alpha():
    grid = report_context("resnet50", cross_check=False)["grid"]
    assert grid["alphas"] == ["1"] and len(grid["resolutions"]) == 6
    assert grid["heatmap"] == "" and grid["law"].startswith("<svg")       # the resolution law is still drawn
    # the law without a width multiplier is rho^2, in the chart and where the largest departure is named
    assert "ideal: rho^2" in grid["law"] and "alpha" not in grid["law"]
    assert re.fullmatch(r"\d+x\d+", grid["worst_at"])


def test_grid_of_a_network_with_tabulated_widths():
    context = report_context("shufflenet_v2", cross_check=False)
    assert context["grid"]["alphas"] == ["0.5", "1", "1.5", "2"]
    assert context["grid"]["failures"] == []


def test_memory_section(v1_report):
    memory = v1_report["memory"]
    assert memory["peak_node"] == "Conv2d_1_pointwise.conv"
    largest = {row["size"]: row["bytes"] for row in memory["largest_by_size"]}
    assert largest["112x112"] == f"{48 * 112 * 112 * 4:,}"              # alpha 0.75: 48 channels


def test_roofline_by_hand():
    device = Device("toy", "", peak_gflops=10.0, bandwidth_gbps=2.0, source="test")
    assert device.ridge == 5.0
    assert device.seconds(10**10, 10**6) == 1.0                      # compute-bound: 1e10 / 1e10
    assert device.seconds(10**6, 4 * 10**9) == 2.0                   # memory-bound: 4e9 / 2e9
    context = report_context("mobilenet_v1", device=device, cross_check=False)
    rows = {row["name"]: row for row in context["roofline"]["rows"]}
    stem = rows["Conv2d_0.conv"]
    layer = costmodel.analyze("mobilenet_v1").layers[0]
    assert stem["seconds"] == max(layer.flops / 1e10, layer.memory_access_bytes / 2e9)
    assert stem["bound"] == ("compute" if layer.flops / layer.memory_access_bytes >= 5 else "memory")
    total = sum(row["seconds"] for row in context["roofline"]["rows"])
    assert context["roofline"]["total_ms"] == f"{total * 1e3:.2f}"


def test_device_presets_and_files(tmp_path):
    assert set(presets()) == {"pixel1-big-core", "raspberry-pi-4", "jetson-nano", "desktop-cpu"}
    assert presets()["raspberry-pi-4"].peak_gflops == 4 * 1.5 * 8
    own = tmp_path / "board.toml"
    own.write_text('[device]\nname = "my board"\npeak_gflops = 100\nbandwidth_gbps = 10\n')
    assert load_device(str(own)).ridge == 10.0
    with pytest.raises(CostModelError, match="unknown device 'cray'"):
        load_device("cray")
    own.write_text('[device]\npeak_gflops = -1\nbandwidth_gbps = 10\n')
    with pytest.raises(CostModelError, match=r"peak_gflops must be a number in \[1e-06, 1e\+09\], got -1"):
        load_device(str(own))


def test_design_review_g1_g2_g3_g4():
    v1 = review(costmodel.analyze("mobilenet_v1"))
    # G1: the 1x1 layers that double the width (32->64, 64->128, 128->256, 256->512, 512->1024) of 13
    assert (v1["G1"]["flagged"], v1["G1"]["checked"]) == (5, 13)
    first = v1["G1"]["findings"][0]
    assert first.layer == "Conv2d_1_pointwise.conv" and "c1=32, c2=64, ratio 2.00:1" in first.figures
    # bound at c1 = c2 for hw = 112^2, B = hw*32*64: 2 sqrt(hw B) + B/hw; MAC = hw*96 + 2048
    hw, flops = 112 * 112, 112 * 112 * 32 * 64
    assert f"= {(hw * 96 + 2048) / (2 * (hw * flops) ** 0.5 + flops / hw):.2f} x the bound" in first.figures
    assert v1["G2"]["checked"] == 0 and v1["G3"]["checked"] == 0
    shuffle = review(costmodel.analyze("shufflenet_v1"))
    assert shuffle["G2"]["flagged"] == shuffle["G2"]["checked"] > 0 and "g=3" in shuffle["G2"]["findings"][0].figures
    google = review(costmodel.analyze("googlenet"))
    assert google["G3"]["flagged"] == 9                                # nine Inception modules, four branches each
    assert "4 inputs, 4 with operators of their own" in google["G3"]["findings"][0].figures
    resnet = review(costmodel.analyze("resnet50"))
    assert resnet["G3"]["flagged"] == 0 and resnet["G3"]["checked"] == 16
    g4 = review(costmodel.analyze("mobilenet_v2"))["G4"]
    fused = costmodel.analyze("mobilenet_v2", fused=True)
    # after fusion only the ten residual adds are left (no activation follows them in MobileNetV2); each reads two
    # maps and writes one: 24x56x56 once, 32x28x28 twice, 64x14x14 three times, 96x14x14 and 160x7x7 twice
    adds = 3 * (24 * 56 * 56 + 2 * 32 * 28 * 28 + 3 * 64 * 14 * 14 + 2 * 96 * 14 * 14 + 2 * 160 * 7 * 7)
    assert [finding.layer.endswith(".add") for finding in g4["findings"]] == [True] * 10
    assert f"{100 * adds / fused.totals['memory_access']:.1f}% of all memory access" in g4["summary"]
    # unfused, the activations and adds move 30% of it (BatchNorm 31% more); the review reads what an engine runs
    unfused = costmodel.analyze("mobilenet_v2")
    elementwise = sum(l.memory_access for l in unfused.layers if l.kind in ("activation", "add", "mul"))
    assert elementwise / unfused.totals["memory_access"] > 0.25 > 0.05 > adds / fused.totals["memory_access"]


def test_design_review_a1_attention_grows_with_the_square_of_the_tokens():
    """MobileViT-XXS at 256, stage 2: 4 sequences of 256 patches, 4 heads of 16: 4 x 4 x 256 x 256 scores, written
    and read once, against q, k, v and the output of 4 x 4 x 256 x 16 each."""
    a1 = review(costmodel.analyze("mobilevit_xxs"))["A1"]
    assert a1["checked"] == 9 and a1["flagged"] == 6            # the 16-token last stage is not score-dominated
    first = a1["findings"][0]
    scores, rest = 4 * 4 * 256 * 256, 4 * (4 * 4 * 256 * 16)
    assert first.layer == "stages.2.1.transformer.0.attn.sdpa"
    assert (f"256 queries x 256 keys: {scores:,} scores, {2 * scores:,} of the layer's {2 * scores + rest:,} "
            "elements of memory access (89%)") in first.figures
    assert review(costmodel.analyze("mobilenet_v1"))["A1"]["checked"] == 0
    # at twice the side, 4x the tokens: 16x the scores
    double = review(costmodel.analyze("mobilevit_xxs", resolution=512))["A1"]["findings"][0]
    assert f"1,024 queries x 1,024 keys: {16 * scores:,} scores" in double.figures
    # the explicit form: the softmax's input and output are the score matrix
    explicit = review(costmodel.analyze("vit_tiny", options={"attention": "explicit"}))["A1"]
    assert explicit["checked"] == 12 and f"{3 * 197 * 197:,} scores" in explicit["findings"][0].figures


def test_compare_context():
    context = compare_context(["mobilenet_v1:alpha=0.75", "mobilenet_v2", "shufflenet_v2:alpha=1.5"])
    table = {row["metric"]: row["values"] for row in context["table"]}
    assert table["mult-adds"] == ["325,400,448", "300,774,272", "295,759,392"]
    assert context["unpublished"] == ["shufflenet_v2:alpha=1.5"]     # no ShuffleNet V2 accuracies in the data
    assert context["accuracy_chart"].startswith("<svg")
    # no compared setting with a published ImageNet accuracy (ShuffleNetV2 1.5x, MobileNetV2 at 32 px): no
    # accuracy chart, the parameters' chart alone
    cifar = compare_context(["shufflenet_v2:alpha=1.5", "mobilenet_v2:resolution=32"])
    assert cifar["accuracy_chart"] == "" and cifar["params_chart"].startswith("<svg")
    assert parse_compare_spec("shufflenet_v1:alpha=2,groups=8") == Setting("shufflenet_v1", alpha=2.0,
                                                                           options={"groups": "8"})
    assert parse_compare_spec("mobilenet_v2:resolution=160", Setting(None, batch=3, fused=True)) == \
        Setting("mobilenet_v2", resolution="160", batch=3, fused=True)
    with pytest.raises(CostModelError, match="must be written key=value"):
        parse_compare_spec("mobilenet_v1:alpha")
    with pytest.raises(CostModelError, match="at least two networks"):
        compare_context(["mobilenet_v1"])
    hybrid = compare_context(["vit_tiny", "mobilenet_v2:depth=1.5"])
    assert hybrid["memory_chart"].startswith("<svg") and "attention" in hybrid["memory_chart"]
    table = {row["metric"]: row["values"] for row in hybrid["table"]}
    assert table["design-review flags (G1/G2/G3/G4/A1)"][0].endswith("/12")      # 12 attention blocks of 197 tokens
    assert "depth=1.5" in hybrid["networks"][1]["setting"]


def test_the_stem_and_head_are_checked_but_not_flagged():
    from costmodel.present.report.sections.review import fused_view, unavoidable

    fused = fused_view(costmodel.analyze("mobilenet_v2"))
    roles = unavoidable(fused)
    # the 3x3 stem reads the image; the 320->1280 1x1 feeds the global pool, and the classifier follows it
    assert roles["features.0.0"] == "stem" and roles["features.18.0"] == "head" and roles["classifier.1"] == "head"
    assert not {name for name, role in roles.items() if role == "stem"} - {"features.0.0"}
    g1 = review(fused)["G1"]
    head = next(finding for finding in g1["findings"] if finding.layer == "features.18.0")
    assert not head.flagged and "(the head: checked, not flagged)" in head.figures
    # every other 1x1 of MobileNetV2 is an inverted residual's expansion (16: features.1 has t = 1) or linear
    # projection (17): the block's design, checked and said what it costs, never flagged as a violation
    assert (g1["flagged"], g1["checked"]) == (0, 34)
    expansion = next(finding for finding in g1["findings"] if finding.layer == "features.2.conv.0.0")
    assert "c1=16, c2=96" in expansion.figures and "the inverted residual's expansion: the block's design" in \
        expansion.figures and not expansion.flagged


def test_the_block_design_of_each_family_is_never_a_violation():
    from costmodel.present.report.sections.review import block_design

    def roles(model):
        design = block_design(costmodel.analyze(model, fused=True))
        return {role: sum(1 for value in design.values() if value == role) for role in set(design.values())}

    # ResNet-50: 16 bottlenecks, each 1x1 that widens back (conv3) an expansion, each conv1 a reduction but
    # layer1.0's (64 -> 64), and the four stride or width changes' shortcut projections
    assert roles("resnet50") == {"the bottleneck's expansion": 16, "the bottleneck's reduction": 15,
                                 "the shortcut's projection": 4}
    # MobileNetV3-Large (Table 1): 14 of the 15 bnecks expand (the first has exp = in = 16); 8 have SE, two 1x1s each
    v3 = roles("mobilenet_v3_large")
    assert v3["the squeeze-and-excite's bottleneck"] == 2 * 8 and v3["the inverted residual's expansion"] == 14
    # MobileNetV1's separable blocks have no such structure: its width doublings stay flagged under G1
    assert roles("mobilenet_v1") == {}


def test_the_reports_advice_is_the_what_if_edits_grouped_by_stage():
    from costmodel.design.advise import advise
    from costmodel.present.report.sections.advice import bottlenecks, what_to_change

    advice = advise("mobilenet_v2", fused=True)
    section = what_to_change(advice, top=6)
    assert section["ranked_by"] == "memory access" and section["shown"] == 6
    # the six that save most, grouped by stage in the network's order, the network's own edits last
    top = {(s.stage, s.change) for s in advice.top(6)}
    shown, stage = set(), ""
    for row in section["rows"]:
        stage = row["stage"] or stage
        shown.add((stage, row["change"]))
    assert shown == top
    stages = [row["stage"] for row in section["rows"] if row["stage"]]
    assert stages == sorted(stages, key=lambda name: (name == "network",) + tuple(
        advice.stage_names.index(name) for name in [name] if name in advice.stage_names))
    # one block fewer in features.2-3 (features.3: 1x1 24 -> 144, 3x3 depthwise, 1x1 144 -> 24 at 56 x 56)
    row = next(row for row in section["rows"] if row["change"] == "2 -> 1 blocks")
    assert row["madds"].startswith(f"{-(24 * 144 + 9 * 144 + 144 * 24) * 56 * 56:+,}")
    assert "features.2-3: widths x 0.75: the network's rounding keeps every width of the stage" in \
        section["not_applicable"]
    tops = bottlenecks(costmodel.analyze("mobilenet_v2"))
    # the largest mult-adds: the 320 -> 1280 1x1 at 7x7 (49 * 320 * 1280), fused with its BatchNorm and ReLU6
    assert tops["mult-adds"][0]["name"] == "features.18.0" and tops["mult-adds"][0]["value"] == f"{49 * 320 * 1280:,}"


def toy_profile_file(tmp_path, roofline=False):
    from costmodel.latency import KernelModel, Profile

    # 2 us per 10^6 mult-adds for every layer, nothing else: the prediction is 2 us x mult-adds / 10^6
    text = Profile("toy-cpu", "a made-up CPU", "unfused", 1, {"default": KernelModel(0.0, 2.0, 0.0)}).to_toml()
    if roofline:
        text += '\n[device]\nname = "toy-roofline"\npeak_gflops = 10.0\nbandwidth_gbps = 2.0\n'
    path = tmp_path / "toy.toml"
    path.write_text(text)
    return path


def test_one_device_file_carries_a_roofline_a_profile_or_both(tmp_path):
    from costmodel.latency.devices import load_target

    preset = load_target("raspberry-pi-4")
    assert preset.device.name == "raspberry-pi-4" and preset.profile is None
    only_profile = load_target(str(toy_profile_file(tmp_path)))
    assert only_profile.device.name == "pixel1-big-core" and only_profile.profile.name == "toy-cpu"
    both = load_target(str(toy_profile_file(tmp_path, roofline=True)))
    assert both.device.name == "toy-roofline" and both.device.peak_gflops == 10.0 and both.profile.name == "toy-cpu"


def test_report_and_compare_price_every_layer_with_the_profile(tmp_path):
    from costmodel.latency.devices import load_target

    target = load_target(str(toy_profile_file(tmp_path)))
    context = report_context("mobilenet_v1", cross_check=False, device=target.device, profile=target.profile)
    madds = costmodel.analyze("mobilenet_v1").totals["madds"]
    assert context["predicted"]["total_ms"] == f"{2 * madds / 1e6 / 1e3:.2f}"
    first = context["predicted"]["rows"][0]
    assert first["name"] == "Conv2d_0.conv" and first["predicted_us"] == f"{2 * 112 * 112 * 32 * 27 / 1e6:.1f}"
    assert "predicted latency on toy-cpu" in context["bottlenecks"]
    assert report_context("mobilenet_v1", cross_check=False)["predicted"] is None
    table = {row["metric"]: row["values"] for row in compare_context(["mobilenet_v1", "mobilenet_v2"],
                                                                     profile=target.profile)["table"]}
    v2 = costmodel.analyze("mobilenet_v2").totals["madds"]
    assert table["predicted latency on toy-cpu (ms)"] == [f"{2 * madds / 1e9:.2f}", f"{2 * v2 / 1e9:.2f}"]


def test_measure_needs_a_profile(tmp_path, capsys):
    from helpers import run

    status, _, err = run(["report", "mobilenet_v1", "--no-fvcore", "--measure", "-o", str(tmp_path / "r.html")],
                         capsys)
    assert status == 2 and "give --device PROFILE" in err and not (tmp_path / "r.html").exists()


@pytest.mark.slow          # the model timed on this CPU
def test_measure_sets_the_measured_latency_beside_the_prediction(tmp_path, capsys):
    pytest.importorskip("torch")
    from helpers import run

    out = tmp_path / "r.html"
    status, _, err = run(["report", "mobilenet_v1", "--alpha", "0.25", "--resolution", "96", "--no-fvcore",
                          "--device", str(toy_profile_file(tmp_path)), "--measure", "-o", str(out)], capsys)
    assert status == 0, err
    page = out.read_text()
    assert "Predicted latency on toy-cpu, and measured" in page and "measured &micro;s" in page
    # the measured figure is the minimum of bench's 30 runs (its default), with its spread between 5 windows
    assert re.search(r"Measured on this CPU with torch:\s*<b>[0-9.]+ ms</b> \(min of 30 runs; 5 windows within "
                     r"[0-9.]+%\)", page)


def test_fused_report_and_compare_show_the_fused_view():
    fused = costmodel.analyze("mobilenet_v1", fused=True)
    unfused = costmodel.analyze("mobilenet_v1")
    context = report_context("mobilenet_v1", cross_check=False, fused=True)
    assert "fused inference view" in context["setting"]
    assert len(context["layers"]) == len(fused.layers) < len(unfused.layers)
    # BatchNorm folded: its scale and shift become the bias of the conv before it (2 params per channel less)
    bn = sum(l.params for l in unfused.layers if l.kind == "batchnorm")
    assert fused.totals["params"] == unfused.totals["params"] - bn // 2
    assert context["review"] == report_context("mobilenet_v1", cross_check=False)["review"]
    table = {row["metric"]: row["values"] for row in compare_context(["mobilenet_v1", "mobilenet_v2"],
                                                                     fused=True)["table"]}
    params = next(values for metric, values in table.items() if metric.startswith("params"))
    assert params[0] == f"{fused.totals['params']:,}"


def test_the_depth_chart_has_every_kind_with_cost_and_the_grid_text_fits_the_network():
    pytest.importorskip("matplotlib")
    from costmodel.present.report.sections.kinds import kinds_section

    # MobileViT-XS: its attention layers (scores and weighted sums, no parameters) are among its costliest
    result = costmodel.analyze("mobilevit_xs")
    assert any(layer.kind == "attention" and layer.madds for layer in result.layers)
    chart = kinds_section(result)["depth_chart"]
    assert ">attention<" in chart and ">conv<" in chart
    # a network without a width multiplier is not told about alpha^2
    from costmodel.present.report.html import render_page
    from costmodel.present.report.page import report_context

    page = render_page("report.html", report_context("resnet50", cross_check=False))
    grid = page[page.index('<h2 id="grid">'):page.index('<h2 id="grid">') + 1500]
    assert "rho<sup>2</sup>" in grid and "alpha<sup>2</sup>" not in grid


def test_the_training_section_places_the_saved_activations_and_plans_checkpoints():
    from costmodel.design.checkpoints import checkpoint_plan
    from costmodel.design.structure import blocks
    from costmodel.engine.training import training

    from costmodel.present.report.sections.training import training_section

    result = costmodel.analyze("mobilenet_v2", batch=4)
    section = training_section(result, "adam")
    plain = training(result, "adam").totals["saved_bytes"]
    assert sum(int(row["bytes"].replace(",", "")) for row in section["by_stage"]) == plain
    assert section["halved"] and section["batch"] == 4
    plan = checkpoint_plan(result, "adam")
    by_name = {block.name: block for block in blocks(result.network)}
    chosen = []
    for step in plan.steps:            # each saving alone and each cumulative figure, recounted here
        alone = plain - training(result, "adam", checkpoint=[by_name[step.block].nodes]).totals["saved_bytes"]
        assert step.saving_alone == alone > 0
        chosen.append(by_name[step.block].nodes)
        assert step.saved_after == training(result, "adam", checkpoint=chosen).totals["saved_bytes"]
    assert [step.saving_alone for step in plan.steps] == sorted((s.saving_alone for s in plan.steps), reverse=True)
    assert plan.steps[-1].saved_after <= plain // 2 < plan.steps[-2].saved_after
