"""The command line: parse flags, call the library, choose a view, map errors to exit codes.

Nothing numeric is imported at module level, so `mlfit --help` starts as fast as typer does.
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import Optional

import typer
from typer.core import TyperGroup

from . import __version__
from .errors import EXIT_FIT_WARNING, EXIT_INTERRUPTED, EXIT_USAGE, MlfitError
from .families import NAMES

Distribution = Enum("Distribution", {name: name for name in NAMES}, type=str)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"


class OneLineErrors(TyperGroup):
    """Every failure, usage errors included, becomes one line on stderr and an exit code."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        try:
            # Not standalone, typer returns an Exit's code instead of raising it.
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            sys.exit(code if isinstance(code, int) else 0)
        except typer.Exit as done:
            sys.exit(done.exit_code)
        except (typer.Abort, KeyboardInterrupt):
            _fail("interrupted", EXIT_INTERRUPTED)
        except MlfitError as error:
            _fail(str(error), error.exit_code)
        except Exception as error:
            # Typer's usage errors (its vendored click's UsageError and kin) are known by their
            # shape rather than by a private class: a message and an exit code.
            if not (hasattr(error, "format_message") and isinstance(getattr(error, "exit_code", None), int)):
                raise
            if type(error).__name__ == "NoArgsIsHelpError":
                typer.echo(error.format_message())
                sys.exit(EXIT_USAGE)
            ctx = getattr(error, "ctx", None)
            hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            _fail(f"{error.format_message()}{hint}", error.exit_code)


def _fail(message: str, code: int) -> None:
    typer.echo(f"mlfit: error: {message}", err=True)
    sys.exit(code)


app = typer.Typer(
    cls=OneLineErrors,
    add_completion=False,
    no_args_is_help=True,
    help="Fit distributions to a CSV column by maximum likelihood, minimising the "
    "negative log-likelihood in log space, and check the optimum against the closed form.",
    epilog="Exit codes: 0 fitted; 1 bad data; 2 bad usage; 3 fitted, but the optimiser did not "
    "converge or disagrees with the closed form; 130 interrupted.",
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


@app.command(
    epilog="Examples:\n\n"
    "  mlfit fit sample_data/free_throws.csv --dist normal --column error_cm\n\n"
    "  cat goals.csv | mlfit fit - --dist poisson --column goals --format json | jq .params\n\n"
    "  python -m mlfit fit shots.csv.gz --dist categorical --column shot_type\n\n"
    "Exit codes: 0 fitted; 1 bad data; 2 bad usage; 3 fitted, but the optimiser did not converge "
    "or disagrees with the closed form (a warning on stderr says which); 130 interrupted."
)
def fit(
    file: str = typer.Argument(..., metavar="FILE", help="A CSV file (.csv or .csv.gz), or - for standard input."),
    dist: Distribution = typer.Option(..., "--dist", "-d", help="The distribution family to fit."),
    column: Optional[str] = typer.Option(None, "--column", "-c",
                                         help="The column to fit; may be left out when the file has one column."),
    output: OutputFormat = typer.Option(OutputFormat.table, "--format", "-f",
                                        help="table for people, json for one JSON object on stdout."),
) -> None:
    """Fit one family to one column by maximum likelihood.

    Minimises the negative log-likelihood (NLL) with scipy.optimize, compares the optimum with the closed-form MLE, and reports where the raw product of row likelihoods would underflow to 0.0 (or overflow to inf) in float64, float32 and float16. Missing cells (empty, NA, NaN) are skipped and counted.
    """
    from .api import fit_file

    result = fit_file(file, dist.value, column)
    if output is OutputFormat.json:
        from .report import to_json

        typer.echo(to_json(result))
    else:
        from rich.console import Console

        from .report import print_table

        print_table(result, Console())
    warnings = result.warnings()
    for warning in warnings:
        typer.echo(f"mlfit: warning: {warning}", err=True)
    if warnings:
        raise typer.Exit(EXIT_FIT_WARNING)


def run() -> None:
    """Console-script entry point."""
    app()
