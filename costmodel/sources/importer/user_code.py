"""Running the user's own code (a ``file.py:factory`` or ``module:factory``: its import, the factory, the trace or
export that calls ``forward``, a reference tool running the module) so that whatever it does ends in one line:
an exception, ``sys.exit``, a bare ``BaseException``, a recursion too deep, or a ``forward`` that never returns.

The time limit is a ``SIGALRM`` timer, so it holds in the main thread (where the command line runs) and stops Python
code; a single torch kernel that runs for long is stopped when it returns. In another thread no limit is set.
Ctrl-C and the signals that stop costmodel (``errors.Stopped``) go on unwinding as they are.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

from ...core.errors import CostModelError, ParameterError, Stopped, first_line, param
from ...core.formatting import echoed

DEFAULT_SECONDS = 600.0             # what the command line allows the user's code (--timeout)
MAX_SECONDS = 7 * 24 * 3600.0       # a week: setitimer and subprocess timeouts overflow on larger values
MAX_NESTING = 200                   # modules within modules (real networks nest fewer than 20 deep)


class TimeLimit(BaseException):
    """The user's code ran past its time limit (a BaseException, so that the code's own ``except Exception`` does
    not swallow it)."""


def check_seconds(value: Any, parameter: str = "timeout") -> float:
    """A time limit in seconds (of the user's code, or of bench's and calibrate's child).

    :param value: a number in (0, ``MAX_SECONDS``].
    :param parameter: the name ``value`` was given as, for the message.
    :returns: ``value`` as a float.
    :raises ParameterError: naming ``parameter``, for anything else (nan, inf, and 1e12, which overflows a wait).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_SECONDS:
        raise ParameterError(param(parameter), f" must be a number of seconds in (0, {MAX_SECONDS:,.0f}] (a week), "
                                               f"got {echoed(value)}")
    return float(value)


def describe(error: BaseException) -> str:
    """What the user's code did, in a few words: the exception's first line, or what ``sys.exit`` or a recursion
    too deep mean."""
    if isinstance(error, SystemExit):
        return f"it called sys.exit({error.code!r})"
    if isinstance(error, RecursionError):
        return "it recursed past Python's limit (modules nested too deeply?)"
    if isinstance(error, MemoryError):
        return "it ran out of memory"
    if not isinstance(error, Exception):
        return f"it raised {type(error).__name__}: {first_line(error)}"
    return first_line(error)


@contextlib.contextmanager
def running(what: str, seconds: "float | None" = None) -> Iterator[None]:
    """Run the block as the user's code named ``what`` (``"net.py:build"``), under a time limit of ``seconds``
    (None: none). Anything it raises but costmodel's own errors, Ctrl-C and a stopping signal becomes one
    ``CostModelError``: "net.py:build fails: <what it did>"."""
    timer = seconds is not None and threading.current_thread() is threading.main_thread() and \
        signal.getitimer(signal.ITIMER_REAL)[0] == 0
    running_code = [True]
    previous: Any = None
    if timer and seconds is not None:
        def expire(signum: int, frame: Any) -> None:
            if running_code[0]:
                raise TimeLimit()

        previous = signal.signal(signal.SIGALRM, expire)
        signal.setitimer(signal.ITIMER_REAL, seconds, 1.0)     # again each second: a bare except swallowed one
    try:
        try:
            yield
        finally:                        # the timer stops before anything below handles what the code did
            running_code[0] = False
            if timer:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
    except TimeLimit:
        if not timer:                   # an enclosing ``running``'s limit: it says so
            raise
        raise ParameterError(f"{what} did not finish within {seconds:g} s (a forward that never returns? ",
                             param("timeout"), " sets the limit)") from None
    except (CostModelError, KeyboardInterrupt, Stopped, GeneratorExit):
        raise
    except BaseException as error:      # the user's code may raise anything, SystemExit included
        raise CostModelError(f"{what} fails: {describe(error)}") from None


def nesting(module: Any) -> int:
    """How deep ``module``'s submodules nest (1 for a module with none), found without recursion."""
    deepest, stack, seen = 0, [(module, 1)], set()
    while stack:
        current, depth = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        deepest = max(deepest, depth)
        if depth > MAX_NESTING:
            break
        stack.extend((child, depth + 1) for child in getattr(current, "_modules", {}).values() if child is not None)
    return deepest
