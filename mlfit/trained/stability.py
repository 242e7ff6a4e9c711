"""What the naive computation of a prediction's likelihood does in float64, float32 and float16:
exp of a logit (or of a log-variance, a log-rate) overflows to inf or underflows to 0, a softmax
of infinities is NaN, the log of a probability rounded to 0 is -inf. Counted row by row; the
stable route (log-sum-exp, BCE with logits) gives the NLL mlfit reports."""

from __future__ import annotations

import numpy as np

PRECISIONS = ("float64", "float32", "float16")


def naive_log_likelihood(family: str, y: np.ndarray, inputs: np.ndarray, sigma: float | None, dtype):
    """Each row's log-likelihood computed the naive way in `dtype`, and which rows' exp overflowed."""
    t = np.dtype(dtype).type
    with np.errstate(all="ignore"):
        z = inputs.astype(dtype)
        if family == "bernoulli":
            e = np.exp(-z[:, 0])
            p = t(1) / (t(1) + e)
            out = np.where(y > 0.5, np.log(p), np.log(t(1) - p))
            return out, ~np.isfinite(e)
        if family == "categorical":
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            out = np.log(p[np.arange(len(y)), y])
            return out, ~np.isfinite(e).all(axis=1)
        if family == "poisson":
            rate = np.exp(z[:, 0])
            from scipy import special

            factorial = special.gamma(y + 1).astype(dtype)
            out = np.log(rate ** y.astype(dtype) * np.exp(-rate) / factorial)
            return out, ~np.isfinite(rate)
        mean = z[:, 0]
        r = y.astype(dtype) - mean
        if family == "normal":
            variance = np.exp(z[:, 1]) if z.shape[1] > 1 else np.full(len(y), t(sigma) * t(sigma), dtype=dtype)
            density = np.exp(-r * r / (t(2) * variance)) / np.sqrt(t(2 * np.pi) * variance)
            return np.log(density), ~np.isfinite(variance) | (variance == 0)
        b = np.exp(z[:, 1]) if z.shape[1] > 1 else np.full(len(y), t(sigma), dtype=dtype)
        density = np.exp(-np.abs(r) / b) / (t(2) * b)
        return np.log(density), ~np.isfinite(b) | (b == 0)


class Stability:
    """Counts merged chunk by chunk, per precision."""

    def __init__(self):
        self.counts = {name: {"overflow": 0, "minus_inf": 0, "nan": 0, "sum": 0.0} for name in PRECISIONS}
        self.largest = 0.0

    def add(self, family: str, y, inputs, sigma) -> None:
        if len(y) == 0:
            return
        self.largest = max(self.largest, float(np.abs(inputs).max()))
        for name in PRECISIONS:
            values, overflow = naive_log_likelihood(family, y, inputs, sigma, name)
            count = self.counts[name]
            count["overflow"] += int(overflow.sum())
            count["minus_inf"] += int(np.sum(values == -np.inf))
            count["nan"] += int(np.sum(np.isnan(values)))
            with np.errstate(all="ignore"):
                count["sum"] += float(np.sum(values.astype(np.float64)))

    def to_dict(self, stable_nll: float) -> dict:
        out = {"largest_abs_input": self.largest, "stable_nll": stable_nll}
        for name, count in self.counts.items():
            naive = -count["sum"]
            if count["nan"]:
                result = "nan"
            elif count["minus_inf"] or not np.isfinite(naive):
                result = "inf"
            else:
                result = "finite"
            out[name] = {"naive_result": result, "naive_nll": naive if np.isfinite(naive) else None,
                         "rows_exp_overflow": count["overflow"], "rows_log_of_zero": count["minus_inf"],
                         "rows_nan": count["nan"]}
        return out

    def impossible_rows(self) -> int:
        """Rows whose target has probability exactly 0 in the naive float64 computation."""
        return self.counts["float64"]["minus_inf"]
