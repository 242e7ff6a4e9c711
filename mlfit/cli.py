"""The command line: parse flags, call the library, choose a view, map errors to exit codes.

Nothing numeric is imported at module level, so `mlfit --help` starts as fast as typer does.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import inspect
import io
import os
import signal
import math
import sys
import warnings
from enum import Enum
from typing import Optional

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import (EXIT_BAD_DATA, EXIT_FIT_WARNING, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, DataError,
                     MlfitError, UsageError)
from .families import ALIASES, NAMES

# The families' names, then R's and scipy's names for them (lnorm, nbinom, t, ...).
Distribution = Enum("Distribution", {name: name for name in (*NAMES, *ALIASES)}, type=str)


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

    from .data import ReadOptions

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


@app.command(epilog=_epilog(
    "mlfit fit sample_data/free_throws.csv --dist normal --column error_cm",
    "cat sample_data/goals.csv | mlfit fit - --dist poisson --column home_goals --format json | jq .params",
    "python -m mlfit fit sample_data/shots.csv.gz --dist categorical --column shot_type",
    "mlfit fit sample_data/free_throws.csv --dist laplace --column error_cm --level 0.99 --gof-bootstrap 999",
    "mlfit fit sample_data/*.csv --dist normal --columns-all --comment '#' --format jsonl | jq -c '[.file, .column, .params]'",
    "mlfit fit sample_data/goals.csv --dist poisson --column home_goals --column away_goals --format csv > fits.csv",
    "mlfit fit <(zcat sample_data/shots.csv.gz) --dist bernoulli --column made",
    "mlfit fit sample_data/goals_table.csv --dist poisson --column goals --weights matches",
    "mlfit fit sample_data/temperatures.csv --dist normal --column celsius --comment '#'",
    "mlfit fit sample_data/rivers.csv --dist lnorm --column miles",
    "mlfit fit sample_data/shots_per_game.csv --dist binomial --trials 10 --column made",
    "mlfit fit sample_data/salinity.csv --left left --right right --dist lnorm",
    "mlfit fit sample_data/remission.csv --column weeks --censored relapsed --dist weibull",
    "mlfit fit sample_data/rivers.csv --dist gamma --column miles --method cvm --bootstrap 50",
    "mlfit fit sample_data/goals.csv --dist poisson --column home_goals --chisq-cells fitdistrplus",
    note="In a batch (several files or columns) each failure is a line on stderr (and an error record in "
    "json, jsonl, csv and tsv), the rest go on, and the exit code is the most serious one met: 2 if a file, "
    "column or --fix was wrong, else 1 if some data could not be fitted, else 3 if a fit warned.",
))
@reader_options
def fit(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="CSV files (.csv, .gz, .bz2, .xz, .zip), - for "
                                      "standard input (once at most)."),
    dist: Distribution = typer.Option(..., "--dist", "-d", help="The distribution family to fit."),
    column: Optional[list[str]] = typer.Option(
        None, "--column", "-c", help="A column to fit (repeatable); may be left out when a file has one column."),
    columns_all: bool = typer.Option(False, "--columns-all", help="Fit every column whose values the family "
                                     "accepts; the others are named on stderr with the reason."),
    output: FitFormat = typer.Option(FitFormat.table, "--format", "-f", help="table for people; json for one object; "
                                     "jsonl for one object per fit per line; csv or tsv for one row per fit."),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="In a batch, stop at the first fit that fails."),
    weights: Optional[str] = WEIGHTS,
    level: float = LEVEL,
    gof_bootstrap: int = BOOTSTRAP,
    chisq_cells: ChisqCells = CHISQ_CELLS,
    chisq_breaks: Optional[str] = CHISQ_BREAKS,
    seed: int = SEED,
    fix: Optional[list[str]] = FIX,
    trials: Optional[int] = TRIALS,
    left: Optional[str] = LEFT,
    right: Optional[str] = RIGHT,
    censored: Optional[str] = CENSORED,
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", metavar="ADDRESS", help="Fit the files (and globs, directories) as ONE data set on a "
        "Dask cluster: tcp://HOST:8786, local (a LocalCluster on this machine) or auto (DASK_SCHEDULER_ADDRESS). "
        "Without it, several files are a batch of separate fits. Needs dask: pip install '.[dask]' from a clone of mlfit."),
    method: Method = typer.Option("mle", "--method", help="mle (maximum likelihood), or fitdistrplus's and scipy's "
                                  "others: mm (moments), quantile (matching at --probs), cvm, ks, ad (the smallest "
                                  "goodness-of-fit statistic), spacing (maximum product of spacings). Only mle has "
                                  "likelihood intervals; the others take --bootstrap N."),
    probs: Optional[str] = typer.Option(None, "--probs", metavar="P,P,...", help="--method quantile: one "
                                        "probability per parameter (default 1/2; 1/3,2/3; 1/4,1/2,3/4)."),
    bootstrap: int = typer.Option(0, "--bootstrap", min=0, max=100_000, metavar="N",
                                  help="Refit N bootstrap replicates for percentile intervals of the parameters "
                                  "(fitdistrplus's bootdist), beside the Wald and profile ones; one fit only."),
    bootstrap_kind: BootstrapKind = typer.Option("parametric", "--bootstrap-kind",
                                                 help="Replicates drawn from the fitted distribution (parametric, "
                                                 "bootdist's default) or from the rows (nonparametric)."),
    bootstrap_draws: bool = typer.Option(False, "--bootstrap-draws", help="Put every replicate's parameters in "
                                         "the JSON."),
    quantile: Optional[str] = typer.Option(None, "--quantile", metavar="P,P,...", help="Fitted quantiles with "
                                           "delta-method intervals (and bootstrap ones with --bootstrap), e.g. "
                                           "0.05,0.5,0.95; continuous families."),
    plot: Optional[str] = typer.Option(
        None, "--plot", metavar="FILE.png", help="Draw the fit (histogram/density, CDF, Q-Q and P-P panels; bars "
        "for discrete families) to a .png, .svg or .pdf. Needs matplotlib: pip install '.[plot]' from a clone of mlfit."),
    plot_nll: Optional[str] = typer.Option(
        None, "--plot-nll", metavar="FILE.png", help="Draw the NLL landscape: the profile NLL against each "
        "parameter, and log10 of the raw likelihood of the first k rows against the underflow limits."),
    chart: Optional[bool] = typer.Option(None, "--chart/--no-chart", help="Draw a small histogram with the fit "
                                         "in the table view. Default: only when standard output is a terminal."),
    read_options=None,
) -> None:
    """Fit one family to columns of CSV files by maximum likelihood.

    Minimises the negative log-likelihood (NLL) with scipy.optimize, compares the optimum with the family's reference solution (its closed form, or the root of its score equations; logistic, cauchy and student_t have none), gives standard errors, Wald and profile-likelihood intervals, AIC, BIC and goodness of fit, and reports where the raw product of row likelihoods would underflow to 0.0 (or overflow to inf) in float64, float32 and float16. Missing cells (empty, NA, NaN) are skipped and counted.
    """
    from .families import one_family
    from .params import parse_assignments

    if files.count("-") > 1:
        raise UsageError("standard input (-) can be read once only")
    if columns_all and column:
        raise UsageError("--columns-all and --column do not go together")
    one_family(dist.value, trials)
    if plot and plot_nll and os.path.realpath(plot) == os.path.realpath(plot_nll):
        raise UsageError(f"--plot and --plot-nll name the same file ({plot}): the second would overwrite the first")
    held = {}
    for text in fix or []:
        for name, value in parse_assignments(text).items():
            if name in held:
                raise UsageError(f"--fix gives {name} twice")
            held[name] = value
    read_options = read_options
    fit_options = {"level": level, "gof_bootstrap": gof_bootstrap, "seed": seed, "fix": held, "trials": trials,
                   "chisq_cells": chisq_cells.value, "chisq_breaks": _breaks(chisq_breaks)}
    if scheduler is not None:
        if len(column or []) > 1 or columns_all or output.value not in ("table", "json") or held or bootstrap \
                or quantile or plot or plot_nll or left or right or censored or method is not Method.mle or probs:
            raise UsageError("--scheduler fits one column of one data set (table or json), by maximum likelihood, "
                             "without --fix, --bootstrap, --quantile, plots or censoring")
        _fit_distributed(files, dist.value, (column or [None])[0], weights, output, read_options, fit_options,
                         scheduler, _draw_chart(chart))
        return
    _check_replicates(bootstrap, level)
    if method is not Method.mle or probs is not None:
        _estimate_one(files, dist.value, column, method.value, probs, weights, held, columns_all, output,
                      read_options, level, trials, (bootstrap, bootstrap_kind.value, bootstrap_draws, seed),
                      (left or right or censored, quantile, plot, plot_nll, gof_bootstrap))
        return
    if left or right or censored:
        data = _censored_data(files, column, left, right, censored, weights, columns_all, output, read_options)
        if bootstrap or quantile or plot_nll:
            raise UsageError("--bootstrap, --quantile and --plot-nll are not offered for censored data")
        _fit_censored(data, dist.value, output, fit_options, plot, _draw_chart(chart))
        return
    if weights is not None and not (column or columns_all):
        raise UsageError("with --weights, name the columns to fit with --column (or --columns-all)")
    single = len(files) == 1 and len(column or []) <= 1 and not columns_all
    if (plot or plot_nll) and not single:
        raise UsageError("--plot and --plot-nll draw one fit: give one file and one column")
    probabilities = _probabilities(quantile)
    extras = {"bootstrap": bootstrap, "kind": bootstrap_kind.value, "draws": bootstrap_draws,
              "quantiles": probabilities}
    if (bootstrap or probabilities) and not (single and output.value in ("table", "json")):
        raise UsageError("--bootstrap and --quantile go with one fit (one file, one column, table or json)")
    if single and output.value in ("table", "json"):
        _fit_one(files[0], dist.value, (column or [None])[0], weights, output, read_options, fit_options, plot,
                 plot_nll, _draw_chart(chart), extras)
    else:
        _fit_batch(files, dist.value, column, columns_all, weights, output, fail_fast, read_options, fit_options,
                   _draw_chart(chart))


def _censored_data(files, column, left, right, censored, weights, columns_all, output, read_options):
    """The censored rows the flags name, or a usage error for a combination that has no meaning."""
    from .censored import read_bounds, read_events

    if len(files) != 1 or columns_all or output.value not in ("table", "json"):
        raise UsageError("censored data (--left/--right, --censored) is one data set: one file, table or json")
    if weights:
        raise UsageError("--weights do not go with censored data")
    if censored and (left or right):
        raise UsageError("give --left and --right, or --column with --censored, not both")
    if censored:
        if len(column or []) != 1:
            raise UsageError("--censored names the event column: give the value column with one --column")
        return read_events(files[0], column[0], censored, read_options)
    if not (left and right):
        raise UsageError("--left and --right go together: the lower and upper bound of each row")
    if column:
        raise UsageError("with --left and --right the rows are those two columns: leave out --column")
    return read_bounds(files[0], left, right, read_options)


def _fit_censored(data, dist, output, fit_options, plot, chart) -> None:
    from .censored import fit_censored

    if plot:
        from .plots import check_target

        check_target(plot, inputs=(data.source,))
    result = fit_censored(data, dist, **fit_options)
    _show(result, output, "print_table", chart=chart)
    if plot:
        from .plots import draw_censored

        draw_censored(result, data, plot)
    _warn_and_exit(result.warnings())


def _fit_distributed(files, dist, column, weights, output, read_options, fit_options, scheduler, chart) -> None:
    from .distributed import connect, fit_distributed

    client, progress = connect(scheduler), _cluster_progress()
    try:
        result = fit_distributed(files, dist, column, client=client, weights=weights, read_options=read_options,
                                 progress=progress, **fit_options)
    finally:
        _closed_progress(progress)
        _disconnect(client)
    _show(result, output, "print_table", chart=chart)
    _warn_and_exit(result.warnings())


def _disconnect(client) -> None:
    """Close the client, and the LocalCluster of --scheduler local with it."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


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


