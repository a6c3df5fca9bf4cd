"""Published figures, copied from the papers into ``costmodel/data/papers/`` with their sources in each file's
leading ``#`` comment lines."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class PaperTable:
    """A published table: its comment lines (source, notes on misprints) and its rows as dicts of strings."""

    filename: str
    comments: tuple[str, ...]
    rows: tuple[dict[str, str], ...]


def load(filename: str) -> PaperTable:
    """Read ``costmodel/data/papers/<filename>``."""
    text = resources.files("costmodel").joinpath("data", "papers", filename).read_text(encoding="utf-8")
    lines = text.splitlines()
    comments = tuple(line.lstrip("# ").rstrip() for line in lines if line.startswith("#"))
    body = "\n".join(line for line in lines if line and not line.startswith("#"))
    rows = tuple(csv.DictReader(io.StringIO(body)))
    return PaperTable(filename, comments, rows)
