"""The numerical fit: minimise the mean NLL over unconstrained coordinates with scipy.optimize,
then compare the optimum with the family's closed form.

Smooth families: scipy's L-BFGS-B, given the analytic gradient, walks from a deliberately poor
start to the optimum. Any method that accepts a step by comparing NLL values stalls where those
values stop differing in float64 (parameters good to ~1e-8 relative, worse for rare events),
while the analytic gradient stays accurate far below that. So a few pure Newton steps on the
exact gradient and Hessian finish the job, and convergence is certified by the Newton
decrement sqrt(g' H^-1 g): a scale-free distance to the optimum (the NLL per row can still fall
by about half its square), meaning the same for a poisson rate of 1e6 and a bernoulli p of 1e-5.

Laplace, whose NLL has a kink at every data point, uses Powell's derivative-free method,
whose line searches are happy on piecewise-linear ground.

Everything works on the mean NLL per row, so tolerances mean the same for 20 rows and 20 million.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

from .families.base import cholesky_solve

# The numerical NLL must match the closed form's to this relative difference, and each
# parameter must lie this close (relative) to the closed-form optimum; otherwise the fit
# is flagged. The NLL is flat near its minimum, so parameters get the looser bound.
NLL_TOLERANCE = 1e-9
PARAM_TOLERANCE = 1e-6
# Converged means a Newton decrement at most this: the mean NLL per row is within 5e-17
# of its minimum.
DECREMENT_TOLERANCE = 1e-8
# Newton on softmax logits moves a category predicted far too likely by about one nat a step (a
# weighted p of 3e-20 from a start near 1e-10 takes ~25), so the budget is generous; a step that
# does not shrink the decrement ends the refinement anyway.
NEWTON_STEPS = 100
# An optimiser in logit or log coordinates can only approach p = 0, p = 1 or lam = 0; an
# estimate this close to such an edge is tried at the edge itself.
BOUNDARY_PROXIMITY = 1e-6

SEARCH_OPTIONS = {"ftol": 1e-13, "gtol": 1e-9, "maxiter": 1000}  # L-BFGS-B
KINKED_OPTIONS = {"xtol": 1e-12, "ftol": 1e-15, "maxfev": 20000}  # Powell


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
    newton_decrement: float | None = None  # at the final point; None where it is not defined


@dataclass(frozen=True)
class Comparison:
    param_differences: dict  # {name: relative distance from the closed-form optimum}
    nll_difference: float  # relative
    largest: float
    agrees: bool


def minimize_nll(family, stats, fixed: dict | None = None) -> NumericalFit:
    """Minimise the NLL over the parameters not in `fixed` (which are held at their values)."""
    fixed = fixed or {}
    starts = [{**start, **fixed} for start in family.starts(stats)]
    start = starts[0]
    free = _free_coordinates(family, start, fixed)
    if not free.any():
        params = family.unpack(family.pack(start, stats), start, stats)
        params.update(fixed)  # exactly as given, not through log/logit and back
        why = "every parameter is fixed" if fixed else "the only category has probability 1"
        return NumericalFit(params, family.nll(stats, params), "none", 0, 0, True, f"no free parameters: {why}", ())

    method = "L-BFGS-B" if family.smooth else "Powell"
    searches = [_search(family, stats, start, free, method) for start in starts]
    # The lowest minimum among the searches that stayed in float64's range (one that ran out of it
    # has no point to report, whatever value it saw last: a start at a spread of 1e-251 among
    # values of order 1 can).
    search, u, u0, start = min(searches, key=lambda found: found[0].fun if np.isfinite(found[0].fun)
                               and np.all(np.isfinite(found[1][free])) else np.inf)
    message = search.message if isinstance(search.message, str) else str(search.message)
    if len(starts) > 1:
        message += f" (the best of {len(starts)} starts)"
    if not np.all(np.isfinite(u[free])):  # (a held coordinate may be infinite: nu = inf, the normal limit)
        # The search ran out of float64 (a step to exp(1e155)): say so, and keep the start,
        # so the fit is flagged (exit 3) and the closed form stands, rather than printing NaN.
        params = {**family.unpack(u0, start, stats), **fixed}
        return NumericalFit(params, family.nll(stats, params), method, int(search.nit), int(search.nfev), False,
                            f"{message}; the search left float64's range, so this is its starting point", ())
    params = {**family.unpack(u, start, stats), **fixed}
    params, nll, at_boundary = _settle_on_boundary(family, stats, params, family.nll(stats, params), fixed)
    limits = {name: params[name] for name in at_boundary if np.isinf(params[name])}
    if limits:
        # The best fit is a limiting model (negbinomial's poisson, student_t's normal), which the
        # search could only drift towards: the other parameters are fitted again there.
        there = minimize_nll(family, stats, {**fixed, **limits})
        held = ", ".join(f"{name} = inf" for name in limits)
        return NumericalFit(there.params, there.nll, there.method, int(search.nit) + there.iterations,
                            int(search.nfev) + there.evaluations, there.converged,
                            f"{message}; the best fit is the limit {held}, where the others were fitted again: "
                            f"{there.message}", at_boundary, there.newton_decrement)
    if not family.smooth:
        params, nll, moved = _settle_on_kinks(family, stats, params, nll, fixed)
        message += "; then moved to the nearest kink" if moved else ""
    if not family.smooth or at_boundary:
        # At an edge the coordinates only reach at infinity there is no curvature left to
        # refine with; the edge itself was evaluated exactly.
        return NumericalFit(params, nll, method, int(search.nit), int(search.nfev), bool(search.success),
                            message, at_boundary)

    u, steps, decrement = _newton_refine(family, stats, u, free)
    params = {**family.unpack(u, start, stats), **fixed}
    settled = decrement <= DECREMENT_TOLERANCE or _within_rounding(family, stats, u, free)
    floor = "" if decrement <= DECREMENT_TOLERANCE or not settled else \
        " (the next Newton step is below float64's resolution of the parameters: the decrement is rounding)"
    return NumericalFit(
        params, family.nll(stats, params), f"{method} + Newton", int(search.nit) + steps,
        int(search.nfev) + steps, settled,
        f"{message}; then {steps} Newton step{'s' if steps != 1 else ''}, decrement {decrement:.1e}{floor}",
        (), decrement,
    )


# A Newton step this many units in the last place of its coordinate changes nothing float64 can
# resolve: with counts of 1e20 the gradient is rounding of size 1e20 * 2^-52, and its decrement
# never falls below ~1e-6, yet no step would move the estimate.
ROUNDING_STEPS = 8


def _within_rounding(family, stats, u, free) -> bool:
    """Whether the Newton step at `u` is too small for float64 to tell the parameters apart from
    where they are: the optimum as far as float64 can place it."""
    step, _ = _newton_step(family, stats, u, free)
    return step is not None and below_rounding(step, u[free])


def below_rounding(step: np.ndarray, here: np.ndarray) -> bool:
    """Whether every coordinate of a step is within ROUNDING_STEPS units in the last place of where it starts."""
    return bool(np.all(np.abs(step) <= ROUNDING_STEPS * np.spacing(np.maximum(np.abs(here), 1.0))))


def restarted_at(family, stats, reference: dict, reference_nll: float, fixed: dict, lost: NumericalFit) -> NumericalFit:
    """Where the search got lost (it did not converge, or it stopped worse than the reference
    solution: data near 1e308, a weibull fitted to a lognormal with sigma 30), Newton's method from
    the reference itself; where Newton cannot certify that point either (its Hessian leaves
    float64), the reference is the result, not converged, so that the fit is flagged but its
    numbers, and a comparison's ranking, are the reference's and not the search's starting point."""
    start = {**reference, **fixed}
    free = _free_coordinates(family, start, fixed)
    name = family.reference_method
    if family.smooth and free.any():
        with np.errstate(all="ignore"):
            u, steps, decrement = _newton_refine(family, stats, family.pack(start, stats), free)
            params = {**family.unpack(u, start, stats), **fixed}
            nll = family.nll(stats, params)
            settled = decrement <= DECREMENT_TOLERANCE or _within_rounding(family, stats, u, free)
        if settled and np.isfinite(nll) and nll <= reference_nll + NLL_TOLERANCE * max(1.0, abs(reference_nll)):
            return NumericalFit(params, nll, f"{lost.method}, restarted", lost.iterations + steps,
                                lost.evaluations + steps, True,
                                f"the search stopped short ({lost.message}); Newton's method from the {name} "
                                f"took {steps} step{'s' if steps != 1 else ''}, decrement {decrement:.1e}", (),
                                decrement)
    return NumericalFit(start, reference_nll, lost.method, lost.iterations, lost.evaluations, False,
                        f"{lost.message}; Newton's method could not certify the {name} either, so the {name} "
                        "is the result", lost.at_boundary)


