"""Hostile device files (issue 22, item 2): every command that takes ``--device`` reads a device file once, through
the reader spec files use (a regular file of at most 4 MiB, with every guard), and checks every field; anything
wrong ends in one line naming the file and the field, exit status 2, and the output file left as it was. JSON output
never holds NaN or Infinity."""
import json
import os
import time

import pytest

from costmodel import tomlfiles
from costmodel.latency.devices import load_device, load_profile, load_target
from costmodel.core.errors import CostModelError
from costmodel.core.formatting import json_text
from costmodel.latency import KernelModel, Profile, fit

from helpers import one_line, run

PREVIOUS = "the previous output\n"


def commands(device, output):
    """Each command that takes --device, writing to ``output``."""
    return {"table": ["table", "mobilenet_v1", "--device", device, "-o", output],
            "report": ["report", "mobilenet_v1", "--no-fvcore", "--device", device, "-o", output],
            "fit": ["fit", "mobilenet_v1", "--max-latency", "20ms", "--device", device, "-o", output],
            "compare": ["compare", "mobilenet_v1", "mobilenet_v1:alpha=0.5", "--device", device, "-o", output]}


def profile_text(header=None, kind=None, tail=""):
    """A profile as calibrate writes one, with fields of ``[profile]`` or ``[kinds.default]`` replaced or added
    (raw TOML values) and ``tail`` appended."""
    fields = {"name": '"toy"', "description": '"made up"', "view": '"unfused"', "threads": "1", **(header or {})}
    terms = {"overhead_us": "1.0", "us_per_mmadd": "2.0", "us_per_mb": "0.5", "samples": "3", **(kind or {})}
    return ("[profile]\n" + "".join(f"{key} = {value}\n" for key, value in fields.items()) +
            "\n[kinds.default]\n" + "".join(f"{key} = {value}\n" for key, value in terms.items()) + tail)


def refused_everywhere(tmp_path, capsys, device, message):
    """Run every command on ``device``: status 2, one line naming the file and ``message``, and the output file
    (and its directory) as they were."""
    output = tmp_path / "out" / "result.txt"
    output.parent.mkdir(exist_ok=True)
    output.write_text(PREVIOUS)
    for name, argv in commands(str(device), str(output)).items():
        start = time.perf_counter()
        status, out, err = run(argv, capsys)
        assert time.perf_counter() - start < 10, name
        line = one_line(status, err)
        assert str(device) in line and message in line, (name, line)
        assert out == "" and output.read_text() == PREVIOUS and os.listdir(output.parent) == ["result.txt"], name
    return line


# Files that are not regular files, or too large: refused unread, in bounded time -----------------------------------

def test_a_fifo_is_refused_unread(tmp_path, capsys):
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)                                  # no writer: reading it would block for ever
    refused_everywhere(tmp_path, capsys, fifo, "is a FIFO, not a regular file")
    status, _, err = run(["reproduce", "mobilenet_v1", "--device", str(fifo), "--no-write"], capsys)
    assert "is a FIFO, not a regular file" in one_line(status, err)


def test_a_fifo_without_a_suffix_is_a_file_not_a_preset_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.mkfifo("pipe")
    line = refused_everywhere(tmp_path, capsys, "pipe", "is a FIFO, not a regular file")
    assert "device file 'pipe'" in line


def test_a_symlink_to_dev_zero_is_refused_unread(tmp_path, capsys):
    zero = tmp_path / "zero.toml"
    zero.symlink_to("/dev/zero")
    refused_everywhere(tmp_path, capsys, zero, "is a character device, not a regular file")


def test_a_directory_is_refused(tmp_path, capsys):
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    refused_everywhere(tmp_path, capsys, folder, "is a directory, not a regular file")


@pytest.mark.parametrize("size", [4 * 1024 * 1024 + 1, 95 * 1000 * 1000])
def test_a_file_over_the_size_bound_is_refused_unread(tmp_path, capsys, size):
    huge = tmp_path / "huge.toml"
    with open(huge, "wb") as stream:                 # sparse: no disk or memory spent
        stream.truncate(size)
    refused_everywhere(tmp_path, capsys, huge, f"{size:,} bytes is more than the limit of 4,194,304 for a device "
                                               "file")


def test_a_missing_file(tmp_path, capsys):
    refused_everywhere(tmp_path, capsys, tmp_path / "none.toml", "does not exist")


# Text that is not TOML, or TOML the parser chokes on; every field checked ------------------------------------------