def _estimate_one(files, dist, column, method, probs, weights, held, columns_all, output, read_options, level,
                  trials, resampling, refused) -> None:
    """fit --method other than mle: one column, its estimate, and bootstrap intervals on request."""
    from .estimators import estimate_file, refit_by

    if method == "mle":
        raise UsageError("--probs goes with --method quantile")
    if probs is not None and method != "quantile":
        raise UsageError("--probs goes with --method quantile")
    if len(files) != 1 or columns_all or len(column or []) > 1 or output.value not in ("table", "json"):
        raise UsageError(f"--method {method} is one fit: one file, one column, table or json")
    if weights or held or any(refused):
        raise UsageError(f"--method {method} does not go with --weights, --fix, censored data, --quantile, --plot, "
                         "--plot-nll or --gof-bootstrap (they are maximum likelihood's)")
    replicates, kind, draws, seed = resampling
    result = estimate_file(files[0], dist, (column or [None])[0], method, _probabilities(probs) or None,
                           read_options=read_options, level=level, trials=trials)
    drawn = None
    if replicates:
        from .bootstrap import bootstrap

        drawn = bootstrap(result, replicates, kind, seed, refit=refit_by(result), level=result.level)
    from .report import print_estimate

    _show_resampled(result, drawn, output, draws, print_estimate)
    told = [] if result.converged else [f"--method {method}: {result.message}"]
    _warn_and_exit(told + (drawn.warnings() if drawn else []))


