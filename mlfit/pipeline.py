"""One way from a family's statistics to a FitResult: estimate by the reference method, minimise the
NLL numerically, compare the two, follow the raw product, test the fit, infer.

A fit of values held in memory and a fit of a file streamed chunk by chunk differ only in how
the statistics were accumulated and in how the rows can be visited again (`Rows`): all at once,
or the first rows kept and the file read once more.
"""

from __future__ import annotations

import numpy as np

from .data import Column, nothing_to_fit, support_values, weighs_nothing
from .errors import DataError
from .fitting import compare, minimize_nll
from .gof import GoodnessOfFit, goodness_of_fit
from .inference import infer
from .options import FitOptions
from .params import resolve
from .result import FitResult
from .underflow import feed, report, running_products, underflow_report
from .weights import count


class InMemory:
    """Every value at hand: the exact goodness of fit, the raw product over every row."""

    def __init__(self, data: Column, values: np.ndarray):
        self.data, self.values, self.weights = data, values, data.weights

    def impossible(self, family, stats, params, fixed) -> DataError:
        encoded = family.encode(self.values, stats)
        row = int(np.flatnonzero(~np.isfinite(family.log_prob(encoded, params)))[0])
        return DataError(f"{self.data.where(row)}: {_show(self.values[row])} has probability 0 {_given(fixed)}",
                         kind="value", row=int(self.data.rows[row]))

    def underflow(self, family, stats, numerical):
        with np.errstate(over="ignore", under="ignore"):  # a density beyond float64 is 0 or inf, as the product would be
            log_probs = family.log_prob(family.encode(self.values, stats), numerical.params)
        return underflow_report(log_probs, numerical.nll, self.weights)

    def goodness_of_fit(self, family, stats, params, options: FitOptions, fixed) -> GoodnessOfFit:
        return goodness_of_fit(family, self.values, stats, params, options.gof_bootstrap, options.seed, fixed,
                               self.weights, options.chisq_cells, options.chisq_breaks)


class Streamed:
    """A column too big to hold: its first rows kept (`prefix`), the rest read again through
    `chunks()` when the raw product has not settled by the end of the prefix."""

    def __init__(self, first: Column, prefix: list[Column], chunks, whole_weights: bool, limit: int):
        self.first, self.prefix, self.chunks = first, prefix, chunks
        self.whole_weights, self.limit = whole_weights, limit
        self.values = self.weights = None

    def impossible(self, family, stats, params, fixed) -> DataError:
        return DataError(f"{self.first.source}: column '{self.first.name}': some row has probability 0 "
                         f"{_given(fixed)}", kind="value")

    def underflow(self, family, stats, numerical):
        products = running_products()

        def follow(parts) -> bool:
            for values, weights in parts:
                feed(products, family.log_prob(family.encode(values, stats), numerical.params), weights,
                     self.whole_weights)
                if all(p.settled for p in products.values()):
                    return True
            return False

        if not follow((part.values, part.weights) for part in self.prefix):
            products = running_products()  # follow the product through the whole source
            follow((support_values(data, family), data.weights) for data in self.chunks())
        return report(products, numerical.nll, count(stats.n), self.first.weights is not None)

    def goodness_of_fit(self, family, stats, params, options: FitOptions, fixed) -> GoodnessOfFit:
        if family.continuous:
            return GoodnessOfFit({}, note=f"no KS, CvM or AD: beyond {self.limit:,} rows they would need every "
                                          "value sorted in memory")
        return goodness_of_fit(family, None, stats, params, 0, options.seed, fixed, None, options.chisq_cells,
                               options.chisq_breaks)


def fit_statistics(family, stats, source: str, name: str, dropped: int, rows: InMemory | Streamed,
                   options: FitOptions) -> FitResult:
    """The fit of `family` to a column summarised by `stats`, whose rows `rows` can visit again."""
    if stats is None:
        raise nothing_to_fit(source, name, dropped)
    if stats.n == 0:
        raise weighs_nothing(source, name)
    fixed = resolve(family, stats, options.fix, complete=False, what="--fix")
    reason = family.degenerate_reason(stats, fixed)
    if reason:
        raise DataError(f"{source}: column '{name}': {reason}", kind="degenerate")
    reference, reference_nll = _reference(family, stats, fixed)
    if reference is not None and not np.isfinite(reference_nll):
        raise rows.impossible(family, stats, reference, fixed)
    numerical = minimize_nll(family, stats, fixed)
    if not np.isfinite(numerical.nll):  # no reference to catch it first: a row no parameter value can explain
        raise rows.impossible(family, stats, numerical.params, fixed)
    return FitResult(
        family=family,
        source=source,
        column=name,
        n=count(stats.n),
        dropped=dropped,
        labels=family.labels(stats),
        numerical=numerical,
        reference_params=reference,
        reference_nll=reference_nll,
        reference_method=family.reference_method if reference is not None else "none",
        comparison=compare(family, stats, numerical, reference, reference_nll),
        underflow=rows.underflow(family, stats, numerical),
        inference=infer(family, stats, numerical.params, numerical.nll, options.level, fixed),
        gof=rows.goodness_of_fit(family, stats, numerical.params, options, fixed),
        fixed=fixed,
        values=rows.values,
        weights=rows.weights,
        stats=stats,
    )


def _reference(family, stats, fixed) -> tuple[dict | None, float | None]:
    """The reference solution with `fixed` held, and its NLL; (None, None) where the family has no
    independent method for it."""
    if family.reference_method == "none" and not fixed:
        return None, None
    try:
        reference = family.reference_given(stats, fixed)
    except NotImplementedError:
        return None, None
    with np.errstate(all="ignore"):
        return reference, family.nll(stats, reference)


def _given(fixed: dict) -> str:
    """Why a row can have probability 0 at the best estimate: what was held."""
    if not fixed:  # every parameter free: only arithmetic beyond float64 could do this
        return "even at the best estimate, beyond what float64 arithmetic can represent"
    held = ", ".join(f"{name}={value:g}" if np.ndim(value) == 0 else name for name, value in fixed.items())
    return f"with {held} fixed, so no parameter value can fit the column"


def _show(value) -> str:
    return repr(str(value)) if isinstance(value, str) else f"{value:g}"
