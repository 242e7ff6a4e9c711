"""Reading a file's columns in bounded memory: each column's rows are held whole while there are
few, and beyond IN_MEMORY_ROWS merged chunk by chunk into its family's statistics.

What comes out is statistics plus a way to visit the rows again; `mlfit.pipeline` fits either kind.
"""

from __future__ import annotations

import tempfile
import weakref
from dataclasses import replace

import numpy as np

from .columns import STDIN, Column, ReadOptions, joined
from .data import iter_columns, iter_weighted, support_values, to_support, weighs_nothing, with_weights
from .errors import MlfitError, UsageError
from .families.base import NeedsEveryValue
from .families.on_disk import ValuesOnDisk
from .families.statistics import Values
from .options import FitOptions
from .parallel import Forked, halves
from .pipeline import InMemory, Streamed, fit_statistics
from .result import FitResult
from .weights import whole

# Up to this many rows a column is held in memory and fitted whole. Beyond it, the family is
# fitted from sketches merged chunk by chunk (and, for laplace, a second pass: see its Bracket),
# keeping only the first PREFIX_ROWS rows, for the raw-product report. Columns read together
# share BATCH_ROWS between them, so memory stays bounded however many columns a file has.
IN_MEMORY_ROWS = 1 << 21
PREFIX_ROWS = 1 << 20
SAMPLE_ROWS = 1 << 20  # the evenly spread sample a fit of values on disk starts from
BATCH_ROWS = 1 << 22


class Gathering:
    """Rows as they are read: kept whole while there are few (or when asked to), otherwise
    checked against the support and merged into the family's statistics chunk by chunk."""

    def __init__(self, family, name: str, keep_all: bool, limit: int, prefix_limit: int, spill_values: bool = True):
        self.family, self.name, self.keep_all = family, name, keep_all
        # Beyond the limit, a family with no statistic smaller than its values keeps them in a
        # temporary file (a part summarised on a cluster reads its part again instead)
        self.spill_values = spill_values and not family.sufficient_statistics
        self.limit, self.prefix_limit = limit, prefix_limit  # rows held whole, and the first rows kept
        self.kept: list[Column] | None = []
        self.rows = 0
        self.first: Column | None = None
        self.stats = None
        self.dropped = 0
        self.prefix: list[Column] = []  # the first prefix_limit rows, checked
        self.prefix_rows = 0
        self.whole_weights = True  # every weight so far a whole number (or no weights)
        self.spill: Spill | None = None  # pass one's values, for a family that reads them again

    def add(self, data: Column) -> None:
        self.first = self.first or data
        self.whole_weights = self.whole_weights and whole(data.weights)
        if self.kept is not None:
            self.kept.append(data)
            self.rows += len(data.values)
            if self.rows > self.limit and not self.keep_all:
                self._release_kept()
            return
        self._merge(data)

    def join(self, other: "Gathering", rows_before: int, other_spill: "Spill | None" = None) -> None:
        """Take in the gathering of the rows after this one's, which numbered them from 0 (and wrote
        its values, where its family keeps them, to `other_spill`)."""
        def shifted(column: Column) -> Column:
            return replace(column, rows=column.rows + rows_before)

        self.whole_weights = self.whole_weights and other.whole_weights
        self.first = self.first or (other.first and shifted(other.first))
        if self.kept is not None and other.kept is not None and self.rows + other.rows <= self.limit:
            self.kept += [shifted(part) for part in other.kept]
            self.rows += other.rows
            return
        if self.kept is not None:
            self._release_kept()
        if other.kept is not None:
            for part in other.kept:
                self._merge(shifted(part))
            return
        self.dropped += other.dropped
        if other.stats is not None:
            self.stats = other.stats if self.stats is None else self.stats.merge(other.stats)
        if other_spill is not None and (other_spill.sizes or not other_spill.intact):  # (a full disk: read again)
            self.spill = self.spill or Spill()
            self.spill.followed_by(other_spill)
        for part in other.prefix:
            self._keep_prefix(shifted(part), part.values)

    def _release_kept(self) -> None:
        """The rows held whole, merged into the statistics: from here on, every chunk is."""
        kept, self.kept = self.kept, None
        for part in kept:
            self._merge(part)

    def merge_held(self) -> None:
        """Merge the rows still held whole into the statistics (a part summarised on a cluster
        holds whole only the values that are a family's statistic, and chunks whose cells were all
        missing: they wait here until then)."""
        kept, self.kept = self.kept or [], None
        if kept and not self.family.sufficient_statistics:  # their statistic is their values, all of them
            data = joined(kept)
            values = support_values(data, self.family)
            self.dropped += data.dropped
            self.stats = self.family.summarize(values, data.weights) if len(values) else None
            self._keep_prefix(data, values)
            return
        for part in kept:
            self._merge(part)

    def _merge(self, data: Column) -> None:
        values = support_values(data, self.family)
        self.dropped += data.dropped
        if not len(values):
            return
        if self.family.second_pass or self.spill_values:
            self.spill = self.spill or Spill()
            self.spill.write(values, data.weights)
        if self.family.sufficient_statistics:
            summary = self.family.sketch(values, data.weights, seed=int(data.rows[0]))
            self.stats = summary if self.stats is None else self.stats.merge(summary)
        else:  # past the limit: the values are read again (from the spill, or the file) on each pass
            self.stats = (self.stats or Spilling()).add(values, data.weights)
        self._keep_prefix(data, values)

    def _keep_prefix(self, data: Column, values: np.ndarray) -> None:
        room = self.prefix_limit - self.prefix_rows
        if room > 0:
            part = slice(0, room)
            self.prefix.append(Column(data.source, data.name, values[part], data.rows[part], 0, data.decimal,
                                      None if data.weights is None else data.weights[part]))
            self.prefix_rows += len(values[part])


