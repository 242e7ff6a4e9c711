"""Finite mixtures by EM: the simplest latent-variable likelihood. A row's density is a sum over a
hidden component, sum_k w_k f(x; theta_k), so its log is a log-sum-exp: the underflow lesson one
level up (each component's density may be 0.0 in float64 where their sum is not).

EM alternates the posterior probability of each component for each row (E) with a weighted fit of
each component (M: the family's own weighted maximum-likelihood fit, its closed form where it has
one), raising the likelihood every step. EM finds a local maximum only, so it runs from many starts
(the quantile start, k-means++ seedings, random splits), keeps the best, and drops starts whose
component collapses onto a value (a variance going to 0: the likelihood there has no maximum).
Newton's method on the full log-likelihood, with its exact derivatives from the family's per-row
derivatives (`conditional_nll`), then polishes the best and gives standard errors from the observed
information.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, special

from .errors import DataError, UsageError
from .estimates import HTMLSummary, InformationCriteria
from .fitting import best_fit

MOST_COMPONENTS = 20
RANDOM_STARTS = 20
SHORT_RUN = 40  # EM steps every start takes ...
LONG_RUNS = 41  # ... before the best this many distinct ones take up to
MEDIUM_RUN = 60  # more, and Newton's method finishes them
EM_TOLERANCE = 1e-10  # relative change of the log-likelihood that stops EM (Newton finishes the job)
EM_ITERATIONS = 5_000
NEWTON_STEPS = 100
SMALLEST_SHARE = 2.0  # a component holding fewer rows' worth of weight than this has collapsed
# ... and so has one whose rows' spread is this small beside the data's: a variance collapsing onto
# one value (repeated values, whole minutes say, let the likelihood grow without end there)
COLLAPSED_SPREAD = 1e-3


def check_components(family, components) -> int:
    if isinstance(components, bool) or not isinstance(components, (int, np.integer)):
        raise UsageError(f"--components must be a whole number from 1 to {MOST_COMPONENTS}, not {components!r}")
    if not 1 <= components <= MOST_COMPONENTS:
        raise UsageError(f"--components must be from 1 to {MOST_COMPONENTS}, not {components}")
    if not getattr(family, "predictors", None) or family.outcome in ("binary", "classes") \
            or not family.support.numeric:
        raise UsageError(f"--components: a mixture of {family.name} components is not identifiable (a mixture of "
                         f"{family.name}s is again one {family.name}); mix a family of numbers or counts")
    return int(components)


@dataclass(frozen=True)
class Component:
    weight: float
    params: dict
    weight_se: float | None = None
    stderr: dict | None = None


@dataclass(frozen=True, repr=False)
class MixtureResult(InformationCriteria, HTMLSummary):
    family: object
    source: str
    column: str
    n: float
    components: list  # Components, sorted by their first parameter
    log_likelihood: float
    converged: bool
    iterations: int
    starts: dict  # how many were tried, of which kind, which won, how many collapsed
    responsibilities: np.ndarray = field(repr=False, compare=False, default=None)  # rows x components, sorted
    values: np.ndarray = field(repr=False, compare=False, default=None)
    rows: np.ndarray = field(repr=False, compare=False, default=None)
    weights: np.ndarray | None = field(repr=False, compare=False, default=None)
    coincide: bool = False  # two components found equal: the mixture is one of fewer components

    @property
    def k(self) -> int:
        """Free parameters: each component's, and the weights but one."""
        per = len(self.family.parameters)
        return len(self.components) * per + len(self.components) - 1

    @property
    def nll(self) -> float:
        return -self.log_likelihood

    @property
    def distribution(self) -> str:
        return self.family.name

    def density(self, grid: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The mixture's density (or probability) on `grid`, and each component's weighted part."""
        parts = [c.weight * np.exp(self.family.log_prob(grid, c.params)) for c in self.components]
        return np.sum(parts, axis=0), parts

    def warnings(self) -> list[str]:
        where = f"{self.source}: column '{self.column}': the {len(self.components)}-component {self.distribution} mixture"
        out = [] if self.converged else [f"{where} did not converge in {self.iterations} EM iterations and Newton steps"]
        if self.coincide:
            out.append(f"{where}: two components are equal (to 1e-6), so it is a mixture of fewer components and "
                       "its weights between them are not identified: no standard errors; fit fewer components")
        return out

    def to_dict(self) -> dict:
        return {"file": self.source, "column": self.column, "distribution": self.distribution,
                "components_count": len(self.components), "n": _count(self.n),
                "components": [{"weight": c.weight, "weight_se": c.weight_se, "params": c.params,
                                "stderr": c.stderr} for c in self.components],
                "log_likelihood": self.log_likelihood, "nll": self.nll, "k": self.k, "aic": self.aic,
                "bic": self.bic, "converged": self.converged, "iterations": self.iterations, "starts": self.starts,
                "components_coincide": self.coincide}

    def summary(self) -> str:
        lines = [f"{len(self.components)}-component {self.distribution} mixture of '{self.column}' in {self.source}: "
                 f"n = {_count(self.n):,}",
                 f"log-likelihood {self.log_likelihood:.10g}  AIC {self.aic:.6f}  BIC {self.bic:.6f}  (k = {self.k})"]
        for i, c in enumerate(self.components, start=1):
            params = ", ".join(f"{name} {value:.6g}" + (f" ± {c.stderr[name]:.2g}" if c.stderr else "")
                               for name, value in c.params.items())
            lines.append(f"component {i}: weight {c.weight:.6g}, {params}")
        lines.append(f"starts: {self.starts['tried']} tried ({self.starts['how']}), "
                     f"{self.starts['collapsed']} collapsed")
        return "\n".join(lines)

    def plot(self, path: str | None = None):
        from .plots import draw_mixture

        return draw_mixture(self, path)

    def __repr__(self) -> str:
        return (f"MixtureResult({len(self.components)} {self.distribution} components of '{self.column}', "
                f"log-likelihood {self.log_likelihood:.6g})")


def fit_mixture(values: np.ndarray, family, components: int, *, weights: np.ndarray | None = None,
                source: str = "<data>", column: str = "x", rows: np.ndarray | None = None, starts: int = RANDOM_STARTS,
                seed: int = 0) -> MixtureResult:
    """The K-component mixture of `family` with the highest likelihood found from the quantile
    start, `starts` k-means++ seedings and `starts` random splits: a short run of EM each, then
    every distinct candidate finished by Newton's method."""
    components = check_components(family, components)
    x = np.asarray(values, dtype=float)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    if len(np.unique(x[w > 0])) < 2 * components:
        raise DataError(f"{source}: column '{column}': {len(np.unique(x[w > 0]))} distinct values cannot hold "
                        f"{components} components of two parameters' worth each", kind="value")
    rng = np.random.default_rng(seed)
    tried = [("quantile", _quantile_start(x, w, family, components))]
    tried += [(f"k-means++ {i}", _random_start(x, w, family, components, rng)) for i in range(1, starts + 1)]
    tried += [(f"random split {i}", _random_split(x, w, family, components, rng)) for i in range(1, starts + 1)]
    # A short run of EM from every start (a run to convergence costs hundreds or thousands of steps)
    short, collapsed = [], 0
    for how, start in tried:
        if start is None:
            continue
        found = _em(x, w, family, *start, most=SHORT_RUN)
        if found is None:
            collapsed += 1
            continue
        short.append((found, how))
    short.sort(key=lambda item: -item[0][2])
    # Where a start ends after a short run says little of where it converges (EM crawls along ridges):
    # the best LONG_RUNS of those that differ run on, and Newton's method finishes each, quadratically.
    best, unfinished = None, []
    for (mixing, params, *_), how in _distinct(short)[:LONG_RUNS]:
        found = _em(x, w, family, mixing, params, most=MEDIUM_RUN)
        if found is None:
            collapsed += 1
            continue
        mixing, params, log_likelihood, iterations, converged = found
        polished = _newton(x, w, family, mixing, params)
        errors = None
        if polished is not None and polished[2] >= log_likelihood - 1e-9 * abs(log_likelihood) \
                and not _collapsed_fit(x, w, family, polished[0], polished[1]):
            mixing, params, log_likelihood, steps, errors = polished
            iterations, converged = iterations + steps, True
        elif not converged:
            unfinished.append(((mixing, params, log_likelihood), how))
            continue
        if best is None or log_likelihood > best[2] + 1e-9 * abs(best[2]):
            best = (mixing, params, log_likelihood, iterations, converged, how, errors)
    if best is None and unfinished:  # no regular maximum within Newton's reach: the best run by EM to its end
        (mixing, params, _), how = max(unfinished, key=lambda item: item[0][2])
        found = _em(x, w, family, mixing, params)
        if found is not None:
            best = (*found, how, None)
    if best is None:
        raise DataError(f"{source}: column '{column}': every start of the {components}-component {family.name} "
                        "mixture collapsed (a component onto too few rows or one value: its likelihood has no "
                        "maximum there); try fewer components", kind="value")
    mixing, params, log_likelihood, iterations, converged, how, errors = best
    coincide = _coinciding(params)
    if coincide:  # the information is singular there: the weights between equal components are not identified
        errors = None
    order = np.argsort([list(p.values())[0] for p in params], kind="stable")
    responsibilities = _posterior(x, family, mixing, params)[0][:, order]
    sorted_components = []
    for k in order:
        stderr = None if errors is None else errors["params"][k]
        sorted_components.append(Component(float(mixing[k]), {n: float(v) for n, v in params[k].items()},
                                           None if errors is None else float(errors["weights"][k]), stderr))
    return MixtureResult(family, source, column, float(w.sum()), sorted_components, float(log_likelihood), converged,
                         int(iterations), {"tried": len(tried), "how": f"the quantile start, {starts} k-means++ "
                                           f"seedings and {starts} random splits", "best": how,
                                           "collapsed": collapsed},
                         responsibilities, x, rows, weights, coincide)


# --- starts ---------------------------------------------------------------------------------
def _quantile_start(x, w, family, k):
    """The rows split at the quantiles into k groups of equal weight, each fitted alone."""
    order = np.argsort(x, kind="stable")
    shares = np.cumsum(w[order]) / w.sum()
    groups = [order[(shares > i / k) & (shares <= (i + 1) / k)] for i in range(k)]
    groups[0] = order[shares <= 1.0 / k] if not len(groups[0]) else groups[0]
    return _grouped_start(x, w, family, groups)


def _random_start(x, w, family, k, rng):
    """k-means++'s seeding: a first centre drawn at random, each next one drawn with probability
    proportional to the squared distance to the nearest centre so far; rows go to their nearest."""
    positive = np.flatnonzero(w > 0)
    centres = [x[rng.choice(positive)]]
    for _ in range(1, k):
        distance = np.min(np.abs(x[positive, None] - np.array(centres)[None, :]), axis=1) ** 2
        if not distance.sum() > 0:
            return None
        centres.append(x[rng.choice(positive, p=distance / distance.sum())])
    nearest = np.argmin(np.abs(x[:, None] - np.array(centres)[None, :]), axis=1)
    return _grouped_start(x, w, family, [np.flatnonzero(nearest == j) for j in range(k)])


def _random_split(x, w, family, k, rng):
    """Each row's component weights drawn at random (scikit-learn's "random" initialisation): the
    components start near one another and EM pulls them apart."""
    shares = rng.uniform(size=(len(x), k))
    shares /= shares.sum(axis=1, keepdims=True)
    params = [_weighted_fit(family, x, w * shares[:, j]) for j in range(k)]
    if any(p is None for p in params):
        return None
    totals = (w[:, None] * shares).sum(axis=0)
    return totals / totals.sum(), params


def _grouped_start(x, w, family, groups):
    params, mixing = [], []
    for group in groups:
        if len(np.unique(x[group])) < 2:
            return None
        fitted = _weighted_fit(family, x[group], w[group])
        if fitted is None:
            return None
        params.append(fitted)
        mixing.append(w[group].sum())
    mixing = np.array(mixing) / np.sum(mixing)
    return mixing, params


def _weighted_fit(family, x, w) -> dict | None:
    stats = family.summarize(x, w)
    if family.degenerate_reason(stats) is not None:
        return None
    try:
        return best_fit(family, stats)
    except (ArithmeticError, ValueError):
        return None


# --- EM -------------------------------------------------------------------------------------
def _posterior(x, family, mixing, params):
    """Each row's posterior probability of each component, and each row's log-density: computed as
    log-sum-exp, so that a row far from every component (each density 0.0 in float64) still counts."""
    with np.errstate(divide="ignore", invalid="ignore"):
        joint = np.column_stack([np.log(m) + family.log_prob(x, p) for m, p in zip(mixing, params)])
        top = joint.max(axis=1)
        top = np.where(np.isfinite(top), top, 0.0)
        shifted = np.exp(joint - top[:, None])
        total = shifted.sum(axis=1)
        return shifted / total[:, None], top + np.log(total)


def _em(x, w, family, mixing, params, most: int = EM_ITERATIONS):
    """EM from a start to a stationary point (or `most` steps): (mixing, params, log-likelihood,
    iterations, converged), or None where a component collapses."""
    spread = _spread(x, w)
    previous, log_likelihood = -np.inf, -np.inf
    for iteration in range(1, most + 1):
        responsibilities, row = _posterior(x, family, mixing, params)
        log_likelihood = float(w @ row)
        if not np.isfinite(log_likelihood):
            return None
        if log_likelihood - previous <= EM_TOLERANCE * (abs(log_likelihood) + 1.0):
            return mixing, params, log_likelihood, iteration, True
        previous = log_likelihood
        shares = responsibilities * w[:, None]
        totals = shares.sum(axis=0)
        if np.any(totals < SMALLEST_SHARE):
            return None
        mixing = totals / totals.sum()
        if family.continuous and any(_spread(x, shares[:, j]) <= COLLAPSED_SPREAD * spread for j in range(len(mixing))):
            return None  # a component's rows shrinking onto one value: its density grows without end there
        params = [_weighted_fit(family, x, shares[:, j]) for j in range(len(mixing))]
        if any(p is None for p in params):
            return None
    return mixing, params, log_likelihood, most, False


def _coinciding(params: list[dict]) -> bool:
    values = [np.array(list(p.values()), dtype=float) for p in params]
    return any(np.allclose(a, b, rtol=1e-6, atol=0.0) for i, a in enumerate(values) for b in values[i + 1:])


def _distinct(found: list) -> list:
    """The candidates (best first) less those whose log-likelihood a better one already has: the
    same optimum reached from two starts."""
    kept = []
    for candidate in found:
        if all(abs(candidate[0][2] - other[0][2]) > 1e-6 * (abs(other[0][2]) + 1.0) for other in kept):
            kept.append(candidate)
    return kept


def _collapsed_fit(x, w, family, mixing, params) -> bool:
    """A fit whose component has shrunk onto (nearly) one value, or onto too few rows."""
    responsibilities, _ = _posterior(x, family, mixing, params)
    shares = responsibilities * w[:, None]
    spread = _spread(x, w)
    return bool(np.any(shares.sum(axis=0) < SMALLEST_SHARE) or (family.continuous and any(
        _spread(x, shares[:, j]) <= COLLAPSED_SPREAD * spread for j in range(len(mixing)))))


def _spread(x, w) -> float:
    centre = float(w @ x / w.sum())
    return float(np.sqrt(w @ (x - centre) ** 2 / w.sum()))


# --- Newton polish and standard errors --------------------------------------------------------
def _etas_of(family, params) -> np.ndarray:
    """The family's linear predictors that give these parameters (its conditional_params inverted),
    solved in the parameters' unconstrained coordinates."""
    names = [p.name for p in family.parameters]
    target = np.concatenate([p.constraint.to_unconstrained(params[p.name]) for p in family.parameters])

    def gap(eta):
        got = family.conditional_params(eta[None, :])
        return np.concatenate([p.constraint.to_unconstrained(float(np.real(got[name][0])))
                               for p, name in zip(family.parameters, names)]) - target

    start = np.zeros(len(family.predictors()))
    start[:len(target)] = target[:len(start)]
    solved = optimize.root(gap, start, method="hybr", options={"xtol": 1e-14})
    return solved.x


def _params_of(family, eta) -> dict:
    got = family.conditional_params(eta[None, :])
    return {p.name: float(np.real(got[p.name][0])) for p in family.parameters}


def _derivatives(x, w, family, theta, k, m):
    """The log-likelihood in (logits of the weights but the first's, each component's etas), its
    gradient and Hessian, exact: from each row's per-component NLL derivatives and the posterior."""
    logits = np.concatenate([[0.0], theta[:k - 1]])
    log_mixing = logits - special.logsumexp(logits)
    etas = theta[k - 1:].reshape(k, m)
    with np.errstate(all="ignore"):  # (a trial point far out: inf or nan, refused by the step's halving)
        return _summed(x, w, family, log_mixing, etas, k, m)


def _summed(x, w, family, log_mixing, etas, k, m):
    n = len(x)
    joint, grads, hessians = np.empty((n, k)), [], []
    for j in range(k):
        value, g, h = family.conditional_nll(x, np.tile(etas[j], (n, 1)), 2)
        joint[:, j] = log_mixing[j] - value
        grads.append(-g)  # of the log-density
        hessians.append(-h)
    row = special.logsumexp(joint, axis=1)
    r = np.exp(joint - row[:, None])
    mixing = np.exp(log_mixing)
    size = k - 1 + k * m
    gradient, hessian = np.zeros(size), np.zeros((size, size))
    # the weights: d/d alpha_j = r_ij - pi_j
    full_alpha = (r - mixing[None, :]) * w[:, None]
    gradient[:k - 1] = full_alpha.sum(axis=0)[1:]
    J = np.eye(k) - mixing[None, :]  # d log pi_k / d alpha_j = delta_kj - pi_j
    rw = r * w[:, None]
    M = np.diag(rw.sum(axis=0)) - r.T @ rw
    alpha = J.T @ M @ J - w.sum() * (np.diag(mixing) - np.outer(mixing, mixing))
    hessian[:k - 1, :k - 1] = alpha[1:, 1:]
    for j in range(k):
        a = k - 1 + j * m
        gradient[a:a + m] = (rw[:, j][:, None] * grads[j]).sum(axis=0)
        for l in range(k):
            b = k - 1 + l * m
            block = -(rw[:, j] * r[:, l])[:, None, None] * grads[j][:, :, None] * grads[l][:, None, :]
            if j == l:
                block = block + rw[:, j][:, None, None] * (grads[j][:, :, None] * grads[j][:, None, :] + hessians[j])
            hessian[a:a + m, b:b + m] = block.sum(axis=0)
        # the weights and this component: (r_ij delta_jq - r_ij r_iq) times the log-density's gradient
        cross = ((np.eye(k)[j][None, :] - r) * rw[:, [j]])  # rows x weights (q)
        hessian[:k - 1, a:a + m] = (cross[:, 1:, None] * grads[j][:, None, :]).sum(axis=0)
        hessian[a:a + m, :k - 1] = hessian[:k - 1, a:a + m].T
    return float(w @ row), gradient, hessian


def _newton(x, w, family, mixing, params):
    """Newton's method on the full log-likelihood from EM's answer; with the standard errors of
    the weights and parameters (the delta method from the observed information). None where the
    information is not negative definite there (not a regular maximum)."""
    k, m = len(mixing), len(family.predictors())
    theta = np.concatenate([np.log(mixing[1:] / mixing[0]), *[_etas_of(family, p) for p in params]])
    value, gradient, hessian = _derivatives(x, w, family, theta, k, m)
    if not np.isfinite(value):
        return None
    steps = 0
    for steps in range(1, NEWTON_STEPS + 1):
        from .regression.reference import descent_step

        # (an ascent step: Newton's where the log-likelihood is concave here, shifted where it is not)
        candidate = theta + descent_step(-hessian, gradient)
        for _ in range(40):
            trial = _derivatives(x, w, family, candidate, k, m)
            if np.isfinite(trial[0]) and trial[0] >= value - 1e-12 * abs(value):
                break
            candidate = theta + 0.5 * (candidate - theta)
        else:
            break
        moved = float(np.max(np.abs(candidate - theta)))
        theta, (value, gradient, hessian) = candidate, trial
        if moved <= 1e-12 * max(1.0, float(np.max(np.abs(theta)))):
            break
    try:
        covariance = np.linalg.inv(-hessian)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.linalg.eigvalsh(-hessian) > 0):
        return None
    logits = np.concatenate([[0.0], theta[:k - 1]])
    new_mixing = special.softmax(logits)
    etas = theta[k - 1:].reshape(k, m)
    new_params = [_params_of(family, e) for e in etas]
    # delta method: the weights through the softmax, the parameters through conditional_params (complex step)
    jacobian = np.zeros((k, len(theta)))
    full = np.diag(new_mixing) - np.outer(new_mixing, new_mixing)
    jacobian[:, :k - 1] = full[:, 1:]
    weight_se = np.sqrt(np.maximum(np.diag(jacobian @ covariance @ jacobian.T), 0.0))
    errors = []
    for j in range(k):
        a = k - 1 + j * m
        block = covariance[a:a + m, a:a + m]
        derivative = _parameter_jacobian(family, etas[j])
        errors.append({name: float(np.sqrt(max(row @ block @ row, 0.0))) for name, row in derivative.items()})
    return new_mixing, new_params, value, steps, {"weights": weight_se, "params": errors}


