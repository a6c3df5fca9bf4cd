"""The one exception type for errors caused by input."""
import re

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
