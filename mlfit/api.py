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
from .fits import fit, fit_column, fit_columns, fit_request
from .request import FitRequest

__all__ = ["fit", "fit_file", "fit_columns", "fit_column", "fit_request", "regress"]


def fit_file(source, distribution: str, column: str | None = None, *, scheduler: str | None = None,
             weights: str | None = None, left: str | None = None, right: str | None = None,
             censored: str | None = None, read_options: ReadOptions = DEFAULT, progress=None, **options):
    """Fit one column of a file (a CSV, '-' for standard input, Parquet, a URL); None: the only
    column there is. `scheduler` ("local", "auto" or tcp://HOST:PORT) fits the files, globs or
    directories `source` names (a path or a list of them) as one data set on a Dask cluster.
    Everything else as `mlfit.fits.fit_file`: weights, censoring, other methods, the bootstrap,
    quantiles and the fit options."""
    from . import fits

    if scheduler is None:
        return fits.fit_file(source, distribution, column, weights=weights, left=left, right=right,
                             censored=censored, read_options=read_options, progress=progress, **options)
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
            level: float = 0.95, read_options: ReadOptions = DEFAULT):
    """A model whose mean depends on columns (`mlfit regress`): `data` a pandas DataFrame or a dict
    of equal-length columns, or a CSV path; `formula` as "y ~ x1 + C(g)"; `dist` the family (normal,
    laplace, bernoulli, categorical, poisson). `to_dict()` is the CLI's JSON."""
    from .regression import regress as regress_frame, regress_file

    if isinstance(data, str):
        return regress_file(data, formula, dist, sigma=sigma, weights=weights, level=level, read_options=read_options)
    return regress_frame(data, formula, dist, sigma=sigma, weights=weights, level=level)