def lost(numerical: NumericalFit, reference_nll: float | None) -> bool:
    """Whether the search stopped somewhere the reference solution beats or could not be checked."""
    if reference_nll is None or not np.isfinite(reference_nll):
        return False
    if not np.isfinite(numerical.nll):
        return True
    worse = numerical.nll - reference_nll > NLL_TOLERANCE * max(1.0, abs(reference_nll))
    return worse or (not numerical.converged and numerical.nll >= reference_nll)


def _search(family, stats, start: dict, free: np.ndarray, method: str):
    """One scipy.optimize search from `start` over the free coordinates: (result, its point u, the
    start's u0, start)."""
    u0 = family.pack(start, stats)
    scale = _step_scale(family, start, family.unit(stats))[free]

    def at(v):  # u for a step v (in units of `scale`) away from the start, fixed coordinates held
        u = u0.copy()
        u[free] += scale * v
        return u

    def objective(v):
        # A trial step far out overflows (exp of a log-rate, say) to an inf NLL, which the search
        # backs off from: expected, not worth a RuntimeWarning on the user's terminal. (0 * inf
        # there is nan, which would stop a search rather than turn it back: it is inf too.)
        value, grad = family.objective(stats, at(v))
        value = value if np.isfinite(value) else np.inf
        return value if grad is None else (value, grad[free] * scale)

    with np.errstate(all="ignore"):  # also inside scipy, whose line searches do arithmetic on those infs
        search = optimize.minimize(objective, np.zeros(free.sum()), jac=family.smooth, method=method,
                                   options=SEARCH_OPTIONS if family.smooth else KINKED_OPTIONS,
                                   bounds=_bounds(family, stats, start, u0, scale, free))
    return search, at(search.x), u0, start


