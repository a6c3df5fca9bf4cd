"""``costmodel fit``: the front equals a brute-force search over the grid with ``analyze`` at every point; units;
the command line; the Python API."""
import json

import pytest

import costmodel
from costmodel.design.fit import search
from costmodel.present import render
from costmodel.present.fronts import summary
from costmodel.core.errors import CostModelError

from helpers import run


def brute_force(model, limits, alphas, resolutions, depths=(1.0,), **options):
    """Every point analyzed on its own; the front by the definition: meets every limit, and no other point that
    meets them has a depth, an alpha and a resolution each at least as large."""
    points = {}
    for depth in depths:
        for alpha in alphas:
            for resolution in resolutions:
                totals = costmodel.analyze(model, alpha=alpha, resolution=resolution, depth=depth, **options).totals
                points[(depth, alpha, resolution)] = totals
    feasible = {key for key, totals in points.items() if all(totals[f] <= limit for f, limit in limits.items())}
    front = {key for key in feasible
             if not any(other != key and all(o >= k for o, k in zip(other, key)) for other in feasible)}
    return points, feasible, front


@pytest.mark.parametrize("model, limits, alphas, resolutions, depths", [
    ("mobilenet_v2", {"madds": 150_000_000}, [0.3 + 0.1 * i for i in range(12)], list(range(96, 257, 16)), [1.0]),
    ("shufflenet_v2", {"madds": 100_000_000, "params": 2_000_000}, [0.5, 1.0, 1.5, 2.0], list(range(96, 321, 32)),
     None),
    ("mobilenet_v1", {"madds": 200_000_000, "peak_activation_bytes": 2_000_000, "params": 3_000_000},
     [0.25, 0.5, 0.75, 1.0, 1.25], list(range(96, 289, 32)), [1.0]),
    ("efficientnet_b0", {"flops": 600_000_000}, [0.5, 0.7, 0.9, 1.1], [128, 160, 192, 224], [1.0, 1.2, 1.4]),
])
def test_the_front_is_the_brute_force_front(model, limits, alphas, resolutions, depths):
    alphas = [round(alpha, 10) for alpha in alphas]
    found = search(model, limits, alphas, resolutions, depths)
    # depths None: the model's default, no depth axis (ShuffleNetV2 never published depth scaling)
    assert (found.depths is None) == (depths is None)
    points, feasible, front = brute_force(model, limits, alphas, resolutions, found.depths or (1.0,))
    assert found.feasible == len(feasible) and 0 < len(front) < len(feasible)
    keys = {(row.get("depth", 1.0), row["alpha"], row["resolution"]) for row in found.rows}
    assert keys == front
    for row in found.rows:
        totals = points[(row.get("depth", 1.0), row["alpha"], row["resolution"])]
        assert all(row[field] == totals[field] for field in totals if field in row)
        assert all(row[field] <= limit for field, limit in limits.items())
    madds = [row["madds"] for row in found.rows]
    assert madds == sorted(madds, reverse=True)


def test_a_model_without_a_width_multiplier_searches_resolution_only():
    front = search("resnet50", {"madds": 2_000_000_000}, depths=[1.0])
    assert front.alphas == (1.0,) and len(front.rows) == 1
    # the front is the largest resolution that fits: resnet50's mult-adds grow as the square of the side
    best = front.rows[0]["resolution"]
    assert costmodel.analyze("resnet50", resolution=best).totals["madds"] <= 2_000_000_000
    assert costmodel.analyze("resnet50", resolution=best + 8).totals["madds"] > 2_000_000_000


