"""Case/frequency weights: a row with weight w counts as w rows. Whole-number weights can be
written out (expanded), which is what makes a weighted fit checkable against the plain one."""

from __future__ import annotations

import numpy as np


def whole(weights: np.ndarray | None) -> bool:
    """True when there are no weights, or every weight is a whole number."""
    return weights is None or bool(np.all(weights == np.floor(weights)))


def expand(values: np.ndarray, weights: np.ndarray | None) -> np.ndarray | None:
    """The rows written out weight times; the values themselves without weights; None when a
    weight is not a whole number."""
    if weights is None:
        return values
    if not whole(weights):
        return None
    return np.repeat(values, weights.astype(np.int64))


EXACT = 2.0**53  # beyond this float64 has no odd integers: a count there is not known to the row


def count(n) -> int | float:
    """A number of rows as an int when it is one (whole-number weights sum to whole counts) that
    float64 holds exactly; a float otherwise (1e20 is not printed as 100000000000000000000)."""
    n = float(n)
    return int(n) if n.is_integer() and abs(n) <= EXACT else n
