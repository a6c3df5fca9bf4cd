"""The HTML pages: self-contained, escaped, deterministic, shipped templates; reproductions regenerate byte for
byte; and a real browser opens a report and a comparison without errors or requests leaving the file."""
import os
import re
import shutil
from pathlib import Path

import pytest

import costmodel
from costmodel.cli import main
from costmodel.present.report import write_comparison, write_report
from costmodel.present.report.html import reproduction_page
from costmodel.reproduce import PAPERS, report_path, reproductions

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pages")
    report = directory / "report.html"
    comparison = directory / "compare.html"
    write_report(str(report), "mobilenet_v1", alpha=0.75, cross_check=False)
    write_comparison(str(comparison), ["mobilenet_v1:alpha=0.75", "mobilenet_v2", "shufflenet_v2:alpha=1.5"])
    return report, comparison


def test_pages_are_self_contained(pages):
    for page in pages:
        html = page.read_text()
        # XML namespace names (xmlns="http://www.w3.org/2000/svg") are identifiers, not requests
        for loader in ('href="http', "href='http", "src=", "@import", "<link", "<iframe", "https://"):
            assert loader not in html, loader
        assert not re.search(r"url\((?!#)", html)                     # only in-page references, url(#clip)
        assert html.count("<script>") == 1                      # the table sorter, inline
        assert html.count("<svg") >= 3


def test_report_sections(pages):
    html = pages[0].read_text()
    for heading in ("Summary", "Layers", "Cost by layer kind", "Along the depth", "Width x resolution", "Memory",
                    "Roofline on pixel1-big-core", "Design review", "Cross-check with fvcore"):
        assert heading in html
    assert "325,400,448" in html and "the fvcore cross-check was not requested" in html
    assert "<b>Estimate.</b>" in html


def test_a_report_with_a_training_section(tmp_path, capsys):
    target = tmp_path / "train.html"
    with pytest.raises(SystemExit) as status:
        main(["report", "mobilenet_v1", "--batch", "2", "--training", "--optimizer", "adam", "--no-fvcore", "-o",
              str(target)])
    assert status.value.code == 0
    html = target.read_text()
    assert '<h2 id="training">Training: batch 2, adam</h2>' in html and "Checkpoint first, to halve them" in html
    saved = costmodel.analyze("mobilenet_v1", batch=2, training=True, optimizer="adam").totals["saved_bytes"]
    assert f"{saved:,} B" in html
    with pytest.raises(SystemExit) as status:
        main(["report", "mobilenet_v1", "--optimizer", "adam", "-o", str(tmp_path / "x.html")])
    assert status.value.code == 2 and "--optimizer goes with --training" in capsys.readouterr().err


def test_reports_are_deterministic(tmp_path, pages):
    again = tmp_path / "again.html"
    write_report(str(again), "mobilenet_v1", alpha=0.75, cross_check=False)
    assert again.read_bytes() == pages[0].read_bytes()


def test_user_strings_are_escaped(tmp_path):
    spec = tmp_path / "evil.toml"
    spec.write_text('name = "<script>alert(1)</script> & \\"q\\""\ndescription = "<b>bold</b> & <i>"\n'
                    '[[layer]]\nname = "conv"\nop = "conv2d"\nout = 8\n'
                    '[[layer]]\nname = "pool"\nop = "global_avg_pool"\n')
    report = tmp_path / "evil.html"
    write_report(str(report), str(spec), cross_check=False)
    html = report.read_text()
    assert "<script>alert(1)</script>" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;q&#34;" in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;" in html
    assert html.count("<script>") == 1


@pytest.mark.parametrize("paper", sorted(PAPERS))
def test_committed_reproduction_pages_regenerate_byte_for_byte(paper):
    for reproduction in reproductions(paper):
        path = report_path(ROOT / "reports", reproduction, ".html")
        assert path.read_text(encoding="utf-8") == reproduction_page(reproduction), f"{path} is stale"