TEXTS = [
    (b"[profile]\nname = \"\xff\xfe\"\n", "not UTF-8 text (byte 18)"),         # 10 + 8 bytes before the 0xff
    (b"[profile]\n\0\n", "not a text file"),
    (b"  \n\n", "the file is empty"),
    (b"a = " + b"[" * 10_000 + b"]" * 10_000 + b"\n", "invalid TOML: nested too deeply"),
    (b"[kinds." + b"a." * 100 + b"b]\n", "a key has more than 64 dotted parts"),
    (b"x." * 5000 + b"y = 1\n", "a key has more than 64 dotted parts"),
    (b"[kinds.default]\noverhead_us = 1" + b"0" * 5000 + b"\n", "invalid TOML: a number has more than 4,300 digits"),
    (b"[profile\n", "invalid TOML"),
    (b'{"profile": {}}', "device files are TOML, and this file looks like JSON"),
]

TERMS = "must be a number in [0, 1e+09]"
SAMPLES = "[kinds.default] samples must be an integer in [0, 1,000,000,000], got"
THREADS = "[profile] threads must be an integer in [1, 4,096], got"
KERNEL_MODELS = [
    ({"overhead_us": "nan"}, f"[kinds.default] overhead_us {TERMS} (us per kernel), got nan"),
    ({"us_per_mmadd": "inf"}, f"[kinds.default] us_per_mmadd {TERMS} (us per 10^6 mult-adds), got inf"),
    ({"us_per_mmadd": "-inf"}, f"[kinds.default] us_per_mmadd {TERMS} (us per 10^6 mult-adds), got -inf"),
    ({"us_per_mb": "1e400"}, f"[kinds.default] us_per_mb {TERMS} (us per 10^6 bytes), got inf"),
    ({"us_per_mb": "-1.5"}, f"[kinds.default] us_per_mb {TERMS} (us per 10^6 bytes), got -1.5"),
    ({"overhead_us": "1e12"}, f"[kinds.default] overhead_us {TERMS} (us per kernel), got 1000000000000.0"),
    ({"overhead_us": "1000000001"}, f"[kinds.default] overhead_us {TERMS} (us per kernel), got 1000000001"),
    ({"overhead_us": "1" + "0" * 4000}, f"[kinds.default] overhead_us {TERMS} (us per kernel), got 1000"),
    ({"overhead_us": "true"}, f"[kinds.default] overhead_us {TERMS} (us per kernel), got True"),
    ({"overhead_us": '"1.0"'}, f"[kinds.default] overhead_us {TERMS} (us per kernel), got '1.0'"),
    ({"us_per_mb": "[1.0]"}, f"[kinds.default] us_per_mb {TERMS} (us per 10^6 bytes), got [1.0]"),
    ({"samples": "inf"}, f"{SAMPLES} inf"),
    ({"samples": "[1]"}, f"{SAMPLES} [1]"),
    ({"samples": '"many"'}, f"{SAMPLES} 'many'"),
    ({"samples": "true"}, f"{SAMPLES} True"),
    ({"samples": "2.0"}, f"{SAMPLES} 2.0"),
    ({"samples": "-1"}, f"{SAMPLES} -1"),
    ({"samples": "1" + "0" * 30}, f"{SAMPLES} 1{'0' * 30}"),
    ({"flops": "1"}, "[kinds.default] unknown field 'flops' (known: overhead_us, us_per_mmadd, us_per_mb, us_per_mb_beyond, samples)"),
]
HEADERS = [
    ({"threads": "0"}, f"{THREADS} 0"),
    ({"threads": "true"}, f"{THREADS} True"),
    ({"threads": "1e9"}, f"{THREADS} 1000000000.0"),
    ({"threads": "1000000000"}, f"{THREADS} 1000000000"),
    ({"threads": "inf"}, f"{THREADS} inf"),
    ({"threads": '"4"'}, f"{THREADS} '4'"),
    ({"name": "5"}, "[profile] name must be a string, got 5"),
    ({"name": '["a"]'}, "[profile] name must be a string, got ['a']"),
    ({"description": "{ a = 1 }"}, "[profile] description must be a string, got {'a': 1}"),
    ({"view": '"sideways"'}, "[profile] view must be one of unfused, fused, got 'sideways'"),
    ({"view": "1"}, "[profile] view must be one of unfused, fused, got 1"),
    ({"cores": "4"}, "[profile] unknown field 'cores' (known: name, description, view, threads, statistic, cache_mb, engine)"),
]
TABLES = [
    (profile_text(tail="[kinds.activation.relu]\noverhead_us = 1.0\nus_per_mmadd = 0.0\nus_per_mb = 1.0\n"),
     "[kinds.activation] unknown field 'relu' (a kind with a dot in its name is quoted: "
     '[kinds."activation.relu"])'),
    (profile_text(tail="[kinds.conv]\noverhead_us = 1.0\nus_per_mmadd = 0.0\n"),
     "[kinds.conv] missing field 'us_per_mb' (us per 10^6 bytes)"),
    (profile_text(tail="[kinds]\nconv = 5\n"), "[kinds.conv] must be a table of overhead_us, us_per_mmadd, "
                                                "us_per_mb, us_per_mb_beyond, samples, got 5"),
    (profile_text().replace("[kinds.default]", "[kinds.conv]"), "needs a [profile] table and [kinds.*] tables, "
                                                                 "[kinds.default] among them"),
    ("kinds = 5\n[profile]\n", "needs a [profile] table and [kinds.*] tables"),
    ("profile = [1]\n[kinds.default]\noverhead_us = 0\nus_per_mmadd = 0\nus_per_mb = 0\n",
     "needs a [profile] table and [kinds.*] tables"),
    (profile_text(tail="[extra]\nx = 1\n"), "unknown table 'extra' (a device file holds [device], [profile], "
                                            "[kinds], [context])"),
    ('title = "x"\n', "unknown table 'title'"),
    (profile_text(tail="[device]\npeak_gflops = nan\nbandwidth_gbps = 10\n"),
     "[device] peak_gflops must be a number in [1e-06, 1e+09], got nan"),
    (profile_text(tail="[device]\npeak_gflops = 10\nbandwidth_gbps = 1" + "0" * 400 + "\n"),
     "bandwidth_gbps must be a number in [1e-06, 1e+09], got 1000"),
    (profile_text(tail="[device]\npeak_gflops = 10\nbandwidth_gbps = 10\nname = [1]\n"),
     "[device] name must be a string, got [1]"),
    (profile_text(tail="[device]\npeak_gflops = 10\nbandwidth_gbps = 10\ncores = 4\n"),
     "[device] unknown field 'cores' (known: name, description, source, peak_gflops, "
     "bandwidth_gbps)"),
    ("device = 5\n" + profile_text(), "[device] must be a table of name, description, source, peak_gflops, "
                                      "bandwidth_gbps, got 5"),
]
CASES = TEXTS + [(profile_text(kind=kind), message) for kind, message in KERNEL_MODELS] + \
    [(profile_text(header=header), message) for header, message in HEADERS] + TABLES