def _show_resampled(result, drawn, output, with_draws: bool, printer, **view_options) -> None:
    """A fit with its bootstrap intervals and fitted quantiles: the JSON's "bootstrap" (when
    replicates were drawn) and "quantiles" (when asked for), or a table after the fit's."""
    if output.value == "json":
        from .report import dumps

        extra = {}
        if drawn is not None and drawn.replicates:
            extra["bootstrap"] = drawn.to_dict(with_draws)
        if drawn is not None and drawn.quantiles:
            extra["quantiles"] = drawn.quantiles_dict()
        typer.echo(dumps({**result.to_dict(), **extra}))
    else:
        from rich.console import Console

        from .report import print_bootstrap

        console = Console()
        printer(result, console, **view_options)
        if drawn is not None:
            print_bootstrap(drawn, console)


def _check_replicates(replicates: int, level: float) -> None:
    from .bootstrap import fewest_replicates

    if 0 < replicates < fewest_replicates(level):
        raise UsageError(f"--bootstrap {replicates}: a {level:.4g} percentile interval needs at least "
                         f"{fewest_replicates(level)} replicates (one beyond each end; 1000 is usual)")


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


def _draw_chart(asked: bool | None) -> bool:
    return sys.stdout.isatty() if asked is None else asked


def _probabilities(text: str | None) -> tuple:
    if text is None:
        return ()
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(f"--quantile takes probabilities separated by commas, e.g. 0.05,0.5,0.95, not {text!r}") \
            from None
    if not values or any(not 0 < v < 1 for v in values):
        raise UsageError(f"--quantile: each probability lies strictly between 0 and 1 ({text!r})")
    return values


def _fit_one(file, dist, column, weights, output, read_options, fit_options, plot, plot_nll, chart,
             extras=None) -> None:
    from .api import fit_file

    extras = extras or {"bootstrap": 0, "quantiles": ()}
    targets = [path for path in (plot, plot_nll) if path]
    if targets:
        from .plots import check_target

        for path in targets:
            check_target(path, inputs=(file,))
    resampled = bool(extras["bootstrap"] or extras["quantiles"])
    with _progress(file) as progress:
        result = fit_file(file, dist, column, weights=weights, read_options=read_options,
                          keep_values=bool(targets) or resampled, progress=progress, **fit_options)
    told = []
    if resampled:
        from .bootstrap import bootstrap
        from .report import print_table

        drawn = bootstrap(result, extras["bootstrap"], extras["kind"], fit_options["seed"], extras["quantiles"])
        _show_resampled(result, drawn, output, extras["draws"], print_table, chart=chart)
        told = drawn.warnings()
    else:
        _show(result, output, "print_table", chart=chart)
    if targets:
        from .plots import draw_fit, draw_nll

        if plot:
            draw_fit(result, plot)
        if plot_nll:
            draw_nll(result, plot_nll)
    _warn_and_exit(result.warnings() + told)


