"""Uniform family (low, high): its NLL is n*log(high - low) while every value lies inside, infinite
otherwise. Not a regular model: the support moves with the parameters, so the MLE (the smallest and
largest values) converges at rate 1/n, not 1/sqrt(n), and is not normal: there are no standard
errors or Wald intervals. The likelihood-ratio sets are exact and given instead."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import Family, Parameter, Real
from .distribution import RealLine, power_of_two


@dataclass(frozen=True)
class Range:
    n: float
    low: float
    high: float

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Range":
        used = values if weights is None else values[weights > 0]
        if not len(used):
            return cls(0.0, np.inf, -np.inf)
        return cls(len(values) if weights is None else float(weights.sum()), float(used.min()), float(used.max()))

    def merge(self, other: "Range") -> "Range":
        return Range(self.n + other.n, min(self.low, other.low), max(self.high, other.high))


class Uniform(Family):
    name = "uniform"
    # why `mlfit regress` has no uniform model (a family without a conditional part may say)
    not_conditional = ("its likelihood is 0 outside [low, high], so bounds linear in columns are set by the extreme "
                       "rows alone (a linear program, with no derivatives or standard errors); model the mean with "
                       "another family")
    parameters = (Parameter("low", Real(), in_data_units=True), Parameter("high", Real(), in_data_units=True))
    data_units = {"low": "data", "high": "data"}
    support = RealLine()
    loss = "log of the interval's width (every value inside it)"
    continuous = True
    smooth = False  # the NLL jumps to infinity at the smallest and largest values
    uncensorable = "its likelihood's maximum sits on the data's edges, where it has no gradient to follow"
    example = {"low": -1.0, "high": 3.0}

    def cullen_frey(self, largest):
        return {"point": (0.0, 1.8), "style": "^"}

    def summarize(self, values, weights=None):
        return Range.of(values, weights)

    def degenerate_reason(self, stats, fixed=()):
        if stats.low == stats.high and not fixed:
            return ("every value is the same (or the others weigh nothing next to it), so the uniform likelihood "
                    "has no maximum (high - low -> 0)")
        return None

    def unit(self, stats):
        return power_of_two(stats.high - stats.low) or 1.0

    def reference(self, stats):
        return {"low": stats.low, "high": stats.high}

    def reference_given(self, stats, fixed):
        return {"low": fixed.get("low", stats.low), "high": fixed.get("high", stats.high)}

    def start(self, stats):
        width = stats.high - stats.low
        return {"low": stats.low - width / 2, "high": stats.high + width / 2}

    def kinks(self, stats, name, value):
        # The NLL falls as the interval shrinks, until it meets the data: its edges are the optimum.
        return [stats.low if name == "low" else stats.high]

    def nll(self, stats, params):
        low, high = params["low"], params["high"]
        if not (low <= stats.low and stats.high <= high and high > low):
            return float("inf")
        return float(stats.n * np.log(high - low))

    def objective(self, stats, u):
        return self.nll(stats, self.unpack(u, {"low": 0.0, "high": 0.0}, stats)) / stats.n, None

    def standard_errors(self, stats, params, fixed=()):
        return {"low": None, "high": None}

    def exact_intervals(self, stats, params, threshold, fixed=()):
        # Holding one end, the other's MLE is the data's extreme, and the NLL rises as n*log(width):
        # 2*(NLL - min NLL) <= threshold reaches a factor exp(threshold / (2n)) wider.
        width = stats.high - stats.low
        reach = width * np.expm1(threshold / (2 * stats.n))
        intervals = {"low": (stats.low - reach, stats.low), "high": (stats.high, stats.high + reach)}
        why = ("uniform is not a regular model (its support moves with low and high): no standard errors or Wald "
               "intervals; the intervals given are the likelihood-ratio sets, each end's estimate the data's extreme")
        return {name: interval for name, interval in intervals.items() if name not in fixed}, why

    def log_prob(self, encoded, params):
        low, high = params["low"], params["high"]
        inside = (encoded >= low) & (encoded <= high)
        with np.errstate(divide="ignore"):
            return np.where(inside, -np.log(high - low), -np.inf)

    def log_cdf(self, x, params):
        with np.errstate(divide="ignore"):
            return np.log(np.clip((x - params["low"]) / (params["high"] - params["low"]), 0.0, 1.0))

    def log_sf(self, x, params):
        with np.errstate(divide="ignore"):
            return np.log(np.clip((params["high"] - x) / (params["high"] - params["low"]), 0.0, 1.0))

    def quantile(self, q, params):
        return params["low"] + q * (params["high"] - params["low"])

    def sample(self, rng, params, size):
        return rng.uniform(params["low"], params["high"], size)

    def loss_report(self, stats, params):
        width = params["high"] - params["low"]
        return {"name": self.loss, "log_width": float(np.log(width)),
                "identity": "NLL = n*log(high - low)", "nll_from_loss": float(stats.n * np.log(width))}

    def as_scipy(self, params):
        from scipy import stats

        return stats.uniform(params["low"], params["high"] - params["low"])
