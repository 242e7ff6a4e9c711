"""One way from a family's statistics to a FitResult: estimate by the reference method, minimise the
NLL numerically, compare the two, follow the raw product, test the fit, infer.

A fit of values held in memory and a fit of a file streamed chunk by chunk differ only in how
the statistics were accumulated and in how the rows can be visited again (`Rows`): all at once,
or the first rows kept and the file read once more.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .columns import Column
from .data import nothing_to_fit, support_values, weighs_nothing
from .columns import _show as show
from .errors import DataError
from .families.distribution import power_of_two
from .families.on_disk import ValuesOnDisk
from .fitting import compare, lost, minimize_nll, restarted_at
from .gof import GoodnessOfFit, goodness_of_fit
from .inference import infer
from .options import FitOptions
from .params import resolve
from .passes import minimize_by_passes
from .rescaled import mapped_inference
from .result import FitResult
from .underflow import feed, report, running_products, underflow_report
from .weights import count


class InMemory:
    """Every value at hand: the exact goodness of fit, the raw product over every row.
    `scale`: the values are the file's divided by it (a rescaled fit); each row's log-density then
    gains -log(scale), and messages show the file's values and parameters in its units."""

    def __init__(self, data: Column, values: np.ndarray, scale: float = 1.0, shown: np.ndarray | None = None):
        self.data, self.values, self.weights = data, values, data.weights
        self.scale, self.log_shift = scale, -math.log(scale)
        self.shown = values if shown is None else shown  # as the file holds them, for messages

    def impossible(self, family, stats, params, fixed) -> DataError:
        encoded = family.encode(self.values, stats)
        with np.errstate(all="ignore"):
            rows = np.flatnonzero(~np.isfinite(family.log_prob(encoded, params)))
        if not rows.size:  # each row's log-probability is finite, their sum or the statistics are not
            return beyond_range(self.data.source, self.data.name, family, self.shown)
        row = int(rows[0])
        fixed = family.rescaled(fixed, self.scale) if self.scale != 1 else fixed
        return DataError(f"{self.data.where(row)}: {_show(self.shown[row])} has probability 0 {_given(fixed)}",
                         kind="value", row=int(self.data.rows[row]))

    def underflow(self, family, stats, numerical):
        with np.errstate(over="ignore", under="ignore"):  # a density beyond float64 is 0 or inf, as the product would be
            log_probs = family.log_prob(family.encode(self.values, stats), numerical.params) + self.log_shift
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
    scale = rescaling(family, rows)
    if scale is not None:
        return _fit_rescaled(family, stats, source, name, dropped, rows, options, fixed, scale)
    reference, reference_nll = _reference(family, stats, fixed)
    if reference is not None and not np.isfinite(reference_nll):
        raise rows.impossible(family, stats, reference, fixed)
    numerical = minimize_by_passes(family, stats, fixed) if isinstance(stats, ValuesOnDisk) else \
        minimize_nll(family, stats, fixed)
    if lost(numerical, reference_nll):
        numerical = restarted_at(family, stats, reference, reference_nll, fixed, numerical)
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


# Beyond these magnitudes a family's sums of squares, Hessians or rates leave float64 (x^2 overflows
# past 2^512; a rate 1/x past 2^1024 for subnormal x): the data are fitted divided by a power of two.
RESCALE_BEYOND = 2.0 ** 256
# ... unless the smallest nonzero magnitude would then fall this low and lose digits as a subnormal.
SMALLEST_RESCALED = 2.0 ** -1000


def rescaling(family, rows) -> float | None:
    """The power of two c to fit values / c by, for a scale-equivariant family whose values in memory
    lie beyond 2^±256; None where they do not (or no power of two brings all of them in)."""
    if not family.data_units or not isinstance(rows, InMemory) or rows.scale != 1:
        return None
    values = np.asarray(rows.values, dtype=float)
    magnitudes = np.abs(values[values != 0])
    if not magnitudes.size:
        return None
    largest, smallest = float(magnitudes.max()), float(magnitudes.min())
    if 1 / RESCALE_BEYOND <= largest <= RESCALE_BEYOND:
        return None
    c = power_of_two(largest)
    return c if smallest / c >= SMALLEST_RESCALED else None