@pytest.mark.parametrize("text, message", CASES, ids=[message[:60] for _, message in CASES])
def test_a_bad_file_or_field_is_refused(tmp_path, capsys, text, message):
    device = tmp_path / "device.toml"
    device.write_bytes(text if isinstance(text, bytes) else text.encode())
    refused_everywhere(tmp_path, capsys, device, message)


def test_a_file_with_neither_table_and_a_preset_where_a_profile_is_needed(tmp_path, capsys):
    roofline = tmp_path / "board.toml"
    roofline.write_text("[device]\npeak_gflops = 10\nbandwidth_gbps = 2\n")
    status, _, err = run(["table", "mobilenet_v1", "--device", str(roofline)], capsys)
    assert f"{roofline}: no [profile] table" in one_line(status, err)
    status, _, err = run(["table", "mobilenet_v1", "--device", "raspberry-pi-4"], capsys)
    assert "device 'raspberry-pi-4' is a roofline preset, which predicts no latency" in one_line(status, err)
    profile_only = tmp_path / "cpu.toml"
    profile_only.write_text(profile_text())
    with pytest.raises(CostModelError, match="cpu.toml: no \\[device\\] table"):
        load_device(str(profile_only))


# What a good file gives ------------------------------------------------------------------------------------------

def test_a_written_profile_loads_back_equal(tmp_path):
    # two kinds and a key with a dot; a name with quotes, a backslash, a control character and non-ASCII text
    samples = [("conv", "conv", m, b, 5 + 2 * m / 1e6 + 3 * b / 1e6) for m, b in ((1e6, 2e6), (4e6, 1e6),
                                                                                  (9e6, 5e6), (2e6, 7e6))]
    samples += [("activation", "activation.relu", 0, b, 0.5 * b / 1e6) for b in (1e6, 3e6, 8e6)]
    profile = fit(samples, 'cpu "x" \\ \x1b[2J é', "a\tb\nc", 8)
    assert set(profile.kinds) == {"conv", "activation", "activation.relu", "default"}
    path = tmp_path / "cpu.toml"
    path.write_text(profile.to_toml(), encoding="utf-8")
    assert load_profile(str(path)) == profile
    assert load_target(str(path)).profile == profile
    by_hand = Profile("p", "", "fused", 4096, {"default": KernelModel(0, 1e9, 0.25, 10**9),
                                               "pool.max.3x3s2": KernelModel(1e-300, 0, 1e9)})
    path.write_text(by_hand.to_toml(), encoding="utf-8")
    assert load_profile(str(path)) == by_hand


