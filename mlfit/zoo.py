"""Any scipy.stats distribution by its scipy name (`--dist scipy:genextreme`): the 18th family a
user needs without leaving the tool. Its parameters are scipy's (the shape names, loc, scale; a
discrete one's loc is held at 0), fitted by mlfit's own search in log space: the NLL is the sum of
scipy's log-densities, minimised from several starts (scipy's own fit, its `_fitstart`, robust
moments) in unconstrained coordinates (log of a positive shape or scale, logit of one in (0, 1)),
the best kept; scipy's `fit` is the reference it is compared with. Standard errors come from a
central-difference Hessian of the NLL (scipy gives no derivatives), AIC/BIC, goodness of fit (KS,
CvM, AD) and the raw likelihood's underflow as for every family.

A distribution whose likelihood has no maximum on the data (a scale running to 0 onto repeated
values; vonmises, periodic, on the real line) is said to have none, never ranked.
"""

from __future__ import annotations

import contextlib
import difflib
import itertools
import math
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from .errors import DataError, UsageError
from .estimates import HTMLSummary, InformationCriteria

PREFIX = "scipy:"
BUDGET = 5.0  # seconds per distribution in compare 'scipy:*'
SPIKE = 1e-6  # a fitted scale this small beside the data's spread: the likelihood runs to a spike


class OutOfTime(Exception):
    pass