def gather(source: str, family, columns: list[str] | None, *, only_one: bool, weights: str | None,
           read_options: ReadOptions, keep_values: bool, progress, unknown: list | None):
    """One pass over the file: [(name, Gathering or the MlfitError that column met)]. A big file is
    read in two halves at once (see mlfit.parallel): the halves' statistics merge, and the values a
    family keeps for another pass (laplace's, or those of a family with no smaller statistic) are
    read back from the first half's temporary file, then the second's."""
    def read(options, progress=progress, unknown=unknown, spills=None):
        return _gathered(source, family, columns, only_one, weights, options, keep_values, progress, unknown, spills)

    spills = family.second_pass or not family.sufficient_statistics  # (pass one writes a temporary file)
    counted = only_one or columns is not None
    split = None if keep_values or (spills and not counted) else halves(source, read_options)
    if split is None:
        return read(read_options)[0]
    first, second = split
    # The second half's temporary files are made here, so that this process can read what the forked
    # one wrote to them (one a column; the columns are known where a family spills)
    theirs_spilled = [Spill() for _ in range(1 if only_one else len(columns))] if spills else None

    def second_half(receive):
        gathered = read(replace(read_options, part=second), None, None if unknown is None else [],
                        theirs_spilled)[0]
        # Only as many first rows as the first half still lacks for the raw product cross back (a
        # prefix of 2^20 rows is 16 MB through the pipe: a sixth of a 126 MB file's read)
        for (_, gathering), lacking in zip(gathered, receive()):
            if isinstance(gathering, Gathering):
                gathering.prefix = _first_rows(gathering.prefix, lacking)
                if gathering.first is not None:  # (what the first chunk was, not its values)
                    gathering.first = _first_rows([gathering.first], 0, keep_one=True)[0]
        return gathered, [_detached(gathering) for _, gathering in gathered]

    try:
        child = Forked(second_half)
    except OSError:  # (no process to be had: out of memory or of process slots)
        return read(read_options)[0]
    try:
        mine, records = read(replace(read_options, part=first), _half_progress(progress, first.start))
    except MlfitError:  # read again in one process, which meets it (or, past a bad cut, not)
        child.stop()
        return read(read_options)[0]
    theirs = child.result([max(0, a.prefix_limit - (a.prefix_rows if a.kept is None else a.rows))
                           if isinstance(a, Gathering) else 0 for _, a in mine])
    if theirs is None or any(isinstance(b, MlfitError) and not isinstance(a, MlfitError)
                             for (_, a), (_, b) in zip(mine, theirs[0])):
        # The half failed, or an error there would number its row as the half does: the whole
        # file in this process gives what one process gives.
        return read(read_options)[0]
    for i, ((_, a), (_, b), written) in enumerate(zip(mine, *theirs)):
        if isinstance(a, Gathering):
            spill = None
            if written is not None:
                spill = theirs_spilled[i]
                spill.sizes, spill.intact = written
            a.join(b, records, spill)
    return mine


def _first_rows(prefix: list[Column], rows: int, keep_one: bool = False) -> list[Column]:
    """The first `rows` rows of chunks in order (`keep_one`: at least the first chunk, empty)."""
    kept = []
    for part in prefix:
        if rows <= 0 and not (keep_one and not kept):
            break
        kept.append(replace(part, values=part.values[:rows], rows=part.rows[:rows],
                            weights=None if part.weights is None else part.weights[:rows]))
        rows -= len(kept[-1].values)
    return kept


