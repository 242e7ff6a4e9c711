"""Parquet files, read a column at a time with pyarrow (imported here only: pip install
'.[dask]' from a clone, or pyarrow alone), in batches of rows: the same Columns the CSV reader gives, so the
missing-value rules (a null is a missing cell), support checks and messages are the same."""

from __future__ import annotations

import os

import numpy as np

from .errors import DataError, UsageError

MAGIC = b"PAR1"


def is_parquet(source: str) -> bool:
    """A regular file whose first bytes are Parquet's magic number (whatever its name), or a URL
    whose name ends in .parquet. A pipe or a process substitution is never looked at here: reading
    its first bytes would take them from the CSV reader (and Parquet cannot be read from a stream)."""
    if "://" in source:
        return source.endswith(".parquet")
    if not os.path.isfile(source):
        return False
    try:
        with open(source, "rb") as handle:
            return handle.read(4) == MAGIC
    except OSError:
        return False


def _open(source: str):
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise UsageError(f"{source}: reading Parquet needs pyarrow: pip install pyarrow (from a clone of mlfit, pip install '.[dask]' installs it)") from None
    try:
        if "://" in source:  # through fsspec, as the CSV reader opens URLs
            import contextlib

            from .remote import open_remote as _open_remote

            return pq.ParquetFile(_open_remote(source, source, contextlib.ExitStack()))
        return pq.ParquetFile(source)
    except (UsageError, DataError):
        raise
    except Exception as error:  # pyarrow's ArrowInvalid and OSError for a damaged file
        raise DataError(f"{source}: not a valid Parquet file: {str(error).splitlines()[0]}", kind="csv") from None


def column_names(source: str) -> list[str]:
    return list(_open(source).schema_arrow.names)


def batches(source: str, names: list[str], rows_per_batch: int, part=None):
    """(arrays, first row) per batch of rows: each wanted column as numpy (nulls NaN in numbers,
    None in text), rows numbered from 0 before the batch; `part` (a mlfit.data.Part): its row
    groups only."""
    parquet = _open(source)
    first = 0 if part is None else part.rows_before
    groups = None if part is None else list(range(part.start, part.stop))
    try:
        for batch in parquet.iter_batches(batch_size=rows_per_batch, columns=names, row_groups=groups):
            arrays = [_numpy(batch.column(i)) for i in range(len(names))]
            yield arrays, first
            first += batch.num_rows
    except (OSError, ValueError) as error:
        raise DataError(f"{source}: not a valid Parquet file: {str(error).splitlines()[0]}", kind="csv") from None


def _numpy(array) -> np.ndarray:
    import pyarrow as pa

    kind = array.type
    if pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return array.cast(pa.float64()).to_numpy(zero_copy_only=False)  # (a null becomes NaN)
    if pa.types.is_boolean(kind):
        values = array.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return values
    return np.array(array.cast(pa.string()).to_pylist(), dtype=object)  # text: None where null


def row_groups(source: str) -> list[tuple[int, int]]:
    """Each row group's rows and bytes (uncompressed), from the file's footer."""
    metadata = _open(source).metadata
    return [(metadata.row_group(i).num_rows, metadata.row_group(i).total_byte_size)
            for i in range(metadata.num_row_groups)]
