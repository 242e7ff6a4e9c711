"""What a row carries beside its response and its terms: binomial's trials, censoring bounds, an
exposure and an offset (`mlfit regress --trials/--censored/--left/--right/--exposure/--offset`),
read and checked here, each bad cell named with its row."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..columns import Column
from ..columns import _show as show
from ..data import text_cells
from ..errors import DataError, UsageError


@dataclass(frozen=True)
class RowOptions:
    """Columns a row carries beside the response: binomial's trials (a number for every row, or
    a column), censoring (`censored`: an event column, 1 observed and 0 right-censored; or
    `left`/`right` bounds, an empty cell an open end), an exposure (log of it added to the linear
    predictor) and an offset (added as it is)."""
    trials: int | str | None = None
    censored: str | None = None
    left: str | None = None
    right: str | None = None
    exposure: str | None = None
    offset: str | None = None

    @property
    def interval(self) -> bool:
        return self.left is not None or self.right is not None

    def columns(self) -> list[tuple[str, str]]:
        """(flag, column) for each column these options name."""
        named = [("--trials", self.trials if isinstance(self.trials, str) else None), ("--censored", self.censored),
                 ("--left", self.left), ("--right", self.right), ("--exposure", self.exposure),
                 ("--offset", self.offset)]
        return [(flag, column) for flag, column in named if column is not None]


NO_ROW_OPTIONS = RowOptions()


def numbers(column: Column) -> np.ndarray:
    values = column.values
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    numbers = pd.to_numeric(text_cells(values, column.decimal), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numbers))
    if bad.size:
        i = bad[0]
        raise DataError(f"{column.where(i)}: {show(values[i])} is not a number (the column's other cells are)",
                        kind="value", row=int(column.rows[i]))
    return numbers


def trials_values(column: Column) -> np.ndarray:
    """A column of trials: whole numbers of at least 1, an error naming the first that is not."""
    if column.values.dtype.kind in "biuf":
        values = column.values.astype(np.float64)
    else:
        values = pd.to_numeric(text_cells(column.values, column.decimal), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero((values < 1) | (values != np.floor(values)) | ~np.isfinite(values))
    if bad.size:
        i = bad[0]
        raise DataError(f"{column.where(i)}: trials {show(column.values[i])} is not a whole number of at least 1",
                        kind="value", row=int(column.rows[i]))
    return values


def row_extras(extras: RowOptions, family, y, all_columns: dict, cells: dict, rows: np.ndarray, label: str):
    """The response (from the bounds, with --left/--right), what the rows carry for the family
    (`Design.extra`) and the offset the options add (log exposure, an offset column)."""
    extra = {}
    takes = getattr(family, "row_inputs", ())
    if (extras.censored is not None or extras.interval) and "bounds" not in takes:
        from ..families import family_names, get_family

        censors = [name for name in family_names() if "bounds" in getattr(get_family(name, 1), "row_inputs", ())]
        raise UsageError(f"censored regression takes {', '.join(censors)} (the families with a standard CDF of the "
                         f"response or its log), not {family.name}")
    if extras.censored is not None and extras.interval:
        raise UsageError("--censored (an event column) and --left/--right (interval bounds) describe the same "
                         "rows two ways: give one")
    if isinstance(extras.trials, str):
        if "trials" not in takes:
            raise UsageError(f"--trials is the number of trials behind each count (binomial); {family.name} takes "
                             "no trials")
        trials = trials_values(cells[extras.trials])
        over = np.flatnonzero(y > trials)
        if over.size:
            i = over[0]
            raise DataError(f"{label}: row {rows[i]}: {show(y[i])} successes out of {show(trials[i])} trials (column "
                            f"'{extras.trials}'): a count cannot exceed its trials", kind="value", row=int(rows[i]))
        extra["trials"] = trials
    if extras.censored is not None:
        events = _events(cells[extras.censored])
        extra["bounds"] = np.column_stack([y, np.where(events == 1, y, np.inf)])
    elif extras.interval:
        y, extra["bounds"] = _interval(extras, family, all_columns, rows, label)
    _check_response(family, y, rows, label, extra.get("bounds"))
    offset = None
    if extras.exposure is not None:
        if not (family.predictors()[0].link == "log" and family.outcome == "count"):
            raise UsageError(f"--exposure multiplies a rate (poisson, negbinomial, geometric); for {family.name} "
                             "give --offset")
        exposure = numbers(cells[extras.exposure])
        bad = np.flatnonzero(~(exposure > 0) | ~np.isfinite(exposure))
        if bad.size:
            i = bad[0]
            raise DataError(f"{label}: row {rows[i]}: exposure {show(cells[extras.exposure].values[i])} (column "
                            f"'{extras.exposure}') is not a positive number", kind="value", row=int(rows[i]))
        offset = np.log(exposure)
    if extras.offset is not None:
        added = numbers(cells[extras.offset])
        bad = np.flatnonzero(~np.isfinite(added))
        if bad.size:
            i = bad[0]
            raise DataError(f"{label}: row {rows[i]}: offset {show(added[i])} (column '{extras.offset}') is not a "
                            "finite number", kind="value", row=int(rows[i]))
        offset = added if offset is None else offset + added
    return y, extra or None, offset


def _events(column: Column) -> np.ndarray:
    if column.values.dtype.kind in "biuf":
        values = column.values.astype(float)
    else:
        values = pd.to_numeric(text_cells(column.values, column.decimal), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isin(values, (0.0, 1.0)))
    if bad.size:
        i = bad[0]
        raise DataError(f"{column.where(i)}: event {show(column.values[i])} is not 1 (observed) or 0 "
                        "(right-censored)", kind="value", row=int(column.rows[i]))
    return values


def _interval(extras: RowOptions, family, all_columns: dict, rows: np.ndarray, label: str):
    """Each row's [left, right] from the bound columns, an empty cell an open end: -inf on the
    left (0 for a family of positive values, whose times are logged), +inf on the right; and the
    response a row stands for (its observed value, or the bound it has)."""
    positive = bool(family.support.violations(np.array([-1.0]))[0])
    low_end = 0.0 if positive else -np.inf
    ends = []
    for name, open_end in ((extras.left, low_end), (extras.right, np.inf)):
        values = np.full(len(rows), open_end)
        if name is not None:
            column = all_columns[name]
            present = np.isin(rows, column.rows)
            at = np.searchsorted(column.rows, rows[present])
            values[present] = numbers(Column(column.source, column.name, column.values[at], rows[present], 0,
                                             column.decimal))
        ends.append(values)
    left, right = ends
    bad = np.flatnonzero(left > right)
    if bad.size:
        i = bad[0]
        raise DataError(f"{label}: row {rows[i]}: the left bound {show(left[i])} is above the right bound "
                        f"{show(right[i])}", kind="value", row=int(rows[i]))
    if positive:
        outside = np.flatnonzero((left < 0) | (right <= 0))
        if outside.size:
            i = outside[0]
            raise DataError(f"{label}: row {rows[i]}: the bounds [{show(left[i])}, {show(right[i])}] leave the "
                            f"positive values {family.name} models", kind="value", row=int(rows[i]))
    y = np.where(np.isfinite(left) & (left > low_end), left, right)
    return y, np.column_stack([left, right])


def _check_response(family, y: np.ndarray, rows: np.ndarray, label: str, bounds) -> None:
    """A response the conditional model cannot take though the family's support does (a time of 0
    in an accelerated failure time model, whose log is -inf), named with its row."""
    rule = getattr(family, "response_rule", None)
    if rule is None or y is None:
        return
    observed = np.ones(len(y), dtype=bool) if bounds is None else bounds[:, 0] == bounds[:, 1]
    bad = np.flatnonzero(~(y > 0) & observed)
    if bad.size:
        i = bad[0]
        raise DataError(f"{label}: row {rows[i]}: {show(y[i])} is not {rule}, which a {family.name} regression "
                        "needs", kind="value", row=int(rows[i]))
