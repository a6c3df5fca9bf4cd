"""A paper's tables reproduced (``reproduce``'s pages) as text, Markdown, CSV and JSON. Each page lays out its own
text and Markdown (a reproduction, a latency table, a measured table); CSV and JSON hold the page's table."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..core.fileio import write_atomic
from ..core.formatting import json_text


def render(pages: Sequence[Any], fmt: str) -> str:
    """The pages in ``fmt``; CSV holds one page's table (``present.render`` refuses several)."""
    if fmt == "json":
        return json_text(pages[0].to_dict() if len(pages) == 1 else {"tables": [page.to_dict() for page in pages]})
    if fmt == "csv":
        return pages[0].table_view().csv()
    return "\n".join(page.markdown() if fmt == "markdown" else page.text() for page in pages)


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
        files = [(".md", page.markdown())]
        if html and not isinstance(page, MeasuredTable):
            from .report.html import reproduction_page

            files.append((".html", reproduction_page(page)))
        for suffix, text in files:
            path = report_path(directory, page, suffix)
            write_atomic(path, text, make_parents=True)
            paths.append(path)
    return paths
