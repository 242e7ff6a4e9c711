"""Weibull family (shape k, scale lam): its NLL has no sufficient statistic smaller than the values,
sum((x/lam)^k) - (k-1)*sum(log x) + n*k*log(lam) - n*log(k)."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import NaturalFamily, Parameter, Positive, Predictor, root_in_log
from .distribution import PositiveReals
from .standardized import MinimumExtreme
from .statistics import Values

NEWTON_PASSES = 30  # Newton steps on the shape's profile score over values on disk (about 4 are taken)


def weibull_curve(k: np.ndarray) -> np.ndarray:
    """(skewness^2, kurtosis) of the weibull for each shape k."""
    g = [special.gamma(1 + i / k) for i in range(5)]
    variance = g[2] - g[1] ** 2
    skew = (g[3] - 3 * g[1] * g[2] + 2 * g[1] ** 3) / variance ** 1.5
    kurt = (g[4] - 4 * g[1] * g[3] + 6 * g[1] ** 2 * g[2] - 3 * g[1] ** 4) / variance ** 2
    return np.column_stack([skew ** 2, kurt])


class Weibull(MinimumExtreme, NaturalFamily):
    name = "weibull"
    parameters = (Parameter("shape", Positive()), Parameter("scale", Positive()))
    data_units = {"scale": "data"}
    support = PositiveReals()
    loss = "weibull loss: mean (x/scale)^shape less (shape-1) mean log x"
    continuous = True
    sufficient_statistics = False  # the values themselves (see Values)
    reference_method = "root of the score equation"
    example = {"shape": 1.7, "scale": 3.0}

    def cullen_frey(self, largest):
        return {"line": weibull_curve(np.geomspace(0.35, 50, 4000)), "style": "-."}

    def summarize(self, values, weights=None):
        return Values(values, weights)

    def degenerate_reason(self, stats, fixed=()):
        low, high = stats.extremes()
        if low == high and "shape" not in fixed:
            return ("every value is the same (or the others weigh nothing next to it), so the weibull likelihood "
                    "has no maximum (shape -> infinity)")
        return None

    def _power_sums(self, stats, k: float, order: int = 1) -> np.ndarray:
        """[sum log x, sum r, sum r log x, sum r log^2 x][:order + 2] with r = (x / max x)^k, which
        cannot overflow: one pass over the rows."""
        top = float(np.log(stats.extremes()[1]))

        def of(part):
            powers = np.exp(k * (part.logs - top))
            sums = [part.total_log, part.total(powers)]
            for _ in range(order):
                powers = powers * part.logs
                sums.append(part.total(powers))
            return np.array(sums)

        return stats.over_rows(of)

    def _scale_given_shape(self, stats, k) -> float:
        top = float(np.log(stats.extremes()[1]))
        return float(np.exp(top + np.log(self._power_sums(stats, k, order=0)[1] / stats.n) / k))

    def _profile_score(self, stats, log_k: float, order: int = 1) -> tuple[float, float | None]:
        """The shape's profile score 1/k + mean(log x) - sum(x^k log x)/sum(x^k) at k = e^log_k, and
        (order 2) its derivative in log k, -1/k - k var_r(log x)."""
        k = np.exp(log_k)
        sums = self._power_sums(stats, k, order)
        mean = sums[2] / sums[1]
        score = 1.0 / k + sums[0] / stats.n - mean
        return score, None if order < 2 else -1.0 / k - k * max(sums[3] / sums[1] - mean * mean, 0.0)

    def reference(self, stats):
        # The shape's profile score falls from +inf as k grows (its derivative is -1/k^2 minus a
        # variance), so it has one root, bracketed in log k; the scale then follows in closed form.
        # Values on disk cost a pass per evaluation: Newton's method from the sample's root, kept
        # inside the bracket its evaluations narrow, finds it in a few.
        if stats.in_memory:
            k = root_in_log(lambda log_k: self._profile_score(stats, log_k)[0], falling=True)
        else:
            k = self._score_root_by_passes(stats, np.log(self.reference(stats.sample)["shape"]))
        return {"shape": k, "scale": self._scale_given_shape(stats, k)}

    def _score_root_by_passes(self, stats, log_k: float) -> float:
        low, high = -np.inf, np.inf
        for _ in range(NEWTON_PASSES):
            score, slope = self._profile_score(stats, log_k, order=2)
            if score == 0:
                break
            low, high = (log_k, high) if score > 0 else (low, log_k)
            step = -score / slope
            trial = log_k + step
            if not low < trial < high:  # Newton left the bracket: halve it (or widen a side still open)
                trial = 0.5 * (low + high) if np.isfinite(low + high) else log_k + (1.0 if score > 0 else -1.0)
            if abs(trial - log_k) <= 4 * np.spacing(max(abs(log_k), 1.0)):
                break
            log_k = trial
        return float(np.exp(log_k))

    def reference_given(self, stats, fixed):
        if set(fixed) == {"shape"}:
            return {"shape": fixed["shape"], "scale": self._scale_given_shape(stats, fixed["shape"])}
        return super().reference_given(stats, fixed)

    def start(self, stats):
        # The exponential (shape 1) with the data's mean, in the data's own order of magnitude.
        return {"shape": 1.0, "scale": float(np.exp(stats.mean_log))}

    def derivatives(self, stats, params, order=2):
        k, lam, n = params["shape"], params["scale"], stats.n
        log_lam = np.log(lam)
        relative = stats.logs - log_lam  # log(x / lam)
        with np.errstate(over="ignore"):
            t = np.exp(k * relative)  # (x / lam)^k
        sum_t, sum_relative = stats.total(t), stats.total_log - n * log_lam
        value = -n * np.log(k) + n * log_lam - (k - 1.0) * sum_relative + sum_t
        if order == 0:
            return float(value), None, None
        t_relative = t * relative
        sum_t_relative = stats.total(t_relative)
        gradient = np.array([-n / k - sum_relative + sum_t_relative, (k / lam) * (n - sum_t)])
        if order == 1:
            return float(value), gradient, None
        cross = (n - k * sum_t_relative - sum_t) / lam
        hessian = np.array([[n / k**2 + stats.total(t_relative * relative), cross],
                            [cross, (k / lam**2) * ((k + 1.0) * sum_t - n)]])
        return float(value), gradient, hessian

    def log_prob(self, encoded, params):
        k, lam = params["shape"], params["scale"]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # (below 0: a density of 0)
            relative = np.log(encoded) - np.log(lam)
            inside = np.log(k) - np.log(lam) + special.xlogy(k - 1.0, np.exp(relative)) - np.exp(k * relative)
            return np.where(encoded >= 0, inside, -np.inf)

    def log_cdf(self, x, params):
        with np.errstate(divide="ignore", over="ignore"):  # (below 0: a CDF of 0)
            return np.log(-np.expm1(-((np.maximum(x, 0.0) / params["scale"]) ** params["shape"])))

    def log_sf(self, x, params):
        with np.errstate(over="ignore"):
            return -((np.maximum(x, 0.0) / params["scale"]) ** params["shape"])

    def quantile(self, q, params):
        return params["scale"] * (-np.log1p(-q)) ** (1.0 / params["shape"])

    def sample(self, rng, params, size):
        return params["scale"] * rng.weibull(params["shape"], size)

    def loss_report(self, stats, params):
        k, lam, n = params["shape"], params["scale"], stats.n
        relative = stats.logs - np.log(lam)
        with np.errstate(over="ignore"):
            mean_power = stats.total(np.exp(k * relative)) / n
        mean_relative = stats.total(relative) / n
        return {
            "name": self.loss,
            "mean_power": mean_power,
            "identity": "NLL = n*(mean((x/scale)^shape) - (shape-1)*mean(log(x/scale)) + log(scale) - log(shape))",
            "nll_from_loss": float(n * (mean_power - (k - 1.0) * mean_relative + np.log(lam) - np.log(k))),
        }

    def as_scipy(self, params):
        from scipy import stats

        return stats.weibull_min(params["shape"], scale=params["scale"])

    # The conditional model, an accelerated failure time: log y = log scale + Z / shape, Z the minimum
    # extreme value; log scale linear in columns: survreg(dist = "weibull")'s coefficients, its scale 1/shape.
    scale_sign = -1.0  # the scale predictor is log shape = -log sigma

    def predictors(self, classes=None):
        return [Predictor("log_scale", "log", "mean"), Predictor("log_shape", "log", "scale")]

    def conditional_params(self, etas):
        return {"shape": np.exp(etas[:, 1]), "scale": np.exp(etas[:, 0])}

    def row_mean(self, fitted):
        return fitted["scale"] * special.gamma(1.0 + 1.0 / fitted["shape"])
