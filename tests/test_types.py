"""The package passes its type checker (mypy, configured in pyproject.toml with the ops' plugin, tools/mypy_ops.py).
A cold check takes about half a minute, so it runs with the slow part (``python -m pytest -m slow``)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _mypy(cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e .[test] installs it)")
    return subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(cache)], cwd=cwd, capture_output=True,
                          text=True)


def test_the_package_passes_the_type_checker(tmp_path):
    result = _mypy(ROOT, tmp_path / "cache")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_type_checker_finds_a_wrong_argument_and_an_int_where_an_op_takes_no_pair(tmp_path):
    """The check can fail: a call with a wrong type is found, and the ops' plugin widens only the fields that hold
    pairs and widths (``Conv2d``'s ``groups`` takes an int or "depthwise", never a tuple)."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (tmp_path / "tools").mkdir()
    (tmp_path / "tools" / "mypy_ops.py").write_text((ROOT / "tools" / "mypy_ops.py").read_text())
    (tmp_path / "costmodel").mkdir()
    (tmp_path / "costmodel" / "__init__.py").write_text("")
    (tmp_path / "costmodel" / "bad.py").write_text(
        "from costmodel.ops import Conv2d\n"
        "fine = Conv2d(32, kernel=3, stride=2)\n"
        "wrong = Conv2d(32, kernel=3, groups=(1, 2))\n"
        "def width(x: int) -> str:\n"
        "    return x\n")
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "cache"), "costmodel"],
                            cwd=tmp_path, capture_output=True, text=True,
                            env={"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'bad.py:3: error: Argument "groups" to "Conv2d"' in result.stdout, result.stdout
    assert "bad.py:5: error: Incompatible return value type" in result.stdout, result.stdout
    assert "bad.py:2" not in result.stdout, result.stdout
