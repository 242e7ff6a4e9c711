"""Censored data (fitdistrplus' fitdistcens, scipy's CensoredData): rows known only to lie below a
value (left-censored: a detection limit), above one (right-censored: a survival time not yet
ended) or between two (interval-censored), beside rows observed exactly.

Each row's likelihood is what is known of it: its density where it was observed, its probability
otherwise, all in log space from the family's log_cdf and log_sf (log F(r), log S(l), and
log(F(r) - F(l)) as the log of a difference of exponentials, taken on the side of the median where
it keeps its digits). No family has sufficient statistics for this, so the NLL's derivatives are
numerical (central differences, ~1e-11 relative for the gradient), and the optimiser, the Newton
refinement, the observed information and the profile intervals are those of every other fit.

Input as fitdistrplus takes it, two columns `left` and `right` per row: both equal, observed
exactly; left missing (or -inf), left-censored at right; right missing (or inf), right-censored at
left; left < right, somewhere between. Or a value column and an event column (`--censored`): 1
where the value was observed, 0 where it is right-censored (survival's Surv(time, status)).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from .columns import DEFAULT, ReadOptions, _show, joined
from .data import _as_numbers, iter_columns
from .errors import DataError, UsageError
from .families import get_family
from .families.base import NaturalFamily, Positive
from .fitting import best_fit
from .gof import GoodnessOfFit
from .options import FitOptions
from .pipeline import fit_statistics
from .underflow import underflow_report

KINDS = ("exact", "left", "right", "interval")  # what is known of a row: its value, an upper bound, a lower bound, both


@dataclass(frozen=True)
class CensoredData:
    """The rows of a censored column, in file order: `low` and `high` bound each row's value
    (-inf / inf where a side is unknown; equal where it was observed)."""

    source: str
    name: str
    low: np.ndarray
    high: np.ndarray
    rows: np.ndarray  # each row's 1-based data row in the file
    dropped: int  # rows with neither bound

    @cached_property
    def kinds(self) -> np.ndarray:
        """0 exact, 1 left-censored, 2 right-censored, 3 interval-censored, per row."""
        kinds = np.full(len(self.low), 3)
        kinds[self.low == self.high] = 0
        kinds[np.isneginf(self.low) & np.isfinite(self.high)] = 1
        kinds[np.isfinite(self.low) & np.isposinf(self.high)] = 2
        return kinds

    def counts(self) -> dict:
        kinds = self.kinds
        return {kind: int(np.count_nonzero(kinds == i)) for i, kind in enumerate(KINDS)}

    @classmethod
    def of(cls, low, high, name: str = "x") -> "CensoredData":
        """Rows from in-memory bounds, in fitdistrplus's layout: NaN (or -inf) low where a row is
        left-censored, NaN (or inf) high where it is right-censored, equal where it was observed."""
        low = np.asarray(low, dtype=float)
        high = np.asarray(high, dtype=float)
        if low.shape != high.shape or low.ndim != 1:
            raise UsageError("low and high must be two sequences of the same length")
        low, high = np.where(np.isnan(low), -np.inf, low), np.where(np.isnan(high), np.inf, high)
        rows = np.arange(1, len(low) + 1)
        bad = np.flatnonzero(low > high)
        if bad.size:
            i = bad[0]
            raise DataError(f"<values>: row {rows[i]}: low {_show(low[i])} is greater than high {_show(high[i])}",
                            kind="value", row=int(rows[i]))
        kept = ~(np.isneginf(low) & np.isposinf(high))
        return cls("<values>", name, low[kept], high[kept], rows[kept], int(np.count_nonzero(~kept)))

    def pseudo_values(self) -> np.ndarray:
        """A value per row for starting points and scales: the exact value, the known bound of a
        censored row, the middle of an interval (fitdistrplus starts from the same)."""
        low, high = self.low, self.high
        return np.where(np.isneginf(low), high, np.where(np.isposinf(high), low, 0.5 * low + 0.5 * high))


def read_bounds(source: str, left: str, right: str, options: ReadOptions = DEFAULT) -> CensoredData:
    """Rows bounded by two columns, fitdistrplus' layout (see the module's docstring)."""
    if left == right:
        raise UsageError("--left and --right name the same column; they must be two columns")
    lows, highs = _read_two(source, [left, right], options)
    label = lows.source
    low, high = _aligned(lows, highs)
    low = np.where(np.isnan(low), -np.inf, low)
    high = np.where(np.isnan(high), np.inf, high)
    rows = np.union1d(lows.rows, highs.rows)
    neither = np.isneginf(low) & np.isposinf(high)
    bad = np.flatnonzero(low > high)
    if bad.size:
        i = bad[0]
        raise DataError(f"{label}: row {rows[i]}: left {_show(low[i])} is greater than right {_show(high[i])}",
                        kind="value", row=int(rows[i]))
    dropped = lows.dropped + int(np.count_nonzero(neither)) - (len(rows) - len(lows.rows))
    return CensoredData(label, f"{left}, {right}", low[~neither], high[~neither], rows[~neither], max(dropped, 0))


def read_events(source: str, column: str, event: str, options: ReadOptions = DEFAULT) -> CensoredData:
    """A value column and an event column: 1 (or true) observed, 0 (or false) right-censored."""
    if column == event:
        raise UsageError("--censored names the value column itself; it must name the event column")
    values, events = _read_two(source, [column, event], options)
    label = values.source
    missing = np.setdiff1d(values.rows, events.rows)
    if missing.size:
        raise DataError(f"{label}: column '{event}', row {missing[0]}: the event (1 observed, 0 censored) is "
                        "missing", kind="value", row=int(missing[0]))
    flags = _as_numbers(events, accept_true_false=True)
    bad = np.flatnonzero((flags != 0) & (flags != 1))
    if bad.size:
        i = bad[0]
        raise DataError(f"{events.where(i)}: {_show(events.values[i])} is not 1 (observed) or 0 (right-censored)",
                        kind="value", row=int(events.rows[i]))
    x = _as_numbers(values, accept_true_false=False)
    observed = flags[np.searchsorted(events.rows, values.rows)] == 1
    return CensoredData(label, column, x, np.where(observed, x, np.inf), values.rows, values.dropped)


def read_censored(source: str, column: str | None, left: str | None, right: str | None, censored: str | None,
                  options: ReadOptions = DEFAULT) -> CensoredData:
    """A file's censored column as the commands name it: `left` and `right` bound columns, or
    `column` with a `censored` event column."""
    if censored and (left or right):
        raise UsageError("give --left and --right, or --column with --censored, not both")
    if censored:
        if column is None:
            raise UsageError("--censored names the event column: give the value column with one --column")
        return read_events(source, column, censored, options)
    if not (left and right):
        raise UsageError("--left and --right go together: the lower and upper bound of each row")
    if column is not None:
        raise UsageError("with --left and --right the rows are those two columns: leave out --column")
    return read_bounds(source, left, right, options)


def _read_two(source: str, names: list[str], options: ReadOptions):
    chunks = list(iter_columns(source, names, options=options))
    return joined([chunk[0] for chunk in chunks]), joined([chunk[1] for chunk in chunks])


def _aligned(first, second) -> tuple[np.ndarray, np.ndarray]:
    """Both columns' numbers on the union of their rows, NaN where a column's cell is missing."""
    rows = np.union1d(first.rows, second.rows)
    out = []
    for column in (first, second):
        numbers = np.full(len(rows), np.nan)
        numbers[np.searchsorted(rows, column.rows)] = _as_numbers(column, accept_true_false=False)
        out.append(numbers)
    return out[0], out[1]


@dataclass(frozen=True)
class CensoredStats:
    """A censored column as the wrapped family's fit needs it: each kind of row apart."""

    data: CensoredData
    pseudo: object  # the plain family's statistics of the pseudo-values: scales and starting points
    pseudo_fit: dict  # the plain family's fit to them: the first start (a full search for some families)

    @property
    def n(self) -> int:
        return len(self.data.low)

    @property
    def censoring(self) -> dict:
        """How many rows of each kind: what FitResult reports of a censored fit."""
        return self.data.counts()

    @cached_property  # (read at every evaluation of the NLL)
    def parts(self) -> tuple[np.ndarray, ...]:
        """The exact values, the left-censored rows' bounds, the right-censored rows' bounds, and
        the interval-censored rows' lows and highs."""
        low, high, kinds = self.data.low, self.data.high, self.data.kinds
        return low[kinds == 0], high[kinds == 1], low[kinds == 2], low[kinds == 3], high[kinds == 3]


