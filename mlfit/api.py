"""The library API: what the CLI calls, and what a Python user imports.

    >>> import mlfit
    >>> result = mlfit.fit([2.1, 1.9, 2.4, 2.0], "normal")
    >>> round(result.params["mu"], 3)
    2.1
    >>> mlfit.fit([1.2, 0.4, 3.3, 2.0], "gamma", level=0.9).reference_method
    'root of the score equation'
"""

from __future__ import annotations

from .columns import DEFAULT, ReadOptions
from .errors import UsageError
from .fits import fit, fit_column, fit_columns, fit_request
from .request import FitRequest

__all__ = ["fit", "fit_file", "fit_columns", "fit_column", "fit_request", "compare", "describe", "regress",
           "score_model", "calibrate"]


def fit_file(source, distribution: str, column: str | None = None, *, scheduler: str | None = None,
             weights: str | None = None, left: str | None = None, right: str | None = None,
             censored: str | None = None, read_options: ReadOptions = DEFAULT, keep_values: bool = False,
             progress=None, **options):
    """Fit one column of a file (a CSV, '-' for standard input, Parquet, a URL); None: the only
    column there is. `scheduler` ("local", "auto" or tcp://HOST:PORT) fits the files, globs or
    directories `source` names (a path or a list of them) as one data set on a Dask cluster.
    Everything else as `mlfit.fits.fit_file`: weights, censoring, other methods, the bootstrap,
    quantiles and the fit options."""
    from . import fits

    if scheduler is None or options.get("components") is not None:
        if scheduler is not None:
            raise UsageError("a mixture (components) is fitted by EM over rows held in memory, not on a cluster")
        return fits.fit_file(source, distribution, column, weights=weights, left=left, right=right,
                             censored=censored, read_options=read_options, keep_values=keep_values,
                             progress=progress, **options)
    if keep_values:
        raise UsageError("a data set fitted on a cluster is summarised part by part, never held: keep_values does "
                         "not go with scheduler")
    request = FitRequest.of(distribution, weighted=weights is not None, scheduler=scheduler,
                            censored=bool(left or right or censored), **options)
    from .distributed import connect, disconnect, fit_distributed

    client = connect(scheduler)
    try:
        return fit_distributed([source] if isinstance(source, str) else list(source), request.family.name, column,
                               client=client, weights=weights, read_options=read_options, progress=progress,
                               **vars(request.options))
    finally:
        disconnect(client)


def regress(data, formula: str, dist: str = "normal", *, sigma: str | None = None, weights: str | None = None,
            level: float = 0.95, trials: int | str | None = None, censored: str | None = None,
            left: str | None = None, right: str | None = None, exposure: str | None = None,
            offset: str | None = None, se: str = "model", read_options: ReadOptions = DEFAULT, whole: bool = False):
    """A model whose parameters depend on columns (`mlfit regress`): `data` a pandas DataFrame or a
    dict of equal-length columns, or a CSV path; `formula` as "y ~ x1 + C(g)"; `dist` any family of
    `mlfit.families.regression_families()`. `sigma` "~ terms" of the log scale or shape; `trials`
    (binomial) a number or a column; `censored` an event column (1 observed, 0 right-censored) or
    `left`/`right` interval bounds (an empty cell an open end); `exposure` a column whose log is
    added to the linear predictor, `offset` one added as it is; `se` "model" or "robust" (HC0);
    `whole` holds a big file's whole design (for `plot()` and the report's figures) where it would be
    built chunk by chunk. `to_dict()` is the CLI's JSON."""
    from .regression import RowOptions, regress as regress_frame, regress_file

    extras = RowOptions(trials=trials, censored=censored, left=left, right=right, exposure=exposure, offset=offset)
    if isinstance(data, str):
        return regress_file(data, formula, dist, sigma=sigma, weights=weights, level=level, read_options=read_options,
                            extras=extras, se=se, whole=whole)
    return regress_frame(data, formula, dist, sigma=sigma, weights=weights, level=level, extras=extras, se=se)


def score_model(data, distribution: str, target: str, *, sigma: float | None = None,
                read_options: ReadOptions = DEFAULT, **columns):
    """A trained model's predictions judged as likelihoods (`mlfit score-model`): `data` a CSV path
    or a table in memory (a pandas DataFrame, a dict of columns); the prediction columns by flag,
    without the dashes: logit="made_logit", logits="logit_*", mean="mu", log_var="lv", log_b=,
    log_rate=; `sigma` a fixed standard deviation (normal). `to_dict()` is the CLI's JSON."""
    from .trained.columns import check_columns, source_columns, source_label
    from .trained.scoring import make_spec, score_model as judge

    spec = make_spec(distribution, target, names=source_columns(data, read_options), label=source_label(data),
                     sigma=sigma, **columns)
    check_columns(data, spec, read_options)
    return judge(data, spec, read_options)


def calibrate(data, distribution: str, target: str, *, logit: str | None = None, logits: str | None = None,
              bins: int = 15, level: float = 0.95, read_options: ReadOptions = DEFAULT):
    """One temperature for a classifier's logits (`mlfit calibrate`): `data` a CSV path or a table
    in memory; `logit` the one column of a binary model, `logits` the columns of a categorical one
    (a list as "c0,c1,c2" or a glob). `params`, `bse`, `conf_int()` give the temperature;
    `to_dict()` is the CLI's JSON."""
    from .options import FitOptions
    from .trained.columns import check_columns, source_columns, source_label
    from .trained.temperature import calibrate as fit_temperature, logit_spec

    level = FitOptions(level=level).level
    if isinstance(bins, bool) or not isinstance(bins, int) or not 1 <= bins <= 10_000:
        raise UsageError(f"bins must be a whole number from 1 to 10,000, not {bins!r}")
    spec = logit_spec(distribution, target, names=source_columns(data, read_options), label=source_label(data),
                      logit=logit, logits=logits)
    check_columns(data, spec, read_options)
    return fit_temperature(data, spec, bins=bins, level=level, options=read_options)


