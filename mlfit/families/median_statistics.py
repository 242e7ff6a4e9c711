"""Statistics for sum |x - mu| at any mu, which no fixed-size statistic gives, and the median:
every value in memory (`Sample`), or, for a file too big to hold, a weighted random sample from a
first pass (`Sketch`) that places a bracket around the median, and a second pass that holds only
the values inside it exactly (`Bracket`). Laplace's NLL is built on them; any family whose NLL
needs a sum of absolute deviations (a quantile loss) can be.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .base import NeedsEveryValue, Unevaluable
from .statistics import Moments


def middle(low: float, high: float) -> float:
    """(low + high) / 2, also where low + high would overflow."""
    with np.errstate(over="ignore"):
        middle = 0.5 * (np.float64(low) + high)
    return float(middle if np.isfinite(middle) else 0.5 * low + 0.5 * high)



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
    bracket around the median for pass two.

    Merging keeps the RESERVOIR largest keys of both, and nothing below `floor`, the smallest
    key a full sample holds: no key under it can ever be among the largest. A chunk's rows are
    filtered against it with one comparison, and the sample is cut back to RESERVOIR only once it
    has doubled, so a chunk costs its random keys and a comparison, not a partition."""

    moments: Moments
    low: float
    high: float
    sample: np.ndarray
    keys: np.ndarray
    floor: float = 0.0

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
        keys = np.random.default_rng(seed).random(len(values))
        if weights is not None:
            keys **= 1.0 / weights  # (u^(1/w) with every w = 1 is u itself)
        # (not cut back here: merging filters a chunk's keys against the full sample's floor,
        # which costs a comparison where a partition of every chunk cost a twentieth of a big fit)
        return cls(moments, float(values.min()), float(values.max()), values, keys)

    def merge(self, other: "Sketch") -> "Sketch":
        floor = max(self.floor, other.floor)
        parts = [(s.sample, s.keys) if s.floor >= floor else (s.sample[s.keys >= floor], s.keys[s.keys >= floor])
                 for s in (self, other)]
        merged = Sketch(self.moments.merge(other.moments), min(self.low, other.low), max(self.high, other.high),
                        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), floor)
        return merged._trimmed(2 * RESERVOIR)

    def _trimmed(self, limit: int) -> "Sketch":
        """Cut back to the RESERVOIR largest keys once there are more than `limit`."""
        if len(self.keys) <= limit:
            return self
        keep = np.argpartition(self.keys, -RESERVOIR)[-RESERVOIR:]
        keys = self.keys[keep]
        return Sketch(self.moments, self.low, self.high, self.sample[keep], keys, float(keys.min()))

    def __reduce__(self):
        # Sent elsewhere (a cluster's worker to its merge), a sketch travels as its RESERVOIR
        # largest keys: no other key can be among the largest of all, so nothing is lost, and a
        # file's sketch is 4 MB however many rows it has.
        trimmed = self._trimmed(RESERVOIR)
        return (Sketch, (trimmed.moments, trimmed.low, trimmed.high, trimmed.sample, trimmed.keys, trimmed.floor))

    def bracket_sample(self) -> np.ndarray:
        """The sample the bracket is placed on: the RESERVOIR largest keys' values."""
        return self._trimmed(RESERVOIR).sample


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
    below: float  # the weight of the values under `low`
    above: float  # ... and over `high`
    outside: float  # sum of w*|x - centre| over both
    values: np.ndarray  # the values in [low, high], sorted
    weights: np.ndarray | None  # theirs, when the rows have weights
    lower_median: float
    upper_median: float
    moments: Moments
    constant: bool

    def mean_abs(self, mu: float) -> float:
        """Exact inside the bracket, and beyond an edge with no values past it; elsewhere the
        values between mu and the edge were not kept, and it says so."""
        if (mu < self.low and self.below > 0) or (mu > self.high and self.above > 0):
            raise OutsideBracket(f"mu = {mu} is outside the range [{self.low}, {self.high}] held exactly")
        # |x - mu| is |x - centre| + (mu - centre) under the bracket, |x - centre| - (mu - centre) over it
        outside = self.outside + (self.below - self.above) * (mu - self.centre)
        deviations = np.abs(self.values - mu)
        held = deviations.sum() if self.weights is None else self.weights @ deviations
        return float((outside + held) / self.n)

    def nearest_values(self, mu: float) -> list[float]:
        """The held values nearest mu from below and above (the bracket holds the median's neighbours)."""
        values = self.values if self.weights is None else self.values[self.weights > 0]
        at = int(np.searchsorted(values, mu))
        return [float(values[i]) for i in (at - 1, at) if 0 <= i < len(values)]

    @staticmethod
    def edges(sketch: Sketch) -> tuple[float, float]:
        """Where pass two's bracket lies: eight standard errors of a sample quantile either side of
        the sample's median."""
        sample = np.sort(sketch.bracket_sample())
        margin = 8 * 0.5 / np.sqrt(len(sample)) + 2.0**-12
        return (float(np.quantile(sample, max(0.5 - margin, 0.0))),
                float(np.quantile(sample, min(0.5 + margin, 1.0))))

    @classmethod
    def completed(cls, sketch: Sketch, edges: tuple[float, float], part: "BracketPart") -> "Bracket":
        """The bracket from pass two's rows (a file's, or many files' merged)."""
        low, high = edges
        centre = 0.5 * (low + high)
        below, above, outside = part.below, part.above, part.outside
        values = part.values
        inside_weights = part.weights
        order = np.argsort(values, kind="stable")
        values = values[order]
        weights = None if inside_weights is None else inside_weights[order]
        n = sketch.n
        cumulative = below + (np.arange(1, len(values) + 1) if weights is None else np.cumsum(weights))
        half = n / 2
        first, last = np.searchsorted(cumulative, half, side="left"), np.searchsorted(cumulative, half, side="right")
        if below >= half or last >= len(values):  # the sample misplaced the median's bracket
            raise NeedsEveryValue
        return cls(n, low, high, centre, below, above, outside, values, weights, float(values[first]),
                   float(values[last]), sketch.moments, sketch.low == sketch.high)


