"""The package passes its linter (ruff, configured in pyproject.toml: pycodestyle and pyflakes, lines of 120)."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> str:
    found = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("ruff is not installed (pip install -e .[test] installs it)")
    return found


def test_the_package_passes_the_linter():
    result = subprocess.run([_ruff(), "check", "--no-cache", "costmodel"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_linter_finds_an_unused_import(tmp_path):
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "costmodel").mkdir()
    (tmp_path / "costmodel" / "bad.py").write_text("import os\n")
    result = subprocess.run([_ruff(), "check", "--no-cache", "costmodel"], cwd=tmp_path, capture_output=True,
                            text=True)
    assert result.returncode == 1 and "F401" in result.stdout
