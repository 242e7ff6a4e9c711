"""Many fits in one call: several files, several columns (or every column), one record each.

A fit that fails becomes an error record and the rest go on, so one bad file does not cost a
batch job the others.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .columns import STDIN, ReadOptions
from .errors import MlfitError
from .families import get_family
from .result import FitResult


@dataclass(frozen=True)
class Record:
    file: str
    column: str | None
    result: FitResult | None = None
    error: MlfitError | None = None
    skipped: bool = False  # --columns-all: a column of another kind than the family takes (see MlfitError)

    def to_dict(self) -> dict:
        if self.result is not None:
            return self.result.to_dict()
        return {"file": self.file, "column": self.column,
                "error": {"kind": self.error.kind, "message": str(self.error), "row": self.error.row}}


def fit_many(files: list[str], distribution: str, columns: list[str] | None = None, *, every_column: bool = False,
             weights: str | None = None, read_options: ReadOptions, **fit_options) -> Iterator[Record]:
    """One record per (file, column), in the order given. `every_column` fits each column the
    family accepts and marks the others skipped; `weights` names a column of case weights.
    Each file is read once, whatever the number of columns, in bounded memory."""
    from .fits import fit_columns

    get_family(distribution, fit_options.get("trials"))  # an unknown family is a usage error before any file is read
    for source in files:
        label = "<stdin>" if source == STDIN else source
        unknown: list = []
        try:
            fitted = fit_columns(source, distribution, None if every_column else (columns or None),
                                 only_one=not every_column and not columns, weights=weights,
                                 read_options=read_options, unknown=unknown, **fit_options)
        except MlfitError as error:
            for name in (columns if columns and not every_column else [None]):
                yield Record(label, name, error=error)
            continue
        for name, error in unknown:
            yield Record(label, name, error=error)
        for name, outcome in fitted:
            if isinstance(outcome, MlfitError):
                yield Record(label, name, error=outcome, skipped=every_column and outcome.other_kind)
            else:
                yield Record(label, name, result=outcome)
