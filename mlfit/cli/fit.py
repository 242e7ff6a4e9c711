"""mlfit fit: one column, many columns or files, censored data, other estimators, the bootstrap."""

from __future__ import annotations

import os
import sys
from typing import Optional

import typer

from ..errors import EXIT_BAD_DATA, UsageError
from .common import (BOOTSTRAP, BootstrapKind, CENSORED, CHISQ_BREAKS, CHISQ_CELLS, ChisqCells, FIX, FitFormat, LEFT,
                     LEVEL, Method, RIGHT, SEED, TRIALS, WEIGHTS, _breaks, _closed_progress, _cluster_progress,
                     _end_batch, _epilog, _progress, _show, _warn_and_exit, app, distribution_option, reader_options)


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
    "mlfit fit sample_data/faithful.csv --dist normal --column eruptions --components 2 --predict components.csv",
    note="In a batch (several files or columns) each failure is a line on stderr (and an error record in "
    "json, jsonl, csv and tsv), the rest go on, and the exit code is the most serious one met: 2 if a file, "
    "column or --fix was wrong, else 1 if some data could not be fitted, else 3 if a fit warned.",
))
@reader_options
def fit(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="CSV files (.csv, .gz, .bz2, .xz, .zip), - for "
                                      "standard input (once at most)."),
    dist: str = distribution_option(help="The distribution family to fit."),
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
    components: Optional[int] = typer.Option(None, "--components", metavar="K", help="Fit a mixture of K "
                                             "components by EM (from the quantile start and 20 random ones, the "
                                             "best kept, then Newton), e.g. two humps: --components 2."),
    predict: Optional[str] = typer.Option(None, "--predict", metavar="OUT.csv", help="With --components: each "
                                          "row's probability of each component, and the most probable one."),
    read_options=None,
) -> None:
    """Fit one family to columns of CSV files by maximum likelihood.

    Minimises the negative log-likelihood (NLL) with scipy.optimize, compares the optimum with the family's reference solution (its closed form, or the root of its score equations; logistic, cauchy and student_t have none), gives standard errors, Wald and profile-likelihood intervals, AIC, BIC and goodness of fit, and reports where the raw product of row likelihoods would underflow to 0.0 (or overflow to inf) in float64, float32 and float16. Missing cells (empty, NA, NaN) are skipped and counted.
    """
    from ..params import parse_assignments
    from ..request import FitRequest

    if files.count("-") > 1:
        raise UsageError("standard input (-) can be read once only")
    if dist.startswith("scipy:"):
        from ..zoo import refuse_options

        refuse_options({"--fix": fix, "--bootstrap": bootstrap, "--quantile": quantile, "--plot": plot,
                        "--plot-nll": plot_nll, "--left/--right/--censored": left or right or censored,
                        "--scheduler": scheduler, "--gof-bootstrap": gof_bootstrap, "--columns-all": columns_all,
                        "--weights": weights, "--components": components, "--method": method.value != "mle"})
        if len(files) != 1 or len(column or []) > 1 or output.value not in ("table", "json"):
            raise UsageError("a scipy:NAME fit is one fit: one file, one column, table or json")
        from ..api import fit_file
        from ..report import print_scipy_fit
        from .common import _present

        result = fit_file(files[0], dist, (column or [None])[0], read_options=read_options)
        _present(result, output, print_scipy_fit)
        _warn_and_exit(result.warnings())
        return
    if predict is not None and components is None:
        raise UsageError("--predict writes each row's component probabilities: it goes with --components")
    if components is not None:
        given = [flag for flag, value in (("--fix", fix), ("--bootstrap", bootstrap), ("--quantile", quantile),
                                          ("--plot-nll", plot_nll), ("--left/--right/--censored", left or right or censored),
                                          ("--scheduler", scheduler), ("--gof-bootstrap", gof_bootstrap),
                                          ("--columns-all", columns_all)) if value]
        if method.value != "mle":
            given.append("--method")
        if given:
            raise UsageError(f"--components (a mixture fitted by EM) does not go with {', '.join(given)}")
        if len(files) != 1 or len(column or []) > 1 or output.value not in ("table", "json"):
            raise UsageError("--components fits one mixture: one file, one column, table or json")
        _fit_mixture(files[0], dist, (column or [None])[0], components, weights, trials, seed, output, plot, predict,
                     read_options)
        return
    if columns_all and column:
        raise UsageError("--columns-all and --column do not go together")
    if plot and plot_nll and os.path.realpath(plot) == os.path.realpath(plot_nll):
        raise UsageError(f"--plot and --plot-nll name the same file ({plot}): the second would overwrite the first")
    held = {}
    for text in fix or []:
        for name, value in parse_assignments(text).items():
            if name in held:
                raise UsageError(f"--fix gives {name} twice")
            held[name] = value
    fit_options = {"level": level, "gof_bootstrap": gof_bootstrap, "seed": seed, "fix": held, "trials": trials,
                   "chisq_cells": chisq_cells.value, "chisq_breaks": _breaks(chisq_breaks)}
    asked = {"method": method.value, "probs": probs, "bootstrap": bootstrap, "bootstrap_kind": bootstrap_kind.value,
             "bootstrap_draws": bootstrap_draws, "quantiles": quantile}
    plots = [kind for kind, path in (("fit", plot), ("nll", plot_nll)) if path]
    request = FitRequest.of(dist, censored=bool(left or right or censored), weighted=weights is not None,
                            scheduler=scheduler, plots=plots, **asked, **fit_options)
    # What each view can show: the rules of the library's request are checked; these are the outputs'.
    one_view = output.value in ("table", "json")
    single = len(files) == 1 and len(column or []) <= 1 and not columns_all
    if scheduler is not None and (len(column or []) > 1 or columns_all or not one_view):
        raise UsageError("--scheduler fits one column of one data set (table or json), by maximum likelihood, "
                         "without --fix, --bootstrap, --quantile, plots or censoring")
    if request.method != "mle" and not (single and one_view):
        raise UsageError(f"--method {request.method} is one fit: one file, one column, table or json")
    if request.censored:
        if len(files) != 1 or columns_all or not one_view:
            raise UsageError("censored data (--left/--right, --censored) is one data set: one file, table or json")
        if censored and not (left or right) and len(column or []) != 1:
            raise UsageError("--censored names the event column: give the value column with one --column")
    if request.plots and not single:
        raise UsageError("--plot and --plot-nll draw one fit: give one file and one column")
    if request.resampling.asked and not (single and one_view):
        raise UsageError("--bootstrap and --quantile go with one fit (one file, one column, table or json)")
    if weights is not None and not (column or columns_all) and not request.censored:
        raise UsageError("with --weights, name the columns to fit with --column (or --columns-all)")
    if scheduler is not None or (single and one_view):
        _fit_one(files, dist, (column or [None])[0], request, output, read_options, plot, plot_nll,
                 _draw_chart(chart), weights=weights, left=left, right=right, censored=censored, **asked,
                 **fit_options)
    else:
        _fit_batch(files, dist, column, columns_all, weights, output, fail_fast, read_options, fit_options,
                   _draw_chart(chart))


