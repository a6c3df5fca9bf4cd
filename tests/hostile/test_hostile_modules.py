"""Issue 22, items 6 and 12: the user's own code (``file.py:factory``) ends in one line whatever it does: an
exception, ``sys.exit``, a bare ``BaseException``, modules nested thousands deep, or a ``forward`` that never returns
(stopped by ``--timeout`` in every command that runs it); bench's worker never outlives costmodel."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from costmodel.sources.importer.user_code import MAX_NESTING, nesting

from helpers import one_line, run

MODULES = textwrap.dedent("""
    import sys
    import time

    import torch
    import torch.nn as nn


    class Exit(nn.Module):
        def forward(self, x):
            sys.exit(0)


    class Raise(nn.Module):
        def forward(self, x):
            raise BaseException("boom")


    class Loop(nn.Module):
        def forward(self, x):
            while True:
                pass


    class Swallow(nn.Module):
        def forward(self, x):
            try:
                while True:
                    pass
            except BaseException:       # swallows the first stop
                pass
            while True:
                pass


    class Sleep(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)

        def forward(self, x):
            if not isinstance(x, torch.fx.Proxy):
                time.sleep(3600)          # only when torch really runs it (bench), not when fx traces it
            return self.conv(x)


    def exit_in_forward():
        return Exit()


    def raise_in_forward():
        return Raise()


    def loop_in_forward():
        return Loop()


    def swallows_a_stop():
        return Swallow()


    def exit_in_factory():
        sys.exit(3)


    def raise_in_factory():
        raise BaseException("factory")


    def loop_in_factory():
        while True:
            pass


    def nested(depth=3000):
        module = nn.ReLU()
        for _ in range(depth):
            module = nn.Sequential(module)
        return nn.Sequential(nn.Conv2d(3, 8, 3), module)


    def sleeps_when_run():
        return Sleep()
""")


@pytest.fixture
def models(tmp_path):
    path = tmp_path / "hostile.py"
    path.write_text(MODULES)
    return path


@pytest.mark.parametrize("factory, words", [
    ("exit_in_forward", "fails: it called sys.exit(0)"),
    ("raise_in_forward", "fails: it raised BaseException: boom"),
    ("exit_in_factory", "fails: it called sys.exit(3)"),
    ("raise_in_factory", "fails: it raised BaseException: factory"),
    ("nested", f"its modules are nested more than {MAX_NESTING} deep"),
])
def test_whatever_the_code_does_ends_in_one_line(models, factory, words, capsys):
    """sys.exit(0) in a forward ended costmodel with status 0 and no output; a BaseException and 3,000 nested
    Sequentials (RecursionError) ended in tracebacks."""
    status, out, err = run(["table", f"{models}:{factory}", "--input", "3x16x16"], capsys)
    assert words in one_line(status, err) and out == ""


def test_nesting_is_measured_without_recursion():
    module = torch.nn.ReLU()
    for _ in range(5000):                   # deeper than Python's recursion limit
        module = torch.nn.Sequential(module)
    assert nesting(module) == MAX_NESTING + 1          # counted until it passes the limit, then stopped
    assert nesting(torch.nn.Sequential(torch.nn.Sequential(torch.nn.ReLU()), torch.nn.ReLU())) == 3


@pytest.mark.parametrize("command, factory", [
    (["table"], "loop_in_forward"), (["table"], "loop_in_factory"), (["table"], "swallows_a_stop"),
    (["sweep", "--resolution", "16"], "loop_in_forward"), (["verify"], "loop_in_forward"),
    (["fit", "--max-madds", "1G", "--resolution", "16"], "loop_in_factory")])
def test_a_forward_that_never_returns_is_stopped(models, command, factory, capsys):
    start = time.perf_counter()
    status, _, err = run([command[0], f"{models}:{factory}", *command[1:], "--timeout", "1"], capsys)
    assert "did not finish within 1 s" in one_line(status, err)
    assert time.perf_counter() - start < 30


def test_compare_and_report_stop_it_too(models, tmp_path, capsys):
    for command in (["compare", f"{models}:loop_in_forward", "mobilenet_v1"], ["report", f"{models}:loop_in_forward"]):
        status, _, err = run([*command, "--timeout", "1", "-o", str(tmp_path / "page.html")], capsys)
        assert "did not finish within 1 s" in one_line(status, err)
    assert not list(tmp_path.glob("*.html")) and not list(tmp_path.glob(".*tmp"))


def test_an_enclosing_limit_is_the_one_that_speaks():
    from costmodel.core.errors import CostModelError
    from costmodel.sources.importer.user_code import running

    with pytest.raises(CostModelError, match="outer did not finish within 1 s"):
        with running("outer", 1):
            with running("inner", 5):         # the timer is the outer's; the inner one sets none
                while True:
                    pass


@pytest.mark.parametrize("value", ["inf", "nan", "0", "-1", "1e12", "1e400"])
def test_a_timeout_out_of_range_is_refused(value, capsys):
    status, _, err = run(["table", "mobilenet_v1", "--timeout", value], capsys)
    assert "--timeout must be a number of seconds in (0, 604,800]" in one_line(status, err)


def _children(pid):
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from /proc")
def test_the_bench_worker_dies_with_its_parent(models, tmp_path):
    """A SIGKILL of costmodel left the worker running as an orphan, with no deadline of its own."""
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[2]), *sys.path])}
    parent = subprocess.Popen([sys.executable, "-m", "costmodel", "bench", f"{models}:sleeps_when_run", "--input",
                               "3x16x16", "--warmup", "0", "--repeats", "1"], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not _children(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        (worker,) = _children(parent.pid)
        time.sleep(1.0)                       # the worker is running the module by now, or about to
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 20
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker)
    finally:
        parent.kill()
        for pid in _children(parent.pid):
            os.kill(pid, signal.SIGKILL)


def test_an_unwritable_output_is_refused_before_measuring(models, tmp_path, capsys):
    """calibrate wrote nothing after 17.7 s of an 18.3 s measurement; now it refuses before starting."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    for command in (["calibrate"], ["bench", f"{models}:sleeps_when_run", "--input", "3x16x16"]):
        start = time.perf_counter()
        status, _, err = run([*command, "-o", str(locked / "out.toml")], capsys)
        assert "is read-only" in one_line(status, err) and time.perf_counter() - start < 5
        status, _, err = run([*command, "-o", str(tmp_path / "missing" / "out.toml")], capsys)
        assert "does not exist" in one_line(status, err)
