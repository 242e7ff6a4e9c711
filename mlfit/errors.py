"""Errors mlfit reports to a user, each carrying the exit code the CLI returns.

Every message is one line and names the file, column, row and value where it can,
so that a batch script's log says what to fix without a traceback.
"""

EXIT_OK = 0
EXIT_BAD_DATA = 1
EXIT_USAGE = 2
EXIT_FIT_WARNING = 3
EXIT_INTERRUPTED = 130


class MlfitError(Exception):
    exit_code = EXIT_BAD_DATA


class DataError(MlfitError):
    """The input was read but cannot be fitted: a bad value, an empty column, a broken CSV."""

    exit_code = EXIT_BAD_DATA


class UsageError(MlfitError):
    """The command line asks for something that does not exist: a file, a column, a family."""

    exit_code = EXIT_USAGE
