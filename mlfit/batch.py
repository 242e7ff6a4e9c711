"""Many fits in one call: several files, several columns (or every column), one record each.

A fit that fails becomes an error record and the rest go on, so one bad file does not cost a
batch job the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .data import STDIN, ReadOptions, read_columns, with_weights
from .errors import MlfitError, UsageError
from .families import get_family
from .result import FitResult


@dataclass(frozen=True)
class Record:
    file: str
    column: str | None
    result: FitResult | None = None
    error: MlfitError | None = None
    skipped: bool = False  # --columns-all: a column whose values the family does not accept

    def to_dict(self) -> dict:
        if self.result is not None:
            return self.result.to_dict()
        return {"file": self.file, "column": self.column,
                "error": {"kind": self.error.kind, "message": str(self.error), "row": self.error.row}}


def fit_many(files: list[str], distribution: str, columns: list[str] | None = None, *, every_column: bool = False,
             weights: str | None = None, read_options: ReadOptions, **fit_options) -> Iterator[Record]:
    """One record per (file, column), in the order given. `every_column` fits each column the
    family accepts and marks the others skipped; `weights` names a column of case weights."""
    from .api import fit_column

    family = get_family(distribution)
    for source in files:
        label = "<stdin>" if source == STDIN else source
        unknown: list = []
        wanted = None if every_column else (columns or None)
        try:
            data = read_columns(source, wanted if weights is None or wanted is None else [*wanted, weights],
                                text=not family.support.numeric, options=read_options,
                                only_one=not every_column and not columns, unknown=unknown)
            counts = _take(data, weights, label) if weights is not None else None
        except MlfitError as error:
            for name in (columns if columns and not every_column else [None]):
                yield Record(label, name, error=error)
            continue
        for name, error in unknown:
            yield Record(label, name, error=error)
        for column in data:
            try:
                if counts is not None:
                    column = with_weights(column, counts)
                yield Record(label, column.name, result=fit_column(column, family, **fit_options))
            except MlfitError as error:
                yield Record(label, column.name, error=error, skipped=every_column and error.kind == "value")


def _take(data: list, name: str, label: str):
    """Remove the weights column from the columns to fit and return it."""
    for i, column in enumerate(data):
        if column.name == name:
            return data.pop(i)
    raise UsageError(f"{label}: no weights column '{name}'", kind="column")
