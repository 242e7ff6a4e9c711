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

    @property
    def n(self) -> int:
        return len(self.values)

    @classmethod
    def of(cls, values: np.ndarray) -> "Sample":
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
    continuous = True

    def summarize(self, values):
        return Sample.of(values)

    def degenerate_reason(self, stats, fixed=()):
        if stats.values.min() == stats.values.max() and "b" not in fixed:
            return "every value is the same, so the laplace likelihood has no maximum (b -> 0)"
        return None

    def closed_form(self, stats):
        mu = 0.5 * (stats.lower_median + stats.upper_median)
        return {"mu": mu, "b": float(np.mean(np.abs(stats.values - mu)))}

    def closed_form_given(self, stats, fixed):
        if set(fixed) == {"b"}:  # the median whatever b is
            return {"mu": 0.5 * (stats.lower_median + stats.upper_median), "b": fixed["b"]}
        if set(fixed) == {"mu"}:  # the mean absolute deviation from the given mu
            return {"mu": fixed["mu"], "b": float(np.mean(np.abs(stats.values - fixed["mu"])))}
        return super().closed_form_given(stats, fixed)

    def optimal_intervals(self, stats):
        # With an even count, every mu between the two middle values gives the same NLL.
        return {"mu": (stats.lower_median, stats.upper_median)}

    def start(self, stats):
        # The mean and standard deviation: moment estimates, not the median the MLE is.
        sd = float(np.std(stats.values))
        return {"mu": float(np.mean(stats.values)), "b": sd}

    def nll(self, stats, params):
        mu, b = params["mu"], params["b"]
        return float(stats.n * np.log(2 * b) + np.sum(np.abs(stats.values - mu)) / b)

    def objective(self, stats, u):
        mu, log_b = u
        mean_abs = np.mean(np.abs(stats.values - mu))  # the MAE of predicting mu for every row
        return float(np.log(2.0) + log_b + mean_abs * np.exp(-log_b)), None

    def standard_errors(self, stats, params):
        # b from the Fisher information; mu from the asymptotic variance of the sample
        # median, b^2/n (the NLL has no second derivative in mu to take).
        se = params["b"] / np.sqrt(stats.n)
        return {"mu": se, "b": se}

    def profile_nll(self, stats, name, value, index=None):
        if name == "mu":  # b at its conditional MLE: the mean absolute error about mu
            b = float(np.mean(np.abs(stats.values - value)))
            return self.nll(stats, {"mu": value, "b": b})
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
        mae = float(np.mean(np.abs(stats.values - mu)))
        return {
            "name": self.loss,
            "mae": mae,
            "identity": "NLL = n*log(2*b) + n*MAE/b",
            "nll_from_loss": float(stats.n * np.log(2 * b) + stats.n * mae / b),
        }

    def log_prob(self, encoded, params):
        return -np.abs(encoded - params["mu"]) / params["b"] - np.log(2 * params["b"])
