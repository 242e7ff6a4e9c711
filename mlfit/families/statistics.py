"""Sufficient statistics that several families share, each mergeable across chunks (`of`, `merge`, `n`).

Means are held rather than sums, and merged in shares of the total weight, so that values near
1e300 or weights of 1e300 do not overflow a running sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .distribution import power_of_two


HISTOGRAM_LIMIT = 1 << 20  # counts beyond this are too many cells to tabulate


class NoSufficientStatistics(Exception):
    """A family whose NLL needs every value (weibull, logistic, cauchy, student_t) was asked to merge
    chunks of a column too big to hold: the caller names the column and the limit."""


def _mean(values: np.ndarray, weights: np.ndarray | None) -> float:
    """The (weighted) mean; where a sum overflows (values near 1e300), in units of a power of two
    near the largest value, which rescales without rounding."""
    if weights is None:
        with np.errstate(over="ignore"):
            mean = float(np.mean(values))  # numpy's pairwise sum: no worse than the scaled one
        if np.isfinite(mean):
            return mean
    size = power_of_two(float(np.max(np.abs(values)))) or 1.0
    scaled = values / size
    if weights is None:
        return float(np.mean(scaled)) * size
    return float((weights / weights.sum()) @ scaled) * size


def _merge_means(a: float, n_a: float, b: float, n_b: float) -> float:
    return a + (b - a) * (n_b / (n_a + n_b))


@dataclass(frozen=True)
class Mean:
    """n and the mean of x: what the exponential needs."""

    n: float
    mean: float

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Mean":
        if weights is not None and not weights.sum() > 0:
            return cls(0.0, 0.0)
        return cls(len(values) if weights is None else float(weights.sum()), _mean(values, weights))

    def merge(self, other: "Mean") -> "Mean":
        if not other.n or not self.n:
            return self if not other.n else other
        return Mean(self.n + other.n, _merge_means(self.mean, self.n, other.mean, other.n))


@dataclass(frozen=True)
class LogMoments:
    """n, the mean of x and the mean of log x: what exponential and gamma need."""

    n: float
    mean: float
    mean_log: float
    low: float = np.inf  # the smallest and largest value (of rows that weigh something): equal,
    high: float = -np.inf  # the likelihood has no maximum

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "LogMoments":
        if weights is not None and not weights.sum() > 0:
            return cls(0.0, 0.0, 0.0)
        logs = np.log(values)
        n = len(values) if weights is None else float(weights.sum())
        mean_log = float(np.mean(logs)) if weights is None else _shared(weights, logs)
        return cls(n, _mean(values, weights), mean_log, *_range(values, weights))

    def merge(self, other: "LogMoments") -> "LogMoments":
        if not other.n or not self.n:
            return self if not other.n else other
        return LogMoments(self.n + other.n, _merge_means(self.mean, self.n, other.mean, other.n),
                          _merge_means(self.mean_log, self.n, other.mean_log, other.n),
                          min(self.low, other.low), max(self.high, other.high))


def _range(values: np.ndarray, weights: np.ndarray | None) -> tuple[float, float]:
    used = values if weights is None else values[weights > 0]
    return float(used.min()), float(used.max())


def _shared(weights: np.ndarray, terms: np.ndarray) -> float:
    """The weighted mean of terms, skipping rows that weigh nothing (0 * -inf would be nan)."""
    used = weights > 0
    return float((weights[used] / weights.sum()) @ terms[used])


@dataclass(frozen=True)
class UnitMoments:
    """For beta: n, the means of log x and log(1 - x), and the mean and variance of x (for the
    method-of-moments start)."""

    n: float
    mean_log: float
    mean_log1m: float
    mean: float
    m2: float  # the sum of squared deviations from the mean (weighted)
    low: float = np.inf  # the smallest and largest value (of rows that weigh something)
    high: float = -np.inf

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "UnitMoments":
        if weights is not None and not weights.sum() > 0:
            return cls(0.0, 0.0, 0.0, 0.0, 0.0)
        logs, logs1m = np.log(values), np.log1p(-values)
        if weights is None:
            mean = float(np.mean(values))
            return cls(len(values), float(np.mean(logs)), float(np.mean(logs1m)), mean,
                       float(np.sum((values - mean) ** 2)), *_range(values, weights))
        n = float(weights.sum())
        mean = _shared(weights, values)
        return cls(n, _shared(weights, logs), _shared(weights, logs1m), mean,
                   n * _shared(weights, (values - mean) ** 2), *_range(values, weights))

    def merge(self, other: "UnitMoments") -> "UnitMoments":
        if not other.n or not self.n:
            return self if not other.n else other
        n = self.n + other.n
        delta = other.mean - self.mean
        return UnitMoments(n, _merge_means(self.mean_log, self.n, other.mean_log, other.n),
                           _merge_means(self.mean_log1m, self.n, other.mean_log1m, other.n),
                           _merge_means(self.mean, self.n, other.mean, other.n),
                           self.m2 + other.m2 + delta * delta * self.n * other.n / n,
                           min(self.low, other.low), max(self.high, other.high))


@dataclass(frozen=True)
class Tally:
    """Each distinct count and the rows (or weight) that hold it: the count families' statistic.
    It holds one entry per distinct value, however many rows there are."""

    values: np.ndarray  # distinct, sorted, float64
    counts: np.ndarray  # rows (or summed weights) per value

    @classmethod
    def of(cls, values: np.ndarray, weights: np.ndarray | None = None) -> "Tally":
        distinct, codes = np.unique(values, return_inverse=True)
        counts = np.bincount(codes.ravel(), weights=weights, minlength=len(distinct)).astype(float)
        return cls(distinct.astype(float), counts)

    def merge(self, other: "Tally") -> "Tally":
        values = np.concatenate([self.values, other.values])
        distinct, codes = np.unique(values, return_inverse=True)
        counts = np.bincount(codes.ravel(), weights=np.concatenate([self.counts, other.counts]),
                             minlength=len(distinct))
        return Tally(distinct, counts)

    @cached_property
    def n(self) -> float:
        return float(self.counts.sum())

    @cached_property
    def mean(self) -> float:
        used = self.counts > 0
        return float((self.counts[used] / self.n) @ self.values[used]) if self.n else 0.0

    @cached_property
    def variance(self) -> float:
        """The mean squared deviation from the mean (the MLE's, divided by n)."""
        used = self.counts > 0
        return float((self.counts[used] / self.n) @ (self.values[used] - self.mean) ** 2) if self.n else 0.0

    def frequency_table(self, log_pmf, survival=None, last: int | None = None):
        """Cells 0, 1, ..., the largest count (or `last`): see count_table. None past
        HISTOGRAM_LIMIT cells."""
        top = int(self.values[-1]) if last is None else last
        if top >= HISTOGRAM_LIMIT:
            return None
        observed = np.bincount(self.values.astype(np.int64), weights=self.counts, minlength=top + 1)
        return count_table(observed, log_pmf, survival)


def count_table(observed: np.ndarray, log_pmf, survival=None):
    """The chi-square table of a count family: cells 0, 1, ..., len(observed) - 1 with their rows
    and model probabilities, then the unseen tail beyond as one more cell when `survival(top)`
    gives P(X > top)."""
    top = len(observed) - 1
    observed = observed.astype(float)
    probabilities = np.exp(log_pmf(np.arange(top + 1, dtype=float)))
    labels = [str(k) for k in range(top + 1)]
    if survival is not None:
        labels.append(f">{top}")
        observed = np.append(observed, 0.0)
        probabilities = np.append(probabilities, survival(top))
    return labels, observed, probabilities


@dataclass(frozen=True)
class Values:
    """Every value (and weight): the statistic of a family with no smaller one. Held in memory
    only up to the in-memory limit: `sketch` refuses to merge chunks beyond it."""

    values: np.ndarray
    weights: np.ndarray | None = None
    in_memory = True  # (see ValuesOnDisk, which answers the same questions a pass at a time)

    @cached_property
    def n(self) -> float:
        return len(self.values) if self.weights is None else float(self.weights.sum())

    def over_rows(self, of, combine=None):
        """of(self): what ValuesOnDisk computes part by part and combines, at hand in one piece."""
        return of(self)

    def extremes(self) -> tuple[float, float]:
        """The smallest and largest value of the rows that weigh something."""
        return _range(self.values, self.weights)

    def heaviest(self) -> tuple[float, float]:
        """The value the most rows (or weight) hold, and that weight."""
        distinct, codes = np.unique(self.values, return_inverse=True)
        weight = np.bincount(codes.ravel(), weights=self.weights, minlength=len(distinct))
        at = int(np.argmax(weight))
        return float(distinct[at]), float(weight[at])

    @cached_property
    def mean_log(self) -> float:
        return self.total_log / self.n

    @cached_property
    def shares(self) -> np.ndarray | None:
        """Each row's share of the total weight (None without weights)."""
        return None if self.weights is None else self.weights / self.weights.sum()

    @cached_property
    def logs(self) -> np.ndarray:
        return np.log(self.values)

    @cached_property
    def total_log(self) -> float:
        return self.total(self.logs)

    def total(self, terms: np.ndarray) -> float:
        """sum_i w_i terms_i (rows that weigh 0 skipped, so an inf there costs nothing)."""
        if self.weights is None:
            return float(np.sum(terms))
        used = self.weights > 0
        return float(self.weights[used] @ terms[used]) if not used.all() else float(self.weights @ terms)

    @cached_property
    def _sorted(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The values sorted once (and their cumulative weights): quantiles are asked for often."""
        if self.weights is None:
            return np.sort(self.values), None
        order = np.argsort(self.values, kind="stable")
        return self.values[order], np.cumsum(self.weights[order])

    @cached_property
    def mad(self) -> float:
        """The median absolute deviation from the median (weighted): a spread half the rows can
        be wrong about without moving it, where the interquartile range tolerates a quarter."""
        deviations = np.abs(self.values - self.quantile(0.5))
        return Values(deviations, self.weights).quantile(0.5)

    def nearest(self, mu: float) -> tuple[float, float]:
        """The value nearest mu (of rows that weigh something) and the weight of the rows holding it."""
        used = self.weights is None or self.weights > 0
        values = self.values if self.weights is None else self.values[used]
        value = values[np.argmin(np.abs(values - mu))]
        at = values == value
        return float(value), float(at.sum() if self.weights is None else self.weights[used][at].sum())

    def quantile(self, q: float) -> float:
        ordered, cumulative = self._sorted
        if cumulative is None:  # numpy's "inverted_cdf": the smallest value with at least a share q at or below it
            return float(ordered[min(max(int(np.ceil(q * len(ordered))) - 1, 0), len(ordered) - 1)])
        return float(ordered[min(np.searchsorted(cumulative, q * cumulative[-1]), len(ordered) - 1)])

    def merge(self, other):
        raise NoSufficientStatistics

    def joined(self, other: "Values", limit: int) -> "Values":
        """Both parts' values in order, while there are at most `limit` (a cluster gathers them in
        a tree, up to the in-memory limit)."""
        if len(self.values) + len(other.values) > limit:
            raise NoSufficientStatistics
        weights = None if self.weights is None else np.concatenate([self.weights, other.weights])
        return Values(np.concatenate([self.values, other.values]), weights)


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
        size = power_of_two(_largest_magnitude(values)) or 1.0
        scaled = values / size
        if weights is None:  # (in place where it can: each pass over a chunk of 10^6 rows counts)
            n = len(values)
            mean = float(np.mean(scaled))
            deviations = np.subtract(scaled, mean, out=scaled)
            spread = _spread(deviations, size)
            deviations /= spread
            first = deviations.sum()
            m2 = float(np.sum(np.multiply(deviations, deviations, out=deviations)) - first ** 2 / n)
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


def _largest_magnitude(values: np.ndarray) -> float:
    return max(float(values.max()), -float(values.min()))  # np.abs(values).max() without the copy


def _spread(deviations: np.ndarray, size: float) -> float:
    """A power of two near the largest deviation (in units of `size`), such that the deviations'
    own unit, spread * size, is a finite float64 even for data spanning -1e308 .. 1e308."""
    spread = (power_of_two(_largest_magnitude(deviations)) if len(deviations) else 0.0) or 1.0
    while not np.isfinite(spread * size):
        spread /= 2
    return spread
