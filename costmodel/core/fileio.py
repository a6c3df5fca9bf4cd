"""Files in and out. Writing output files: atomically where the path is a regular file (a temporary file in the same
directory, then a rename), so a failed or interrupted run never leaves a half-written file and never destroys the
previous one; through, without renaming, where the path is a device or a pipe (``-o /dev/null``, ``-o /dev/stdout``);
an output that is an input is refused before any work (``check_outputs``). Reading the user's files
(``read_bounded``): regular files only, refused unread otherwise, and bounded in size.

What careful tools do, and this module does: a symlink stays a symlink (its target is written, as editors do); an
existing file keeps its mode (and, for root, its owner); a read-only file or directory is an error, even for root,
not an override; a FIFO is written only when a process reads it; a socket or a directory is refused.
"""
from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterable

from .errors import CostModelError

_TEMPORARIES: set[str] = set()          # temporary files being written now (removed on a signal too)
MAX_TEXT_BYTES = 4 * 1024 * 1024        # a spec or device file


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_temporaries() -> None:
    """Remove every temporary file this process is writing (called when a signal stops it)."""
    for name in list(_TEMPORARIES):
        try:
            os.unlink(name)
        except OSError:
            pass
        _TEMPORARIES.discard(name)


def _write_through(target: str, text: "str | bytes", mode: int) -> None:
    """Write ``text`` to a device or a FIFO as it is (it cannot be replaced)."""
    flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(mode) else 0)
    try:
        descriptor = os.open(target, flags)
    except OSError as error:
        if error.errno == errno.ENXIO:
            raise CostModelError(f"no process reads the FIFO {target!r}") from None
        raise CostModelError(f"cannot write {target!r}: {error.strerror}") from None
    try:
        if stat.S_ISFIFO(mode):
            os.set_blocking(descriptor, True)
        with _open(descriptor, text) as stream:
            stream.write(text)
    except OSError as error:
        raise CostModelError(f"cannot write {target!r}: {error.strerror}") from None


def _open(descriptor: int, text: "str | bytes") -> Any:
    """A stream on ``descriptor`` for ``text``: binary for bytes, UTF-8 for a string."""
    if isinstance(text, bytes):
        return os.fdopen(descriptor, "wb")
    return os.fdopen(descriptor, "w", encoding="utf-8", newline="")


def _read_only(mode: int) -> bool:
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def _status(given: str) -> "os.stat_result | None":
    """What ``given`` is, through symlinks (what is written to); None where nothing is there yet. A directory or a
    socket is refused."""
    try:
        status = os.stat(given)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CostModelError(f"cannot write {given!r}: {error.strerror}") from None
    if stat.S_ISDIR(status.st_mode):
        raise CostModelError(f"output path {given!r} is a directory")
    if stat.S_ISSOCK(status.st_mode):
        raise CostModelError(f"output path {given!r} is a socket")
    return status


def _check_directory(directory: Path) -> None:
    if not directory.is_dir():
        raise CostModelError(f"output directory {str(directory)!r} does not exist")
    if _read_only(directory.stat().st_mode):
        raise CostModelError(f"output directory {str(directory)!r} is read-only")


def check_output(path: "str | Path", inputs: "Iterable[str | Path]" = (), make_parents: bool = False) -> None:
    """Refuse, before any work, an output ``path`` that ``write_atomic`` would refuse (a directory, a socket, a
    read-only file or directory, a missing directory unless ``make_parents``), or that is one of the ``inputs``:
    the same file, by device and inode, however it is spelled (a symlink, a hard link, ``./``). A device or a FIFO
    is written through at the end, and checked then."""
    given = str(path)
    status = _status(given)
    if status is not None and not stat.S_ISREG(status.st_mode):
        return
    for source in inputs:
        try:
            other = os.stat(source)
        except OSError:
            continue
        if status is not None and (other.st_dev, other.st_ino) == (status.st_dev, status.st_ino):
            raise CostModelError(f"output file {given!r} is the input {str(source)!r}: writing it would replace "
                                 "the input; name another output")
    if status is not None and _read_only(status.st_mode):
        raise CostModelError(f"output file {given!r} is read-only")
    target = os.path.realpath(given)
    directory = Path(target).parent
    while make_parents and not directory.exists() and directory != directory.parent:
        directory = directory.parent
    _check_directory(directory)


