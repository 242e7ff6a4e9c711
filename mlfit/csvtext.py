"""CSV text into columns: the layout (encoding, separator, header, preamble), records cut into blocks
and frames of bounded size, parts of a file that begin where records begin, and the parse itself."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import lzma
import re
import warnings
import zlib

import numpy as np
import pandas as pd

from .errors import DataError, UsageError
from .columns import COMMENT_MARKS, STDIN, SEPARATORS, ReadOptions, DEFAULT, Part, _cut, _first_line
from .sources import _open, _compressed, _ascii_compatible

csv.field_size_limit(2**31 - 1)  # the header peek must not choke on a huge cell; pandas has no limit


R_TABLE_HEADER = re.compile(r'"[^"]*"( "[^"]*")+\r?\n?')


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


CHUNK_BYTES = 1 << 24  # about this much text is parsed per frame of rows (pandas' own chunks)


CHUNK_ROWS = 1 << 20  # ... and at most this many rows: memory per frame stays bounded


BLOCK_BYTES = 1 << 20  # the file is read this much at a time, cut at record ends


SURPLUS = "\x00surplus"


LONG_NEGATIVE_EXPONENT = re.compile(rb"[eE]-0*[1-9][0-9]{2}")


def _frames(handle, label: str, width: int, positions: list[int], text: bool, sep: str, options: ReadOptions,
            exact_zeros: bool = True):
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
    1e-400 may hide and `exact_zeros` asks for zeros that are written as zeros, as a count column
    does: a real number that float64 rounds to 0.0 is 0.0; spaces after separators skipped where
    there is a space). A block of records
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
        as_text = as_text or (exact_zeros and _may_underflow(block))
        skip_spaces = skip_spaces or _spaced(block, sep)
        segment = _Segment(filler + block, blocks, exact_zeros and not as_text, skip_spaces, sep)
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

    def __init__(self, start: bytes, blocks, watch_underflow: bool, skip_spaces: bool, sep: str):
        self._start = start
        self._blocks = blocks
        self._watch_underflow, self._skip_spaces, self._sep = watch_underflow, skip_spaces, sep
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
        if (self._watch_underflow and _may_underflow(block)) or (not self._skip_spaces and _spaced(block, self._sep)):
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
    written. Byte searches first: a regular expression scanning every byte costs more than
    pandas' parse, and a one-byte search (memchr) far less than a two-byte one in records full of
    minus signs. Where negative exponents are few (a %.6g file writes a handful of its small values
    so), each is matched where it stands; where they are many, one scan of the regular expression."""
    for letter, marker in ((b"e", b"e-"), (b"E", b"E-")):
        if letter not in records:
            continue
        at, seen = records.find(marker), 0
        while at >= 0:  # (one pass over the block, however many there are)
            if LONG_NEGATIVE_EXPONENT.match(records, at):
                return True
            seen += 1
            if seen > FEW_EXPONENTS:  # many: one scan of the whole block (both letters) costs less
                return LONG_NEGATIVE_EXPONENT.search(records) is not None
            at = records.find(marker, at + 2)
    return False


FEW_EXPONENTS = 2_000  # negative exponents in a block past which one regular-expression scan is cheaper


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
