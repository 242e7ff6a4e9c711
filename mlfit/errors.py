"""Errors mlfit reports to a user, each carrying the exit code the CLI returns.

Every message is one line and names the file, column, row and value where it can,
so that a batch script's log says what to fix without a traceback.
"""

EXIT_BAD_DATA = 1
EXIT_USAGE = 2
EXIT_FIT_WARNING = 3
EXIT_INTERNAL = 70  # a bug: an error mlfit did not expect (sysexits' EX_SOFTWARE)
EXIT_INTERRUPTED = 130


class MlfitError(Exception):
    """`kind` names what went wrong for machine-readable error records ("value", "weight", "empty",
    "degenerate", "csv", "file", "column", "usage"); `row` is the data row, where there is one."""

    exit_code = EXIT_BAD_DATA
    default_kind = "data"

    def __init__(self, message: str, *, kind: str | None = None, row: int | None = None, other_kind: bool = False):
        super().__init__(message)
        self.kind = kind or self.default_kind
        self.row = row
        # A value error in a column that as a whole holds another kind of value (text for a numeric
        # family, measurements for a count family), not a stray bad cell: --columns-all skips it.
        self.other_kind = other_kind


class DataError(MlfitError):
    """The input was read but cannot be fitted: a bad value, an empty column, a broken CSV."""

    exit_code = EXIT_BAD_DATA


class UsageError(MlfitError):
    """The command line asks for something that does not exist: a file, a column, a family."""

    exit_code = EXIT_USAGE
    default_kind = "usage"


class NoMaximum(MlfitError):
    """The likelihood has no maximum for this data (calibrate's temperature runs to 0 or to
    infinity): nothing to print as the estimate, and exit 3, as regress's separation."""

    exit_code = EXIT_FIT_WARNING
    default_kind = "degenerate"
