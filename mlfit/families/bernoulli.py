"""Bernoulli family: its NLL is binary cross-entropy in disguise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Family, Parameter, Predictor, UnitInterval, xlogy
from .distribution import ZeroOne
from .conditional import Conditional, PredictionInput


@dataclass(frozen=True)
class Successes:
    n: float
    successes: float

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Successes":
        if weights is None:
            return cls(len(values), int(np.count_nonzero(values)))
        return cls(float(weights.sum()), float(weights @ values))

    def merge(self, other: "Successes") -> "Successes":
        return Successes(self.n + other.n, self.successes + other.successes)


class Bernoulli(Conditional, Family):
    name = "bernoulli"
    parameters = (Parameter("p", UnitInterval()),)
    support = ZeroOne()
    loss = "binary cross-entropy"
    example = {"p": 0.3}

    def summarize(self, values, weights=None):
        return Successes.of(values, weights)

    def reference(self, stats):
        return {"p": stats.successes / stats.n}

    def start(self, stats):
        return {"p": 0.5}  # logit 0: no knowledge of the data

    def nll(self, stats, params):
        p, k = params["p"], stats.successes
        return float(-(xlogy(k, p) + xlogy(stats.n - k, 1.0 - p)))

    def objective(self, stats, u):
        (logit,) = u
        k_rate = stats.successes / stats.n
        # BCE with logits: softplus keeps it finite when the logit runs off towards p = 0 or 1.
        value = k_rate * np.logaddexp(0.0, -logit) + (1 - k_rate) * np.logaddexp(0.0, logit)
        return float(value), np.array([special.expit(logit) - k_rate])

    def hessian(self, stats, u):
        p = special.expit(u[0])
        return np.array([[p * (1 - p)]])

    def standard_errors(self, stats, params, fixed=()):
        p = params["p"]
        return {"p": float(np.sqrt(p * (1 - p)) / np.sqrt(stats.n))}

    def profile_nll(self, stats, name, value, index=None):
        return self.nll(stats, {"p": value})

    def as_scipy(self, params):
        from scipy import stats

        return stats.bernoulli(params["p"])

    def sample(self, rng, params, size):
        return rng.binomial(1, params["p"], size).astype(float)

    def frequency_table(self, values, stats, params):
        k = stats.successes
        return ["0", "1"], np.array([stats.n - k, k], dtype=float), np.array([1 - params["p"], params["p"]])

    def loss_report(self, stats, params):
        p, k, n = params["p"], stats.successes, stats.n
        bce = float(-(xlogy(k, p) + xlogy(n - k, 1.0 - p)) / n)
        return {"name": self.loss, "bce": bce, "identity": "NLL = n*BCE", "nll_from_loss": n * bce}

    def log_prob(self, encoded, params):
        p = params["p"]
        return xlogy(encoded, p) + xlogy(1.0 - encoded, 1.0 - p)

    # The conditional model: logistic regression, the loss binary cross-entropy with logits.
    def predictors(self, classes=None):
        return [Predictor("logit_p", "logit", "mean")]

    def conditional_nll(self, y, etas, order=0):
        eta = etas[:, 0]
        small = np.exp(-np.abs(eta))  # in (0, 1]: log(1 + e^eta) and the sigmoid without overflow
        value = np.maximum(eta, 0.0) - y * eta + np.log1p(small)
        if order == 0:
            return value, None, None
        share = 1.0 / (1.0 + small)
        p = np.where(eta >= 0, share, small * share)
        gradient = (p - y)[:, None]
        if order == 1:
            return value, gradient, None
        return value, gradient, (small * share * share)[:, None, None]

    def conditional_params(self, etas):
        return {"p": special.expit(etas[:, 0])}

    solver = "iteratively reweighted"
    separation = "binary"
    outcome = "binary"
    prediction_inputs = (PredictionInput("--logit", "logit", required=True),)

    def predicted_class(self, inputs):
        return (inputs[:, 0] > 0).astype(np.int64)

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        t = np.dtype(dtype).type
        with np.errstate(all="ignore"):
            z = inputs.astype(dtype)
            e = np.exp(-z[:, 0])
            p = t(1) / (t(1) + e)
            return np.where(y > 0.5, np.log(p), np.log(t(1) - p)), ~np.isfinite(e)

    def intercept_only(self, totals):
        return None if totals["offset_total"] is not None else [float(special.logit(totals["mean"]))]

    def loss_sums(self, y, etas, w):
        logit = etas[:, 0]
        return {"weight": float(w.sum()),
                "bce": float(w @ (np.maximum(logit, 0) - logit * y + np.log1p(np.exp(-np.abs(logit)))))}

    def conditional_loss(self, sums, first_etas, learns_scale):
        bce = sums["bce"] / sums["weight"]
        return {"name": "binary cross-entropy with logits (torch.nn.BCEWithLogitsLoss)", "value": bce,
                "identity": "NLL = n*BCE", "nll_from_loss": sums["weight"] * bce}
