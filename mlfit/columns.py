"""What reading gives: a column's values with their file rows, and the options a file is read with."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd



STDIN = "-"


MISSING_MARKERS = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A", "<NA>")


SEPARATORS = (",", "\t", ";", "|")


SHOWN_LENGTH = 40  # a value longer than this is cut in messages, which stay one short line
COMMENT_MARKS = ("#", "%", ";")


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    sep: str | None = None  # None: detect comma, tab, semicolon or pipe from the first lines
    decimal: str = "."
    header: bool = True  # without one, columns are named by 1-based position: "1", "2", ...
    encoding: str = "utf-8-sig"  # UTF-8, with or without the byte-order mark Excel writes
    na: tuple[str, ...] = ()  # more missing-value markers
    comment: str | None = None  # lines starting with this character are skipped, before the header or after
    skip: int = 0  # lines skipped before anything is read (a title, notes)
    part: "Part | None" = None  # read this part of the file only (a task of a distributed run)

    def is_comment(self, line: str) -> bool:
        return self.comment is not None and line.startswith(self.comment)

    @property
    def missing(self) -> list[str]:
        return [*MISSING_MARKERS, *self.na]


DEFAULT = ReadOptions()


@dataclasses.dataclass(frozen=True)
class Part:
    """A part of a file read on its own, its rows numbered as in the whole file: the records that
    begin in bytes [start, stop) of a CSV file (a record begins after a newline outside quotes;
    the header is read as usual), or row groups [start, stop) of a Parquet file."""
    start: int
    stop: int
    rows_before: int  # data rows in the file before the part


@dataclasses.dataclass(frozen=True)
class Column:
    source: str  # the file as the user named it, or "<stdin>"
    name: str
    values: np.ndarray  # the cells that are not missing, in file order
    rows: np.ndarray  # the 1-based data row of each value
    dropped: int  # missing cells skipped
    decimal: str = "."  # the decimal mark of numbers still written as text
    weights: np.ndarray | None = None  # case/frequency weights, one per value (--weights)

    def where(self, index: int) -> str:
        return f"{self.source}: column '{self.name}', row {self.rows[index]}"


def column_name(values, name: str | None) -> str:
    """The name a column of values in memory goes by: the one given, a pandas Series' own, or x."""
    if name is not None:
        return str(name)
    own = getattr(values, "name", None)
    return str(own) if own is not None else "x"


def memory_column(values, name: str, text: bool = False) -> Column:
    """Values held in memory (a list, an array, a pandas Series) as a Column: None and NaN are
    missing cells, counted; `text` keeps every value as the object it is (labels), else numbers
    stay numbers (whole ones as float64)."""
    raw = np.asarray(values, dtype=object if text else None)
    if raw.dtype == object:
        missing = np.array([v is None or (isinstance(v, float) and np.isnan(v)) for v in raw], dtype=bool)
    else:
        raw = raw.astype(np.float64) if raw.dtype.kind in "biu" else raw
        missing = np.isnan(raw) if raw.dtype.kind == "f" else np.zeros(len(raw), dtype=bool)
    return Column("<data>", name, raw[~missing], np.flatnonzero(~missing) + 1, int(missing.sum()))


def _column(label: str, name: str, cells: np.ndarray, first: int, text: bool, decimal: str,
            every_row: np.ndarray | None = None) -> Column:
    """`every_row`: the chunk's row numbers, shared by its columns that miss no cell (a chunk of many
    columns held in memory would otherwise hold them once a column)."""
    missing = np.isnan(cells) if cells.dtype.kind == "f" else pd.isna(cells)
    if missing.any():
        present = ~missing
        values, rows = cells[present], first + 1 + np.flatnonzero(present)
    else:  # (most chunks: no copy, and row numbers without a search)
        values = cells
        rows = every_row if every_row is not None else np.arange(first + 1, first + 1 + len(cells))
    if not text and values.dtype == object:
        values = values.astype(str)
    return Column(label, name, values, rows, len(cells) - len(values), decimal)


def joined(chunks: list[Column]) -> Column:
    """One column from its chunks, in order."""
    first = chunks[0]
    if len(chunks) == 1:
        return first
    values = [c.values for c in chunks]
    if any(v.dtype == object for v in values):  # text in some chunk: keep every cell as text
        values = [v.astype(str).astype(object) if v.dtype != object else v for v in values]
    weights = None if first.weights is None else np.concatenate([c.weights for c in chunks])
    return Column(first.source, first.name, np.concatenate(values), np.concatenate([c.rows for c in chunks]),
                  sum(c.dropped for c in chunks), first.decimal, weights)


def _cut(text: str, length: int = SHOWN_LENGTH) -> str:
    return text if len(text) <= length else text[: length - 3] + "..."


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _show(value) -> str:
    """A cell for a message: text as written; a number as its shortest round-trip form (1e-320,
    not the 330 digits of its exact decimal expansion)."""
    if isinstance(value, str):
        return repr(_cut(str(value)))
    number = float(value)
    if number == 0 or 1e-6 <= abs(number) < 1e16 or not np.isfinite(number):
        return np.format_float_positional(number, trim="-")
    return repr(number)


def frame_columns(data, label: str = "<data>") -> list[Column]:
    """The columns of a table in memory (a pandas DataFrame, or a dict of equal-length columns), as
    reading a file gives them: None and NaN are missing cells, each column's rows counted from 1."""
    frame = pd.DataFrame(data)
    columns = []
    for name in frame.columns:
        values = frame[name].to_numpy()
        missing = pd.isna(values)
        columns.append(Column(label, str(name), values[~missing], np.flatnonzero(~missing) + 1, int(missing.sum())))
    return columns
