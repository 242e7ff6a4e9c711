"""Reading columns of a CSV (a path, a compressed file, or standard input) and checking them
against a family's support. Every message about bad input is made here, naming file, column,
row and value.

Rows are counted as data rows: the first row after the header is row 1.
"""

from __future__ import annotations

import atexit
import bz2
import collections
import contextlib
import csv
import dataclasses
import gzip
import io
import lzma
import os
import re
import shutil
import sys
import tempfile
import warnings
import zipfile
import zlib

import numpy as np
import pandas as pd

from .errors import DataError, UsageError
from .remote import is_remote, open_remote as _open_remote

STDIN = "-"
MISSING_MARKERS = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "#N/A", "<NA>")
SEPARATORS = (",", "\t", ";", "|")
R_TABLE_HEADER = re.compile(r'"[^"]*"( "[^"]*")+\r?\n?')
SHOWN_LENGTH = 40  # a value longer than this is cut in messages, which stay one short line
csv.field_size_limit(2**31 - 1)  # the header peek must not choke on a huge cell; pandas has no limit


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
                 progress=None):
    """The wanted columns a chunk of rows at a time: for each chunk a list of Columns, rows
    numbered in the whole file. Memory holds one chunk; at least one (perhaps empty) is given.
    `progress(done, total)` is called with the bytes read so far (total None when unknown)."""
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
        for cells, first in _frames(handle, label, len(header), [p + offset for p in positions], text, sep, options):
            if progress is not None:
                progress(_position(handle), total)
            yield [_column(label, names[p], column, first, text, options.decimal) for p, column in zip(positions, cells)]
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


def _layout(handle, label: str, options: ReadOptions):
    """The options with the encoding found, the header's cells, how many of them name R's row
    names (0 or 1), and the separator; the handle is left at the start."""
    options = _sniff_encoding(handle, label, options)
    header, first_row, sep, quoted = _peek(handle, label, options)
    handle.seek(0)
    # R's write.csv names its row-name column ""; write.table leaves it out of the header
    # and quotes the names. Unquoted, a row one cell longer than the header is just ragged
    # (a thousands separator in "1,000", say), and must not be read as a row name and 000.
    if options.header and len(first_row) == len(header) + 1 and quoted:
        header = ["", *header]
    has_row_names = options.header and len(header) > 1 and header[0] == ""
    return options, header, 1 if has_row_names else 0, sep


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


def _underlying(handle):
    """The file under a decompressing reader: sizes and positions count the bytes on disk, so a
    compressed file's progress follows the file itself."""
    return getattr(handle, "fileobj", None) or getattr(handle, "_fp", None) or handle


def _size(handle) -> int | None:
    try:
        return os.fstat(_underlying(handle).fileno()).st_size
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


def _position(handle) -> int:
    try:
        return _underlying(handle).tell()
    except (AttributeError, OSError, ValueError):
        return 0


def _column(label: str, name: str, cells: np.ndarray, first: int, text: bool, decimal: str) -> Column:
    missing = np.isnan(cells) if cells.dtype.kind == "f" else pd.isna(cells)
    if missing.any():
        present = ~missing
        values, rows = cells[present], first + 1 + np.flatnonzero(present)
    else:  # (most chunks: no copy, and row numbers without a search)
        values, rows = cells, np.arange(first + 1, first + 1 + len(cells))
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


MAGIC = (
    (b"\x1f\x8b", lambda handle: gzip.GzipFile(fileobj=handle, mode="rb"), "gzip"),
    (b"BZh", lambda handle: bz2.BZ2File(handle), "bzip2"),
    (b"\xfd7zXZ\x00", lambda handle: lzma.LZMAFile(handle), "xz"),
    (b"PK\x03\x04", None, "zip"),  # zip: handled apart, it is an archive of members
    (b"PK\x05\x06", None, "zip"),  # an empty zip archive: its end record only
)


