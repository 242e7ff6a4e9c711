"""What every command shares: the app, its one-line errors, the flags several commands take, the
progress bars, and the views that write a result to standard output."""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import io
import os
import math
import sys
from enum import Enum
from typing import Optional

import typer
from typer.core import TyperGroup

from .. import __version__
from ..families import NAMES as _BUILT_IN
from ..errors import (EXIT_BAD_DATA, EXIT_FIT_WARNING, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, DataError,
                     MlfitError, UsageError)


def _family_names() -> tuple[str, ...]:
    """The registry's names, then R's and scipy's names for them (lnorm, nbinom, t, ...), read when a
    command runs: a family registered from Python (families.register) is a choice too."""
    from ..families import family_aliases, family_names

    return (*family_names(), *family_aliases())


def _check_family(value):
    names = _family_names()
    for name in [value] if isinstance(value, str) else value or []:
        if name not in names and not name.startswith("scipy:"):
            raise typer.BadParameter(f"{name!r} is not one of {', '.join(repr(n) for n in names)}.")
    return value


def distribution_option(help: str, many: bool = False, listed: bool = True):
    """The --dist/-d option of a command (`many`: repeatable, none given means every family;
    `listed`: the help lists every family, where `help` does not name the ones the command takes)."""
    every = f" One of: {', '.join(_BUILT_IN)} (or R's and scipy's names: lnorm, nbinom, t, ...)." if listed else ""
    return typer.Option(None if many else ..., "--dist", "-d", metavar="FAMILY", callback=_check_family,
                        autocompletion=lambda incomplete: [n for n in _family_names() if n.startswith(incomplete)],
                        help=help + every)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


class Method(str, Enum):
    mle = "mle"
    mm = "mm"
    quantile = "quantile"
    cvm = "cvm"
    ks = "ks"
    ad = "ad"
    spacing = "spacing"


class BootstrapKind(str, Enum):
    parametric = "parametric"
    nonparametric = "nonparametric"


class FitFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"


