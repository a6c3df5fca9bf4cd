"""ShuffleNetV2's micro-benchmarks (Tables 1-4): the networks' counts worked by hand from the paper's settings, the
paper's printed speeds beside each row, and the trend verdicts on given timings. (Speed itself is never asserted.)"""
import pytest

import costmodel
from costmodel.present.reproductions import markdown
from costmodel.core.errors import CostModelError
from costmodel.reproduce import measured, reproductions
from costmodel.latency.protocol import measured as measured_figure
from costmodel.reproduce.microbench import settings

HW = 56 * 56


def totals(setting):
    return costmodel.analyze(setting.network).totals


def conv_mac(c1, c2, k=1, groups=1):
    """ShuffleNetV2's memory access of a convolution without bias on a 56x56 map: input, output, weights."""
    return HW * (c1 + c2) + k * k * c1 * c2 // groups


def test_table_1_keeps_flops_and_grows_memory_access_as_the_widths_part():
    rows = settings("1")
    assert [(row.label, row.column) for row in rows][:4] == [("c1:c2 = 1:1", "x1"), ("c1:c2 = 1:1", "x2"),
                                                             ("c1:c2 = 1:1", "x4"), ("c1:c2 = 1:2", "x1")]
    for row in rows:
        m = {"x1": 1, "x2": 2, "x4": 4}[row.column]
        c1, c2 = {"c1:c2 = 1:1": (32, 32), "c1:c2 = 1:2": (22, 44), "c1:c2 = 1:6": (13, 78),
                  "c1:c2 = 1:12": (9, 108)}[row.label]
        c1, c2 = c1 * m, c2 * m
        # ten blocks of c1 -> c2 -> c1
        assert totals(row)["madds"] == 10 * 2 * HW * c1 * c2
        assert totals(row)["memory_access"] == 10 * (conv_mac(c1, c2) + conv_mac(c2, c1))
    x1 = [totals(row) for row in rows if row.column == "x1"]
    assert x1[0]["madds"] == 64_225_280 and x1[-1]["memory_access"] > 1.8 * x1[0]["memory_access"]


def test_table_2_group_widths_and_the_one_the_paper_cannot_have():
    rows = {(row.label, row.column): row for row in settings("2")}
    for (label, column), row in rows.items():
        groups = int(label.split("= ")[1])
        width = row.network.nodes[0].op.out_channels
        width = width.base if hasattr(width, "base") else width
        assert width % groups == 0
        assert totals(row)["madds"] == 10 * HW * width * width // groups
        assert totals(row)["memory_access"] == 10 * conv_mac(width, width, groups=groups)
    # the paper prints c = 180 for g = 8 on ARM; 8 does not divide it: 184^2 / 8 = 4232 is nearer 64^2 than 176^2 / 8
    assert totals(rows[("g = 8", "x1")])["madds"] == 10 * HW * 184 * 184 // 8


def test_table_3_fragments_share_the_flops():
    rows = {(row.label, row.column): row for row in settings("3")}
    one = totals(rows[("1-fragment", "64")])
    assert one["madds"] == 10 * HW * 64 * 64
    four_series = totals(rows[("4-fragment-series", "64")])
    four_parallel = totals(rows[("4-fragment-parallel", "64")])
    # four 32-wide fragments per block: 4 * 32^2 = 64^2; in parallel the four outputs are summed (three adds)
    assert four_series["madds"] == four_parallel["madds"] == 10 * 4 * HW * 32 * 32 == one["madds"]
    assert four_series["memory_access"] == 10 * 4 * conv_mac(32, 32)
    add = 5 * HW * 32                          # a four-input add reads four maps and writes one
    assert four_parallel["memory_access"] == 10 * (4 * conv_mac(32, 32) + add)
    two = totals(rows[("2-fragment-series", "128")])
    assert two["madds"] == 10 * 2 * HW * 91 * 91          # round(128 / sqrt 2) = 91


def test_table_4_relu_and_shortcut_cost_memory_access_only():
    rows = {(row.label, row.column): row for row in settings("4")}
    c, b = 64, 16
    madds = 10 * HW * (c * b + 9 * b * b + b * c)
    convs = conv_mac(c, b) + conv_mac(b, b, 3) + conv_mac(b, c)
    relu = 2 * HW * (2 * b + c)                # ReLU after each of the first two convs and after the unit
    shortcut = 3 * HW * c
    expected = {"ReLU = yes; short-cut = yes": convs + relu + shortcut, "ReLU = yes; short-cut = no": convs + relu,
                "ReLU = no; short-cut = yes": convs + shortcut, "ReLU = no; short-cut = no": convs}
    for label, mac in expected.items():
        assert totals(rows[(label, "64")])["madds"] == madds
        assert totals(rows[(label, "64")])["memory_access"] == 10 * mac


def fake_answer(speeds_ms):
    # each row run 5 times at its speed, one run a window
    return {"torch": "test", "rows": [measured_figure([ms] * 5, 5) for ms in speeds_ms]}


