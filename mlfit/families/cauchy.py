"""Cauchy family (location mu, scale gamma): its NLL is sum(log(1 + z^2)) + n*log(pi*gamma), the
Lorentzian (Cauchy) robust loss. The likelihood in mu can have several local maxima, so besides
the median and half the interquartile range the fit checks a grid of quantiles, searches from the
best of them too, and keeps the better optimum."""

from __future__ import annotations

import numpy as np

from .base import Predictor
from .location_scale import LocationScale
from .standardized import Standardized

LOG_PI = float(np.log(np.pi))
GRID = (0.05, 0.15, 0.25, 0.35, 0.65, 0.75, 0.85, 0.95)  # quantiles the extra starts sit at


class Cauchy(Standardized, LocationScale):
    name = "cauchy"
    location, scale = "mu", "gamma"
    parameters = LocationScale.location_scale_parameters("mu", "gamma")
    data_units = {"mu": "data", "gamma": "data"}
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

    def degenerate_reason(self, stats, fixed=()):
        reason = super().degenerate_reason(stats, fixed)
        if reason or self.scale in fixed:
            return reason
        # With a share k/n > 1/2 of the rows at one value, mu there and gamma -> 0 send the
        # likelihood to infinity: gamma^-k from those rows against gamma^(n-k) from the rest.
        value, weight = stats.heaviest()
        if weight > stats.n / 2:
            return (f"more than half the rows are {value:g}, so the cauchy likelihood has no maximum "
                    "(gamma -> 0 there)")
        return None

    def why_unconverged(self, stats, params):
        # Exactly half the rows at one value: there gamma -> 0 keeps the likelihood bounded but
        # may approach its supremum, which no gamma > 0 attains.
        nearest, k = stats.nearest(params["mu"])
        if 2 * k >= stats.n:
            return (f"half the rows are {nearest:g}: the cauchy likelihood may have no maximum, approaching its "
                    "supremum as gamma -> 0 there, where the search went")
        return None

    def starts(self, stats):
        # The median's starts, and the grid point whose NLL is lowest when it beats them: a search
        # from every grid point would cost nine fits for the rare column with two clusters.
        starts = super().starts(stats)
        grid = [{**starts[0], "mu": stats.quantile(q)} for q in GRID]
        best = min(grid, key=lambda start: self.nll(stats, start))
        return starts if self.nll(stats, best) >= min(self.nll(stats, s) for s in starts) else [*starts, best]

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

    # The conditional model: y = mu + gamma Z, Z standard Cauchy, mu linear in columns (a robust regression
    # whose likelihood may have several maxima: the search starts from the median's neighbourhood).
    def predictors(self, classes=None):
        return [Predictor("mu", "identity", "mean"), Predictor("log_gamma", "log", "scale")]

    def conditional_params(self, etas):
        return {"mu": etas[:, 0], "gamma": np.exp(etas[:, 1])}

    def row_mean(self, fitted):
        return fitted["mu"]  # (the median: a Cauchy has no mean)

    def standard_rho(self, z, order):
        return self.rho(z, None, order)

    def standard_log_cdf(self, z):
        return np.log(np.arctan2(1.0, -z) / np.pi)

    def standard_log_sf(self, z):
        return np.log(np.arctan2(1.0, z) / np.pi)

    def conditional_start(self, y, w):
        centre = float(np.median(y))
        spread = float(np.median(np.abs(y - centre))) or 1.0
        return [centre, float(np.log(spread))]
