"""Modules moved into the layers' packages (``tools/move_modules.py``) stay importable at their old paths, as the
same module objects (``costmodel._moved.MOVED``)."""
import importlib
import subprocess
import sys

import pytest

import costmodel
from costmodel._moved import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_is_the_module_at_its_new_place(old):
    assert importlib.import_module(f"costmodel.{old}") is importlib.import_module(f"costmodel.{MOVED[old]}")
    assert getattr(costmodel, old) is importlib.import_module(f"costmodel.{MOVED[old]}")
    # the module keeps its own spec, which its lazy relative imports read (an alias's spec made them warn)
    assert importlib.import_module(f"costmodel.{old}").__spec__.name == f"costmodel.{MOVED[old]}"


def test_the_old_paths_work_in_a_fresh_interpreter():
    probe = ("import warnings\nwarnings.simplefilter('error')\n"
             "import costmodel.counting\n"
             "costmodel.counting.plan_of(costmodel.analyze('mobilenet_v1').network).program('costmodel')\n"
             "from costmodel.scaling import Scaled\n"
             "import costmodel.errors, costmodel.core.errors\n"
             "from costmodel.ir import Network\n"
             "assert costmodel.errors is costmodel.core.errors and Network.__module__ == 'costmodel.core.ir'\n"
             "print('ok', Scaled.__module__)\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout == "ok costmodel.core.scaling\n", result.stderr


def test_a_name_that_never_existed_is_still_an_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("costmodel.no_such_module")
    with pytest.raises(AttributeError):
        costmodel.no_such_module  # noqa: B018
