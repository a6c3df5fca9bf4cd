"""The user's TOML files (spec files, device files): read with every guard, once, in bounded time and memory.

A file is read only when it is a regular file (a FIFO, a device, a directory or a socket is refused unread, behind a
symlink too) of at most ``fileio.MAX_TEXT_BYTES`` (``fileio.read_bounded``); it must be UTF-8 text without NUL
bytes, not empty, with no key of more than ``MAX_KEY_PARTS`` dotted parts (tomllib parses one in quadratic time);
TOML errors, numbers of more than 4,300 digits and nesting too deep for the parser end in one line. Every message
names the file and says what kind of file it is (``what``: "spec file", "device file").
"""
from __future__ import annotations

import math
import re
import tomllib
from typing import Any

from .errors import CostModelError
from .fileio import read_bounded


MAX_KEY_PARTS = 64            # tomllib parses a dotted key in time quadratic in its parts
_STRINGS = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\'')
def _long_key(text: str) -> bool:
    """Whether a key (before an ``=``, or in a ``[table]`` header) has more than ``MAX_KEY_PARTS`` dotted parts:
    one linear pass over the lines with strings removed."""
    for line in _STRINGS.sub("", text).splitlines():
        if line.count(".") < MAX_KEY_PARTS:
            continue
        stripped = line.strip()
        keys = [stripped] if stripped.startswith("[") else [
            segment.rsplit("{", 1)[-1].rsplit(",", 1)[-1] for segment in line.split("=")[:-1]]
        if any(key.count(".") >= MAX_KEY_PARTS for key in keys):
            return True
    return False


def _not_toml(path: str, text: str) -> "str | None":
    """What a file that fails to parse looks like instead of TOML (YAML, JSON), if anything."""
    stripped = text.lstrip()
    if path.endswith(".json") or stripped[:1] in ("{", "[") and stripped.rstrip()[-1:] in ("}", "]") and \
            not stripped.startswith("[["):
        return "JSON"
    if path.endswith((".yaml", ".yml")) or stripped.startswith("---") or \
            re.search(r"(?m)^[A-Za-z_][A-Za-z0-9_]*:(\s|$)", text):
        return "YAML"
    return None


def read_toml(path: str, what: str) -> tuple[dict[str, Any], str]:
    """The TOML document of the file at ``path``, read once through ``read_bounded`` with every guard.

    :param path: the file.
    :param what: what the file is, for messages ("spec file", "device file").
    :returns: the parsed document and the file's text (for line numbers in later messages).
    :raises CostModelError: one line naming the file: not readable as above, not a text file (NUL bytes), not
        UTF-8, empty, a key of more than ``MAX_KEY_PARTS`` dotted parts, YAML or JSON, invalid TOML (a number of more
        than 4,300 digits, nesting too deep for the parser included).
    """
    raw = read_bounded(path, what)
    if b"\0" in raw:
        raise CostModelError(f"{path}: not a text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise CostModelError(f"{path}: not UTF-8 text (byte {error.start})") from None
    if not text.strip():
        raise CostModelError(f"{path}: the file is empty")
    if _long_key(text):
        raise CostModelError(f"{path}: a key has more than {MAX_KEY_PARTS} dotted parts")
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError) as error:
        looks = _not_toml(path, text)
        if looks:
            raise CostModelError(f"{path}: {what}s are TOML, and this file looks like {looks}") from None
        reason = "a number has more than 4,300 digits" if "Exceeds the limit" in str(error) else error
        raise CostModelError(f"{path}: invalid TOML: {reason}") from None
    except RecursionError:
        raise CostModelError(f"{path}: invalid TOML: nested too deeply") from None
    return document, text


def number_in(value: Any, low: float, high: float) -> bool:
    """Whether a TOML value is a number (an int or a float, not a bool) in [``low``, ``high``]: never NaN or
    infinite, and an integer of any size is compared exactly (never converted to a float, which overflows).

    :param value: the value as tomllib read it.
    :param low: the least value allowed.
    :param high: the largest value allowed.
    :returns: True when the value is such a number.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return low <= value <= high