def _open(source: str, label: str, opened: contextlib.ExitStack):
    """A seekable binary handle on the CSV's bytes, decompressed by what the bytes say they are
    (.gz, .bz2, .xz, a .zip holding one file), so standard input is decompressed too. Standard
    input, FIFOs and process substitutions (<(zcat big.csv.gz)) cannot be read twice, so they are
    spooled once per process. What it opens is closed with `opened`."""
    if is_remote(source):
        handle = _open_remote(source, label, opened)
    elif source == STDIN:
        stdin = sys.stdin
        if stdin is None or _closed(stdin):
            raise UsageError("FILE is '-' but standard input is closed: pipe a CSV in, or name a file")
        if stdin.isatty():
            raise UsageError("FILE is '-' but standard input is a terminal: pipe a CSV in, or name a file")
        handle = opened.enter_context(_spooled(stdin, lambda: stdin.buffer))
    else:
        if not os.path.exists(source):
            raise UsageError(f"{label}: no such file", kind="file")
        if os.path.isdir(source):
            raise UsageError(f"{label}: is a directory, not a CSV file", kind="file")
        try:
            if os.path.isfile(source):
                handle = opened.enter_context(open(source, "rb"))
            else:  # a FIFO, a pipe from the shell, a character device: one pass only
                status = os.stat(source)
                handle = opened.enter_context(
                    _spooled((source, status.st_dev, status.st_ino), lambda: opened.enter_context(open(source, "rb"))))
        except OSError as error:
            raise UsageError(f"{label}: cannot open: {(error.strerror or str(error)).lower()}", kind="file") from None
    head = handle.read(6)
    handle.seek(0)
    for magic, opener, name in MAGIC:
        if head.startswith(magic):
            if opener is not None:
                return _with_newlines(_Guarded(opened.enter_context(opener(handle)), label, name))
            return _with_newlines(_Guarded(_zip_member(handle, label, opened), label, name))
    return _with_newlines(handle)


def _with_newlines(handle):
    """Old Mac files end their lines with a carriage return alone: read with each CR as a newline
    (a byte for a byte, so sizes and positions stay those of the file) where the first 64 KB hold
    CRs and no newline at all."""
    head = handle.read(1 << 16)
    handle.seek(0)
    if b"\r" not in head or b"\n" in head or b"\x00" in head:  # (UTF-16's CR is two bytes: recoded first)
        return handle
    return _CarriageReturns(handle)


class _View(io.BufferedIOBase):
    """A reader over another binary handle, positions and seeks passed through: what the readers
    below share (each gives its own read and read1)."""

    def __init__(self, raw):
        self.raw = raw

    def readable(self):
        return True

    def seekable(self):
        return True

    def seek(self, offset, whence=0):
        return self.raw.seek(offset, whence)

    def tell(self):
        return self.raw.tell()


class _CarriageReturns(_View):
    """A reader that gives each carriage return as a newline."""

    @property
    def fileobj(self):  # sizes and positions: the file's own (see _underlying)
        return _underlying(self.raw)

    def read(self, size=-1):
        return self.raw.read(size).replace(b"\r", b"\n")

    def read1(self, size=-1):
        return getattr(self.raw, "read1", self.raw.read)(size).replace(b"\r", b"\n")


def _compressed(handle) -> bool:
    """Whether the bytes a reader gives are decompressed (under a CR-as-newline view or not): such a
    file cannot be cut into byte ranges."""
    return isinstance(handle, _Guarded) or isinstance(handle, _CarriageReturns) and isinstance(handle.raw, _Guarded)


def _closed(stream) -> bool:
    try:
        stream.fileno()
    except io.UnsupportedOperation:  # a stream with no descriptor (tests swap sys.stdin)
        pass
    except (OSError, ValueError):
        return True
    return stream.closed


_SPOOLS: dict = {}  # {what was spooled (stdin, or a FIFO's path and inode): the spool}


def _spooled(key, stream):
    """The bytes of a one-pass input copied to a temporary file that stays in memory up to 64 MB
    and moves to disk beyond, so it can be read again (after peeking at the header, or for a
    second pass). Closing the handle it gives leaves the spool for the next reading."""
    spool = _SPOOLS.get(key)
    if spool is None:
        if not isinstance(key, tuple):  # a new standard input (a caller that swaps sys.stdin, tests)
            for earlier in [k for k in _SPOOLS if not isinstance(k, tuple)]:
                _SPOOLS.pop(earlier).close()
        spool = tempfile.SpooledTemporaryFile(max_size=1 << 26)
        try:
            shutil.copyfileobj(stream(), spool, 1 << 20)
        except BaseException:
            spool.close()
            raise
        _SPOOLS[key] = spool
    spool.seek(0)
    return _Unclosable(spool)


