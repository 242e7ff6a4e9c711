"""The library API: what the CLI calls, and what a Python user imports.

    >>> import mlfit
    >>> result = mlfit.fit([2.1, 1.9, 2.4, 2.0], "normal")
    >>> round(result.params["mu"], 3)
    2.1
    >>> mlfit.fit([1.2, 0.4, 3.3, 2.0], "gamma", level=0.9).reference_method
    'root of the score equation'
"""

from __future__ import annotations

import numpy as np

from .columns import DEFAULT, Column, ReadOptions, column_name, memory_column
from .data import require_column_for_weights, with_weights
from .errors import MlfitError, UsageError
from .families import get_family
from .options import FitOptions
from .result import FitResult
from .streaming import fit_gathered, fit_in_memory, gather


def fit_file(source: str, distribution: str, column: str | None = None, *, weights: str | None = None,
             read_options: ReadOptions = DEFAULT, keep_values: bool = False, progress=None,
             **options) -> FitResult:
    """Fit one column of a CSV file (or '-' for standard input); None: the only column there is.

    Options (see FitOptions): `level` of the confidence intervals (0.95), `gof_bootstrap`
    replicates for goodness-of-fit p-values (0: none), `seed` of the bootstrap (0), `fix` held
    parameters, `trials` per row (binomial); `read_options` how to read the file (separator,
    decimal mark, header, encoding, NA markers); `weights` a column of non-negative
    case/frequency weights; `keep_values` holds every value in memory however many there are
    (plots need them); `progress(done, total)` hears how many bytes have been read."""
    require_column_for_weights(column, weights)
    [(_, outcome)] = fit_columns(source, distribution, None if column is None else [column], only_one=column is None,
                                 weights=weights, read_options=read_options, keep_values=keep_values,
                                 progress=progress, **options)
    if isinstance(outcome, MlfitError):
        raise outcome
    return outcome


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


def fit(values, distribution: str, *, name: str | None = None, weights=None, **options) -> FitResult:
    """Fit an in-memory sequence of values (a list, a numpy array, a pandas Series, whose name is
    the column's); None and NaN count as missing (and drop their weight). `weights`: one
    non-negative case/frequency weight per value. Options as `fit_file`."""
    name = column_name(values, name)
    settings = FitOptions.of(**options)
    family = get_family(distribution, settings.trials)
    data = memory_column(values, name, text=not family.support.numeric)
    if weights is not None:
        weights = np.asarray(weights, dtype=float)
        count = len(data.values) + data.dropped
        if weights.shape != (count,):
            raise UsageError(f"{len(weights)} weights for {count} values: give one weight per value")
        data = with_weights(data, Column("<data>", "weights", weights, np.arange(1, count + 1), 0))
    return fit_in_memory(data, family, settings)


def fit_column(data: Column, family, **options) -> FitResult:
    """Fit a column read by `mlfit.data` (options as `fit_file`)."""
    return fit_in_memory(data, family, FitOptions.of(**options))


def regress(data, formula: str, dist: str = "normal", *, sigma: str | None = None, weights: str | None = None,
            level: float = 0.95, read_options: ReadOptions = DEFAULT):
    """A model whose mean depends on columns (`mlfit regress`): `data` a pandas DataFrame or a dict
    of equal-length columns, or a CSV path; `formula` as "y ~ x1 + C(g)"; `dist` the family (normal,
    laplace, bernoulli, categorical, poisson). `to_dict()` is the CLI's JSON."""
    from .regression import regress as regress_frame, regress_file

    if isinstance(data, str):
        return regress_file(data, formula, dist, sigma=sigma, weights=weights, level=level, read_options=read_options)
    return regress_frame(data, formula, dist, sigma=sigma, weights=weights, level=level)
