"""From a CSV and a Wilkinson formula to the arrays a conditional model needs: the response, the
design matrix of the mean (and of the log scale, with --sigma), an offset, weights, and the data
row of each. formulaic builds the matrices; mlfit's own reader reads the cells, so the reading
rules and the error messages are those of `mlfit fit`.

Rows are data rows as in `mlfit.data`: the first row after the header is row 1.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..columns import DEFAULT, Column, ReadOptions, joined
from ..data import column_names, iter_columns, support_values, text_cells, weight_positions
from ..columns import _show as show
from ..errors import DataError, UsageError
from .row_options import NO_ROW_OPTIONS, RowOptions, numbers as _numbers, row_extras, trials_values
from .safe_formula import check_formula

@dataclass(frozen=True)
class Design:
    source: str
    formula: str
    response: str  # the response as the formula writes it
    y: np.ndarray  # float; a categorical response as the 0-based position of its class in `classes`
    classes: list[str] | None  # a categorical response's classes, in order (the first is the reference)
    X: np.ndarray  # the mean's design, n x p
    terms: list[str]
    Z: np.ndarray  # the log scale's design (a column of ones without --sigma)
    scale_terms: list[str]
    offset: np.ndarray | None  # offset(...) terms summed, added to the mean's linear predictor
    weights: np.ndarray | None
    rows: np.ndarray  # the 1-based data row of each observation
    dropped: int  # rows left out for a missing cell in a used column
    # what rows carry beside the response, for the family (`Conditional.on_rows`): "trials" (binomial's
    # per row), "bounds" (censoring: each row's [left, right], equal where the value was observed)
    extra: dict | None = None

    @property
    def n(self) -> int:
        return len(self.y)

    def where(self, index: int) -> str:
        return f"{self.source}: row {self.rows[index]}"




def split_formula(formula: str, rows: RowOptions = NO_ROW_OPTIONS) -> tuple[str, str]:
    """The response and the right-hand side of "y ~ x1 + x2" (with --left/--right, "~ x1 + x2"
    is written too: the response is then the left bound's column)."""
    if formula.count("~") != 1:
        raise UsageError(f"formula {formula!r}: write it as 'response ~ terms', e.g. 'y ~ x1 + x2'")
    response, terms = (part.strip() for part in formula.split("~"))
    if not response and rows.interval:
        response = f"`{rows.left}`" if rows.left is not None else f"`{rows.right}`"
    if not response:
        raise UsageError(f"formula {formula!r}: name the response before '~', e.g. 'y ~ x1 + x2'")
    check_formula(formula)
    return response, terms or "1"


def scale_terms(formula: str | None) -> str:
    """The right-hand side of a --sigma formula ("~ x1", or "x1")."""
    if formula is None:
        return "1"
    text = formula.strip()
    if text.count("~") > 1 or (text.count("~") == 1 and text.split("~")[0].strip()):
        raise UsageError(f"--sigma {formula!r}: give only the terms, e.g. --sigma '~ x1'")
    terms = text.split("~")[-1].strip() or "1"
    check_formula(terms, "--sigma")
    return terms


def used_columns(texts: list[str], names: list[str]) -> list[str]:
    """The header's columns that the formulas name: as a plain name, or in backticks."""
    used = []
    for name in names:
        plain = re.escape(name)
        # a bare name followed by "(" is a function (C, np, log), not a column of that name
        pattern = rf"`{plain}`|(?<![\w.`]){plain}(?![\w`.]|\s*\()" if re.fullmatch(r"[A-Za-z_]\w*", name) \
            else rf"`{plain}`"
        if any(re.search(pattern, text) for text in texts):
            used.append(name)
    return used


def read_design(source: str, formula: str, family, *, sigma: str | None = None, weights: str | None = None,
                options: ReadOptions = DEFAULT, limit: int | None = None, extras: RowOptions = NO_ROW_OPTIONS,
                hold_beyond: int | None = None):
    """Read the columns the formula uses, drop rows with a missing cell in any of them (counted),
    and build the design matrices; past `limit` cells, stop and say which columns to stream; past
    `hold_beyond`, give the chunks as read (Held), for a design built chunk by chunk."""
    label = "<stdin>" if source == "-" else source
    wanted = wanted_columns(source, formula, sigma=sigma, weights=weights, options=options, extras=extras)
    chunks, cells = [], 0
    reading = iter_columns(source, wanted, options=options)
    for chunk in reading:
        chunks.append(chunk)
        cells += sum(len(c.values) + c.dropped for c in chunk)
        if hold_beyond is not None and cells > hold_beyond and source != "-":
            return Held(wanted, chunks, reading)
        if limit is not None and cells > limit:
            return PastTheLimit(wanted)
    columns = [joined(list(parts)) for parts in zip(*chunks)]
    return design_of(label, columns, formula, family, sigma=sigma, weights=weights, extras=extras)


def wanted_columns(source: str, formula: str, *, sigma: str | None = None, weights: str | None = None,
                   options: ReadOptions = DEFAULT, extras: RowOptions = NO_ROW_OPTIONS) -> list[str]:
    """The columns of the header of `source` that the formulas (and the weights) use."""
    label = "<stdin>" if source == "-" else source
    response, terms = split_formula(formula, extras)
    sigma_terms = scale_terms(sigma)
    names = column_names(source, options)
    in_formulas = used_columns([response, terms, sigma_terms], names)
    wanted = list(in_formulas)
    for flag, name in extras.columns():
        if name not in names:
            raise UsageError(f"{label}: {flag} names column '{name}', which the header does not have", kind="column")
        if name not in wanted:
            wanted.append(name)
    if weights is not None:
        if weights not in names:
            raise UsageError(f"{label}: --weights names column '{weights}', which the header does not have",
                             kind="column")
        wanted = [*wanted, weights] if weights not in wanted else wanted
    if not in_formulas:
        raise UsageError(f"{label}: formula {formula!r} names none of the columns "
                         f"({', '.join(repr(n) for n in names[:8])}{', ...' if len(names) > 8 else ''})",
                         kind="column")
    return wanted


@dataclass(frozen=True)
class PastTheLimit:
    """The answer of read_design for a file past the in-memory limit: the columns to read by passes."""
    wanted: list[str]


@dataclass(frozen=True)
class Held:
    """The answer of read_design for a design to build chunk by chunk: the columns, their chunks read
    so far, and the rest of the reading."""
    wanted: list[str]
    chunks: list
    rest: object  # the reading, past the chunks


@dataclass(frozen=True)
class Layout:
    """What a first pass over a file too big to hold learns, so that every chunk's design has the
    same columns: which columns are categorical and all their levels, the response's classes."""
    categorical: dict  # column -> its levels, sorted (text, or numbers for a numeric column inside C())
    classes: list[str] | None
    rows: int  # rows used (no missing cell in a used column)
    dropped: int


def complete_rows(columns: list[Column], needed: set, start: int = 0) -> tuple[np.ndarray, int]:
    """The data rows (from start + 1 on) where every needed column has a value, and how many rows
    the columns span."""
    total = max(len(c.values) + c.dropped for c in columns)
    complete = np.ones(total, dtype=bool)
    for column in columns:
        if column.name not in needed:
            continue
        present = np.zeros(total, dtype=bool)
        present[column.rows - 1 - start] = True
        complete &= present
    return np.flatnonzero(complete) + 1 + start, total


def design_of(label: str, columns: list[Column], formula: str, family, *, sigma: str | None = None,
              weights: str | None = None, layout: Layout | None = None, start: int = 0,
              extras: RowOptions = NO_ROW_OPTIONS) -> Design:
    """The design from columns already read (missing cells left out, each value with its row);
    with a `layout`, of one chunk of a file whose rows begin after row `start`. `extras`: the
    columns a row carries beside the response (trials, censoring, an exposure, an offset)."""
    response, terms = split_formula(formula, extras)
    sigma_terms = scale_terms(sigma)
    names = [c.name for c in columns]
    in_formulas = used_columns([response, terms, sigma_terms], names)
    bounds = {extras.left, extras.right} - {None}
    in_formulas = [n for n in in_formulas if n not in bounds or n in used_columns([terms, sigma_terms], names)]
    needed = {*in_formulas, *(c for _, c in extras.columns() if c not in bounds)}
    rows, total = complete_rows(columns, needed, start)
    if bounds:  # a row needs one bound at least (an empty one is an open end)
        present = np.zeros(len(rows), dtype=bool)
        for column in columns:
            if column.name in bounds:
                present |= np.isin(rows, column.rows)
        rows = rows[present]
    if weights is not None and weights not in in_formulas:  # a used row with no weight is an error, as in fit
        weight_positions(rows, next(c for c in columns if c.name == weights), label)
    dropped = int(total - len(rows))
    if not len(rows) and layout is None:
        what = "no rows" if total == 0 else f"no row without a missing cell ({dropped} rows have one)"
        raise DataError(f"{label}: the columns of {formula!r} have {what}; there is nothing to fit", kind="empty")
    cells = {c.name: _kept(c, rows) for c in columns if c.name in needed or c.name == weights}
    if layout is None:
        frame = pd.DataFrame({name: _typed(cells[name]) for name in in_formulas})
    else:
        # (a categorical response's classes are read from its cells, not as the numbers a term's are)
        plain = response[1:-1] if response.startswith("`") and response.endswith("`") else response
        text = not family.support.numeric and plain not in used_columns([terms, sigma_terms], names)
        frame = pd.DataFrame({name: _laid_out(cells[name], layout) for name in in_formulas
                              if not (text and name == plain)})
    for name in used_columns([terms, sigma_terms], list(frame.columns)):
        if not pd.api.types.is_numeric_dtype(frame[name]) and frame[name].nunique() > MAX_COEFFICIENTS:
            raise UsageError(f"{label}: column '{name}' has {frame[name].nunique():,} distinct values: as a categorical "
                             f"term it would make more than the {MAX_COEFFICIENTS:,} coefficients regress fits")
    if bounds:
        y, classes = None, None
    else:
        y, classes = _response(response, cells, frame, family, label, rows, None if layout is None else layout.classes,
                               trials=cells.get(extras.trials) if isinstance(extras.trials, str) else None)
    if classes is not None and layout is None and len(classes) > 2 and len(classes) > SATURATION * len(y):
        raise UsageError(f"{label}: the response '{response}' has {len(classes):,} classes for {len(y):,} rows: a "
                         "categorical model of it would give nearly every row its own class (a measurement, or an "
                         "identifier?); for numbers use --dist normal, laplace or poisson", kind="column")
    if classes is not None and len(classes) - 1 > MAX_COEFFICIENTS:
        raise UsageError(f"{label}: the response '{response}' has {len(classes):,} classes: more than the "
                         f"{MAX_COEFFICIENTS:,} coefficients regress fits")
    y, extra, row_offset = row_extras(extras, family, y, {c.name: c for c in columns}, cells, rows, label)
    X, term_names, offset = _matrix(terms, frame, label, rows, "formula")
    if row_offset is not None:
        offset = row_offset if offset is None else offset + row_offset
    Z, sigma_names, sigma_offset = _matrix(sigma_terms, frame, label, rows, "--sigma")
    size = X.shape[1] * max(len(classes or ()) - 1, 1) + Z.shape[1]
    if size > MAX_COEFFICIENTS:
        raise UsageError(f"formula {formula!r} makes {size:,} coefficients; regress fits up to {MAX_COEFFICIENTS:,}")
    _within_range(y[:, None] if classes is None else np.zeros((len(y), 0)), [response], rows, label, "response")
    _within_range(X, term_names, rows, label, "formula term")
    _within_range(Z, sigma_names, rows, label, "--sigma term")
    if sigma_offset is not None:
        raise UsageError("--sigma: offset() belongs in the formula of the mean")
    w = None
    if weights is not None:
        w = _weights(cells[weights], label)
        if not np.any(w > 0):
            raise DataError(f"{label}: column '{weights}': the weights of the rows used sum to 0; there is nothing "
                            "to fit", kind="empty")
    return Design(label, formula, response, y, classes, X, term_names, Z, sigma_names, offset, w, rows, dropped,
                  extra)


MAX_COEFFICIENTS = 1000  # beyond this the dense design and its information matrix are not worth holding
# A categorical response with more classes than this share of its rows memorises the column (as compare's rule).
SATURATION = 0.5
# A value whose square float64 cannot hold: sums of squares and cross-products would overflow.
LARGEST = 1e150


def _within_range(values: np.ndarray, names: list[str], rows: np.ndarray, label: str, what: str) -> None:
    big = (values > LARGEST) | (values < -LARGEST)  # (no copy of the values: a chunk of a big design)
    if big.any():
        i, j = (int(k[0]) for k in np.nonzero(big))
        raise DataError(f"{label}: row {rows[i]}: the {what} '{names[j]}' is {show(values[i, j])}, whose square "
                        f"float64 cannot hold; rescale it (e.g. I(x / 1e150))", kind="value", row=int(rows[i]))


def _kept(column: Column, rows: np.ndarray) -> Column:
    if len(column.rows) == len(rows):  # nothing of this column was left out
        return column
    at = np.searchsorted(column.rows, rows)
    return Column(column.source, column.name, column.values[at], rows, 0, column.decimal)


def _typed(column: Column):
    """Numbers where the column holds numbers; text (categories) where most cells are text. A
    column of numbers with a stray word in it is an error naming the cell, not a factor."""
    values = column.values
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    numbers = pd.to_numeric(text_cells(values, column.decimal), errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numbers))
    if not bad.size:
        return numbers
    if bad.size * 2 >= len(values):
        return values.astype(str).astype(object)
    i = bad[0]
    raise DataError(f"{column.where(i)}: {show(values[i])} is not a number (the column's other cells are)",
                    kind="value", row=int(column.rows[i]))


