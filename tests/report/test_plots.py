"""The plots are readable at the page's width: no text smaller than the body text (14 px) once the page has fitted
each figure to its column, and point labels and tick labels that never overlap."""
import re

import pytest

pytest.importorskip("matplotlib")

from costmodel.present.report import plots                                           # noqa: E402
from costmodel.present.report.compare import compare_context                         # noqa: E402
from costmodel.present.report.html import render_page                                # noqa: E402
from costmodel.present.report.page import report_context                             # noqa: E402

BODY_PX = 14
COLUMN_PX = 1180 - 2 * 32                  # base.html: main's max-width less its padding
HALF_PX = (COLUMN_PX - 16) / 2             # .grid2: two columns with a 16 px gap
PX_PER_PT = 4 / 3


def figures(page):
    """(svg, column width in px) of every figure of an HTML page."""
    found = []
    halves = [match.span() for match in re.finditer(r'<div class="grid2"><figure>.*?</figure><figure>.*?</figure>'
                                                      r'</div>', page, re.S)]
    for match in re.finditer(r"<figure>(.*?)</figure>", page, re.S):
        half = any(start <= match.start() < end for start, end in halves)
        found.append((match.group(1), HALF_PX if half else COLUMN_PX))
    return found


def smallest_text_px(svg, column_px):
    width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
    scale = min(1.0, column_px / (width_pt * PX_PER_PT))        # max-width: 100% shrinks a wider figure
    sizes = [float(size) for size in re.findall(r"font-size: ([\d.]+)px", svg)]
    return min(sizes) * PX_PER_PT * scale                        # SVG user units are points


@pytest.fixture(scope="module")
def pages():
    report = render_page("report.html", report_context("mobilenet_v2", cross_check=False))
    compare = render_page("compare.html", compare_context(["mobilenet_v1:alpha=0.75", "mobilenet_v2",
                                                            "shufflenet_v2:alpha=1.5", "mnasnet_a1",
                                                            "efficientnet_b0", "ghostnet"]))
    return {"report": report, "compare": compare}


@pytest.mark.parametrize("name", ["report", "compare"])
def test_no_plot_text_is_smaller_than_the_body_text(pages, name):
    found = figures(pages[name])
    assert len(found) >= 4
    for svg, column in found:
        assert smallest_text_px(svg, column) >= BODY_PX


def test_compare_charts_sit_side_by_side_at_their_natural_size(pages):
    halves = [column for _, column in figures(pages["compare"]) if column == HALF_PX]
    assert len(halves) == 4             # mult-adds and memory access by kind; accuracy and params against mult-adds


def test_compare_names_networks_level_and_lists_the_published_points():
    from costmodel.design.published import published_points

    page = render_page("compare.html", compare_context(["mobilenet_v1:alpha=0.75", "mobilenet_v2"]))
    stacked = re.search(r"<figure>(.*?)</figure>", page.split("by layer kind</h2>")[1], re.S).group(1)
    assert set(re.findall(r"rotate\((-?[\d.]+)", stacked)) == {"-0"} and "mobilenet_v1:alpha=0.75" in stacked
    table = page.split("published points, by mult-adds</summary>")[1].split("</table>")[0]
    points = published_points()
    assert table.count("<tr><td>") == len(points)
    assert "<td>MobileNetV1 paper, Table 6</td>" in table and "<td>TF-slim checkpoint table</td>" in table
    caption = page.split("Accuracy and parameters against mult-adds</h2>")[1].split("</p>")[0]
    assert "Table" not in caption and f"the {len(points)} published ImageNet top-1 accuracies" in caption
    scatter = re.findall(r"<figure>(.*?)</figure>", page.split("against mult-adds</h2>")[1], re.S)[0]
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", scatter)
    assert "mobilenet_v2" in labels and "mobilenet_v1:alpha=0.75" in labels      # the compared, labelled
    assert not any(point.label in labels for point in points)                    # the published: in the table


def test_a_long_name_is_shortened_beside_its_bar_and_the_chart_keeps_its_column():
    svg = plots.stacked_kinds_chart(["x" * 200, "mobilenet_v2"], ["conv"], [[1_000_000, 2_000_000]])
    width_pt = float(re.search(r'<svg[^>]*width="([\d.]+)pt"', svg).group(1))
    assert width_pt * PX_PER_PT <= HALF_PX
    assert "x" * 14 + "\u2026" + "x" * 13 in svg and "x" * 29 not in svg
    assert plots.shortened("abcdef", 6) == "abcdef" and plots.shortened("abcdefg", 6) == "abc\u2026fg"


def boxes_overlap(boxes):
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_point_labels_never_overlap_and_stay_inside():
    import matplotlib.pyplot as plt

    # forty points packed into a corner, many closer than a label is wide
    points = [(1.0 + (i % 8) * 0.02, 1.0 + (i // 8) * 0.02, f"network-{i}", "#777777") for i in range(40)]
    figure, axis = plt.subplots(figsize=(plots.HALF_WIDTH_IN, 4.6))
    axis.scatter([p[0] for p in points], [p[1] for p in points])
    axis.set_xlim(0.9, 2.0)
    axis.set_ylim(0.9, 2.0)
    placed = plots.place_labels(figure, axis, points)
    renderer = figure.canvas.get_renderer()
    boxes = [annotation.get_window_extent(renderer) for annotation in placed]
    frame = axis.get_window_extent(renderer)
    assert 0 < len(placed) < 40                      # some fit, the rest are left out rather than overlapped
    assert not boxes_overlap(boxes)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    assert [a.get_text() for a in placed][0] == "network-0"          # in order: the first point is labelled first
    plt.close(figure)
