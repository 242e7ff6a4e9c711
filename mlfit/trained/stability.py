"""What the naive computation of a prediction's likelihood does in float64, float32 and float16:
exp of a logit (or of a log-variance, a log-rate) overflows to inf or underflows to 0, a softmax
of infinities is NaN, the log of a probability rounded to 0 is -inf. Each family computes its rows
the naive way (`Conditional.naive_log_likelihood`); here they are counted row by row. The stable
route (log-sum-exp, BCE with logits) gives the NLL mlfit reports."""

from __future__ import annotations

import numpy as np

PRECISIONS = ("float64", "float32", "float16")


class Stability:
    """Counts merged chunk by chunk, per precision."""

    def __init__(self):
        self.counts = {name: {"overflow": 0, "minus_inf": 0, "nan": 0, "sum": 0.0} for name in PRECISIONS}
        self.largest = 0.0

    def add(self, family, y, inputs, sigma) -> None:
        """`family`'s rows (a conditional family, which computes them naively: `naive_log_likelihood`)."""
        if len(y) == 0:
            return
        self.largest = max(self.largest, float(np.abs(inputs).max()))
        for name in PRECISIONS:
            values, overflow = family.naive_log_likelihood(y, inputs, sigma, name)
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
