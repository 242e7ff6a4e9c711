"""Beta family (alpha, beta) on 0 < x < 1: its NLL per row is log B(alpha, beta) - (alpha-1)*mean(log x)
- (beta-1)*mean(log(1-x)), a cross-entropy between the data's log-odds and the model's."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import NaturalFamily, Parameter, Positive, Predictor, root_in_log
from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss
from .distribution import OpenUnitInterval
from .statistics import UnitMoments

NEWTON_STEPS = 100


class Beta(LikelihoodLoss, Conditional, NaturalFamily):
    name = "beta"
    parameters = (Parameter("alpha", Positive()), Parameter("beta", Positive()))
    support = OpenUnitInterval()
    loss = "beta cross-entropy: -(alpha-1)*mean(log x) - (beta-1)*mean(log(1-x)) + log B(alpha, beta)"
    continuous = True
    reference_method = "Newton on the score equations"
    example = {"alpha": 2.0, "beta": 5.0}

    def cullen_frey(self, largest):
        # between the bound every distribution obeys (kurtosis > skewness^2 + 1) and the gamma line
        return {"region": ((1.0, 1.0), (3.0, 1.5))}

    def summarize(self, values, weights=None):
        return UnitMoments.of(values, weights)

    def degenerate_reason(self, stats, fixed=()):
        if not (stats.m2 > 0 and stats.low < stats.high) and not fixed:
            return ("every value is the same (or the others weigh nothing next to it), so the beta likelihood "
                    "has no maximum (alpha, beta -> infinity)")
        return None

    def _moments_start(self, stats) -> np.ndarray:
        mean, variance = stats.mean, stats.m2 / stats.n
        common = mean * (1 - mean) / variance - 1 if variance > 0 else 1.0
        common = common if common > 0 else 1.0
        return np.array([mean * common, (1 - mean) * common])

    def reference(self, stats):
        # Newton on the score equations from the method-of-moments estimate. The NLL is convex in
        # (alpha, beta) (an exponential family in alpha - 1, beta - 1), so a step halved until it
        # stays positive and does not raise the NLL cannot go astray.
        point = self._moments_start(stats)
        for _ in range(NEWTON_STEPS):
            value, gradient, hessian = self.derivatives(stats, {"alpha": point[0], "beta": point[1]})
            step = np.linalg.solve(hessian, gradient)
            for _ in range(60):
                trial = point - step
                # Near the root the NLL's changes are rounding, and comparing them would halve good
                # steps (the root stopped ~1e-9 short): steps that small are Newton's to take.
                if np.all(trial > 0) and (np.all(np.abs(step) <= 1e-6 * point) or
                                          self.derivatives(stats, {"alpha": trial[0], "beta": trial[1]})[0] <= value):
                    break
                step = step / 2
            else:
                break
            done = np.all(np.abs(trial - point) <= 4e-16 * point)
            point = trial
            if done:
                break
        return {"alpha": float(point[0]), "beta": float(point[1])}

    def reference_given(self, stats, fixed):
        if len(fixed) == 1:  # one score equation: psi(free) - psi(alpha + beta) = its mean log, monotone
            (held, value), = fixed.items()
            free = "beta" if held == "alpha" else "alpha"
            target = stats.mean_log1m if free == "beta" else stats.mean_log

            def score(log_free):
                other = np.exp(log_free)
                return special.digamma(other) - special.digamma(other + value) - target

            return {held: value, free: root_in_log(score, falling=False)}
        return super().reference_given(stats, fixed)

    def start(self, stats):
        return {"alpha": 1.0, "beta": 1.0}  # the uniform

    def derivatives(self, stats, params, order=2):
        a, b, n = params["alpha"], params["beta"], stats.n
        value = n * (special.betaln(a, b) - (a - 1) * stats.mean_log - (b - 1) * stats.mean_log1m)
        both = special.digamma(a + b)
        gradient = n * np.array([special.digamma(a) - both - stats.mean_log, special.digamma(b) - both - stats.mean_log1m])
        shared = special.polygamma(1, a + b)
        hessian = n * np.array([[special.polygamma(1, a) - shared, -shared], [-shared, special.polygamma(1, b) - shared]])
        return float(value), gradient, hessian

    def log_prob(self, encoded, params):
        a, b = params["alpha"], params["beta"]
        with np.errstate(divide="ignore", invalid="ignore"):  # (outside [0, 1]: a density of 0)
            inside = special.xlogy(a - 1, encoded) + special.xlog1py(b - 1, -encoded) - special.betaln(a, b)
            return np.where((encoded >= 0) & (encoded <= 1), inside, -np.inf)

    def log_cdf(self, x, params):
        with np.errstate(divide="ignore"):  # (outside [0, 1]: a CDF of 0 or 1)
            return np.log(special.betainc(params["alpha"], params["beta"], np.clip(x, 0.0, 1.0)))

    def log_sf(self, x, params):
        with np.errstate(divide="ignore"):
            return np.log(special.betainc(params["beta"], params["alpha"], 1.0 - np.clip(x, 0.0, 1.0)))

    def quantile(self, q, params):
        return special.betaincinv(params["alpha"], params["beta"], q)

    def sample(self, rng, params, size):
        return rng.beta(params["alpha"], params["beta"], size)

    def loss_report(self, stats, params):
        a, b = params["alpha"], params["beta"]
        cross = -(a - 1) * stats.mean_log - (b - 1) * stats.mean_log1m
        return {"name": self.loss, "log_term": float(cross),
                "identity": "NLL = n*(log B(alpha, beta) - (alpha-1)*mean(log x) - (beta-1)*mean(log(1-x)))",
                "nll_from_loss": float(stats.n * (cross + special.betaln(a, b)))}

    def as_scipy(self, params):
        from scipy import stats

        return stats.beta(params["alpha"], params["beta"])

    # The conditional model (betareg's): logit of the mean mu linear in columns, the precision phi constant
    # (or log-linear with --sigma); alpha = mu phi, beta = (1 - mu) phi. The derivatives go through
    # (alpha, beta): N_a = psi(a) - psi(a + b) - log y, and so on, by the chain rule.
    def predictors(self, classes=None):
        return [Predictor("logit_mu", "logit", "mean"), Predictor("log_phi", "log", "scale")]

    def conditional_nll(self, y, etas, order=0):
        eta, log_phi = etas[:, 0], etas[:, 1]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            mu, phi = special.expit(eta), np.exp(log_phi)
            a, b = mu * phi, special.expit(-eta) * phi
            log_y, log_1y = np.log(y), np.log1p(-y)
            value = special.betaln(a, b) - (a - 1.0) * log_y - (b - 1.0) * log_1y
            if order == 0:
                return value, None, None
            digamma_ab = special.digamma(phi)
            n_a = special.digamma(a) - digamma_ab - log_y
            n_b = special.digamma(b) - digamma_ab - log_1y
            v = phi * mu * (1.0 - mu)  # da/deta = -db/deta
            gradient = np.column_stack([v * (n_a - n_b), a * n_a + b * n_b])
            if order == 1:
                return value, gradient, None
            trigamma_ab = special.polygamma(1, phi)
            n_aa, n_bb = special.polygamma(1, a) - trigamma_ab, special.polygamma(1, b) - trigamma_ab
            n_ab = -trigamma_ab
            hessian = np.empty((len(y), 2, 2))
            # second derivatives of (a, b): in eta twice (v (1 - 2 mu), -v (1 - 2 mu)), eta and log phi
            # (v, -v), log phi twice (a, b)
            hessian[:, 0, 0] = v * v * (n_aa - 2.0 * n_ab + n_bb) + v * (1.0 - 2.0 * mu) * (n_a - n_b)
            hessian[:, 0, 1] = hessian[:, 1, 0] = v * (a * (n_aa - n_ab) + b * (n_ab - n_bb)) + v * (n_a - n_b)
            hessian[:, 1, 1] = a * a * n_aa + 2.0 * a * b * n_ab + b * b * n_bb + a * n_a + b * n_b
        return value, gradient, hessian

    def conditional_params(self, etas):
        phi = np.exp(etas[:, 1])
        return {"alpha": special.expit(etas[:, 0]) * phi, "beta": special.expit(-etas[:, 0]) * phi}

    def row_mean(self, fitted):
        return fitted["alpha"] / (fitted["alpha"] + fitted["beta"])

    def conditional_start(self, y, w):
        mean = float(w @ y / w.sum())
        variance = float(w @ (y - mean) ** 2 / w.sum())
        precision = mean * (1.0 - mean) / variance - 1.0 if variance > 0 else 1.0
        return [float(special.logit(mean)), float(np.log(max(precision, 0.5)))]
