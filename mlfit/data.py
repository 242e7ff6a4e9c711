"""Reading columns of a file (a CSV, a compressed one, standard input, a URL, Parquet) and checking
them against a family's support: the API the commands read through. Every message about bad input
is made here or in the modules it reads with (columns, sources, csvtext), naming file, column, row
and value.

Rows are counted as data rows: the first row after the header is row 1.
"""

from __future__ import annotations

import collections
import contextlib
import os

import numpy as np
import pandas as pd

from .errors import DataError, UsageError
from .columns import COMMENT_MARKS, STDIN, ReadOptions, DEFAULT, Column, _column, column_name, joined, memory_column, _cut, _show
from .sources import _size, _position, _open
from .csvtext import _layout, _choose, CHUNK_ROWS, _frames


def weight_positions(rows: np.ndarray, weights: Column, label: str | None = None) -> np.ndarray:
    """Where each of `rows` sits among the weights' rows; a row with no weight is an error naming it
    (`mlfit fit --weights` and `mlfit regress --weights` alike)."""
    at = np.searchsorted(weights.rows, rows)
    found = at < len(weights.rows)
    found[found] = weights.rows[at[found]] == rows[found]
    if not found.all():
        row = int(rows[np.flatnonzero(~found)[0]])
        raise DataError(f"{label or weights.source}: column '{weights.name}', row {row}: the weight is missing",
                        kind="weight", row=row)
    return at


def with_weights(column: Column, weights: Column) -> Column:
    """The column with each value's weight from the same row of `weights`. A missing, negative or
    non-numeric weight on a row whose value is used is an error naming that row."""
    try:
        numbers = _as_numbers(weights, accept_true_false=False)
    except DataError as error:
        raise DataError(str(error), kind="weight", row=error.row) from None
    at = weight_positions(column.rows, weights)
    values = numbers[at]
    bad = np.flatnonzero(~np.isfinite(values) | (values < 0))
    if bad.size:
        i = int(at[bad[0]])
        raise DataError(f"{weights.where(i)}: weight {_show(weights.values[i])} is not a non-negative number",
                        kind="weight", row=int(weights.rows[i]))
    return Column(column.source, column.name, column.values, column.rows, column.dropped, column.decimal, values)


def weighted_memory_column(values, name: str | None, weights=None, *, text: bool = False) -> Column:
    """Values in memory as reading gives a column (None and NaN missing), each with its weight
    where `weights` gives one per value."""
    data = memory_column(values, column_name(values, name), text=text)
    if weights is None:
        return data
    weights = np.asarray(weights, dtype=float)
    count = len(data.values) + data.dropped
    if weights.shape != (count,):
        raise UsageError(f"{len(weights)} weights for {count} values: give one weight per value")
    return with_weights(data, Column("<data>", "weights", weights, np.arange(1, count + 1), 0))


def read_weighted(source: str, column: str | None, weights: str | None, *, text: bool = False,
                  options: ReadOptions = DEFAULT) -> Column:
    """One column, with each value's weight from the column `weights` when that is given."""
    return joined(list(iter_weighted(source, column, weights, text=text, options=options)))


def iter_weighted(source: str, column: str | None, weights: str | None, *, text: bool = False,
                  options: ReadOptions = DEFAULT, progress=None):
    """One column (None: the only one there is) a chunk at a time, each value with its weight
    from the column `weights` when that is given. See iter_columns."""
    require_column_for_weights(column, weights)
    names = None if column is None else [column, *([weights] if weights else [])]
    for chunk in iter_columns(source, names, text=text, options=options, only_one=column is None, progress=progress):
        yield with_weights(chunk[0], chunk[1]) if weights else chunk[0]


def label_of(paths: list[str]) -> str:
    """How results name a data set: its one file, or how many files, first and last."""
    return paths[0] if len(paths) == 1 else f"{len(paths)} files ({paths[0]} ... {paths[-1]})"


def require_column_for_weights(column: str | None, weights: str | None) -> None:
    """Weights pair with a named column: "the only column" would be the weights column itself."""
    if weights is not None and column is None:
        raise UsageError("with --weights, name the column to fit with --column")


