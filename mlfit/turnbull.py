"""Turnbull's nonparametric estimate of the distribution of censored rows (the Kaplan-Meier
estimate where every censored row is right-censored): what a censored fit is drawn against."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Turnbull:
    """The nonparametric maximum-likelihood estimate of the distribution of censored rows
    (Turnbull 1976): probability masses on the innermost intervals [left, right] where rows'
    bounds meet, found by the self-consistency (EM) iteration. For right-censored rows alone it is
    the Kaplan-Meier estimate; for exact rows alone the empirical distribution."""

    left: np.ndarray
    right: np.ndarray
    mass: np.ndarray
    iterations: int
    converged: bool

    def cdf_at_right(self) -> np.ndarray:
        return np.cumsum(self.mass)


def turnbull(data, tolerance: float = 1e-10, limit: int = 10_000) -> Turnbull:
    """Each censored row an interval (low, high] (open at low: a survival time censored at 5 lived
    past 5, as Kaplan and Meier count it), each exact row the point [x, x]. The innermost intervals
    are where a row's start is followed by a row's end with no start between; each row's likelihood
    is the mass of the innermost intervals inside its own, and EM finds the masses."""
    low, high, exact = data.low, data.high, data.kinds == 0
    # Endpoints as (value, rank): at one value, an exact row's closed start, then the ends, then
    # the open starts of the censored rows.
    starts = np.column_stack([low, np.where(exact, 0, 2)])
    ends = np.column_stack([high, np.ones(len(high))])
    keys = np.unique(np.concatenate([starts, ends]), axis=0)  # sorted by value, then rank
    position = {tuple(key): i for i, key in enumerate(keys.tolist())}
    start_at = np.array([position[tuple(key)] for key in starts.tolist()])
    end_at = np.array([position[tuple(key)] for key in ends.tolist()])
    is_end = keys[:, 1] == 1
    inner = np.flatnonzero(~is_end[:-1] & is_end[1:])  # a start followed at once by an end
    contains = (start_at[:, None] <= inner[None, :]) & (inner[None, :] + 1 <= end_at[:, None])
    mass = np.full(len(inner), 1.0 / len(inner))
    converged, iteration = False, 0
    for iteration in range(1, limit + 1):
        likelihood = contains @ mass
        updated = mass * (contains / likelihood[:, None]).mean(axis=0)
        change = np.max(np.abs(updated - mass))
        mass = updated
        if change < tolerance:
            converged = True
            break
    return Turnbull(keys[inner, 0], keys[inner + 1, 0], mass, iteration, converged)
