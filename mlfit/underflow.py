"""What the raw likelihood (the plain product of per-row probabilities) would do in floating point.

This is the reason mlfit works in log space: the product of a few hundred densities below 1
is smaller than any float64, and the product of densities above 1 outgrows every float64.
The row where it happens is found by really multiplying, in file order, in each precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .weights import count, whole

PRECISIONS = ("float64", "float32", "float16")


@dataclass(frozen=True)
class PrecisionReport:
    precision: str
    smallest: float  # the smallest positive (subnormal) value of the type
    largest: float
    margin_decades: float  # log10(likelihood) - log10(smallest); negative = the product underflows
    underflows: bool  # the likelihood is below the smallest positive value
    overflows: bool  # the likelihood is above the largest finite value
    first_zero_at: int | None  # 1-based count of values multiplied when the product became 0.0
    first_inf_at: int | None  # likewise for inf

    def to_dict(self) -> dict:
        return {
            "smallest": self.smallest,
            "largest": self.largest,
            "margin_decades": self.margin_decades,
            "underflows": self.underflows,
            "overflows": self.overflows,
            "first_zero_at": self.first_zero_at,
            "first_inf_at": self.first_inf_at,
        }


@dataclass(frozen=True)
class UnderflowReport:
    n: int | float  # rows multiplied (with weights, rows as if each were written out weight times)
    log10_likelihood: float
    precisions: dict  # {"float64": PrecisionReport, ...}
    weighted: bool = False

    def to_dict(self) -> dict:
        return {"log10_likelihood": self.log10_likelihood,
                **{name: report.to_dict() for name, report in self.precisions.items()}}

    def explanation(self) -> str:
        """The report in plain words, for people."""
        f64 = self.precisions["float64"]
        rows = f"{self.n:,} row" + ("" if self.n == 1 else "s")
        if self.weighted:
            rows += " (each row counted as many times as its weight)"
        head = f"The raw likelihood of these {rows} is 10^{self.log10_likelihood:.1f}"
        if f64.first_zero_at is not None:
            return (f"{head}; float64 cannot go below 10^{math.log10(f64.smallest):.1f}, so multiplying "
                    f"the rows in file order hits 0.0 at row {f64.first_zero_at:,} - this is why mlfit "
                    f"works in log space.")
        if f64.first_inf_at is not None:
            return (f"{head}; the densities exceed 1, so multiplying the rows in file order overflows "
                    f"float64 to inf at row {f64.first_inf_at:,} - this is why mlfit works in log space.")
        lower = [name for name in PRECISIONS[1:] if self.precisions[name].first_zero_at is not None
                 or self.precisions[name].first_inf_at is not None]
        if lower:
            events = ", ".join(_event(self.precisions[name]) for name in lower)
            return (f"{head}; float64 holds it ({f64.margin_decades:.0f} decades to spare), but {events}"
                    f" - with more rows float64 fails too, which is why mlfit works in log space.")
        return f"{head}: every precision holds the raw product of these rows, but more rows would not."


def _event(report: PrecisionReport) -> str:
    if report.first_zero_at is not None:
        return f"{report.precision} hits 0.0 at row {report.first_zero_at:,}"
    return f"{report.precision} overflows to inf at row {report.first_inf_at:,}"


def underflow_report(log_probs: np.ndarray, nll: float, weights: np.ndarray | None = None) -> UnderflowReport:
    """`log_probs` are the per-row log-likelihoods in file order; `nll` their (weighted) negated sum.

    With whole-number weights each row is multiplied in weight times, exactly as if it were written
    out that often; with fractional weights each row contributes its likelihood to the power w."""
    products = running_products()
    feed(products, log_probs, weights)
    n = count(len(log_probs) if weights is None else weights.sum())
    return report(products, nll, n, weights is not None)


def running_products() -> dict:
    return {name: RunningProduct(name) for name in PRECISIONS}


def feed(products: dict, log_probs: np.ndarray, weights: np.ndarray | None = None,
         written_out: bool | None = None) -> None:
    """Multiply the next rows (in file order) into each precision's running product. Whole-number
    weights write rows out (a row of weight w is multiplied in w times); `written_out` says so
    for the whole column when these rows are a part of it (a part's weights may all be whole
    while the column's are not). Otherwise each row contributes its likelihood to the power w."""
    written_out = whole(weights) if written_out is None else written_out
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        likelihoods = np.exp(log_probs if written_out else weights * log_probs)
    for product in products.values():
        product.feed(likelihoods, weights if weights is not None and written_out else None)


def report(products: dict, nll: float, n, weighted: bool) -> UnderflowReport:
    log10_likelihood = -nll / math.log(10)
    precisions = {}
    for name, product in products.items():
        info = np.finfo(name)
        smallest, largest = float(info.smallest_subnormal), float(info.max)
        precisions[name] = PrecisionReport(
            precision=name,
            smallest=smallest,
            largest=largest,
            margin_decades=log10_likelihood - math.log10(smallest),
            underflows=log10_likelihood < math.log10(smallest),
            overflows=log10_likelihood > math.log10(largest),
            first_zero_at=product.first_zero_at,
            first_inf_at=product.first_inf_at,
        )
    return UnderflowReport(n, log10_likelihood, precisions, weighted)


@dataclass(frozen=True)
class LogPath:
    """Some rows' log-likelihoods added up in file order: how many rows were multiplied, their sum,
    and the lowest and highest partial sum from their start (0 included). Parts of a data set
    summarised this way, in parallel, say where the raw product can come near a precision's limits:
    nowhere else can it become 0.0 or inf."""

    rows: int | float
    total: float
    low: float
    high: float

    @classmethod
    def of(cls, log_probs: np.ndarray, weights: np.ndarray | None, written_out: bool, precision: str) -> "LogPath":
        """The path of the factors `feed` multiplies into `precision`'s product: each row's likelihood
        (to the power w, unless rows are written out w times) rounded to that precision."""
        with np.errstate(invalid="ignore", over="ignore", under="ignore", divide="ignore"):
            powered = log_probs if weights is None or written_out else weights * log_probs
            factors = np.log(np.exp(powered).astype(precision).astype(float))
            terms = factors if weights is None or not written_out else np.where(weights > 0, weights * factors, 0.0)
            partial = np.cumsum(terms)
        rows = len(terms) if weights is None or not written_out else float(weights.sum())
        if not len(partial):
            return cls(0, 0.0, 0.0, 0.0)
        return cls(count(rows), float(partial[-1]), min(0.0, float(partial.min())), max(0.0, float(partial.max())))

    def then(self, other: "LogPath") -> "LogPath":
        return LogPath(count(self.rows + other.rows), self.total + other.total, min(self.low, self.total + other.low),
                       max(self.high, self.total + other.high))


# The product is multiplied for real from the first part whose partial sums (of the logs of the
# factors as rounded to the precision) come within this many decades of its normal range's ends;
# before it, it jumps ahead by logarithms. The real product differs from exp(sum) by the rounding of
# its multiplications alone (a random walk of ~sqrt(n) roundings: under 100x for a skipped stretch of
# up to ~10^7 rows in float16, vastly more in float32 and float64; a float16 factor of exactly 1, the
# way such a stretch arises, rounds nothing), so it cannot reach 0 or inf there (RunningProduct._power
# jumps in the same way).
NEAR_THE_LIMIT = 2 * math.log(10)


def log_paths(log_probs: np.ndarray, weights: np.ndarray | None, written_out: bool) -> dict:
    """Each precision's LogPath of these rows."""
    return {precision: LogPath.of(log_probs, weights, written_out, precision) for precision in PRECISIONS}


def joined_paths(a: dict, b: dict) -> dict:
    return {precision: a[precision].then(b[precision]) for precision in a}


def starting_points(paths: list[dict]) -> dict:
    """For each precision, where its running product must be multiplied for real: (the index of
    the first part that comes near its limits, the log of the product before it, the rows before
    it); a precision whose product stays far from its limits throughout is left out. `paths`: each
    part's log_paths, in order."""
    starts = {}
    for precision in PRECISIONS:
        info = np.finfo(precision)
        lower, upper = math.log(float(info.tiny)) + NEAR_THE_LIMIT, math.log(float(info.max)) - NEAR_THE_LIMIT
        before = LogPath(0, 0.0, 0.0, 0.0)
        for k, part in enumerate(paths):
            path = part[precision]
            if before.total + path.low < lower or before.total + path.high > upper:
                starts[precision] = (k, before.total, before.rows)
                break
            before = before.then(path)
    return starts


BLOCK = 1 << 20
FIRST_BLOCK = 1 << 10
# A row whose weight is more than this is multiplied in this many times for real, then advanced
# by logarithms: a weight of 1e15 must not mean 1e15 multiplications.
REPEATS = 1 << 12


class RunningProduct:
    """The product of the row likelihoods in one precision, fed a chunk of rows at a time and
    carried from chunk to chunk, so its rounding is that of one long sequential product. It
    remembers where it first became 0.0 or inf; after that nothing can change it."""

    def __init__(self, precision: str):
        self.precision = precision
        self.carry = np.ones(1, dtype=precision)
        self.rows = 0  # rows multiplied so far (written-out rows, with whole-number weights)
        self.first_zero_at: int | float | None = None
        self.first_inf_at: int | float | None = None

    @property
    def settled(self) -> bool:
        return self.first_zero_at is not None or self.first_inf_at is not None

    def resume(self, log_product: float, rows) -> None:
        """Go on from a product known by its logarithm after `rows` rows (one far from the limits)."""
        self.carry = np.array([math.exp(log_product)], dtype=self.precision)
        self.rows = rows

    def feed(self, likelihoods: np.ndarray, counts: np.ndarray | None = None) -> None:
        """`counts`: how many times each row is multiplied in (whole numbers, any size)."""
        if self.settled:
            return
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            factors = likelihoods.astype(self.precision)
            if counts is None:
                self._multiply(factors)
                return
            start = 0
            for big in [*np.flatnonzero(counts > REPEATS), len(factors)]:
                if big > start:
                    self._repeat_each(factors[start:big], counts[start:big].astype(np.int64))
                if big < len(factors) and not self.settled:
                    self._power(factors[big], float(counts[big]))
                if self.settled:
                    return
                start = big + 1

    def _repeat_each(self, factors: np.ndarray, counts: np.ndarray) -> None:
        ends = np.cumsum(counts)
        total = int(ends[-1]) if len(ends) else 0
        for start in range(0, total, BLOCK):  # written out a block at a time: bounded memory
            stop = min(start + BLOCK, total)
            rows = np.searchsorted(ends, np.arange(start, stop), side="right")
            self._multiply(factors[rows])
            if self.settled:
                return
            if np.all(factors[rows[-1]:] == 1):  # the rest of these rows cannot move it
                self.rows += total - stop
                return

    def _power(self, factor, times: float) -> None:
        """One row multiplied in `times` times. Blocks of REPEATS are multiplied for real; between
        them the product jumps ahead by logarithms, but only while it stays among the normal
        numbers short of the limit: the subnormal range, where rounding can stop the product
        short of 0.0 for good, and the last steps before inf are always multiplied for real."""
        info = np.finfo(self.precision)
        remaining = times
        while remaining > 0:
            block = min(remaining, REPEATS)
            self._multiply(np.full(int(block), factor))
            remaining -= block
            carry = self.carry[0]
            if self.settled or remaining <= 0:
                return
            if carry * factor == carry:  # a fixed point of rounding: more of the same changes nothing
                self.rows = _whole(self.rows + remaining)
                return
            if carry < info.tiny and 0.5 < factor < 1:
                # Among the subnormals a product is m units of the smallest one, and m * factor
                # rounds back to m once m * (1 - factor) < 1/2: it stops there for good, short of
                # 0.0 (only a factor of 1/2 or less takes it to 0, within ~1,100 real steps). The
                # descent there can take 10^8 steps for a factor near 1: it is not walked.
                smallest = float(info.smallest_subnormal)
                units = min(round(float(carry) / smallest), math.floor(0.5 / (1 - float(factor))))
                self.carry = np.array([units * smallest], dtype=self.precision)
                self.rows = _whole(self.rows + remaining)
                return
            log_carry, log_factor = math.log(float(carry)), math.log(float(factor))
            edge = math.log(float(info.tiny)) if log_factor < 0 else math.log(float(info.max))
            steps = min(math.floor((edge - log_carry) / log_factor) - 1, remaining)
            if steps > 0:
                self.carry = np.array([math.exp(log_carry + steps * log_factor)], dtype=self.precision)
                self.rows = _whole(self.rows + steps)
                remaining -= steps

    def _multiply(self, factors: np.ndarray) -> None:
        # Most products settle within a few thousand rows: blocks start small and double.
        start, size = 0, FIRST_BLOCK
        while start < len(factors):
            running = np.cumprod(np.concatenate((self.carry, factors[start: start + size])))[1:]
            start, size = start + size, min(2 * size, BLOCK)
            zero, inf = _first(running == 0), _first(np.isinf(running))
            if zero is not None:
                self.first_zero_at = _whole(self.rows + zero)
            elif inf is not None:
                self.first_inf_at = _whole(self.rows + inf)
            if self.settled:
                return
            self.carry = running[-1:]
            self.rows = _whole(self.rows + len(running))


def _whole(rows):
    """A row count as an exact int while float64 holds it exactly, as a float beyond."""
    return count(rows)


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) + 1 if hits.size else None
