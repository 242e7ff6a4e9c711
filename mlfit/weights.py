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


def count(n) -> int | float:
    """A number of rows as an int when it is one (whole-number weights sum to whole counts)."""
    return int(n) if float(n).is_integer() else float(n)
