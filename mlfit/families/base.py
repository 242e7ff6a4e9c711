"""What a family is: parameters with declared constraints, a support, and a few pure functions.

A family never reads files or prints. It turns validated values into sufficient
statistics, evaluates the negative log-likelihood (NLL) from them, and finds its maximum-
likelihood estimate by its own reference method (a closed form, the root of a score equation),
where it has one, independently of the optimiser. The optimiser in `mlfit.fitting` works in
the unconstrained coordinates each constraint maps to (log sigma, logit p, softmax
logits), so a step can never leave the parameter space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from .distribution import Distribution
from .on_disk import ValuesOnDisk


# --- parameter constraints -------------------------------------------------------------
class Constraint:
    """A parameter's allowed set and its bijection with unconstrained real coordinates."""

    description = ""
    low, high = -np.inf, np.inf  # the closure of the allowed set, for intervals
    linear = False  # its unconstrained coordinate is the value itself
    boundaries: tuple[float, ...] = ()  # attainable edge values an optimiser can only approach

    def size(self, value) -> int:
        return 1

    def scalar(self) -> "Constraint":
        """The constraint of one entry (itself, for a scalar parameter)."""
        return getattr(self, "entry", None) or self

    def contains(self, value) -> bool:
        raise NotImplementedError

    def to_unconstrained(self, value) -> np.ndarray:
        raise NotImplementedError

    def from_unconstrained(self, u: np.ndarray):
        raise NotImplementedError

    def derivatives(self, u: float) -> tuple[float, float, float]:
        """The value at coordinate u and its first and second derivatives in u (scalar parameters):
        what carries a natural-parameter gradient and Hessian to the optimiser's coordinates."""
        raise NotImplementedError


class Real(Constraint):
    description = "any real number"
    linear = True
    entry = None

    def contains(self, value):
        return bool(np.isfinite(value))

    def to_unconstrained(self, value):
        return np.array([float(value)])

    def from_unconstrained(self, u):
        return float(u[0])

    def derivatives(self, u):
        return float(u), 1.0, 0.0


class Positive(Constraint):
    description = "greater than 0"
    low = 0.0

    def contains(self, value):
        return bool(np.isfinite(value) and value > 0)

    def to_unconstrained(self, value):
        return np.array([np.log(value)])

    def from_unconstrained(self, u):
        return float(np.exp(u[0]))

    def derivatives(self, u):
        with np.errstate(over="ignore"):
            value = float(np.exp(u))
        return value, value, value


class NonNegative(Positive):
    """Like Positive, but 0 itself is a valid value (a poisson rate of an all-zero column)."""

    description = "0 or greater"
    boundaries = (0.0,)

    def contains(self, value):
        return bool(np.isfinite(value) and value >= 0)


class PositiveOrInfinite(Positive):
    """A positive parameter whose limit at infinity is itself a model: student_t's nu (the normal)
    and negbinomial's size (the poisson). The optimiser steps in log(value); infinity is an edge it
    can only approach, tried as such (see fitting's _settle_on_boundary)."""

    description = "greater than 0 (inf: the limiting model)"
    boundaries = (np.inf,)

    def contains(self, value):
        return bool(value > 0)


class UnitInterval(Constraint):
    description = "between 0 and 1"
    low, high = 0.0, 1.0
    boundaries = (0.0, 1.0)

    def contains(self, value):
        return bool(0.0 <= value <= 1.0)

    def to_unconstrained(self, value):
        return np.array([special.logit(value)])

    def from_unconstrained(self, u):
        return float(special.expit(u[0]))

    def derivatives(self, u):
        p = float(special.expit(u))
        slope = float(special.expit(u) * special.expit(-u))  # p (1 - p) without cancellation near 1
        return p, slope, slope * (1.0 - 2.0 * p)


class Simplex(Constraint):
    """K probabilities summing to 1, as K-1 softmax logits with the last logit pinned at 0."""

    description = "probabilities that sum to 1"
    low, high = 0.0, 1.0
    entry = UnitInterval()  # how one probability of the vector behaves on its own

    def size(self, value):
        return len(value) - 1

    def contains(self, value):
        value = np.asarray(value, dtype=float)
        return bool(np.all(value >= 0) and abs(value.sum() - 1.0) <= 1e-9)

    def to_unconstrained(self, value):
        logits = np.log(np.asarray(value, dtype=float))
        return logits[:-1] - logits[-1]

    def from_unconstrained(self, u):
        return special.softmax(np.append(u, 0.0))


