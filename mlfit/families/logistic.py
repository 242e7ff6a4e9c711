"""Logistic family (location mu, scale s): its NLL is sum(z + 2*softplus(-z)) + n*log(s), z = (x - mu)/s;
the loss of a smooth absolute error (log-cosh-like: |z| for large z, z^2/4 near 0)."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import Predictor
from .location_scale import LocationScale
from .standardized import Standardized


class Logistic(Standardized, LocationScale):
    name = "logistic"
    location, scale = "mu", "s"
    parameters = LocationScale.location_scale_parameters("mu", "s")
    data_units = {"mu": "data", "s": "data"}
    loss = "logistic loss of the standardized residual: |z| + 2*log(1 + exp(-|z|))"
    example = {"mu": 2.0, "s": 1.5}

    def cullen_frey(self, largest):
        return {"point": (0.0, 4.2), "style": "+"}

    def rho(self, z, params, order=2):
        # With e = exp(-|z|): rho = |z| + 2 log(1 + e), rho' = tanh(z/2) = sign(z) (1 - e)/(1 + e),
        # rho'' = (1 - tanh^2(z/2))/2 = 2e/(1 + e)^2: one exponential and one logarithm a row.
        magnitude = np.abs(z)
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(-magnitude)
            rho = magnitude + 2.0 * np.log1p(e)
            if order == 0:
                return rho, None, None
            plus = 1.0 + e
            d1 = np.copysign((1.0 - e) / plus, z)
            return rho, d1, (2.0 * e / (plus * plus) if order > 1 else None)

    def log_cdf(self, x, params):
        return -np.logaddexp(0.0, -(x - params["mu"]) / params["s"])

    def log_sf(self, x, params):
        return -np.logaddexp(0.0, (x - params["mu"]) / params["s"])

    def quantile(self, q, params):
        return params["mu"] + params["s"] * special.logit(q)

    def sample(self, rng, params, size):
        return rng.logistic(params["mu"], params["s"], size)

    def loss_report(self, stats, params):
        z = self.standardized(stats, params)
        mean_loss = stats.total(self.rho(z, params, order=0)[0]) / stats.n
        return {"name": self.loss, "mean_logistic_loss": mean_loss,
                "identity": "NLL = n*mean(|z| + 2*log(1 + exp(-|z|))) + n*log(s), z = (x - mu)/s",
                "nll_from_loss": float(stats.n * (mean_loss + np.log(params["s"])))}

    def as_scipy(self, params):
        from scipy import stats

        return stats.logistic(params["mu"], params["s"])

    # The conditional model: y = mu + s Z, Z standard logistic, mu linear in columns (survreg's "logistic").
    def predictors(self, classes=None):
        return [Predictor("mu", "identity", "mean"), Predictor("log_s", "log", "scale")]

    def conditional_params(self, etas):
        return {"mu": etas[:, 0], "s": np.exp(etas[:, 1])}

    def row_mean(self, fitted):
        return fitted["mu"]

    def standard_rho(self, z, order):
        return self.rho(z, None, order)

    def standard_log_cdf(self, z):
        return -np.logaddexp(0.0, -z)

    def standard_log_sf(self, z):
        return -np.logaddexp(0.0, z)
