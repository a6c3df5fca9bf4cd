"""The reference pages in docs/ are what tools/make_docs.py writes from the code (run it after changing a command,
an option or a public docstring)."""
import difflib
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_docs", ROOT / "tools" / "make_docs.py")
make_docs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_docs)


@pytest.mark.parametrize("name", sorted(make_docs.PAGES))
def test_the_committed_reference_is_current(name):
    committed, current = (ROOT / "docs" / name).read_text(), make_docs.PAGES[name]()
    difference = "\n".join(difflib.unified_diff(committed.splitlines(), current.splitlines(), "committed", "current",
                                                 lineterm=""))
    assert committed == current, f"docs/{name} is stale: run python tools/make_docs.py\n{difference[:3000]}"


def test_every_command_and_public_name_is_in_the_reference():
    from costmodel.cli import cli

    page = (ROOT / "docs" / "cli.md").read_text()
    assert all(f"## costmodel {name}\n" in page for name in cli.commands)
    assert "| `--max-madds N` |" in page and "| `--format [text\\|csv\\|json\\|markdown]` |" in page
    api = (ROOT / "docs" / "api.md").read_text()
    assert "### `analyze(model_or_setting: Any," in api and "### `render(result: Any, fmt: str = 'text'," in api
