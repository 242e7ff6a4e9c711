"""mlfit score-sequence: a language model's tokens scored as one likelihood.

A model gives each next token a probability; a sequence's probability is their product, which
underflows within a few hundred tokens, so training minimises the token-level cross-entropy
computed in log space: log p(target) = z_target - logsumexp(z), in float64 here whatever the
logits' own precision. Beside it: where the raw product of each sequence's token probabilities,
multiplied in order in float64, float32 and float16, first reaches 0.0; how many tokens' loss the
naive route (exp of the logits in that precision, divided by their sum, then log) makes inf or
nan; PyTorch's label-smoothed loss; and an ensemble's cross-entropy (the mean of the members'
probabilities, by log-mean-exp).

Input: a numpy .npz of logits (B, T, V) and integer targets (B, T), read a chunk of sequences at a
time straight from the archive (bounded memory), or the long CSV form of an API's logprobs: one row
per token, a sequence column and the log-probability the model gave the observed token.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .errors import DataError, UsageError

IGNORE_INDEX = -100  # PyTorch's: a padding target, not scored
CHUNK_BYTES = 16 << 20  # float64 logits held per chunk of sequences (the one float64 copy of the chunk)
NAIVE = ("float32", "float16")
PRECISIONS = ("float64", "float32", "float16")


# --- reading -------------------------------------------------------------------------------------------
def _member(archive: zipfile.ZipFile, path: str, key: str) -> str:
    arrays = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
    if key not in arrays:
        held = ", ".join(repr(k) for k in sorted(arrays)) or "none"
        raise UsageError(f"{path}: no array '{key}' in the archive; the arrays there are {held}", kind="column")
    return arrays[key]


def _open_archive(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", kind="file") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not a .npz file", kind="file") from None
    except (zipfile.BadZipFile, OSError) as error:
        raise DataError(f"{path}: not a numpy .npz archive ({error})", kind="file") from None


def _header(member):
    version = np.lib.format.read_magic(member)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise DataError(f"an .npy format version {version} array: save it with numpy's default format", kind="file")
    return read(member)


def read_targets(path: str, key: str) -> np.ndarray:
    with _open_archive(path) as archive:
        with archive.open(_member(archive, path, key)) as member:
            shape, fortran, dtype = _header(member)
            data = np.frombuffer(member.read(), dtype=dtype)
    targets = data.reshape(shape, order="F" if fortran else "C")
    if targets.dtype.kind not in "iu":
        raise DataError(f"{path}: '{key}' holds {targets.dtype} values; targets are integer token ids", kind="value")
    if targets.ndim != 2:
        raise DataError(f"{path}: '{key}' has shape {targets.shape}; targets are (sequences, positions)", kind="value")
    return targets.astype(np.int64)


def npz_chunks(path: str, key: str, sequences: int, positions: int):
    """(first sequence, logits of a chunk of sequences) from the archive, a chunk at a time."""
    with _open_archive(path) as archive:
        with archive.open(_member(archive, path, key)) as member:
            shape, fortran, dtype = _header(member)
            if dtype.kind != "f" or dtype.itemsize not in (2, 4, 8):
                raise DataError(f"{path}: '{key}' holds {dtype} values; logits are float16, float32 or float64",
                                kind="value")
            if len(shape) != 3 or shape[:2] != (sequences, positions):
                raise DataError(f"{path}: '{key}' has shape {tuple(shape)} and the targets "
                                f"({sequences}, {positions}); logits are (sequences, positions, vocabulary) for the "
                                "same sequences and positions", kind="value")
            vocabulary = shape[2]
            if fortran:  # column-major on disk: a chunk of sequences is not contiguous, so the whole is read
                whole = np.frombuffer(member.read(), dtype=dtype).reshape(shape, order="F")
                step = max(1, CHUNK_BYTES // max(1, positions * vocabulary * 8))
                for start in range(0, sequences, step):
                    yield start, np.ascontiguousarray(whole[start:start + step])
                return
            step = max(1, CHUNK_BYTES // max(1, positions * vocabulary * 8))
            per_sequence = positions * vocabulary * dtype.itemsize
            for start in range(0, sequences, step):
                count = min(step, sequences - start)
                raw = member.read(count * per_sequence)
                if len(raw) != count * per_sequence:
                    raise DataError(f"{path}: '{key}' ends early, at sequence {start + len(raw) // max(1, per_sequence)}",
                                    kind="file")
                yield start, np.frombuffer(raw, dtype=dtype).reshape(count, positions, vocabulary)


def array_chunks(logits: np.ndarray):
    step = max(1, CHUNK_BYTES // max(1, logits.shape[1] * logits.shape[2] * 8))
    for start in range(0, logits.shape[0], step):
        yield start, logits[start:start + step]


# --- one chunk's numbers ----------------------------------------------------------------------------------
@dataclass
class Scored:
    """What a chunk of sequences gives: each scored token's log-probability (float64), in order, per
    sequence; the label-smoothing term summed; the naive route's non-finite losses per precision."""
    log_probs: list  # per sequence: 1-d float64 array of the scored tokens' log p
    smoothing: float = 0.0
    naive: dict = field(default_factory=lambda: {name: 0 for name in NAIVE})


