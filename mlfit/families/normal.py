"""Normal family: its NLL is the mean squared error in disguise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Family, Parameter, Positive, Real, RealLine, power_of_two

HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


@dataclass(frozen=True)
class Moments:
    """Count, mean and sum of squared deviations (M2): mergeable across chunks.

    M2 is held in units of `scale`^2, a power of two near the spread: the squares of deviations
    of 1e-200 underflow to 0 in float64 and those of 1e300 overflow, their scaled squares do
    neither, and scaling by a power of two rounds nothing."""

    n: float  # the number of rows, or the sum of their weights
    mean: float
    scaled_m2: float
    scale: float = 1.0

    @property
    def m2(self) -> float:
        """M2 in the data's units (0.0 or inf where float64 cannot hold it)."""
        with np.errstate(over="ignore", under="ignore"):
            return float(self.scaled_m2 * self.scale * self.scale)

    @property
    def sd(self) -> float:
        """The root mean square deviation from the mean (the MLE of sigma)."""
        return float(np.sqrt(self.scaled_m2 / self.n) * self.scale)

    def mean_square_about(self, mu: float, unit: float) -> float:
        """The mean squared deviation from mu, in units of `unit`^2: finite at any scale."""
        with np.errstate(over="ignore"):  # inf, not an OverflowError, for a search far out
            spread = np.sqrt(self.scaled_m2 / self.n) * (np.float64(self.scale) / unit)
            offset = (np.float64(self.mean) - mu) / unit
            return float(spread * spread + offset * offset)

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Moments":
        # Corrected two-pass: E[x^2] - E[x]^2 would lose every digit on data like 1e7 +- 0.1.
        # Sums are numpy's pairwise ones: a BLAS dot product (@) drifted by ~1e-12 at 10^7 rows.
        # Values are divided by a power of two near the largest (exactly), so that their sum
        # cannot overflow, and deviations by one near the largest deviation.
        if weights is not None and not weights.sum() > 0:  # a chunk of rows that all weigh 0
            return cls(0.0, 0.0, 0.0)
        size = power_of_two(float(np.max(np.abs(values)))) or 1.0
        scaled = values / size
        if weights is None:
            n = len(values)
            mean = float(np.mean(scaled))
            spread = _spread(scaled - mean, size)
            deviations = (scaled - mean) / spread
            m2 = float(np.sum(deviations * deviations) - deviations.sum() ** 2 / n)
        else:
            # in shares of the total weight, so that weights of 1e300 do not overflow the sums
            n = float(weights.sum())
            share = weights / n
            mean = float(np.sum(share * scaled))
            spread = _spread(scaled[weights > 0] - mean, size)
            deviations = (scaled - mean) / spread
            m2 = n * float(np.sum(share * deviations * deviations) - np.sum(share * deviations) ** 2)
        return cls(n, mean * size, max(m2, 0.0), spread * size)

    def merge(self, other: "Moments") -> "Moments":
        """Chan et al.'s pairwise update, which keeps the two-pass accuracy."""
        if not other.n or not self.n:
            return self if not other.n else other
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * (other.n / n)
        scale = max(self.scale, other.scale, power_of_two(abs(delta)))
        mine, theirs, step = self.scale / scale, other.scale / scale, delta / scale
        m2 = self.scaled_m2 * mine * mine + other.scaled_m2 * theirs * theirs + step * step * (self.n * other.n / n)
        return Moments(n, mean, m2, scale)


def _spread(deviations: np.ndarray, size: float) -> float:
    """A power of two near the largest deviation (in units of `size`), such that the deviations'
    own unit, spread * size, is a finite float64 even for data spanning -1e308 .. 1e308."""
    spread = (power_of_two(float(np.max(np.abs(deviations)))) if len(deviations) else 0.0) or 1.0
    while not np.isfinite(spread * size):
        spread /= 2
    return spread


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


class Normal(Family):
    name = "normal"
    parameters = (Parameter("mu", Real(), scale_by="sigma", in_data_units=True),
                  Parameter("sigma", Positive(), in_data_units=True))
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
