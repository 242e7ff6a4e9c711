"""Gamma family (shape k, rate b): its NLL per row is b*mean(x) - k*log(b) + lgamma(k) - (k-1)*mean(log x),
the exponential's loss with a shape; k = 1 is the exponential."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import NaturalFamily, Parameter, Positive, Predictor, root_in_log
from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss
from .distribution import PositiveReals
from .statistics import LogMoments


def inverse_digamma(y: float) -> float:
    """The k > 0 with digamma(k) = y (digamma is increasing on (0, inf)): Newton from Minka's start."""
    k = np.exp(y) + 0.5 if y >= -2.22 else -1.0 / (y - special.digamma(1.0))
    for _ in range(100):
        step = (special.digamma(k) - y) / special.polygamma(1, k)
        k_next = k - step
        k_next = k_next if k_next > 0 else k / 2
        if abs(k_next - k) <= 1e-15 * k:
            return float(k_next)
        k = k_next
    return float(k)


class Gamma(LikelihoodLoss, Conditional, NaturalFamily):
    name = "gamma"
    parameters = (Parameter("shape", Positive()), Parameter("rate", Positive()))
    data_units = {"rate": "per data"}
    support = PositiveReals()
    loss = "gamma deviance (rate-scaled mean less (shape-1) mean log x)"
    continuous = True
    reference_method = "root of the score equation"
    example = {"shape": 2.5, "rate": 0.8}

    def cullen_frey(self, largest):
        skew2 = np.linspace(0, largest, 4000)  # kurtosis = 3 + 1.5 skewness^2
        return {"line": np.column_stack([skew2, 3 + 1.5 * skew2]), "style": "--"}

    def summarize(self, values, weights=None):
        return LogMoments.of(values, weights)

    def _spread(self, stats) -> float:
        """log(mean x) - mean(log x) >= 0 (Jensen): 0 only when every value is the same."""
        return float(np.log(stats.mean) - stats.mean_log)

    def degenerate_reason(self, stats, fixed=()):
        if not (self._spread(stats) > 0 and stats.low < stats.high) and "shape" not in fixed:
            return ("every value is the same (or the others weigh nothing next to it), so the gamma likelihood "
                    "has no maximum (shape -> infinity)")
        return None

    def reference(self, stats):
        # The shape's score equation log(k) - digamma(k) = log(mean) - mean(log x): the left side
        # falls from +inf to 0 as k grows, so it has one root; bracketed in log k.
        spread = self._spread(stats)

        def score(log_k):
            k = np.exp(log_k)
            return float(np.log(k) - special.digamma(k) - spread)

        k = root_in_log(score, falling=True)
        return {"shape": k, "rate": k / stats.mean}

    def reference_given(self, stats, fixed):
        if set(fixed) == {"shape"}:
            return {"shape": fixed["shape"], "rate": fixed["shape"] / stats.mean}
        if set(fixed) == {"rate"}:  # digamma(k) = log(b) + mean(log x)
            return {"shape": inverse_digamma(np.log(fixed["rate"]) + stats.mean_log), "rate": fixed["rate"]}
        return super().reference_given(stats, fixed)

    def start(self, stats):
        return {"shape": 1.0, "rate": 1.0 / stats.mean}  # the exponential with the data's mean

    def derivatives(self, stats, params, order=2):
        k, b, n = params["shape"], params["rate"], stats.n
        value = n * (b * stats.mean - k * np.log(b) + special.gammaln(k) - (k - 1.0) * stats.mean_log)
        gradient = n * np.array([special.digamma(k) - np.log(b) - stats.mean_log, stats.mean - k / b])
        hessian = n * np.array([[special.polygamma(1, k), -1.0 / b], [-1.0 / b, k / b**2]])
        return float(value), gradient, hessian

    def log_prob(self, encoded, params):
        k, b = params["shape"], params["rate"]
        with np.errstate(divide="ignore", invalid="ignore"):  # (below 0: a density of 0)
            inside = special.xlogy(k, b) + special.xlogy(k - 1.0, encoded) - b * encoded - special.gammaln(k)
            return np.where(encoded >= 0, inside, -np.inf)

    def log_cdf(self, x, params):
        with np.errstate(divide="ignore"):  # (below 0: a CDF of 0)
            return np.log(special.gammainc(params["shape"], params["rate"] * np.maximum(x, 0.0)))

    def log_sf(self, x, params):
        with np.errstate(divide="ignore"):
            return np.log(special.gammaincc(params["shape"], params["rate"] * np.maximum(x, 0.0)))

    def quantile(self, q, params):
        return special.gammaincinv(params["shape"], q) / params["rate"]

    def sample(self, rng, params, size):
        return rng.gamma(params["shape"], 1.0 / params["rate"], size)

    def loss_report(self, stats, params):
        k, b, n = params["shape"], params["rate"], stats.n
        per_row = b * stats.mean - (k - 1.0) * stats.mean_log
        return {
            "name": self.loss,
            "rate_scaled_mean_less_log_term": float(per_row),
            "identity": "NLL = n*(rate*mean(x) - (shape-1)*mean(log x) - shape*log(rate) + lgamma(shape))",
            "nll_from_loss": float(n * (per_row - k * np.log(b) + special.gammaln(k))),
        }

    def as_scipy(self, params):
        from scipy import stats

        return stats.gamma(params["shape"], scale=1.0 / params["rate"])

    # The conditional model: log of the mean linear in columns, glm(family = Gamma(link = "log"))'s
    # coefficients, the shape k constant (or log-linear with --sigma) and estimated by maximum likelihood
    # as MASS::gamma.shape does. With mu = exp(eta), a row costs lgamma(k) - k log k + k eta
    # - (k - 1) log y + k y / mu.
    def predictors(self, classes=None):
        return [Predictor("log_mu", "log", "mean"), Predictor("log_shape", "log", "scale")]

    def conditional_nll(self, y, etas, order=0):
        eta, log_k = etas[:, 0], etas[:, 1]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            k = np.exp(log_k)
            ratio = y * np.exp(-eta)  # y / mu
            log_y = np.log(y)
            value = special.gammaln(k) - k * log_k + k * eta - (k - 1.0) * log_y + k * ratio
            if order == 0:
                return value, None, None
            d_eta = k * (1.0 - ratio)
            d_k = special.digamma(k) - log_k - 1.0 + eta - log_y + ratio  # d/dk
            gradient = np.column_stack([d_eta, k * d_k])
            if order == 1:
                return value, gradient, None
            hessian = np.empty((len(y), 2, 2))
            hessian[:, 0, 0] = k * ratio
            hessian[:, 0, 1] = hessian[:, 1, 0] = d_eta
            hessian[:, 1, 1] = k * k * (special.polygamma(1, k) - 1.0 / k) + k * d_k
        return value, gradient, hessian

    deviance_definition = "2 * sum(-log(y/mu) + (y - mu)/mu) (R's glm, Gamma family)"

    def conditional_deviance(self, y, etas, w, nll):
        ratio = y * np.exp(-etas[:, 0])
        return float(2.0 * (w @ (-np.log(ratio) + ratio - 1.0)))

    solver = "profiled scoring"

    def mean_information(self, y, etas):
        return np.exp(etas[:, 1])  # E[k y / mu] = k

    def conditional_params(self, etas):
        k = np.exp(etas[:, 1])
        return {"shape": k, "rate": k * np.exp(-etas[:, 0])}

    def row_mean(self, fitted):
        return fitted["shape"] / fitted["rate"]

    def conditional_start(self, y, w):
        mean = float(w @ y / w.sum())
        variance = float(w @ (y - mean) ** 2 / w.sum())
        return [float(np.log(mean)), float(np.log(mean * mean / variance)) if variance > 0 else 0.0]
