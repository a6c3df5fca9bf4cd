"""``costmodel advise``: the what-if edits recounted, ranked by what they save, with what they trade; the edits that do
not apply listed with the reason; the command line."""
import json

import pytest

import costmodel
from costmodel.design import edits as E
from costmodel.design.advise import advise
from costmodel.sources.settle import settle

from helpers import run
from test_budget import toy_profile


def test_every_suggestion_is_the_edited_network_recounted_and_the_list_is_ranked_by_memory_access():
    advice = advise("mobilenet_v2")
    original = costmodel.analyze("mobilenet_v2").totals
    network = settle("mobilenet_v2").network
    for suggestion in advice.suggestions:
        if isinstance(suggestion.edit, E.Resolution):
            edited = costmodel.analyze("mobilenet_v2", resolution=suggestion.edit.size).totals
        else:
            edited = costmodel.analyze(E.apply(network, suggestion.edit)).totals
        assert dict(suggestion.deltas) == {name: edited[name] - original[name] for name in suggestion.deltas}
    savings = [-s.deltas["memory_access_bytes"] for s in advice.suggestions]
    assert savings == sorted(savings, reverse=True)
    assert all(-s.deltas["memory_access_bytes"] > 0 for s in advice.top(100))


def test_the_figures_by_hand():
    advice = {(s.stage, s.change): s for s in advise("mobilenet_v2").suggestions}
    # one block fewer in features.2-3 drops features.3 at 56 x 56: 1x1 24 -> 144, 3x3 depthwise 144, 1x1 144 -> 24
    block = 24 * 144 * 56 * 56 + 9 * 144 * 56 * 56 + 144 * 24 * 56 * 56
    assert advice[("features.2-3", "2 -> 1 blocks")].deltas["madds"] == -block == -25_740_288
    # the input 224 -> 192: mult-adds of a network of convolutions scale with the map area, less what does not
    smaller = costmodel.analyze("mobilenet_v2", resolution=192).totals["madds"]
    assert advice[("network", "input 224 -> 192")].deltas["madds"] == smaller - 300_774_272
    # the expansion is the inverted residual's design: the edit says what it costs, it is not a violation
    expansion = advice[("features.7-10", "expansion 6 -> 4")]
    assert "design" in expansion.trades and expansion.guideline == ""
    # the depthwise 144 -> 96 and both 1x1 layers of features.2-3 at 56 x 56 narrow by a third; the first block's
    # expansion (16 -> 96 at 112 x 112 in, stride 2) does too
    assert advice[("features.2-3", "expansion 6 -> 4")].deltas["madds"] == \
        -(16 * 32 * 112 * 112 + 9 * 32 * 56 * 56 + 32 * 24 * 56 * 56) - (24 * 48 * 56 * 56 * 2 + 9 * 48 * 56 * 56)


def test_edits_that_do_not_apply_are_listed_with_the_reason():
    missing = dict(advise("mobilenet_v2").not_applicable)
    assert missing["features.2-3: widths x 0.75"] == "the network's rounding keeps every width of the stage"
    assert missing["network: channels rounded to multiples of 8"] == \
        "the network has no width that is not a multiple of 8 already"


def test_a_profile_ranks_by_predicted_latency():
    profile = toy_profile()
    advice = advise("mobilenet_v3_small", profile=profile)
    assert advice.ranked_by == "latency_ms"
    network = settle("mobilenet_v3_small").network
    base = sum(profile.layer_ms(costmodel.analyze(network)))
    for suggestion in advice.suggestions[:5]:
        if not isinstance(suggestion.edit, E.Resolution):
            edited = sum(profile.layer_ms(costmodel.analyze(E.apply(network, suggestion.edit))))
            assert suggestion.latency_ms == pytest.approx(edited - base)
    latencies = [s.latency_ms for s in advice.suggestions]
    assert latencies == sorted(latencies)


def test_advise_on_the_command_line(capsys, tmp_path):
    status, out, err = run(["advise", "mobilenet_v2", "--top", "3"], capsys)
    assert status == 0, err
    assert "The 3 edits that save most (ranked by memory access)" in out
    assert "features.2-3: widths x 0.75: the network's rounding keeps every width of the stage" in out
    table = [line for line in out.splitlines() if line[:3].strip() in ("1", "2", "3")]
    assert len(table) == 3 and "input 224 -> 192" in table[0]
    status, out, err = run(["advise", "mobilenet_v2", "--alpha", "0.5", "--format", "json"], capsys)
    document = json.loads(out)
    assert document["alpha"] == 0.5 and document["ranked_by"] == "memory_access_bytes"
    assert document["totals"]["madds"] == costmodel.analyze("mobilenet_v2", alpha=0.5).totals["madds"]
    status, out, err = run(["advise", "mobilenet_v2", "--format", "csv"], capsys)
    assert out.splitlines()[0].startswith("rank,stage,change,guideline,delta_memory_access_bytes")
    path = tmp_path / "toy.toml"
    path.write_text(toy_profile().to_toml())
    status, out, err = run(["advise", "mobilenet_v3_small", "--device", str(path), "--top", "2"], capsys)
    assert status == 0 and "ranked by predicted latency on toy" in out
    status, out, err = run(["advise", "no_such_model"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1