def iter_columns(source: str, columns: list[str] | None = None, *, text: bool = False,
                 options: ReadOptions = DEFAULT, only_one: bool = False, unknown: list | None = None,
                 progress=None, exact_zeros: bool = True):
    """The wanted columns a chunk of rows at a time: for each chunk a list of Columns, rows
    numbered in the whole file. Memory holds one chunk; at least one (perhaps empty) is given.
    `progress(done, total)` is called with the bytes read so far (total None when unknown).
    `exact_zeros`: a cell like 1e-400 comes as its text, for the checks of a count column to refuse
    (False: as the 0.0 float64 rounds it to, which a real-valued column takes as it is)."""
    label = "<stdin>" if source == STDIN else source
    if source != STDIN and _parquet(source):
        yield from _iter_parquet(source, columns, text, options, only_one, unknown)
        return
    with contextlib.ExitStack() as opened:  # the file, and the decompressor or archive over it
        handle = _open(source, label, opened)
        total = _size(handle)
        options, header, offset, sep = _layout(handle, label, options)
        names = header[offset:]
        if only_one:
            positions = [_choose(names, None, label)]
        elif columns is None:  # every column, but one the header names twice is no column's name
            positions, times, reported = [], collections.Counter(names), set()
            for i, name in enumerate(names):
                if times[name] == 1:
                    positions.append(i)
                elif name not in reported:
                    reported.add(name)
                    error = UsageError(f"{label}: the header names column '{name}' {times[name]} times",
                                       kind="column")
                    if unknown is None:
                        raise error
                    unknown.append((name, error))
        else:
            positions = []
            for column in columns:
                try:
                    positions.append(_choose(names, column, label))
                except UsageError as error:
                    if unknown is None:
                        raise
                    unknown.append((column, error))
        given = False
        for cells, first in _frames(handle, label, len(header), [p + offset for p in positions], text, sep, options,
                                    exact_zeros):
            if progress is not None:
                progress(_position(handle), total)
            every_row = np.arange(first + 1, first + 1 + len(cells[0])) if cells else None
            yield [_column(label, names[p], column, first, text, options.decimal, every_row)
                   for p, column in zip(positions, cells)]
            given = True
        if not given:
            empty = np.array([], dtype=object if text else float)
            yield [_column(label, names[p], empty, 0, text, options.decimal) for p in positions]


def _parquet(source: str) -> bool:
    from .parquet import is_parquet

    return is_parquet(source)


def _iter_parquet(source: str, columns, text: bool, options: ReadOptions, only_one: bool, unknown):
    """iter_columns for a Parquet file: its columns by name, a batch of rows at a time."""
    from . import parquet

    names = parquet.column_names(source)
    if only_one:
        wanted = [names[_choose(names, None, source)]]
    elif columns is None:
        wanted = names
    else:
        wanted = []
        for column in columns:
            try:
                wanted.append(names[_choose(names, column, source)])
            except UsageError as error:
                if unknown is None:
                    raise
                unknown.append((column, error))
    given = False
    for arrays, first in parquet.batches(source, wanted, CHUNK_ROWS, options.part):
        yield [_column(source, name, cells, first, text, options.decimal) for name, cells in zip(wanted, arrays)]
        given = True
    if not given:
        empty = np.array([], dtype=object if text else float)
        yield [_column(source, name, empty, 0, text, options.decimal) for name in wanted]


def column_names(source: str, options: ReadOptions = DEFAULT) -> list[str]:
    """The names of a file's columns as iter_columns names them (R's row-name column left out)."""
    if source != STDIN and _parquet(source):
        from .parquet import column_names as parquet_names

        return parquet_names(source)
    label = "<stdin>" if source == STDIN else source
    with contextlib.ExitStack() as opened:
        options, header, offset, _ = _layout(_open(source, label, opened), label, options)
        return header[offset:]


def check_output(path: str, inputs: tuple[str, ...], what: str) -> None:
    """Refuse, before any work, an output file (`what`: "the plot") in a folder that does not
    exist, or that is one of the inputs: mlfit never writes to its input."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{path}: cannot write {what}: no directory {folder}")
    for source in inputs:
        if source != STDIN and os.path.exists(source) and os.path.exists(path) and os.path.samefile(source, path):
            raise UsageError(f"{path}: is the input file; mlfit never writes to its input")


@contextlib.contextmanager
def written_atomically(path: str, what: str):
    """A text file written under a temporary name beside `path` and renamed over it only once
    every byte is on disk: a full disk or an interruption leaves `path` as it was (or absent), never
    a cut or empty file. A write the disk refuses is one line naming the file."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".mlfit-", suffix=".csv", dir=folder)
    try:
        with open(handle, "w", newline="", encoding="utf-8") as stream:
            yield stream
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temporary, 0o666 & ~mask)  # mkstemp's 0600 is for the temporary name only
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError) and error.errno is not None:
            raise DataError(f"{path}: cannot write {what}: {(error.strerror or str(error)).lower()}",
                            kind="file") from None
        raise




