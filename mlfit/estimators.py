"""Estimators other than maximum likelihood, where users expect them (fitdistrplus's mmedist,
qmedist and mgedist; scipy's fit(method="MM") and maximum spacing):

    mm        the first k raw moments of the family equal the data's (k parameters)
    quantile  the family's quantiles at k probabilities equal the data's (R's type 7 quantiles)
    cvm, ks, ad   the Cramer-von Mises, Kolmogorov-Smirnov or Anderson-Darling statistic of the
              data against the fitted CDF is smallest (fitdistrplus's "maximum goodness-of-fit")
    spacing   the product of the spacings F(x(i)) - F(x(i-1)) is largest (maximum product of
              spacings; a tie's zero spacing counts as its density, as Cheng and Amin do)

Each minimises its criterion over the family's unconstrained coordinates from the maximum-likelihood
estimate, with Nelder-Mead then Powell. Only maximum likelihood gives likelihood-based intervals: these
get bootstrap percentile intervals (--bootstrap N), each replicate refitted by the same method.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize

from .censored import interval_log_probabilities
from .errors import DataError, UsageError
from .estimates import Entries, Estimates
from .fitting import best_fit
from .result import with_resampling
from .gof import edf_statistics

METHODS = ("mle", "mm", "quantile", "cvm", "ks", "ad", "spacing")
CRITERIA = {
    "mm": "sum of squared relative differences of the first k raw moments",
    "quantile": "sum of squared differences of the quantiles, in units of the data's spread",
    "cvm": "Cramer-von Mises statistic",
    "ks": "Kolmogorov-Smirnov statistic",
    "ad": "Anderson-Darling statistic",
    "spacing": "minus the mean log spacing",
}
DEFAULT_PROBABILITIES = {1: (0.5,), 2: (1 / 3, 2 / 3), 3: (0.25, 0.5, 0.75)}


@dataclass(frozen=True)
class Estimate(Estimates):
    """A fit by one of METHODS other than maximum likelihood: the parameters, the criterion's value
    there, and the likelihood at them (for AIC and BIC, as fitdistrplus gives them)."""

    family: object
    source: str
    column: str
    n: int
    dropped: int
    method: str
    estimate: dict  # as the family takes it; `params` is the same as a pandas Series
    criterion: float
    converged: bool
    message: str
    nll: float
    probabilities: tuple | None = None  # the quantile method's
    values: np.ndarray | None = None
    level: float = 0.95
    fixed: dict = field(default_factory=dict)  # (none: what the bootstrap reads of a fit)
    labels: list | None = None
    resampled: object = None  # bootstrap.ParameterBootstrap, where asked for

    @property
    def distribution(self) -> str:
        return self.family.name

    @property
    def aic(self) -> float:
        return 2 * self.nll + 2 * len(self.family.parameters)

    @property
    def bic(self) -> float:
        return 2 * self.nll + len(self.family.parameters) * np.log(self.n)

    def expanded_values(self) -> np.ndarray:
        return self.values

    def _entries(self) -> Entries:
        """These estimators give no standard errors (the bootstrap gives intervals): NaN."""
        names = [p.name for p in self.family.parameters]
        return Entries(names, np.array([float(self.estimate[n]) for n in names]), np.full(len(names), np.nan))

    def to_dict(self) -> dict:
        return with_resampling(self, {
            "distribution": self.distribution, "file": self.source, "column": self.column, "n": self.n,
            "dropped": self.dropped, "method": self.method, "params": {k: float(v) for k, v in self.estimate.items()},
            "criterion": {"name": CRITERIA[self.method], "value": self.criterion},
            **({"probabilities": list(self.probabilities)} if self.probabilities else {}),
            "converged": self.converged, "message": self.message, "nll": self.nll,
            "log_likelihood": -self.nll, "aic": self.aic, "bic": self.bic,
            "note": "only maximum likelihood gives likelihood-based intervals: use --bootstrap N for "
                    "percentile intervals, each replicate refitted by this method"})


def estimate(values: np.ndarray, family, method: str, probabilities=None) -> tuple[dict, float, bool, str]:
    """(params, criterion value, converged, message) of `method` on the values."""
    if method not in METHODS[1:]:
        raise UsageError(f"method is one of {', '.join(METHODS)}, not {method!r}")
    if not family.support.numeric:
        raise UsageError(f"{family.name}: --method {method} needs numbers; {family.name} fits labels")
    if method in ("quantile", "cvm", "ks", "ad", "spacing") and not family.continuous:
        raise UsageError(f"--method {method} needs a continuous family (a CDF without steps); {family.name} "
                         "is discrete")
    k = len(family.parameters)
    if method == "mm":
        _check_moments(family, k)
    stats = family.summarize(values)
    start = best_fit(family, stats)
    criterion = _criterion(values, family, method, k, probabilities)
    template = dict(start)

    def objective(u):
        with np.errstate(all="ignore"):
            value = criterion(family.unpack(u, template, stats))
        return value if np.isfinite(value) else np.inf

    u0 = family.pack(start, stats)
    # (the statistics are sums of n terms: below ~1e-12 of their size their values are rounding, and a
    # tolerance under that would spend the evaluation budget on noise)
    with np.errstate(all="ignore"):  # a simplex run off to an edge (negbinomial's size -> inf): inf, no warning
        first = optimize.minimize(objective, u0, method="Nelder-Mead",
                                  options={"xatol": 1e-9, "fatol": 1e-12, "maxiter": 4000, "maxfev": 8000})
        polished = optimize.minimize(objective, first.x, method="Powell",
                                     options={"xtol": 1e-10, "ftol": 1e-13, "maxfev": 4000})
    best = polished if polished.fun <= first.fun else first
    params = family.unpack(best.x, template, stats)
    value = float(best.fun)
    converged = bool(np.isfinite(value) and (first.success or polished.success))
    message = f"Nelder-Mead then Powell from the maximum-likelihood estimate: {best.message}"
    if method == "mm" and value > 1e-16 and converged:  # the moments are matched exactly, or not at all
        return params, value, False, (f"no {family.name} has the data's first {k} raw moments (its moments cannot "
                                      f"take those values): the closest leaves {value:.3g}, the {CRITERIA['mm']}")
    if not converged:
        message = f"the search did not converge: {message}"
    return params, value, converged, message


def _check_moments(family, k: int) -> None:
    """Refuse at once a family whose moments do not exist (a cauchy's): matching them is no method."""
    with np.errstate(all="ignore"):
        dist = family.as_scipy(family.example)
        if dist is None:
            raise UsageError(f"--method mm matches raw moments, and {family.name} gives none (it declares no "
                             "scipy.stats twin): use another --method, such as quantile or mle")
        finite = all(np.isfinite(dist.moment(j)) for j in range(1, k + 1))
    if not finite:
        raise UsageError(f"--method mm matches the first {k} raw moments, and a {family.name} has none (its mean "
                         "is undefined): use another --method, such as quantile or mle")


def _criterion(values, family, method, k, probabilities):
    ordered = np.sort(values)
    if method == "mm":
        targets = np.array([np.mean(values ** j) for j in range(1, k + 1)])

        def moments(params):
            dist = family.as_scipy(params)
            got = np.array([dist.moment(j) for j in range(1, k + 1)])
            return float(np.sum(((got - targets) / np.abs(targets)) ** 2))

        return moments
    if method == "quantile":
        probs = np.asarray(probabilities if probabilities is not None else DEFAULT_PROBABILITIES.get(k, ()), float)
        if len(probs) != k:
            raise UsageError(f"--method quantile matches as many quantiles as {family.name} has parameters ({k}): "
                             f"give {k} probabilities with --probs")
        targets = np.quantile(values, probs)  # numpy's default is R's type 7
        spread = float(np.std(values)) or 1.0

        def quantiles(params):
            return float(np.sum(((family.quantile(probs, params) - targets) / spread) ** 2))

        return quantiles
    if method in ("cvm", "ks", "ad"):
        def statistic(params):
            return edf_statistics(family.log_cdf(ordered, params), family.log_sf(ordered, params))[method]

        return statistic
    # maximum product of spacings, over the n + 1 spacings between 0, F(x(1)), ..., F(x(n)), 1
    low = np.concatenate([[-np.inf], ordered])
    high = np.concatenate([ordered, [np.inf]])
    tied = np.concatenate([[False], ordered[1:] == ordered[:-1], [False]])

    def spacings(params):
        logs = interval_log_probabilities(family, low, high, params)
        if tied.any():
            logs = np.where(tied, np.concatenate([[0.0], family.log_prob(ordered, params)]), logs)
        return -float(np.mean(logs))

    return spacings


def estimate_file(source: str, distribution: str, column: str | None, method: str, probabilities=None, *,
                  read_options=None, level: float = 0.95, trials: int | None = None) -> Estimate:
    """Read one column and estimate by `method`."""
    from .columns import DEFAULT
    from .data import read_weighted
    from .families import get_family

    family = get_family(distribution, trials)
    data = read_weighted(source, column, None, text=not family.support.numeric, options=read_options or DEFAULT)
    return estimate_column(data, family, method, probabilities, level=level)


def estimate_column(data, family, method: str, probabilities=None, *, level: float = 0.95) -> Estimate:
    """Estimate by `method` from a column read (or held) by mlfit.data."""
    from .data import to_support

    values = to_support(data, family)
    if len(values) < len(family.parameters) + 1:
        raise DataError(f"{data.source}: column '{data.name}': {len(values)} values are too few for "
                        f"{len(family.parameters)} parameters", kind="degenerate")
    params, value, converged, message = estimate(values, family, method, probabilities)
    with np.errstate(all="ignore"):
        nll = float(family.nll(family.summarize(values), params))
    return Estimate(family, data.source, data.name, len(values), data.dropped, method, params, value, converged,
                    message, nll, tuple(probabilities) if method == "quantile" and probabilities else
                    (DEFAULT_PROBABILITIES.get(len(family.parameters)) if method == "quantile" else None),
                    values, level)


def refit_by(result: Estimate):
    """How a bootstrap replicate is refitted: by the same method."""
    def refit(sample):
        return estimate(sample, result.family, result.method, result.probabilities)[0]

    return refit