@atexit.register
def _close_spools() -> None:
    for spool in _SPOOLS.values():
        spool.close()
    _SPOOLS.clear()


class _Guarded(_View):
    """A decompressing reader whose failures are the file's: a truncated or corrupt stream is
    bad data (exit 1), not the EOFError that the command line would take for end of input."""

    FAILURES = (EOFError, OSError, zlib.error, lzma.LZMAError, zipfile.BadZipFile)

    def __init__(self, raw, label: str, name: str):
        super().__init__(raw)
        self.label, self.name = label, name

    @property
    def fileobj(self):  # sizes and positions count the compressed bytes (see _underlying)
        return _underlying(self.raw)

    def _guard(self, call, *args):
        try:
            return call(*args)
        except self.FAILURES:
            raise DataError(f"{self.label}: truncated/corrupt {self.name} stream", kind="csv") from None

    def read(self, size=-1):
        return self._guard(self.raw.read, size)

    def read1(self, size=-1):
        return self._guard(getattr(self.raw, "read1", self.raw.read), size)

    def seek(self, offset, whence=0):
        return self._guard(self.raw.seek, offset, whence)


class _Unclosable(_View):
    """A view of the spool that the reader may close without deleting it."""

    def read(self, size=-1):
        return self.raw.read(size)

    def read1(self, size=-1):
        return self.raw.read(size)


def _zip_member(handle, label: str, opened: contextlib.ExitStack):
    try:
        archive = opened.enter_context(zipfile.ZipFile(handle))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except zipfile.BadZipFile as error:
        raise DataError(f"{label}: cannot read the zip archive: {error}") from None
    if len(members) != 1:
        raise DataError(f"{label}: the zip archive holds {len(members)} files; mlfit reads one CSV")
    return opened.enter_context(archive.open(members[0]))


def _peek(handle, label: str, options: ReadOptions) -> tuple[list[str], list[str], str, bool]:
    """The header (or, without one, the first row twice), the first data row, the separator, and
    whether the first data row starts with a quoted cell."""
    wrapper = io.TextIOWrapper(handle, encoding=options.encoding, newline="")
    try:
        for _ in range(options.skip):
            wrapper.readline()
        lines = []
        while len(lines) < 2:
            line = wrapper.readline()
            if not line:
                break
            if not options.is_comment(line):
                lines.append(line)
        sep = options.sep or _detect_separator(lines, options.decimal)
        wrapper.seek(0)
        for _ in range(options.skip):
            wrapper.readline()
        reader = csv.reader((line for line in wrapper if not options.is_comment(line)), delimiter=sep)
        first = next(reader, None)
        second = next(reader, []) if options.header else first
    except UnicodeDecodeError:
        raise DataError(f"{label}: not a text CSV in {_encoding_name(options)} (name its encoding with --encoding)",
                        kind="csv") from None
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as error:
        raise DataError(f"{label}: cannot read: {error}") from None
    except csv.Error as error:
        raise DataError(f"{label}: not a valid CSV: {error}", kind="csv") from None
    finally:
        wrapper.detach()
    if not first:
        raise DataError(f"{label}: the file is empty (no header row)" if options.header else f"{label}: the file is empty")
    quoted = len(lines) > 1 and lines[1].lstrip().startswith('"')
    if not options.header:
        return [str(i + 1) for i in range(len(first))], second or [], sep, False
    return [cell.strip() for cell in first], second or [], sep, quoted


def _sniff_encoding(handle, label: str, options: ReadOptions) -> ReadOptions:
    """With the default encoding, UTF-16 with a byte-order mark is read as such; UTF-16 without
    one (every other byte NUL) is named, since guessing its byte order could be wrong."""
    if options.encoding != DEFAULT.encoding:
        return options
    head = handle.read(4096)
    handle.seek(0)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return dataclasses.replace(options, encoding="utf-16")
    pairs = len(head) // 2
    if pairs and b"\x00" in head:
        for order, nuls in (("le", head[1 : 2 * pairs : 2]), ("be", head[0 : 2 * pairs : 2])):
            if nuls.count(0) == pairs:
                raise DataError(f"{label}: looks like UTF-16 text without a byte-order mark (every other byte "
                                f"is 0): read it with --encoding utf-16-{order}", kind="csv")
    return options


