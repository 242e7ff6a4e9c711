"""One big CSV file read on two cores: the file is cut in two where a line begins, a forked process
reads the second half while this one reads the first, and the halves' statistics are merged in
file order.

Every reading rule is the one-process reader's, because both halves are read by it (a `Part` of
the file). What a half cannot know alone is settled afterwards: the second half numbers its rows
from 0, so they are shifted by the first half's count. A cut that falls inside a quoted cell
holding newlines leaves the first half ending inside an open quote, which the parser refuses; that,
and any error in the second half (whose message must name the row as the whole file numbers it),
sends this process back to read the whole file alone, so what comes out is always the one-process
result.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
import warnings

from .columns import STDIN, Part, ReadOptions
from .csvtext import records_start

PARALLEL_BYTES = 64 << 20  # a smaller file is read in one process: forking costs more than it saves


def halves(source: str, read_options: ReadOptions) -> tuple[Part, Part] | None:
    """The file's data records cut in two near the middle (the second half's rows numbered from 0),
    or None where one process should read it: a small file, one core, standard input, a URL, a
    compressed or recoded file, comment lines, a part of a file already."""
    if read_options.part is not None or source == STDIN or "://" in source or _cores() < 2:
        return None
    if not hasattr(os, "fork") or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if not _alone():
        return None
    try:
        size = os.path.getsize(source)
    except OSError:
        return None
    if size < PARALLEL_BYTES or not os.path.isfile(source) or _parquet(source):
        return None
    start = records_start(source, read_options)
    if start is None or size - start < PARALLEL_BYTES:
        return None
    middle = start + (size - start) // 2
    return Part(start, middle, 0), Part(middle, size, 0)


def _alone() -> bool:
    """Whether this process may fork: a daemonic one (a multiprocessing pool's worker) may not have
    children, and forking beside other Python threads (a notebook's, a Dask client's) could copy a
    lock one of them holds."""
    return not multiprocessing.current_process().daemon and threading.active_count() == 1


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _parquet(source: str) -> bool:
    from .parquet import is_parquet

    return is_parquet(source)


class Forked:
    """`work(receive)` running in a forked process; `result(tell)` sends `tell` (which the work gets
    from `receive()`, when it asks), then waits for what the work returned, or None where it raised
    (the caller then does the work itself)."""

    def __init__(self, work):
        context = multiprocessing.get_context("fork")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=_run, args=(work, theirs), daemon=True)
        with warnings.catch_warnings():  # (Python 3.12 counts BLAS's idle threads as a reason to warn)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.process.start()
        theirs.close()

    def stop(self) -> None:
        self.process.kill()
        self.result()

    def result(self, tell=None):
        try:
            self.connection.send(tell)
            outcome, value = self.connection.recv()
        except (EOFError, OSError):  # the process died without a word (killed, out of memory)
            outcome, value = "failed", None
        finally:
            self.connection.close()
            self.process.join()
            self.process.close()
        return value if outcome == "done" else None


def _run(work, connection) -> None:
    try:
        value = work(connection.recv)
        connection.send(("done", value))
    except BaseException:  # (anything: this process reads the half again and meets it there)
        connection.send(("failed", traceback.format_exc(limit=3)))
    finally:
        connection.close()