def _fit_batch(files, dist, columns, every_column, weights, output, fail_fast, read_options, fit_options,
               chart) -> None:
    from rich.console import Console

    from .batch import fit_many
    from .families import get_family
    from .report import RecordWriter, print_table

    family = get_family(dist, fit_options["trials"])
    writer = None if output is FitFormat.table else RecordWriter(output.value, family, sys.stdout)
    console = Console()
    codes, flagged, skipped, met = set(), [], 0, 0
    for record in fit_many(files, dist, columns, every_column=every_column, weights=weights,
                           read_options=read_options, **fit_options):
        if record.skipped:
            typer.echo(f"mlfit: skipped {record.error}", err=True)
            skipped += 1
            continue
        met += 1
        if record.error is not None:
            codes.add(record.error.exit_code)
            typer.echo(f"mlfit: error: {' '.join(str(record.error).split())}", err=True)  # whatever the format
        else:
            flagged += record.result.warnings()
            if writer is None:
                print_table(record.result, console, chart=chart)
        if writer is not None:
            writer.write(record)
        if codes and fail_fast:
            break
    if writer is not None:
        writer.close()
    if every_column and skipped and not met:
        codes.add(EXIT_BAD_DATA)
        typer.echo(f"mlfit: error: --columns-all: none of the {skipped} columns holds values {family.name} can fit "
                   "(each skipped, above); nothing was fitted", err=True)
    _end_batch(codes, flagged)


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


@app.command(epilog=_epilog(
    "mlfit compare sample_data/goals.csv --column home_goals",
    "mlfit compare sample_data/free_throws.csv --column error_cm --gof-bootstrap 199",
    "mlfit compare sample_data/free_throws.csv --column error_cm --dist normal --dist laplace --format json | jq -r .winner",
    "mlfit compare sample_data/rivers.csv --column miles --dist gamma --dist weibull --dist lognormal",
    "mlfit compare sample_data/rivers.csv --column miles --plot comparison.png",
))
@reader_options
def compare(
    file: str = FILE,
    dist: Optional[list[Distribution]] = typer.Option(
        None, "--dist", "-d", help="A family to include (repeat for several). Default: every family the column admits."),
    column: Optional[str] = COLUMN,
    output: OutputFormat = FORMAT,
    level: float = LEVEL,
    gof_bootstrap: int = BOOTSTRAP,
    chisq_cells: ChisqCells = CHISQ_CELLS,
    chisq_breaks: Optional[str] = CHISQ_BREAKS,
    seed: int = SEED,
    trials: Optional[int] = TRIALS,
    weights: Optional[str] = WEIGHTS,
    left: Optional[str] = LEFT,
    right: Optional[str] = RIGHT,
    censored: Optional[str] = CENSORED,
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", metavar="ADDRESS", help="FILE is a data set of files (a glob, a directory) ranked on "
        "a Dask cluster: tcp://HOST:8786, local or auto (DASK_SCHEDULER_ADDRESS); see fit --help."),
    plot: Optional[str] = typer.Option(
        None, "--plot", metavar="FILE.png", help="Overlay the ranked families' densities, CDFs, Q-Q and P-P plots "
        "(fitdistrplus's denscomp, cdfcomp, qqcomp, ppcomp), the legend in AIC order; bars and CDFs for counts. "
        "Needs matplotlib: pip install '.[plot]' from a clone of mlfit."),
    read_options=None,
) -> None:
    """Which family explains the column? Fit several and rank them by AIC.

    By default every family whose support holds all the values is tried: a 0/1 column bernoulli, the count families (poisson, negbinomial, geometric, binomial with --trials) and categorical; other non-negative integers the count families, categorical and the continuous families that admit them; positive numbers the positive families too (lognormal, gamma, weibull, exponential); numbers in (0, 1) beta as well; other numbers normal, laplace, logistic, cauchy, student_t and uniform; text categorical. Ranked by AIC with delta-AIC and Akaike weights, with BIC, log-likelihood, free parameters and goodness of fit. A family that cannot fit the column is listed with the reason.
    """
    from .distributed import compare_distributed
    from .ranking import compare_censored, compare_file

    if plot:
        from .plots import check_target

        check_target(plot, inputs=(file,))
    if scheduler is not None:
        if plot or left or right or censored:
            raise UsageError("--scheduler ranks families by maximum likelihood without --plot or censoring")
        from .distributed import connect

        client, progress = connect(scheduler), _cluster_progress()
        try:
            ranking = compare_distributed([file], column, [d.value for d in dist or []], client=client,
                                          weights=weights, read_options=read_options, level=level,
                                          gof_bootstrap=gof_bootstrap, seed=seed, trials=trials,
                                          chisq_cells=chisq_cells.value, chisq_breaks=_breaks(chisq_breaks),
                                          progress=progress)
        finally:
            _closed_progress(progress)
            _disconnect(client)
    elif left or right or censored:
        if plot:
            raise UsageError("--plot of a comparison is not offered for censored data; fit --plot draws one family")
        data = _censored_data([file], [column] if column else None, left, right, censored, weights, False, output,
                              read_options)
        ranking = compare_censored(data, [d.value for d in dist or []], level=level, gof_bootstrap=gof_bootstrap,
                                   seed=seed, trials=trials)
    else:
        ranking = compare_file(file, column, [d.value for d in dist or []], weights=weights, level=level,
                               gof_bootstrap=gof_bootstrap, seed=seed, trials=trials, keep_values=bool(plot),
                               read_options=read_options, chisq_cells=chisq_cells.value,
                               chisq_breaks=_breaks(chisq_breaks))
    _show(ranking, output, "print_ranking")
    if plot and ranking.winner is not None:
        from .plots import draw_comparison

        draw_comparison(ranking, plot)
    if ranking.winner is None:
        why = "no family could be ranked" if ranking.fitted else "no family could be fitted"
        raise DataError(f"{ranking.source}: column '{ranking.column}': {why}")
    _warn_and_exit([w for c in ranking.fitted for w in c.result.warnings()])


