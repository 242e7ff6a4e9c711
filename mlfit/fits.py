"""One family fitted to one column: held in memory or read from a file, censored, by maximum
likelihood or another method, with the bootstrap where asked. `mlfit.api` is the face a Python user
imports (it adds the cluster); compare and batch fit through here.

    >>> from mlfit.fits import fit
    >>> round(fit([2.1, 1.9, 2.4, 2.0], "normal").params["mu"], 3)
    2.1
"""

from __future__ import annotations

import numpy as np

from .columns import DEFAULT, Column, ReadOptions, column_name
from .data import require_column_for_weights, weighted_memory_column
from .errors import MlfitError, UsageError
from .families import get_family
from .options import FitOptions
from .request import FitRequest
from .result import FitResult
from .streaming import fit_gathered, fit_in_memory, gather


def fit_file(source: str, distribution: str, column: str | None = None, *, weights: str | None = None,
             left: str | None = None, right: str | None = None, censored: str | None = None,
             read_options: ReadOptions = DEFAULT, keep_values: bool = False, progress=None,
             components: int | None = None, **options):
    """Fit one column of a file (a CSV, '-' for standard input, Parquet, a URL); None: the only
    column there is.

    Options (see FitOptions and FitRequest): `level` of the confidence intervals (0.95),
    `gof_bootstrap` replicates for goodness-of-fit p-values (0: none), `seed` of the bootstraps
    (0), `fix` held parameters, `trials` per row (binomial), `chisq_cells`, `chisq_breaks`;
    `method` ("mle", or "mm", "quantile" with `probs`, "cvm", "ks", "ad", "spacing"),
    `bootstrap` replicates for percentile intervals (`bootstrap_kind` "parametric" or
    "nonparametric", `bootstrap_draws` to keep every replicate), `quantiles` (probabilities whose
    fitted quantiles get intervals). `weights` a column of case/frequency weights; censored data as
    `left` and `right` bound columns, or `column` with a `censored` event column (1 observed, 0
    right-censored). `read_options` how to read the
    file; `keep_values` holds every value in memory (plots need them); `progress(done, total)`
    hears how many bytes have been read. A FitResult (an Estimate for another method), with the
    bootstrap's intervals in `resampled` where asked."""
    if components is not None:
        from .mixture import mixture_of_file

        _mixture_options(options, left or right or censored)
        return mixture_of_file(source, distribution, components, column, weights=weights, read_options=read_options,
                               **options)
    if distribution.startswith("scipy:"):
        from .zoo import refuse_options, scipy_of_file

        refuse_options({**options, "weights": weights, "left": left, "right": right, "censored": censored})
        return scipy_of_file(source, distribution, column, read_options=read_options)
    request = FitRequest.of(distribution, censored=bool(left or right or censored), weighted=weights is not None,
                            **options)
    if request.censored:
        from .censored import read_censored

        return fit_request(read_censored(source, column, left, right, censored, read_options), request)
    if request.method != "mle":
        from .estimators import estimate_file

        result = estimate_file(source, distribution, column, request.method, request.probs,
                               read_options=read_options, level=request.options.level, trials=request.options.trials)
        return resampled(result, request)
    require_column_for_weights(column, weights)
    [(_, outcome)] = fit_columns(source, distribution, None if column is None else [column], only_one=column is None,
                                 weights=weights, read_options=read_options,
                                 keep_values=keep_values or request.resampling.asked, progress=progress,
                                 **vars(request.options))
    if isinstance(outcome, MlfitError):
        raise outcome
    return resampled(outcome, request)


def fit_columns(source: str, distribution: str, columns: list[str] | None = None, *, only_one: bool = False,
                weights: str | None = None, read_options: ReadOptions = DEFAULT, keep_values: bool = False,
                progress=None, unknown: list | None = None, **options) -> list[tuple[str, FitResult | MlfitError]]:
    """Fit several columns of one file (None: every column) in one pass over it: a (name, result)
    pair per column, in order, the result a FitResult or the MlfitError that column met. An error
    in reading the file itself is raised. `unknown` collects the names the header lacks, as
    (name, error) pairs; otherwise they are an error. Options as `fit_file`."""
    settings = FitOptions.of(**options)
    family = get_family(distribution, settings.trials)
    results = []
    for name, gathering in gather(source, family, columns, only_one=only_one, weights=weights,
                                  read_options=read_options, keep_values=keep_values, progress=progress,
                                  unknown=unknown):
        try:
            results.append((name, gathering if isinstance(gathering, MlfitError)
                            else fit_gathered(gathering, family, source, weights, read_options, settings)))
        except MlfitError as error:
            results.append((name, error))
    return results