class OneLineErrors(TyperGroup):
    """Every failure, usage errors included, becomes one line on stderr and an exit code."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except EOFError as error:
            # typer takes an EOFError for Ctrl-D at a prompt and calls it an interruption; here
            # it can only be input that ended early.
            raise DataError(f"the input ended early: {error or 'unexpected end of data'}") from None

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if sys.stdout is None or _closed(sys.stdout):
            # `mlfit ... >&-`: whatever mlfit found could not be written, so it must not look done.
            _fail("standard output is closed: nothing can be written", EXIT_BAD_DATA)
        try:
            # Not standalone, typer returns an Exit's code instead of raising it.
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            if code == EXIT_INTERRUPTED:  # typer's answer to Ctrl-C inside a command
                _fail("interrupted", EXIT_INTERRUPTED)
            sys.stdout.flush()  # a full disk must fail here, not silently as the interpreter exits
            sys.exit(code if isinstance(code, int) else 0)
        except typer.Exit as done:
            sys.stdout.flush()
            sys.exit(done.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            _fail("interrupted", EXIT_INTERRUPTED)
        except MlfitError as error:
            _fail(str(error), error.exit_code)
        except OSError as error:
            if error.errno not in OUTPUT_ERRORS:
                raise
            _fail_output(error)
        except Exception as error:
            # Typer's usage errors (its vendored click's UsageError and kin) are known by their
            # shape rather than by a private class: a message and an exit code.
            if not (hasattr(error, "format_message") and isinstance(getattr(error, "exit_code", None), int)):
                if os.environ.get("MLFIT_DEBUG"):
                    raise
                _fail(f"internal error: {type(error).__name__}: {error} (a bug in mlfit: please report it; "
                      "MLFIT_DEBUG=1 shows where)", EXIT_INTERNAL)
            if type(error).__name__ == "NoArgsIsHelpError":
                typer.echo(error.format_message())
                sys.exit(EXIT_USAGE)
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(f"{error.format_message()}{hint}", error.exit_code)


# What writing the output can meet: a full disk (> /dev/full), a quota, an I/O error, a closed descriptor.
OUTPUT_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF)


def _closed(stream) -> bool:
    try:
        os.fstat(stream.fileno())
    except io.UnsupportedOperation:  # no descriptor at all (a test's captured stream): it can be written
        return False
    except (OSError, ValueError):
        return True
    return False


def _fail_output(error: OSError) -> None:
    # What is still buffered cannot be written either: drop it, or the interpreter tries again
    # at exit and prints a second, unformatted complaint.
    with contextlib.suppress(Exception):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    _fail(f"cannot write the output: {(error.strerror or str(error)).lower()}", EXIT_BAD_DATA)


def _fail(message: str, code: int) -> None:
    typer.echo(f"mlfit: error: {' '.join(message.split())}", err=True)  # one line, whatever the message held
    sys.exit(code)


EXIT_CODES = ("Exit codes: 0 fitted; 1 bad data; 2 bad usage; 3 fitted, but the optimiser did not converge "
              "or disagrees with the closed form (a warning on stderr says which); 70 a bug in mlfit; "
              "130 interrupted.")

app = typer.Typer(
    cls=OneLineErrors,
    # Plain help: typer's rich help imports a markdown renderer and doubles --help's start-up time.
    rich_markup_mode=None,
    no_args_is_help=True,
    help="Fit distributions to a CSV column by maximum likelihood, minimising the "
    "negative log-likelihood in log space, and check the optimum against the closed form.",
    epilog=EXIT_CODES,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlfit {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit."),
) -> None:
    """Fit distributions to a CSV column by maximum likelihood."""


def _epilog(*examples: str, note: str = "") -> str:
    """Examples kept exactly as typed (click's \\b stops it rewrapping them), then the exit codes."""
    lines = "\n".join(f"  {example}" for example in examples)
    return f"\b\nExamples:\n{lines}\n\n{EXIT_CODES}" + (f" {note}" if note else "")


def _check_level(level: float) -> float:
    if not 0.0 < level < 1.0:
        raise typer.BadParameter(f"{level} is not strictly between 0 and 1")
    return level


FILE = typer.Argument(..., metavar="FILE", help="A CSV file (.csv or .csv.gz), or - for standard input.")
COLUMN = typer.Option(None, "--column", "-c", help="The column to fit; may be left out when the file has one column.")
FORMAT = typer.Option(OutputFormat.table, "--format", "-f", help="table for people, json for one JSON object on stdout.")
LEVEL = typer.Option(0.95, "--level", callback=_check_level, help="Confidence level of the Wald and profile intervals.")
BOOTSTRAP = typer.Option(
    0, "--gof-bootstrap", min=0, metavar="N",
    help="Parametric-bootstrap replicates (each refitted) for KS, CvM and AD p-values of continuous "
    "families. Without it no p-values are given: the plain KS p-value is wrong when the parameters "
    "were estimated from the same data.",
)
class ChisqCells(str, Enum):
    pooled = "pooled"
    fitdistrplus = "fitdistrplus"


CHISQ_CELLS = typer.Option("pooled", "--chisq-cells", help="The chi-square's cells: pooled until each expects 5 "
                           "rows (count families), or fitdistrplus's gofstat cells (about n/(4n)^(2/5) rows each, "
                           "cut at observed values; any family), which give R's statistic.")
CHISQ_BREAKS = typer.Option(None, "--chisq-breaks", metavar="B,B,...", help="Chi-square cells with these upper "
                            "edges: (-inf, B1], (B1, B2], ..., (Bk, inf), as gofstat's chisqbreaks; any family.")
SEED = typer.Option(0, "--seed", min=0, help="Seed of the bootstrap's random numbers, for repeatable p-values.")
TRIALS = typer.Option(None, "--trials", min=1, metavar="N",
                      help="The number of trials behind each row's count of successes (binomial only).")
SEPARATOR_NAMES = {"comma": ",", "tab": "\t", "\\t": "\t", "semicolon": ";", "pipe": "|"}


def _check_separator(sep: Optional[str]) -> Optional[str]:
    if sep is None:
        return None
    sep = SEPARATOR_NAMES.get(sep, sep)
    if len(sep) != 1:
        raise typer.BadParameter(f"'{sep}' is not one character (or comma, tab, semicolon, pipe)")
    return sep


SEP = typer.Option(None, "--sep", callback=_check_separator,
                   help="Field separator: one character, or comma, tab, semicolon, pipe. Default: detected.")
DECIMAL = typer.Option(".", "--decimal", help="Decimal mark of the numbers: . or , (European files).")
NO_HEADER = typer.Option(False, "--no-header", help="The file has no header row; columns are named 1, 2, 3...")
ENCODING = typer.Option("utf-8-sig", "--encoding", help="Text encoding of the file, e.g. latin-1.")
NA = typer.Option(None, "--na", metavar="VALUE", help="Another missing-value marker (repeatable), e.g. --na -999.")
COMMENT = typer.Option(None, "--comment", metavar="CHAR", help="Skip lines that start with this character, "
                       "before the header or among the rows, e.g. --comment '#'.")
SKIP = typer.Option(0, "--skip", min=0, metavar="N", help="Skip the first N lines of the file (a title, notes) "
                    "before the header.")


def _read_options(sep, decimal, no_header, encoding, na, comment=None, skip=0):
    import codecs

    from ..columns import ReadOptions

    if decimal not in (".", ","):
        raise UsageError(f"--decimal is . or , not '{decimal}'")
    if sep is not None and sep == decimal:
        raise UsageError("--sep and --decimal are the same character")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UsageError(f"--encoding: unknown encoding '{encoding}'") from None
    if comment is not None and (len(comment) != 1 or comment in ('"', "\n", "\r") or comment == sep):
        raise UsageError(f"--comment is one character other than a quote, a newline or the separator, not '{comment}'")
    return ReadOptions(sep=sep, decimal=decimal, header=not no_header, encoding=encoding, na=tuple(na or ()),
                       comment=comment, skip=skip)


READER_OPTIONS = (("sep", Optional[str], SEP), ("decimal", str, DECIMAL), ("no_header", bool, NO_HEADER),
                  ("encoding", str, ENCODING), ("na", Optional[list[str]], NA), ("comment", Optional[str], COMMENT),
                  ("skip", int, SKIP))


def reader_options(command):
    """Give a command the reader's options (--sep, --decimal, --no-header, --encoding, --na,
    --comment, --skip), declared once here so that every command reads files alike; the command
    receives them checked, as one ReadOptions in its `read_options` parameter."""
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "read_options"]
    added = [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation)
             for name, annotation, default in READER_OPTIONS]

    @functools.wraps(command)
    def with_reader(*args, **kwargs):
        given = {name: kwargs.pop(name) for name, _, _ in READER_OPTIONS}
        return command(*args, read_options=_read_options(**given), **kwargs)

    with_reader.__signature__ = signature.replace(parameters=[*kept, *added])
    with_reader.__annotations__ = {**{k: v for k, v in command.__annotations__.items() if k != "read_options"},
                                   **{name: annotation for name, annotation, _ in READER_OPTIONS}}
    return with_reader