def _bounds(family, stats, start, u0, scale, free):
    """The family's search bounds (natural units) as bounds on the steps v, or None. Only Powell
    is given any: a big laplace file knows sum |x - mu| exactly only inside the bracket it held
    (see Bracket)."""
    limits = family.search_bounds(stats)
    if not limits:
        return None
    unit = family.unit(stats)
    bounds, at = [], 0
    for p in family.parameters:
        width = p.constraint.size(start[p.name])
        for i in range(at, at + width):
            if free[i]:
                ends = []
                for end in limits.get(p.name, (-np.inf, np.inf)):
                    if np.isfinite(end):  # through the coordinate the optimiser steps in
                        end = float(p.constraint.to_unconstrained(end / unit if p.in_data_units else end)[0])
                    ends.append(end)
                index = int(free[:i].sum())
                bounds.append(((ends[0] - u0[i]) / scale[index], (ends[1] - u0[i]) / scale[index]))
        at += width
    return bounds


def _free_coordinates(family, start, fixed) -> np.ndarray:
    return np.concatenate([np.full(p.constraint.size(start[p.name]), p.name not in fixed)
                           for p in family.parameters] or [np.zeros(0, dtype=bool)])


def _newton_refine(family, stats, u, free):
    """Pure Newton steps on the free coordinates, kept while they shrink the Newton decrement.
    Each point's gradient and Hessian solve give both its step and its decrement."""
    step, decrement = _newton_step(family, stats, u, free)
    steps = 0
    while steps < NEWTON_STEPS and decrement > 0 and step is not None:
        candidate = u.copy()
        candidate[free] -= step
        candidate_step, candidate_decrement = _newton_step(family, stats, candidate, free)
        if not candidate_decrement < decrement:
            break
        u, step, decrement, steps = candidate, candidate_step, candidate_decrement, steps + 1
    return u, steps, decrement


def _newton_step(family, stats, u, free):
    """The Newton step H^-1 g over the free coordinates and the decrement sqrt(g' H^-1 g); no step
    and an infinite decrement where H is not positive definite."""
    with np.errstate(all="ignore"):  # a point where the Hessian over- or underflows gives no step
        grad, hessian = family.gradient_and_hessian(stats, u)
        gradient = grad[free]
        try:
            step = (family.solve_hessian(stats, u, gradient, free) if hessian is None
                    else cholesky_solve(hessian[np.ix_(free, free)], gradient))
        except np.linalg.LinAlgError:
            return None, float("inf")
    square = float(gradient @ step)
    if not (square >= 0 and np.all(np.isfinite(step))):
        return None, float("inf")
    return step, float(np.sqrt(square))


def _step_scale(family, start, unit: float) -> np.ndarray:
    """Step widths per coordinate: a location's in its scale parameter's starting value."""
    widths = []
    for p in family.parameters:
        width = float(start[p.scale_by]) / unit if p.scale_by else 1.0
        widths.append(np.full(p.constraint.size(start[p.name]), width))
    return np.concatenate(widths)


