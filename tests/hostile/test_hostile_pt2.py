"""Issue 22, item 1 (and item 3's zip bomb): opening a ``.pt2`` file never runs code from it. Each hostile file is a
real program saved by ``torch.export.save`` with one part replaced by a payload that, if anything ran it, would write
a marker file; each test checks the exit status, the one line, and that the marker was never written."""
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

import costmodel
from costmodel.core.errors import CostModelError
from costmodel.sources.importer import pt2_archive

from helpers import one_line, run


class Payload:
    """Unpickled, it writes ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('ran')",)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A real program: a 3x3 convolution (8 x 3 x 3 x 3 weights + 8 biases = 224 parameters) and a ReLU."""
    path = tmp_path_factory.mktemp("pt2") / "good.pt2"
    module = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()).eval()
    torch.export.save(torch.export.export(module, (torch.zeros(1, 3, 16, 16),)), str(path))
    return path


def rewrite(source, target, change, add=()):
    """``source`` with each entry's bytes passed through ``change(name below the root, bytes)`` (None drops it) and
    the (name, bytes) of ``add`` appended; names are below the root folder unless they start with '/'."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        root = old.namelist()[0].split("/")[0]
        for info in old.infolist():
            data = change(info.filename.split("/", 1)[1], old.read(info))
            if data is not None:
                new.writestr(info, data)
        for name, data in add:
            new.writestr(name[1:] if name.startswith("/") else f"{root}/{name}", data)
    return str(target)


def pickled(value):
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def refused(path, marker, capsys, *words):
    """Every way a .pt2 is opened (table, sweep, the Python API) refuses it in one line and runs nothing."""
    status, out, err = run(["table", path], capsys)
    line = one_line(status, err)
    for word in words:
        assert word in line, line
    assert out == "" and not os.path.exists(marker)
    status, _, err = run(["sweep", path, "--resolution", "16"], capsys)
    one_line(status, err)
    with pytest.raises(CostModelError):
        costmodel.analyze(path)
    assert not os.path.exists(marker)
    return line


def test_the_good_file_is_counted(saved, capsys):
    status, out, _ = run(["table", str(saved), "--format", "json"], capsys)
    assert status == 0 and json.loads(out)["totals"]["params"] == 8 * 3 * 3 * 3 + 8


def test_pickled_sample_inputs_are_refused_unrun(saved, tmp_path, capsys):
    """torch.export.load unpickles sample inputs with weights_only=False when the safe load fails."""
    marker = tmp_path / "ran"
    path = rewrite(saved, tmp_path / "evil.pt2", lambda name, data: pickled(((Payload(marker),), {}))
                   if name.startswith("data/sample_inputs/") else data)
    refused(path, marker, capsys, "sample inputs", "need a full unpickle", "torch.export.save")


def test_pickled_weights_are_refused_unrun(saved, tmp_path, capsys):
    """A weight marked use_pickle is loaded with torch.load(weights_only=False)."""
    marker = tmp_path / "ran"

    def change(name, data):
        if name == "data/weights/model_weights_config.json":
            config = json.loads(data)
            config["config"]["0.weight"]["use_pickle"] = True
            return json.dumps(config).encode()
        if name == "data/weights/" + "weight_0":
            return pickled(Payload(marker))
        return data

    refused(rewrite(saved, tmp_path / "evil.pt2", change), marker, capsys, "weight '0.weight' is a pickled object")


def test_opaque_and_custom_constants_are_refused_unrun(saved, tmp_path, capsys):
    """Constants whose file is an opaque object are pickle.loads'ed; custom objects go to torch's own unpickler."""
    marker = tmp_path / "ran"
    for prefix in ("opaque_obj", "custom_obj"):
        def change(name, data):
            if name == "data/constants/model_constants_config.json":
                return json.dumps({"config": {"c": {"path_name": f"{prefix}0", "is_param": False,
                                                    "use_pickle": False, "tensor_meta": None}}}).encode()
            return data

        path = rewrite(saved, tmp_path / f"{prefix}.pt2", change,
                       add=[(f"data/constants/{prefix}0", pickle.dumps(Payload(marker)))])
        refused(path, marker, capsys, "constant 'c' is a pickled object")


def test_compiled_code_and_other_entries_are_refused(saved, tmp_path, capsys):
    """AOTInductor's shared libraries would be loaded with dlopen; an unknown entry is not of the format."""
    marker = tmp_path / "ran"
    for added, words in ((("data/aotinductor/model/model.so", b"\x7fELF"), ("compiled AOTInductor code",)),
                         (("notes/readme.txt", b"hi"), ("'notes/readme.txt' is not part of",)),
                         (("/elsewhere/x", b"hi"), ("outside its folder",))):
        path = rewrite(saved, tmp_path / "more.pt2", lambda name, data: data, add=[added])
        refused(path, marker, capsys, *words)


def test_the_older_format_is_refused_unrun(tmp_path, capsys):
    """torch.export.load falls back to the format of torch 2.7 (pickled example inputs at the archive's root)."""
    marker = tmp_path / "ran"
    path = tmp_path / "old.pt2"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("version", "8.0")
        archive.writestr("serialized_exported_program.json", "{}")
        archive.writestr("serialized_example_inputs.pt", pickled(Payload(marker)))
    refused(str(path), marker, capsys, "not a saved torch.export program")


