"""The first pass over a regression's rows: which used columns hold numbers and which categories
(and all their levels), the response's classes, the rows used and left out. Counted chunk by chunk
and merged across files, so that every chunk's design, built later, has the same columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..data import text_cells
from ..errors import UsageError
from .design import MAX_COEFFICIENTS, Layout, complete_rows, response_classes, scale_terms, split_formula, used_columns


def _summed(a: dict, b: dict) -> dict:
    return {key: a[key] + b[key] for key in a}


@dataclass
class ColumnTally:
    """What the first pass counts in a file (or a run of files, merged): each used column's numeric
    and other cells and their distinct values (up to the coefficient limit), the response's
    classes, the rows used and spanned."""

    numeric_cells: dict
    other_cells: dict
    texts: dict
    numbers: dict
    classes: set
    used: int = 0
    spanned: int = 0

    def merge(self, other: "ColumnTally") -> "ColumnTally":
        return ColumnTally(_summed(self.numeric_cells, other.numeric_cells), _summed(self.other_cells, other.other_cells),
                     {name: self.texts[name] | other.texts[name] for name in self.texts},
                     {name: self.numbers[name] | other.numbers[name] for name in self.numbers},
                     self.classes | other.classes, self.used + other.used, self.spanned + other.spanned)


def tally_file(rows, source) -> ColumnTally:
    """One file's part of the first pass."""
    found = new_tally(rows)
    start, chunks = rows.column_chunks(source)
    for chunk in chunks:
        start = tally_chunk(rows, found, chunk, start)
    return found


def new_tally(rows) -> ColumnTally:
    _, terms = split_formula(rows.formula)
    wanted = rows.wanted
    return ColumnTally(dict.fromkeys(wanted, 0), dict.fromkeys(wanted, 0), {name: set() for name in wanted},
                       {name: set() for name in _inside_c([terms, scale_terms(rows.sigma)], wanted)}, set())


def tally_chunk(rows, found: ColumnTally, chunk, start: int) -> int:
    """Count one chunk of columns (its rows after row `start`) into `found`; the rows after it."""
    response, terms = split_formula(rows.formula)
    sigma_terms = scale_terms(rows.sigma)
    term_columns = set(used_columns([terms, sigma_terms], rows.wanted))
    needed = {*used_columns([response, terms, sigma_terms], rows.wanted), rows.weights}
    used, size = complete_rows(chunk, needed, start)
    found.spanned += size
    found.used += len(used)
    for column in chunk:
        at = np.searchsorted(column.rows, used)
        values = column.values[at] if len(column.rows) != len(used) else column.values
        if values.dtype.kind in "biuf":
            found.numeric_cells[column.name] += len(values)
            parsed = values.astype(float)
        else:
            parsed = pd.to_numeric(text_cells(values, column.decimal), errors="coerce").to_numpy(dtype=float)
            found.numeric_cells[column.name] += int(np.sum(~np.isnan(parsed)))
            found.other_cells[column.name] += int(np.sum(np.isnan(parsed)))
            if column.name in term_columns and len(found.texts[column.name]) <= MAX_COEFFICIENTS:
                found.texts[column.name].update(str(v) for v in values)
        if column.name in found.numbers and len(found.numbers[column.name]) <= MAX_COEFFICIENTS:
            found.numbers[column.name].update(parsed[~np.isnan(parsed)].tolist())
        if column.name == _name(response) and not rows.family.support.numeric \
                and len(found.classes) <= MAX_COEFFICIENTS + 1:
            found.classes.update(response_classes(values))
    return start + size


def survey_layout(rows) -> Layout:
    """The first pass: each used column's kind (numbers, or categories with their levels), the
    response's classes, and the rows used and left out."""
    rows.passes += 1
    return layout_of(rows, rows.tally())


def layout_of(rows, found: ColumnTally) -> Layout:
    _, terms = split_formula(rows.formula)
    categorical = {}
    for name in used_columns([terms, scale_terms(rows.sigma)], rows.wanted):
        other, numeric = found.other_cells[name], found.numeric_cells[name]
        if other * 2 >= other + numeric and other:
            levels = found.texts[name]
            if len(levels) > MAX_COEFFICIENTS:
                raise UsageError(f"{rows.label}: column '{name}' has more than {MAX_COEFFICIENTS:,} distinct values: "
                                 f"as a categorical term it would make more than the {MAX_COEFFICIENTS:,} "
                                 "coefficients regress fits")
            categorical[name] = sorted(levels)
        elif name in found.numbers:
            categorical[name] = sorted(found.numbers[name])
    ordered = None
    if not rows.family.support.numeric:
        ordered = response_classes(list(found.classes))
    return Layout(categorical, ordered, found.used, found.spanned - found.used)


def _name(response: str) -> str:
    return response[1:-1] if response.startswith("`") and response.endswith("`") else response


def _inside_c(texts, names):
    found = []
    for name in names:
        plain = re.escape(name)
        if any(re.search(rf"C\(\s*(`{plain}`|{plain})\s*[,)]", text) for text in texts):
            found.append(name)
    return found