def log_difference(log_high: np.ndarray, log_low: np.ndarray) -> np.ndarray:
    """log(exp(log_high) - exp(log_low)) for log_low <= log_high, without cancelling digits."""
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = log_low - log_high  # <= 0
        return log_high + np.where(gap > -np.log(2.0), np.log(-np.expm1(gap)), np.log1p(-np.exp(gap)))


def row_log_likelihoods(family, data: CensoredData, params: dict) -> np.ndarray:
    """Each row's log-likelihood in file order: log density, log F(high), log S(low) or
    log(F(high) - F(low))."""
    low, high, kinds = data.low, data.high, data.kinds
    out = np.empty(len(low))
    with np.errstate(all="ignore"):
        exact = kinds == 0
        out[exact] = family.log_prob(family.encode(low[exact], None), params)
        left = kinds == 1
        out[left] = family.log_cdf(high[left], params)
        right = kinds == 2
        out[right] = family.log_sf(low[right], params)
        between = kinds == 3
        out[between] = interval_log_probabilities(family, low[between], high[between], params)
    return out


def interval_log_probabilities(family, low: np.ndarray, high: np.ndarray, params: dict) -> np.ndarray:
    """log(F(high) - F(low)): above the median by the survival function, which holds the digits
    that F(high) - F(low) would lose there."""
    if not len(low):
        return low
    sf_low = family.log_sf(low, params)
    by_cdf = log_difference(family.log_cdf(high, params), family.log_cdf(low, params))
    by_sf = log_difference(sf_low, family.log_sf(high, params))
    return np.where(sf_low < np.log(0.5), by_sf, by_cdf)