def test_a_symbolic_size_that_is_python_is_refused_unrun(saved, tmp_path, capsys):
    """torch parses symbolic sizes with sympy.sympify, which evaluates its string as Python."""
    marker = tmp_path / "ran"

    def change(name, data):
        if name == "models/model.json":
            program = json.loads(data)
            value = next(iter(program["graph_module"]["graph"]["tensor_values"].values()))
            value["sizes"][0] = {"as_expr": {"expr_str": f"__import__('os').system('touch {marker}')",
                                             "hint": {"as_int": 8}}}
            return json.dumps(program).encode()
        return data

    refused(rewrite(saved, tmp_path / "evil.pt2", change), marker, capsys, "is not an expression of sizes")


def test_guards_code_is_never_run(saved, tmp_path, capsys):
    """ExportedProgram.module() executes the program's guards_code; costmodel empties it (it is never needed to
    count), so the file is counted and nothing runs."""
    marker = tmp_path / "ran"

    def change(name, data):
        if name == "models/model.json":
            program = json.loads(data)
            program["guards_code"] = [f"open({str(marker)!r}, 'w').write('ran') or True"]
            return json.dumps(program).encode()
        return data

    path = rewrite(saved, tmp_path / "guards.pt2", change)
    status, out, _ = run(["table", path, "--format", "json"], capsys)
    assert status == 0 and json.loads(out)["totals"]["params"] == 224 and not marker.exists()


def test_the_guard_holds_where_the_checks_are_skipped(saved, tmp_path, monkeypatch):
    """Defence in depth: with the archive checks switched off, torch's own load still neither unpickles in full nor
    evaluates a size as Python."""
    marker = tmp_path / "ran"
    sample = rewrite(saved, tmp_path / "sample.pt2", lambda name, data: pickled(((Payload(marker),), {}))
                     if name.startswith("data/sample_inputs/") else data)
    monkeypatch.setattr(pt2_archive, "checked_archive", lambda path: Path(path).read_bytes())
    import sympy

    load, sympify = torch.load, sympy.sympify
    with pytest.raises(CostModelError, match="asks for a full unpickle"):
        pt2_archive.read_program(sample)
    assert not marker.exists()
    assert (torch.load, sympy.sympify) == (load, sympify)          # put back as they were


def test_symbolic_sizes_are_arithmetic_on_sizes():
    """What torch writes passes; what sympify would evaluate as Python, or without bound on numbers, does not."""
    for text in ("s0", "2*s77 + 1", "Max(1, s0)", "FloorDiv(s1, 2)", "((s0 - 1)//2) + 1", "Ne(s0, 1)", "1.5*s0"):
        assert pt2_archive.safe_expression(text), text
    for text in ("__import__('os')", "s0.real", "open", "x", "9**9**9", "99999!", "LShift(1, 10000000)",
                 "PowByNatural(9, 99999999)", "1" * 41, "s0 + " * 3000 + "s0"):
        assert not pt2_archive.safe_expression(text), text[:40]


def test_a_zip_bomb_is_refused_before_it_is_inflated(saved, tmp_path, capsys):
    """A weight of 200 MB of zeros, deflated to a few hundred kB: the declared size is refused before anything is
    allocated (torch stores its entries uncompressed)."""
    path = tmp_path / "bomb.pt2"
    with zipfile.ZipFile(saved) as old, zipfile.ZipFile(path, "w") as new:
        for info in old.infolist():
            if info.filename.endswith("/weight_0"):
                inflated = zipfile.ZipInfo(info.filename)
                inflated.compress_type = zipfile.ZIP_DEFLATED
                with new.open(inflated, "w", force_zip64=True) as stream:
                    zero = bytes(1 << 20)
                    for _ in range(200):
                        stream.write(zero)
            else:
                new.writestr(info, old.read(info))
    assert os.path.getsize(path) < 2_000_000
    refused(str(path), tmp_path / "ran", capsys, "expand to", "zip bomb")


def test_files_that_are_not_archives(tmp_path, capsys):
    fifo = tmp_path / "pipe.pt2"
    os.mkfifo(fifo)
    os.symlink("/dev/zero", tmp_path / "zero.pt2")
    (tmp_path / "empty.pt2").write_bytes(b"")
    (tmp_path / "text.pt2").write_text("not a zip")
    for name, words in (("pipe.pt2", "not a regular file"), ("zero.pt2", "not a regular file"),
                        ("empty.pt2", "not a saved torch.export program"),
                        ("text.pt2", "not a saved torch.export program")):
        status, _, err = run(["table", str(tmp_path / name)], capsys)
        assert words in one_line(status, err), err


def test_without_torch_a_pt2_file_is_one_line(saved, tmp_path, monkeypatch, capsys):
    """A new user without torch got a ModuleNotFoundError traceback."""
    import shutil
    import sys

    path = shutil.copy(saved, tmp_path / "fresh.pt2")       # not one this process has loaded before
    monkeypatch.setitem(sys.modules, "torch", None)          # `import torch` fails, find_spec finds nothing
    status, _, err = run(["table", str(path)], capsys)
    assert "reading a .pt2 file needs torch: pip install torch==2.13.0" in one_line(status, err)
