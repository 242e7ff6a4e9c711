"""How sure is the fit: standard errors, Wald and profile-likelihood intervals, AIC and BIC.

Quantiles come from scipy.special (chdtri, ndtri), not scipy.stats, whose import alone costs
about as much as the rest of the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from .families.base import Unevaluable
from .families.on_disk import ValuesOnDisk

MAX_EXPANSIONS = 200
# Interval ends are solved to float64's last digits where the profile NLL is a formula; where each
# evaluation is itself a numerical minimisation over every value (a NUMERICAL profile), to ten digits.
EXACT, NUMERICAL = 1e-15, 1e-10


@dataclass(frozen=True)
class Interval:
    wald: tuple[float, float]
    profile: tuple[float | None, float | None]  # None: an end that could not be evaluated

    def to_dict(self) -> dict:
        """Ends as JSON numbers; null where an end could not be evaluated or lies beyond float64's
        range (a rate fitted to a weight of 1e-310 has a profile interval reaching past 1e308)."""
        return {"wald": [_finite(end) for end in self.wald], "profile": [_finite(end) for end in self.profile]}


def _finite(end):
    return end if end is not None and math.isfinite(end) else None


@dataclass(frozen=True)
class Inference:
    level: float
    k: int  # free parameters
    aic: float
    bic: float
    stderr: dict  # {name: float, or an array for a vector parameter; None where the model has none}
    intervals: dict  # {name: Interval, or a list of Intervals for a vector parameter}
    note: str = ""  # why a non-regular family has no standard errors
    unique: bool = True  # False where the likelihood is flat along some direction at the optimum


# The observed information scaled to unit diagonal (a correlation matrix of curvatures) has its
# eigenvalues in [0, k]; one this small is a flat direction: two rows of a cauchy give a half circle
# of equally good (mu, gamma), and 1e-15 here, where every regular fit tried was above 0.1.
FLAT = 1e-9


def flat_direction(family, stats, params: dict, fixed=()) -> bool:
    """Whether the NLL is flat to rounding along some direction of the free parameters at `params`
    (so the maximum is not unique), judged on the exact Hessian of a family that has one."""
    hessian_of = getattr(family, "derivatives_over_rows", None)
    free = [i for i, p in enumerate(family.parameters) if p.name not in fixed and np.ndim(params[p.name]) == 0]
    if hessian_of is None or len(free) < 2 or any(np.ndim(params[p.name]) for p in family.parameters):
        return False
    try:
        with np.errstate(all="ignore"):
            hessian = np.asarray(hessian_of(stats, {k: np.float64(v) for k, v in params.items()})[2])[np.ix_(free, free)]
    except (NotImplementedError, TypeError, ValueError, ArithmeticError):
        return False
    scale = np.sqrt(np.abs(np.diag(hessian)))
    if not (np.all(np.isfinite(hessian)) and np.all(scale > 0)):
        return False
    # Near 0, not below it: a clearly negative curvature is a saddle the search stopped at (it then
    # has not converged, and says so), not a ridge of equal maxima.
    return bool(abs(np.linalg.eigvalsh(hessian / np.outer(scale, scale)).min()) <= FLAT)


def chi2_quantile(level: float, df: int = 1) -> float:
    return float(special.chdtri(df, 1.0 - level))


def free_parameter_count(family, stats, fixed=()) -> int:
    start = family.start(stats)
    return sum(p.constraint.size(start[p.name]) for p in family.parameters if p.name not in fixed)


def profile_function(family, params: dict, fixed=()):
    """profile(stats, name, value, index=None): the NLL with that parameter held at `value` and
    every other free parameter at its conditional MLE."""
    free = [p for p in family.parameters if p.name not in fixed]
    if len(free) == 1 and len(family.parameters) > 1 or len(family.parameters) == 1 and family.profile_nll is None:
        # With the others held, the profile of the one free parameter is the NLL itself.
        return lambda stats, name, value, index=None: family.nll(stats, {**params, name: value})
    if family.profile_nll is not None:
        return family.profile_nll
    return _numerical_profile(family, params, fixed)


def _numerical_profile(family, params: dict, fixed=()):
    """The profile NLL of a family with no form for it: the family's conditional reference solution
    where it has one for the parameter held, else the other free parameters minimised by Newton's method, warm-started from the solution at the nearest value held so far (the search
    for an interval's end moves in small steps), else by the full optimiser."""
    from .fitting import conditional_minimum

    solved: dict = {}  # {name: [(value, params at their conditional minimum)]}

    def profile(stats, name, value, index=None):
        try:  # the family's own conditional solution (weibull's scale given its shape), where it has one
            return family.nll(stats, family.reference_given(stats, {**fixed, name: value}))
        except NotImplementedError:
            pass
        tried = solved.setdefault(name, [(params[name], params)])
        _, nearest = min(tried, key=lambda entry: abs(entry[0] - value))
        best, nll = conditional_minimum(family, stats, {**nearest, name: value}, {**fixed, name: value})
        tried.append((value, best))
        return nll

    return profile