@dataclass(frozen=True)
class BracketPart:
    """Pass two over some rows: the weight under and over the bracket, their sum of |x - centre|,
    and the values (and weights) inside it, in file order. Parts of a file's pieces merge."""

    below: float
    above: float
    outside: float
    values: np.ndarray
    weights: np.ndarray | None

    @classmethod
    def of(cls, edges: tuple[float, float], chunks) -> "BracketPart":
        low, high = edges
        centre = 0.5 * (low + high)
        below, above, outside, inside, inside_weights = 0.0, 0.0, 0.0, Growing(), None
        for values, weights in chunks:
            under, over = values < low, values > high
            keep = ~(under | over)
            # One sum of the deviations outside, each rounded once, with those inside zeroed in place
            # (no copies of the rows on either side; a masked sum, where=, took four times as long).
            deviations = np.abs(np.subtract(values, centre))
            deviations[keep] = 0.0
            if weights is None:
                below += float(np.count_nonzero(under))
                above += float(np.count_nonzero(over))
                outside += float(deviations.sum())
            else:
                below += float(weights[under].sum())
                above += float(weights[over].sum())
                outside += float(weights @ deviations)
            inside.extend(values[keep])
            if weights is not None:
                inside_weights = inside_weights or Growing()
                inside_weights.extend(weights[keep])
        return cls(below, above, outside, inside.array(), None if inside_weights is None else inside_weights.array())

    def merge(self, other: "BracketPart") -> "BracketPart":
        if (self.weights is None) != (other.weights is None):
            raise ValueError("a bracket part with weights merges only with another with weights")
        weights = None if self.weights is None else np.concatenate([self.weights, other.weights])
        return BracketPart(self.below + other.below, self.above + other.above, self.outside + other.outside,
                           np.concatenate([self.values, other.values]), weights)


NARROWING_BINS = 1 << 12  # a narrowing pass's bins across the bracket (32 KB of counts per part)


@dataclass(frozen=True)
class BracketCounts:
    """A narrowing pass over some rows, for a bracket that would hold too many values: the weight
    under it and in each of equal bins across it (parts merge by adding: a few KB whatever the
    rows)."""

    below: float
    counts: np.ndarray

    @classmethod
    def of(cls, edges: tuple[float, float], chunks, bins: int = NARROWING_BINS) -> "BracketCounts":
        low, high = edges
        below, counts = 0.0, np.zeros(bins)
        width = high - low
        for values, weights in chunks:
            under = values < low
            inside = ~under & (values <= high)
            below += float(np.count_nonzero(under)) if weights is None else float(weights[under].sum())
            if width > 0:
                at = np.minimum(((values[inside] - low) / width * bins).astype(np.int64), bins - 1)
                counts += np.bincount(at, weights=None if weights is None else weights[inside], minlength=bins)
        return cls(below, counts)

    def merge(self, other: "BracketCounts") -> "BracketCounts":
        return BracketCounts(self.below + other.below, self.counts + other.counts)


def expected_inside(sketch: Sketch, edges: tuple[float, float]) -> float:
    """The weight pass two's bracket will hold, by the first pass's sample."""
    sample = sketch.bracket_sample()
    return sketch.n * float(np.mean((sample >= edges[0]) & (sample <= edges[1]))) if len(sample) else 0.0


def narrowed(sketch: Sketch, edges: tuple[float, float], counted: BracketCounts) -> tuple[tuple[float, float], float]:
    """The bins that hold both middle values, with a bin more on either side (the binning rounds
    at the edges), and the weight inside them; the bracket as it was, with its whole weight, where
    the median is not inside it (pass two then says so)."""
    low, high = edges
    bins = len(counted.counts)
    cumulative = counted.below + np.cumsum(counted.counts)
    half = sketch.n / 2
    first, last = np.searchsorted(cumulative, half, side="left"), np.searchsorted(cumulative, half, side="right")
    if high <= low or counted.below >= half or last >= bins:
        return edges, float(counted.counts.sum())
    start, stop = max(int(first) - 1, 0), min(int(last) + 2, bins)
    width = (high - low) / bins
    return ((low + start * width, high if stop == bins else low + stop * width),
            float(counted.counts[start:stop].sum()))