LEFT = typer.Option(None, "--left", metavar="COLUMN", help="Censored data, fitdistrplus's layout (with --right): "
                    "each row lies between its --left and --right cells; equal: observed exactly; --left missing: "
                    "left-censored (at most --right); --right missing: right-censored (at least --left).")
RIGHT = typer.Option(None, "--right", metavar="COLUMN", help="The upper bounds of censored data (with --left).")
CENSORED = typer.Option(None, "--censored", metavar="COLUMN", help="Right-censored data as survival analysis "
                        "writes it: this column is 1 where --column's value was observed, 0 where the row is "
                        "known only to exceed it.")
WEIGHTS = typer.Option(
    None, "--weights", "-w", metavar="COLUMN", help="A column of non-negative case/frequency weights: row i counts "
    "w_i times (a value,count table). Whole-number weights give exactly the fit of the rows written out.")
FIX = typer.Option(
    None, "--fix", metavar="NAME=VALUE",
    help="Hold a parameter at a value and fit the others (repeatable), e.g. --fix sigma=1; for "
    "categorical, p=a:0.2,b:0.8. Double-quote a category label that holds a comma, colon, equals sign "
    "or quote, doubling a quote inside: --fix 'p=\"a,b\":0.2,c:0.8'.",
)



PROGRESS_BYTES = 64 << 20  # files smaller than this are read before a bar would be worth drawing


