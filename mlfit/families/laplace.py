"""Laplace family: its NLL is the mean absolute error in disguise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Family, Parameter, Positive, Real, RealLine


@dataclass(frozen=True)
class Sample:
    """The laplace NLL needs sum |x - mu| for any mu, which no fixed-size statistic gives:
    the values themselves are the sufficient statistic (held as float64, 8 bytes a row)."""

    values: np.ndarray
    lower_median: float
    upper_median: float
    weights: np.ndarray | None = None

    @property
    def n(self) -> float:
        return len(self.values) if self.weights is None else float(self.weights.sum())

    def mean_abs(self, mu: float) -> float:
        """Mean absolute deviation from mu (weighted): the MAE of predicting mu for every row."""
        return float(np.average(np.abs(self.values - mu), weights=self.weights))

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Sample":
        if weights is not None:
            # The middle of the rows each repeated by its weight: where the cumulative weight
            # first reaches half the total, and first passes it.
            order = np.argsort(values, kind="stable")
            cumulative = np.cumsum(weights[order])
            half = cumulative[-1] / 2
            lower = float(values[order[np.searchsorted(cumulative, half, side="left")]])
            upper = float(values[order[np.searchsorted(cumulative, half, side="right")]])
            return cls(values, lower, upper, weights)
        n = len(values)
        k = n // 2
        # One partition selects both middle order statistics (np.median would sort more).
        part = np.partition(values, k)
        upper = float(part[k])
        lower = float(part[:k].max()) if n % 2 == 0 else upper
        return cls(values, lower, upper)


class Laplace(Family):
    name = "laplace"
    parameters = (Parameter("mu", Real(), scale_by="b"), Parameter("b", Positive()))
    support = RealLine()
    loss = "mean absolute error"
    smooth = False  # |x - mu| has a kink at every data point
    streams = False  # sum |x - mu| for every trial mu needs every value: 8 bytes a row in memory
    continuous = True

    def summarize(self, values, weights=None):
        return Sample.of(values, weights)

    def degenerate_reason(self, stats, fixed=()):
        counted = stats.values if stats.weights is None else stats.values[stats.weights > 0]
        if counted.min() == counted.max() and "b" not in fixed:
            return "every value is the same, so the laplace likelihood has no maximum (b -> 0)"
        return None

    def closed_form(self, stats):
        mu = 0.5 * (stats.lower_median + stats.upper_median)
        return {"mu": mu, "b": stats.mean_abs(mu)}

    def closed_form_given(self, stats, fixed):
        if set(fixed) == {"b"}:  # the median whatever b is
            return {"mu": 0.5 * (stats.lower_median + stats.upper_median), "b": fixed["b"]}
        if set(fixed) == {"mu"}:  # the mean absolute deviation from the given mu
            return {"mu": fixed["mu"], "b": stats.mean_abs(fixed["mu"])}
        return super().closed_form_given(stats, fixed)

    def optimal_intervals(self, stats):
        # With an even count, every mu between the two middle values gives the same NLL.
        return {"mu": (stats.lower_median, stats.upper_median)}

    def start(self, stats):
        # The mean and standard deviation: moment estimates, not the median the MLE is.
        mean = float(np.average(stats.values, weights=stats.weights))
        sd = float(np.sqrt(np.average((stats.values - mean) ** 2, weights=stats.weights)))
        return {"mu": mean, "b": sd}

    def nll(self, stats, params):
        mu, b = params["mu"], params["b"]
        return float(stats.n * np.log(2 * b) + stats.n * stats.mean_abs(mu) / b)

    def objective(self, stats, u):
        mu, log_b = u
        return float(np.log(2.0) + log_b + stats.mean_abs(mu) * np.exp(-log_b)), None

    def standard_errors(self, stats, params):
        # b from the Fisher information; mu from the asymptotic variance of the sample
        # median, b^2/n (the NLL has no second derivative in mu to take).
        se = params["b"] / np.sqrt(stats.n)
        return {"mu": se, "b": se}

    def profile_nll(self, stats, name, value, index=None):
        if name == "mu":  # b at its conditional MLE: the mean absolute error about mu
            return self.nll(stats, {"mu": value, "b": stats.mean_abs(value)})
        mu = 0.5 * (stats.lower_median + stats.upper_median)
        return self.nll(stats, {"mu": mu, "b": value})

    def log_cdf(self, x, params):
        z = (x - params["mu"]) / params["b"]
        # log(1 - exp(-z)/2) written with log1p so neither tail loses its digits
        return np.where(z < 0, z - np.log(2), np.log1p(-0.5 * np.exp(-np.abs(z))))

    def log_sf(self, x, params):
        z = (x - params["mu"]) / params["b"]
        return np.where(z > 0, -z - np.log(2), np.log1p(-0.5 * np.exp(-np.abs(z))))

    def quantile(self, q, params):
        centred = np.asarray(q, dtype=float) - 0.5
        return params["mu"] - params["b"] * np.sign(centred) * np.log1p(-2 * np.abs(centred))

    def sample(self, rng, params, size):
        return rng.laplace(params["mu"], params["b"], size)

    def loss_report(self, stats, params):
        mu, b = params["mu"], params["b"]
        mae = stats.mean_abs(mu)
        return {
            "name": self.loss,
            "mae": mae,
            "identity": "NLL = n*log(2*b) + n*MAE/b",
            "nll_from_loss": float(stats.n * np.log(2 * b) + stats.n * mae / b),
        }

    def log_prob(self, encoded, params):
        return -np.abs(encoded - params["mu"]) / params["b"] - np.log(2 * params["b"])