def test_measured_page_sets_the_paper_beside_and_says_whether_the_trend_holds(monkeypatch):
    import costmodel.latency.bench

    # x1 column: 1:1 fastest, 1:12 slowest (holds); x2: 1:6 fastest (does not hold); x4: all equal but the first
    times = {("c1:c2 = 1:1", "x1"): 1.0, ("c1:c2 = 1:2", "x1"): 1.1, ("c1:c2 = 1:6", "x1"): 1.2,
             ("c1:c2 = 1:12", "x1"): 1.5, ("c1:c2 = 1:1", "x2"): 2.0, ("c1:c2 = 1:2", "x2"): 2.0,
             ("c1:c2 = 1:6", "x2"): 1.5, ("c1:c2 = 1:12", "x2"): 3.0}
    order = [(row.label, row.column) for row in settings("1")]
    speeds = [times.get(key, 4.0 if key[0] != "c1:c2 = 1:12" else 5.0) for key in order]
    monkeypatch.setattr(costmodel.latency.bench, "microbench", lambda table, **kwargs: fake_answer(speeds))
    page = measured.measured_table("1")
    first = page.rows[0]
    assert (first.paper_arm, first.paper_gpu) == (76.2, 1480.0)       # the paper's 1:1 x1 cells
    assert page.rows[-1].paper_arm == 4.4 and page.rows[-1].paper_gpu == 163.0
    verdicts = page.verdicts()
    assert verdicts[0].startswith("column x1: here c1:c2 = 1:1 is fastest and c1:c2 = 1:12 slowest (1.50x)")
    assert verdicts[0].endswith("the trend holds here (in each of 5 windows of the run)")
    assert "here c1:c2 = 1:6 is fastest" in verdicts[1]
    assert verdicts[1].endswith("the trend does not hold here (c1:c2 = 1:6 was faster than c1:c2 = 1:1 in each of "
                                "5 windows of the run)")
    # x4: 1:1 ties 1:2 and 1:6 in every window, so it is not the fastest beyond the spread
    assert verdicts[2].endswith("not decided here: c1:c2 = 1:1 was not faster than c1:c2 = 1:2 in every one of the "
                                "5 windows of the run (within the measurement's spread)")
    shown = markdown(page)
    assert "| c1:c2 = 1:12 | x1 |" in shown and "1000.0" in shown and "76.2" in shown
    assert "| here (ms, min) | windows within |" in shown
    assert "reproduce shufflenet_v2 --table 1" in shown


def test_a_verdict_holds_only_where_the_order_holds_in_every_window(monkeypatch):
    import costmodel.latency.bench

    # Table 2's x1 column (g = 1, 2, 4, 8), three windows: g = 1 is fastest overall (1.00 ms) but g = 2 beats it in
    # the second window (1.05 against 1.10): not decided; in x2 g = 1 is faster than each other row in every
    # window, and g = 8 slower than each: the trend holds
    order = [(row.label, row.column) for row in settings("2")]
    runs = {("g = 1", "x1"): [1.00, 1.10, 1.02], ("g = 2", "x1"): [1.03, 1.05, 1.04],
            ("g = 1", "x2"): [2.00, 2.20, 2.10], ("g = 2", "x2"): [2.05, 2.25, 2.15],
            ("g = 4", "x2"): [2.10, 2.30, 2.20], ("g = 8", "x2"): [2.50, 2.60, 2.55]}
    rows = [measured_figure(runs.get(key, [5.0, 5.0, 5.0] if key[0] != "g = 8" else [6.0, 6.0, 6.0]), 3)
            for key in order]
    monkeypatch.setattr(costmodel.latency.bench, "microbench", lambda table, **kwargs: {"torch": "t", "rows": rows})
    page = measured.measured_table("2")
    verdicts = page.verdicts()
    assert verdicts[0].startswith("column x1: here g = 1 is fastest and g = 8 slowest (6.00x)")
    assert verdicts[0].endswith("not decided here: g = 1 was not faster than g = 2 in every one of the 3 windows of "
                                "the run (within the measurement's spread)")
    assert verdicts[1].endswith("the trend holds here (in each of 3 windows of the run)")
    x1 = next(row for row in page.rows if row.label == "g = 2" and row.column == "x1")
    assert x1.time.value == 1.03 and x1.time.spread == pytest.approx(1.05 / 1.03 - 1)


def test_table_3_and_4_pair_the_gpu_column_with_the_arm_one(monkeypatch):
    import costmodel.latency.bench

    monkeypatch.setattr(costmodel.latency.bench, "microbench", lambda table, **kwargs: fake_answer([1.0] * 15))
    page = measured.measured_table("3")
    one = next(row for row in page.rows if row.label == "1-fragment" and row.column == "64")
    assert (one.paper_arm, one.paper_gpu) == (40.2, 2446.0)     # ARM c = 64 beside GPU c = 128


