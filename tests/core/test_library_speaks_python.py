"""The library speaks Python (issue 23, item 3): outside the command line (``cli.py``), no error message names a
flag; a ``ParameterError`` names parameters, and the command line says its flags for them."""
import ast
import re
from pathlib import Path

import pytest

import costmodel
from costmodel.cli import flag_of
from costmodel.core.errors import CostModelError, ParameterError, param, within

from helpers import run

PACKAGE = Path(costmodel.__file__).parent
FLAG = re.compile(r"(?<![\w-])--[a-z]")


def _raised_texts(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            for inner in ast.walk(node.exc):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    yield node.lineno, inner.value


def test_no_message_outside_the_command_line_names_a_flag():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "cli.py":
            continue
        for line, text in _raised_texts(ast.parse(path.read_text(), str(path))):
            if FLAG.search(text):
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {text!r}")
    assert not found, "\n".join(found)


def test_the_check_above_finds_a_flag_in_a_message():
    tree = ast.parse('raise CostModelError(f"{x}: give --input CxHxW", "a x--y z")')
    assert sorted(FLAG.search(text) is not None for _, text in _raised_texts(tree)) == [False, True]


def test_a_parameter_error_reads_its_names_and_the_command_line_its_flags():
    error = ParameterError(param("max_latency_ms"), " needs ", param("profile", "PROFILE"))
    assert str(error) == "max_latency_ms needs profile"
    assert error.said(flag_of) == "--max-latency needs --device PROFILE"
    assert isinstance(error, CostModelError)


def test_a_located_parameter_error_keeps_its_names():
    located = within("net.py:build at 8x8: ", ParameterError("cannot count aten.foo (", param("strict"), ")"))
    assert str(located) == "net.py:build at 8x8: cannot count aten.foo (strict)"
    assert located.said(flag_of) == "net.py:build at 8x8: cannot count aten.foo (--strict)"
    plain = within("here: ", CostModelError("no such node"))
    assert type(plain) is CostModelError and str(plain) == "here: no such node"


@pytest.mark.parametrize("call, python, argv, command_line", [
    (lambda: costmodel.analyze("mobilenet_v1", options={"input": "3x32x32"}),
     "input applies to an imported module", ["table", "mobilenet_v1", "--input", "3x32x32"],
     "--input applies to an imported module (file.py:factory or package.module:factory); a zoo model or spec file "
     "takes --resolution"),
    (lambda: costmodel.fit("mobilenet_v1", max_madds="150X"), "max_madds must be a number with a unit",
     ["fit", "mobilenet_v1", "--max-madds", "150X"], "--max-madds must be a number with a unit like 150M"),
])
def test_the_same_error_in_python_and_on_the_command_line(call, python, argv, command_line, capsys):
    with pytest.raises(CostModelError) as raised:
        call()
    assert str(raised.value).startswith(python) and "--" not in str(raised.value)
    status, out, err = run(argv, capsys)
    assert status == 2 and command_line in err
