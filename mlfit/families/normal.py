"""Normal family: its NLL is the mean squared error in disguise."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from .base import Family, Parameter, Positive, Predictor, Real
from .distribution import RealLine, power_of_two
from .conditional import Conditional, PredictionInput
from .statistics import Moments

HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


def away(value: float, step: float) -> float:
    """value + step, or value - step where that would overflow (data near 1.7e308)."""
    with np.errstate(over="ignore"):
        moved = np.float64(value) + step
    return float(moved if np.isfinite(moved) else value - step / 2 if value == step else value - step)


def standardized(x, params):
    """(x - mu) / sigma, also where x - mu alone would overflow (x = 1.7e308, mu = -1e308)."""
    try:
        with np.errstate(over="raise"):  # (a raised flag costs nothing per element; a check would)
            difference = x - params["mu"]
    except FloatingPointError:
        with np.errstate(over="ignore", invalid="ignore"):
            difference = x - params["mu"]
            return np.where(np.isfinite(difference), difference / params["sigma"],
                            x / params["sigma"] - params["mu"] / params["sigma"])
    with np.errstate(over="ignore"):
        return difference / params["sigma"]  # may be inf: a density that is 0 in float64


class Gaussian(Family):
    """The normal likelihood: normal's, and lognormal's of log x."""

    name = "normal"
    parameters = (Parameter("mu", Real(), scale_by="sigma", in_data_units=True),
                  Parameter("sigma", Positive(), in_data_units=True))
    data_units = {"mu": "data", "sigma": "data"}
    support = RealLine()
    loss = "mean squared error"
    continuous = True
    example = {"mu": 3.0, "sigma": 2.0}

    def summarize(self, values, weights=None):
        return Moments.of(values, weights)

    def unit(self, stats):
        # near sigma's estimate (a row weighing 1e-310 far out sets the deviations' scale, not sigma's)
        return power_of_two(stats.sd) or stats.scale

    def degenerate_reason(self, stats, fixed=()):
        if (stats.scaled_m2 == 0 or stats.sd == 0) and "sigma" not in fixed:  # (sd: below float64's 5e-324)
            return ("every value is the same (or the others weigh nothing next to it), "
                    f"so the {self.name} likelihood "
                    "has no maximum (sigma -> 0)")
        return None

    def reference(self, stats):
        return {"mu": stats.mean, "sigma": stats.sd}

    def reference_given(self, stats, fixed):
        if set(fixed) == {"sigma"}:  # the mean whatever sigma is
            return {"mu": stats.mean, "sigma": fixed["sigma"]}
        if set(fixed) == {"mu"}:  # the root mean square deviation from the given mu
            mu = fixed["mu"]
            unit = self.unit(stats)
            return {"mu": mu, "sigma": float(np.sqrt(stats.mean_square_about(mu, unit)) * unit)}
        return super().reference_given(stats, fixed)

    def start(self, stats):
        sd = stats.sd
        return {"mu": away(stats.mean, sd), "sigma": away(sd, sd)}

    def nll(self, stats, params):
        mu, sigma = params["mu"], params["sigma"]
        # (m2 + n (mean - mu)^2) / sigma^2 in ratios, which stay finite at any scale
        return float(stats.n * (np.log(sigma) + HALF_LOG_2PI) + stats.n * stats.mean_square_about(mu, sigma) / 2)

    def objective(self, stats, u):
        # u = (mu / unit, log(sigma / unit)): the data's unit is a power of two near its spread
        mu, log_sigma = u
        unit = self.unit(stats)
        variance = np.exp(2 * log_sigma)
        offset = stats.mean / unit - mu
        mean_square = stats.mean_square_about(stats.mean, unit) + offset**2  # the MSE of predicting mu
        value = log_sigma + np.log(unit) + HALF_LOG_2PI + mean_square / (2 * variance)
        grad = np.array([-offset / variance, 1.0 - mean_square / variance])
        return float(value), grad

    def hessian(self, stats, u):
        mu, log_sigma = u
        unit = self.unit(stats)
        precision = np.exp(-2 * log_sigma)
        offset = stats.mean / unit - mu
        mean_square = stats.mean_square_about(stats.mean, unit) + offset**2
        cross = 2 * offset * precision
        return np.array([[precision, cross], [cross, 2 * mean_square * precision]])

    def standard_errors(self, stats, params, fixed=()):
        sigma = params["sigma"]
        return {"mu": sigma / np.sqrt(stats.n), "sigma": sigma / np.sqrt(2 * stats.n)}

    def profile_nll(self, stats, name, value, index=None):
        if name == "mu":  # sigma at its conditional MLE: the root mean square deviation about mu
            return self.nll(stats, self.reference_given(stats, {"mu": value}))
        return self.nll(stats, {"mu": stats.mean, "sigma": value})

    def log_cdf(self, x, params):
        return special.log_ndtr(standardized(x, params))

    def log_sf(self, x, params):
        return special.log_ndtr(-standardized(x, params))

    def quantile(self, q, params):
        return params["mu"] + params["sigma"] * special.ndtri(q)

    def sample(self, rng, params, size):
        return rng.normal(params["mu"], params["sigma"], size)

    def loss_report(self, stats, params):
        mu, sigma = params["mu"], params["sigma"]
        unit = self.unit(stats)
        scaled_mse = stats.mean_square_about(mu, unit)  # exact: no rows needed
        with np.errstate(over="ignore", under="ignore"):
            mse = np.float64(scaled_mse) * unit * unit
        return {
            "name": self.loss,
            # None where float64 cannot hold it (data near 1e-200 or 1e200); the identity holds anyway
            "mse": float(mse) if np.isfinite(mse) and (mse > 0 or scaled_mse == 0) else None,
            "identity": "NLL = n*log(sigma*sqrt(2*pi)) + n*MSE/(2*sigma^2)",
            "nll_from_loss": float(stats.n * (np.log(sigma) + HALF_LOG_2PI)
                                   + stats.n * scaled_mse * (unit / sigma) ** 2 / 2),
        }

    def as_scipy(self, params):
        from scipy import stats

        return stats.norm(params["mu"], params["sigma"])

    def log_prob(self, encoded, params):
        z = standardized(encoded, params)
        with np.errstate(over="ignore"):  # z beyond 1e154: a density of 0 in float64, log -inf
            return -0.5 * z * z - np.log(params["sigma"]) - HALF_LOG_2PI



class Normal(Conditional, Gaussian):
    """The normal family, whose mean can be linear in columns (least squares) and its log sigma
    constant or linear in the --sigma formula's ("a model that learns its own noise")."""

    def cullen_frey(self, largest):
        return {"point": (0.0, 3.0), "style": "*"}

    def predictors(self, classes=None):
        return [Predictor("mu", "identity", "mean"), Predictor("log_sigma", "log", "scale")]

    def conditional_nll(self, y, etas, order=0):
        mu, log_sigma = etas[:, 0], etas[:, 1]
        with np.errstate(over="ignore"):
            inverse = np.exp(-log_sigma)
            z = (y - mu) * inverse
            value = 0.5 * z * z + log_sigma + HALF_LOG_2PI
        if order == 0:
            return value, None, None
        gradient = np.column_stack([-z * inverse, 1.0 - z * z])
        if order == 1:
            return value, gradient, None
        hessian = np.empty((len(y), 2, 2))
        hessian[:, 0, 0] = inverse * inverse
        hessian[:, 0, 1] = hessian[:, 1, 0] = 2.0 * z * inverse
        hessian[:, 1, 1] = 2.0 * z * z
        return value, gradient, hessian

    def conditional_params(self, etas):
        return {"mu": etas[:, 0], "sigma": np.exp(etas[:, 1])}

    solver = "least squares"
    scale_formula = True
    prediction_inputs = (PredictionInput("--mean", "mean", required=True),
                         PredictionInput("--log-var", "log_var", factor=0.5))
    constant_scale_flag = "--sigma"
    deviance_definition = "sum of squared residuals (R's deviance for the gaussian family)"
    se_note = ("se: the inverse observed information at the MLE (sigma^2 (X'WX)^-1 with sigma^2 = RSS/n); se_ols: "
               "the classical ones, RSS/(n - p) in place of RSS/n, as R's lm and statsmodels' OLS print")

    def constant_scale(self, sums):
        return math.sqrt(sums["squares"] / sums["weight"])

    def residuals(self, y, fitted):
        return {"mean": fitted["mu"], "residual": (y - fitted["mu"]) / fitted["sigma"],
                "name": "standardised residual", "reference": ("normal", {"mu": 0.0, "sigma": 1.0})}

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        t = np.dtype(dtype).type
        with np.errstate(all="ignore"):
            z = inputs.astype(dtype)
            r = y.astype(dtype) - z[:, 0]
            variance = np.exp(z[:, 1]) if z.shape[1] > 1 else np.full(len(y), t(scale) * t(scale), dtype=dtype)
            density = np.exp(-r * r / (t(2) * variance)) / np.sqrt(t(2 * np.pi) * variance)
            return np.log(density), ~np.isfinite(variance) | (variance == 0)

    def intercept_only(self, totals):
        return [totals["mean"], math.log(totals["spread"]) if totals["spread"] > 0 else 0.0]

    def conditional_deviance(self, y, etas, w, nll):
        r = y - etas[:, 0]
        return float(w @ (r * r))

    def loss_sums(self, y, etas, w):
        r = y - etas[:, 0]
        with np.errstate(all="ignore"):  # (an exact fit has sigma 0: "gaussian" is then -inf or undefined, and unused)
            variance = np.exp(2.0 * etas[:, 1])
            gaussian = float(w @ (0.5 * (np.log(variance) + r * r / variance)))
        return {"weight": float(w.sum()), "squares": float(w @ (r * r)), "gaussian": gaussian}

    def conditional_loss(self, sums, first_etas, learns_scale):
        total = sums["weight"]
        if learns_scale:
            value = sums["gaussian"] / total + HALF_LOG_2PI
            return {"name": "Gaussian NLL with a predicted variance (torch.nn.GaussianNLLLoss(full=True))",
                    "value": value, "identity": "NLL = n*GaussianNLL", "nll_from_loss": total * value}
        mse = sums["squares"] / total
        sigma = math.exp(first_etas[0, 1])
        return {"name": "mean squared error", "value": mse,
                "identity": "NLL = n/2*log(2*pi*sigma^2) + n*MSE/(2*sigma^2); at the MLE sigma^2 = MSE, so "
                "NLL = n/2*(log(2*pi*MSE) + 1)",
                "nll_from_loss": -math.inf if sigma == 0 else
                total / 2 * math.log(2 * math.pi * sigma * sigma) + total * mse / (2 * sigma * sigma)}
