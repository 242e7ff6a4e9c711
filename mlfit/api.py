"""The library API: what the CLI calls, and what a Python user imports.

    >>> import mlfit
    >>> result = mlfit.fit([2.1, 1.9, 2.4, 2.0], "normal")
    >>> round(result.params["mu"], 3)
    2.1
"""

from __future__ import annotations

import numpy as np

from .data import (DEFAULT, STDIN, Column, ReadOptions, iter_columns, iter_weighted, joined, nothing_to_fit,
                   require_column_for_weights, support_values, to_support, weighs_nothing, with_weights)
from .errors import DataError, MlfitError, UsageError
from .families import get_family
from .families.base import NeedsEveryValue
from .fitting import compare, minimize_nll
from .params import resolve
from .gof import GoodnessOfFit, goodness_of_fit
from .inference import infer
from .result import FitResult
from .underflow import feed, report, running_products, underflow_report
from .weights import count, whole


# Up to this many rows a column is held in memory and fitted whole. Beyond it, the family is
# fitted from sketches merged chunk by chunk (and, for laplace, a second pass: see its Bracket),
# keeping only the first PREFIX_ROWS rows, for the raw-product report. Columns read together
# share BATCH_ROWS between them, so memory stays bounded however many columns a file has.
IN_MEMORY_ROWS = 1 << 21
PREFIX_ROWS = 1 << 20
BATCH_ROWS = 1 << 22


def fit_file(source: str, distribution: str, column: str | None = None, *, weights: str | None = None,
             read_options: ReadOptions = DEFAULT, keep_values: bool = False, progress=None,
             **options) -> FitResult:
    """Fit one column of a CSV file (or '-' for standard input); None: the only column there is.

    Options: `level` of the confidence intervals (0.95), `gof_bootstrap` replicates for
    goodness-of-fit p-values (0: none), `seed` of the bootstrap (0), `fix` held parameters;
    `read_options` how to read the file (separator, decimal mark, header, encoding, NA markers);
    `weights` a column of non-negative case/frequency weights; `keep_values` holds every value in
    memory however many there are (plots need them); `progress(done, total)` hears how many
    bytes have been read."""
    require_column_for_weights(column, weights)
    [(_, outcome)] = fit_columns(source, distribution, None if column is None else [column], only_one=column is None,
                                 weights=weights, read_options=read_options, keep_values=keep_values,
                                 progress=progress, **options)
    if isinstance(outcome, MlfitError):
        raise outcome
    return outcome


