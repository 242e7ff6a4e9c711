"""The numerical fit: minimise the mean NLL over unconstrained coordinates with scipy.optimize,
then compare the optimum with the family's closed form.

Smooth families use L-BFGS-B with their analytic gradient. Laplace, whose NLL has a kink at
every data point, uses Powell's derivative-free method, whose line searches are happy on
piecewise-linear ground. Both run on the mean NLL per row, so tolerances mean the same
thing for 20 rows and for 20 million.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

# The numerical NLL must match the closed form's to this relative difference, and each
# parameter must lie this close (relative) to the closed-form optimum; otherwise the fit
# is flagged. The NLL is flat near its minimum, so parameters get the looser bound.
NLL_TOLERANCE = 1e-9
PARAM_TOLERANCE = 1e-6
# An optimiser in logit or log coordinates can only approach p = 0, p = 1 or lam = 0; an
# estimate this close to such an edge is tried at the edge itself.
BOUNDARY_PROXIMITY = 1e-6

SMOOTH_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000}
KINKED_OPTIONS = {"xtol": 1e-12, "ftol": 1e-15, "maxfev": 20000}


@dataclass(frozen=True)
class NumericalFit:
    params: dict
    nll: float
    method: str
    iterations: int
    evaluations: int
    converged: bool
    message: str
    at_boundary: tuple[str, ...]  # parameters whose optimum is an edge of the parameter space


@dataclass(frozen=True)
class Comparison:
    param_differences: dict  # {name: relative distance from the closed-form optimum}
    nll_difference: float  # relative
    largest: float
    agrees: bool


def minimize_nll(family, stats) -> NumericalFit:
    start = family.start(stats)
    u0 = family.pack(start)
    if u0.size == 0:
        params = family.unpack(u0, start)
        return NumericalFit(params, family.nll(stats, params), "none", 0, 0, True,
                            "no free parameters: the only category has probability 1", ())

    scale = _step_scale(family, start)

    def objective(v):
        value, grad = family.objective(stats, u0 + scale * v)
        return (value, grad * scale) if grad is not None else value

    if family.smooth:
        method = "L-BFGS-B"
        result = optimize.minimize(objective, np.zeros_like(u0), jac=True, method=method,
                                   options=SMOOTH_OPTIONS)
    else:
        method = "Powell"
        result = optimize.minimize(objective, np.zeros_like(u0), method=method, options=KINKED_OPTIONS)

    params = family.unpack(u0 + scale * result.x, start)
    nll = family.nll(stats, params)
    params, nll, at_boundary = _settle_on_boundary(family, stats, params, nll)
    message = result.message if isinstance(result.message, str) else str(result.message)
    return NumericalFit(params, nll, method, int(result.nit), int(result.nfev), bool(result.success),
                        message, at_boundary)


def _step_scale(family, start) -> np.ndarray:
    widths = []
    for p in family.parameters:
        unit = float(start[p.scale_by]) if p.scale_by else 1.0
        widths.append(np.full(p.constraint.size(start[p.name]), unit))
    return np.concatenate(widths)


def _settle_on_boundary(family, stats, params, nll):
    """Try each bounded parameter at the edge it approaches; keep the edge if its NLL is no worse.

    The edge is only ever accepted when it really is at least as good, so this cannot move an
    interior optimum: with one miss among 10^7 shots, p = 1 has an infinite NLL and is refused."""
    settled = []
    for p in family.parameters:
        value = params[p.name]
        for edge in p.constraint.boundaries:
            if np.ndim(value) == 0 and abs(value - edge) <= BOUNDARY_PROXIMITY:
                candidate = {**params, p.name: edge}
                candidate_nll = family.nll(stats, candidate)
                if candidate_nll <= nll:
                    params, nll = candidate, candidate_nll
                    settled.append(p.name)
    return params, nll, tuple(settled)


def relative_difference(a, b, floor=0.0) -> float:
    denominator = max(abs(a), abs(b), floor)
    return 0.0 if denominator == 0 else abs(a - b) / denominator


def compare(family, stats, numerical: NumericalFit, closed: dict, closed_nll: float) -> Comparison:
    intervals = family.optimal_intervals(stats)
    differences = {}
    for p in family.parameters:
        got = np.atleast_1d(np.asarray(numerical.params[p.name], dtype=float))
        want = np.atleast_1d(np.asarray(closed[p.name], dtype=float))
        # A location is judged against the spread, so mu = 1e-17 vs 3e-12 is not "100% off".
        floor = float(closed[p.scale_by]) if p.scale_by else 0.0
        low, high = intervals.get(p.name, (want, want))
        distance = np.maximum(np.maximum(low - got, got - high), 0.0)
        denominator = np.maximum(np.abs(want), floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(distance == 0, 0.0, distance / denominator)
        differences[p.name] = float(ratio.max())
    # NLLs near 0 (p at a boundary, or a normal whose sigma is near 0.242) are compared
    # absolutely: a floor of 1 nat.
    nll_difference = relative_difference(numerical.nll, closed_nll, floor=1.0)
    largest = max([nll_difference, *differences.values()])
    agrees = nll_difference <= NLL_TOLERANCE and all(d <= PARAM_TOLERANCE for d in differences.values())
    return Comparison(differences, nll_difference, largest, agrees)
