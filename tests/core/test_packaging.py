"""What a non-editable install ships: every package of the source tree is listed in pyproject.toml."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_is_listed_for_the_install():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "costmodel").rglob("__init__.py")}
    assert found - listed == set()
    assert "costmodel.sources.importer" in listed
