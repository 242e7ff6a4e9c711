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
    log10_likelihood = -nll / math.log(10)
    written_out = whole(weights)
    with np.errstate(under="ignore", over="ignore"):
        likelihoods = np.exp(log_probs if written_out else weights * log_probs)
    precisions = {}
    for name in PRECISIONS:
        info = np.finfo(name)
        smallest, largest = float(info.smallest_subnormal), float(info.max)
        with np.errstate(under="ignore", over="ignore", invalid="ignore"):
            if weights is None or not written_out:
                running = np.cumprod(likelihoods.astype(name))
                first_zero, first_inf = _first(running == 0), _first(np.isinf(running))
            else:
                first_zero, first_inf = _expanded_events(likelihoods.astype(name), weights.astype(np.int64))
        precisions[name] = PrecisionReport(
            precision=name,
            smallest=smallest,
            largest=largest,
            margin_decades=log10_likelihood - math.log10(smallest),
            underflows=log10_likelihood < math.log10(smallest),
            overflows=log10_likelihood > math.log10(largest),
            first_zero_at=first_zero,
            first_inf_at=first_inf,
        )
    n = count(len(log_probs) if weights is None else weights.sum())
    return UnderflowReport(n, log10_likelihood, precisions, weights is not None)


EXPANDED_BLOCK = 1 << 20


def _expanded_events(factors: np.ndarray, counts: np.ndarray) -> tuple[int | None, int | None]:
    """Where the running product of the rows, each repeated `counts` times, first becomes 0.0 or
    inf: multiplied in blocks of expanded rows, the product carried from block to block, so the
    rounding is that of one long sequential product and memory stays bounded."""
    ends = np.cumsum(counts)
    total = int(ends[-1]) if len(ends) else 0
    carry = np.ones(1, dtype=factors.dtype)
    for start in range(0, total, EXPANDED_BLOCK):
        rows = np.searchsorted(ends, np.arange(start, min(start + EXPANDED_BLOCK, total)), side="right")
        running = np.cumprod(np.concatenate((carry, factors[rows])))[1:]
        zero, inf = _first(running == 0), _first(np.isinf(running))
        if zero is not None or inf is not None:
            return (start + zero if zero else None), (start + inf if inf else None)
        carry = running[-1:]
        if np.all(factors[rows[-1]:] == 1):  # nothing left can move the product
            break
    return None, None


def _first(mask: np.ndarray) -> int | None:
    hits = np.flatnonzero(mask)
    return int(hits[0]) + 1 if hits.size else None
