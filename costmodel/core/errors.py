"""The exception types for errors caused by input: ``CostModelError``, and ``ParameterError`` for a message that
names parameters (which the command line shows as its flags)."""
import re
from typing import Callable

MAX_ECHO = 100          # characters of the user's input a message repeats
_QUOTED = re.compile(r"'(?:[^'\\\n]|\\.){%d,}'" % MAX_ECHO + "|" + r'"(?:[^"\\\n]|\\.){%d,}"' % MAX_ECHO)
_LONG = re.compile(r"\S{%d,}" % (2 * MAX_ECHO))


def _cut(match: "re.Match[str]") -> str:
    text = match.group(0)
    quote = text[0] if text[0] in "'\"" else ""
    body = text[1:-1] if quote else text
    return f"{quote}{body[:MAX_ECHO - 20]}...{body[-10:]}{quote} ({len(body):,} characters)"


def shorten(message: str) -> str:
    """``message`` with every echoed piece of input longer than about ``MAX_ECHO`` characters cut in the middle."""
    return _LONG.sub(_cut, _QUOTED.sub(_cut, message))


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message (its type's name when it has none), for a one-line report of an
    exception raised by code costmodel runs (torch, a user's module)."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


class CostModelError(ValueError):
    """Bad input: an argument, a model name, a spec, or a network whose shapes do not fit.

    The message is one line that names what is wrong and where (the node and field, or the file and line); input
    it repeats is cut to about ``MAX_ECHO`` characters. The command line prints it after ``costmodel: error:`` and
    exits with status 2.
    """

    def __init__(self, message: str = "") -> None:
        super().__init__(shorten(str(message)))


class MissingFormulaError(CostModelError):
    """An op without a registered declaration or formula: never counted as zero in silence."""


class Stopped(BaseException):
    """A signal stopped costmodel (SIGTERM, SIGHUP): it unwinds through any code, the user's included, to the
    command line, which exits with 128 + the signal's number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


class Parameter:
    """A parameter named inside a ``ParameterError``'s message: its Python name, and how the command line shows it
    beside its flag (``metavar``: ``--device PROFILE``)."""

    __slots__ = ("name", "metavar")

    def __init__(self, name: str, metavar: str = "") -> None:
        self.name, self.metavar = name, metavar

    def __repr__(self) -> str:
        return f"Parameter({self.name!r})"


def param(name: str, metavar: str = "") -> Parameter:
    """A parameter's name in a ``ParameterError``'s message.

    :param name: the Python parameter's name.
    :param metavar: what the command line shows after its flag, if anything (``PROFILE``).
    :returns: ``Parameter(name, metavar)``."""
    return Parameter(name, metavar)


class ParameterError(CostModelError):
    """Bad input that names parameters: Python callers read the parameters' names (``timeout must be > 0``), and
    the command line, which knows its own flags, says each flag instead (``--timeout must be > 0``) through
    ``said``. The library never mentions a flag.

    :param parts: the message, in order: text, and ``param(name)`` wherever a parameter is named.
    """

    def __init__(self, *parts: "str | Parameter") -> None:
        self.parts = parts
        super().__init__(self.said())

    def said(self, name_of: "Callable[[Parameter], str] | None" = None) -> str:
        """The message with each parameter as ``name_of`` names it (its Python name by default).

        :param name_of: a parameter's name in this message (the command line's flag, say).
        :returns: the message, input it repeats cut as ``CostModelError``'s is.
        """
        return shorten("".join(part if isinstance(part, str) else name_of(part) if name_of else part.name
                               for part in self.parts))


def within(prefix: str, error: CostModelError, suffix: str = "") -> CostModelError:
    """An error with where it happened around its message, keeping the parameters a ``ParameterError`` names.

    :param prefix: before the message.
    :param error: the error.
    :param suffix: after the message (a hint).
    :returns: a ``ParameterError`` where ``error`` is one, else a ``CostModelError``."""
    if isinstance(error, ParameterError):
        return ParameterError(prefix, *error.parts, suffix)
    return CostModelError(f"{prefix}{error}{suffix}")
