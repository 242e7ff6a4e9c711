"""Cauchy family (location mu, scale gamma): its NLL is sum(log(1 + z^2)) + n*log(pi*gamma), the
Lorentzian (Cauchy) robust loss. The likelihood in mu can have several local maxima, so the fit
starts from the median and half the interquartile range and from a grid of quantiles, and keeps
the best."""

from __future__ import annotations

import numpy as np

from .location_scale import LocationScale

LOG_PI = float(np.log(np.pi))
GRID = (0.05, 0.15, 0.25, 0.35, 0.65, 0.75, 0.85, 0.95)  # quantiles the extra starts sit at


class Cauchy(LocationScale):
    name = "cauchy"
    location, scale = "mu", "gamma"
    parameters = LocationScale.location_scale_parameters("mu", "gamma")
    loss = "Cauchy (Lorentzian) loss: log(1 + z^2)"
    example = {"mu": -1.0, "gamma": 0.7}

    def rho(self, z, params, order=2):
        with np.errstate(over="ignore", invalid="ignore"):
            square = z * z
            rho = LOG_PI + np.log1p(square)
            if order == 0:
                return rho, None, None
            plus = 1.0 + square
            return rho, 2.0 * z / plus, (2.0 * (1.0 - square) / (plus * plus) if order > 1 else None)

    def starts(self, stats):
        first = self.start(stats)
        return [first] + [{**first, "mu": stats.quantile(q)} for q in GRID]

    def log_cdf(self, x, params):
        # arctan2(1, -z) / pi is 1/2 + arctan(z) / pi without its cancellation in the far left tail
        return np.log(np.arctan2(1.0, -(x - params["mu"]) / params["gamma"]) / np.pi)

    def log_sf(self, x, params):
        return np.log(np.arctan2(1.0, (x - params["mu"]) / params["gamma"]) / np.pi)

    def quantile(self, q, params):
        return params["mu"] + params["gamma"] * np.tan(np.pi * (q - 0.5))

    def sample(self, rng, params, size):
        return params["mu"] + params["gamma"] * rng.standard_cauchy(size)

    def loss_report(self, stats, params):
        z = self.standardized(stats, params)
        mean_loss = stats.total(np.log1p(z * z)) / stats.n
        return {"name": self.loss, "mean_cauchy_loss": mean_loss,
                "identity": "NLL = n*mean(log(1 + z^2)) + n*log(pi*gamma), z = (x - mu)/gamma",
                "nll_from_loss": float(stats.n * (mean_loss + LOG_PI + np.log(params["gamma"])))}

    def as_scipy(self, params):
        from scipy import stats

        return stats.cauchy(params["mu"], params["gamma"])
