"""Rendering the report pages with Jinja2 from the templates shipped as ``costmodel.templates``.

Autoescaping is on: every string that reaches a page (network and layer names, descriptions, a device file's
fields) is HTML-escaped; only the SVG plots, which matplotlib writes with its own escaping, are inserted as markup.
"""
from __future__ import annotations

from importlib import resources
from typing import Any

import jinja2

from ...core.version import __version__
from ...core.formatting import grouped


def _load(name: str) -> str:
    return resources.files("costmodel.templates").joinpath(name).read_text(encoding="utf-8")


_ENVIRONMENT = jinja2.Environment(loader=jinja2.FunctionLoader(_load), autoescape=True,
                                  undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
_ENVIRONMENT.filters["grouped"] = grouped


def render_page(template: str, context: dict[str, Any]) -> str:
    """``template`` (report.html, compare.html, reproduction.html) filled with ``context``."""
    return _ENVIRONMENT.get_template(template).render(version=__version__, **context)


def reproduction_page(reproduction: Any) -> str:
    """A paper reproduction as an HTML page (tables only: deterministic byte for byte)."""
    return render_page("reproduction.html", {"title": reproduction.title, "reproduction": reproduction,
                                              "table": reproduction.table_view(), "notes": reproduction.all_notes()})