def fit_columns(source: str, distribution: str, columns: list[str] | None = None, *, only_one: bool = False,
                weights: str | None = None, read_options: ReadOptions = DEFAULT, keep_values: bool = False,
                progress=None, unknown: list | None = None, **options) -> list[tuple[str, FitResult | MlfitError]]:
    """Fit several columns of one file (None: every column) in one pass over it: a (name, result)
    pair per column, in order, the result a FitResult or the MlfitError that column met. An error
    in reading the file itself is raised. `unknown` collects the names the header lacks, as
    (name, error) pairs; otherwise they are an error. Options as `fit_file`."""
    family = get_family(distribution)
    text = not family.support.numeric
    names = None if columns is None else [*columns, *([weights] if weights else [])]
    names_read: list[str] = []
    gathered: list[Gathering | MlfitError] = []  # a column that met an error holds just that
    at = None  # where the weights column sits in each chunk
    for chunk in iter_columns(source, names, text=text, options=read_options, only_one=only_one, unknown=unknown,
                              progress=progress):
        if weights is not None:
            at = _position_of(weights, chunk, source, unknown) if at is None else at
            weight_column, chunk = chunk[at], chunk[:at] + chunk[at + 1:]
        if not gathered:
            limit = min(IN_MEMORY_ROWS, BATCH_ROWS // max(len(chunk), 1))
            names_read = [data.name for data in chunk]
            gathered = [Gathering(family, data.name, keep_values, limit, min(PREFIX_ROWS, limit)) for data in chunk]
        for i, data in enumerate(chunk):
            if isinstance(gathered[i], Gathering):
                try:
                    gathered[i].add(with_weights(data, weight_column) if weights is not None else data)
                except MlfitError as error:
                    gathered[i] = error
        if not any(isinstance(gathering, Gathering) for gathering in gathered):
            break  # nothing left to read for

    def fitted(gathering: Gathering) -> FitResult:
        name = gathering.name

        def chunks():
            return iter_weighted(source, name, weights, text=text, options=read_options)

        if gathering.kept is None and gathering.stats is not None:
            def values_again():
                for data in chunks():
                    yield support_values(data, family), data.weights

            try:
                gathering.stats = family.finish(gathering.stats, values_again)
            except NeedsEveryValue:  # the streamed statistics fell short (laplace: see Bracket): hold every value
                gathering = Gathering(family, name, True, gathering.limit, gathering.prefix_limit)
                for data in chunks():
                    gathering.add(data)
        if gathering.kept is not None:
            return fit_column(joined(gathering.kept), family, **options)
        return _fit_streamed(gathering, family, chunks, **options)

    results = []
    for name, gathering in zip(names_read, gathered):
        try:
            results.append((name, gathering if isinstance(gathering, MlfitError) else fitted(gathering)))
        except MlfitError as error:
            results.append((name, error))
    return results


def _position_of(weights: str, chunk: list[Column], source: str, unknown: list | None) -> int:
    for i, column in enumerate(chunk):
        if column.name == weights:
            return i
    for name, error in unknown or []:
        if name == weights:
            raise error
    label = "<stdin>" if source == STDIN else source
    raise UsageError(f"{label}: no weights column '{weights}'", kind="column")


class Gathering:
    """Rows as they are read: kept whole while there are few (or when asked to), otherwise
    checked against the support and merged into the family's statistics chunk by chunk."""

    def __init__(self, family, name: str, keep_all: bool, limit: int, prefix_limit: int):
        self.family, self.name, self.keep_all = family, name, keep_all
        self.limit, self.prefix_limit = limit, prefix_limit  # rows held whole, and the first rows kept
        self.kept: list[Column] | None = []
        self.rows = 0
        self.first: Column | None = None
        self.stats = None
        self.dropped = 0
        self.prefix: list[Column] = []  # the first prefix_limit rows, checked
        self.prefix_rows = 0
        self.whole_weights = True  # every weight so far a whole number (or no weights)

    def add(self, data: Column) -> None:
        self.first = self.first or data
        self.whole_weights = self.whole_weights and whole(data.weights)
        if self.kept is not None:
            self.kept.append(data)
            self.rows += len(data.values)
            if self.rows > self.limit and not self.keep_all:
                kept, self.kept = self.kept, None
                for part in kept:
                    self._merge(part)
            return
        self._merge(data)

    def _merge(self, data: Column) -> None:
        values = support_values(data, self.family)
        self.dropped += data.dropped
        if not len(values):
            return
        summary = self.family.sketch(values, data.weights, seed=int(data.rows[0]))
        self.stats = summary if self.stats is None else self.stats.merge(summary)
        room = self.prefix_limit - self.prefix_rows
        if room > 0:
            part = slice(0, room)
            self.prefix.append(Column(data.source, data.name, values[part], data.rows[part], 0, data.decimal,
                                      None if data.weights is None else data.weights[part]))
            self.prefix_rows += len(values[part])


def _fit_streamed(gathered: Gathering, family, chunks, *, level: float = 0.95, gof_bootstrap: int = 0, seed: int = 0,
                  fix: dict | None = None) -> FitResult:
    """The fit from merged statistics: everything but what needs every value at once (KS, CvM
    and AD, and the terminal chart) is exact. The raw-product report runs over the kept first
    rows, and over the whole source again only if no precision has hit 0.0 or inf by then."""
    first, stats = gathered.first, gathered.stats
    if stats is None:
        raise nothing_to_fit(first.source, first.name, gathered.dropped)
    if stats.n == 0:
        raise weighs_nothing(first.source, first.name)
    fixed, closed, closed_nll = _estimate(family, stats, first.source, first.name, fix)
    if not np.isfinite(closed_nll):
        raise DataError(f"{first.source}: column '{first.name}': some row has probability 0 {_given(fixed)}",
                        kind="value")
    numerical = minimize_nll(family, stats, fixed)
    products = running_products()

    def follow(parts) -> bool:
        for values, weights in parts:
            feed(products, family.log_prob(family.encode(values, stats), numerical.params), weights,
                 gathered.whole_weights)
            if all(p.settled for p in products.values()):
                return True
        return False

    if not follow((part.values, part.weights) for part in gathered.prefix):
        products = running_products()  # follow the product through the whole source
        follow((support_values(data, family), data.weights) for data in chunks())
    if family.continuous:
        gof = GoodnessOfFit({}, note=f"no KS, CvM or AD: beyond {gathered.limit:,} rows they would need every "
                                     "value sorted in memory")
    else:
        gof = goodness_of_fit(family, None, stats, numerical.params, 0, seed, fixed)
    underflow = report(products, numerical.nll, count(stats.n), first.weights is not None)
    return _assemble(family, stats, first.source, first.name, gathered.dropped, fixed, closed, closed_nll, numerical,
                     underflow, gof, level)


def fit(values, distribution: str, *, name: str = "x", **options) -> FitResult:
    """Fit an in-memory sequence of values; None and NaN count as missing. Options as `fit_file`."""
    family = get_family(distribution)
    raw = np.asarray(values, dtype=object if not family.support.numeric else None)
    if raw.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in raw], dtype=bool)
    else:
        raw = raw.astype(np.float64) if raw.dtype.kind in "biu" else raw
        missing = np.isnan(raw) if raw.dtype.kind == "f" else np.zeros(len(raw), dtype=bool)
    data = Column("<data>", name, raw[~missing], np.flatnonzero(~missing) + 1, int(missing.sum()))
    return fit_column(data, family, **options)