def _parameter_jacobian(family, eta) -> dict:
    """d parameter / d eta by the complex step (conditional_params is analytic: exp, identity)."""
    h = 1e-30
    rows = {p.name: np.zeros(len(eta)) for p in family.parameters}
    for i in range(len(eta)):
        shifted = eta.astype(complex)
        shifted[i] += 1j * h
        got = family.conditional_params(shifted[None, :])
        for name in rows:
            rows[name][i] = float(np.imag(got[name][0])) / h
    return rows


def _count(n):
    return int(n) if float(n).is_integer() else float(n)


# --- entry points ---------------------------------------------------------------------------
def mixture_of_column(data, family, components: int, **options) -> MixtureResult:
    """A column as reading gives it (values with their rows, weights where given)."""
    from .data import to_support

    values = to_support(data, family)
    weights = data.weights
    if weights is not None and not weights.sum() > 0:
        from .data import weighs_nothing

        raise weighs_nothing(data.source, data.name)
    return fit_mixture(values, family, components, weights=weights, source=data.source, column=data.name,
                       rows=data.rows, **options)


def mixture_of_file(source: str, distribution: str, components: int, column: str | None = None, *,
                    weights: str | None = None, read_options=None, trials: int | None = None,
                    **options) -> MixtureResult:
    from .columns import DEFAULT
    from .data import read_weighted
    from .families import one_family

    family = one_family(distribution, trials)
    check_components(family, components)
    data = read_weighted(source, column, weights, options=read_options or DEFAULT)
    return mixture_of_column(data, family, components, **options)