def _encoding_name(options: ReadOptions) -> str:
    return "UTF-8" if options.encoding.lower().replace("_", "-") in ("utf-8-sig", "utf-8", "utf8") else options.encoding


def _detect_separator(lines: list[str], decimal: str) -> str:
    """The candidate that splits the header and the first row alike into the most fields (a row
    one field longer than the header is R's row-name layout); a comma when nothing splits."""
    best, best_width = ",", 1
    header = lines[0] if lines else ""
    if R_TABLE_HEADER.fullmatch(header):  # R's write.table default: quoted names, one space between
        return " "
    row = lines[1] if len(lines) > 1 and lines[1].strip() else None
    for sep in SEPARATORS:
        if sep == decimal:
            continue
        width = len(next(csv.reader([header], delimiter=sep), []))
        if row is not None:
            row_width = len(next(csv.reader([row], delimiter=sep), []))
            if row_width not in (width, width + 1):
                continue
        if width > best_width:
            best, best_width = sep, width
    return best


def _choose(names: list[str], column: str | None, label: str) -> int:
    listing = ", ".join(repr(n) for n in names)
    if column is None:
        if len(names) == 1:
            return 0
        raise UsageError(f"{label}: has {len(names)} columns ({_cut(listing, 200)}); choose one with --column",
                         kind="column")
    matches = [i for i, n in enumerate(names) if n == column]
    if not matches:
        hint = (f" (notes before the header? skip them with --comment '{names[0][0]}' or --skip N)"
                if names and names[0][:1] in COMMENT_MARKS else "")
        raise UsageError(f"{label}: no column '{column}'; the columns are {_cut(listing, 200)}{hint}", kind="column")
    if len(matches) > 1:
        raise UsageError(f"{label}: the header names column '{column}' {len(matches)} times", kind="column")
    return matches[0]


def _cut(text: str, length: int = SHOWN_LENGTH) -> str:
    return text if len(text) <= length else text[: length - 3] + "..."


CHUNK_BYTES = 1 << 24  # about this much text is parsed per frame of rows (pandas' own chunks)
CHUNK_ROWS = 1 << 20  # ... and at most this many rows: memory per frame stays bounded
BLOCK_BYTES = 1 << 20  # the file is read this much at a time, cut at record ends
SURPLUS = "\x00surplus"
LONG_NEGATIVE_EXPONENT = re.compile(rb"[eE]-0*[1-9][0-9]{2}")