class Censored(NaturalFamily):
    """A continuous family fitted to censored rows: the family's parameters, support and
    distribution functions, with the NLL of what is known of each row."""

    reference_method = "none"
    continuous = True
    smooth = True

    def __init__(self, family):
        self.family = family
        self.name = family.name
        self.parameters = family.parameters
        self.support = family.support
        self.loss = "censored NLL: -log density of the exact rows, -log probability of the censored ones"
        self.example = family.example

    def summarize(self, values, weights=None):
        raise NotImplementedError("a censored fit starts from CensoredData, not from values")

    def unit(self, stats):
        return self.family.unit(stats.pseudo)

    def search_bounds(self, stats):
        return self.family.search_bounds(stats.pseudo)

    def start(self, stats):
        return self.starts(stats)[0]

    def starts(self, stats):
        # the plain family's fit to the pseudo-values, then the plain family's own start
        return [stats.pseudo_fit, *self.family.starts(stats.pseudo)]

    def degenerate_reason(self, stats, fixed=()):
        counts = stats.data.counts()
        if counts["exact"] == stats.n:
            return self.family.degenerate_reason(stats.pseudo, fixed)
        return None

    def nll(self, stats, params):
        family = self.family
        exact, left, right, low, high = stats.parts
        with np.errstate(all="ignore"):
            return -float(np.sum(family.log_prob(exact, params)) + np.sum(family.log_cdf(left, params))
                          + np.sum(family.log_sf(right, params))
                          + np.sum(interval_log_probabilities(family, low, high, params)))

    def derivatives(self, stats, params, order=2):
        names = [p.name for p in self.parameters]
        theta = np.array([float(params[name]) for name in names])

        def nll(at):
            with np.errstate(all="ignore"):
                return self.nll(stats, {**params, **dict(zip(names, at))})

        def gradient(at):
            steps = GRADIENT_STEP * self._scales(stats, at)
            return np.array([(nll(_moved(at, i, at[i] + h)) - nll(_moved(at, i, at[i] - h))) / (2 * h)
                             for i, h in enumerate(steps)])

        value = nll(theta)
        if order == 0:
            return value, None, None
        if order == 1:
            return value, gradient(theta), None
        steps = HESSIAN_STEP * self._scales(stats, theta)
        hessian = np.array([(gradient(_moved(theta, j, theta[j] + h)) - gradient(_moved(theta, j, theta[j] - h)))
                            / (2 * h) for j, h in enumerate(steps)])
        return value, gradient(theta), 0.5 * (hessian + hessian.T)

    def _scales(self, stats, theta):
        # a positive parameter's own size (theta - h stays positive), a location's data scale
        unit = self.unit(stats)
        return np.array([abs(value) if isinstance(p.constraint, Positive) and np.isfinite(value)
                         else max(abs(value), unit if p.in_data_units else 1.0)
                         for p, value in zip(self.parameters, theta)])

    def log_prob(self, encoded, params):
        return self.family.log_prob(encoded, params)

    def log_cdf(self, x, params):
        return self.family.log_cdf(x, params)

    def log_sf(self, x, params):
        return self.family.log_sf(x, params)

    def quantile(self, q, params):
        return self.family.quantile(q, params)

    def sample(self, rng, params, size):
        return self.family.sample(rng, params, size)

    def as_scipy(self, params):
        return self.family.as_scipy(params)

    def loss_report(self, stats, params):
        counts = stats.data.counts()
        return {"name": self.loss, **{f"{kind}_rows": count for kind, count in counts.items()},
                "identity": "NLL = -sum log f(x) over exact rows - sum log F(r) over left-censored "
                            "- sum log S(l) over right-censored - sum log(F(r) - F(l)) over interval-censored",
                "nll_from_loss": self.nll(stats, params)}