def score_chunk(logits: np.ndarray, targets: np.ndarray, start: int, ignore_index: int, label: str,
                naive: bool = True, smoothing: bool = True) -> Scored:
    vocabulary = logits.shape[2]
    scored = targets != ignore_index
    outside = scored & ((targets < 0) | (targets >= vocabulary))
    if outside.any():
        b, t = (int(i[0]) for i in np.nonzero(outside))
        raise DataError(f"{label}: sequence {start + b}, position {t}: target {int(targets[b, t])} is not a token of the "
                        f"vocabulary of {vocabulary} (0 .. {vocabulary - 1}), nor the ignore index {ignore_index}",
                        kind="value")
    finite = np.isfinite(logits)
    if not finite.all():
        b, t, v = (int(i[0]) for i in np.nonzero(~finite))
        raise DataError(f"{label}: sequence {start + b}, position {t}: logit {v} is {logits[b, t, v]}, not a finite "
                        "number", kind="value")
    safe = np.where(scored, targets, 0)
    z = logits.astype(np.float64)  # the one float64 copy: shifted and exponentiated in place below
    top = z.max(axis=2, keepdims=True)
    own = np.take_along_axis(z, safe[..., None], axis=2)[..., 0]
    means = z.mean(axis=2) if smoothing else None
    np.subtract(z, top, out=z)
    with np.errstate(under="ignore"):
        np.exp(z, out=z)
    lse = np.log(z.sum(axis=2)) + top[..., 0]
    log_p = own - lse
    out = Scored([log_p[b][scored[b]] for b in range(len(z))])
    if smoothing:
        out.smoothing = float(np.sum((lse - means)[scored]))
    if naive:
        for name in NAIVE:
            out.naive[name] = naive_nonfinite(logits, safe, scored, lse, own, top[..., 0], name)
    return out


def naive_nonfinite(logits, safe, scored, lse, own, top, precision: str) -> int:
    """How many scored tokens' loss the naive route makes inf or nan in `precision`: exp of the
    logits there, divided by their sum there, then log. Computed exactly, in that precision, for the
    tokens where it could happen; the others are finite for certain, which float64's log-sum-exp
    shows without the slow exps: no exp overflows (the largest logit), the sum cannot overflow (its
    float64 value grown by the most that V roundings, each at most one eps, can add: a factor
    (1 + eps)^V), and neither the target's exp nor its share of the sum can underflow to 0. The
    natural log of one more e covers the logits' own rounding to that precision."""
    info = np.finfo(precision)
    vocabulary = logits.shape[2]
    slack = vocabulary * math.log1p(float(info.eps)) + 1.0
    largest, smallest = math.log(float(info.max)), math.log(float(info.smallest_subnormal))
    doubt = scored & ((top >= largest - 1.0) | (lse + slack >= largest) | (own <= smallest + 1.0)
                      | (own - lse <= smallest + slack))
    if not doubt.any():
        return 0
    rows = logits[doubt]  # (tokens in doubt, V), in the logits' own precision
    with np.errstate(all="ignore"):
        e = np.exp(rows.astype(precision))
        total = e.sum(axis=1, dtype=precision)
        p = e[np.arange(len(rows)), safe[doubt]] / total
        loss = -np.log(p)
    return int(np.count_nonzero(~np.isfinite(loss)))


def first_zero(log_probs: np.ndarray, precision: str) -> int | None:
    """The 0-based scored-token position where the running product of the token probabilities,
    multiplied in order in `precision`, first becomes 0.0; None where it never does."""
    if not len(log_probs):
        return None
    with np.errstate(under="ignore"):
        factors = np.exp(log_probs).astype(precision)
        product = np.cumprod(factors, dtype=precision)
    zeros = np.flatnonzero(product == 0)
    return int(zeros[0]) if zeros.size else None