@app.command(epilog=_epilog(
    'mlfit score sample_data/free_throws.csv --dist normal --column error_cm --candidate "mu=0,sigma=5"',
    "mlfit score sample_data/shots.csv --dist bernoulli --column made --candidate p=0.5 --format json",
    'mlfit score sample_data/shots.csv --dist categorical --column shot_type --candidate \'p="jump shot":0.2,layup:0.3,three:0.3,dunk:0.1,hook:0.1\'',
))
@reader_options
def score(
    file: str = FILE,
    dist: Distribution = typer.Option(..., "--dist", "-d", help="The distribution family of the candidates."),
    candidate: list[str] = typer.Option(..., "--candidate", metavar="NAME=VALUE,...",
                                        help="Parameter values to score (repeatable), e.g. \"mu=0,sigma=1\"; "
                                        "for categorical \"p=a:0.5,b:0.5\", a label holding a comma, colon, "
                                        "equals sign or quote in double quotes: 'p=\"a,b\":0.5,c:0.5'."),
    column: Optional[str] = COLUMN,
    output: OutputFormat = FORMAT,
    trials: Optional[int] = TRIALS,
    weights: Optional[str] = WEIGHTS,
    read_options=None,
) -> None:
    """Score candidate parameter values on the data, ranked, next to the maximum-likelihood fit.

    For each candidate: NLL, mean NLL per row, log10 likelihood, whether and at which row the raw float64 product of the row likelihoods underflows, and how far its NLL exceeds the MLE's. A candidate outside the parameter space (sigma <= 0, p > 1, probabilities that do not sum to 1) is refused.
    """
    from .families import one_family
    from .score import score_file

    one_family(dist.value, trials)
    scoring = score_file(file, dist.value, column, candidate, weights=weights, trials=trials,
                         read_options=read_options)
    _show(scoring, output, "print_scores")


class RegressFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


class RegressFamily(str, Enum):
    normal = "normal"
    laplace = "laplace"
    bernoulli = "bernoulli"
    categorical = "categorical"
    poisson = "poisson"


@app.command(epilog=_epilog(
    "mlfit regress sample_data/cars.csv 'mpg ~ wt + hp + C(cyl)' --dist normal",
    "mlfit regress sample_data/cars.csv 'mpg ~ wt' --dist normal --sigma '~ wt'",
    "mlfit regress sample_data/cars.csv 'am ~ wt + hp' --dist bernoulli --format json | jq .coef",
    "mlfit regress sample_data/cars.csv 'gear ~ wt' --dist categorical",
    "mlfit regress sample_data/cars.csv 'mpg ~ wt + hp' --dist laplace --predict fitted.csv",
    "mlfit regress sample_data/claims.csv 'claims ~ C(district) + age + offset(np.log(holders))' --dist poisson",
    "mlfit regress sample_data/cars.csv sample_data/cars.csv.gz 'mpg ~ wt' --dist normal --format jsonl | jq -c .coef",
    note="Formulas are Wilkinson formulas (formulaic): an intercept unless '- 1' or '0 +'; text columns and "
    "C(x) are categorical with the first level in sorted order as the reference; a:b and a*b interactions; "
    "np.log(x) and I(x**2) transforms; offset(...) in the poisson formula; `odd.name` in backticks. A formula is "
    "data: calls other than the documented transforms (I, C, log, exp, scale, np.log, np.sqrt, ...) are refused. "
    "Exit 3 also when the maximum-likelihood estimate does not exist (separation, collinear columns, an exact fit).",
))
@reader_options
def regress(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="CSV files (.csv, .gz, .bz2, .xz, .zip), - for "
                                      "standard input (once at most); each is fitted on its own (with --scheduler, "
                                      "they are one data set)."),
    formula: str = typer.Argument(..., metavar="FORMULA", help="'response ~ terms', e.g. 'y ~ x1 + x2 + C(group)'."),
    dist: RegressFamily = typer.Option(..., "--dist", "-d", help="normal (least squares), laplace (least absolute "
                                       "deviations), bernoulli (logistic), categorical (softmax) or poisson (log-linear)."),
    sigma: Optional[str] = typer.Option(None, "--sigma", metavar="'~ TERMS'", help="normal only: model log sigma "
                                        "as linear in these columns too (a model that learns its own noise)."),
    output: RegressFormat = typer.Option(RegressFormat.table, "--format", "-f", help="table for people; json for one "
                                         "object ({\"fits\": [...]} for several files); jsonl for one object per "
                                         "file per line."),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="With several files, stop at the first that fails."),
    predict: Optional[str] = typer.Option(None, "--predict", metavar="OUT.csv", help="Write each row's fitted mean, "
                                          "probability, class probabilities or rate, with its row number."),
    weights: Optional[str] = typer.Option(None, "--weights", "-w", metavar="COLUMN",
                                          help="A column of non-negative case/frequency weights."),
    level: float = LEVEL,
    plot: Optional[str] = typer.Option(None, "--plot", metavar="FILE.png", help="Draw fitted vs observed, residuals "
                                       "(or a calibration curve), a Q-Q plot and the NLL along one coefficient. Needs "
                                       "matplotlib: pip install '.[plot]' from a clone of mlfit."),
    scheduler: Optional[str] = typer.Option(
        None, "--scheduler", metavar="ADDRESS", help="Fit the files (and globs, directories) as ONE data set on a "
        "Dask cluster (tcp://HOST:8786, local or auto; see fit --help): least squares from QR factors merged across "
        "files, the other models a distributed pass per Newton (IRLS) step. Without it, several files are a batch "
        "of separate fits."),
    read_options=None,
) -> None:
    """Fit a model whose mean depends on columns, by maximum likelihood: every loss is a likelihood.

    normal gives least squares (mean squared error), laplace least absolute deviations (mean absolute error), bernoulli logistic regression (binary cross-entropy with logits), categorical a softmax model (cross-entropy), poisson a log-linear model (Poisson NLL). The coefficients are the reference solution (QR least squares refined with exact residuals; linear programming; IRLS/Newton), shown beside scipy.optimize's minimum of the NLL from a neutral start; with standard errors from the observed information (and the classical OLS ones for normal), Wald intervals, AIC, BIC, deviance, the likelihood-ratio test against the intercept-only model, the loss identity and the raw-likelihood underflow. Rows with a missing cell in a used column are left out and counted.
    """
    read_options = read_options
    if files.count("-") > 1:
        raise UsageError("standard input (-) can be read once only")
    single = len(files) == 1 and output is not RegressFormat.jsonl
    if (plot or predict) and len(files) > 1:
        raise UsageError("--plot and --predict draw or write one fit: give one file")
    if plot:
        from .plots import check_target

        check_target(plot, inputs=tuple(files))
    if predict:
        from .data import check_output

        check_output(predict, tuple(files), "the predictions")
    from .regression import regress_file

    options = {"sigma": sigma, "weights": weights, "level": level, "read_options": read_options}
    if scheduler is not None:
        if plot or predict or output is RegressFormat.jsonl:
            raise UsageError("--scheduler fits one data set (table or json), without --plot or --predict: those "
                             "need every row in one place")
        _regress_distributed(files, formula, dist.value, output, scheduler, options)
        return
    if not single:
        _regress_batch(files, formula, dist.value, output, fail_fast, options)
        return
    result = regress_file(files[0], formula, dist.value, **options)
    from .regression.report import print_regression

    _present(result, output, print_regression)
    if predict:
        from .regression.report import write_predictions

        write_predictions(result, predict)
    if plot:
        from .regression.plots import draw_regression

        draw_regression(result, plot)
    _warn_and_exit(result.warnings())