# Central differences, relative steps: the gradient's truncation (~h^2) and rounding (~1e-16/h) errors
# meet near 1e-11 at h = 6e-6, far below what the Newton decrement's 1e-8 asks; the Hessian (the
# gradient's differences) is good to ~1e-7, all that standard errors and Newton's steps need.
GRADIENT_STEP = 6e-6
HESSIAN_STEP = 1e-4


def _moved(theta: np.ndarray, i: int, value: float) -> np.ndarray:
    moved = theta.copy()
    moved[i] = value
    return moved


class CensoredRows:
    """The rows of a censored fit, for the pipeline: no EDF tests (they need exact values), the raw
    product of each row's likelihood in file order, the first row no parameter value can explain."""

    def __init__(self, data: CensoredData):
        self.data, self.values, self.weights = data, None, None

    def impossible(self, family, stats, params, fixed) -> DataError:
        logs = row_log_likelihoods(family.family, self.data, params)
        return _impossible(family, self.data, int(np.flatnonzero(~np.isfinite(logs))[0]) if
                           (~np.isfinite(logs)).any() else 0)

    def underflow(self, family, stats, numerical):
        return underflow_report(row_log_likelihoods(family.family, self.data, numerical.params), numerical.nll,
                                None)

    def goodness_of_fit(self, family, stats, params, options, fixed) -> GoodnessOfFit:
        if stats.data.counts()["exact"] == stats.n:
            from .gof import goodness_of_fit

            return goodness_of_fit(family.family, stats.data.low, stats.pseudo, params, options.gof_bootstrap,
                                   options.seed, fixed, None, options.chisq_cells, options.chisq_breaks)
        return GoodnessOfFit({}, note="no KS, CvM or AD: censored rows have no value to place on the EDF")