def _response(response: str, cells: dict, frame: pd.DataFrame, family, label: str, rows: np.ndarray,
              classes: list[str] | None = None, trials: Column | None = None):
    name = response[1:-1] if response.startswith("`") and response.endswith("`") else response
    if trials is not None:  # binomial with a column of trials: counts up to the most trials of any row
        from ..families import get_family

        largest = trials_values(trials)
        family = get_family(family.name, max(int(largest.max(initial=1.0)), 1))
    if name in cells:
        column = cells[name]
        if not family.support.numeric:  # categorical: the classes as written, numbers in numeric order
            labels = np.array([show_label(v) for v in column.values], dtype=object)
            distinct = classes if classes is not None else sorted(set(labels), key=_class_order(labels))
            index = {c: i for i, c in enumerate(distinct)}
            return np.array([index[v] for v in labels], dtype=np.int64), distinct
        return support_values(column, family).astype(np.float64), None
    if not family.support.numeric:
        raise UsageError(f"formula response {response!r}: a categorical response is a column, named as it is")
    values, names, _ = _matrix(f"0 + {response}", frame, label, rows, "formula response")
    if values.shape[1] != 1:
        raise UsageError(f"formula response {response!r} is {values.shape[1]} columns; give one")
    column = Column(label, response, values[:, 0], rows, 0)
    return support_values(column, family).astype(np.float64), None