def mixture_of_values(values, distribution: str, components: int, *, name: str | None = None, weights=None,
                      trials: int | None = None, **options) -> MixtureResult:
    from .families import one_family
    from .data import weighted_memory_column

    family = one_family(distribution, trials)
    check_components(family, components)
    return mixture_of_column(weighted_memory_column(values, name, weights), family, components, **options)


def parse_components(text: str) -> list[int]:
    """--components K or a range "1-4" (compare)."""
    stripped = str(text).strip()
    low, dash, high = stripped.partition("-")
    try:
        counts = list(range(int(low), int(high) + 1)) if dash else [int(stripped)]
    except ValueError:
        raise UsageError(f"--components takes a whole number or a range like 1-4, not {text!r}") from None
    if not counts or any(not 1 <= k <= MOST_COMPONENTS for k in counts):
        raise UsageError(f"--components must be from 1 to {MOST_COMPONENTS}, not {text!r}")
    return counts


def write_posteriors(result: MixtureResult, path: str) -> None:
    """Each row's posterior probability of each component (sorted as the JSON's), and the most
    probable one, with its data row."""
    import csv

    from .data import written_atomically

    k = len(result.components)
    with written_atomically(path, "the component probabilities") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", *(f"p[{j}]" for j in range(1, k + 1)), "component"])
        rows = result.rows if result.rows is not None else np.arange(1, len(result.values) + 1)
        for row, p in zip(rows.tolist(), result.responsibilities):
            writer.writerow([row, *(repr(float(v)) for v in p), int(np.argmax(p)) + 1])