# --- the result ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SequenceScore:
    source: str
    sequences: int
    tokens: int
    nll: float
    per_sequence: list  # [{"index", "tokens", "nll", "perplexity"}]
    underflow: dict  # {precision: {"sequences_underflowing", "first_zero_token"}}
    naive: dict | None  # {precision: {"nonfinite_losses"}}; None for the CSV form (no logits)
    label_smoothing: dict | None = None
    ensemble: dict | None = None
    ignore_index: int = IGNORE_INDEX

    @property
    def cross_entropy(self) -> float:
        return self.nll / self.tokens

    def to_dict(self) -> dict:
        ce = self.cross_entropy
        out = {"file": self.source, "tokens": self.tokens, "sequences": self.sequences, "nll": self.nll,
               "cross_entropy": ce, "perplexity": _exp(ce), "bits_per_token": ce / math.log(2),
               "per_sequence": self.per_sequence, "underflow": self.underflow, "naive": self.naive}
        if self.label_smoothing is not None:
            out["label_smoothing"] = self.label_smoothing
        if self.ensemble is not None:
            out["ensemble"] = self.ensemble
        return out

    def sentences(self) -> list[str]:
        """The underflow in words: the least probable sequence's raw probability, where each
        precision's product of its tokens first reaches 0.0."""
        if not self.per_sequence:
            return []
        worst = max(self.per_sequence, key=lambda s: s["nll"])
        decades = -worst["nll"] / math.log(10)
        where = []
        for name in PRECISIONS:
            spot = worst["first_zero"][name]
            where.append(f"{name} reaches 0.0 at token {spot}" if spot is not None else f"{name} holds it")
        lines = [f"the raw probability of sequence {worst['index']} is 10^{decades:.1f} ({worst['tokens']} token"
                 f"{'s' if worst['tokens'] != 1 else ''}): "
                 + "; ".join(where)]
        for name in PRECISIONS:
            count = self.underflow[name]["sequences_underflowing"]
            if count:
                lines.append(f"{name}: the raw product of {count:,} of {self.sequences:,} sequences reaches 0.0, the "
                             f"first at token {self.underflow[name]['first_zero_token']}")
        return lines


def _exp(value: float) -> float | None:
    return math.exp(value) if value < 709.78 else None  # past float64: JSON null rather than inf


# --- scoring ------------------------------------------------------------------------------------------------
def score_sequence(source, *, logits_key: str = "logits", targets_key: str = "targets",
                   ignore_index: int = IGNORE_INDEX, label_smoothing: float | None = None,
                   ensemble: list | None = None, targets=None, progress=None) -> SequenceScore:
    """Score a language model's tokens. `source`: a .npz path, or an array of logits (B, T, V) with
    `targets` (B, T); `ensemble`: more .npz paths (or logits arrays) scored with it as one model whose
    token probability is the mean of the members'. `progress(done, total)`: sequences scored so far."""
    if label_smoothing is not None and not 0.0 <= label_smoothing <= 1.0:
        raise UsageError(f"--label-smoothing is between 0 and 1, not {label_smoothing}")
    if label_smoothing is not None and ensemble:
        raise UsageError("--label-smoothing scores one model's logits; an ensemble's are a mixture: score its members "
                         "one by one")
    members = [source, *(ensemble or [])]
    labels = [m if isinstance(m, str) else f"<logits {i}>" for i, m in enumerate(members)]
    if targets is None:
        if not isinstance(source, str):
            raise UsageError("give targets with logits held in memory")
        targets = read_targets(source, targets_key)
    targets = np.asarray(targets)
    if targets.ndim != 2 or targets.dtype.kind not in "iu":
        raise DataError(f"{labels[0]}: targets are integer token ids of shape (sequences, positions), not "
                        f"{targets.dtype} of shape {targets.shape}", kind="value")
    for member, label in zip(members[1:], labels[1:]):
        if isinstance(member, str) and not np.array_equal(read_targets(member, targets_key), targets):
            raise DataError(f"{label}: its targets differ from {labels[0]}'s: an ensemble's members score the same "
                            "tokens", kind="value")
    sequences, positions = targets.shape
    streams = [npz_chunks(m, logits_key, sequences, positions) if isinstance(m, str) else
               array_chunks(_checked_array(m, label, sequences, positions)) for m, label in zip(members, labels)]
    per_sequence_logs, member_nll, smoothing = [], [0.0] * len(members), 0.0
    naive = {name: 0 for name in NAIVE}
    for chunks in zip(*streams):
        start = chunks[0][0]
        block = targets[start:start + len(chunks[0][1])]
        scored = [score_chunk(logits, block, start, ignore_index, label, naive=(i == 0 and not ensemble),
                              smoothing=label_smoothing is not None)
                  for i, ((_, logits), label) in enumerate(zip(chunks, labels))]
        for i, s in enumerate(scored):
            member_nll[i] -= float(sum(np.sum(lp) for lp in s.log_probs))
        if len(scored) == 1:
            logs = scored[0].log_probs
            smoothing += scored[0].smoothing
            for name in NAIVE:
                naive[name] += scored[0].naive[name]
        else:  # the ensemble's token probability: the members' mean, by log-mean-exp
            logs = [special.logsumexp(np.vstack([s.log_probs[b] for s in scored]), axis=0) - math.log(len(scored))
                    for b in range(len(block))]
        per_sequence_logs.extend(logs)
        if progress is not None:
            progress(len(per_sequence_logs), sequences)
    return _result(labels[0], per_sequence_logs, smoothing, naive if not ensemble else None, label_smoothing,
                   member_nll if ensemble else None, ignore_index)


