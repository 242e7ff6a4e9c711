"""Poisson family: its NLL is the Poisson NLL loss (with the log x! Stirling term kept)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .base import Family, NonNegative, Parameter, Predictor, xlogy
from .distribution import NonNegativeIntegers, power_of_two
from .conditional import Conditional, PredictionInput
from .statistics import HISTOGRAM_LIMIT, count_table


@dataclass(frozen=True)
class Counts:
    n: float
    total: float
    sum_log_factorial: float  # sum of log(x!): constant in lam, but part of the true NLL
    sum_stirling: float  # torch's Stirling stand-in for log(x!), for the loss report
    # rows per count 0, 1, 2, ... for the goodness-of-fit table; None past HISTOGRAM_LIMIT
    histogram: np.ndarray | None = field(default=None, repr=False, compare=False)

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Counts":
        n = len(values) if weights is None else float(weights.sum())
        histogram = None
        if not len(values) or values.max() < HISTOGRAM_LIMIT:
            histogram = np.bincount(values.astype(np.int64), weights=weights)
            if len(histogram) <= len(values):
                # sums over the distinct counts: log(x!) per row is most of the cost of reading a column
                k = np.arange(len(histogram), dtype=np.float64)
                return cls(n, float(histogram @ k), float(histogram @ special.gammaln(k + 1)),
                           float(histogram @ stirling(k)), histogram)
        w = np.ones(len(values)) if weights is None else weights
        return cls(n, float(w @ values), float(w @ special.gammaln(values + 1)), float(w @ stirling(values)),
                   histogram)

    def merge(self, other: "Counts") -> "Counts":
        histogram = None
        if self.histogram is not None and other.histogram is not None:
            histogram = np.zeros(max(len(self.histogram), len(other.histogram)), dtype=np.result_type(
                self.histogram, other.histogram))
            histogram[: len(self.histogram)] += self.histogram
            histogram[: len(other.histogram)] += other.histogram
        return Counts(self.n + other.n, self.total + other.total, self.sum_log_factorial + other.sum_log_factorial,
                      self.sum_stirling + other.sum_stirling, histogram)




TORCH_EPS = 1e-8  # torch.nn.PoissonNLLLoss's eps inside log(input + eps) when log_input=False


def stirling(x: np.ndarray) -> np.ndarray:
    """torch.nn.PoissonNLLLoss(full=True)'s term: x*log(x) - x + log(2*pi*x)/2 where x > 1, else 0."""
    safe = np.where(x > 1, x, 1.0)
    return np.where(x > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)


