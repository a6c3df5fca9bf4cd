"""Modules moved into the layers' packages (``tools/move_modules.py``) stay importable at their old paths, as the
same module objects (``costmodel._moved.MOVED``)."""
import importlib
import subprocess
import sys

import pytest

import costmodel
from costmodel._moved import MOVED


def _fresh(probe: str) -> str:
    """What ``probe`` prints, run in a fresh interpreter (which must end well)."""
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stdout


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
    assert _fresh(probe) == "ok costmodel.core.scaling\n"


def test_a_moved_package_s_modules_are_found_through_it_and_run_once():
    """``costmodel.zoo`` moved to ``costmodel.sources.zoo``: its modules keep their old paths too, as the same
    objects; no module file runs twice (two copies would hold two different classes of the same name)."""
    probe = ("import sys, costmodel\n"
             "import costmodel.zoo.mobilenet_v1 as old, costmodel.sources.zoo.mobilenet_v1 as new\n"
             "import costmodel.importer.building, costmodel.report.sections.advice, costmodel.bench_worker\n"
             "from costmodel.budget import fit\n"
             "from costmodel.latency import Profile\n"
             "assert old is new and fit is costmodel.fit and costmodel.importer.building.GraphMapper\n"
             "assert Profile.__module__ == 'costmodel.latency.profiles'\n"
             "mine = {id(m): m for name, m in list(sys.modules.items()) if name.startswith('costmodel')}\n"
             "files = [m.__file__ for m in mine.values() if getattr(m, '__file__', None)]\n"
             "assert len(files) == len(set(files)), sorted(f for f in files if files.count(f) > 1)\n"
             "print('ok', old.__name__)\n")
    assert _fresh(probe) == "ok costmodel.sources.zoo.mobilenet_v1\n"


def test_a_name_that_never_existed_is_still_an_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("costmodel.no_such_module")
    with pytest.raises(AttributeError):
        costmodel.no_such_module  # noqa: B018