@dataclass(frozen=True)
class Parameter:
    name: str
    constraint: Constraint
    # A location's optimiser steps are measured in units of this scale parameter's
    # starting value, so data at 1e7 with spread 0.1 is as easy as data at 0 with spread 1.
    scale_by: str | None = None
    # Measured in the data's units (a location or a scale): the optimiser sees it divided by the
    # family's `unit`, a power of two near the data's spread, so data at 1e-300 or 1e300 fit as
    # data near 1 do (a power of two rescales without rounding).
    in_data_units: bool = False


@dataclass(frozen=True)
class Predictor:
    """One linear predictor of a conditional model (`mlfit regress`): the family parameter it
    gives each row through its link, and what drives it: the formula's columns ("mean") or a
    constant, or the --sigma formula ("scale")."""
    name: str  # as reported: "mu", "log_sigma", "logit_p", "log_lam", a class's logit
    link: str  # "identity", "log", "logit" or "softmax"
    role: str  # "mean", "scale" (the --sigma formula's) or "shape" (a constant: student_t's nu)


# --- the family interface ---------------------------------------------------------------
class Unevaluable(ArithmeticError):
    """The NLL cannot be evaluated at these parameters: streamed statistics do not hold it there (a
    big laplace file knows sum |x - mu| only near the median), or float64 cannot (inf - inf when
    weights of 1e300 make the NLL 1e300). A profile-interval end that meets it is reported as null."""


class NeedsEveryValue(Exception):
    """Raised by `Family.finish` when streamed statistics cannot give an exact fit after all:
    the caller then reads the data again holding every value."""



# What a family declares commits it to methods: a missing one fails when its module is imported.
ALWAYS = ("summarize", "start", "nll", "objective", "standard_errors", "log_prob", "loss_report")
IMPLIED = {
    "continuous": ("log_cdf", "log_sf", "quantile", "sample"),  # EDF statistics, Q-Q plots, the bootstrap
    "discrete": ("frequency_table", "sample"),  # the chi-square table
    "smooth": ("hessian",),  # Newton's refinement and the observed information
    "reference": ("reference",),  # the independent solution the numerical fit is checked against
}
REFERENCE_METHODS = ("closed form", "root of the score equation", "Newton on the score equations", "none")