def _fit_mixture(source, dist, column, components, weights, trials, seed, output, plot, predict, read_options):
    from ..api import fit_file
    from ..report import print_mixture
    from .common import _present

    if plot:
        from ..plots import check_target

        check_target(plot, inputs=(source,))
    if predict:
        from ..data import check_output

        check_output(predict, (source,), "the component probabilities")
    result = fit_file(source, dist, column, weights=weights, trials=trials, seed=seed, components=components,
                      read_options=read_options)
    _present(result, output, print_mixture)
    if predict:
        from ..mixture import write_posteriors

        write_posteriors(result, predict)
    if plot:
        result.plot(plot)
    _warn_and_exit(result.warnings())


def _draw_chart(asked: bool | None) -> bool:
    return sys.stdout.isatty() if asked is None else asked


def _fit_one(files, dist, column, request, output, read_options, plot, plot_nll, chart, **keywords) -> None:
    """One fit, by the library's fit_file: on a cluster, censored, by another method, with the
    bootstrap; shown, drawn, and its warnings told."""
    from ..api import fit_file

    targets = [path for path in (plot, plot_nll) if path]
    if targets:
        from ..plots import check_target

        for path in targets:
            check_target(path, inputs=tuple(files))
    if request.scheduler is not None:
        progress = _cluster_progress()
        try:
            result = fit_file(files, dist, column, scheduler=request.scheduler, read_options=read_options,
                              progress=progress, **keywords)
        finally:
            _closed_progress(progress)
    else:
        with _progress(files[0]) as progress:
            result = fit_file(files[0], dist, column, read_options=read_options, keep_values=bool(targets),
                              progress=progress, **keywords)
    estimated = request.method != "mle"
    _show(result, output, "print_estimate" if estimated else "print_table", **({} if estimated else {"chart": chart}))
    if targets:
        from ..plots import draw_censored, draw_fit, draw_nll

        if plot:
            draw_censored(result, result.stats.data, plot) if request.censored else draw_fit(result, plot)
        if plot_nll:
            draw_nll(result, plot_nll)
    told = ([] if result.converged else [f"--method {request.method}: {result.message}"]) if estimated \
        else result.warnings()
    _warn_and_exit(told + (result.resampled.warnings() if result.resampled is not None else []))


def _fit_batch(files, dist, columns, every_column, weights, output, fail_fast, read_options, fit_options,
               chart) -> None:
    from rich.console import Console

    from ..batch import fit_many
    from ..families import get_family
    from ..report import RecordWriter, print_table

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


