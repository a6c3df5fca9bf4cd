"""The one exception type for errors caused by input."""


class CostModelError(ValueError):
    """Bad input: an argument, a model name, a spec, or a network whose shapes do not fit.

    The message is one line that names what is wrong and where (the node and field, or the file and line).
    The command line prints it after ``costmodel: error:`` and exits with status 2.
    """


class MissingFormulaError(CostModelError):
    """An op without a registered declaration or formula: never counted as zero in silence."""