def check_outputs(outputs: "Iterable[str | Path | None]", inputs: "Iterable[str | Path]" = ()) -> None:
    """``check_output`` of each of ``outputs`` (None and "-", standard output, are skipped), and no two of them the
    same file."""
    named = [str(path) for path in outputs if path is not None and str(path) != "-"]
    inputs = list(inputs)
    seen: dict[str, str] = {}
    for given in named:
        check_output(given, inputs)
        real = os.path.realpath(given)
        device = os.path.exists(real) and not stat.S_ISREG(os.stat(real).st_mode)      # /dev/null twice is fine
        if real in seen and not device:
            raise CostModelError(f"the outputs {seen[real]!r} and {given!r} are the same file: name two different "
                                 "files")
        seen[real] = given


def write_atomic(path: "str | Path", text: "str | bytes", make_parents: bool = False) -> None:
    """Write ``text`` (a string, as UTF-8; or bytes, as they are) to ``path``: atomically for a regular file (new or
    existing), through for a device or a read FIFO. A missing directory is an error naming it, unless
    ``make_parents``."""
    given = str(path)
    status = _status(given)
    if status is not None and not stat.S_ISREG(status.st_mode):
        _write_through(given, text, status.st_mode)       # a device or FIFO, even behind a link (/dev/stdout)
        return
    target = os.path.realpath(given) if os.path.islink(given) else given       # a symlink stays a symlink
    if status is not None and _read_only(status.st_mode):
        raise CostModelError(f"output file {given!r} is read-only")
    directory = Path(target).parent
    if make_parents:
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CostModelError(f"cannot create directory {str(directory)!r}: {error.strerror}") from None
    _check_directory(directory)
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{Path(target).name[:64]}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise CostModelError(f"cannot write in {str(directory)!r}: {error.strerror}") from None
    _TEMPORARIES.add(temporary)
    try:
        with _open(handle, text) as stream:
            stream.write(text)
        if status is None:
            os.chmod(temporary, 0o666 & ~_umask())     # mkstemp makes 0600; a new file gets the usual mode
        else:
            os.chmod(temporary, stat.S_IMODE(status.st_mode))          # an existing file keeps its mode
            if os.geteuid() == 0:
                try:
                    os.chown(temporary, status.st_uid, status.st_gid)  # and, for root, its owner
                except OSError:
                    pass
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise CostModelError(f"cannot write {given!r}: {error.strerror}") from None
        raise
    finally:
        _TEMPORARIES.discard(temporary)


_FILE_TYPES = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _check_regular(path: str, what: str, status: os.stat_result, limit: int = MAX_TEXT_BYTES) -> None:
    """Refuse anything but a regular file of at most ``limit`` bytes."""
    for test, kind in _FILE_TYPES:
        if test(status.st_mode):
            raise CostModelError(f"{what} {path!r} is {kind}, not a regular file")
    if not stat.S_ISREG(status.st_mode):
        raise CostModelError(f"{what} {path!r} is not a regular file")
    if status.st_size > limit:
        raise CostModelError(f"{path}: {status.st_size:,} bytes is more than the limit of {limit:,} for a {what}")


def read_bounded(path: str, what: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    :param path: the file (a symlink is followed).
    :param what: what the file is, for messages ("spec file", "device file", ".pt2 file").
    :param limit: the most bytes the file may have.
    :returns: the file's bytes.
    :raises CostModelError: the file is missing, unreadable, not a regular file (refused without opening it; the
        descriptor is checked again after a non-blocking open, so a file swapped meanwhile is refused unread too)
        or larger than ``limit``.
    """
    try:
        _check_regular(path, what, os.stat(path), limit)              # refused without opening it
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        with os.fdopen(descriptor, "rb") as stream:
            _check_regular(path, what, os.fstat(descriptor), limit)    # the file opened is the file checked
            raw = stream.read(limit + 1)
    except CostModelError:
        raise
    except FileNotFoundError:
        raise CostModelError(f"{what} {path!r} does not exist") from None
    except OSError as error:
        raise CostModelError(f"cannot read {what} {path!r}: {error.strerror}") from None
    except ValueError as error:                                  # a NUL in the path
        raise CostModelError(f"cannot read {what} {path!r}: {error}") from None
    if len(raw) > limit:
        raise CostModelError(f"{path}: more than the limit of {limit:,} bytes for a {what}")
    return raw


def available_memory() -> "int | None":
    """Bytes of memory available to a new allocation (Linux's MemAvailable), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