def compare(data, distributions=None, *, column: str | None = None, weights=None, left: str | None = None,
            right: str | None = None, censored: str | None = None, events=None, scheduler: str | None = None,
            keep_values: bool = False, read_options: ReadOptions = DEFAULT, progress=None, **options):
    """Which family explains the column (`mlfit compare`): `data` values in memory (a list, an
    array, a pandas Series, censored rows as `CensoredData`, or times with `events`) or a file's
    name with its `column`; censored columns as `left`/`right` or `censored` (the event column);
    `scheduler` ranks a data set of files on a Dask cluster. `distributions` the families to rank
    (default: every family the values admit). A Ranking: `best`, `table`, the winner's `params`,
    `summary()`, `plot()`, `to_dict()` (the CLI's JSON). Options as `fit_file`'s fit options.
    `components` ("1-4" or a list, with one family): mixtures of each number of components ranked by
    BIC (a ComponentRanking); `scipy:NAME` families (or "scipy:*") are ranked among themselves, each
    within `budget` seconds (a ZooRanking)."""
    from .censored import CensoredData
    from .ranking import compare_censored, compare_file, compare_values

    names = list(distributions or [])
    censoring = bool(left or right or censored)
    if options.get("components") is not None:
        return _compare_components(data, names, column, weights, censoring or events is not None, scheduler,
                                   read_options, **options)
    if any(name.startswith("scipy:") for name in names):
        return _compare_scipy(data, names, column, weights, censoring or events is not None or scheduler is not None,
                              read_options, progress, **options)
    if scheduler is not None:
        if censoring or events is not None or not isinstance(data, str):
            raise UsageError("--scheduler ranks families by maximum likelihood of a data set of files, without "
                             "censoring")
        from .distributed import compare_distributed, connect, disconnect

        client = connect(scheduler)
        try:
            return compare_distributed([data], column, names, client=client, weights=weights,
                                       read_options=read_options, progress=progress, **options)
        finally:
            disconnect(client)
    if isinstance(data, str) and censoring:
        from .censored import read_censored

        if weights is not None:
            raise UsageError("--weights do not go with censored data")
        return compare_censored(read_censored(data, column, left, right, censored, read_options), names, **options)
    if isinstance(data, str):
        return compare_file(data, column, names, weights=weights, keep_values=keep_values, read_options=read_options,
                            **options)
    if events is not None:
        from .fits import _right_censored

        data = _right_censored(data, events)
    if isinstance(data, CensoredData):
        return compare_censored(data, names, **options)
    return compare_values(data, names, name=column, weights=weights, **options)


def describe(data, column: str | None = None, *, boot: int = 0, seed: int = 0, read_options: ReadOptions = DEFAULT):
    """The column's shape before any fit (`mlfit describe`): `data` values in memory (a pandas
    Series' name is the column's) or a file's name with its `column`. `to_dict()` is the CLI's JSON,
    `plot()` the Cullen-Frey graph."""
    from .shape import describe_file, describe_values

    if isinstance(data, str):
        return describe_file(data, column, boot=boot, seed=seed, read_options=read_options)
    return describe_values(data, column, boot=boot, seed=seed)


def _compare_components(data, names, column, weights, censoring, scheduler, read_options, *, components,
                        trials=None, seed=0, starts=None, **others):
    """compare with components: one family's mixtures of K = 1, 2, ... components ranked by BIC."""
    from .data import read_weighted, weighted_memory_column
    from .families import one_family
    from .mixture import RANDOM_STARTS, check_components, compare_components, parse_components

    counts = parse_components(components) if isinstance(components, str) else [int(k) for k in components]
    given = sorted(k for k, v in others.items() if v not in (None, 0, False, {}, 0.95))
    if len(names) != 1 or censoring or scheduler is not None or given:
        raise UsageError("comparing numbers of components takes one family (--dist), without censoring, "
                         f"--scheduler or {', '.join(given) or 'goodness-of-fit options'}")
    family = one_family(names[0], trials)
    for k in counts:
        check_components(family, k)
    column_data = read_weighted(data, column, weights, options=read_options) if isinstance(data, str) \
        else weighted_memory_column(data, column, weights)
    return compare_components(column_data, family, counts, seed=seed,
                              starts=RANDOM_STARTS if starts is None else starts)


def _compare_scipy(data, names, column, weights, elsewhere, read_options, progress, *, budget=None, **others):
    """compare with scipy:NAME (or 'scipy:*', every continuous one): each fitted within its time
    budget, ranked by AIC."""
    from .data import read_weighted, weighted_memory_column
    from .zoo import BUDGET, compare_scipy, expand, is_scipy, numbers_of, refuse_options

    if not all(is_scipy(name) for name in names):
        raise UsageError("scipy:NAME distributions are ranked among themselves: give only scipy: names (or "
                         "'scipy:*')")
    if elsewhere:
        raise UsageError("scipy:NAME distributions are ranked on one column in memory, without censoring or "
                         "--scheduler")
    refuse_options({**others, "weights": weights}, "ranking scipy:NAME")
    data = read_weighted(data, column, None, options=read_options) if isinstance(data, str) \
        else weighted_memory_column(data, column)
    return compare_scipy(numbers_of(data), expand(names), source=data.source, column=data.name,
                         budget=BUDGET if budget is None else budget, progress=progress)