def show_label(value) -> str:
    """A class as written: text trimmed, a number in its shortest form (4, not 4.0)."""
    if isinstance(value, str):
        return value.strip()
    return np.format_float_positional(float(value), trim="-")


def response_classes(values) -> list[str]:
    """A categorical response's classes in order: text sorted, numbers in numeric order."""
    labels = [show_label(v) for v in values]
    return sorted(set(labels), key=_class_order(labels))


def _laid_out(column: Column, layout: Layout):
    """A chunk's column typed as the first pass found the whole column: categorical with all its
    levels (so every chunk's dummies are the same), or numbers (a stray word is an error)."""
    if column.name in layout.categorical:
        levels = layout.categorical[column.name]
        values = column.values
        if levels and not isinstance(levels[0], str):
            values = _numbers(column)
        else:
            values = np.array([str(v) for v in values], dtype=object)
        return pd.Categorical(values, categories=levels)
    return _numbers(column)


def _class_order(labels):
    numbers = pd.to_numeric(pd.Series(list(set(labels))), errors="coerce")
    if numbers.notna().all():
        return lambda label: (float(label), label)
    return lambda label: label


def _offset(values):
    """offset(...) is its argument; the column it makes is taken out of the design by its name."""
    return np.asarray(values, dtype=np.float64)