class Family(Distribution):
    """One distribution family. Subclasses fill in the class attributes and the math."""

    name: str = ""
    parameters: tuple[Parameter, ...] = ()
    loss: str = ""  # the training loss this NLL is, for the report
    smooth = True  # False where the NLL has kinks and the optimiser must not use gradients
    second_pass = False  # True where finish() reads a big file's values again (laplace's median)
    sufficient_statistics = True  # False where the statistics are the values themselves (statistics.Values)
    # How the solution the numerical fit is checked against is found (see REFERENCE_METHODS):
    # "none" where there is no independent one, and the output says so.
    reference_method = "closed form"
    needs: tuple[str, ...] = ()  # options the family is built with (binomial: "trials")
    example: dict = {}  # typical parameters: the registry-wide tests sample from them

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.name:  # an abstract helper, not a family
            return
        if cls.reference_method not in REFERENCE_METHODS:
            raise TypeError(f"{cls.__name__}: reference_method must be one of {REFERENCE_METHODS}")
        flags = {"continuous": cls.continuous, "discrete": cls.support.numeric and not cls.continuous,
                 "smooth": cls.smooth, "reference": cls.reference_method != "none"}
        required = list(ALWAYS) + [m for flag, methods in IMPLIED.items() if flags[flag] for m in methods]
        missing = [m for m in required if getattr(cls, m, None) is None or getattr(cls, m) is getattr(Family, m, None)]
        if missing:
            raise TypeError(f"family {cls.name}: declares what needs {', '.join(missing)}, which it does not define")

    def summarize(self, values: np.ndarray, weights: np.ndarray | None = None):
        """Sufficient statistics of validated values (what the NLL needs, nothing more). With
        `weights`, row i counts w_i times: whole-number weights give the expanded rows' statistics."""
        raise NotImplementedError

    def sketch(self, values: np.ndarray, weights: np.ndarray | None = None, seed: int = 0):
        """What a chunk of a file too big to hold contributes; merged with `.merge`."""
        return self.summarize(values, weights)

    def finish(self, sketch, values_again):
        """The statistics from the merged sketches; `values_again()` reads the values once more."""
        return sketch

    def loss_report_over_rows(self, stats, params: dict) -> dict:
        """loss_report() of every row; of values on disk, the parts' reports merged (their means
        weighted by the parts' rows, their NLLs summed) in one pass."""
        if not isinstance(stats, ValuesOnDisk):
            return self.loss_report(stats, params)

        def merged(a, b):
            (n_a, first), (n_b, second) = a, b
            both = {}
            for key, value in first.items():
                if key == "nll_from_loss":
                    value = value + second[key]
                elif key.startswith("mean"):
                    value = value + (second[key] - value) * (n_b / (n_a + n_b))
                both[key] = value
            return n_a + n_b, both

        return stats.over_rows(lambda part: (part.n, self.loss_report(part, params)), merged)[1]

    def unit(self, stats) -> float:
        """The power of two the parameters `in_data_units` are divided by in the optimiser's
        coordinates (see Parameter)."""
        return 1.0

    def search_bounds(self, stats) -> dict:
        """Ranges {name: (low, high)} the optimiser must keep a parameter in, where the NLL is
        only known exactly there."""
        return {}

    def degenerate_reason(self, stats, fixed=()) -> str | None:
        """Why the likelihood has no maximum for this data (with `fixed` held), or None."""
        return None

    def reference(self, stats) -> dict:
        """The maximum-likelihood estimate found by the family's own method (`reference_method`),
        independently of the optimiser."""
        raise NotImplementedError

    def starts(self, stats) -> list[dict]:
        """Where the optimiser starts; several where the NLL can have several local minima (cauchy):
        the lowest minimum found from them is kept."""
        return [self.start(stats)]

    def why_unconverged(self, stats, params: dict) -> str | None:
        """Where a search that did not converge stopped, what the family knows of why (student_t:
        its likelihood has no maximum there); None otherwise."""
        return None

    def exact_intervals(self, stats, params: dict, threshold: float, fixed=()) -> tuple[dict, str] | None:
        """A non-regular family's intervals ({name: (low, high)} likelihood-ratio sets, no Wald ones)
        and why it has no standard errors; None for a regular family."""
        return None

    def reference_given(self, stats, fixed: dict) -> dict:
        """The MLE of the other parameters with `fixed` held at its values."""
        if not fixed:
            return self.reference(stats)
        if all(p.name in fixed for p in self.parameters):
            return dict(fixed)
        raise NotImplementedError(f"{self.name}: no conditional closed form for {sorted(fixed)}")

    def kinks(self, stats, name: str, value: float) -> list[float]:
        """Families whose NLL is piecewise linear in a parameter: the kinks on either side of `value`."""
        return []

    def optimal_intervals(self, stats) -> dict:
        """Parameters whose optimum is a whole interval, as {name: (low, high)}."""
        return {}

    def start(self, stats) -> dict:
        """Where the optimiser starts: deliberately not the closed form, so that the
        numerical fit is an independent check of the formula rather than a copy of it."""
        raise NotImplementedError

    def nll(self, stats, params: dict) -> float:
        """The NLL in natural parameters (natural log, summed over rows)."""
        raise NotImplementedError

    def objective(self, stats, u: np.ndarray) -> tuple[float, np.ndarray | None]:
        """Mean NLL per row and its gradient in unconstrained coordinates (None if not smooth),
        those of `pack(params, stats)`. Written with stable forms (softplus, logsumexp) so far-out
        steps stay finite."""
        raise NotImplementedError

    def hessian(self, stats, u: np.ndarray) -> np.ndarray:
        """Hessian of the mean NLL in unconstrained coordinates (smooth families only)."""
        raise NotImplementedError

    def solve_hessian(self, stats, u: np.ndarray, vector: np.ndarray, free: np.ndarray) -> np.ndarray:
        """H^-1 `vector` for the Hessian over the `free` coordinates; np.linalg.LinAlgError where H
        is not positive definite. A family whose Hessian has structure solves it without forming it."""
        return cholesky_solve(self.hessian(stats, u)[np.ix_(free, free)], vector)

    def gradient_and_hessian(self, stats, u: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The objective's gradient and Hessian at u (a family whose NLL needs every value gives both
        from one pass over them); None for the Hessian of a family that solves it without forming it."""
        return self.objective(stats, u)[1], None

    def correlation(self, stats, params: dict, fixed=()) -> np.ndarray | None:
        """The asymptotic correlation of the free parameters' estimates (a vector's entries in turn),
        from the inverse observed information in the optimiser's coordinates: each is a monotone map
        of one parameter, and at the optimum the correlation is the same in either. None where the
        family has no Hessian (its estimates are then taken as asymptotically independent: laplace's
        mu and b are) or no finite one there."""
        if not self.smooth or any(np.ndim(params[p.name]) for p in self.parameters):
            return None
        free = [i for i, p in enumerate(self.parameters) if p.name not in fixed]
        with np.errstate(all="ignore"):
            u = self.pack(params, stats)
            if not free or not np.all(np.isfinite(u)):
                return None
            hessian = np.asarray(self.hessian(stats, u), dtype=float)[np.ix_(free, free)]
        try:
            inverse = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            return None
        inverse = (inverse + inverse.T) / 2  # (inv's rounding leaves it asymmetric in the last digit)
        spread = np.sqrt(np.diag(inverse))
        if not np.all(np.isfinite(inverse)) or not np.all(spread > 0):
            return None
        return inverse / np.outer(spread, spread)

    def profile_intervals(self, stats, params: dict, name: str, threshold: float):
        """Every entry's profile-likelihood interval of a vector parameter at once, as (lows, highs),
        where the family has a form for them; None to search entry by entry."""
        return None

    def standard_errors(self, stats, params: dict, fixed=()) -> dict:
        """Asymptotic standard errors at the MLE, from the Fisher information, of the parameters not
        in `fixed`."""
        raise NotImplementedError

    # The NLL with parameter `name` (entry `index` of a vector) held at `value` and every other
    # parameter at its conditional MLE: profile_nll(stats, name, value, index=None). Families with a
    # form for it define it; for the others `mlfit.inference` minimises over the rest numerically.
    profile_nll = None

    def loss_report(self, stats, params: dict) -> dict:
        """The training loss this NLL is, evaluated at `params`, and the NLL rebuilt from it by the
        exact identity between them (`nll_from_loss`, which must equal `nll`)."""
        raise NotImplementedError




    # A family whose parameters can vary by row (mlfit regress) mixes in conditional.Conditional.

    # Shared plumbing between natural and unconstrained coordinates.
    def pack(self, params: dict, stats) -> np.ndarray:
        unit = self.unit(stats)
        parts = [p.constraint.to_unconstrained(params[p.name] / unit if p.in_data_units else params[p.name])
                 for p in self.parameters]
        return np.concatenate(parts) if parts else np.zeros(0)

    def unpack(self, u: np.ndarray, template: dict, stats) -> dict:
        unit = self.unit(stats)
        params, at = {}, 0
        for p in self.parameters:
            width = p.constraint.size(template[p.name])
            value = p.constraint.from_unconstrained(u[at : at + width])
            params[p.name] = value * unit if p.in_data_units else value
            at += width
        return params


def root_in_log(score, falling: bool, limit: float = 700.0) -> float:
    """The x > 0 where `score`, a function of t = log x that is positive below its root and
    negative above it (`falling`; the reverse otherwise), changes sign: a bracket grown outward from
    [1/e, e] in steps of e^2, then Brent's method to the last digits. 0 or inf where it keeps its
    sign out to e^-limit or e^limit. (The side is the caller's to say: negbinomial's score rises back
    towards 0 far above its root, so its slope there would point the wrong way.)"""
    low, high = -1.0, 1.0
    at_low, at_high = score(low), score(high)
    while at_high != 0 and (at_high > 0) == falling and high < limit:  # the root lies above
        low, at_low, high = high, at_high, high + 2.0
        at_high = score(high)
    while at_low != 0 and (at_low < 0) == falling and low > -limit:  # the root lies below
        high, at_high, low = low, at_low, low - 2.0
        at_low = score(low)
    if at_low * at_high > 0:
        return float("inf") if high >= limit else 0.0
    return float(np.exp(optimize.brentq(score, low, high, xtol=1e-15, rtol=9e-16, maxiter=500)))


def cholesky_solve(matrix: np.ndarray, vector: np.ndarray) -> np.ndarray:
    lower = np.linalg.cholesky(matrix)
    return np.linalg.solve(lower.T, np.linalg.solve(lower, vector))


def xlogy(x, y):
    """x*log(y) with 0*log(0) = 0, the convention that makes boundary optima finite."""
    return special.xlogy(x, y)


# --- families written in their natural parameters ----------------------------------------
class NaturalFamily(Family):
    """A family that gives its NLL with exact first and second derivatives in its natural
    parameters (sums over rows): this class carries them to the optimiser's unconstrained
    coordinates by the chain rule, and inverts the observed information for standard errors."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.name and cls.derivatives is NaturalFamily.derivatives:
            raise TypeError(f"family {cls.name}: a NaturalFamily must define derivatives")

    def derivatives(self, stats, params: dict, order: int = 2) -> tuple[float, np.ndarray, np.ndarray]:
        """(NLL, gradient, Hessian) in the natural parameters, in the order of `parameters`; with
        `order` 1 the Hessian may be None and with 0 the gradient too (a family whose NLL needs
        every value then skips those passes)."""
        raise NotImplementedError

    def derivatives_over_rows(self, stats, params: dict, order: int = 2):
        """derivatives() over every row: of values in memory at once, of values on disk (see
        ValuesOnDisk) part by part, summed, in one pass."""
        if isinstance(stats, ValuesOnDisk):  # (the last pass's sums kept: the standard errors and the
            # flatness check ask for the Hessian at the same point, one pass between them)
            key = tuple(sorted((name, float(value)) for name, value in params.items()))
            if stats.last is not None and stats.last[0] == key and stats.last[1] >= order:
                return stats.last[2]
            found = stats.over_rows(lambda part: self.derivatives(part, params, order))
            stats.last = (key, order, found)
            return found
        return self.derivatives(stats, params, order)

    def nll(self, stats, params):
        with np.errstate(all="ignore"):  # an edge value held by a profile search (nu = 5e-324): inf, not an error
            return float(self.derivatives_over_rows(stats, _numpy(params), order=0)[0])

    def _natural(self, stats, u):
        unit = self.unit(stats)
        params, first, second = {}, [], []
        for p, coordinate in zip(self.parameters, u):
            value, d1, d2 = p.constraint.derivatives(coordinate)
            factor = unit if p.in_data_units else 1.0
            params[p.name] = np.float64(value) * factor  # (numpy's: a far step divides by 0.0 without raising)
            first.append(d1 * factor)
            second.append(d2 * factor)
        return params, np.array(first), np.array(second)

    def objective(self, stats, u):
        params, first, _ = self._natural(stats, u)
        with np.errstate(all="ignore"):  # a trial step far out: inf or nan, which the search backs off from
            value, gradient, _ = self.derivatives_over_rows(stats, params, order=1)
            return float(value / stats.n), first * gradient / stats.n

    def hessian(self, stats, u):
        return self.gradient_and_hessian(stats, u)[1]

    def gradient_and_hessian(self, stats, u):
        return self.objective_derivatives(stats, u)[1:]

    def objective_derivatives(self, stats, u):
        """The mean NLL per row at u and its gradient and Hessian in u: one pass over the rows."""
        params, first, second = self._natural(stats, u)
        with np.errstate(all="ignore"):
            value, gradient, hessian = self.derivatives_over_rows(stats, params)
            return (float(value / stats.n), first * gradient / stats.n,
                    (np.outer(first, first) * hessian + np.diag(second * gradient)) / stats.n)

    def standard_errors(self, stats, params, fixed=()):
        """The square roots of the diagonal of the inverse observed information over the free
        parameters (nan where it is not positive definite: a flat or saddle-shaped optimum)."""
        free = [i for i, p in enumerate(self.parameters) if p.name not in fixed]
        errors = {p.name: float("nan") for p in self.parameters}
        if not free:
            return errors
        with np.errstate(all="ignore"):
            information = self.derivatives_over_rows(stats, _numpy(params))[2][np.ix_(free, free)]
        try:
            lower = np.linalg.cholesky(information)
            covariance = np.linalg.inv(lower).T @ np.linalg.inv(lower)
        except np.linalg.LinAlgError:
            return errors
        for i, variance in zip(free, np.diag(covariance)):
            errors[self.parameters[i].name] = float(np.sqrt(variance))
        return errors


def _numpy(params: dict) -> dict:
    """Scalar parameters as numpy floats, whose division by 0.0 gives inf rather than raising."""
    return {name: np.float64(value) if np.ndim(value) == 0 else value for name, value in params.items()}
