"""Lognormal family: the normal family on log x, so its NLL is the mean squared error of log x
plus the Jacobian term sum(log x) that turns a density of log x into one of x."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import Predictor
from .distribution import PositiveReals
from .standardized import Standardized
from .normal import HALF_LOG_2PI, Gaussian
from .statistics import Moments


def lognormal_curve(sigma: np.ndarray) -> np.ndarray:
    """(skewness^2, kurtosis) of the lognormal for each sigma."""
    w = np.exp(sigma * sigma)
    return np.column_stack([(w + 2) ** 2 * (w - 1), w ** 4 + 2 * w ** 3 + 3 * w ** 2 - 3])


class Lognormal(Standardized, Gaussian):
    name = "lognormal"
    support = PositiveReals()
    data_units = {"mu": "log data"}  # log(c x) = log x + log c; sigma, a spread of log x, stays
    loss = "mean squared error of log x"
    example = {"mu": 1.0, "sigma": 0.5}

    def cullen_frey(self, largest):
        return {"line": lognormal_curve(np.linspace(1e-3, 2.5, 4000)), "style": ":"}

    def summarize(self, values, weights=None):
        # Normal's statistics of log x: its mean is also the Jacobian term's sum(log x) / n.
        return Moments.of(np.log(values), weights)

    def nll(self, stats, params):
        return super().nll(stats, params) + stats.n * stats.mean

    def objective(self, stats, u):
        value, gradient = super().objective(stats, u)
        return value + stats.mean, gradient

    def loss_report(self, stats, params):
        report = super().loss_report(stats, params)
        return {
            "name": self.loss,
            "mse_log": report["mse"],
            "mean_log": stats.mean,
            "identity": "NLL = n*log(sigma*sqrt(2*pi)) + n*MSE(log x)/(2*sigma^2) + sum(log x)",
            "nll_from_loss": report["nll_from_loss"] + stats.n * stats.mean,
        }

    def log_prob(self, encoded, params):
        with np.errstate(divide="ignore", invalid="ignore"):  # (0 and below: a density of 0)
            logs = np.log(encoded)
            return np.where(encoded > 0, super().log_prob(logs, params) - logs, -np.inf)

    def log_cdf(self, x, params):
        with np.errstate(divide="ignore"):  # (at or below 0: log x = -inf, a CDF of 0)
            return super().log_cdf(np.log(np.maximum(x, 0.0)), params)

    def log_sf(self, x, params):
        with np.errstate(divide="ignore"):
            return super().log_sf(np.log(np.maximum(x, 0.0)), params)

    def quantile(self, q, params):
        return np.exp(params["mu"] + params["sigma"] * special.ndtri(q))

    def sample(self, rng, params, size):
        return rng.lognormal(params["mu"], params["sigma"], size)

    def as_scipy(self, params):
        from scipy import stats

        return stats.lognorm(params["sigma"], scale=np.exp(params["mu"]))

    # The conditional model: log y = mu + sigma Z, Z standard normal, mu linear in columns: lm(log(y) ~ ...)'s
    # coefficients, sigma by maximum likelihood; with censoring, survreg(dist = "lognormal").
    on_log_scale = True

    def predictors(self, classes=None):
        return [Predictor("mu", "identity", "mean"), Predictor("log_sigma", "log", "scale")]

    def conditional_params(self, etas):
        return {"mu": etas[:, 0], "sigma": np.exp(etas[:, 1])}

    def row_mean(self, fitted):
        return np.exp(fitted["mu"] + fitted["sigma"] ** 2 / 2)

    def standard_rho(self, z, order):
        rho = 0.5 * z * z + HALF_LOG_2PI
        return rho, (z if order >= 1 else None), (np.ones_like(z) if order >= 2 else None)

    def standard_log_cdf(self, z):
        return special.log_ndtr(z)

    def standard_log_sf(self, z):
        return special.log_ndtr(-z)
