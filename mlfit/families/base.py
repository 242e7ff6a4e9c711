"""What a family is: parameters with declared constraints, a support, and a few pure functions.

A family never reads files or prints. It turns validated values into sufficient
statistics, evaluates the negative log-likelihood (NLL) from them, and states its
closed-form maximum-likelihood estimate. The optimiser in `mlfit.fitting` works in
the unconstrained coordinates each constraint maps to (log sigma, logit p, softmax
logits), so a step can never leave the parameter space.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special


# --- parameter constraints -------------------------------------------------------------
class Constraint:
    """A parameter's allowed set and its bijection with unconstrained real coordinates."""

    description = ""
    low, high = -np.inf, np.inf  # the closure of the allowed set, for intervals
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


class Real(Constraint):
    description = "any real number"
    entry = None

    def contains(self, value):
        return bool(np.isfinite(value))

    def to_unconstrained(self, value):
        return np.array([float(value)])

    def from_unconstrained(self, u):
        return float(u[0])


class Positive(Constraint):
    description = "greater than 0"
    low = 0.0

    def contains(self, value):
        return bool(np.isfinite(value) and value > 0)

    def to_unconstrained(self, value):
        return np.array([np.log(value)])

    def from_unconstrained(self, u):
        return float(np.exp(u[0]))


class NonNegative(Positive):
    """Like Positive, but 0 itself is a valid value (a poisson rate of an all-zero column)."""

    description = "0 or greater"
    boundaries = (0.0,)

    def contains(self, value):
        return bool(np.isfinite(value) and value >= 0)


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


def power_of_two(x: float) -> float:
    """The largest power of two not above x (> 0 and finite); 0.0 otherwise."""
    if not (np.isfinite(x) and x > 0):
        return 0.0
    mantissa, exponent = np.frexp(x)  # x = mantissa * 2^exponent, mantissa in [0.5, 1)
    return float(np.ldexp(1.0, int(exponent) - 1))


# --- supports: which values a family accepts ------------------------------------------
class Support:
    description = ""
    numeric = True
    discrete = False  # whole numbers only: a cell that underflows to 0 is refused, not counted as 0

    def violations(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the values outside the support."""
        raise NotImplementedError


class RealLine(Support):
    description = "a finite number"

    def violations(self, values):
        return ~np.isfinite(values)


class ZeroOne(Support):
    description = "0 or 1 (or true/false)"
    discrete = True

    def violations(self, values):
        return (values != 0) & (values != 1)


class NonNegativeIntegers(Support):
    description = "a non-negative integer count"
    discrete = True

    def violations(self, values):
        return ~np.isfinite(values) | (values < 0) | (values != np.floor(values))


class Labels(Support):
    description = "any text label"
    numeric = False

    def violations(self, values):
        return np.zeros(len(values), dtype=bool)


# --- the family interface ---------------------------------------------------------------
class Unevaluable(ArithmeticError):
    """The NLL cannot be evaluated at these parameters: streamed statistics do not hold it there (a
    big laplace file knows sum |x - mu| only near the median), or float64 cannot (inf - inf when
    weights of 1e300 make the NLL 1e300). A profile-interval end that meets it is reported as null."""


class NeedsEveryValue(Exception):
    """Raised by `Family.finish` when streamed statistics cannot give an exact fit after all:
    the caller then reads the data again holding every value."""



class Family:
    """One distribution family. Subclasses fill in the class attributes and the math."""

    name: str = ""
    parameters: tuple[Parameter, ...] = ()
    support: Support = RealLine()
    loss: str = ""  # the training loss this NLL is, for the report
    continuous = False  # continuous families have a CDF for EDF goodness-of-fit statistics
    smooth = True  # False where the NLL has kinks and the optimiser must not use gradients

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

    def closed_form(self, stats) -> dict:
        raise NotImplementedError

    def closed_form_given(self, stats, fixed: dict) -> dict:
        """The MLE of the other parameters with `fixed` held at its values."""
        if not fixed:
            return self.closed_form(stats)
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
        lower = np.linalg.cholesky(self.hessian(stats, u)[np.ix_(free, free)])
        return np.linalg.solve(lower.T, np.linalg.solve(lower, vector))

    def profile_intervals(self, stats, params: dict, name: str, threshold: float):
        """Every entry's profile-likelihood interval of a vector parameter at once, as (lows, highs),
        where the family has a form for them; None to search entry by entry."""
        return None

    def standard_errors(self, stats, params: dict) -> dict:
        """Asymptotic standard errors at the MLE, from the Fisher information."""
        raise NotImplementedError

    def profile_nll(self, stats, name: str, value: float, index: int | None = None) -> float:
        """The NLL with parameter `name` (entry `index` of a vector) held at `value` and every
        other parameter at its conditional MLE."""
        raise NotImplementedError

    def frequency_table(self, values, stats, params) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Discrete families: cell labels, observed counts and model probabilities (summing to 1),
        from `stats` where they hold them; None when there are too many cells to tabulate."""
        raise NotImplementedError

    def loss_report(self, stats, params: dict) -> dict:
        """The training loss this NLL is, evaluated at `params`, and the NLL rebuilt from it by the
        exact identity between them (`nll_from_loss`, which must equal `nll`)."""
        raise NotImplementedError

    def encode(self, values: np.ndarray, stats) -> np.ndarray:
        """Values as `log_prob` takes them (category labels become codes)."""
        return values

    def log_prob(self, encoded: np.ndarray, params: dict) -> np.ndarray:
        """Per-row log-probability (or log-density) in file order."""
        raise NotImplementedError

    def labels(self, stats) -> list[str] | None:
        """Names of the entries of a vector parameter (categories), or None."""
        return None

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


def xlogy(x, y):
    """x*log(y) with 0*log(0) = 0, the convention that makes boundary optima finite."""
    return special.xlogy(x, y)