@contextlib.contextmanager
def _progress(file: str):
    """A rich progress bar on stderr while a big file is read, only when stderr is a terminal."""
    if not sys.stderr.isatty() or (file != "-" and os.path.isfile(file) and os.path.getsize(file) < PROGRESS_BYTES):
        yield None
        return
    with _bar("reading", "<stdin>" if file == "-" else file, counted="bytes") as progress:
        yield progress


@contextlib.contextmanager
def _bar(verb: str, what: str, counted: str):
    """A transient rich bar on stderr; it yields progress(done, total). `what` is the task's
    description, not part of the format string, so a file name holding braces is shown as it is."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    count = DownloadColumn() if counted == "bytes" else MofNCompleteColumn()
    with Progress(TextColumn(f"{verb} {{task.description}}"), BarColumn(), count, TimeRemainingColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _show(result, output: OutputFormat, table_view: str, **view_options) -> None:
    from .. import report

    if output.value == "json":
        typer.echo(report.to_json(result))
    else:
        from rich.console import Console

        console = Console()
        getattr(report, table_view)(result, console, **view_options)
        if getattr(result, "resampled", None) is not None:  # the bootstrap's intervals and fitted quantiles
            report.print_bootstrap(result.resampled, console)


def _present(result, output: OutputFormat, printer) -> None:
    """The result as one JSON object (its to_dict), or its tables for people."""
    if output.value == "json":
        from ..report import dumps

        typer.echo(dumps(result.to_dict()))
    else:
        from rich.console import Console

        printer(result, Console())


def _warn_and_exit(warnings: list[str]) -> None:
    for warning in warnings:
        typer.echo(f"mlfit: warning: {warning}", err=True)
    if warnings:
        raise typer.Exit(EXIT_FIT_WARNING)


class _WholeWrites(io.RawIOBase):
    """Standard output's descriptor, written in full or not at all: a file on a nearly full disk
    takes part of a write (4 KB of 10), and Python's buffered writer then drops the rest without
    an error, so `mlfit ... > out.json` left a cut JSON file and exit 0. Here each write loops until
    every byte is taken, so the disk's refusal of the rest is an OSError (ENOSPC), reported as one."""

    def __init__(self, fd: int):
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        while view:
            view = view[os.write(self._fd, view):]
        return len(data) if not isinstance(data, memoryview) else data.nbytes


def _stdout_in_full() -> None:
    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return  # no descriptor (a test's captured stream): nothing to do
    sys.stdout = io.TextIOWrapper(io.BufferedWriter(_WholeWrites(fd)), encoding=stream.encoding, errors=stream.errors,
                                  line_buffering=stream.line_buffering, write_through=False)


def _cluster_progress():
    """Parts read / total on stderr while the cluster reads them, at a terminal only (dask's own
    progress bar writes to stdout, where the JSON goes); a regression's passes counted."""
    return _ClusterProgress() if sys.stderr.isatty() else None


class _ClusterProgress:
    def __init__(self):
        self.passes = 0

    def __call__(self, futures):
        from distributed import as_completed

        self.passes += 1
        for done, _ in enumerate(as_completed(futures), start=1):
            step = f"pass {self.passes}: " if self.passes > 1 else ""
            sys.stderr.write(f"\rmlfit: {step}{done:,} of {len(futures):,} parts read")
            sys.stderr.flush()

    def close(self):
        if self.passes:
            sys.stderr.write("\n")


def _closed_progress(progress) -> None:
    if progress is not None:
        progress.close()


def _breaks(text: str | None) -> tuple | None:
    if text is None:
        return None
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--chisq-breaks takes numbers separated by commas, e.g. 1,2,3,5, not {text!r}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise UsageError(f"--chisq-breaks takes finite numbers separated by commas, not {text!r}")
    return values


def _end_batch(codes: set, flagged: list) -> None:
    """A batch's warnings on stderr, then its exit code: the most serious outcome met decides
    (the epilog's note says so), one rule for one fit and for many."""
    for warning in flagged:
        typer.echo(f"mlfit: warning: {warning}", err=True)
    for code in (EXIT_USAGE, EXIT_BAD_DATA):
        if code in codes:
            raise typer.Exit(code)
    if flagged:
        raise typer.Exit(EXIT_FIT_WARNING)