def _checked_array(logits, label: str, sequences: int, positions: int) -> np.ndarray:
    logits = np.asarray(logits)
    if logits.dtype.kind != "f" or logits.ndim != 3 or logits.shape[:2] != (sequences, positions):
        raise DataError(f"{label}: logits of shape {logits.shape} and targets ({sequences}, {positions}); logits are "
                        "(sequences, positions, vocabulary) floats for the same sequences and positions", kind="value")
    return logits


def _result(source, per_sequence_logs, smoothing, naive, label_smoothing, member_nll, ignore_index) -> SequenceScore:
    tokens = sum(len(lp) for lp in per_sequence_logs)
    if tokens == 0:
        raise DataError(f"{source}: every target is the ignore index {ignore_index}: no token to score", kind="empty")
    rows, underflow = [], {name: {"sequences_underflowing": 0, "first_zero_token": None} for name in PRECISIONS}
    for index, lp in enumerate(per_sequence_logs):
        nll = -float(np.sum(lp))
        zeros = {name: first_zero(lp, name) for name in PRECISIONS}
        for name, spot in zeros.items():
            if spot is not None:
                found = underflow[name]
                found["sequences_underflowing"] += 1
                found["first_zero_token"] = spot if found["first_zero_token"] is None else min(found["first_zero_token"], spot)
        rows.append({"index": index, "tokens": int(len(lp)), "nll": nll,
                     "perplexity": _exp(nll / len(lp)) if len(lp) else None, "first_zero": zeros})
    nll = -float(sum(np.sum(lp) for lp in per_sequence_logs))
    smoothed = None
    if label_smoothing is not None:
        loss = (1 - label_smoothing) * nll / tokens + label_smoothing * smoothing / tokens
        smoothed = {"epsilon": label_smoothing, "loss": loss,
                    "note": "the smoothed loss mixes each token's NLL with the mean NLL of every class: it is the "
                            "cross-entropy against a target spread over the vocabulary, not the likelihood of the "
                            "observed tokens, so it is no NLL of the data (its minimiser is not the MLE)"}
    ensemble = None
    if member_nll is not None:
        ensemble = {"cross_entropy": nll / tokens, "members": [m / tokens for m in member_nll]}
    naive_out = None if naive is None else {name: {"nonfinite_losses": count} for name, count in naive.items()}
    return SequenceScore(source, len(per_sequence_logs), tokens, nll, rows, underflow, naive_out, smoothed, ensemble,
                         ignore_index)


def score_logprob_rows(source: str, sequence: str, logprob: str, options) -> SequenceScore:
    """The long form: a row per token, its sequence's id and the log-probability the model gave the
    observed token (an API's logprobs), sequences in order of their first row."""
    from .columns import Column, joined
    from .data import _as_numbers, iter_columns

    label = "<stdin>" if source == "-" else source
    chunks = list(iter_columns(source, [sequence, logprob], options=options, text=True))
    if not chunks:
        raise DataError(f"{label}: no rows", kind="empty")
    ids, logs = (joined(list(parts)) for parts in zip(*chunks))
    if logs.dropped or ids.dropped:
        missing = np.setdiff1d(np.arange(1, max(len(logs.values) + logs.dropped, len(ids.values) + ids.dropped) + 1),
                               np.intersect1d(logs.rows, ids.rows))
        raise DataError(f"{label}: row {int(missing[0])}: a missing cell in '{sequence}' or '{logprob}': every token "
                        "needs its sequence and its log-probability", kind="value", row=int(missing[0]))
    values = _as_numbers(Column(logs.source, logs.name, logs.values, logs.rows, 0, logs.decimal), False)
    bad = np.flatnonzero(~np.isfinite(values) | (values > 0))
    if bad.size:
        i = bad[0]
        raise DataError(f"{logs.where(i)}: {values[i]:g} is not a log-probability (a number at most 0)", kind="value",
                        row=int(logs.rows[i]))
    keys = np.asarray([str(v) for v in ids.values], dtype=object)
    order = {}
    for key in keys:
        order.setdefault(key, len(order))
    groups = np.array([order[k] for k in keys], dtype=np.int64)
    by_group = np.argsort(groups, kind="stable")  # each sequence's tokens together, in file order
    per_sequence = np.split(values[by_group], np.flatnonzero(np.diff(groups[by_group])) + 1)
    return _result(label, per_sequence, 0.0, None, None, None, IGNORE_INDEX)