def test_fit_on_the_command_line(tmp_path, capsys):
    status, out, err = run(["fit", "mobilenet_v2", "--max-madds", "150M", "--alpha", "0.5:1.4:0.1",
                            "--resolution", "96:224:32", "--depth", "1", "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["limits"] == {"madds": 150_000_000} and document["points"] == 10 * 5
    assert all(row["depth"] == 1.0 for row in document["front"])
    brute = brute_force("mobilenet_v2", {"madds": 150_000_000}, document["grid"]["alpha"], [96, 128, 160, 192, 224])
    assert {(row["depth"], row["alpha"], row["resolution"]) for row in document["front"]} == brute[2]
    csv = tmp_path / "front.csv"
    status, _, err = run(["fit", "mobilenet_v2", "--max-madds", "150M", "--alpha", "0.5:1.4:0.1",
                          "--resolution", "96:224:32", "-o", str(csv)], capsys)
    assert status == 0 and csv.read_text().splitlines()[0] == \
        "depth,alpha,resolution,params,madds,flops,memory_access_bytes,peak_activation_bytes,published_top1," \
        "published_setting,published_source"
    status, out, err = run(["fit", "mobilenet_v2", "--max-madds", "150M", "--resolution", "96:224:32"], capsys)
    assert status == 0 and "settings on the front" in out


def test_no_setting_fits_is_status_1_and_bad_input_status_2(capsys):
    status, _, err = run(["fit", "mobilenet_v2", "--max-madds", "1M"], capsys)
    assert status == 1 and "no setting of the mobilenet_v2 grid meets mult-adds <= 1.00M" in err
    # the least the grid reaches: alpha 0.25 at 96 x 96
    least = costmodel.analyze("mobilenet_v2", alpha=0.25, resolution=96).totals["madds"]
    assert f"(the least mult-adds on the grid is {least / 1e6:.2f}M)" in err
    for argv, message in ((["fit", "mobilenet_v2"], "fit needs at least one limit"),
                          (["fit", "mobilenet_v2", "--max-madds", "lots"], "--max-madds must be a number"),
                          (["fit", "nonet", "--max-madds", "1M"], "unknown model")):
        status, _, err = run(argv, capsys)
        assert status == 2 and message in err and err.count("\n") == 1, err


def test_fit_in_python_returns_the_front_as_a_dataframe():
    frame = costmodel.fit("mobilenet_v1", max_madds="150M", max_peak_memory="3MB", depths=[1.0],
                          alphas=[0.25, 0.5, 0.75, 1.0], resolutions=[128, 160, 192, 224])
    assert list(frame.columns) == ["depth", "alpha", "resolution", "params", "madds", "flops",
                                   "memory_access_bytes", "peak_activation_bytes", "published_top1",
                                   "published_setting", "published_source"]
    assert (frame["madds"] <= 150_000_000).all() and (frame["peak_activation_bytes"] <= 3_000_000).all()
    # MobileNetV1 Table 7's 0.5 MobileNet-224 is 150M mult-adds (149.5M exact): it fits and nothing larger does
    assert ((frame["alpha"] == 0.5) & (frame["resolution"] == 224)).any()


def toy_profile():
    from costmodel.latency import KernelModel, Profile

    return Profile("toy", "made up", "unfused", 1, {
        "conv": KernelModel(10.0, 2.0, 0.0), "pointwise": KernelModel(1.0, 4.0, 0.5),
        "depthwise.3x3": KernelModel(0.0, 0.0, 3.0), "default": KernelModel(0.5, 0.0, 1.0)})


def test_a_latency_limit_gives_the_brute_force_front():
    profile = toy_profile()
    alphas, resolutions = [0.35, 0.5, 0.75, 1.0, 1.3], list(range(96, 257, 32))
    found = search("mobilenet_v2", {"params": 3_000_000}, alphas, resolutions, [1.0], max_latency_ms=1.0,
                   profile=profile)
    # by brute force: every setting analyzed and priced as table --device prices it
    latency = {(1.0, a, r): sum(profile.layer_ms(costmodel.analyze("mobilenet_v2", alpha=a, resolution=r)))
               for a in alphas for r in resolutions}
    points, feasible, _ = brute_force("mobilenet_v2", {"params": 3_000_000}, alphas, resolutions)
    feasible = {key for key in feasible if latency[key] <= 1.0}
    front = {key for key in feasible if not any(o != key and all(x >= y for x, y in zip(o, key)) for o in feasible)}
    assert found.feasible == len(feasible) and 0 < len(front) < len(feasible)
    assert {(row["depth"], row["alpha"], row["resolution"]) for row in found.rows} == front
    for row in found.rows:
        assert row["latency_ms"] == pytest.approx(latency[(row["depth"], row["alpha"], row["resolution"])])


def test_a_latency_limit_needs_a_profile_on_the_command_line(tmp_path, capsys):
    status, _, err = run(["fit", "mobilenet_v2", "--max-latency", "20ms"], capsys)
    assert status == 2 and "give --max-latency with --device PROFILE" in err
    path = tmp_path / "toy.toml"
    path.write_text(toy_profile().to_toml())
    status, out, err = run(["fit", "mobilenet_v2", "--max-latency", "1ms", "--device", str(path), "--depth", "1",
                            "--alpha", "0.35:1.0:0.05", "--format", "json"], capsys)
    assert status == 0, err
    document = json.loads(out)
    assert document["limits"] == {"latency_ms": 1.0, "profile": "toy"}
    assert all(row["latency_ms"] <= 1.0 for row in document["front"])


def test_the_front_shows_a_published_accuracy_only_on_the_published_setting_itself():
    front = search("mobilenet_v1", {"madds": 150_000_000}, [0.25, 0.5, 0.75, 1.0], [128, 160, 192, 224], [1.0])
    rows = {(row["alpha"], row["resolution"]): row for row in front.rows}
    # MobileNetV1 Table 6: 0.5 MobileNet-224, 63.7%: published for this very setting
    assert rows[(0.5, 224)]["published_top1"] == 63.7
    assert rows[(0.5, 224)]["published_setting"] == "0.5 MobileNet-224"
    assert rows[(0.5, 224)]["published_source"] == "MobileNetV1 paper, Table 6"
    # 0.75 at 128 was never published (Table 7 varies the resolution at alpha 1 only): no figure, not a neighbour's
    assert rows[(0.75, 128)]["published_top1"] is None and rows[(0.75, 128)]["published_setting"] is None
    assert "does not estimate accuracy" in render(front)
    # the case: under 300M, mobilenet_v2 at alpha 1.45 and 152 px is on the front; 74.7% is the figure of
    # alpha 1.4 at 224 (TF-slim's table), another network
    v2 = {(row["alpha"], row["resolution"]): row for row in search("mobilenet_v2", {"madds": 300_000_000}).rows}
    assert v2[(1.45, 152)]["published_top1"] is None
    assert all(row["published_top1"] is None for row in v2.values())       # none of them was published
    # EfficientNet-B2 is B0 at width 1.1, depth 1.2, 260 pixels (the reference code's efficientnet_params)
    b2 = search("efficientnet_b0", {"madds": 1_100_000_000}, [1.1], [260], [1.2]).rows[0]
    assert b2["published_top1"] == 80.1 and b2["published_setting"] == "EfficientNet-B2"
    assert costmodel.analyze("efficientnet_b0", alpha=1.1, depth=1.2, resolution=260).totals["madds"] == \
        costmodel.analyze("efficientnet_b2").totals["madds"] == b2["madds"]
    # a model with no published accuracies has no such columns
    assert "published_top1" not in search("resnet50", {"madds": 4_500_000_000}, depths=[1.0]).columns()


def test_depth_is_searched_unasked_only_where_the_family_published_depth_scaling():
    # MobileNetV1 was never trained deeper: its default grid is alpha x resolution (26 x 31 = 806 settings)
    front = search("mobilenet_v1", {"madds": 300_000_000})
    assert front.depths is None and front.points == 26 * 31
    assert {row["depth"] for row in front.rows} == {1.0}
    # EfficientNet published B1-B3 as deeper B0s: depth 1 to 2 by 0.1 is searched by default
    assert search("efficientnet_b0", {"madds": 300_000_000}, [1.0], [224]).depths == \
        tuple(round(1 + 0.1 * i, 10) for i in range(11))
    # and depth is searched wherever it is asked for
    assert search("mobilenet_v1", {"madds": 300_000_000}, [1.0], [224], [1.0, 1.5]).depths == (1.0, 1.5)


def test_a_long_front_shows_the_best_setting_of_a_dozen_resolutions_and_says_how_many_it_left_out(capsys):
    front = search("efficientnet_b0", {"madds": 300_000_000})
    rows = front.rows
    assert len(rows) > 20
    # by hand: the setting with the most mult-adds at each resolution the front reaches
    best = {}
    for row in rows:
        if row["resolution"] not in best or row["madds"] > best[row["resolution"]]["madds"]:
            best[row["resolution"]] = row
    resolutions = sorted(best)
    status, out, err = run(["fit", "efficientnet_b0", "--max-madds", "300M"], capsys)
    assert status == 0, err
    table = [line for line in out.splitlines() if line[:5].strip().replace(".", "").isdigit()]
    assert len(table) == 12
    shown = {int(line.split()[2]): int(line.split()[4].replace(",", "")) for line in table}
    assert set(shown) <= set(resolutions) and min(shown) == resolutions[0] and max(shown) == resolutions[-1]
    assert all(madds == best[resolution]["madds"] for resolution, madds in shown.items())
    assert f"12 of the front's {len(rows)} settings shown" in out and "--all lists every one" in out
    status, out, err = run(["fit", "efficientnet_b0", "--max-madds", "300M", "--all"], capsys)
    assert status == 0 and "settings shown" not in out
    assert len([line for line in out.splitlines() if line[:5].strip().replace(".", "").isdigit()]) == len(rows)
    # JSON holds every row whatever the text shows
    status, out, err = run(["fit", "efficientnet_b0", "--max-madds", "300M", "--format", "json"], capsys)
    assert len(json.loads(out)["front"]) == len(rows)


def test_the_plot_draws_no_accuracy_for_a_setting_no_paper_trained(monkeypatch):
    pytest.importorskip("matplotlib")
    from costmodel.present.report import fit as fit_page, plots

    drawn = {}
    monkeypatch.setattr(plots, "front_chart", lambda families, budget, path=None: drawn.update(
        families={name: front for name, _, front in families}, budget=budget) or "")
    fronts = [search(name, {"madds": 300_000_000}) for name in ("mobilenet_v1", "efficientnet_b0")]
    fit_page.front_plot(fronts)
    assert drawn["budget"] == 300_000_000
    # the cheapest published EfficientNet (B0) costs 386M mult-adds: no EfficientNet point under 300M has a figure
    assert costmodel.analyze("efficientnet_b0").totals["madds"] > 300_000_000
    assert [top1 for _, top1 in drawn["families"]["efficientnet_b0"]] == [None] * len(fronts[1].rows)
    # MobileNetV1 1.0-160 (67.2%, Table 7) is on the front under 300M and keeps its own figure
    assert [top1 for _, top1 in drawn["families"]["mobilenet_v1"] if top1 is not None] == [67.2]


def test_compare_sets_several_fronts_side_by_side_and_plots_them(tmp_path, capsys):
    status, out, err = run(["fit", "mobilenet_v1", "--max-madds", "300M", "--depth", "1", "--alpha", "0.25:1:0.25",
                            "--compare", "mobilenet_v2", "--format", "json"], capsys)
    assert status == 0, err
    fronts = json.loads(out)["fronts"]
    assert [front["model"] for front in fronts] == ["mobilenet_v1", "mobilenet_v2"]
    alone = search("mobilenet_v2", {"madds": 300_000_000}, [0.25, 0.5, 0.75, 1.0], None, [1.0])
    assert [row["madds"] for row in fronts[1]["front"]] == [row["madds"] for row in alone.rows]
    pytest.importorskip("matplotlib")
    png = tmp_path / "front.png"
    status, _, err = run(["fit", "mobilenet_v1", "--max-madds", "300M", "--depth", "1", "--compare", "mobilenet_v2",
                          "--plot", str(png)], capsys)
    assert status == 0, err
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    for argv, message in ((["--plot", str(tmp_path / "front.svg")], "--plot writes a PNG"),
                          (["--compare", "mobilenet_v2", "--format", "csv"], "use --format text, json or markdown")):
        status, _, err = run(["fit", "mobilenet_v1", "--max-madds", "300M", *argv], capsys)
        assert status == 2 and message in err
    assert not (tmp_path / "front.svg").exists()


def test_the_fit_page_holds_the_chart_and_every_front(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    page = tmp_path / "fit.html"
    status, _, err = run(["fit", "mobilenet_v1", "--max-madds", "300M", "--depth", "1", "--alpha", "0.25:1:0.25",
                          "--compare", "mobilenet_v2", "-o", str(page)], capsys)
    assert status == 0, err
    html = page.read_text()
    assert html.count("<svg") == 1 and "<h2>mobilenet_v1</h2>" in html and "<h2>mobilenet_v2</h2>" in html
    front = search("mobilenet_v1", {"madds": 300_000_000}, [0.25, 0.5, 0.75, 1.0], None, [1.0])
    assert summary(front).replace("<", "&lt;") in html and f"{front.rows[0]['madds']:,}" in html
    assert "http://" not in html.replace("http://www.w3.org", "")          # self-contained


def test_mobilevit_fronts_name_the_published_accuracy():
    front = search("mobilevit_xs", {"madds": 1_000_000_000}, resolutions=[192, 224, 256], depths=[1.0])
    # MobileViT-XS: 74.8% at 224 (the paper's Table 3); 256 costs more than 1G mult-adds here
    row = next(row for row in front.rows if row["resolution"] == 224)
    assert row["published_top1"] == 74.8 and row["published_setting"] == "MobileViT-XS"


def test_a_model_option_typed_on_the_command_line_finds_its_published_setting(capsys):
    # ShuffleNet 1.5x with g = 3 is published in the MobileNetV2 paper's Table 4 (71.5%); "-O groups=3" is a string
    status, out, err = run(["fit", "shufflenet_v1", "-O", "groups=3", "--max-madds", "300M", "--depth", "1",
                            "--alpha", "1.5", "--resolution", "224", "--format", "json"], capsys)
    assert status == 0, err
    row = json.loads(out)["front"][0]
    assert row["published_top1"] == 71.5 and row["published_setting"] == "ShuffleNet (1.5)"