def _matrix(terms: str, frame: pd.DataFrame, label: str, rows: np.ndarray, what: str):
    """The model matrix of a right-hand side (its column names), and the summed offset() terms."""
    from formulaic import model_matrix
    from formulaic.errors import FormulaicError

    check_formula(terms, what)  # every caller checked it already; evaluating unchecked text must not happen
    context = {"np": np, "offset": _offset}
    try:
        # np.log(0) is -inf, not a warning: every non-finite value is named below with its row
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            matrix = model_matrix(terms, frame, context=context, na_action="ignore")
    except FormulaicError as error:
        message = " ".join(str(error).replace("\x1b[1;31m", "").replace("\x1b[0m", "").split())
        missing = re.search(r"`([^`]+)` is not present in the dataset", message)
        if missing:
            raise UsageError(f"{label}: the {what} names '{missing.group(1)}', which is not a column of the file",
                             kind="column") from None
        raise UsageError(f"{what} {terms!r}: {message}") from None
    except (TypeError, ValueError, ArithmeticError) as error:
        raise UsageError(f"{what} {terms!r}: {' '.join(str(error).split())}") from None
    # formulaic names a level of a numeric column as its float ("C(cyl)[T.6.0]"); R writes 6
    names = [re.sub(r"\[T\.(-?\d+)\.0\]", r"[T.\1]", str(n)) for n in matrix.columns]
    values = np.asarray(matrix.to_numpy(dtype=np.float64), dtype=np.float64)
    del matrix  # (a chunk of a big design: one copy of it at a time)
    is_offset = np.array([n.startswith("offset(") for n in names], dtype=bool)
    offset = None
    if is_offset.any():
        offset = values[:, is_offset].sum(axis=1)
        values, names = values[:, ~is_offset], [n for n, o in zip(names, is_offset) if not o]
    bad = ~np.isfinite(values)
    if offset is not None:
        bad = np.column_stack([bad, ~np.isfinite(offset)])
        names_checked = [*names, "offset"]
    else:
        names_checked = names
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        value = values[i, j] if j < values.shape[1] else offset[i]
        raise DataError(f"{label}: row {rows[i]}: the {what} term '{names_checked[j]}' is {show(value)}, not a "
                        "finite number", kind="value", row=int(rows[i]))
    return values, names, offset


def _weights(column: Column, label: str) -> np.ndarray:
    values = _typed(column)
    if values.dtype == object:
        raise DataError(f"{column.where(0)}: weight {show(column.values[0])} is not a number", kind="weight",
                        row=int(column.rows[0]))
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        i = bad[0]
        raise DataError(f"{column.where(i)}: weight {show(column.values[i])} is not a non-negative number",
                        kind="weight", row=int(column.rows[i]))
    return values