def fit_censored(data: CensoredData, distribution: str, **options):
    """The fit of a continuous family to censored rows; a FitResult like any other, its
    `censoring` the count of each kind of row."""
    settings = FitOptions.of(**options)
    family = get_family(distribution, settings.trials)
    if not family.continuous:
        raise UsageError(f"{family.name} is not a continuous family: censored data needs a density and a CDF")
    if family.uncensorable:
        raise UsageError(f"{family.name} is not fitted to censored data: {family.uncensorable}")
    if not len(data.low):
        raise DataError(f"{data.source}: columns {data.name}: no row has a value or a bound to fit", kind="empty")
    _check_support(family, data)
    pseudo = data.pseudo_values()
    inside = ~family.support.violations(pseudo)  # (a censored row's bound may lie beyond the support)
    if not inside.any():
        raise _impossible(family, data, 0)
    summary = family.summarize(pseudo[inside])
    stats = CensoredStats(data, summary, best_fit(family, summary))
    # The support does not move with the parameters here, so a row of probability 0 at the plain
    # fit of the pseudo-values has it at every parameter value: say so now, naming the row.
    with np.errstate(all="ignore"):
        logs = row_log_likelihoods(family, data, stats.pseudo_fit)
    if np.isneginf(logs).any():
        raise _impossible(family, data, int(np.flatnonzero(np.isneginf(logs))[0]))
    if not data.counts()["exact"]:  # before intervals are sought along a climb that never ends
        from .fitting import minimize_nll

        _check_maximum(family, data, minimize_nll(Censored(family), stats))
    return fit_statistics(Censored(family), stats, data.source, data.name, data.dropped, CensoredRows(data), settings)


# Censored rows alone have probabilities, at most 1 each: a fitted likelihood within this of 1 was
# reached by running to the edge of the parameter space, not at a maximum.
LIKELIHOOD_ONE = 1e-8


def _check_maximum(family, data: CensoredData, searched) -> None:
    """Where no row was observed exactly and the rows' bounds share values (every row right-censored
    at or below 11, say), one distribution piled on those shared values gives every row probability 1:
    the likelihood climbs towards 1 as the parameters run off (weibull's scale to infinity, a normal's
    sigma to 0) and has no maximum. The fit found that climb (its NLL within 1e-8 of 0): say so."""
    if data.counts()["exact"] or not searched.nll < LIKELIHOOD_ONE * max(1.0, float(len(data.low))):
        return
    low, high = float(np.max(data.low)), float(np.min(data.high))
    shared = (f"values of at least {low:g}" if np.isposinf(high) else f"values of at most {high:g}" if np.isneginf(low)
              else f"the values from {low:g} to {high:g}" if low <= high else "common values")
    where = ", ".join(f"{name} {float(value):.4g}" for name, value in searched.params.items() if np.ndim(value) == 0)
    raise DataError(f"{data.source}: columns {data.name}: every row is censored and all admit {shared}, "
                    f"so the {family.name} likelihood rises towards 1 without a maximum (the search ran off to {where}); "
                    "censored rows need some exactly observed values, or bounds that disagree", kind="degenerate")


def _check_support(family, data: CensoredData) -> None:
    """An exactly observed value the family cannot produce is an error naming its row."""
    exact = data.kinds == 0
    bad = np.flatnonzero(exact)[family.support.violations(data.low[exact])]
    if bad.size:
        i = bad[0]
        raise DataError(f"{data.source}: columns {data.name}, row {data.rows[i]}: {_show(data.low[i])} is not "
                        f"{family.support.description}, which {family.name} needs", kind="value",
                        row=int(data.rows[i]))


def _impossible(family, data: CensoredData, i: int) -> DataError:
    low, high = data.low[i], data.high[i]
    where = f"[{_show(low)}, {_show(high)}]" if low != high else _show(low)
    return DataError(f"{data.source}: columns {data.name}, row {data.rows[i]}: {where} has probability 0 under "
                     f"every {family.name}, which needs {family.support.description}", kind="value",
                     row=int(data.rows[i]))
