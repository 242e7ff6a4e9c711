"""Exponential family: its NLL is the mean of x scaled by the rate, less log rate per row."""

from __future__ import annotations

import numpy as np

from .base import NaturalFamily, Parameter, Positive, Predictor
from .standardized import MinimumExtreme
from .distribution import NonNegativeReals
from .statistics import Mean


class Exponential(MinimumExtreme, NaturalFamily):
    name = "exponential"
    parameters = (Parameter("rate", Positive()),)
    data_units = {"rate": "per data"}
    support = NonNegativeReals()
    loss = "rate-scaled mean (exponential deviance)"
    continuous = True
    example = {"rate": 0.25}

    def cullen_frey(self, largest):
        return {"point": (4.0, 9.0), "style": "s"}

    def summarize(self, values, weights=None):
        return Mean.of(values, weights)

    def degenerate_reason(self, stats, fixed=()):
        if stats.mean == 0 and "rate" not in fixed:
            return "every value is 0, so the exponential likelihood has no maximum (rate -> infinity)"
        return None

    def reference(self, stats):
        return {"rate": 1.0 / stats.mean}

    def start(self, stats):
        return {"rate": 0.5 / stats.mean}  # half the answer: far enough to be a real search

    def derivatives(self, stats, params, order=2):
        rate, n = params["rate"], stats.n
        value = n * (rate * stats.mean - np.log(rate))
        return value, np.array([n * (stats.mean - 1.0 / rate)]), np.array([[n / rate**2]])

    def log_prob(self, encoded, params):
        rate = params["rate"]
        return np.where(encoded >= 0, np.log(rate) - rate * encoded, -np.inf)

    def log_cdf(self, x, params):
        with np.errstate(divide="ignore"):  # (below 0: a CDF of 0)
            return np.log(-np.expm1(-params["rate"] * np.maximum(x, 0.0)))

    def log_sf(self, x, params):
        return -params["rate"] * np.maximum(x, 0.0)

    def quantile(self, q, params):
        return -np.log1p(-q) / params["rate"]

    def sample(self, rng, params, size):
        return rng.exponential(1.0 / params["rate"], size)

    def loss_report(self, stats, params):
        rate, n = params["rate"], stats.n
        scaled_mean = rate * stats.mean
        return {
            "name": self.loss,
            "rate_scaled_mean": scaled_mean,
            "identity": "NLL = n*(rate*mean(x) - log(rate))",
            "nll_from_loss": float(n * (scaled_mean - np.log(rate))),
        }

    def as_scipy(self, params):
        from scipy import stats

        return stats.expon(scale=1.0 / params["rate"])

    # The conditional model, an accelerated failure time with sigma = 1: log y = log mean + Z, Z the minimum
    # extreme value; log mean linear in columns: survreg(dist = "exponential")'s coefficients.
    scale_formula = False

    def predictors(self, classes=None):
        return [Predictor("log_mean", "log", "mean")]

    def conditional_params(self, etas):
        with np.errstate(over="ignore"):
            return {"rate": np.exp(-etas[:, 0])}

    def row_mean(self, fitted):
        return 1.0 / fitted["rate"]
