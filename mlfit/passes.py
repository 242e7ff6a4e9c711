"""The numerical fit of values on disk (see families.on_disk): the search runs on an evenly spread
sample held in memory, then Newton's method finishes on every value. The NLL, its gradient and its
Hessian are sums over rows, so each Newton step costs one pass over the file of values; from the
sample's optimum, a few steps reach the whole column's (the convergence is quadratic).

A step that raises the NLL is halved, and a Hessian that is not positive definite (far from the
optimum) is replaced by its eigenvalues' magnitudes, so every step goes downhill.
"""

from __future__ import annotations

import numpy as np

from .fitting import DECREMENT_TOLERANCE, NumericalFit, _free_coordinates, below_rounding, minimize_nll

NEWTON_PASSES = 50  # at most this many passes (about 4 are taken from a sample of 10^6 rows)
HALVINGS = 30  # a step halved this often without the NLL falling: the search stops there
# A trial point no higher than this many units in the last place of the NLL is downhill: near the
# optimum the NLL stops changing in float64 while the gradient still points somewhere.
LEVEL_ULPS = 8


def minimize_by_passes(family, stats, fixed: dict | None = None) -> NumericalFit:
    """Minimise the NLL of the values on disk `stats` over the parameters not in `fixed`."""
    fixed = fixed or {}
    sample = minimize_nll(family, stats.sample, fixed)
    limits = {name: sample.params[name] for name in sample.at_boundary if np.isinf(sample.params[name])}
    held = {**fixed, **limits}  # a limit the sample's fit went to (student_t's nu = inf) is held there
    start = {**sample.params, **held}
    free = _free_coordinates(family, start, held)
    before = stats.passes
    u, value, steps, decrement, settled = newton_by_passes(family, stats, family.pack(start, stats), free)
    params = {**family.unpack(u, start, stats), **held}
    passes = stats.passes - before
    limit = "" if not limits else f", at the sample's limit {', '.join(f'{name} = inf' for name in limits)}"
    message = (f"{sample.method} on an evenly spread sample of {len(stats.sample.values):,} rows{limit}; then "
               f"{steps} Newton step{'s' if steps != 1 else ''} over all {stats.rows:,} rows, decrement "
               f"{decrement:.1e}: {passes} passes over the values, kept in a temporary file")
    return NumericalFit(params, value * stats.n, f"{sample.method} on a sample, then Newton by passes",
                        sample.iterations + steps, sample.evaluations + passes, settled, message,
                        tuple(limits), decrement)


def newton_by_passes(family, stats, u: np.ndarray, free: np.ndarray):
    """Newton's method over the free coordinates from u, one pass per evaluated point:
    (u, the mean NLL there, steps, the Newton decrement, whether it is the optimum float64 can place)."""
    first = stats.passes
    value, gradient, hessian = family.objective_derivatives(stats, u)
    steps = 0
    while stats.passes - first < NEWTON_PASSES:
        step, decrement = _descent(gradient[free], hessian[np.ix_(free, free)])
        if step is None:
            return u, value, steps, float("inf"), False
        if decrement == 0 or below_rounding(step, u[free]):
            return u, value, steps, decrement, True
        refining = decrement <= DECREMENT_TOLERANCE  # converged: a step is kept while it shrinks the decrement
        for _ in range(HALVINGS):
            candidate = u.copy()
            candidate[free] -= step
            found = family.objective_derivatives(stats, candidate)
            if refining or np.isfinite(found[0]) and found[0] <= value + LEVEL_ULPS * np.spacing(abs(value)):
                break
            step = step / 2
        else:
            return u, value, steps, decrement, False
        if refining and not _descent(found[1][free], found[2][np.ix_(free, free)])[1] < decrement:
            return u, value, steps, decrement, True
        u, (value, gradient, hessian), steps = candidate, found, steps + 1
    return u, value, steps, decrement, decrement <= DECREMENT_TOLERANCE


def _descent(gradient: np.ndarray, hessian: np.ndarray):
    """The Newton step H^-1 g and the decrement sqrt(g' H^-1 g), with |H| for H where it is not
    positive definite (a step that still goes downhill); (None, inf) where H is not finite. H is
    first scaled to a unit diagonal: a location counted in units of 2^21 (a cauchy's half range)
    has a curvature 10^12 times its scale's, and unscaled, the floor on small eigenvalues that
    keeps |H| invertible would have cut the scale's steps ninefold."""
    if not (np.all(np.isfinite(hessian)) and np.all(np.isfinite(gradient))):
        return None, float("inf")
    diagonal = np.abs(np.diag(hessian))
    unit = np.where(diagonal > 0, 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0)), 1.0)
    curvatures, directions = np.linalg.eigh(hessian * np.outer(unit, unit))
    magnitudes = np.abs(curvatures)
    floor = 1e-12 * magnitudes.max(initial=0.0)
    if not floor > 0:
        return None, float("inf")
    scaled = gradient * unit
    step = unit * (directions @ (directions.T @ scaled / np.maximum(magnitudes, floor)))
    return step, float(np.sqrt(max(float(gradient @ step), 0.0)))