def _settle_on_boundary(family, stats, params, nll, fixed=()):
    """Try each bounded parameter at the edge it approaches; keep the edge if its NLL is no worse.

    The edge is only ever accepted when it really is at least as good, so this cannot move an
    interior optimum: with one miss among 10^7 shots, p = 1 has an infinite NLL and is refused."""
    settled = []
    for p in family.parameters:
        if p.name in fixed:
            continue
        value = params[p.name]
        for edge in p.constraint.boundaries:
            # An edge at infinity is a limiting model (student_t's normal, negbinomial's poisson),
            # always worth one evaluation: the search can only drift towards it.
            if np.ndim(value) == 0 and (np.isinf(edge) or abs(value - edge) <= BOUNDARY_PROXIMITY):
                candidate = {**params, p.name: edge}
                try:  # at the edge, the others at their best there where the family knows it
                    candidate = family.reference_given(stats, {**fixed, p.name: edge})
                except NotImplementedError:
                    pass
                with np.errstate(all="ignore"):
                    candidate_nll = family.nll(stats, candidate)
                # Far out towards an infinite edge the NLL is flat to rounding (t's at nu = 1e7 differs
                # from the normal's by 1e-7 nats a row, below what its lgamma terms resolve): the
                # limit is kept unless the search found something better by more than the tolerance.
                slack = NLL_TOLERANCE * max(1.0, abs(nll)) if np.isinf(edge) else 0.0
                if candidate_nll <= nll + slack:
                    params, nll = candidate, candidate_nll
                    settled.append(p.name)
    return params, nll, tuple(settled)


def _settle_on_kinks(family, stats, params, nll, fixed=()):
    """A piecewise-linear NLL (laplace's, in mu) is lowest at one of its kinks, but a derivative-free
    search stops wherever its steps stop paying, within about its tolerance of one. Each kink next
    to the point found is tried, the other parameters held; one that is no worse is kept."""
    moved = False
    for p in family.parameters:
        if p.name in fixed:
            continue
        for kink in family.kinks(stats, p.name, params[p.name]):
            candidate = {**params, p.name: kink}
            candidate_nll = family.nll(stats, candidate)
            if candidate_nll <= nll and kink != params[p.name]:
                params, nll, moved = candidate, candidate_nll, True
    return params, nll, moved


def relative_difference(a, b, floor=0.0) -> float:
    denominator = max(abs(a), abs(b), floor)
    return 0.0 if denominator == 0 else abs(a - b) / denominator


def compare(family, stats, numerical: NumericalFit, closed: dict | None, closed_nll: float | None) -> Comparison | None:
    """How far the numerical optimum lies from the reference solution; None where there is none."""
    if closed is None:
        return None
    intervals = family.optimal_intervals(stats)
    differences = {}
    for p in family.parameters:
        got = np.atleast_1d(np.asarray(numerical.params[p.name], dtype=float))
        want = np.atleast_1d(np.asarray(closed[p.name], dtype=float))
        # A location is judged against the spread, so mu = 1e-17 vs 3e-12 is not "100% off".
        floor = float(closed[p.scale_by]) if p.scale_by else 0.0
        low, high = intervals.get(p.name, (want, want))
        # A few units in the last place are rounding, not disagreement: they matter only where
        # float64 has few digits left (subnormal data near 1e-318 has about four).
        with np.errstate(invalid="ignore"):  # inf - inf: both at an infinite edge (the poisson limit), equal
            ulps = 4 * np.spacing(np.maximum(np.abs(low), np.abs(high)))
            distance = np.where(got == want, 0.0, np.maximum(np.maximum(low - got, got - high) - ulps, 0.0))
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


def conditional_minimum(family, stats, start: dict, held: dict) -> tuple[dict, float]:
    """The parameters minimising the NLL with `held` fixed, and that NLL: Newton's method from
    `start` (a nearby solution), or the full search where Newton cannot finish from there."""
    free = _free_coordinates(family, start, held)
    if free.any() and family.smooth:
        with np.errstate(all="ignore"):
            u, _, decrement = _newton_refine(family, stats, family.pack(start, stats), free)
        if decrement <= DECREMENT_TOLERANCE:
            params = {**family.unpack(u, start, stats), **held}
            return params, family.nll(stats, params)
    found = minimize_nll(family, stats, held)
    return found.params, found.nll


def best_fit(family, stats, fixed: dict | None = None) -> dict:
    """The MLE by the family's reference method (checked against the optimiser on the data itself),
    or by the optimiser where the family has none: how a bootstrap replicate is refitted."""
    try:
        return family.reference_given(stats, fixed or {})
    except NotImplementedError:
        return minimize_nll(family, stats, fixed).params