def _frames(handle, label: str, width: int, positions: list[int], text: bool, sep: str, options: ReadOptions):
    """The wanted columns (arrays, missing cells NaN), a frame of rows at a time, with the data row
    number before each frame.

    One read_csv call iterates over the whole file (pandas' own chunks: its per-call set-up, paid
    per megabyte, cost a sixth of the run). When every column is wanted, pandas itself refuses a
    row with more cells than the header has. Otherwise it reads only the wanted columns (parsing
    every column costs 2.5 times as much), but with `usecols` it silently drops the surplus cells of
    an over-long row (pandas issue 40049). So the stream then starts with a filler line one cell
    wider than the header: pandas expects that many cells in every row, and an over-long row shows
    up as a value in the surplus column (converting that column costs about a tenth of the parse).

    A few ways of parsing are chosen by what the bytes hold (cells read as text where a number like
    1e-400 may hide; spaces after separators skipped where there is a space). A block of records
    that needs one the current call lacks ends that call, and a new one goes on from there with it:
    at most three calls, since a way once taken is kept."""
    encoding, raw = _ascii_compatible(handle, options.encoding)
    names = [f"c{i}" for i in range(width)]
    wanted = [names[p] for p in positions]
    every = sorted(positions) == list(range(width))
    if not every:
        names.append(SURPLUS)
    # (a first line as wide as the header is there too, so that pandas checks the first row as it
    # checks the others, rather than take the first row's extra cell for an index)
    filler = (sep * (len(names) - 1) + "\n").encode(encoding)
    blocks = _record_blocks(raw, options, encoding)
    block = next(blocks, None)
    if block is None:
        return
    rows_per_frame = max(1, min(CHUNK_ROWS, CHUNK_BYTES * max(1, block.count(b"\n")) // len(block)))
    as_text, skip_spaces, offset = text, False, 0 if options.part is None else options.part.rows_before
    while block is not None:
        as_text = as_text or _may_underflow(block)
        skip_spaces = skip_spaces or _spaced(block, sep)
        segment = _Segment(filler + block, blocks, as_text, skip_spaces, sep)
        reader = pd.read_csv(
            segment,
            sep=sep,
            decimal=options.decimal,
            header=None,
            names=names,
            usecols=None if every else [*wanted, SURPLUS],
            dtype={name: str for name in wanted} if as_text else None,
            keep_default_na=False,
            na_values=options.missing,
            skipinitialspace=skip_spaces,
            skip_blank_lines=False,  # a blank line in a one-column file is an empty cell
            encoding=encoding,
            index_col=False,
            chunksize=rows_per_frame,
        )
        skip = 1  # the filler line
        for frame in _parsed(reader, label, offset - 1, width, options):
            rows = len(frame) - skip
            if not every:
                longer = np.flatnonzero(frame[SURPLUS].notna().to_numpy()[skip:])
                if longer.size:
                    raise _too_long(label, offset + int(longer[0]) + 1, width)
            if rows:
                yield [frame[name].to_numpy()[skip:] for name in wanted], offset
            offset += rows
            skip = 0
        block = segment.next_block


def _too_long(label: str, row: int, width: int) -> DataError:
    return DataError(f"{label}: not a valid CSV: row {row} has more cells than the header's {width}",
                     kind="csv", row=row)


class _Segment(io.RawIOBase):
    """What one read_csv call reads: the filler line and the first block, then the blocks that
    parse the same way; the first that does not is kept in `next_block` for the next call."""

    def __init__(self, start: bytes, blocks, as_text: bool, skip_spaces: bool, sep: str):
        self._start = start
        self._blocks = blocks
        self._as_text, self._skip_spaces, self._sep = as_text, skip_spaces, sep
        self.next_block = None

    def readable(self):
        return True

    def read(self, size=-1) -> bytes:
        # A whole block whatever `size` asks: pandas' C reader takes the length read() gives, and
        # cutting each block to its 256 KB requests would cost a copy of the file (a tenth of the read).
        if self._start is not None:
            start, self._start = self._start, None
            return start
        block = next(self._blocks, None) if self._blocks is not None else None
        if block is None:
            return b""
        if (not self._as_text and _may_underflow(block)) or (not self._skip_spaces and _spaced(block, self._sep)):
            self.next_block, self._blocks = block, None
            return b""
        return block


def _record_blocks(raw, options: ReadOptions, encoding: str):
    """The data records after the header, in blocks of whole records (a quoted newline is no
    record's end) of about BLOCK_BYTES, comment lines left out, each block ending with a newline."""
    size = _block_size()
    if options.part is not None:
        raw, carry = _Bounded(raw, *_part_bounds(raw, options.part)), b""
    else:
        carry = _past_header(raw, options)
    comment = None if options.comment is None else options.comment.encode(encoding)
    eof = False
    while not eof:
        block = raw.read(size)
        eof = not block
        data = carry + block if carry else block
        end = len(data) - 1 if eof else _record_end(data, None)
        if end is None:  # no whole record yet: read more
            carry = data
            continue
        records, carry = data[: end + 1], data[end + 1:]
        if comment is not None:
            records = _without_comments(records, comment)
        if not records:
            continue
        yield records if records.endswith(b"\n") else records + b"\n"


def _past_header(raw, options: ReadOptions) -> bytes:
    """Reads past the preamble and the header record (it may be long, or hold quoted newlines);
    gives what it read beyond."""
    carry = _after_preamble(raw, options)
    if options.header:
        while True:
            block = raw.read(_block_size())
            carry += block
            end = _record_end(carry, 0)
            if end is not None or not block:
                break
        carry = carry[(end if end is not None else len(carry)) + 1:]
    return carry


def records_start(source: str, options: ReadOptions = DEFAULT) -> int | None:
    """Where a CSV file's data records begin (after the preamble and the header), or None where
    its bytes cannot be cut into parts: compressed, recoded (UTF-16), with comment lines (a quote
    in a comment would mislead the count of quotes that finds the records), standard input."""
    if source == STDIN or options.comment is not None:
        return None
    with contextlib.ExitStack() as opened:
        handle = _open(source, source, opened)
        if _compressed(handle):
            return None
        options = _layout(handle, source, options)[0]
        raw = _ascii_compatible(handle, options.encoding)[1]
        if raw is not handle:
            return None
        carry = _past_header(raw, options)
        return raw.tell() - len(carry)


def part_records(source: str, start: int, stop: int) -> tuple[int, tuple, tuple]:
    """What the lines that begin in bytes [start, stop) of a CSV file hold, read both ways a cut
    there can fall: the number of quotes, then (first record, records) if the first line begins
    outside quotes and if it begins inside a quoted cell (where the first record begins after the
    first newline that the quotes before it put outside; None if none does). A record is a line
    whose newline is outside quotes, or the file's last line without one."""
    with contextlib.ExitStack() as opened:
        raw = _open(source, source, opened)
        begin, end = _part_bounds(raw, Part(start, stop, 0))
        raw.seek(begin)
        quotes, at = 0, begin
        records = [0, 0]  # newlines after an even, an odd number of quotes
        first_odd = None
        last = b"\n"
        while at < end:
            block = raw.read(min(_block_size(), end - at))
            if not block:
                break
            data = np.frombuffer(block, dtype=np.uint8)
            newlines = np.flatnonzero(data == 10)
            quote_at = np.flatnonzero(data == 34) if b'"' in block else np.zeros(0, dtype=np.int64)
            odd = (quotes + np.searchsorted(quote_at, newlines)) % 2 == 1
            records[1] += int(np.sum(odd))
            records[0] += len(newlines) - int(np.sum(odd))
            if first_odd is None and odd.any():
                first_odd = at + int(newlines[np.argmax(odd)]) + 1
            quotes += len(quote_at)
            at += len(block)
            last = block[-1:]
        if last != b"\n" and end > begin:  # (the file's last line, without its newline)
            records[quotes % 2] += 1
        return quotes, (begin, records[0]), (first_odd, records[1])


def _part_bounds(raw, part: Part) -> tuple[int, int]:
    """The bytes of the records a part holds: from the first line that begins at or after its
    start to the first that begins at or after its stop (a record beginning exactly at a cut is
    the next part's)."""
    return _line_start(raw, part.start), _line_start(raw, part.stop)


def _line_start(raw, position: int) -> int:
    if position == 0:
        return 0
    raw.seek(position - 1)
    at = position - 1
    while True:
        block = raw.read(1 << 16)
        if not block:
            return at
        found = block.find(b"\n")
        if found != -1:
            return at + found + 1
        at += len(block)


class _Bounded:
    """The bytes [begin, end) of a handle, read from the start."""

    def __init__(self, raw, begin: int, end: int):
        raw.seek(begin)
        self.raw, self.remaining = raw, end - begin

    def read(self, size=-1):
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        block = self.raw.read(size) if size else b""
        self.remaining -= len(block)
        return block


def _block_size() -> int:
    return min(BLOCK_BYTES, CHUNK_BYTES)  # (tests shrink CHUNK_BYTES to cut blocks everywhere)


def _spaced(records: bytes, sep: str) -> bool:
    """Whether the records may open cells with spaces to skip. Skipping costs a fifth of the parse,
    and without a space there are none to skip (a one-byte search, unlike looking for ", ", costs
    next to nothing)."""
    return sep != " " and b" " in records


def _may_underflow(records: bytes) -> bool:
    """Whether the records may hold a number like 1e-400, which parses as 0.0 and which a count
    column would take for a real 0: such records are read as text, whose checks see the cell as
    written. Byte searches first: the regular expression costs more than pandas' parse, and a
    one-byte search (memchr) far less than a two-byte one in records full of minus signs."""
    return (((b"e" in records and b"e-" in records) or (b"E" in records and b"E-" in records))
            and LONG_NEGATIVE_EXPONENT.search(records) is not None)


def _parsed(reader, label: str, before: int, width: int, options: ReadOptions):
    """The reader's frames, its failures told as the file's (`before`: the data rows before the
    reader's first line, which is -1 when that line is the filler)."""
    try:
        while True:
            try:
                with warnings.catch_warnings():
                    # A frame that mixes numbers and text comes back as text, which the checks that
                    # follow parse and report row by row; pandas' DtypeWarning about it is noise here.
                    warnings.simplefilter("ignore", pd.errors.DtypeWarning)
                    frame = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise DataError(f"{label}: not a text CSV in {_encoding_name(options)} (name its encoding with "
                                "--encoding)", kind="csv") from None
            except pd.errors.ParserError as error:
                message = _first_line(error)
                found = re.search(r"EOF inside string starting at row (\d+)", message)
                if found:  # (pandas counts its rows from 0)
                    row = before + int(found.group(1)) + 1
                    raise DataError(f"{label}: not a valid CSV: the quoted cell that starts in row {row} never ends",
                                    kind="csv", row=row) from None
                found = re.search(r"Expected \d+ fields in line (\d+), saw", message)
                if found:  # (and its lines, which are records, from 1)
                    raise _too_long(label, before + int(found.group(1)), width) from None
                raise DataError(f"{label}: not a valid CSV: {message}", kind="csv") from None
            yield frame
    finally:
        reader.close()


def _after_preamble(raw, options: ReadOptions) -> bytes:
    """Reads past the --skip lines and the comment lines before the header; gives what it read beyond."""
    carry, skipped = b"", 0
    comment = None if options.comment is None else options.comment.encode()
    while True:
        skipping = skipped < options.skip
        if not skipping and (comment is None or (carry and not carry.startswith(comment))):
            return carry
        end = carry.find(b"\n")
        if end != -1:  # a whole line to drop: one of the --skip lines, or a comment
            carry, skipped = carry[end + 1:], skipped + skipping
            continue
        block = raw.read(_block_size())
        if not block:  # the file ends inside what is skipped
            return b""
        carry += block


def _without_comments(records: bytes, comment: bytes) -> bytes:
    if comment not in records:
        return records
    return re.sub(rb"(?m)^" + re.escape(comment) + rb"[^\n]*\n", b"", records)


def _ascii_compatible(handle, encoding: str):
    """Chunks are cut at newline bytes, which needs an encoding where newline, quote and the
    separators are single ASCII bytes (UTF-8, Latin-1...). Others (UTF-16) are recoded to UTF-8."""
    plain = "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
    if "\n,;|\t\"".encode(plain) == b"\n,;|\t\"":
        if plain != encoding and handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)  # no byte-order mark after all
        return plain, handle
    return "utf-8", io.BytesIO(handle.read().decode(encoding).encode("utf-8"))


def _record_end(data: bytes, start: int | None) -> int | None:
    """The index of the newline ending the first record (start=0) or the last whole record
    (start=None) in `data`, skipping newlines inside quoted cells; None if there is none."""
    if start is not None:
        position = data.find(b"\n")
        while position != -1 and data.count(b'"', 0, position) % 2:
            position = data.find(b"\n", position + 1)
        return None if position == -1 else position
    position = data.rfind(b"\n")
    if b'"' not in data:
        return None if position == -1 else position
    while position != -1 and data.count(b'"', 0, position) % 2:
        position = data.rfind(b"\n", 0, position)
    return None if position == -1 else position


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


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


COMMENT_MARKS = ("#", "%", ";")


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


def _show(value) -> str:
    """A cell for a message: text as written; a number as its shortest round-trip form (1e-320,
    not the 330 digits of its exact decimal expansion)."""
    if isinstance(value, str):
        return repr(_cut(str(value)))
    number = float(value)
    if number == 0 or 1e-6 <= abs(number) < 1e16 or not np.isfinite(number):
        return np.format_float_positional(number, trim="-")
    return repr(number)
