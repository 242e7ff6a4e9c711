"""mlfit regress: a family whose parameters depend on columns through a formula."""

from __future__ import annotations

from enum import Enum
from typing import Optional

import typer

from ..errors import MlfitError, UsageError
from .common import (LEVEL, _closed_progress, _cluster_progress, _end_batch, _epilog, _present,
                     _warn_and_exit, app, distribution_option, reader_options)


class StandardErrors(str, Enum):
    model = "model"
    robust = "robust"


class RegressFormat(str, Enum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


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
    dist: str = distribution_option(listed=False, help="normal (least squares), laplace (least absolute "
                                       "deviations), bernoulli (logistic), categorical (softmax), poisson (log-linear), "
                                       "gamma (log link), lognormal, weibull, exponential (accelerated failure time, "
                                       "as survreg), negbinomial (as glm.nb), geometric, binomial (with --trials), beta "
                                       "(logit mean, precision phi), student_t, logistic, cauchy (location linear)."),
    sigma: Optional[str] = typer.Option(None, "--sigma", metavar="'~ TERMS'", help="Model the log of the family's "
                                        "scale or shape (normal's sigma, gamma's shape, negbinomial's size, beta's "
                                        "phi, ...) as linear in these columns too (a model that learns its own noise)."),
    trials: Optional[str] = typer.Option(None, "--trials", metavar="N|COLUMN", help="binomial: the trials behind "
                                         "each count, one number for every row or a column of them."),
    censored: Optional[str] = typer.Option(None, "--censored", metavar="EVENT", help="A column of events: 1 the "
                                           "response (a time) was observed, 0 right-censored (still alive at it)."),
    left: Optional[str] = typer.Option(None, "--left", metavar="COLUMN", help="Interval censoring: the left bound "
                                       "(empty: left-censored); write the formula as 'LEFT ~ terms' or '~ terms'."),
    right: Optional[str] = typer.Option(None, "--right", metavar="COLUMN", help="Interval censoring: the right bound "
                                        "(empty: right-censored; equal to the left bound: observed)."),
    exposure: Optional[str] = typer.Option(None, "--exposure", metavar="COLUMN", help="poisson, negbinomial, "
                                           "geometric: a positive column whose log is added to the linear predictor "
                                           "(a rate per unit of exposure)."),
    offset: Optional[str] = typer.Option(None, "--offset", metavar="COLUMN", help="A column added to the linear "
                                         "predictor as it is."),
    se: StandardErrors = typer.Option(StandardErrors.model, "--se", help="model: from the observed information; "
                                      "robust: the sandwich (HC0), the model's kept beside it."),
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
        from ..plots import check_target

        check_target(plot, inputs=tuple(files))
    if predict:
        from ..data import check_output

        check_output(predict, tuple(files), "the predictions")
    from ..regression import RowOptions, regress_file

    options = {"sigma": sigma, "weights": weights, "level": level, "read_options": read_options}
    extras = RowOptions(trials=_trials(trials), censored=censored, left=left, right=right, exposure=exposure,
                        offset=offset)
    if scheduler is not None and (extras.columns() or se is not StandardErrors.model):
        raise UsageError("--scheduler fits a model's sums on the cluster: --trials COLUMN, censoring, --exposure, "
                         "--offset and --se robust need the rows in one place (write an offset in the formula)")
    if scheduler is not None and extras.trials is not None:
        options["trials"] = extras.trials
    elif extras != RowOptions() or se is not StandardErrors.model:
        options.update(extras=extras, se=se.value)
    if scheduler is not None:
        if plot or predict or output is RegressFormat.jsonl:
            raise UsageError("--scheduler fits one data set (table or json), without --plot or --predict: those "
                             "need every row in one place")
        _regress_distributed(files, formula, dist, output, scheduler, options)
        return
    if not single:
        _regress_batch(files, formula, dist, output, fail_fast, options)
        return
    result = regress_file(files[0], formula, dist, **options, whole=bool(plot))  # (the plot draws every row)
    from ..regression.report import print_regression

    _present(result, output, print_regression)
    if predict:
        from ..regression.report import write_predictions

        write_predictions(result, predict)
    if plot:
        from ..regression.plots import draw_regression

        draw_regression(result, plot)
    _warn_and_exit(result.warnings())


def _trials(text: str | None):
    """--trials N (a whole number) or --trials COLUMN."""
    if text is None:
        return None
    stripped = text.strip()
    return int(stripped) if stripped.isdigit() else stripped


def _regress_distributed(files, formula, dist, output, scheduler, options) -> None:
    from ..distributed import connect, disconnect, regress_distributed
    from ..regression.report import print_regression

    client, progress = connect(scheduler), _cluster_progress()
    try:
        result = regress_distributed(files, formula, dist, client=client, progress=progress, **options)
    finally:
        _closed_progress(progress)
        disconnect(client)
    _present(result, output, print_regression)
    _warn_and_exit(result.warnings())


def _regress_batch(files, formula, dist, output, fail_fast, options) -> None:
    """Several files, one fit each: a failure is a line on stderr (and an error record), the rest
    go on, and the exit code is the most serious met, as for fit."""
    from ..regression import regress_file
    from ..report import dumps

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

            from ..regression.report import print_regression

            console = console or Console()
            print_regression(result, console)
        if codes and fail_fast:
            break
    if output is RegressFormat.json:
        typer.echo(dumps({"fits": collected}))
    _end_batch(codes, flagged)