def _detached(gathering) -> tuple | None:
    """What the forked process wrote to a gathering's temporary file (its chunks' sizes, and whether
    the disk took them all), flushed for the other process to read; the file itself stays here."""
    spill = getattr(gathering, "spill", None)
    if spill is None:
        return None
    if spill.intact:
        spill.file.flush()
    gathering.spill = None
    return spill.sizes, spill.intact


def _half_progress(progress, start: int):
    """The first half's progress as the whole file's: the other half moves as fast."""
    if progress is None:
        return None
    return lambda done, total: progress(min(total, start + 2 * max(done - start, 0)) if total else done, total)


def _gathered(source: str, family, columns: list[str] | None, only_one: bool, weights: str | None,
              read_options: ReadOptions, keep_values: bool, progress, unknown: list | None, spills=None):
    """([(name, Gathering or MlfitError)], the records read) from one reading of the file (or part)."""
    names = None if columns is None else [*columns, *([weights] if weights else [])]
    names_read: list[str] = []
    gathered: list[Gathering | MlfitError] = []  # a column that met an error holds just that
    at = None  # where the weights column sits in each chunk
    records = 0
    for chunk in iter_columns(source, names, text=not family.support.numeric, options=read_options,
                              only_one=only_one, unknown=unknown, progress=progress,
                              exact_zeros=not family.support.numeric or family.support.discrete):
        records += len(chunk[0].values) + chunk[0].dropped if chunk else 0
        if weights is not None:
            at = _position_of(weights, chunk, source, unknown) if at is None else at
            weight_column, chunk = chunk[at], chunk[:at] + chunk[at + 1:]
        if not gathered:
            limit = min(IN_MEMORY_ROWS, BATCH_ROWS // max(len(chunk), 1))
            names_read = [data.name for data in chunk]
            gathered = [Gathering(family, data.name, keep_values, limit, min(PREFIX_ROWS, limit)) for data in chunk]
            for gathering, spill in zip(gathered, spills or []):
                gathering.spill = spill
        for i, data in enumerate(chunk):
            if isinstance(gathered[i], Gathering):
                try:
                    gathered[i].add(with_weights(data, weight_column) if weights is not None else data)
                except MlfitError as error:
                    gathered[i] = error
        if not any(isinstance(gathering, Gathering) for gathering in gathered):
            break  # nothing left to read for
    return list(zip(names_read, gathered)), records


def fit_gathered(gathering: Gathering, family, source: str, weights: str | None, read_options: ReadOptions,
                 options: FitOptions) -> FitResult:
    """The fit of one gathered column: in memory if its rows were kept, else from its statistics."""
    name = gathering.name
    text = not family.support.numeric

    def chunks():
        return iter_weighted(source, name, weights, text=text, options=read_options)

    if isinstance(gathering.stats, Spilling):
        spill = gathering.spill

        def parts():
            if spill.intact:
                yield from spill.chunks()
                return
            for data in chunks():
                yield support_values(data, family), data.weights

        # (the temporary file is closed, and gone, when the fit's statistics are)
        gathering.stats = gathering.stats.on_disk(parts)
    elif gathering.kept is None and gathering.stats is not None:
        def values_again():
            if gathering.spill is not None and gathering.spill.intact:
                yield from gathering.spill.chunks()
                return
            for data in chunks():
                yield support_values(data, family), data.weights

        spill = gathering.spill
        try:
            gathering.stats = family.finish(gathering.stats, values_again)
        except NeedsEveryValue:  # the streamed statistics fell short (laplace: see Bracket): hold every value
            gathering = Gathering(family, name, True, gathering.limit, gathering.prefix_limit)
            for data in chunks():
                gathering.add(data)
        finally:
            if spill is not None:
                spill.close()
    if gathering.kept is not None:
        return fit_in_memory(joined(gathering.kept), family, options)
    first = gathering.first
    rows = Streamed(first, gathering.prefix, chunks, gathering.whole_weights, gathering.limit)
    return fit_statistics(family, gathering.stats, first.source, first.name, gathering.dropped, rows, options)


class Spilling:
    """What pass one keeps of a column whose values go to a Spill: the rows' weight, the smallest and
    largest value, and an evenly spread sample of the rows that weigh something (every stride-th;
    when it fills, every other one is dropped and the stride doubles), from which the fit starts."""

    def __init__(self):
        self.limit, self.stride, self.rows, self.counted = SAMPLE_ROWS, 1, 0, 0
        self.n, self.low, self.high = 0.0, np.inf, -np.inf
        self.values: list[np.ndarray] = []
        self.weights: list[np.ndarray] | None = None

    def add(self, values: np.ndarray, weights: np.ndarray | None) -> "Spilling":
        self.rows += len(values)
        self.n += len(values) if weights is None else float(weights.sum())
        if weights is not None:  # (a sample of rows that weigh nothing would have nothing to fit)
            used = weights > 0
            values, weights = values[used], weights[used]
        if len(values):
            self.low, self.high = min(self.low, float(values.min())), max(self.high, float(values.max()))
        taken = slice((-self.counted) % self.stride, None, self.stride)
        self.counted += len(values)
        self.values.append(values[taken].copy())
        if weights is not None:
            self.weights = [*(self.weights or []), weights[taken].copy()]
        self._thinned()
        return self

    @classmethod
    def of(cls, values: Values) -> "Spilling":
        return cls().add(values.values, values.weights)

    def merge(self, other: "Spilling") -> "Spilling":
        """Two runs of rows in file order (parts of a data set on a cluster): their samples thinned to
        the coarser stride, then joined."""
        stride = max(self.stride, other.stride)
        merged = Spilling()
        merged.stride, merged.rows, merged.counted = stride, self.rows + other.rows, self.counted + other.counted
        merged.n, merged.low, merged.high = self.n + other.n, min(self.low, other.low), max(self.high, other.high)
        for part in (self, other):
            step = stride // part.stride
            merged.values.append(np.concatenate(part.values)[::step])
            if part.weights is not None:
                merged.weights = [*(merged.weights or []), np.concatenate(part.weights)[::step]]
        merged._thinned()
        return merged

    def _thinned(self) -> None:
        if sum(len(v) for v in self.values) > self.limit:
            self.values = [np.concatenate(self.values)[::2]]
            if self.weights is not None:
                self.weights = [np.concatenate(self.weights)[::2]]
            self.stride *= 2

    def on_disk(self, parts, visit=None) -> ValuesOnDisk:
        sample = Values(np.concatenate(self.values), None if self.weights is None else np.concatenate(self.weights))
        return ValuesOnDisk(self.n, self.low, self.high, sample, parts, self.rows, visit)


class Spill:
    """Pass one's checked values (and weights) in a temporary file, for a family whose statistics
    need a second pass: reading 8 bytes a row back costs a fraction of parsing the CSV again (at
    10^8 rows, laplace took 2.1 times normal's time with two parses). If the disk refuses it (full),
    the second pass parses the file again."""

    def __init__(self):
        self.file = tempfile.TemporaryFile(prefix="mlfit-spill-")
        # (closed, and so deleted, by close() or when the spill is no longer used: a fit of values
        # on disk keeps reading it for as long as its result is asked questions)
        self._closer = weakref.finalize(self, self.file.close)
        self.sizes: list[tuple[int, bool]] = []  # each chunk's rows, and whether weights follow them
        self.intact = True
        self.after: list[Spill] = []  # spills whose values follow these (a second half's, read at once)

    def write(self, values: np.ndarray, weights: np.ndarray | None) -> None:
        if not self.intact:
            return
        try:
            for array in (values, weights) if weights is not None else (values,):
                self.file.write(memoryview(np.ascontiguousarray(array, dtype=np.float64)))
        except OSError:
            self.intact = False
            self._closer()
            return
        self.sizes.append((len(values), weights is not None))

    def followed_by(self, other: "Spill") -> None:
        self.after.append(other)
        self.intact = self.intact and other.intact

    def chunks(self):
        for spill in (self, *self.after):
            spill.file.seek(0)
            for size, weighted in spill.sizes:
                arrays = [np.empty(size) for _ in range(1 + weighted)]
                for array in arrays:
                    spill.file.readinto(memoryview(array).cast("B"))
                yield arrays[0], arrays[1] if weighted else None

    def close(self) -> None:
        self._closer()
        for spill in self.after:
            spill.close()


def fit_in_memory(data: Column, family, options: FitOptions) -> FitResult:
    values = to_support(data, family)
    if data.weights is not None and data.weights.sum() == 0:
        raise weighs_nothing(data.source, data.name)
    with np.errstate(over="ignore"):  # sums of values near 1e308 overflow: the fit then says the likelihood is beyond range
        stats = family.summarize(values, data.weights)
    return fit_statistics(family, stats, data.source, data.name, data.dropped, InMemory(data, values), options)


def _position_of(weights: str, chunk: list[Column], source: str, unknown: list | None) -> int:
    for i, column in enumerate(chunk):
        if column.name == weights:
            return i
    for name, error in unknown or []:
        if name == weights:
            raise error
    label = "<stdin>" if source == STDIN else source
    raise UsageError(f"{label}: no weights column '{weights}'", kind="column")