def fit(values, distribution: str, *, name: str | None = None, weights=None, events=None,
        components: int | None = None, **options):
    """Fit values in memory: a list, a numpy array, a pandas Series (whose name is the column's), or
    censored rows (`mlfit.censored.CensoredData.of(low, high)`); None and NaN count as missing (and
    drop their weight). `weights`: one non-negative case/frequency weight per value. `events`: one
    0/1 per value, 1 observed and 0 right-censored at that value (survival data). `components`: a
    finite mixture of that many components, fitted by EM (a MixtureResult; `starts` random starts
    besides the quantile one, `seed`). Options as `fit_file`: the fit, other methods, the bootstrap
    and quantiles."""
    from .censored import CensoredData

    if components is not None:
        from .mixture import mixture_of_values

        _mixture_options(options, events)
        return mixture_of_values(values, distribution, components, name=name, weights=weights, **options)
    if distribution.startswith("scipy:"):
        from .zoo import refuse_options, scipy_of_values

        refuse_options({**options, "weights": weights, "events": events})
        return scipy_of_values(values, distribution, column=name)
    if events is not None:
        values = _right_censored(values, events)
    censored = isinstance(values, CensoredData)
    request = FitRequest.of(distribution, censored=censored, weighted=weights is not None, **options)
    if censored:
        return fit_request(values, request)
    return fit_request(weighted_memory_column(values, name, weights, text=not request.family.support.numeric),
                       request)


def _right_censored(values, events):
    from .censored import CensoredData

    times, events = np.asarray(values, dtype=float), np.asarray(events, dtype=float)
    if times.shape != events.shape or times.ndim != 1:
        raise UsageError(f"{len(events)} events for {len(times)} values: give one 0/1 per value")
    if not np.all(np.isin(events[~np.isnan(events)], (0.0, 1.0))):
        raise UsageError("events are 1 (observed) or 0 (right-censored)")
    missing = np.isnan(events)  # no event recorded: the row is missing, as an empty cell would be
    high = np.where(missing, np.nan, np.where(events == 1, times, np.inf))
    return CensoredData.of(np.where(missing, np.nan, times), high, name=column_name(values, None))


def fit_request(data, request: FitRequest):
    """The fit `request` asks for, of `data` held in memory (a Column, or CensoredData)."""
    from .censored import CensoredData, fit_censored

    if isinstance(data, CensoredData):
        return fit_censored(data, request.family.name, **vars(request.options))
    if request.method != "mle":
        from .estimators import estimate_column

        return resampled(estimate_column(data, request.family, request.method, request.probs,
                                         level=request.options.level), request)
    return resampled(fit_in_memory(data, request.family, request.options), request)


def resampled(result, request: FitRequest):
    """The result with its bootstrap intervals and fitted quantiles (`result.resampled`) where asked."""
    asked = request.resampling
    if not asked.asked:
        return result
    from dataclasses import replace

    from .bootstrap import bootstrap

    refit = None
    if request.method != "mle":
        from .estimators import refit_by

        refit = refit_by(result)
    drawn = bootstrap(result, asked.replicates, asked.kind, request.options.seed, asked.quantiles, refit=refit,
                      level=result.level)
    return replace(result, resampled=replace(drawn, with_draws=asked.draws))


def fit_column(data: Column, family, **options) -> FitResult:
    """Fit a column read by `mlfit.data` (options as `fit_file`)."""
    return fit_in_memory(data, family, FitOptions.of(**options))


MIXTURE_OPTIONS = ("starts", "seed", "trials")


def _mixture_options(options: dict, censoring) -> None:
    """A mixture is fitted by EM with its own starts: the single fit's options are refused, in one line."""
    others = sorted(k for k, v in options.items() if k not in MIXTURE_OPTIONS and v not in (None, 0, False, {}, "mle"))
    if censoring:
        others.append("censoring")
    if others:
        raise UsageError(f"components (a mixture fitted by EM) do not go with {', '.join(others)}")