def is_scipy(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def scipy_names(kind: str = "continuous") -> list[str]:
    from scipy import stats

    names = stats._continuous_distns._distn_names if kind == "continuous" else stats._discrete_distns._distn_names
    return sorted(names)


def distribution(name: str):
    """The scipy.stats distribution `scipy:NAME` names, or one line listing the nearest names."""
    from scipy import stats

    bare = name[len(PREFIX):] if is_scipy(name) else name
    known = scipy_names("continuous") + scipy_names("discrete")
    found = getattr(stats, bare, None) if bare in known else None
    if found is None:
        near = difflib.get_close_matches(bare, known, n=4)
        raise UsageError(f"{name!r} is not a scipy.stats distribution" + (
            f"; did you mean {', '.join(PREFIX + n for n in near)}?" if near else f" (there are {len(known)}: "
            "scipy:norm, scipy:genextreme, scipy:burr12, ...)"))
    return bare, found


@dataclass(frozen=True)
class Coordinate:
    """A parameter and its map to the unconstrained line: identity, log (positive) or a scaled
    logit (an interval)."""
    name: str
    low: float
    high: float

    def to_free(self, value: float) -> float:
        if math.isinf(self.low) and math.isinf(self.high):
            return float(value)
        if math.isinf(self.high):
            return float(np.log(max(value - self.low, 1e-300)))
        share = (value - self.low) / (self.high - self.low)
        return float(special.logit(min(max(share, 1e-15), 1 - 1e-15)))

    def from_free(self, u: float) -> float:
        if math.isinf(self.low) and math.isinf(self.high):
            return float(u)
        if math.isinf(self.high):
            return float(self.low + np.exp(u))
        return float(self.low + (self.high - self.low) * special.expit(u))


def coordinates(dist, continuous: bool) -> list[Coordinate]:
    out = []
    for info in dist._shape_info():
        low, high = (float(v) for v in info.domain)
        out.append(Coordinate(info.name, 0.0 if low == 5e-324 else low, high))
    if continuous:
        out += [Coordinate("loc", -np.inf, np.inf), Coordinate("scale", 0.0, np.inf)]
    return out


@dataclass(frozen=True, repr=False)
class ZooFit(InformationCriteria, HTMLSummary):
    name: str  # "scipy:genextreme"
    source: str
    column: str
    n: int
    params: dict
    stderr: dict | None
    nll: float
    reference: dict | None  # scipy's own fit: {"params", "nll"} (None where it failed)
    method: str
    starts: int
    gof: dict
    underflow: object
    no_maximum: str | None = None
    values: np.ndarray = field(default=None, repr=False, compare=False)

    @property
    def distribution(self) -> str:
        return self.name

    @property
    def k(self) -> int:
        return len(self.params)

    @property
    def log_likelihood(self) -> float:
        return -self.nll

    def warnings(self) -> list[str]:
        where = f"{self.source}: column '{self.column}': {self.name}"
        if self.no_maximum:
            return [f"{where}: {self.no_maximum}"]
        if self.stderr is None:
            return [f"{where}: the NLL's Hessian at the optimum is not positive definite: no standard errors"]
        return []

    def to_dict(self) -> dict:
        return {"distribution": self.name, "file": self.source, "column": self.column, "n": self.n,
                "params": self.params, "stderr": self.stderr, "nll": self.nll, "log_likelihood": self.log_likelihood,
                "k": self.k, "aic": self.aic, "bic": self.bic, "method": self.method, "starts": self.starts,
                "reference": self.reference,
                "beats_scipy_by": None if self.reference is None else self.reference["nll"] - self.nll,
                "gof": self.gof, "underflow": self.underflow.to_dict(), "no_maximum": self.no_maximum}

    def summary(self) -> str:
        lines = [f"{self.name} fit of '{self.column}' in {self.source}: n = {self.n:,}",
                 f"log-likelihood {self.log_likelihood:.10g}  AIC {self.aic:.6f}  BIC {self.bic:.6f}  (k = {self.k})"]
        for name, value in self.params.items():
            error = None if self.stderr is None else self.stderr.get(name)
            lines.append(f"{name:<12}{value:>16.8g}{'' if error is None else f'{error:>12.4g}'}")
        if self.reference is not None:
            lines.append(f"scipy's own fit: NLL {self.reference['nll']:.10g} "
                         f"({self.reference['nll'] - self.nll:+.3g} nats more than mlfit's)")
        lines += [f"warning: {w}" for w in self.warnings()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"ZooFit({self.name} of '{self.column}', log-likelihood {self.log_likelihood:.6g})"


def fit_scipy(values: np.ndarray, name: str, *, source: str = "<data>", column: str = "x",
              budget: float | None = None) -> ZooFit:
    """The maximum-likelihood fit of scipy.stats' `name` to `values` (see the module's note);
    `budget`: seconds it may take (OutOfTime past them, scipy's own fit interrupted too where a
    timer signal can reach it). scipy's warnings about its own numerics are not the user's."""
    with warnings.catch_warnings(), _timer(budget):
        warnings.simplefilter("ignore")
        return _fit_scipy(values, name, source=source, column=column, budget=budget)


@contextlib.contextmanager
def _timer(budget: float | None):
    """OutOfTime raised `budget` seconds on (a SIGALRM timer, in the main thread of a Unix process;
    elsewhere only the NLL's own clock checks tell)."""
    usable = budget is not None and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expired(signum, frame):
        raise OutOfTime

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _fit_scipy(values, name, *, source, column, budget) -> ZooFit:
    from .gof import edf_statistics
    from .underflow import underflow_report

    bare, dist = distribution(name)
    continuous = hasattr(dist, "logpdf")
    x = np.asarray(values, dtype=float)
    if not continuous and np.any(x != np.round(x)):
        raise DataError(f"{source}: column '{column}': {PREFIX}{bare} is a discrete distribution: its values are "
                        "whole numbers", kind="value")
    coords = coordinates(dist, continuous)
    log_density = dist.logpdf if continuous else dist.logpmf
    deadline = None if budget is None else time.monotonic() + budget
    spread = float(np.std(x)) or 1.0

    def rows(params):
        with np.errstate(all="ignore"):
            return log_density(x, *params)

    def nll_of(params):
        if deadline is not None and time.monotonic() > deadline:
            raise OutOfTime
        value = -float(np.sum(rows(params)))
        return value if np.isfinite(value) else np.inf

    def free_nll(u):
        return nll_of([c.from_free(v) for c, v in zip(coords, u)]) / len(x)

    starts, reference = [], None
    try:
        with np.errstate(all="ignore"):
            found = dist.fit(x) if continuous else None
        if found is not None:
            reference = {"params": dict(zip([c.name for c in coords], map(float, found))), "nll": nll_of(found)}
            starts.append(list(found))
    except OutOfTime:
        raise
    except Exception:  # scipy's fit fails on many data for many distributions: mlfit's own starts go on
        reference = None
    if continuous:
        with np.errstate(all="ignore"):
            guess = list(dist._fitstart(x))
        starts.append(guess)
        shapes = guess[:-2]
        starts.append([*shapes, float(np.median(x)), float(np.subtract(*np.percentile(x, [75, 25]))) / 2 or spread])
    else:  # (scipy has no fit for these): each shape at a few values of its domain's kind
        grids = [[0.2, 0.5, 0.8] if c.high == 1.0 else [max(float(x.mean()), 0.5), 1.0, 10.0] if c.low >= 0
                 else [0.0, float(x.mean())] for c in coords]
        starts += [list(point) for point in itertools.product(*grids)][:9]
    best = None
    for start in starts:
        if not np.isfinite(nll_of(start)):
            continue
        u = np.array([c.to_free(v) for c, v in zip(coords, start)])
        for method in ("Nelder-Mead", "BFGS"):
            # (Nelder-Mead's budget in evaluations: from a start in a flat, degenerate region it would wander)
            options = {"xatol": 1e-10, "fatol": 1e-13, "maxfev": 600 * len(u)} if method == "Nelder-Mead" \
                else {"gtol": 1e-9, "maxiter": 400}
            with np.errstate(all="ignore"):
                found = optimize.minimize(free_nll, u, method=method, options=options)
            if np.isfinite(found.fun) and found.fun <= free_nll(u):
                u = found.x
        value = free_nll(u)
        if best is None or value < best[0]:
            best = (value, u)
    if best is None:
        raise DataError(f"{source}: column '{column}': {PREFIX}{bare} gives these values no positive density from "
                        "any start (its support excludes them)", kind="value")
    params = {c.name: c.from_free(v) for c, v in zip(coords, best[1])}
    if reference is not None and reference["nll"] < best[0] * len(x):  # scipy's own is better: start there
        params = dict(reference["params"])
    nll = nll_of(list(params.values()))
    no_maximum = None
    if continuous and (params["scale"] < SPIKE * spread or nll / len(x) < math.log(SPIKE * spread)):
        no_maximum = ("the likelihood has no maximum on these values: the fit runs to a spike (scale "
                      f"{params['scale']:.3g} against a spread of {spread:.3g}, log-likelihood {-nll:.4g}); it is not "
                      "ranked")
    stderr = None if no_maximum else _standard_errors(nll_of, params)
    ordered = np.sort(x)
    if continuous:
        with np.errstate(all="ignore"):
            gof = edf_statistics(dist.logcdf(ordered, *params.values()), dist.logsf(ordered, *params.values()))
    else:
        gof = {}
    return ZooFit(f"{PREFIX}{bare}", source, column, len(x), params, stderr, nll, reference,
                  "Nelder-Mead then BFGS on the NLL in unconstrained coordinates, from scipy's fit, its _fitstart "
                  "and the median with half the interquartile range; the best kept", len(starts), gof,
                  underflow_report(rows(list(params.values())), nll), no_maximum, x)


def _standard_errors(nll_of, params: dict) -> dict | None:
    """From a central-difference Hessian of the NLL in the parameters (steps of 1e-4 of each)."""
    names, p = list(params), np.array(list(params.values()), dtype=float)
    steps = 1e-4 * np.maximum(np.abs(p), 1e-2)
    k = len(p)
    H = np.zeros((k, k))
    try:
        for i in range(k):
            for j in range(i, k):
                e_i, e_j = np.eye(k)[i] * steps[i], np.eye(k)[j] * steps[j]
                H[i, j] = H[j, i] = (nll_of(p + e_i + e_j) - nll_of(p + e_i - e_j) - nll_of(p - e_i + e_j)
                                     + nll_of(p - e_i - e_j)) / (4 * steps[i] * steps[j])
        if not np.all(np.isfinite(H)) or not np.all(np.linalg.eigvalsh(H) > 0):
            return None
        return dict(zip(names, map(float, np.sqrt(np.diag(np.linalg.inv(H))))))
    except np.linalg.LinAlgError:
        return None


@dataclass(frozen=True, repr=False)
class ZooRanking(HTMLSummary):
    source: str
    column: str
    fits: list  # ZooFit, ranked ones by AIC first
    unranked: list  # (name, why): out of time, failed, no maximum

    @property
    def best(self) -> str | None:
        return self.fits[0].name if self.fits else None

    def to_dict(self) -> dict:
        best = self.fits[0].aic if self.fits else None
        return {"file": self.source, "column": self.column, "winner": self.best,
                "fits": [{**f.to_dict(), "rank": i, "delta_aic": f.aic - best} for i, f in enumerate(self.fits, 1)],
                "not_ranked": [{"distribution": n, "why": why} for n, why in self.unranked]}

    def summary(self) -> str:
        lines = [f"scipy.stats distributions ranked by AIC for '{self.column}' in {self.source}:"]
        lines += [f"{i:>3} {f.name:<24} AIC {f.aic:.6f}  log-likelihood {f.log_likelihood:.8g}"
                  for i, f in enumerate(self.fits, 1)]
        lines += [f"    {n}: not ranked: {why}" for n, why in self.unranked]
        return "\n".join(lines)


def compare_scipy(values: np.ndarray, names: list[str], *, source: str = "<data>", column: str = "x",
                  budget: float = BUDGET, progress=None) -> ZooRanking:
    """Each distribution fitted within `budget` seconds, those with a maximum ranked by AIC, the
    rest listed with why. `progress(done, total, name)` hears each one's end."""
    fitted, unranked = [], []
    for done, name in enumerate(names, start=1):
        try:
            found = fit_scipy(values, name, source=source, column=column, budget=budget)
            if found.no_maximum:
                unranked.append((found.name, found.no_maximum))
            else:
                fitted.append(found)
        except OutOfTime:
            unranked.append((name, f"ran out of its time ({budget:g} s)"))
        except (DataError, UsageError) as error:
            unranked.append((name, str(error).split(": ")[-1]))
        except Exception as error:  # scipy's own distributions fail in their own ways (overflow, bad shapes)
            unranked.append((name, f"scipy failed: {type(error).__name__}: {' '.join(str(error).split())[:120]}"))
        if progress is not None:
            progress(done, len(names), name)
    return ZooRanking(source, column, sorted(fitted, key=lambda f: f.aic), unranked)


def expand(names: list[str]) -> list[str]:
    """'scipy:*' as every continuous scipy.stats distribution."""
    out = []
    for name in names:
        out += [PREFIX + n for n in scipy_names("continuous")] if name == f"{PREFIX}*" else [name]
    return out


# --- entry points ---------------------------------------------------------------------------
def numbers_of(data) -> np.ndarray:
    """A column as reading gives it, as numbers (a cell that is not one named with its row)."""
    from .data import to_support
    from .families import get_family

    if data.weights is not None:
        raise UsageError(f"{PREFIX}NAME fits take no --weights")
    return to_support(data, get_family("normal"))


def scipy_of_file(source: str, name: str, column: str | None = None, *, read_options=None, **options):
    from .columns import DEFAULT
    from .data import read_weighted

    data = read_weighted(source, column, None, options=read_options or DEFAULT)
    return fit_scipy(numbers_of(data), name, source=data.source, column=data.name, **options)


def scipy_of_values(values, name: str, *, column: str | None = None, **options):
    from .data import weighted_memory_column

    data = weighted_memory_column(values, column)
    return fit_scipy(numbers_of(data), name, source=data.source, column=data.name, **options)


def refuse_options(options: dict, what: str = f"{PREFIX}NAME") -> None:
    given = sorted(k for k, v in options.items() if v not in (None, 0, False, {}, "mle", 0.95, "parametric"))
    if given:
        raise UsageError(f"{what} fits (scipy's distributions, by mlfit's search) do not go with {', '.join(given)}")
