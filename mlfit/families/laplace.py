"""Laplace family: its NLL is the mean absolute error in disguise."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .base import Family, NeedsEveryValue, Parameter, Positive, Real, RealLine, Unevaluable, power_of_two
from .normal import Moments, standardized


LOG_2 = float(np.log(2.0))


def _middle(low: float, high: float) -> float:
    """(low + high) / 2, also where low + high would overflow."""
    with np.errstate(over="ignore"):
        middle = 0.5 * (np.float64(low) + high)
    return float(middle if np.isfinite(middle) else 0.5 * low + 0.5 * high)


def _standardized(x, params):
    """(x - mu) / b, also where x - mu alone would overflow."""
    return standardized(x, {"mu": params["mu"], "sigma": params["b"]})


class OutsideBracket(Unevaluable, ValueError):
    """sum |x - mu| asked for at a mu the streamed statistics do not hold exactly."""


@dataclass(frozen=True)
class Sample:
    """The laplace NLL needs sum |x - mu| for any mu, which no fixed-size statistic gives:
    the values themselves are the sufficient statistic (held as float64, 8 bytes a row)."""

    values: np.ndarray
    lower_median: float
    upper_median: float
    weights: np.ndarray | None = None

    @property
    def n(self) -> float:
        return len(self.values) if self.weights is None else float(self.weights.sum())

    def mean_abs(self, mu: float) -> float:
        """Mean absolute deviation from mu (weighted): the MAE of predicting mu for every row."""
        with np.errstate(over="ignore"):
            deviations = np.abs(self.values - mu)
            mean = np.mean(deviations) if self.weights is None else self.shares @ deviations
        if not np.isfinite(mean):  # a deviation or their sum past 1.7e308; their mean need not be
            unit = self.moments.scale
            deviations = np.abs(self.values / unit - mu / unit)
            mean = (np.mean(deviations) if self.weights is None else self.shares @ deviations) * unit
        return float(mean)

    @cached_property  # (read at every evaluation of the objective)
    def shares(self) -> np.ndarray:
        return self.weights / self.weights.sum()

    @property
    def constant(self) -> bool:
        counted = self.values if self.weights is None else self.values[self.weights > 0]
        return bool(counted.min() == counted.max())

    def nearest_values(self, mu: float) -> list[float]:
        """The values (of rows that weigh something) nearest mu from below and from above."""
        counted = self.values if self.weights is None else self.values[self.weights > 0]
        below, above = counted[counted <= mu], counted[counted >= mu]
        return [float(x) for x in (below.max() if len(below) else None, above.min() if len(above) else None)
                if x is not None]

    @cached_property
    def moments(self) -> Moments:
        return Moments.of(self.values, self.weights)

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Sample":
        if weights is not None:
            # The middle of the rows each repeated by its weight: where the cumulative weight
            # first reaches half the total, and first passes it.
            order = np.argsort(values, kind="stable")
            cumulative = np.cumsum(weights[order])
            half = cumulative[-1] / 2
            lower = float(values[order[np.searchsorted(cumulative, half, side="left")]])
            upper = float(values[order[np.searchsorted(cumulative, half, side="right")]])
            return cls(values, lower, upper, weights)
        n = len(values)
        k = n // 2
        # One partition selects both middle order statistics (np.median would sort more).
        part = np.partition(values, k)
        upper = float(part[k])
        lower = float(part[:k].max()) if n % 2 == 0 else upper
        return cls(values, lower, upper)


RESERVOIR = 1 << 18  # rows sampled in pass one to place the bracket (2 MB of values)


@dataclass(frozen=True)
class Sketch:
    """Pass one over a big file: the weighted moments (for the optimiser's start), the range, and
    a weighted random sample (Efraimidis-Spirakis keys u^(1/w), the largest kept) that places a
    bracket around the median for pass two."""

    moments: Moments
    low: float
    high: float
    sample: np.ndarray
    keys: np.ndarray

    @property
    def n(self) -> float:
        return self.moments.n

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None, seed: int) -> "Sketch":
        moments = Moments.of(values, weights)
        if weights is not None:  # a row that weighs 0 is not in the data at all
            values, weights = values[weights > 0], weights[weights > 0]
        if not len(values):
            return cls(moments, np.inf, -np.inf, values, np.zeros(0))
        w = np.ones(len(values)) if weights is None else weights
        keys = np.random.default_rng(seed).random(len(values)) ** (1.0 / w)
        return cls(moments, float(values.min()), float(values.max()), values, keys)._trim()

    def merge(self, other: "Sketch") -> "Sketch":
        return Sketch(self.moments.merge(other.moments), min(self.low, other.low), max(self.high, other.high),
                      np.concatenate((self.sample, other.sample)), np.concatenate((self.keys, other.keys)))._trim()

    def _trim(self) -> "Sketch":
        if len(self.keys) <= RESERVOIR:
            return self
        keep = np.argpartition(self.keys, -RESERVOIR)[-RESERVOIR:]
        return Sketch(self.moments, self.low, self.high, self.sample[keep], self.keys[keep])


class Growing:
    """A float64 array that doubles as it fills. Hundreds of small arrays, each kept alive
    between large short-lived ones, fragment the heap: RSS grew by 800 MB on 10^8 rows."""

    def __init__(self):
        self.data, self.size = np.empty(1 << 16), 0

    def extend(self, more: np.ndarray) -> None:
        if self.size + len(more) > len(self.data):
            grown = np.empty(max(2 * len(self.data), self.size + len(more)))
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size: self.size + len(more)] = more
        self.size += len(more)

    def array(self) -> np.ndarray:
        return self.data[: self.size].copy()


@dataclass(frozen=True)
class Bracket:
    """Pass two: the values between two sample quantiles around the median, exactly, and only the
    weight and centred sum of the values on either side. That is enough for sum |x - mu| at every
    mu in between, exactly, in memory proportional to the bracket, not to the file."""

    n: float
    low: float
    high: float
    centre: float
    below: tuple[float, float]  # (weight, sum of w*(x - centre)) of the values under `low`
    above: tuple[float, float]
    values: np.ndarray  # the values in [low, high], sorted
    weights: np.ndarray | None  # theirs, when the rows have weights
    lower_median: float
    upper_median: float
    moments: Moments
    constant: bool

    def mean_abs(self, mu: float) -> float:
        """Exact inside the bracket, and beyond an edge with no values past it; elsewhere the
        values between mu and the edge were not kept, and it says so."""
        if (mu < self.low and self.below[0] > 0) or (mu > self.high and self.above[0] > 0):
            raise OutsideBracket(f"mu = {mu} is outside the range [{self.low}, {self.high}] held exactly")
        offset = mu - self.centre
        outside = (self.below[0] * offset - self.below[1]) + (self.above[1] - self.above[0] * offset)
        deviations = np.abs(self.values - mu)
        held = deviations.sum() if self.weights is None else self.weights @ deviations
        return float((outside + held) / self.n)

    def nearest_values(self, mu: float) -> list[float]:
        """The held values nearest mu from below and above (the bracket holds the median's neighbours)."""
        values = self.values if self.weights is None else self.values[self.weights > 0]
        at = int(np.searchsorted(values, mu))
        return [float(values[i]) for i in (at - 1, at) if 0 <= i < len(values)]

    @classmethod
    def of(cls, sketch: Sketch, values_again) -> "Bracket":
        sample = np.sort(sketch.sample)
        margin = 8 * 0.5 / np.sqrt(len(sample)) + 2.0**-12  # eight standard errors of a sample quantile
        low = float(np.quantile(sample, max(0.5 - margin, 0.0)))
        high = float(np.quantile(sample, min(0.5 + margin, 1.0)))
        centre = 0.5 * (low + high)
        below, above, inside, inside_weights = [0.0, 0.0], [0.0, 0.0], Growing(), None
        for values, weights in values_again():
            w = np.ones(len(values)) if weights is None else weights
            under, over = values < low, values > high
            below[0] += float(w[under].sum())
            below[1] += float(w[under] @ (values[under] - centre))
            above[0] += float(w[over].sum())
            above[1] += float(w[over] @ (values[over] - centre))
            keep = ~(under | over)
            inside.extend(values[keep])
            if weights is not None:
                inside_weights = inside_weights or Growing()
                inside_weights.extend(weights[keep])
        values = inside.array()
        order = np.argsort(values, kind="stable")
        values = values[order]
        weights = None if inside_weights is None else inside_weights.array()[order]
        n = sketch.n
        cumulative = below[0] + (np.arange(1, len(values) + 1) if weights is None else np.cumsum(weights))
        half = n / 2
        first, last = np.searchsorted(cumulative, half, side="left"), np.searchsorted(cumulative, half, side="right")
        if below[0] >= half or last >= len(values):  # the sample misplaced the median's bracket
            raise NeedsEveryValue
        return cls(n, low, high, centre, tuple(below), tuple(above), values, weights, float(values[first]),
                   float(values[last]), sketch.moments, sketch.low == sketch.high)


class Laplace(Family):
    name = "laplace"
    parameters = (Parameter("mu", Real(), scale_by="b", in_data_units=True),
                  Parameter("b", Positive(), in_data_units=True))
    support = RealLine()
    loss = "mean absolute error"
    example = {"mu": 1.0, "b": 2.0}
    smooth = False  # |x - mu| has a kink at every data point
    continuous = True

    def summarize(self, values, weights=None):
        return Sample.of(values, weights)

    def sketch(self, values, weights=None, seed=0):
        return Sketch.of(values, weights, seed)

    def finish(self, sketch, values_again):
        """The median needs a second pass over a file too big to hold: see Bracket."""
        return Bracket.of(sketch, values_again)

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
        mu = _middle(stats.lower_median, stats.upper_median)
        return {"mu": mu, "b": stats.mean_abs(mu)}

    def reference_given(self, stats, fixed):
        if set(fixed) == {"b"}:  # the median whatever b is
            return {"mu": _middle(stats.lower_median, stats.upper_median), "b": fixed["b"]}
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
        mu = _middle(stats.lower_median, stats.upper_median)
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
