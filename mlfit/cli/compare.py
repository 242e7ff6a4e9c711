"""mlfit compare: every family the column admits (or those named), ranked by AIC."""

from __future__ import annotations

from typing import Optional

import typer

from ..errors import DataError, UsageError
from .common import (BOOTSTRAP, CENSORED, CHISQ_BREAKS, CHISQ_CELLS, COLUMN, ChisqCells, FILE, FORMAT, LEFT, LEVEL,
                     OutputFormat, RIGHT, SEED, TRIALS, WEIGHTS, _breaks, _closed_progress, _cluster_progress,
                     _epilog, _show, _warn_and_exit, app, distribution_option, reader_options)


@app.command(epilog=_epilog(
    "mlfit compare sample_data/goals.csv --column home_goals",
    "mlfit compare sample_data/free_throws.csv --column error_cm --gof-bootstrap 199",
    "mlfit compare sample_data/free_throws.csv --column error_cm --dist normal --dist laplace --format json | jq -r .winner",
    "mlfit compare sample_data/rivers.csv --column miles --dist gamma --dist weibull --dist lognormal",
    "mlfit compare sample_data/rivers.csv --column miles --plot comparison.png",
    "mlfit compare sample_data/faithful.csv --column eruptions --dist normal --components 1-4",
))
@reader_options
def compare(
    file: str = FILE,
    dist: Optional[list[str]] = distribution_option(
        many=True, help="A family to include (repeat for several). Default: every family the column admits."),
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
    budget: float = typer.Option(5.0, "--budget", min=0.1, metavar="SECONDS", help="With scipy: distributions: "
                                 "the time each may take (those that run out are listed, not ranked)."),
    components: Optional[str] = typer.Option(None, "--components", metavar="K|K1-K2", help="With one --dist: "
                                             "mixtures of each number of components (1-4), each fitted at its best "
                                             "by EM from many starts, ranked by BIC (as mclust does), AIC beside."),
    read_options=None,
) -> None:
    """Which family explains the column? Fit several and rank them by AIC.

    By default every family whose support holds all the values is tried: a 0/1 column bernoulli, the count families (poisson, negbinomial, geometric, binomial with --trials) and categorical; other non-negative integers the count families, categorical and the continuous families that admit them; positive numbers the positive families too (lognormal, gamma, weibull, exponential); numbers in (0, 1) beta as well; other numbers normal, laplace, logistic, cauchy, student_t and uniform; text categorical. Ranked by AIC with delta-AIC and Akaike weights, with BIC, log-likelihood, free parameters and goodness of fit. A family that cannot fit the column is listed with the reason.
    """
    from ..api import compare as rank

    if any(name.startswith("scipy:") for name in dist or []):
        _compare_scipy(file, list(dist), column, weights, output, plot, budget, read_options,
                       left=left, right=right, censored=censored, scheduler=scheduler, gof_bootstrap=gof_bootstrap,
                       trials=trials, level=level)
        return
    if components is not None:
        if plot:
            raise UsageError("--components ranks numbers of components: draw one with fit --components K --plot")
        ranking = rank(file, list(dist or []), column=column, weights=weights, left=left, right=right,
                       censored=censored, scheduler=scheduler, read_options=read_options, level=level,
                       gof_bootstrap=gof_bootstrap, trials=trials, seed=seed, components=components)
        from .common import _present
        from ..report import print_components

        _present(ranking, output, print_components)
        if ranking.best is None:
            raise DataError(f"{ranking.source}: column '{ranking.column}': {ranking.verdict()}")
        _warn_and_exit([w for _, r, _ in ranking.fits if r is not None for w in r.warnings()])
        return
    if plot:
        from ..plots import check_target

        check_target(plot, inputs=(file,))
    if scheduler is not None and plot:
        raise UsageError("--scheduler ranks families by maximum likelihood without --plot or censoring")
    if plot and (left or right or censored):
        raise UsageError("--plot of a comparison is not offered for censored data; fit --plot draws one family")
    progress = _cluster_progress() if scheduler is not None else None
    try:
        ranking = rank(file, list(dist or []), column=column, weights=weights, left=left, right=right,
                       censored=censored, scheduler=scheduler, keep_values=bool(plot), read_options=read_options,
                       progress=progress, level=level, gof_bootstrap=gof_bootstrap, seed=seed, trials=trials,
                       chisq_cells=chisq_cells.value, chisq_breaks=_breaks(chisq_breaks))
    finally:
        if progress is not None:
            _closed_progress(progress)
    _show(ranking, output, "print_ranking")
    if plot and ranking.winner is not None:
        from ..plots import draw_comparison

        draw_comparison(ranking, plot)
    if ranking.winner is None:
        why = "no family could be ranked" if ranking.fitted else "no family could be fitted"
        raise DataError(f"{ranking.source}: column '{ranking.column}': {why}")
    _warn_and_exit([w for c in ranking.fitted for w in c.result.warnings()])


def _compare_scipy(file, names, column, weights, output, plot, budget, read_options, **others):
    """scipy.stats' distributions ranked by AIC, each within its time budget; a progress bar at a
    terminal (every continuous one takes minutes)."""
    import sys

    from ..api import compare as rank
    from ..report import print_scipy_ranking
    from .common import _present

    if plot:
        raise UsageError("--plot draws mlfit's families; scipy: distributions are ranked in tables")
    heard, bar = None, None
    if sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("fitting", total=None)

        def heard(done, total, name):
            bar.update(task, completed=done, total=total, description=name)
    try:
        ranking = rank(file, names, column=column, weights=weights, read_options=read_options, budget=budget,
                       progress=heard, **others)
    finally:
        if bar is not None:
            bar.stop()
    _present(ranking, output, print_scipy_ranking)
    if ranking.best is None:
        raise DataError(f"{ranking.source}: column '{ranking.column}': no scipy distribution could be ranked")