def fit_column(data: Column, family, *, level: float = 0.95, gof_bootstrap: int = 0, seed: int = 0,
               fix: dict | None = None) -> FitResult:
    """Fit a column read by `mlfit.data`. `fix` holds parameters at written values,
    e.g. {"sigma": "1"} or {"p": {"a": "0.2", "b": "0.8"}} (see mlfit.params)."""
    values = to_support(data, family)
    if data.weights is not None and data.weights.sum() == 0:
        raise weighs_nothing(data.source, data.name)
    stats = family.summarize(values, data.weights)
    fixed, closed, closed_nll = _estimate(family, stats, data.source, data.name, fix)
    encoded = family.encode(values, stats)
    if not np.isfinite(closed_nll):
        impossible = int(np.flatnonzero(~np.isfinite(family.log_prob(encoded, closed)))[0])
        raise DataError(f"{data.where(impossible)}: {_show(values[impossible])} has probability 0 {_given(fixed)}",
                        kind="value", row=int(data.rows[impossible]))
    numerical = minimize_nll(family, stats, fixed)
    with np.errstate(over="ignore", under="ignore"):  # a density beyond float64 is 0 or inf, as the product would be
        log_probs = family.log_prob(encoded, numerical.params)
    return _assemble(
        family, stats, data.source, data.name, data.dropped, fixed, closed, closed_nll, numerical,
        underflow_report(log_probs, numerical.nll, data.weights),
        goodness_of_fit(family, values, stats, numerical.params, gof_bootstrap, seed, fixed, data.weights),
        level, values=values, weights=data.weights,
    )


def _estimate(family, stats, source: str, name: str, fix: dict | None):
    """The held parameters, and the closed-form estimate of the others with its NLL."""
    fixed = resolve(family, stats, fix or {}, complete=False, what="--fix")
    reason = family.degenerate_reason(stats, fixed)
    if reason:
        raise DataError(f"{source}: column '{name}': {reason}", kind="degenerate")
    closed = family.closed_form_given(stats, fixed)
    return fixed, closed, family.nll(stats, closed)


def _assemble(family, stats, source, name, dropped, fixed, closed, closed_nll, numerical, underflow, gof, level,
              values=None, weights=None) -> FitResult:
    return FitResult(
        family=family,
        source=source,
        column=name,
        n=count(stats.n),
        dropped=dropped,
        labels=family.labels(stats),
        numerical=numerical,
        closed_form_params=closed,
        closed_form_nll=closed_nll,
        comparison=compare(family, stats, numerical, closed, closed_nll),
        underflow=underflow,
        inference=infer(family, stats, numerical.params, numerical.nll, level, fixed),
        gof=gof,
        fixed=fixed,
        values=values,
        weights=weights,
        stats=stats,
    )


def _given(fixed: dict) -> str:
    """Why a row can have probability 0 at the best estimate: what was held."""
    if not fixed:  # every parameter free: only arithmetic beyond float64 could do this
        return "even at the closed-form estimate, beyond what float64 arithmetic can represent"
    held = ", ".join(f"{name}={value:g}" if np.ndim(value) == 0 else name for name, value in fixed.items())
    return f"with {held} fixed, so no parameter value can fit the column"


def _show(value) -> str:
    return repr(str(value)) if isinstance(value, str) else f"{value:g}"
