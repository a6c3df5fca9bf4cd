"""Writing output files atomically: a temporary file in the same directory, then a rename. A failed or
interrupted run never leaves a half-written file and never destroys the previous one."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .errors import CostModelError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: "str | Path", text: str, make_parents: bool = False) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically. A missing directory is an error naming it, unless
    ``make_parents``."""
    target = Path(path)
    directory = target.parent
    if make_parents:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CostModelError(f"cannot create directory {str(directory)!r}: {error.strerror}") from None
    if not directory.is_dir():
        raise CostModelError(f"output directory {str(directory)!r} does not exist")
    if target.is_dir():
        raise CostModelError(f"output path {str(target)!r} is a directory")
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise CostModelError(f"cannot write in {str(directory)!r}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())     # mkstemp makes 0600; an output file gets the usual mode
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise CostModelError(f"cannot write {str(target)!r}: {error.strerror}") from None
        raise
