"""Opening a source as bytes: a path, standard input (spooled so it can be read twice), a URL, and
the compressed and archived forms, each behind a view that reports its position and hides close()."""

from __future__ import annotations

import atexit
import bz2
import contextlib
import gzip
import io
import lzma
import os
import shutil
import sys
import tempfile
import zipfile
import zlib


from .errors import DataError, UsageError
from .remote import is_remote, open_remote as _open_remote
from .columns import STDIN


_SPOOLS: dict = {}  # {what was spooled (stdin, or a FIFO's path and inode): the spool}


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


def _ascii_compatible(handle, encoding: str):
    """Chunks are cut at newline bytes, which needs an encoding where newline, quote and the
    separators are single ASCII bytes (UTF-8, Latin-1...). Others (UTF-16) are recoded to UTF-8."""
    plain = "utf-8" if encoding.lower().replace("_", "-") == "utf-8-sig" else encoding
    if "\n,;|\t\"".encode(plain) == b"\n,;|\t\"":
        if plain != encoding and handle.read(3) != b"\xef\xbb\xbf":
            handle.seek(0)  # no byte-order mark after all
        return plain, handle
    return "utf-8", io.BytesIO(handle.read().decode(encoding).encode("utf-8"))