# --- values against a family's support ---------------------------------------------------

def to_support(column: Column, family) -> np.ndarray:
    """The column's values as the family takes them, or a DataError at the first that does not fit."""
    if column.values.size == 0:
        raise nothing_to_fit(column.source, column.name, column.dropped)
    return support_values(column, family)


def nothing_to_fit(source: str, name: str, dropped: int) -> DataError:
    what = f"only missing cells ({dropped})" if dropped else "no rows"
    return DataError(f"{source}: column '{name}' has {what}; there is nothing to fit", kind="empty")


def weighs_nothing(source: str, name: str) -> DataError:
    return DataError(f"{source}: column '{name}': its weights sum to 0; there is nothing to fit", kind="empty")


def support_values(column: Column, family) -> np.ndarray:
    """Like to_support, for a chunk of a column, which may hold no values at all."""
    if column.values.size == 0:
        return column.values.astype(float) if family.support.numeric else column.values
    support = family.support
    if not support.numeric:
        return column.values
    try:
        numbers = _as_numbers(column, accept_true_false=support.accepts_true_false,
                              refuse_underflow=support.discrete)
        bad = np.flatnonzero(support.violations(numbers))
        if bad.size:
            i = bad[0]
            raise DataError(f"{column.where(i)}: {_show(column.values[i])} is not {support.description}, "
                            f"which {family.name} needs", kind="value", row=int(column.rows[i]))
    except DataError as error:
        raise DataError(str(error) + _comment_hint(column.name), kind=error.kind, row=error.row,
                        other_kind=accepted_share(column, family.support) < 0.5) from None
    return numbers




def _comment_hint(name: str) -> str:
    """A column named like a comment line ('# a note') is the notes before the header, read as it."""
    return (f" (the column's name '{_cut(name, 40)}' looks like a note before the header: skip such lines with "
            f"--comment '{name[0]}' or --skip N)" if name[:1] in COMMENT_MARKS else "")


def accepted_share(column: Column, support) -> float:
    """The share of a (chunk of a) column's values that the support accepts: near 1 for a numeric
    column with a typo in it, near 0 for a text column or measurements offered to a count family."""
    values = column.values
    if not len(values) or not support.numeric:
        return 1.0
    if values.dtype.kind in "biuf":
        numbers = values.astype(np.float64)
    else:
        cells = text_cells(values, column.decimal)
        if support.accepts_true_false:
            lowered = cells.str.lower()
            cells = cells.mask(lowered == "true", "1").mask(lowered == "false", "0")
        numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        accepted = ~np.isnan(numbers) & ~support.violations(numbers)
    return float(accepted.mean())


def text_cells(values: np.ndarray, decimal: str = ".") -> pd.Series:
    """Cells as written, trimmed, with the decimal mark made a point: ready for pd.to_numeric."""
    cells = pd.Series(values, dtype=object).astype(str).str.strip()
    return cells.str.replace(decimal, ".", regex=False) if decimal != "." else cells


def _as_numbers(column: Column, accept_true_false: bool, refuse_underflow: bool = False) -> np.ndarray:
    """The column's cells as float64. `refuse_underflow`: a cell like 1e-400, which float64 can only
    hold as 0, is an error rather than a 0 (a count or a 0/1 column)."""
    values = column.values
    if values.dtype.kind in "biuf":
        return values.astype(np.float64)
    cells = text_cells(values, column.decimal)
    if accept_true_false:
        lowered = cells.str.lower()
        cells = cells.mask(lowered == "true", "1").mask(lowered == "false", "0")
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=np.float64)
    bad = np.flatnonzero(np.isnan(numbers))
    if bad.size:
        raise DataError(f"{column.where(bad[0])}: {_show(values[bad[0]])} is not a number", kind="value",
                        row=int(column.rows[bad[0]]))
    if refuse_underflow:
        zeros = np.flatnonzero(numbers == 0)
        written = cells.iloc[zeros].str.contains(r"^[^eE]*[1-9]", regex=True).to_numpy(dtype=bool)
        if written.any():
            i = zeros[np.flatnonzero(written)[0]]
            raise DataError(f"{column.where(i)}: {_show(values[i])} is not 0 but is too small for float64, which "
                            "would read it as 0", kind="value", row=int(column.rows[i]))
    return numbers


