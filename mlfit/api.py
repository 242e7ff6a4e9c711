"""The library API: what the CLI calls, and what a Python user imports.

    >>> import mlfit
    >>> result = mlfit.fit([2.1, 1.9, 2.4, 2.0], "normal")
    >>> round(result.params["mu"], 3)
    2.1
"""

from __future__ import annotations

import numpy as np

from .data import DEFAULT, Column, ReadOptions, read_weighted, to_support
from .errors import DataError
from .families import get_family
from .fitting import compare, minimize_nll
from .params import resolve
from .gof import goodness_of_fit
from .inference import infer
from .result import FitResult
from .underflow import underflow_report
from .weights import count


def fit_file(source: str, distribution: str, column: str | None = None, *, weights: str | None = None,
             read_options: ReadOptions = DEFAULT, **options) -> FitResult:
    """Fit one column of a CSV file (or '-' for standard input).

    Options: `level` of the confidence intervals (0.95), `gof_bootstrap` replicates for
    goodness-of-fit p-values (0: none), `seed` of the bootstrap (0), `fix` held parameters;
    `read_options` how to read the file (separator, decimal mark, header, encoding, NA markers);
    `weights` a column of non-negative case/frequency weights."""
    family = get_family(distribution)
    data = read_weighted(source, column, weights, text=not family.support.numeric, options=read_options)
    return fit_column(data, family, **options)


def fit(values, distribution: str, *, name: str = "x", **options) -> FitResult:
    """Fit an in-memory sequence of values; None and NaN count as missing. Options as `fit_file`."""
    family = get_family(distribution)
    raw = np.asarray(values, dtype=object if not family.support.numeric else None)
    if raw.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in raw], dtype=bool)
    else:
        raw = raw.astype(np.float64) if raw.dtype.kind in "biu" else raw
        missing = np.isnan(raw) if raw.dtype.kind == "f" else np.zeros(len(raw), dtype=bool)
    data = Column("<data>", name, raw[~missing], np.flatnonzero(~missing) + 1, int(missing.sum()))
    return fit_column(data, family, **options)


def fit_column(data: Column, family, *, level: float = 0.95, gof_bootstrap: int = 0, seed: int = 0,
               fix: dict | None = None) -> FitResult:
    """Fit a column read by `mlfit.data`. `fix` holds parameters at written values,
    e.g. {"sigma": "1"} or {"p": {"a": "0.2", "b": "0.8"}} (see mlfit.params)."""
    values = to_support(data, family)
    stats = family.summarize(values, data.weights)
    fixed = resolve(family, stats, fix or {}, complete=False, what="--fix")
    reason = family.degenerate_reason(stats, fixed)
    if reason:
        raise DataError(f"{data.source}: column '{data.name}': {reason}", kind="degenerate")

    closed = family.closed_form_given(stats, fixed)
    closed_nll = family.nll(stats, closed)
    encoded = family.encode(values, stats)
    if not np.isfinite(closed_nll):
        impossible = int(np.flatnonzero(~np.isfinite(family.log_prob(encoded, closed)))[0])
        raise DataError(f"{data.where(impossible)}: {_show(values[impossible])} has probability 0 with "
                        f"{_describe(fixed)} fixed, so no parameter value can fit the column", kind="value",
                        row=int(data.rows[impossible]))
    numerical = minimize_nll(family, stats, fixed)
    log_probs = family.log_prob(encoded, numerical.params)
    return FitResult(
        family=family,
        source=data.source,
        column=data.name,
        n=count(stats.n),
        dropped=data.dropped,
        labels=family.labels(stats),
        numerical=numerical,
        closed_form_params=closed,
        closed_form_nll=closed_nll,
        comparison=compare(family, stats, numerical, closed, closed_nll),
        underflow=underflow_report(log_probs, numerical.nll, data.weights),
        inference=infer(family, stats, numerical.params, numerical.nll, level, fixed),
        gof=goodness_of_fit(family, values, stats, numerical.params, gof_bootstrap, seed, fixed, data.weights),
        fixed=fixed,
        values=values,
        weights=data.weights,
        stats=stats,
    )


def _describe(fixed: dict) -> str:
    return ", ".join(f"{name}={value:g}" if np.ndim(value) == 0 else name for name, value in fixed.items())


def _show(value) -> str:
    return repr(str(value)) if isinstance(value, str) else f"{value:g}"
