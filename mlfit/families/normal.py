"""Normal family: its NLL is the mean squared error in disguise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Family, Parameter, Positive, Real, RealLine

HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2): mergeable across chunks."""

    n: float  # the number of rows, or the sum of their weights
    mean: float
    m2: float

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Moments":
        # Corrected two-pass: E[x^2] - E[x]^2 would lose every digit on data like 1e7 +- 0.1.
        # Sums are numpy's pairwise ones: a BLAS dot product (@) drifts by ~1e-12 at 10^7 rows.
        if weights is None:
            n = len(values)
            mean = float(np.mean(values))
            deviations = values - mean
            m2 = float(np.sum(deviations * deviations) - deviations.sum() ** 2 / n)
        else:
            n = float(weights.sum())
            mean = float(np.sum(weights * values) / n)
            deviations = values - mean
            m2 = float(np.sum(weights * deviations * deviations) - np.sum(weights * deviations) ** 2 / n)
        return cls(n, mean, max(m2, 0.0))

    def merge(self, other: "Moments") -> "Moments":
        """Chan et al.'s pairwise update, which keeps the two-pass accuracy."""
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        return Moments(n, mean, m2)


class Normal(Family):
    name = "normal"
    parameters = (Parameter("mu", Real(), scale_by="sigma"), Parameter("sigma", Positive()))
    support = RealLine()
    loss = "mean squared error"
    continuous = True

    def summarize(self, values, weights=None):
        return Moments.of(values, weights)

    def degenerate_reason(self, stats, fixed=()):
        if stats.m2 == 0 and "sigma" not in fixed:
            return "every value is the same, so the normal likelihood has no maximum (sigma -> 0)"
        return None

    def closed_form(self, stats):
        return {"mu": stats.mean, "sigma": float(np.sqrt(stats.m2 / stats.n))}

    def closed_form_given(self, stats, fixed):
        if set(fixed) == {"sigma"}:  # the mean whatever sigma is
            return {"mu": stats.mean, "sigma": fixed["sigma"]}
        if set(fixed) == {"mu"}:  # the root mean square deviation from the given mu
            return {"mu": fixed["mu"], "sigma": float(np.sqrt(stats.m2 / stats.n + (stats.mean - fixed["mu"]) ** 2))}
        return super().closed_form_given(stats, fixed)

    def start(self, stats):
        sd = np.sqrt(stats.m2 / stats.n)
        return {"mu": stats.mean + sd, "sigma": 2.0 * sd}

    def nll(self, stats, params):
        mu, sigma = params["mu"], params["sigma"]
        squares = stats.m2 + stats.n * (stats.mean - mu) ** 2
        return float(stats.n * (np.log(sigma) + HALF_LOG_2PI) + squares / (2 * sigma**2))

    def objective(self, stats, u):
        mu, log_sigma = u
        variance = np.exp(2 * log_sigma)
        offset = stats.mean - mu
        mean_square = stats.m2 / stats.n + offset**2  # the MSE of predicting mu for every row
        value = log_sigma + HALF_LOG_2PI + mean_square / (2 * variance)
        grad = np.array([-offset / variance, 1.0 - mean_square / variance])
        return float(value), grad

    def hessian(self, stats, u):
        mu, log_sigma = u
        precision = np.exp(-2 * log_sigma)
        offset = stats.mean - mu
        mean_square = stats.m2 / stats.n + offset**2
        cross = 2 * offset * precision
        return np.array([[precision, cross], [cross, 2 * mean_square * precision]])

    def standard_errors(self, stats, params):
        sigma = params["sigma"]
        return {"mu": sigma / np.sqrt(stats.n), "sigma": sigma / np.sqrt(2 * stats.n)}

    def profile_nll(self, stats, name, value, index=None):
        if name == "mu":  # sigma^2 at its conditional MLE: the mean squared error about mu
            sigma = np.sqrt((stats.m2 + stats.n * (stats.mean - value) ** 2) / stats.n)
            return self.nll(stats, {"mu": value, "sigma": sigma})
        return self.nll(stats, {"mu": stats.mean, "sigma": value})

    def log_cdf(self, x, params):
        return special.log_ndtr((x - params["mu"]) / params["sigma"])

    def log_sf(self, x, params):
        return special.log_ndtr((params["mu"] - x) / params["sigma"])

    def quantile(self, q, params):
        return params["mu"] + params["sigma"] * special.ndtri(q)

    def sample(self, rng, params, size):
        return rng.normal(params["mu"], params["sigma"], size)

    def loss_report(self, stats, params):
        mu, sigma = params["mu"], params["sigma"]
        mse = stats.m2 / stats.n + (stats.mean - mu) ** 2  # exact: no rows needed
        return {
            "name": self.loss,
            "mse": mse,
            "identity": "NLL = n*log(sigma*sqrt(2*pi)) + n*MSE/(2*sigma^2)",
            "nll_from_loss": float(stats.n * np.log(sigma * np.sqrt(2 * np.pi)) + stats.n * mse / (2 * sigma**2)),
        }

    def log_prob(self, encoded, params):
        z = (encoded - params["mu"]) / params["sigma"]
        return -0.5 * z * z - np.log(params["sigma"]) - HALF_LOG_2PI