def _fit_rescaled(family, stats, source, name, dropped, rows: InMemory, options: FitOptions, fixed: dict,
                  c: float) -> FitResult:
    """The fit of values / c (exact: c is a power of two), every number in data units mapped back:
    parameters by the family's data_units, the NLL by n log c (the Jacobian of x = c y), intervals
    and standard errors with their parameters. A parameter that float64 cannot hold in data units
    (the rate of subnormal data, 1/mean past 1.8e308) is refused with the reason."""
    values = rows.values / c
    inner_rows = InMemory(replace(rows.data, values=values), values, scale=c, shown=rows.values)
    inner_options = replace(options, fix=family.rescaled(fixed, 1 / c), chisq_breaks=None if options.chisq_breaks is None
                            else tuple(b / c for b in options.chisq_breaks))
    inner_stats = family.summarize(values, rows.weights)
    inner = fit_statistics(family, inner_stats, source, name, dropped, inner_rows, inner_options)
    shift = float(count(stats.n)) * math.log(c)
    params = family.rescaled(inner.numerical.params, c)
    beyond = [p for p in family.data_units if p in params and not np.isfinite(params[p])
              and np.isfinite(inner.numerical.params[p])]  # (student_t's nu = inf is a limit, not an overflow)
    if beyond:
        written = float(inner.numerical.params[beyond[0]])
        sign = -1 if family.data_units[beyond[0]] == "per data" else 1
        exponent = math.log10(abs(written)) + sign * math.log10(c)  # of the value float64 cannot hold
        size = f"{10 ** (exponent % 1):.2g}e{'+' if exponent >= 0 else '-'}{abs(math.floor(exponent)):d}"
        raise DataError(f"{source}: column '{name}': the {family.name} fit's {beyond[0]} is about {size}, beyond "
                        f"float64's largest number (1.8e+308); rescale the column (multiply it by a power of ten) to "
                        f"fit {family.name}", kind="value")
    k = int(math.frexp(c)[1] - 1)
    numerical = replace(inner.numerical, params=params, nll=inner.numerical.nll + shift,
                        message=f"{inner.numerical.message} (fitted to the values divided by 2^{k}, exactly)")
    reference = None if inner.reference_params is None else family.rescaled(inner.reference_params, c)
    gof = inner.gof if inner.gof.cells is None else \
        rows.goodness_of_fit(family, stats, params, options, fixed)
    return replace(
        inner,
        numerical=numerical,
        reference_params=reference,
        reference_nll=None if inner.reference_nll is None else inner.reference_nll + shift,
        underflow=inner_rows.underflow(family, inner_stats, replace(inner.numerical, nll=numerical.nll)),
        inference=mapped_inference(family, inner.inference, c, shift),
        gof=gof,
        fixed=fixed,
        values=rows.values,
        weights=rows.weights,
        stats=stats,
        scale=c,
    )


def _reference(family, stats, fixed) -> tuple[dict | None, float | None]:
    """The reference solution with `fixed` held, and its NLL; (None, None) where the family has no
    independent method for it."""
    if family.reference_method == "none" and not fixed:
        return None, None
    try:
        # Statistics of values near 1e308 overflow (a variance): the reference is then not finite,
        # and the fit says the likelihood is beyond float64's range rather than warning here.
        with np.errstate(over="ignore", invalid="ignore"):
            reference = family.reference_given(stats, fixed)
    except NotImplementedError:
        return None, None
    with np.errstate(all="ignore"):
        return reference, family.nll(stats, reference)


def beyond_range(source: str, name: str, family, values) -> DataError:
    """The NLL (or a statistic it is computed from, such as a sum of counts) left float64's range,
    though no single row is impossible: values near 1e308 summed."""
    largest = "" if values is None or not len(values) else \
        f" (values up to {float(np.max(np.abs(np.asarray(values, dtype=float)))):g})"
    return DataError(f"{source}: column '{name}': the {family.name} likelihood of these values is beyond float64's "
                     f"range{largest}; rescale the column (divide it by a power of ten) to fit {family.name}",
                     kind="value")


def _given(fixed: dict) -> str:
    """Why a row can have probability 0 at the best estimate: what was held."""
    if not fixed:  # every parameter free: only arithmetic beyond float64 could do this
        return "even at the best estimate, beyond what float64 arithmetic can represent"
    held = ", ".join(f"{name}={value:g}" if np.ndim(value) == 0 else name for name, value in fixed.items())
    return f"with {held} fixed, so no parameter value can fit the column"


def _show(value) -> str:
    return show(value)  # the shortest form that reads back as the value: 1e-320, not 9.99989e-321
