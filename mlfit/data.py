"""Reading one column of a CSV (a path, a .gz, or standard input) and checking it against a
family's support. Every message about bad input is made here, naming file, column, row and value.

Rows are counted as data rows: the first row after the header is row 1.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import sys
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import DataError, UsageError

STDIN = "-"
MISSING_MARKERS = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A", "<NA>")
GZIP_MAGIC = b"\x1f\x8b"
ENCODING = "utf-8-sig"  # UTF-8, with or without the byte-order mark Excel writes


@dataclass(frozen=True)
class Column:
    source: str  # the file as the user named it, or "<stdin>"
    name: str
    values: np.ndarray  # the cells that are not missing, in file order
    rows: np.ndarray  # the 1-based data row of each value
    dropped: int  # missing cells skipped

    def where(self, index: int) -> str:
        return f"{self.source}: column '{self.name}', row {self.rows[index]}"


def read_column(source: str, column: str | None = None, *, text: bool = False) -> Column:
    """Read one column. `text=True` keeps cells exactly as written (for category labels);
    otherwise numbers are parsed, and cells that are not numbers are kept for the error message."""
    label = "<stdin>" if source == STDIN else source
    handle = _open(source, label)
    try:
        header, first_row = _peek(handle, label)
        handle.seek(0)
        # R's write.csv names its row-name column ""; write.table leaves it out of the header.
        if len(first_row) == len(header) + 1:
            header = ["", *header]
        has_row_names = len(header) > 1 and header[0] == ""
        names = header[1:] if has_row_names else header
        position = _choose(names, column, label) + (1 if has_row_names else 0)
        name = header[position]
        cells = _read_cells(handle, label, len(header), position, text)
    finally:
        handle.close()

    missing = cells.isna().to_numpy()
    values = cells.to_numpy()[~missing]
    if not text and values.dtype == object:
        values = values.astype(str)
    return Column(label, name, values, np.flatnonzero(~missing) + 1, int(missing.sum()))


def _open(source: str, label: str):
    if source == STDIN:
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("FILE is '-' but standard input is a terminal: pipe a CSV in, or name a file")
        handle = io.BytesIO(sys.stdin.buffer.read())
    else:
        if not os.path.exists(source):
            raise UsageError(f"{label}: no such file")
        if os.path.isdir(source):
            raise UsageError(f"{label}: is a directory, not a CSV file")
        try:
            handle = open(source, "rb")
        except OSError as error:
            raise UsageError(f"{label}: cannot open: {error.strerror.lower()}") from None
    if handle.read(2) == GZIP_MAGIC:
        handle.seek(0)
        return gzip.GzipFile(fileobj=handle, mode="rb")
    handle.seek(0)
    return handle


def _peek(handle, label: str) -> tuple[list[str], list[str]]:
    """The header and the first data row, parsed with the csv module."""
    wrapper = io.TextIOWrapper(handle, encoding=ENCODING, newline="")
    try:
        reader = csv.reader(wrapper)
        header = next(reader, None)
        first_row = next(reader, [])
    except UnicodeDecodeError:
        raise DataError(f"{label}: not a text CSV (it is not UTF-8)") from None
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{label}: cannot read: {error}") from None
    except csv.Error as error:
        raise DataError(f"{label}: not a valid CSV: {error}") from None
    finally:
        wrapper.detach()
    if not header:
        raise DataError(f"{label}: the file is empty (no header row)")
    return [cell.strip() for cell in header], first_row


def _choose(names: list[str], column: str | None, label: str) -> int:
    listing = ", ".join(repr(n) for n in names)
    if column is None:
        if len(names) == 1:
            return 0
        raise UsageError(f"{label}: has {len(names)} columns ({listing}); choose one with --column")
    matches = [i for i, n in enumerate(names) if n == column]
    if not matches:
        raise UsageError(f"{label}: no column '{column}'; the columns are {listing}")
    if len(matches) > 1:
        raise UsageError(f"{label}: the header names column '{column}' {len(matches)} times")
    return matches[0]


def _read_cells(handle, label: str, width: int, position: int, text: bool) -> pd.Series:
    # Every column is parsed, not just `position`: pandas silently drops the surplus cells of
    # an over-long row when told to read only some columns, and a ragged file must be reported.
    # Positional names sidestep pandas' renaming of empty and duplicate header cells.
    names = [f"c{i}" for i in range(width)]
    try:
        frame = pd.read_csv(
            handle,
            header=0,
            names=names,
            dtype={names[position]: str} if text else None,
            keep_default_na=False,
            na_values=list(MISSING_MARKERS),
            skipinitialspace=True,
            skip_blank_lines=False,  # a blank line in a one-column file is an empty cell
            encoding=ENCODING,
            index_col=False,
        )
    except UnicodeDecodeError:
        raise DataError(f"{label}: not a text CSV (it is not UTF-8)") from None
    except pd.errors.ParserError as error:
        raise DataError(f"{label}: not a valid CSV: {_first_line(error)}") from None
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{label}: cannot read: {_first_line(error)}") from None
    return frame[names[position]]


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


# --- values against a family's support ---------------------------------------------------

def to_support(column: Column, family) -> np.ndarray:
    """The column's values as the family takes them, or a DataError at the first that does not fit."""
    if column.values.size == 0:
        what = f"only missing cells ({column.dropped})" if column.dropped else "no rows"
        raise DataError(f"{column.source}: column '{column.name}' has {what}; there is nothing to fit")
    support = family.support
    if not support.numeric:
        return column.values
    numbers = _as_numbers(column, accept_true_false=family.name == "bernoulli")
    bad = np.flatnonzero(support.violations(numbers))
    if bad.size:
        i = bad[0]
        raise DataError(f"{column.where(i)}: {_show(column.values[i])} is not {support.description}, "
                        f"which {family.name} needs")
    return numbers


def _as_numbers(column: Column, accept_true_false: bool) -> np.ndarray:
    values = column.values
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    cells = pd.Series(values, dtype=object).astype(str).str.strip()
    if accept_true_false:
        lowered = cells.str.lower()
        cells = cells.mask(lowered == "true", "1").mask(lowered == "false", "0")
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numbers))
    if bad.size:
        raise DataError(f"{column.where(bad[0])}: {_show(values[bad[0]])} is not a number")
    return numbers


def _show(value) -> str:
    if isinstance(value, str):
        return repr(str(value))
    return np.format_float_positional(float(value), trim="-")
