"""A paper's tables reproduced (``reproduce``'s pages) as text, Markdown, CSV and JSON. Each page lays out its own
text and Markdown (a reproduction, a latency table, a measured table); CSV and JSON hold the page's table."""
from __future__ import annotations

from typing import Any, Sequence

from ..formatting import json_text


def render(pages: Sequence[Any], fmt: str) -> str:
    """The pages in ``fmt``; CSV holds one page's table (``present.render`` refuses several)."""
    if fmt == "json":
        return json_text(pages[0].to_dict() if len(pages) == 1 else {"tables": [page.to_dict() for page in pages]})
    if fmt == "csv":
        return pages[0].table_view().csv()
    return "\n".join(page.markdown() if fmt == "markdown" else page.text() for page in pages)
