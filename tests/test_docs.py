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


def test_every_public_function_documents_its_parameters_and_returns():
    """Issue 23, item 7: each function and public method of the Python API reference (``make_docs.API``) names every
    parameter in a ``:param name:`` line and, where it returns something, says what in a ``:returns:`` line."""
    import inspect

    lacking = []
    for module_name, names in make_docs.API:
        module = importlib.import_module(module_name)
        for name in names:
            obj = getattr(module, name)
            functions = [(name, obj)] if inspect.isfunction(obj) else [
                (f"{name}.{attribute}", member) for attribute, member in vars(obj).items()
                if inspect.isfunction(member) and not attribute.startswith("_")] if inspect.isclass(obj) else []
            for label, function in functions:
                doc = inspect.getdoc(function) or ""
                signature = inspect.signature(function)
                missing = [f":param {p}:" for p in signature.parameters if p not in ("self", "cls")
                           and f":param {p}:" not in doc]
                if signature.return_annotation not in (None, "None") and ":returns:" not in doc:
                    missing.append(":returns:")
                if missing:
                    lacking.append(f"{module_name}.{label}: {', '.join(missing)}")
    assert not lacking, "\n".join(lacking)
