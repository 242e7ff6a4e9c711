"""Reading a trained model's predictions: the columns that hold them (logits, a mean and a
log-variance, a log-rate) and the target, a chunk at a time, with the rows that miss a cell
left out and counted. Every message names the file, column, row and value, as `fit`'s do."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

import numpy as np

from ..columns import DEFAULT, Column, ReadOptions, frame_columns
from ..data import column_names, iter_columns, support_values
from ..data import _as_numbers as as_numbers
from ..columns import _show as show
from ..errors import DataError, UsageError


@dataclass(frozen=True)
class Spec:
    """Which columns hold what. `inputs` are the prediction columns in the order the family reads
    them (a categorical model's logits, class by class; a mean then a log-variance...)."""
    family: object
    target: str
    inputs: list[str]
    roles: list[str]  # what each input is: "logit", "mean", "log_var", "log_b", "log_rate"
    sigma: float | None = None  # normal: a fixed standard deviation instead of a log-variance column


def logit_columns(pattern: str, names: list[str], label: str) -> list[str]:
    """ "c0,c1,c2" as named, or a glob ("logit_*") matched against the header in its order."""
    if any(ch in pattern for ch in "*?["):
        found = [name for name in names if fnmatch.fnmatchcase(name, pattern)]
        if not found:
            raise UsageError(f"{label}: --logits {pattern!r} matches no column", kind="column")
        return found
    return [part.strip() for part in pattern.split(",") if part.strip()]


@dataclass(frozen=True)
class Chunk:
    """One chunk of rows used: the target (a categorical one as the class's position), the
    prediction columns as float64 (n x k), and each row's number in the file."""
    y: np.ndarray
    inputs: np.ndarray
    rows: np.ndarray
    dropped: int


def in_memory(source) -> bool:
    """A table held in memory (a pandas DataFrame, a dict of columns) rather than a file's name."""
    return not isinstance(source, str)


def source_label(source) -> str:
    return "<data>" if in_memory(source) else "<stdin>" if source == "-" else source


def source_columns(source, options: ReadOptions = DEFAULT) -> list[str]:
    """The column names of a file's header, or of a table in memory."""
    return [c.name for c in frame_columns(source)] if in_memory(source) else column_names(source, options)


def read_chunks(source, spec: Spec, options: ReadOptions = DEFAULT):
    """The file's rows a chunk at a time (memory holds one); a table in memory is one chunk."""
    label = source_label(source)
    wanted = list(dict.fromkeys([spec.target, *spec.inputs]))
    start = 0
    if in_memory(source):
        chunks = [[c for c in frame_columns(source) if c.name in wanted]]
    else:
        chunks = iter_columns(source, wanted, options=options)
    for chunk in chunks:
        by_name = {c.name: c for c in chunk}
        total = max(len(c.values) + c.dropped for c in chunk)
        present = np.ones(total, dtype=bool)
        for column in chunk:
            mask = np.zeros(total, dtype=bool)
            mask[column.rows - 1 - start] = True
            present &= mask
        rows = np.flatnonzero(present) + 1 + start
        start += total
        if not len(rows):
            yield Chunk(np.zeros(0), np.zeros((0, len(spec.inputs))), rows, total)
            continue
        kept = {name: _kept(column, rows) for name, column in by_name.items()}
        inputs = np.column_stack([_numbers(kept[name], label) for name in spec.inputs])
        y = _target(kept[spec.target], spec, label)
        yield Chunk(y, inputs, rows, total - len(rows))


def _kept(column: Column, rows: np.ndarray) -> Column:
    at = np.searchsorted(column.rows, rows)
    return Column(column.source, column.name, column.values[at], rows, 0, column.decimal)


def _numbers(column: Column, label: str) -> np.ndarray:
    values = as_numbers(column, accept_true_false=False)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = bad[0]
        raise DataError(f"{column.where(i)}: {show(column.values[i])} is not a finite number", kind="value",
                        row=int(column.rows[i]))
    return values


def _target(column: Column, spec: Spec, label: str) -> np.ndarray:
    family = spec.family
    if family.outcome != "classes":
        return support_values(column, family)
    # the class's 0-based position among the logit columns, or the name of its logit column
    positions = {name: i for i, name in enumerate(spec.inputs)}
    out = np.empty(len(column.values), dtype=np.int64)
    for i, value in enumerate(column.values):
        text = value.strip() if isinstance(value, str) else np.format_float_positional(float(value), trim="-")
        if text in positions:
            out[i] = positions[text]
            continue
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is None or not number.is_integer() or not 0 <= number < len(spec.inputs):
            raise DataError(f"{column.where(i)}: {show(value)} is neither a class position 0..{len(spec.inputs) - 1} "
                            "nor the name of a logit column", kind="value", row=int(column.rows[i]))
        out[i] = int(number)
    return out


def check_columns(source, spec: Spec, options: ReadOptions) -> None:
    """Every named column is in the header (or the table), before any row is read."""
    label = source_label(source)
    names = source_columns(source, options)
    for name in [spec.target, *spec.inputs]:
        if name not in names:
            shown = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "")
            raise UsageError(f"{label}: no column '{name}' (columns: {shown})", kind="column")
