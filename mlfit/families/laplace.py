"""Laplace family: its NLL is the mean absolute error in disguise."""

from __future__ import annotations

import numpy as np

from .base import Family, Parameter, Positive, Predictor, Real
from .distribution import RealLine, power_of_two
from .conditional import Conditional, PredictionInput
from .two_pass import TwoPass
from .median_statistics import (Bracket, BracketCounts, BracketPart, Sample, Sketch, expected_inside, middle,
                                narrowed)
from .normal import standardized


LOG_2 = float(np.log(2.0))


def _standardized(x, params):
    """(x - mu) / b, also where x - mu alone would overflow."""
    return standardized(x, {"mu": params["mu"], "sigma": params["b"]})


class Laplace(TwoPass, Conditional, Family):
    name = "laplace"
    parameters = (Parameter("mu", Real(), scale_by="b", in_data_units=True),
                  Parameter("b", Positive(), in_data_units=True))
    data_units = {"mu": "data", "b": "data"}
    support = RealLine()
    loss = "mean absolute error"
    example = {"mu": 1.0, "b": 2.0}
    smooth = False  # |x - mu| has a kink at every data point
    uncensorable = "its NLL has a kink at every exact value, and censored fits follow the gradient"
    continuous = True

    def summarize(self, values, weights=None):
        return Sample.of(values, weights)

    def sketch(self, values, weights=None, seed=0):
        return Sketch.of(values, weights, seed)

    # The median of a file too big to hold needs a second pass (two_pass.TwoPass drives it): where
    # the bracket lies, each piece's rows against it (parts merge), and the bracket from the merged part.
    def second_pass_plan(self, sketch):
        return Bracket.edges(sketch)

    def second_pass_part(self, plan, chunks):
        return BracketPart.of(plan, chunks)

    # Past ~10^8 rows the bracket would hold more values than one process should gather: passes that
    # only count rows in bins across it narrow it first (each by a factor of ~1,000).
    def second_pass_size(self, sketch, plan):
        return expected_inside(sketch, plan)

    def narrowing_part(self, plan, chunks):
        return BracketCounts.of(plan, chunks)

    def narrowed_plan(self, sketch, plan, counted):
        return narrowed(sketch, plan, counted)

    def finish_with(self, sketch, plan, part):
        return Bracket.completed(sketch, plan, part)

    def unit(self, stats):
        return power_of_two(stats.moments.sd) or stats.moments.scale

    def search_bounds(self, stats):
        return {"mu": (stats.low, stats.high)} if isinstance(stats, Bracket) else {}

    def degenerate_reason(self, stats, fixed=()):
        if "b" in fixed:
            return None
        if stats.constant:
            return "every value is the same, so the laplace likelihood has no maximum (b -> 0)"
        if self.reference(stats)["b"] == 0:
            return ("the other values weigh nothing next to the median's (their mean absolute deviation is 0 "
                    "in float64), so the laplace likelihood has no maximum (b -> 0)")
        return None

    def reference(self, stats):
        mu = middle(stats.lower_median, stats.upper_median)
        return {"mu": mu, "b": stats.mean_abs(mu)}

    def reference_given(self, stats, fixed):
        if set(fixed) == {"b"}:  # the median whatever b is
            return {"mu": middle(stats.lower_median, stats.upper_median), "b": fixed["b"]}
        if set(fixed) == {"mu"}:  # the mean absolute deviation from the given mu
            return {"mu": fixed["mu"], "b": stats.mean_abs(fixed["mu"])}
        return super().reference_given(stats, fixed)

    def kinks(self, stats, name, value):
        # sum |x - mu| bends at every value: the nearest ones on either side of mu
        return stats.nearest_values(value) if name == "mu" else []

    def optimal_intervals(self, stats):
        # With an even count, every mu between the two middle values gives the same NLL.
        return {"mu": (stats.lower_median, stats.upper_median)}

    def start(self, stats):
        # The mean and standard deviation: moment estimates, not the median the MLE is.
        mean, sd = stats.moments.mean, stats.moments.sd
        low, high = self.search_bounds(stats).get("mu", (mean, mean))
        return {"mu": min(max(mean, low), high), "b": sd}

    def nll(self, stats, params):
        mu, b = params["mu"], params["b"]
        return float(stats.n * (LOG_2 + np.log(b)) + stats.n * (np.float64(stats.mean_abs(mu)) / b))  # b = 0: inf

    def objective(self, stats, u):
        # u = (mu / unit, log(b / unit)): the data's unit is a power of two near its spread
        mu, log_b = u
        unit = self.unit(stats)
        return float(LOG_2 + np.log(unit) + log_b + stats.mean_abs(mu * unit) / unit * np.exp(-log_b)), None

    def standard_errors(self, stats, params, fixed=()):
        # b from the Fisher information; mu from the asymptotic variance of the sample
        # median, b^2/n (the NLL has no second derivative in mu to take).
        se = params["b"] / np.sqrt(stats.n)
        return {"mu": se, "b": se}

    def profile_nll(self, stats, name, value, index=None):
        if name == "mu":  # b at its conditional MLE: the mean absolute error about mu
            return self.nll(stats, {"mu": value, "b": stats.mean_abs(value)})
        mu = middle(stats.lower_median, stats.upper_median)
        return self.nll(stats, {"mu": mu, "b": value})

    def log_cdf(self, x, params):
        z = _standardized(x, params)
        # log(1 - exp(-z)/2) written with log1p so neither tail loses its digits
        return np.where(z < 0, z - np.log(2), np.log1p(-0.5 * np.exp(-np.abs(z))))

    def log_sf(self, x, params):
        z = _standardized(x, params)
        return np.where(z > 0, -z - np.log(2), np.log1p(-0.5 * np.exp(-np.abs(z))))

    def quantile(self, q, params):
        centred = np.asarray(q, dtype=float) - 0.5
        return params["mu"] - params["b"] * np.sign(centred) * np.log1p(-2 * np.abs(centred))

    def as_scipy(self, params):
        from scipy import stats

        return stats.laplace(params["mu"], params["b"])

    def sample(self, rng, params, size):
        return rng.laplace(params["mu"], params["b"], size)

    def loss_report(self, stats, params):
        mu, b = params["mu"], params["b"]
        mae = stats.mean_abs(mu)
        return {
            "name": self.loss,
            "mae": mae,
            "identity": "NLL = n*log(2*b) + n*MAE/b",
            "nll_from_loss": float(stats.n * (LOG_2 + np.log(b)) + stats.n * (mae / b)),
        }

    def log_prob(self, encoded, params):
        return -np.abs(_standardized(encoded, params)) - LOG_2 - np.log(params["b"])

    # The conditional model: mu linear in the formula's columns (least absolute deviations, the
    # median regression), log b constant.
    def predictors(self, classes=None):
        return [Predictor("mu", "identity", "mean"), Predictor("log_b", "log", "scale")]

    def conditional_nll(self, y, etas, order=0):
        mu, log_b = etas[:, 0], etas[:, 1]
        inverse = np.exp(-log_b)
        distance = np.abs(y - mu) * inverse
        value = distance + log_b + LOG_2
        if order == 0:
            return value, None, None
        gradient = np.column_stack([-np.sign(y - mu) * inverse, 1.0 - distance])
        if order == 1:
            return value, gradient, None
        # |y - mu| has no second derivative in mu: the information per row is the expected one,
        # 1/b^2 (the derivative's square), and for log b its observed |y - mu|/b (mean 1 at the fit).
        hessian = np.zeros((len(y), 2, 2))
        hessian[:, 0, 0] = inverse * inverse
        hessian[:, 1, 1] = distance
        return value, gradient, hessian

    def conditional_params(self, etas):
        return {"mu": etas[:, 0], "b": np.exp(etas[:, 1])}

    solver = "least absolute deviations"
    # why its b stays one number: the least absolute deviations fit passes exactly through some rows,
    # where a b linear in columns could be sent to 0 and the likelihood to infinity
    no_scale_formula = ("laplace's b stays one number: its fit passes exactly through some rows (a vertex of a linear "
                        "program), where a log b linear in columns can run to -inf and the likelihood has no maximum")
    prediction_inputs = (PredictionInput("--mean", "mean", required=True), PredictionInput("--log-b", "log_b"))
    deviance_definition = "sum of absolute residuals (the LAD objective)"
    se_note = ("se: the Laplace model's information with b estimated, b^2 (X'WX)^-1 (|y - mu| has no second "
               "derivative, so the information of the coefficients is the expected one); quantreg's rank-inversion "
               "and bootstrap intervals are other methods and differ")

    def constant_scale(self, sums):
        return sums["absolute"] / sums["weight"]

    def residuals(self, y, fitted):
        return {"mean": fitted["mu"], "residual": (y - fitted["mu"]) / fitted["b"],
                "name": "standardised residual", "reference": ("laplace", {"mu": 0.0, "b": 1.0})}

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        t = np.dtype(dtype).type
        with np.errstate(all="ignore"):
            z = inputs.astype(dtype)
            r = y.astype(dtype) - z[:, 0]
            b = np.exp(z[:, 1]) if z.shape[1] > 1 else np.full(len(y), t(scale), dtype=dtype)
            density = np.exp(-np.abs(r) / b) / (t(2) * b)
            return np.log(density), ~np.isfinite(b) | (b == 0)

    def conditional_deviance(self, y, etas, w, nll):
        return float(w @ np.abs(y - etas[:, 0]))

    def loss_sums(self, y, etas, w):
        absolute = np.abs(y - etas[:, 0])
        with np.errstate(all="ignore"):  # (a scale of 0: inf, and unused where the scale is constant)
            b = np.exp(etas[:, 1])
            scaled = float(w @ (absolute / b + np.log(2.0 * b)))
        return {"weight": float(w.sum()), "absolute": float(w @ absolute), "scaled": scaled}

    def conditional_loss(self, sums, first_etas, learns_scale):
        total = sums["weight"]
        if learns_scale:  # the loss a training loop writes with a predicted log b
            value = sums["scaled"] / total
            return {"name": "Laplace NLL with a predicted scale: mean of |y - mu|/b + log(2b)", "value": value,
                    "identity": "NLL = n * mean(|y - mu|/b + log(2b))", "nll_from_loss": total * value}
        mae = sums["absolute"] / total
        b = float(np.exp(first_etas[0, 1]))
        return {"name": "mean absolute error", "value": mae,
                "identity": "NLL = n*log(2*b) + n*MAE/b; at the MLE b = MAE, so NLL = n*(log(2*MAE) + 1)",
                "nll_from_loss": -np.inf if b == 0 else total * float(np.log(2 * b)) + total * mae / b}

    def smoothed_conditional_nll(self, y, etas, epsilon, order=0):
        """conditional_nll with |y - mu| replaced by sqrt((y - mu)^2 + epsilon^2): smooth, and the
        same NLL as epsilon -> 0, for an optimiser that follows the minimum as epsilon shrinks."""
        mu, log_b = etas[:, 0], etas[:, 1]
        inverse = np.exp(-log_b)
        r = y - mu
        soft = np.sqrt(r * r + epsilon * epsilon)
        value = soft * inverse + log_b + LOG_2
        if order == 0:
            return value, None, None
        slope = r / soft
        gradient = np.column_stack([-slope * inverse, 1.0 - soft * inverse])
        if order == 1:
            return value, gradient, None
        hessian = np.empty((len(y), 2, 2))
        hessian[:, 0, 0] = epsilon * epsilon / (soft ** 3) * inverse
        hessian[:, 0, 1] = hessian[:, 1, 0] = slope * inverse
        hessian[:, 1, 1] = soft * inverse
        return value, gradient, hessian