def test_cli_report_and_compare(tmp_path, capsys):
    target = tmp_path / "r.html"
    with pytest.raises(SystemExit) as status:
        main(["report", "mobilenet_v3_small", "--no-fvcore", "--device", "raspberry-pi-4", "-o", str(target)])
    assert status.value.code == 0
    captured = capsys.readouterr()
    assert captured.err == f"costmodel: wrote {target}\n"            # no progress bar off a terminal
    assert "Roofline on raspberry-pi-4" in target.read_text()
    with pytest.raises(SystemExit) as status:
        main(["compare", "mobilenet_v1", "-o", str(tmp_path / "c.html")])
    assert status.value.code == 2 and "at least two networks" in capsys.readouterr().err
    with pytest.raises(SystemExit) as status:
        main(["report", "mobilenet_v1", "-o", str(tmp_path / "missing" / "r.html")])
    assert status.value.code == 2 and "does not exist" in capsys.readouterr().err


# (the widest row of charts: the figures side by side summed, in px; main's content width in px)
ROW_OF_CHARTS = """() => {
    const main = document.querySelector("main"), style = getComputedStyle(main);
    const column = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const rows = {};
    document.querySelectorAll("figure svg").forEach(svg => {
        const box = svg.closest("figure").getBoundingClientRect();
        rows[Math.round(box.top)] = (rows[Math.round(box.top)] || 0) + svg.getBoundingClientRect().width;
    });
    return [Math.max(0, ...Object.values(rows)), column];
}"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="chromium is not installed (.ci/run installs it)")
def test_pages_in_a_real_browser(pages, tmp_path):
    if not os.environ.get("CI"):                # CI has both: a missing one fails there, and is skipped elsewhere
        pytest.importorskip("playwright", reason="playwright is not installed (pip install -e '.[test]')")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        try:
            reproduction = report_path(ROOT / "reports", reproductions("mobilenet_v1")[0], ".html")
            for page_file in (*pages, reproduction):
                for width in (1400, 800):                   # a wide window and a narrow one
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(page_file.as_uri())
                    page.wait_for_load_state("load")
                    # nothing runs off the page's side (a wide table scrolls in its own box)
                    assert page.evaluate("document.documentElement.scrollWidth") <= width, (page_file, width)
                    if page_file != reproduction:       # the widest row of charts uses most of the column
                        used, column = page.evaluate(ROW_OF_CHARTS)
                        # (narrow: two half-width charts stack, each at its natural size, text unshrunk)
                        assert used >= (0.75 if width == 1400 else 0.6) * column, (page_file, width, used, column)
                    page.close()
            for page_file in pages:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                problems, requests = [], []
                page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda error: problems.append(str(error)))
                page.on("request", lambda request: requests.append(request.url))
                page.goto(page_file.as_uri())
                page.wait_for_load_state("load")
                assert problems == []
                assert requests == [page_file.as_uri()]                 # nothing leaves the file
                tables = page.locator("table")
                plots = page.locator("figure svg")
                assert tables.count() >= 3 and plots.count() >= 3
                assert tables.first.bounding_box()["height"] > 50 and plots.first.bounding_box()["height"] > 100
                shot = tmp_path / f"{page_file.stem}.png"
                page.screenshot(path=str(shot), full_page=True)
                assert shot.stat().st_size > 50_000                      # tables and plots, not a blank page
                page.close()
            # the layer table sorts when a header is clicked
            page = browser.new_page()
            page.goto(pages[0].as_uri())
            table = page.locator("table.sortable").first
            header = table.locator("th", has_text="mult-adds").first
            header.click()                                           # ascending
            assert table.locator("tbody tr").first.locator("td").nth(5).get_attribute("data-value") == "0"
            header.click()                                           # descending: the largest layer first
            largest = max(layer.madds for layer in costmodel.analyze("mobilenet_v1", alpha=0.75).layers)
            top = table.locator("tbody tr").first.locator("td").nth(5).get_attribute("data-value")
            assert int(top) == largest
            # a long table scrolls in its box, and its button shows every row and back
            box = page.locator(".scroll").first
            rows = box.locator("tbody tr").count()
            button = page.locator("button.expand").first
            assert button.text_content() == f"Show all {rows} rows"
            height = box.bounding_box()["height"]
            button.click()
            assert box.bounding_box()["height"] > 2 * height
            assert page.evaluate("(box => box.scrollHeight <= box.clientHeight + 1)",
                                 box.element_handle()) is True
            button.click()
            assert box.bounding_box()["height"] == height and button.text_content() == f"Show all {rows} rows"
        finally:
            browser.close()
