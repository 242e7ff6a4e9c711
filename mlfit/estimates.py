"""The questions every result with estimates answers the same way, as pandas objects indexed by
parameter or term name: `params`, `bse`, `cov_params()`, `conf_int(level)`.

statsmodels' results are the anchor. A result class gives its entries' names, values, standard
errors and covariance (`_entries`), and its Wald and likelihood intervals at a level (`_bounds`);
this mixin turns them into a Series or a DataFrame. pandas is imported on first use: the CLI's
JSON path never needs it.
"""

from __future__ import annotations

import math

from dataclasses import dataclass

import numpy as np
from scipy import special


@dataclass(frozen=True)
class Entries:
    names: list[str]
    values: np.ndarray
    errors: np.ndarray  # nan where an entry has none (held fixed, a non-regular family, a flat optimum)


class Estimates:
    """params, bse, cov_params() and conf_int(level) from `_entries()`, `_covariance()` and
    `_bounds(level)`."""

    def _entries(self) -> Entries:
        raise NotImplementedError

    def _covariance(self, entries: Entries) -> np.ndarray:
        """The entries' covariance (asked by cov_params() only: it may take a Hessian); by default
        estimates taken as independent, nan where an entry has no error."""
        return covariance_from(entries.errors, None)

    def _bounds(self, level: float) -> dict:
        """{column: array} of interval ends at `level`: "lower" and "upper" at least."""
        entries = self._entries()
        return wald_bounds(entries.values, entries.errors, level)

    @property
    def params(self):
        """The estimates, a pandas Series indexed by parameter (a vector's entries as p[label]) or term."""
        import pandas as pd

        entries = self._entries()
        return pd.Series(entries.values, index=entries.names, name="estimate", dtype=float)

    @property
    def bse(self):
        """Standard errors, a pandas Series beside `params` (NaN where an estimate has none)."""
        import pandas as pd

        entries = self._entries()
        return pd.Series(entries.errors, index=entries.names, name="se", dtype=float)

    def cov_params(self):
        """The estimates' asymptotic covariance, a pandas DataFrame; its diagonal is `bse` squared."""
        import pandas as pd

        entries = self._entries()
        return pd.DataFrame(self._covariance(entries), index=entries.names, columns=entries.names)

    def conf_int(self, level: float | None = None):
        """Intervals at `level` (the result's own by default), a pandas DataFrame with a row per
        estimate: `lower` and `upper` (Wald: estimate -+ z * se) and, where the result has them,
        likelihood intervals beside them."""
        import pandas as pd

        from .options import FitOptions

        level = getattr(self, "level", 0.95) if level is None else FitOptions(level=level).level
        entries = self._entries()
        return pd.DataFrame(self._bounds(level), index=entries.names)


class InformationCriteria:
    """AIC and BIC of a result with `log_likelihood`, `k` free parameters and `n` rows."""

    @property
    def aic(self) -> float:
        return -2.0 * self.log_likelihood + 2.0 * self.k

    @property
    def bic(self) -> float:
        return -2.0 * self.log_likelihood + self.k * math.log(self.n)


class HTMLSummary:
    """A result a notebook shows as its summary(): the text the table view prints."""

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"


def wald_bounds(values: np.ndarray, errors: np.ndarray, level: float) -> dict:
    z = float(special.ndtri(0.5 + level / 2.0))
    with np.errstate(invalid="ignore"):
        return {"lower": values - z * errors, "upper": values + z * errors}


def covariance_from(errors: np.ndarray, correlation: np.ndarray | None) -> np.ndarray:
    """The covariance whose diagonal is `errors` squared exactly, with `correlation` off it (None:
    estimates asymptotically independent)."""
    errors = np.asarray(errors, dtype=float)
    with np.errstate(invalid="ignore"):  # (nan times 0 is nan: an entry without an error has no covariance)
        covariance = (np.eye(len(errors)) if correlation is None else correlation) * np.outer(errors, errors)
    np.fill_diagonal(covariance, errors * errors)
    return covariance
