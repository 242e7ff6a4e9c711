"""Binomial family (p, with the number of trials N given by --trials): its NLL is binary
cross-entropy over N*n trials, plus the log binomial coefficients, which do not depend on p."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import NaturalFamily, Parameter, Predictor, UnitInterval, xlogy
from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss
from .distribution import CountsUpTo
from .statistics import Tally


@dataclass(frozen=True)
class Trials:
    tally: Tally
    sum_log_choose: float  # sum of log C(N, x): constant in p, but part of the true NLL

    @property
    def n(self) -> float:
        return self.tally.n

    def merge(self, other: "Trials") -> "Trials":
        return Trials(self.tally.merge(other.tally), self.sum_log_choose + other.sum_log_choose)


class Binomial(LikelihoodLoss, Conditional, NaturalFamily):
    name = "binomial"
    parameters = (Parameter("p", UnitInterval()),)
    loss = "binary cross-entropy over every trial"
    needs = ("trials",)
    example = {"p": 0.35}

    def __init__(self, trials: int = 10):
        self.trials = int(trials)
        self.support = CountsUpTo(self.trials)

    support = CountsUpTo(10)  # (an instance's own, for its --trials, replaces this)

    def summarize(self, values, weights=None):
        tally = Tally.of(values, weights)
        log_choose = (special.gammaln(self.trials + 1) - special.gammaln(tally.values + 1)
                      - special.gammaln(self.trials - tally.values + 1))
        return Trials(tally, float(tally.counts @ log_choose))

    def _successes(self, stats) -> tuple[float, float]:
        """Successes and failures over all the trials (weighted)."""
        successes = stats.n * stats.tally.mean
        return successes, stats.n * self.trials - successes

    def reference(self, stats):
        return {"p": stats.tally.mean / self.trials}

    def start(self, stats):
        return {"p": 0.5}

    def derivatives(self, stats, params, order=2):
        p = params["p"]
        successes, failures = self._successes(stats)
        value = -(xlogy(successes, p) + xlogy(failures, 1.0 - p)) - stats.sum_log_choose
        return (float(value), np.array([failures / (1.0 - p) - successes / p]),
                np.array([[successes / p**2 + failures / (1.0 - p) ** 2]]))

    def log_prob(self, encoded, params):
        p, trials = params["p"], self.trials
        log_choose = special.gammaln(trials + 1) - special.gammaln(encoded + 1) - special.gammaln(trials - encoded + 1)
        return log_choose + xlogy(encoded, p) + special.xlog1py(trials - encoded, -p)

    def sample(self, rng, params, size):
        return rng.binomial(self.trials, params["p"], size).astype(float)

    def frequency_table(self, values, stats, params):
        return stats.tally.frequency_table(lambda k: self.log_prob(k, params), last=self.trials)

    def loss_report(self, stats, params):
        p = params["p"]
        successes, failures = self._successes(stats)
        trials = stats.n * self.trials
        bce = float(-(xlogy(successes, p) + xlogy(failures, 1.0 - p)) / trials)
        return {"name": self.loss, "bce_per_trial": bce, "sum_log_choose": stats.sum_log_choose,
                "identity": "NLL = n*N*BCE - sum(log C(N, x))",
                "nll_from_loss": trials * bce - stats.sum_log_choose}

    def as_scipy(self, params):
        from scipy import stats

        return stats.binom(self.trials, params["p"])

    # The conditional model: logit p linear in columns, each row y successes of its trials (--trials N, or a
    # column per row): glm(cbind(y, trials - y) ~ ..., binomial). A row costs n softplus(eta) - y eta
    # - log C(n, y).
    separation = "binary"
    outcome = "count"
    scale_formula = False
    row_inputs = ("trials",)
    se_note = ("se: the inverse observed information at the MLE (for the canonical logit link also the expected "
               "one, as R's glm reports)")

    def predictors(self, classes=None):
        return [Predictor("logit_p", "logit", "mean")]

    def row_trials(self, n: int) -> np.ndarray:
        trials = self.row_input("trials", n)
        return np.full(n, float(self.trials)) if trials is None else trials

    def conditional_nll(self, y, etas, order=0):
        eta = etas[:, 0]
        trials = self.row_trials(len(y))
        log_choose = special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1)
        with np.errstate(over="ignore"):
            value = trials * np.logaddexp(0.0, eta) - y * eta - log_choose
        if order == 0:
            return value, None, None
        p = special.expit(eta)
        gradient = (trials * p - y)[:, None]
        if order == 1:
            return value, gradient, None
        return value, gradient, (trials * p * special.expit(-eta))[:, None, None]

    deviance_definition = "2 * sum(y log(y/(n p)) + (n - y) log((n - y)/(n (1 - p)))) (R's glm, binomial)"

    def conditional_deviance(self, y, etas, w, nll):
        trials = self.row_trials(len(y))
        p = special.expit(etas[:, 0])
        failures = trials - y
        with np.errstate(divide="ignore", invalid="ignore"):  # (p of 0 or 1 where the MLE does not exist)
            unit = (special.xlogy(y, y) - special.xlogy(y, trials * p)
                    + special.xlogy(failures, failures) - special.xlogy(failures, trials * special.expit(-etas[:, 0])))
        used = w > 0
        return float(2.0 * (w[used] @ unit[used]))

    def outcome_sides(self, y):
        # a row with successes is a success; one with failures (fewer than its trials) a failure too
        trials = self.row_trials(len(y))
        successes, failures = np.flatnonzero(y > 0), np.flatnonzero(y < trials)
        return (np.concatenate([successes, failures]),
                np.concatenate([np.ones(len(successes)), -np.ones(len(failures))]))

    solver = "profiled scoring"

    def mean_information(self, y, etas):
        return self.row_trials(len(y)) * special.expit(etas[:, 0]) * special.expit(-etas[:, 0])

    def conditional_params(self, etas):
        return {"p": special.expit(etas[:, 0])}

    def row_mean(self, fitted):
        return fitted["p"] * self.row_trials(len(fitted["p"]))

    def conditional_start(self, y, w):
        trials = self.row_trials(len(y))
        share = (float(w @ y) + 0.5) / (float(w @ trials) + 1.0)
        return [float(special.logit(share))]

    def residuals(self, y, fitted):
        from scipy import stats

        p, trials = fitted["p"], self.row_trials(len(y))
        with np.errstate(all="ignore"):
            probability = stats.binom.cdf(y - 1, trials, p) + 0.5 * stats.binom.pmf(y, trials, p)
        return {"mean": p * trials, "residual": special.ndtri(np.clip(probability, 1e-300, 1 - 1e-16)),
                "name": "quantile residual", "reference": ("normal", {"mu": 0.0, "sigma": 1.0})}