class Poisson(Conditional, Family):
    name = "poisson"
    parameters = (Parameter("lam", NonNegative()),)
    support = NonNegativeIntegers()
    loss = "Poisson NLL"
    example = {"lam": 4.0}

    def summarize(self, values, weights=None):
        return Counts.of(values, weights)

    def reference(self, stats):
        return {"lam": stats.total / stats.n}

    def start(self, stats):
        # The power of two at or below the mean (1 for means in [1, 2)): the data's order of
        # magnitude, not its mean, so that counts near 1e155 start within reach.
        return {"lam": power_of_two(stats.total / stats.n) or 1.0}

    def nll(self, stats, params):
        lam = params["lam"]
        return float(stats.n * lam - xlogy(stats.total, lam) + stats.sum_log_factorial)

    def objective(self, stats, u):
        (log_lam,) = u
        lam = np.exp(log_lam)
        mean = stats.total / stats.n
        value = lam - mean * log_lam + stats.sum_log_factorial / stats.n
        return float(value), np.array([lam - mean])

    def hessian(self, stats, u):
        return np.array([[np.exp(u[0])]])

    def standard_errors(self, stats, params, fixed=()):
        return {"lam": float(np.sqrt(params["lam"]) / np.sqrt(stats.n))}  # (a weight of 1e-310 must not overflow)

    def profile_nll(self, stats, name, value, index=None):
        return self.nll(stats, {"lam": value})

    def as_scipy(self, params):
        from scipy import stats

        return stats.poisson(params["lam"])

    def sample(self, rng, params, size):
        return rng.poisson(params["lam"], size).astype(float)

    def frequency_table(self, values, stats, params):
        # Each count up to the largest seen, then the unseen tail beyond it as one more cell.
        if stats.histogram is None:
            return None
        return count_table(stats.histogram, lambda k: self.log_prob(k, params),
                           lambda top: special.pdtrc(top, params["lam"]))

    def loss_report(self, stats, params):
        lam, n = params["lam"], stats.n
        mean = stats.total / n
        poisson_nll = float(lam - xlogy(mean, lam))  # mean of lam - x*log(lam)
        return {
            "name": self.loss,
            "poisson_nll": poisson_nll,
            "log_factorial_mean": stats.sum_log_factorial / n,
            "torch_poisson_nll_loss": float(lam - mean * np.log(lam + TORCH_EPS) + stats.sum_stirling / n),
            "stirling_mean": stats.sum_stirling / n,
            "identity": "NLL = n*PoissonNLL + sum(log(x!)); torch's PoissonNLLLoss(log_input=False, "
            "full=True) adds eps=1e-8 inside the log and stands in for log(x!) with Stirling's "
            "x*log(x) - x + log(2*pi*x)/2 (for x > 1)",
            "nll_from_loss": n * poisson_nll + stats.sum_log_factorial,
        }

    def log_prob(self, encoded, params):
        lam = params["lam"]
        return xlogy(encoded, lam) - lam - special.gammaln(encoded + 1)

    # The conditional model: a log-linear model (offsets add to log lam), the Poisson NLL loss.
    def predictors(self, classes=None):
        return [Predictor("log_lam", "log", "mean")]

    def conditional_nll(self, y, etas, order=0):
        eta = etas[:, 0]
        with np.errstate(over="ignore"):
            lam = np.exp(eta)
        value = lam - y * eta + special.gammaln(y + 1)
        if order == 0:
            return value, None, None
        gradient = (lam - y)[:, None]
        if order == 1:
            return value, gradient, None
        return value, gradient, lam[:, None, None]

    def conditional_params(self, etas):
        return {"lam": np.exp(etas[:, 0])}

    solver = "iteratively reweighted"
    separation = "zero counts"
    outcome = "count"
    prediction_inputs = (PredictionInput("--log-rate", "log_rate", required=True),)

    def residuals(self, y, fitted):
        lam = fitted["lam"]
        return {"mean": lam, "residual": (y - lam) / np.sqrt(lam), "name": "Pearson residual",
                "reference": ("normal", {"mu": 0.0, "sigma": 1.0})}

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        with np.errstate(all="ignore"):
            z = inputs.astype(dtype)
            rate = np.exp(z[:, 0])
            factorial = special.gamma(y + 1).astype(dtype)
            return np.log(rate ** y.astype(dtype) * np.exp(-rate) / factorial), ~np.isfinite(rate)
    deviance_definition = "2 * sum(y log(y/mu) - (y - mu)) (R's glm)"

    def intercept_only(self, totals):
        mean, exposure = totals["mean"], totals["offset_total"]
        if mean <= 0:
            return [-np.inf]
        # with an offset, lam_i = exp(b + offset_i): b = log(sum w y / sum w exp(offset))
        return [float(np.log(mean * totals["weight"] / exposure)) if exposure is not None else float(np.log(mean))]

    def conditional_deviance(self, y, etas, w, nll):
        mu = np.exp(etas[:, 0])
        return float(2.0 * (w @ (special.xlogy(y, y) - special.xlogy(y, mu) - (y - mu))))

    def loss_sums(self, y, etas, w):
        log_rate = etas[:, 0]
        return {"weight": float(w.sum()), "poisson": float(w @ (np.exp(log_rate) - y * log_rate)),
                "log_factorials": float(w @ special.gammaln(y + 1))}

    def conditional_loss(self, sums, first_etas, learns_scale):
        total = sums["weight"]
        value = sums["poisson"] / total
        return {"name": "Poisson NLL with log input (torch.nn.PoissonNLLLoss(log_input=True))", "value": value,
                "log_factorial_sum": sums["log_factorials"],
                "identity": "NLL = n*PoissonNLL + sum(log(y!)): the loss leaves out log(y!), constant in the "
                "coefficients", "nll_from_loss": total * value + sums["log_factorials"]}
