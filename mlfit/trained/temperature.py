"""mlfit calibrate: temperature scaling (Guo et al., 2017). One parameter T > 0 divides every
logit; it is fitted by maximum likelihood, the NLL of softmax(z / T) (for a binary model, of
sigmoid(z / T)). With s = 1/T the NLL is convex: sum of logsumexp(s z) - s z_target, whose first
and second derivatives are the mean and the variance of z under the softmax. Newton's method in
s; the standard error from that second derivative; the profile interval from the likelihood-ratio
cut. Expected and maximum calibration error (equal-width bins of confidence) and the Brier score
before and after. Rows are kept in memory up to a limit, and read again a chunk per pass beyond it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from ..columns import DEFAULT, ReadOptions
from ..errors import DataError, NoMaximum, UsageError
from ..underflow import feed, report, running_products
from ..estimates import Entries, Estimates, HTMLSummary, wald_bounds
from .columns import Spec, read_chunks, source_label
from .stability import Stability

IN_MEMORY_CELLS = 2 ** 25


class Logits:
    """The logits (n x k; a binary model's as [0, z]) and the target's class, chunk by chunk."""

    def __init__(self, source: str, spec: Spec, options: ReadOptions):
        self.source, self.spec, self.options = source, spec, options
        self.held: list | None = []
        self.dropped = 0
        cells = 0
        for chunk in self._read():
            self.held.append(chunk)
            cells += chunk[0].size
            if cells > IN_MEMORY_CELLS:
                self.held = None
                break
        self.passes = 1

    def _read(self):
        self.dropped = 0
        for chunk in read_chunks(self.source, self.spec, self.options):
            self.dropped += chunk.dropped
            if not len(chunk.y):
                continue
            z = chunk.inputs if self.spec.family.outcome == "classes" else \
                np.column_stack([np.zeros(len(chunk.y)), chunk.inputs[:, 0]])
            y = chunk.y.astype(np.int64)
            yield z, y, chunk.rows

    def chunks(self):
        if self.held is not None:
            yield from self.held
            return
        self.passes += 1
        yield from self._read()


def nll_terms(s: float, logits: Logits, order: int = 2):
    """The NLL of softmax(s z) and its first two derivatives in s."""
    value = first = second = 0.0
    for z, y, _ in logits.chunks():
        scaled = s * z
        normalizer = special.logsumexp(scaled, axis=1)
        own = z[np.arange(len(y)), y]
        value += float(np.sum(normalizer - s * own))
        if order:
            p = np.exp(scaled - normalizer[:, None])
            mean = np.sum(p * z, axis=1)
            first += float(np.sum(mean - own))
            second += float(np.sum(np.sum(p * z * z, axis=1) - mean * mean))
    return value, first, second


@dataclass(frozen=True)
class Calibration:
    bins: int
    ece: float
    mce: float
    brier: float
    accuracy: np.ndarray  # per bin (NaN where empty)
    confidence: np.ndarray
    counts: np.ndarray


def calibration(s: float, logits: Logits, bins: int) -> Calibration:
    """Equal-width bins of confidence (the largest probability): ECE is the count-weighted mean
    of |accuracy - confidence| over the bins, MCE the largest; Brier the mean squared distance
    of the probability vector from the one-hot target (for a binary model, of p from y)."""
    counts = np.zeros(bins)
    correct = np.zeros(bins)
    confident = np.zeros(bins)
    brier, n = 0.0, 0
    binary = logits.spec.family.outcome == "binary"
    for z, y, _ in logits.chunks():
        p = special.softmax(s * z, axis=1)
        confidence = p.max(axis=1)
        right = (np.argmax(p, axis=1) == y).astype(float)
        which = np.minimum((confidence * bins).astype(int), bins - 1)
        counts += np.bincount(which, minlength=bins)
        correct += np.bincount(which, weights=right, minlength=bins)
        confident += np.bincount(which, weights=confidence, minlength=bins)
        onehot = np.zeros_like(p)
        onehot[np.arange(len(y)), y] = 1.0
        if binary:
            brier += float(np.sum((p[:, 1] - onehot[:, 1]) ** 2))
        else:
            brier += float(np.sum((p - onehot) ** 2))
        n += len(y)
    used = counts > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        accuracy = np.where(used, correct / counts, np.nan)
        mean_confidence = np.where(used, confident / counts, np.nan)
    gaps = np.abs(accuracy[used] - mean_confidence[used])
    return Calibration(bins, float(np.sum(counts[used] * gaps) / n), float(gaps.max(initial=0.0)), brier / n,
                       accuracy, mean_confidence, counts)


@dataclass(frozen=True, repr=False)
class CalibrationResult(HTMLSummary, Estimates):
    source: str
    spec: Spec
    n: int
    dropped: int
    temperature: float
    stderr: float
    level: float
    wald: tuple
    profile: tuple
    nll_before: float
    nll_after: float
    before: Calibration
    after: Calibration
    iterations: int
    passes: int
    accuracy: float
    stability: dict
    underflow: object
    logits: object = None

    # The estimate's questions: params, bse, cov_params(), conf_int(level) of the temperature.
    def _entries(self) -> Entries:
        return Entries(["temperature"], np.array([self.temperature]), np.array([self.stderr]))

    def _bounds(self, level: float) -> dict:
        bounds = wald_bounds(np.array([self.temperature]), np.array([self.stderr]), level)
        if level == self.level:  # the profile interval is the one the fit made; at another level, Wald's only
            bounds.update(profile_lower=np.array([self.profile[0]]), profile_upper=np.array([self.profile[1]]))
        return bounds

    @property
    def log_likelihood(self) -> float:
        return -self.nll_after

    def summary(self) -> str:
        """The calibration as the table view prints it, as text."""
        from ..report import printed_text
        from .report import print_calibration

        return printed_text(print_calibration, self)

    def __repr__(self) -> str:
        return (f"<CalibrationResult {self.spec.family.name} logits of '{self.spec.target}' in {self.source}: "
                f"T={self.temperature:.6g} (se {self.stderr:.3g}) n={self.n:,}>")[:400]

    def plot(self, path: str | None = None):
        """The reliability diagram before and after (`--plot`), to `path`, or returned as a matplotlib
        Figure."""
        from .plots import draw_reliability

        return draw_reliability(self, path)

    def to_dict(self) -> dict:
        return {
            "file": self.source, "distribution": self.spec.family.name, "target": self.spec.target,
            "logits": self.spec.inputs, "n": self.n, "dropped": self.dropped,
            "temperature": self.temperature, "stderr": self.stderr,
            "ci": {"level": self.level, "wald": list(self.wald), "profile": list(self.profile)},
            "nll": self.nll_after, "mean_nll": self.nll_after / self.n, "nll_uncalibrated": self.nll_before,
            "loss": {"name": "cross-entropy of log-softmax(logits / T)" if self.spec.family.outcome == "classes"
                     else "binary cross-entropy with logits / T", "value": self.nll_after / self.n},
            "accuracy": self.accuracy,
            "ece": {"before": self.before.ece, "after": self.after.ece, "bins": self.before.bins},
            "mce": {"before": self.before.mce, "after": self.after.mce},
            "brier": {"before": self.before.brier, "after": self.after.brier},
            "reliability": {name: {"confidence": _listed(c.confidence), "accuracy": _listed(c.accuracy),
                                   "count": c.counts.astype(int).tolist()}
                            for name, c in (("before", self.before), ("after", self.after))},
            "iterations": self.iterations, "passes": self.passes,
            "stability": self.stability, "underflow": self.underflow.to_dict(),
        }


def _listed(values):
    return [None if not np.isfinite(v) else float(v) for v in values]


def logit_spec(distribution: str, target: str, *, names: list[str], label: str, logit=None, logits=None) -> Spec:
    """The logit columns of a classifier (`Conditional.outcome` binary or classes), checked."""
    from ..families import get_family
    from .scoring import make_spec

    family = get_family(distribution)
    if getattr(family, "outcome", None) not in ("binary", "classes"):
        raise UsageError(f"calibrate scales a classifier's logits (a bernoulli or categorical model), not {family.name} "
                         "predictions")
    return make_spec(distribution, target, names=names, label=label, logit=logit, logits=logits)


def calibrate(source: str, spec: Spec, *, bins: int = 15, level: float = 0.95,
              options: ReadOptions = DEFAULT) -> CalibrationResult:
    label = source_label(source)
    if spec.family.outcome not in ("binary", "classes"):
        raise UsageError(f"calibrate scales a classifier's logits (a bernoulli or categorical model), not "
                         f"{spec.family.name} predictions")
    logits = Logits(source, spec, options)
    n = sum(len(y) for _, y, _ in logits.chunks())
    if n == 0:
        raise DataError(f"{label}: no row has every used column; there is nothing to calibrate", kind="empty")
    s, iterations = _fit(logits, label)
    value, _, second = nll_terms(s, logits)
    before_value = nll_terms(1.0, logits, order=0)[0]
    se_s = 1.0 / math.sqrt(second)
    temperature = 1.0 / s
    stderr = se_s * temperature * temperature  # dT/ds = -1/s^2
    quantile = special.ndtri(0.5 + level / 2.0)
    wald = (float(temperature - quantile * stderr), float(temperature + quantile * stderr))
    profile = _profile(logits, s, value, level)
    correct, stability, products = 0.0, Stability(), running_products()
    for z, y, _ in logits.chunks():  # at the fitted temperature: the naive route and the raw product
        correct += float(np.sum(np.argmax(z, axis=1) == y))
        scaled = s * z
        classes = spec.family.outcome == "classes"
        stability.add(spec.family, y if classes else y.astype(float), scaled if classes else scaled[:, 1:], None)
        feed(products, np.take_along_axis(scaled, y[:, None], 1)[:, 0] - special.logsumexp(scaled, axis=1), None,
             written_out=True)
    return CalibrationResult(label, spec, n, logits.dropped, temperature, stderr, level, wald, profile, before_value,
                             value, calibration(1.0, logits, bins), calibration(s, logits, bins), iterations,
                             logits.passes, correct / n, stability.to_dict(value), report(products, value, n, False),
                             logits)


def _check_optimum(logits: Logits, label: str) -> None:
    """The NLL is convex in s = 1/T, so a finite optimum exists exactly when it falls as s leaves 0
    (its slope there, sum(mean_j z_ij - z_iy), is negative) and rises again for large s (some row's
    target is below its row's largest logit). Otherwise T runs to 0 or to infinity: say which, as
    regress names separation, rather than print where Newton's steps stopped."""
    separable, slope_at_zero, rows = True, 0.0, 0
    for z, y, _ in logits.chunks():
        own = z[np.arange(len(y)), y]
        separable = separable and bool(np.all(own >= z.max(axis=1)))
        slope_at_zero += float(np.sum(z.mean(axis=1) - own))
        rows += len(y)
    if separable:
        raise NoMaximum(f"{label}: every row's target has the largest logit ({rows:,} rows), so the NLL keeps "
                        "falling as the temperature goes to 0: no finite temperature is the maximum-likelihood one "
                        "(the logits separate the classes)")
    if slope_at_zero >= 0:
        raise NoMaximum(f"{label}: on average the target's logit is not above the row's mean logit (a single class "
                        "with logits of both signs, or logits that point the wrong way), so the NLL falls all the "
                        "way to the uniform guess as the temperature goes to infinity: no finite temperature is the "
                        "maximum-likelihood one")


def _fit(logits: Logits, label: str) -> tuple[float, int]:
    """Newton's method on s = 1/T from s = 1 (no scaling), steps halved to keep s > 0 and the NLL
    from rising."""
    s = 1.0
    if all(np.all(z.max(axis=1) == z.min(axis=1)) for z, _, _ in logits.chunks()):
        raise DataError(f"{label}: within every row the logits are all equal, so dividing them by a temperature "
                        "changes nothing: there is no temperature to fit")
    _check_optimum(logits, label)
    value, first, second = nll_terms(s, logits)
    for iteration in range(1, 101):
        if second <= 0:
            break
        step = first / second
        candidate = s - step
        if candidate <= 0:  # s > 0: a step past 0 goes halfway there instead
            candidate = 0.5 * s
        new_value, new_first, new_second = nll_terms(candidate, logits)
        halvings = 0
        while new_value > value + 1e-12 * abs(value) and halvings < 60:
            candidate = s + 0.5 * (candidate - s)
            new_value, new_first, new_second = nll_terms(candidate, logits)
            halvings += 1
        moved = abs(candidate - s)
        s, value, first, second = candidate, new_value, new_first, new_second
        if moved <= 1e-13 * s:
            return s, iteration
        if s > 1e12:
            break
    if second <= 0 or s > 1e12:
        raise DataError(f"{label}: every row's target already has the largest logit, so the NLL keeps falling as "
                        "the temperature goes to 0: there is no finite temperature to fit")
    return s, 100


def _profile(logits: Logits, s: float, value: float, level: float) -> tuple:
    """{T : 2 (NLL(T) - NLL(T_hat)) <= chi2_1(level)} by root-finding in log s on each side; an end
    is infinite where the NLL never rises that far (toward T -> inf, the NLL of uniform guesses)."""
    cut = value + 0.5 * special.chdtri(1, 1.0 - level)

    def excess(log_s):
        return nll_terms(math.exp(log_s), logits, order=0)[0] - cut

    ends = []
    for direction in (-1.0, 1.0):  # s smaller (T larger), then s larger (T smaller)
        far = math.log(s) + direction
        step = 1.0
        while excess(far) < 0:
            step *= 2.0
            far = math.log(s) + direction * step
            if step > 64:
                far = None
                break
        if far is None:
            ends.append(0.0 if direction < 0 else math.inf)
            continue
        root = optimize.brentq(excess, min(math.log(s), far), max(math.log(s), far), xtol=1e-14, rtol=1e-14)
        ends.append(math.exp(root))
    s_low, s_high = ends
    return (1.0 / s_high if s_high > 0 else math.inf, math.inf if s_low == 0 else 1.0 / s_low)


def calibrated_chunks(result: CalibrationResult):
    """(rows, probabilities) chunk by chunk at the fitted temperature."""
    s = 1.0 / result.temperature
    for z, _, rows in result.logits.chunks():
        yield rows, special.softmax(s * z, axis=1)


def write_calibrated(result: CalibrationResult, path: str) -> None:
    """A CSV of each row's number and its calibrated probabilities (p for a binary model, p[column]
    per class), a chunk at a time."""
    import csv

    binary = result.spec.family.outcome == "binary"
    from ..data import written_atomically

    with written_atomically(path, "the calibrated probabilities") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", *(["p"] if binary else [f"p[{c}]" for c in result.spec.inputs])])
        for rows, probabilities in calibrated_chunks(result):
            values = probabilities[:, 1:] if binary else probabilities
            for row, p in zip(rows.tolist(), values.tolist()):
                writer.writerow([row, *(repr(v) for v in p)])