def _regress_distributed(files, formula, dist, output, scheduler, options) -> None:
    from .distributed import connect, regress_distributed
    from .regression.report import print_regression

    client, progress = connect(scheduler), _cluster_progress()
    try:
        result = regress_distributed(files, formula, dist, client=client, progress=progress, **options)
    finally:
        _closed_progress(progress)
        _disconnect(client)
    _present(result, output, print_regression)
    _warn_and_exit(result.warnings())


def _regress_batch(files, formula, dist, output, fail_fast, options) -> None:
    """Several files, one fit each: a failure is a line on stderr (and an error record), the rest
    go on, and the exit code is the most serious met, as for fit."""
    from .regression import regress_file
    from .report import dumps

    codes, flagged, collected = set(), [], []
    console = None
    for source in files:
        label = "<stdin>" if source == "-" else source
        try:
            result = regress_file(source, formula, dist, **options)
            record = result.to_dict()
            flagged += result.warnings()
        except MlfitError as error:
            codes.add(error.exit_code)
            typer.echo(f"mlfit: error: {' '.join(str(error).split())}", err=True)
            result, record = None, {"file": label, "formula": formula, "distribution": dist,
                                    "error": {"kind": error.kind, "message": str(error), "row": error.row}}
        if output is RegressFormat.jsonl:
            typer.echo(dumps(record, indent=None))
        elif output is RegressFormat.json:
            collected.append(record)
        elif result is not None:
            from rich.console import Console

            from .regression.report import print_regression

            console = console or Console()
            print_regression(result, console)
        if codes and fail_fast:
            break
    if output is RegressFormat.json:
        typer.echo(dumps({"fits": collected}))
    _end_batch(codes, flagged)