def test_all_leaves_the_measured_tables_out_and_an_unknown_table_names_them():
    assert [item.table for item in reproductions("shufflenet_v2")] == ["5"]
    with pytest.raises(CostModelError) as raised:
        reproductions("shufflenet_v2", "9")
    assert "(measured on this CPU: 1, 2, 3, 4)" in str(raised.value)


@pytest.mark.slow
def test_a_measured_table_runs_on_this_cpu(tmp_path, capsys):
    pytest.importorskip("torch")
    from helpers import run

    status, out, err = run(["reproduce", "shufflenet_v2", "--table", "4", "--reports-dir", str(tmp_path)], capsys)
    assert status == 0, err
    assert out.count("verdict: c = ") == 3 and "the paper: ReLU = no; short-cut = no fastest" in out
    assert (tmp_path / "shufflenet_v2" / "table4.md").exists()


def test_the_latency_page_sets_pixel1_latencies_beside_the_estimates(tmp_path):
    from costmodel.latency import KernelModel, Profile
    from costmodel.reproduce.latency import latency_table

    page = latency_table("mobilenet_v2")
    rows = {(row.label, row.source[:11]): row for row in page.rows}
    v2 = rows[("MobileNetV2 1.0-224", "MobileNetV2")]
    assert v2.published_ms == 75 and v2.madds == 300_774_272
    assert rows[("MobileNetV2 1.0-224", "MobileNetV3")].published_ms == 64          # float, not the quantized 52
    # FLOPs-proportional, leave one out, from the printed latencies and the exact mult-adds
    rates = [row.published_ms / row.madds for row in page.rows]
    for index, row in enumerate(page.rows):
        others = sorted(rates[:index] + rates[index + 1:])
        assert row.baseline_ms == pytest.approx(row.madds * others[4])        # nine others: the fifth is the median
    # the roofline bounds: never below the whole network's FLOPs at peak, nor its bytes at the bandwidth
    fused = costmodel.analyze("mobilenet_v2", fused=True).totals
    assert v2.roofline_ms >= 1e3 * max(fused["flops"] / 17.2e9, fused["memory_access_bytes"] / 14.9e9)
    assert "calibrated (ms)" not in markdown(page)
    # a profile pricing every kernel by its mult-adds alone makes the calibrated column the FLOPs-proportional one
    per_madd = Profile("madds", "1 us per 10^6 mult-adds", "unfused", 1, {"default": KernelModel(0.0, 1.0, 0.0)})
    calibrated = latency_table("mobilenet_v2", per_madd)
    assert [row.calibrated_ms for row in calibrated.rows] == pytest.approx([row.baseline_ms for row in page.rows])
    assert "| calibrated (ms) | error |" in markdown(calibrated)


def test_the_latency_page_measures_each_network_once_and_carries_it_by_one_constant(monkeypatch, capsys):
    import costmodel.latency.bench
    from costmodel.reproduce.latency import latency_table

    asked = []

    def fake(networks, **kwargs):
        # network i took 10 + i ms in every window but the last, 11 + i in that one
        asked.append((list(networks), kwargs))
        return {"torch": "t", "heap": "steady",
                "rows": [measured_figure([10.0 + i] * 8 + [11.0 + i] * 2, 5) for i in range(len(networks))]}

    monkeypatch.setattr(costmodel.latency.bench, "networks_whole", fake)
    page = latency_table("mobilenet_v2", measure=True, repeats=10)
    networks, kwargs = asked[0]
    # MobileNetV2 1.0 and MnasNet-A1 appear twice (two papers' figures): each is measured once
    assert networks == [("mobilenet_v1", 1.0), ("mobilenet_v2", 1.0), ("mobilenet_v2", 1.4), ("mnasnet_a1", 1.0),
                        ("mobilenet_v3_large", 1.0), ("mobilenet_v3_large", 0.75), ("mobilenet_v3_small", 1.0),
                        ("mobilenet_v3_small", 0.75)] and kwargs["repeats"] == 10
    here = {network: 10.0 + i for i, network in enumerate(networks)}
    values = [here[(row.setting.split()[0], float(row.setting.split("=")[1]))] for row in page.rows]
    assert [row.measured.value for row in page.rows] == values
    assert page.rows[0].measured.spread == pytest.approx(11.0 / 10.0 - 1)
    # carried: the row's minimum x the median of published / measured over the nine other rows (the fifth)
    ratios = [row.published_ms / value for row, value in zip(page.rows, values)]
    for index, (row, value) in enumerate(zip(page.rows, values)):
        assert row.carried_ms == pytest.approx(value * sorted(ratios[:index] + ratios[index + 1:])[4])
    text = markdown(page)
    assert "| measured here (ms) | windows within | carried (ms) | error |" in text
    assert "measured here, carried by one constant: median error" in text


def test_measure_names_the_latency_table(capsys):
    from helpers import run

    status, _, err = run(["reproduce", "mobilenet_v2", "--table", "2", "--measure", "--no-write"], capsys)
    assert status == 2 and err.count("\n") == 1
    assert "--measure times the networks of a latency table, not of table '2' (papers with one: mobilenet_v1, " \
           "mobilenet_v2)" in err