def test_a_profile_object_refuses_what_its_file_would(tmp_path):
    with pytest.raises(CostModelError, match=r"^overhead_us must be a number in \[0, 1e\+09\] \(us per kernel\), "
                                             "got nan$"):
        KernelModel(float("nan"), 0.0, 0.0)
    with pytest.raises(CostModelError, match="samples must be an integer"):
        KernelModel(0.0, 0.0, 0.0, samples=float("inf"))
    with pytest.raises(CostModelError, match=r"^threads must be an integer in \[1, 4,096\], got 0$"):
        Profile("p", "", "unfused", 0, {"default": KernelModel(0.0, 0.0, 0.0)})
    with pytest.raises(CostModelError, match="'default' among them"):
        Profile("p", "", "unfused", 1, {"conv": KernelModel(0.0, 0.0, 0.0)})
    with pytest.raises(CostModelError, match="no finite fit"):
        fit([("add", "add", 0, 10**6, float("inf"))], "p", "", 1)


def test_each_command_reads_the_file_once(tmp_path, monkeypatch):
    path = tmp_path / "both.toml"
    path.write_text(profile_text(tail="[device]\npeak_gflops = 10\nbandwidth_gbps = 2\n"))
    reads = []
    real = tomlfiles.read_bounded
    monkeypatch.setattr(tomlfiles, "read_bounded", lambda *args: reads.append(args) or real(*args))
    target = load_target(str(path))
    assert target.device.peak_gflops == 10.0 and target.profile.kinds["default"].us_per_mmadd == 2.0
    assert reads == [(str(path), "device file")]
    load_profile(str(path))
    load_device(str(path))
    assert len(reads) == 3


def test_the_profile_name_is_shown_escaped(tmp_path, capsys):
    device = tmp_path / "device.toml"
    device.write_text(profile_text(header={"name": '"evil\\u001b[2J"'}))
    status, out, err = run(["table", "mobilenet_v1", "--device", str(device)], capsys)
    assert status == 0, err
    assert "predicted latency on evil\\x1b[2J (unfused view" in out and "\x1b" not in out


# JSON never holds NaN or Infinity -----------------------------------------------------------------------------------

def strict_json(text):
    def refuse(constant):
        raise AssertionError(f"{constant} in the JSON output")
    return json.loads(text, parse_constant=refuse)


def test_table_json_parses_strictly(tmp_path, capsys):
    device = tmp_path / "good.toml"
    device.write_text(profile_text())
    status, out, err = run(["table", "mobilenet_v1", "--device", str(device), "--format", "json"], capsys)
    assert status == 0, err
    document = strict_json(out)
    # 1 us per kernel + 2 us per 10^6 mult-adds + 0.5 us per 10^6 bytes, every layer by the default model
    by_hand = sum(1.0 + 2.0 * layer["madds"] / 1e6 + 0.5 * layer["memory_access_bytes"] / 1e6
                  for layer in document["layers"]) / 1e3
    assert document["latency"]["total_ms"] == pytest.approx(by_hand)
    status, out, err = run(["fit", "mobilenet_v1", "--max-latency", "20ms", "--device", str(device),
                            "--alpha", "0.25:0.5:0.25", "--resolution", "96:128:32", "--format", "json"], capsys)
    assert status == 0, err
    front = strict_json(out)
    assert front["limits"] == {"latency_ms": 20.0, "profile": "toy"}
    assert front["front"] and all(row["latency_ms"] <= 20 for row in front["front"])


def test_a_value_that_is_not_finite_never_reaches_json(tmp_path, capsys, monkeypatch):
    assert strict_json(json_text({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}
    with pytest.raises(CostModelError, match=r"^cannot write JSON: a\.1\.b is not a finite number"):
        json_text({"a": [0.0, {"b": float("-inf")}]})
    # were a bug to let one through, the command ends in one line, and the output file is left as it was
    device = tmp_path / "good.toml"
    device.write_text(profile_text())
    output = tmp_path / "out.json"
    output.write_text(PREVIOUS)
    monkeypatch.setattr(Profile, "layer_ms", lambda self, analysis: [float("nan")] * len(analysis.layers))
    status, _, err = run(["table", "mobilenet_v1", "--device", str(device), "--format", "json", "-o", str(output)],
                         capsys)
    assert "cannot write JSON: latency.total_ms is not a finite number" in one_line(status, err)
    assert output.read_text() == PREVIOUS
