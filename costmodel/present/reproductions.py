"""A paper's tables reproduced (``reproduce``'s pages: a reproduction, the latency table, a measured table) as text,
Markdown, CSV and JSON. The pages hold their data (title, source, the table as shown, verdicts or a summary, notes,
the command that regenerates them); their text and Markdown are laid out here. CSV and JSON hold the page's
table."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any, Sequence

from ..core.fileio import write_atomic
from ..core.formatting import json_text


def _findings(page: Any) -> "tuple[str, list[str]]":
    """What a page concludes, with the word its text shows it under: a reproduction's verdict (one line), the latency
    table's summary, or a measured table's verdicts (one per column)."""
    kind = type(page).__name__
    if kind == "Reproduction":
        return "verdict", [page.verdict()]
    if kind == "LatencyTable":
        return "summary", page.summary()
    return "verdict", page.verdicts()


WIDTH = 100          # the columns a reproduction's text keeps within


def _wrapped(text: str) -> str:
    """``text`` in lines of at most ``WIDTH`` columns, the lines after the first indented by two."""
    return textwrap.fill(text, WIDTH, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False)


def _table_text(table: Any) -> str:
    """A page's table within ``WIDTH`` columns, each figure's columns kept together (a group begins at each column
    titled ``paper ...``: the printed figure, then costmodel's, the exact count, the difference, the verdict)."""
    starts = [index for index, title in enumerate(table.columns) if title.startswith("paper ")]
    return table.text_within(WIDTH, starts).rstrip("\n")


def text(page: Any) -> str:
    """A reproduced table as text within ``WIDTH`` columns: title, source, the table (in parts, each repeating the
    row's name, where it is wider), what it concludes, its notes."""
    word, findings = _findings(page)
    lines = [_wrapped(page.title), _wrapped(f"source: {page.source}"), "",
             _table_text(page.table_view()), ""]
    lines += [_wrapped(f"{word}: {line}") for line in findings]
    lines += [_wrapped(f"note: {note}") for note in page.page_notes()]
    return "\n".join(lines) + "\n"


def markdown(page: Any) -> str:
    """A reproduced table as the Markdown page ``reproduce`` writes under ``reports/``."""
    _, findings = _findings(page)
    lines = [f"# {page.title}", "", f"Source: {page.source}.", "", page.table_view().markdown().rstrip("\n"), ""]
    if type(page).__name__ == "Reproduction":        # one sentence, not a list
        lines += [findings[0][0].upper() + findings[0][1:] + ".", ""]
    else:
        lines += [f"- **{line}**" for line in findings] + [""]
    lines += [f"- {note}" for note in page.page_notes()]
    measures = " (measures this machine)" if type(page).__name__ == "MeasuredTable" else ""
    lines += ["", f"Regenerate{measures} with `{page.command()}`."]
    return "\n".join(lines) + "\n"


def render(pages: Sequence[Any], fmt: str) -> str:
    """The pages in ``fmt``; CSV holds one page's table (``present.render`` refuses several)."""
    if fmt == "json":
        return json_text(pages[0].to_dict() if len(pages) == 1 else {"tables": [page.to_dict() for page in pages]})
    if fmt == "csv":
        return pages[0].table_view().csv()
    return "\n".join(markdown(page) if fmt == "markdown" else text(page) for page in pages)


def write_reports(directory: "str | Path", pages: Sequence[Any], html: bool = False) -> list[Path]:
    """Each page's Markdown (and, with ``html``, HTML) file under ``directory``, written atomically
    (``reproduce.report_path``: ``<directory>/<paper>/table<N>.md``).

    :param directory: the reports folder.
    :param pages: reproduced tables (``reproduce.reproductions``).
    :param html: an HTML page beside each Markdown page (a measured table has Markdown only).
    :returns: the paths written.
    """
    from ..reproduce import report_path
    from ..reproduce.measured import MeasuredTable

    paths = []
    for page in pages:
        files = [(".md", markdown(page))]
        if html and not isinstance(page, MeasuredTable):
            from .report.html import reproduction_page

            files.append((".html", reproduction_page(page)))
        for suffix, text in files:
            path = report_path(directory, page, suffix)
            write_atomic(path, text, make_parents=True)
            paths.append(path)
    return paths