@app.command(epilog=_epilog(
    "mlfit describe sample_data/rivers.csv --column miles",
    "mlfit describe sample_data/free_throws.csv --column error_cm --boot 500 --plot cullen_frey.png",
    "mlfit describe sample_data/rivers.csv --column miles --format json | jq .cullen_frey.nearest",
))
@reader_options
def describe(
    file: str = FILE,
    column: Optional[str] = COLUMN,
    boot: int = typer.Option(0, "--boot", min=0, max=100_000, metavar="N",
                             help="Resample the rows N times and show where the (skewness^2, kurtosis) point moves."),
    seed: int = SEED,
    plot: Optional[str] = typer.Option(None, "--plot", metavar="FILE.png", help="Draw the Cullen-Frey graph. Needs "
                                       "matplotlib: pip install '.[plot]' from a clone of mlfit."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Describe a column's shape before fitting, as fitdistrplus's descdist does (the Cullen-Frey graph).

    n, min, max, median, mean, sd, skewness and kurtosis (descdist's unbiased estimates, its default, and the plain sample ones; kurtosis is 3 for the normal), and where (skewness^2, kurtosis) lies among the normal, uniform, logistic and exponential points, the gamma, lognormal and weibull lines and the beta region, nearest first. The column is held in memory.
    """
    from .shape import describe_file

    read_options = read_options
    if plot:
        from .plots import check_target

        check_target(plot, inputs=(file,))
    description = describe_file(file, column, boot=boot, seed=seed, read_options=read_options)
    from .report import print_description

    _present(description, output, print_description)
    if plot:
        from .shape import draw_cullen_frey

        draw_cullen_frey(description, plot)


class PredictionFamily(str, Enum):
    normal = "normal"
    laplace = "laplace"
    bernoulli = "bernoulli"
    categorical = "categorical"
    poisson = "poisson"


class LogitFamily(str, Enum):
    bernoulli = "bernoulli"
    categorical = "categorical"


TARGET = typer.Option(..., "--target", "-t", metavar="COLUMN", help="The true value: 0/1 (or true/false) for "
                      "bernoulli; for categorical the class's 0-based position among the logit columns, or the name "
                      "of its logit column.")
LOGIT = typer.Option(None, "--logit", metavar="COLUMN", help="bernoulli: the one logit column.")
LOGITS = typer.Option(None, "--logits", metavar="C0,C1,...", help="categorical: the logit columns, one per class, "
                      "as a list or a glob ('logit_*', in the header's order).")


@app.command("score-model", epilog=_epilog(
    "mlfit score-model sample_data/predictions.csv --dist bernoulli --logit made_logit --target made",
    "mlfit score-model sample_data/predictions.csv --dist categorical --logits 'logit_*' --target shot",
    "mlfit score-model sample_data/predictions.csv --dist normal --mean mu --log-var log_var --target distance",
    "mlfit score-model sample_data/predictions.csv --dist poisson --log-rate log_rate --target goals --format json",
))
@reader_options
def score_model(
    file: str = FILE,
    dist: PredictionFamily = typer.Option(..., "--dist", "-d", help="The distribution the model predicts."),
    target: str = TARGET,
    logit: Optional[str] = LOGIT,
    logits: Optional[str] = LOGITS,
    mean: Optional[str] = typer.Option(None, "--mean", metavar="COLUMN", help="normal, laplace: the predicted mean."),
    log_var: Optional[str] = typer.Option(None, "--log-var", metavar="COLUMN",
                                          help="normal: the predicted log-variance (else --sigma, else estimated)."),
    sigma: Optional[float] = typer.Option(None, "--sigma", metavar="VALUE", help="normal: a fixed standard deviation."),
    log_b: Optional[str] = typer.Option(None, "--log-b", metavar="COLUMN",
                                        help="laplace: the predicted log scale (else estimated)."),
    log_rate: Optional[str] = typer.Option(None, "--log-rate", metavar="COLUMN", help="poisson: the predicted log-rate."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Judge a trained model's predictions as likelihoods: the NLL, the loss it is, and the naive route's failures.

    For each row the model predicts a distribution (logits, a mean and a log-variance, a log-rate); the loss in its training code is that distribution's NLL. Reports the total and mean NLL computed stably (log-sum-exp, BCE with logits), the loss as a framework computes it with the identity between them, accuracy (bernoulli, categorical), where a naive exp / softmax / sigmoid and then log overflows, underflows or gives -inf or NaN in float64, float32 and float16, and the raw product's underflow. Rows whose target has probability 0 in the naive computation are counted. The file is read a chunk at a time.
    """
    from .data import column_names
    from .trained.scoring import make_spec, score_model as judge

    read_options = read_options
    label = "<stdin>" if file == "-" else file
    spec = make_spec(dist.value, target, logit=logit, logits=logits, mean=mean, log_var=log_var, sigma=sigma,
                     log_b=log_b, log_rate=log_rate, names=column_names(file, read_options), label=label)
    from .trained.columns import check_columns

    check_columns(file, spec, read_options)
    result = judge(file, spec, read_options)
    from .trained.report import print_model_score

    _present(result, output, print_model_score)
    _warn_and_exit(result.warnings())


@app.command(epilog=_epilog(
    "mlfit calibrate sample_data/predictions.csv --dist categorical --logits 'logit_*' --target shot",
    "mlfit calibrate sample_data/predictions.csv --dist bernoulli --logit made_logit --target made --plot reliability.png",
    "mlfit calibrate sample_data/predictions.csv --dist categorical --logits 'logit_*' --target shot --output calibrated.csv --format json",
))
@reader_options
def calibrate(
    file: str = FILE,
    dist: LogitFamily = typer.Option(..., "--dist", "-d", help="bernoulli (one logit) or categorical (a logit per class)."),
    target: str = TARGET,
    logit: Optional[str] = LOGIT,
    logits: Optional[str] = LOGITS,
    bins: int = typer.Option(15, "--bins", min=1, max=10_000, help="Equal-width bins of confidence for ECE and MCE."),
    level: float = LEVEL,
    output_file: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE.csv",
                                              help="Write the calibrated probabilities, with each row's number."),
    plot: Optional[str] = typer.Option(None, "--plot", metavar="FILE.png", help="Draw the reliability diagram before "
                                       "and after, with the bin counts. Needs matplotlib: pip install '.[plot]' from a clone of mlfit."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Fit one temperature T > 0 to a model's logits (temperature scaling, Guo et al. 2017) by maximum likelihood.

    Minimises the NLL of softmax(logits / T) (sigmoid for a binary model) by Newton's method in 1/T, where it is convex; gives T's standard error, Wald and profile-likelihood intervals, and the expected and maximum calibration error (equal-width bins of confidence, count-weighted) and the Brier score before and after.
    """
    from .data import check_output, column_names
    from .trained.columns import check_columns
    from .trained.scoring import make_spec
    from .trained.temperature import calibrate as fit_temperature

    read_options = read_options
    if plot:
        from .plots import check_target

        check_target(plot, inputs=(file,))
    if output_file:
        check_output(output_file, (file,), "the calibrated probabilities")
    label = "<stdin>" if file == "-" else file
    spec = make_spec(dist.value, target, logit=logit, logits=logits, names=column_names(file, read_options),
                     label=label)
    check_columns(file, spec, read_options)
    result = fit_temperature(file, spec, bins=bins, level=level, options=read_options)
    from .trained.report import print_calibration

    _present(result, output, print_calibration)
    if output_file:
        from .trained.temperature import write_calibrated

        write_calibrated(result, output_file)
    if plot:
        from .trained.plots import draw_reliability

        draw_reliability(result, plot)


@app.command("score-sequence", epilog=_epilog(
    "mlfit score-sequence sample_data/tokens.npz",
    "mlfit score-sequence sample_data/tokens.npz --label-smoothing 0.1 --format json | jq .cross_entropy",
    "mlfit score-sequence sample_data/tokens.npz sample_data/tokens_b.npz --ensemble",
    "mlfit score-sequence sample_data/tokens.csv --sequence sequence --logprob logprob",
))
@reader_options
def score_sequence(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="A .npz of logits (B, T, V) and targets (B, T); "
                                      "with --ensemble, one per member. Or a CSV of one row per token (with "
                                      "--sequence and --logprob)."),
    logits: str = typer.Option("logits", "--logits", metavar="KEY", help="The logits' array in the .npz."),
    targets: str = typer.Option("targets", "--targets", metavar="KEY", help="The targets' array in the .npz."),
    ignore_index: int = typer.Option(-100, "--ignore-index", help="A target of this value is padding, not scored "
                                     "(PyTorch's convention)."),
    label_smoothing: Optional[float] = typer.Option(None, "--label-smoothing", metavar="EPS", help="Also PyTorch's "
                                                    "label-smoothed loss, beside the NLL."),
    ensemble: bool = typer.Option(False, "--ensemble", help="Score the files as one ensemble: each token's "
                                  "probability the mean of the members'."),
    sequence: Optional[str] = typer.Option(None, "--sequence", metavar="COLUMN", help="The CSV form: the column "
                                           "naming each token's sequence."),
    logprob: Optional[str] = typer.Option(None, "--logprob", metavar="COLUMN", help="The CSV form: the "
                                          "log-probability the model gave the observed token."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Score a language model's tokens as one likelihood: the token-level cross-entropy, and the underflow that makes the log trick necessary.

    Each token's log-probability is log-softmax of its logits at the target, computed in float64 with log-sum-exp. Reports the NLL, cross-entropy, perplexity and bits per token, each sequence's NLL, where the raw product of each sequence's token probabilities reaches 0.0 in float64, float32 and float16, and how many tokens' loss the naive route (exp, divide, log) makes inf or nan in float32 and float16. The .npz is read a chunk of sequences at a time.
    """
    from .sequences import score_logprob_rows, score_sequence as score
    from .trained.report import print_sequence_score

    if (sequence is None) != (logprob is None):
        raise UsageError("--sequence and --logprob go together: the CSV form names both columns")
    if sequence is not None:
        if len(files) != 1 or ensemble or label_smoothing is not None:
            raise UsageError("the CSV form scores one file of log-probabilities, without --ensemble or "
                             "--label-smoothing (both need every class's logit)")
        result = score_logprob_rows(files[0], sequence, logprob, read_options)
    else:
        if len(files) > 1 and not ensemble:
            raise UsageError("several .npz files are the members of one ensemble: add --ensemble")
        if ensemble and len(files) < 2:
            raise UsageError("--ensemble needs two .npz files or more, one per member")
        with _sequence_progress() as progress:
            result = score(files[0], logits_key=logits, targets_key=targets, ignore_index=ignore_index,
                           label_smoothing=label_smoothing, ensemble=files[1:] or None, progress=progress)
    _present(result, output, print_sequence_score)


@contextlib.contextmanager
def _sequence_progress():
    """Sequences scored / total on stderr, at a terminal only."""
    if not sys.stderr.isatty():
        yield None
        return
    with _bar("scoring sequences", "", counted="items") as progress:
        yield progress


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
    from . import report

    if output.value == "json":
        typer.echo(report.to_json(result))
    else:
        from rich.console import Console

        getattr(report, table_view)(result, Console(), **view_options)


def _present(result, output: OutputFormat, printer) -> None:
    """The result as one JSON object (its to_dict), or its tables for people."""
    if output.value == "json":
        from .report import dumps

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


def run() -> None:
    """Console-script entry point."""
    # A closed stdout (mlfit ... | head -1) ends mlfit quietly, as it ends cat or grep,
    # instead of a BrokenPipeError traceback.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    # Arithmetic that meets float64's limits is handled where it happens (the suite fails on any
    # RuntimeWarning); one that slipped through must still not print a stray numpy line.
    warnings.simplefilter("ignore", RuntimeWarning)
    try:
        _stdout_in_full()
        app()
    except KeyboardInterrupt:  # Ctrl-C outside the command itself (while importing, say)
        _fail("interrupted", EXIT_INTERRUPTED)