def infer(family, stats, params: dict, nll: float, level: float = 0.95, fixed=()) -> Inference:
    """Standard errors and intervals for the parameters not in `fixed`."""
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, not {level}")
    k = free_parameter_count(family, stats, fixed)
    n = stats.n
    stderr = family.standard_errors(stats, params, fixed)
    z = float(special.ndtri(0.5 + level / 2))
    threshold = chi2_quantile(level)
    free = [p for p in family.parameters if p.name not in fixed]
    stderr = {p.name: stderr[p.name] for p in free}
    aic, bic = 2 * k + 2 * nll, k * math.log(n) + 2 * nll
    exact = family.exact_intervals(stats, params, threshold, fixed)
    if exact is not None:  # a non-regular family: likelihood-ratio sets only
        ends, why = exact
        intervals = {name: Interval((None, None), (float(low), float(high))) for name, (low, high) in ends.items()}
        return Inference(level, k, aic, bic, stderr, intervals, note=why)
    if flat_direction(family, stats, params, fixed):
        stderr = {name: None for name in stderr}
        note = ("the maximum is not unique: the likelihood is flat along a direction through it (its observed "
                "information is singular), so these estimates are one of many equally good ones and have no "
                "standard errors")
        intervals = {p.name: Interval((None, None), (None, None)) for p in free}
        return Inference(level, k, aic, bic, stderr, intervals, note=note, unique=False)
    if isinstance(stats, ValuesOnDisk):
        intervals = {p.name: Interval(_wald(p, float(params[p.name]), float(stderr[p.name]), z), (None, None))
                     for p in free}
        return Inference(level, k, aic, bic, stderr, intervals, note=(
            f"Wald intervals only: each profile-likelihood end would take dozens of passes over the "
            f"{stats.rows:,} values on disk (at this many rows the two agree closely)"))
    profile = profile_function(family, params, fixed)
    rtol = NUMERICAL if family.profile_nll is None and len(free) > 1 else EXACT
    intervals = {}
    for p in free:
        value, se = params[p.name], stderr[p.name]
        se = float("nan") if se is None else se
        if np.ndim(value):
            ends = None if k == 0 else family.profile_intervals(stats, params, p.name, threshold)
            if ends is not None:
                intervals[p.name] = [Interval(_wald(p, float(v), float(s), z), (float(low), float(high)))
                                     for v, s, low, high in zip(value, se, *ends)]
                continue
            intervals[p.name] = [
                _interval(profile, stats, p, float(v), float(s), nll, z, threshold, index=i, fixed=k == 0, rtol=rtol)
                for i, (v, s) in enumerate(zip(value, se))
            ]
        else:
            intervals[p.name] = _interval(profile, stats, p, float(value), float(se), nll, z, threshold, rtol=rtol)
    return Inference(level, k, aic, bic, stderr, intervals)


def _interval(profile_nll, stats, parameter, value, se, nll, z, threshold, index=None, fixed=False,
              rtol=EXACT) -> Interval:
    if fixed:  # a single category: p = 1 is not estimated, it is the only possibility
        return Interval((value, value), (value, value))
    space = parameter.constraint.scalar()
    wald = _wald(parameter, value, se, z)

    def excess(theta):
        """2 * (profile NLL - minimum NLL) - chi-square quantile: negative inside the interval."""
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):  # at an edge (sigma = 0) it is inf
            return 2.0 * (profile_nll(stats, parameter.name, theta, index) - nll) - threshold

    if not excess(value) < -threshold / 2:
        # At the estimate the excess is -threshold exactly; evaluated, it is not even close: the NLL's
        # rounding (an NLL of 1e300 from weights of 1e300) is larger than the chi-square threshold,
        # so where the profile crosses it cannot be told apart in float64.
        return Interval(wald, (None, None))
    profile = (_reachable(excess, space, value, se, -1, rtol), _reachable(excess, space, value, se, +1, rtol))
    return Interval(wald, profile)