# --- how many components: compare --components 1-4 --------------------------------------------
@dataclass(frozen=True, repr=False)
class ComponentRanking(HTMLSummary):
    """Mixtures of one family with K = 1, 2, ... components, each fitted at its best (the best of
    many EM starts), ranked by BIC as mclust ranks them; AIC beside it. A K whose every start
    collapsed is listed with why, never ranked."""
    source: str
    column: str
    distribution: str
    fits: list  # (K, MixtureResult or None, the reason it is not ranked)

    @property
    def ranked(self) -> list:
        return sorted([(k, r) for k, r, _ in self.fits if r is not None], key=lambda item: item[1].bic)

    @property
    def best(self) -> int | None:
        return self.ranked[0][0] if self.ranked else None

    def verdict(self) -> str:
        ranked = self.ranked
        if not ranked:
            return "no number of components could be fitted"
        by_aic = min(ranked, key=lambda item: item[1].aic)[0]
        text = f"BIC prefers {ranked[0][0]} component{'s' if ranked[0][0] > 1 else ''}"
        return text + (f" (AIC prefers {by_aic})" if by_aic != ranked[0][0] else " (so does AIC)")

    def to_dict(self) -> dict:
        best = self.ranked[0][1].bic if self.ranked else None
        rows = []
        for k, result, reason in self.fits:
            if result is None:
                rows.append({"components": k, "ranked": False, "error": reason})
                continue
            rows.append({"components": k, "ranked": True, "log_likelihood": result.log_likelihood, "k": result.k,
                         "aic": result.aic, "bic": result.bic, "delta_bic": result.bic - best,
                         "converged": result.converged, "fit": result.to_dict()})
        return {"file": self.source, "column": self.column, "distribution": self.distribution, "by": "bic",
                "preferred": self.best, "verdict": self.verdict(), "fits": rows}

    def summary(self) -> str:
        lines = [f"how many {self.distribution} components explain '{self.column}' in {self.source}?"]
        for k, result, reason in self.fits:
            lines.append(f"K = {k}: " + (f"log-likelihood {result.log_likelihood:.8g}, BIC {result.bic:.6f}, "
                                         f"AIC {result.aic:.6f}" if result is not None else f"not ranked: {reason}"))
        lines.append(f"verdict: {self.verdict()}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<ComponentRanking of '{self.column}': {self.verdict()}>"


def compare_components(data, family, counts: list[int], **options) -> ComponentRanking:
    """Each K of `counts` fitted to a column as reading gives it (see mixture_of_column)."""
    fits = []
    for k in counts:
        try:
            fits.append((k, mixture_of_column(data, family, k, **options), None))
        except DataError as error:
            fits.append((k, None, str(error).split(": ", 2)[-1]))
    return ComponentRanking(data.source, data.name, family.name, fits)
