"""Geometric family (failures before the first success): its NLL is the poisson-like count loss
-log p - mean(x) log(1 - p) per row."""

from __future__ import annotations

import numpy as np

from .base import NaturalFamily, Parameter, Predictor, UnitInterval, xlogy
from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss
from .distribution import NonNegativeIntegers
from .statistics import Tally


class Geometric(LikelihoodLoss, Conditional, NaturalFamily):
    name = "geometric"
    parameters = (Parameter("p", UnitInterval()),)
    support = NonNegativeIntegers()
    loss = "geometric count loss"
    example = {"p": 0.3}

    def summarize(self, values, weights=None):
        return Tally.of(values, weights)

    def reference(self, stats):
        return {"p": 1.0 / (1.0 + stats.mean)}

    def start(self, stats):
        return {"p": 0.5}

    def derivatives(self, stats, params, order=2):
        p, n, total = params["p"], stats.n, stats.n * stats.mean
        value = -(xlogy(n, p) + xlogy(total, 1.0 - p))
        gradient = -n / p + total / (1.0 - p)
        return float(value), np.array([gradient]), np.array([[n / p**2 + total / (1.0 - p) ** 2]])

    def log_prob(self, encoded, params):
        p = params["p"]
        return np.log(p) + xlogy(encoded, 1.0 - p)

    def sample(self, rng, params, size):
        return rng.geometric(params["p"], size).astype(float) - 1.0

    def frequency_table(self, values, stats, params):
        return stats.frequency_table(lambda k: self.log_prob(k, params),
                                     lambda top: (1.0 - params["p"]) ** (top + 1))

    def loss_report(self, stats, params):
        p, n = params["p"], stats.n
        loss = float(-np.log(p) - xlogy(stats.mean, 1.0 - p))
        return {"name": self.loss, "geometric_loss": loss,
                "identity": "NLL = n*(-log(p) - mean(x)*log(1-p))", "nll_from_loss": n * loss}

    def as_scipy(self, params):
        from scipy import stats

        return stats.geom(params["p"], loc=-1)

    # The conditional model: the negative binomial with its size fixed at 1, log of the mean mu = (1 - p)/p
    # linear in columns (glm(family = MASS::negative.binomial(1))).
    separation = "zero counts"
    outcome = "count"
    scale_formula = False

    def predictors(self, classes=None):
        return [Predictor("log_mu", "log", "mean")]

    def conditional_nll(self, y, etas, order=0):
        from .negbinomial import counts_given_mean

        return counts_given_mean(y, etas[:, 0], None, order)

    deviance_definition = "2 * sum(y log(y/mu) - (y + 1) log((y + 1)/(mu + 1))) (R's negative.binomial(1))"

    def conditional_deviance(self, y, etas, w, nll):
        from .negbinomial import count_deviance

        return count_deviance(y, np.exp(etas[:, 0]), 1.0, w)

    solver = "profiled scoring"

    def mean_information(self, y, etas):
        mu = np.exp(etas[:, 0])
        return mu / (1.0 + mu)

    def conditional_params(self, etas):
        return {"p": 1.0 / (1.0 + np.exp(etas[:, 0]))}

    def row_mean(self, fitted):
        return (1.0 - fitted["p"]) / fitted["p"]

    def conditional_start(self, y, w):
        mean = float(w @ y / w.sum())
        return [float(np.log(mean)) if mean > 0 else 0.0]
