"""mlfit report: one self-contained HTML page of a comparison, or of a regression."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import DataError, UsageError
from .common import COLUMN, LEVEL, WEIGHTS, _epilog, _warn_and_exit, app, distribution_option, reader_options


@app.command(epilog=_epilog(
    "mlfit report sample_data/rivers.csv --column miles --output rivers.html",
    "mlfit report sample_data/goals.csv --column home_goals --dist poisson --dist negbinomial --output goals.html",
    "mlfit report sample_data/lung.csv 'time ~ age + sex' --dist weibull --censored event --output lung.html",
    "mlfit report sample_data/rivers.csv --column miles --no-figures --output - > rivers.html",
    note="The page holds everything it shows: figures as inline SVG, styles inline, no script or font fetched; "
    "it reads on a phone and prints. Its numbers are the JSON's (--format json of compare or regress), rounded as "
    "their tables round them.",
))
@reader_options
def report(
    file: str = typer.Argument(..., metavar="FILE", help="A CSV file (.csv or .csv.gz), or - for standard input."),
    formula: Optional[str] = typer.Argument(None, metavar="[FORMULA]", help="'y ~ x1 + x2': a regression's report "
                                            "(with one --dist) instead of a comparison's."),
    output: str = typer.Option(..., "--output", "-o", metavar="PAGE.html", help="Where to write the page; - for "
                               "standard output."),
    dist: Optional[list[str]] = distribution_option(
        many=True, help="A family to include (repeat for several; default: every family the column admits); with "
        "a formula, the regression's one family."),
    column: Optional[str] = COLUMN,
    level: float = LEVEL,
    trials: Optional[str] = typer.Option(None, "--trials", metavar="N|COLUMN", help="binomial: the trials behind "
                                         "each count (a column only in a regression)."),
    weights: Optional[str] = WEIGHTS,
    censored: Optional[str] = typer.Option(None, "--censored", metavar="EVENT", help="A regression's event column "
                                           "(1 observed, 0 right-censored)."),
    figures: bool = typer.Option(True, "--figures/--no-figures", help="--no-figures writes the tables alone "
                                 "(without matplotlib, the [plot] extra, the only page there is)."),
    read_options=None,
) -> None:
    """Write one HTML page a person would rather look at: the comparison and its verdict, the winner's fit drawn four ways, the alternatives overlaid, the column's shape (Cullen-Frey), goodness of fit and the underflow lesson; or, with a formula, a regression's coefficients, fit, residuals and loss."""
    from ..data import check_output

    if figures:
        from ..plots import require_matplotlib

        require_matplotlib()
    if output != "-":
        check_output(output, (file,), "the report")
    if formula is None:
        if censored is not None:
            raise UsageError("--censored belongs to a regression's report (give a formula); compare --censored "
                             "ranks censored columns")
        text, flagged = _comparison(file, dist, column, level, trials, weights, figures, read_options)
    else:
        if column is not None:
            raise UsageError("a regression's report takes its columns from the formula, not --column")
        if not dist or len(dist) != 1:
            raise UsageError("a regression's report needs one --dist (the family of the response)")
        text, flagged = _regression(file, formula, dist[0], level, trials, weights, censored, figures, read_options)
    _write(text, output)
    _warn_and_exit(flagged)


def _comparison(file, dist, column, level, trials, weights, figures, read_options):
    from ..api import compare, describe
    from ..page import ranking_page

    count = None
    if trials is not None:
        if not trials.strip().isdigit():
            raise UsageError("--trials of a comparison is one number for every row (--trials N)")
        count = int(trials)
    ranking = compare(file, list(dist or []), column=column, weights=weights, keep_values=figures,
                      read_options=read_options, level=level, trials=count)
    if ranking.winner is None:
        why = "no family could be ranked" if ranking.fitted else "no family could be fitted"
        raise DataError(f"{ranking.source}: column '{ranking.column}': {why}")
    description = None
    if weights is None:  # (describe's moments are of the rows as they are, unweighted)
        held = ranking.winner.result.values
        try:
            if held is not None and held.dtype.kind == "f":  # the values compare read (standard input is read once)
                description = describe(held, ranking.column)
            elif file != "-":
                description = describe(file, ranking.column, read_options=read_options)
        except DataError:  # text, or a column the shape says nothing of: the page goes without it
            description = None
    return ranking_page(ranking, description, figures=figures), [w for c in ranking.fitted
                                                                 for w in c.result.warnings()]


def _regression(file, formula, dist, level, trials, weights, censored, figures, read_options):
    from ..api import regress
    from ..page import regression_page

    count = int(trials) if trials is not None and trials.strip().isdigit() else trials
    result = regress(file, formula, dist, weights=weights, level=level, trials=count, censored=censored,
                     read_options=read_options, whole=figures)  # (the figures draw every row)
    return regression_page(result, figures=figures and result.divergence is None and not result.passes), \
        result.warnings()


def _write(text: str, output: str) -> None:
    if output == "-":
        typer.echo(text, nl=False)
        return
    from ..page import write_page

    write_page(text, output)