def _wald(parameter, value: float, se: float, z: float) -> tuple[float, float]:
    space = parameter.constraint.scalar()
    if not math.isfinite(se) or not math.isfinite(value):  # no curvature there (nu at infinity): no Wald interval
        return (None, None)
    return (max(value - z * se, space.low), min(value + z * se, space.high))


def _reachable(excess, space, value, se, direction, rtol=EXACT) -> float | None:
    """The crossing, or None where the profile cannot be evaluated that far (a laplace fit of a
    file too big to hold knows sum |x - mu| exactly only near the median)."""
    try:
        return _crossing(excess, space, value, se, direction, rtol)
    except Unevaluable:
        return None


def _to_t(space, theta) -> float:
    """The unconstrained coordinate the search steps in, so no trial value leaves the space."""
    with np.errstate(divide="ignore"):
        return float(space.to_unconstrained(theta)[0])


def _from_t(space, t) -> float:
    with np.errstate(over="ignore"):
        return float(space.from_unconstrained(np.array([t])))


def _crossing(excess, space, value, se, direction, rtol=EXACT) -> float:
    """Where the profile leaves the interval on one side of the estimate, or the edge of the
    parameter space if it never does (bernoulli with no successes: the lower limit is 0)."""
    edge = space.low if direction < 0 else space.high
    if value == edge:
        return edge
    t0 = _to_t(space, value)
    if not math.isfinite(t0):  # the estimate sits on the other edge: start just inside it
        t0 = -700.0 if t0 < 0 else 700.0
    elif excess(_from_t(space, t0)) > 0:
        # The estimate taken through the search coordinate and back (a unit in the last place away)
        # is already outside: the interval is narrower than float64 can tell (weights of 1e300).
        return value
    # First step: one standard error, expressed in the search coordinate.
    slope = abs(_from_t(space, t0 + 1e-6) - _from_t(space, t0 - 1e-6)) / 2e-6
    step = se / slope if se > 0 and slope > 0 else 1.0
    step = max(step, 1e-12 * abs(t0), 5e-324)  # (se / slope is 0 only where it underflowed)
    inside = t0
    for _ in range(MAX_EXPANSIONS):
        trial = t0 + direction * step
        theta = _from_t(space, trial)
        if theta == edge or not math.isfinite(theta):
            # The search coordinate reached the edge in floating point: test the edge itself.
            if not math.isfinite(edge):
                return edge
            at_edge = excess(edge)
            if math.isnan(at_edge):  # 0/0 there (sigma = 0 for rows that weigh 1e-300)
                raise Unevaluable(f"the profile NLL at the edge {edge} is not a number in float64")
            if at_edge <= 0:
                return edge
            return _solve(excess, _from_t(space, inside), edge, rtol)
        beyond = excess(theta)
        if math.isnan(beyond):
            raise Unevaluable(f"the profile NLL at {theta} is not a number in float64")
        if beyond > 0:
            inside, trial = _narrowed(excess, space, inside, trial)
            return _solve(excess, _from_t(space, inside), _from_t(space, trial), rtol)
        inside = trial
        step *= 2.0
    return edge


def _narrowed(excess, space, inside: float, outside: float) -> tuple[float, float]:
    """A bracket no wider than 1 in a log or logit search coordinate, by bisection there: brentq in
    natural units across a bracket of many decades (nu from 1e-140 to 1e82, after a search that
    started at nu = inf) would spend its steps on the flat part."""
    if space.linear:
        return inside, outside
    while abs(outside - inside) > 1.0:
        middle = 0.5 * (inside + outside)
        if excess(_from_t(space, middle)) > 0:
            outside = middle
        else:
            inside = middle
    return inside, outside


def _solve(excess, a, b, rtol=EXACT) -> float:
    # xtol in proportion to the bracket: data near 1e-310 has intervals far narrower than any fixed xtol
    return float(optimize.brentq(excess, a, b, xtol=max(abs(b - a) * 1e-16, 5e-324), rtol=rtol, maxiter=500,
                                 disp=False))  # near 1e-310 the last ulps cannot be bracketed: the closest is the answer
