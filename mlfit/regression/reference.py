"""Reference solutions of each conditional model, found without the numerical minimiser:

- normal (constant sigma): least squares by a QR factorisation of the centred and scaled columns,
  refined on the augmented system with residuals in extended precision (Bjorck's refinement),
  which brings the NIST StRD problems to 12-15 correct digits;
- laplace: least absolute deviations by linear programming (HiGHS), then the exact vertex: the
  square system of the rows the fit passes through;
- bernoulli, poisson: iteratively reweighted least squares (Newton with the expected
  information, which is the observed one for these canonical links), halving steps that do not
  lower the NLL;
- categorical: Newton on the multinomial score equations, the Hessian assembled from the class
  probabilities, with the same step halving;
- normal with --sigma: Newton on the joint score equations, from the least-squares fit;
- any other family (solver "newton"): Newton on the score equations with the family's exact
  derivatives, from the neutral start, halving steps that do not lower the NLL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import linalg, optimize, special

from .model import ConditionalModel, Scaling, triangular_factor

EXTENDED = np.longdouble
MAX_ITERATIONS = 200


@dataclass(frozen=True)
class Reference:
    coef: np.ndarray  # on the columns as given
    nll: float
    method: str
    converged: bool
    iterations: int
    unscaled_covariance: np.ndarray | None = None  # (X'WX)^-1 for least squares
    residual_sum_of_squares: float | None = None


def reference(model: ConditionalModel) -> Reference:
    """The reference solution by the solver the family declares (`Conditional.solver`)."""
    solver = model.family.solver
    if solver == "least squares":
        return least_squares(model) if constant_scale(model.design) else joint_newton(model)
    if solver == "least absolute deviations":
        return least_absolute_deviations(model)
    if solver == "multinomial newton":
        return multinomial_newton(model)
    if solver == "iteratively reweighted" and model.predictors[0].link in ("logit", "log"):
        return iteratively_reweighted(model)
    if solver == "profiled scoring" and all(B.shape[1] == 1 for B in model.blocks[1:]):
        return profiled_scoring(model)
    return newton(model, intercepts_first(model), lambda theta: model.derivatives(theta)[1:],
                  "Newton on the score equations (the family's exact derivatives), from the intercept-only fit")


def profiled_scoring(model: ConditionalModel) -> Reference:
    """glm.nb's and gamma.shape's way: Fisher scoring of the mean's coefficients (weighted least
    squares on the working response, the family's expected information the weights), alternated
    with the shape's (size's) one-dimensional root of its score given the mean, each step of the
    mean halved until the NLL does not rise. Independent of the full Hessian that Newton and the
    numerical optimiser use."""
    X, w = model.scaled_blocks[0], _weights(model)
    offset = np.zeros(len(model.y)) if model.offset is None else model.offset
    p = X.shape[1]
    theta = intercepts_first(model)
    current, converged, iterations = model.nll(theta), False, 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for iterations in range(1, MAX_ITERATIONS + 1):
            previous, before = current, theta.copy()
            if model.size > p:  # the shape given the mean: the root of its score
                theta[p] = _shape_root(model, theta, p)
                current = model.nll(theta)
            etas = model.etas(theta)
            gradient = model.family.conditional_nll(model.y, etas, 1)[1]
            information = model.family.mean_information(model.y, etas)
            working = etas[:, 0] - offset - gradient[:, 0] / np.maximum(information, 1e-300)
            candidate = theta.copy()
            candidate[:p] = _weighted_least_squares(X, working, w * information)
            theta, current = _halved(model, theta, candidate, before=current)
            moved = float(np.max(np.abs(theta - before), initial=0.0))
            # (scoring converges linearly, not quadratically: a step of 1e-10 leaves about as much to go)
            if previous - current <= 1e-15 * (abs(current) + 1.0) and moved <= 1e-13:
                converged = True
                break
    return Reference(model.to_original(theta), current, "Fisher scoring of the mean (the expected information), "
                     "the shape a root of its score given the mean, alternated", converged, iterations)


def _shape_root(model, theta, at: int) -> float:
    """The log shape whose score is 0 with the other coefficients held: bracketed by doubling
    steps from the current value (the score rises through 0 once: the NLL is convex in it
    here); the bracket's far end where it never changes sign (a size running to infinity)."""
    def score(value):
        trial = theta.copy()
        trial[at] = value
        return model.derivatives(trial, order=1)[1][at]

    start = float(theta[at])
    low_score = score(start)
    if low_score == 0 or not np.isfinite(low_score):
        return start
    direction = -1.0 if low_score > 0 else 1.0  # downhill
    width = 1.0
    for _ in range(40):
        far = start + direction * width
        far_score = score(far)
        if np.isfinite(far_score) and np.sign(far_score) != np.sign(low_score):
            low, high = sorted((start, far))
            return float(optimize.brentq(score, low, high, xtol=1e-14, rtol=4 * np.finfo(float).eps))
        width *= 2.0
    return far


def intercepts_first(model: ConditionalModel) -> np.ndarray:
    """The start of Newton's method: the intercept-only model fitted first (from the family's
    starting values), its intercepts then set in the full model with every other coefficient 0;
    the family's starting values where a predictor has no intercept."""
    theta = model.neutral_start()
    names = model.term_names()
    if not any("Intercept" in terms and len(terms) > 1 for terms in names):
        return theta
    ones = np.ones((len(model.y), 1))
    null = ConditionalModel(model.family, replace(model.design, X=ones, terms=["Intercept"], Z=ones,
                                                  scale_terms=["Intercept"]))
    solved = newton(null, null.neutral_start(), lambda t: null.derivatives(t)[1:], "")
    if not np.isfinite(solved.nll):
        return theta
    coef = model.neutral_coefficients(0.0)
    for j, (terms, start) in enumerate(zip(names, model.starts[:-1])):
        if "Intercept" in terms:
            coef[start + terms.index("Intercept")] = solved.coef[j]
    return model.to_scaled(coef)


def constant_scale(design) -> bool:
    """The scale's design is the intercept alone (no --sigma formula)."""
    return design.Z.shape[1] == 1 and bool(np.all(design.Z == 1.0))


def _weights(model) -> np.ndarray:
    return np.ones(len(model.y)) if model.weights is None else model.weights


def _response(model) -> np.ndarray:
    return model.y if model.offset is None else model.y - model.offset


def least_squares(model: ConditionalModel) -> Reference:
    X, y, w = model.blocks[0], _response(model), _weights(model)
    n, p = X.shape
    A = Scaling.of(X, model.weights, orthonormal=False).A
    root = np.sqrt(w)
    # R of [X A | y] holds R of X A and, in its last column, Q'y: no Q is formed
    augmented = triangular_factor(np.column_stack([root[:, None] * (X @ A), root * y]))
    R, projected = augmented[:p, :p], augmented[:p, p]
    beta = A @ linalg.solve_triangular(R, projected) if p else np.zeros(0)
    # Refinement on the semi-normal equations: beta += (X'WX)^-1 X'W(y - X beta), the inverse
    # through the same R, the residual and X'W r computed exactly (small problems) or in
    # extended precision. Each pass gains what the condition of the scaled columns allows; with
    # exact residuals the NIST StRD problems reach 12 to 15 correct digits.
    cells = n * max(p, 1)
    residuals = (_ExactResiduals(X, y, w) if cells <= EXACT_LIMIT else _ExtendedResiduals(X, y, w)
                 if cells <= EXTENDED_LIMIT else _PlainResiduals(X, y, w))
    for _ in range(6 if p else 0):
        gradient = residuals.gradient(beta)
        step = A @ linalg.solve_triangular(R, linalg.solve_triangular(R, A.T @ gradient, trans="T"))
        beta = beta + step
        if np.all(np.abs(step) <= np.finfo(float).eps * np.abs(beta)):  # below float64's resolution
            break
    rss = residuals.sum_of_squares(beta)
    inverse_R = linalg.solve_triangular(R, np.eye(p)) if p else np.zeros((0, 0))
    G = A @ inverse_R
    sigma = np.sqrt(rss / float(w.sum()))
    coef = np.append(beta, np.log(sigma) if sigma > 0 else -np.inf)
    nll = model.nll(model.to_scaled(coef), scaled=True) if sigma > 0 else -np.inf
    return Reference(coef, nll, "least squares: QR of the centred, scaled columns, refined with exact residuals",
                     True, 1, G @ G.T, rss)


EXACT_LIMIT = 2_000  # cells of the design up to which residuals are summed exactly (fractions: ~0.2 ms a cell)
# ... then in extended precision up to this many (numpy's long double products do not use BLAS:
# beyond it they cost more than the fit, and the copies more memory than the design)
EXTENDED_LIMIT = 2_000_000


class _ExactResiduals:
    """X'W(y - X beta) and sum w r^2 in exact rational arithmetic, rounded once at the end."""

    def __init__(self, X, y, w):
        from fractions import Fraction

        self.fraction = Fraction
        self.X = [[Fraction(v) for v in row] for row in X.tolist()]
        self.y = [Fraction(v) for v in y.tolist()]
        self.w = [Fraction(v) for v in w.tolist()]

    def _residuals(self, beta):
        b = [self.fraction(v) for v in beta.tolist()]
        return [yi - sum(x * c for x, c in zip(row, b)) for row, yi in zip(self.X, self.y)]

    def gradient(self, beta):
        r = self._residuals(beta)
        weighted = [wi * ri for wi, ri in zip(self.w, r)]
        columns = len(self.X[0]) if self.X else 0
        return np.array([float(sum(row[j] * wr for row, wr in zip(self.X, weighted))) for j in range(columns)])

    def sum_of_squares(self, beta):
        return float(sum(wi * ri * ri for wi, ri in zip(self.w, self._residuals(beta))))


class _PlainResiduals:
    """The same sums in float64 (BLAS): refinement in working precision still brings the solution
    to a backward-stable one where the first solve fell short."""

    def __init__(self, X, y, w):
        self.X, self.y, self.w = X, y, w

    def gradient(self, beta):
        r = self.y - self.X @ beta
        return self.X.T @ (self.w * r)

    def sum_of_squares(self, beta):
        r = self.y - self.X @ beta
        return float(self.w @ (r * r))


class _ExtendedResiduals:
    """The same sums in extended precision (80-bit where the platform has it), for big designs."""

    def __init__(self, X, y, w):
        self.X, self.y, self.w = X.astype(EXTENDED), y.astype(EXTENDED), w.astype(EXTENDED)

    def gradient(self, beta):
        r = self.y - self.X @ beta.astype(EXTENDED)
        return (self.X.T @ (self.w * r)).astype(float)

    def sum_of_squares(self, beta):
        r = self.y - self.X @ beta.astype(EXTENDED)
        return float(self.w @ (r * r))


def least_absolute_deviations(model: ConditionalModel) -> Reference:
    """The LAD fit by linear programming on its dual (Barrodale and Roberts'; quantreg's rq solves
    the same): max y'd subject to X'd = 0, |d_i| <= w_i, whose p equality constraints' multipliers
    are the coefficients. The primal (n residuals split in two) took HiGHS 5 s at 10^4 rows, the
    dual 0.1 s."""
    X, y, w = model.blocks[0], _response(model), _weights(model)
    p = X.shape[1]
    if p == 1 and np.all(X == X[0, 0]) and X[0, 0] != 0:
        # a constant alone: the weighted median (HiGHS took 28 s on this degenerate LP at 5 * 10^4 rows)
        order = np.argsort(y, kind="stable")
        cumulative = np.cumsum(w[order])
        beta = np.array([y[order][np.searchsorted(cumulative, cumulative[-1] / 2)] / X[0, 0]])
        iterations = 0
    else:
        A = model.scalings[0].A
        Xs = X @ A
        solved = optimize.linprog(-y, A_eq=Xs.T, b_eq=np.zeros(p), bounds=np.column_stack([-w, w]), method="highs")
        if solved.status != 0:
            raise ArithmeticError(f"linear programming: {solved.message}")
        beta = _exact_vertex(X, y, w, A @ -np.asarray(solved.eqlin.marginals, dtype=float))
        iterations = int(getattr(solved, "nit", 0) or 0)
    residual = y - X @ beta
    b = float(w @ np.abs(residual) / w.sum())
    coef = np.append(beta, np.log(b) if b > 0 else -np.inf)
    nll = model.nll(model.to_scaled(coef)) if b > 0 else -np.inf
    return Reference(coef, nll, "least absolute deviations: the dual linear program (HiGHS), then the exact vertex"
                     if p != 1 or iterations else "least absolute deviations: the weighted median", True, iterations)


def _exact_vertex(X, y, w, beta):
    """The vertex the solver's answer lies at, solved exactly: an optimal L1 fit passes through
    p rows (of positive weight) with independent columns; LP tolerances leave it 1e-9 off them."""
    p = X.shape[1]
    residual = np.abs(y - X @ beta)
    scale = max(float(np.abs(y).max(initial=0.0)), 1.0)
    order = np.argsort(residual)
    candidates = order[(residual[order] <= 1e-6 * scale) & (w[order] > 0)]
    if len(candidates) < p:
        return beta
    _, R, pivots = linalg.qr(X[candidates].T, pivoting=True, mode="economic")
    chosen = candidates[pivots[:p]]
    try:
        exact = np.linalg.solve(X[chosen], y[chosen])
    except np.linalg.LinAlgError:
        return beta
    if w @ np.abs(y - X @ exact) <= w @ np.abs(y - X @ beta) * (1 + 1e-12):
        return exact
    return beta


def iteratively_reweighted(model: ConditionalModel) -> Reference:
    """Fisher scoring for the logit and log links (glm's algorithm, run to convergence)."""
    X, y, w = model.scaled_blocks[0], model.y, _weights(model)
    offset = np.zeros(len(y)) if model.offset is None else model.offset
    logit = model.predictors[0].link == "logit"
    mu = (w * y + 0.5) / (w + 1.0) if logit else y + 0.1  # glm's starting values
    eta = special.logit(mu) if logit else np.log(mu)
    theta, previous, current, iterations = None, np.inf, np.inf, 0
    converged = False
    for iterations in range(1, MAX_ITERATIONS + 1):
        mu = special.expit(eta) if logit else np.exp(eta)
        variance = mu * (1.0 - mu) if logit else mu
        working = eta - offset + (y - mu) / np.maximum(variance, 1e-300)
        candidate = _weighted_least_squares(X, working, w * variance)
        if theta is None:
            current = model.nll(candidate)
        else:
            candidate, current = _halved(model, theta, candidate, before=current)
        step = np.inf if theta is None else float(np.max(np.abs(candidate - theta), initial=0.0))
        theta, eta = candidate, X @ candidate + offset
        if np.isfinite(previous) and previous - current <= 1e-15 * (abs(current) + 1.0) and step <= 1e-10:
            converged = True
            break
        previous = current
    link = "logit" if logit else "log"
    return Reference(model.to_original(theta), current,
                     f"iteratively reweighted least squares (Fisher scoring, {link} link)", converged, iterations)


def _weighted_least_squares(X, z, weights):
    """argmin sum weights (z - X theta)^2 through the normal equations: X is the model's
    orthonormalised design, whose weighted Gram matrix is well conditioned wherever the weights
    are; where they are not (probabilities near 0 or 1), through a least-squares solver."""
    weighted = weights[:, None] * X
    gram = X.T @ weighted
    try:
        factor = linalg.cho_factor(gram, check_finite=False)
        if np.linalg.cond(gram) < 1e8:
            return linalg.cho_solve(factor, weighted.T @ z, check_finite=False)
    except (linalg.LinAlgError, ValueError):
        pass
    root = np.sqrt(weights)
    return np.linalg.lstsq(root[:, None] * X, root * z, rcond=None)[0]


def multinomial_newton(model: ConditionalModel) -> Reference:
    X, w = model.scaled_blocks[0], _weights(model)
    classes = model.design.classes
    k, p = len(classes) - 1, X.shape[1]
    observed = np.zeros((len(model.y), k))
    has_class = model.y > 0
    observed[np.flatnonzero(has_class), model.y[has_class] - 1] = 1.0

    def system(theta):  # stacked class by class, as the model stacks its predictors
        logits = np.column_stack([np.zeros(len(X)), X @ theta.reshape(k, p).T])
        probabilities = special.softmax(logits, axis=1)[:, 1:]
        score = ((probabilities - observed) * w[:, None]).T @ X  # k x p
        information = np.zeros((k * p, k * p))
        for a in range(k):
            for b in range(a, k):
                weight = w * probabilities[:, a] * ((a == b) - probabilities[:, b])
                block = X.T @ (weight[:, None] * X)
                information[a * p:(a + 1) * p, b * p:(b + 1) * p] = block
                information[b * p:(b + 1) * p, a * p:(a + 1) * p] = block.T
        return score.ravel(), information

    return newton(model, np.zeros(k * p), system, "Newton on the multinomial score equations")


def joint_newton(model: ConditionalModel) -> Reference:
    """The heteroscedastic normal: Newton from the least-squares fit with a constant sigma."""
    start = least_squares(ConditionalModel(model.family, model.design, Z=np.ones((len(model.y), 1))))
    theta = np.zeros(model.size)
    mean_size = model.sizes[0]
    theta[:mean_size] = np.linalg.solve(model.scalings[0].A, start.coef[:mean_size])
    intercept = next((j for j in range(model.sizes[1]) if np.all(model.blocks[1][:, j] == 1.0)), None)
    if intercept is not None:
        gamma = np.zeros(model.sizes[1])
        gamma[intercept] = start.coef[-1]
        theta[mean_size:] = np.linalg.solve(model.scalings[1].A, gamma)
    return newton(model, theta, lambda theta: model.derivatives(theta)[1:],
                  "Newton on the score equations, from the least-squares fit")


def newton(model, theta, system, method: str, most: int = MAX_ITERATIONS) -> Reference:
    """Newton's method from `theta`: `system(theta)` gives the NLL's gradient and Hessian, and
    each step is halved until the NLL does not rise; converged when a step moves nothing and
    gains nothing float64 can see."""
    converged, iterations = False, 0
    current = model.nll(theta)
    for iterations in range(1, most + 1):
        gradient, hessian = system(theta)
        step = descent_step(hessian, gradient)
        previous = current
        candidate, current = _halved(model, theta, theta - step, before=current)
        moved = float(np.max(np.abs(candidate - theta), initial=0.0))
        theta = candidate
        if previous - current <= 1e-15 * (abs(current) + 1.0) and moved <= 1e-10:
            converged = True
            break
    return Reference(model.to_original(theta), current, method, converged, iterations)


def descent_step(hessian, gradient):
    """Newton's step where the Hessian is positive definite; where it is not (a likelihood that is
    not concave: student_t, cauchy, away from their optimum) the step of the Hessian shifted by
    the least multiple of its diagonal's scale that makes it so (Levenberg and Marquardt), which
    points downhill."""
    size = len(gradient)
    scale = max(float(np.max(np.abs(np.diag(hessian)), initial=0.0)), 1e-300)
    shift = 0.0
    for _ in range(60):
        try:
            factor = linalg.cho_factor(hessian + shift * np.eye(size), check_finite=False)
            return linalg.cho_solve(factor, gradient, check_finite=False)
        except (linalg.LinAlgError, ValueError):
            shift = scale * 1e-8 if shift == 0.0 else shift * 10.0
    return np.linalg.lstsq(hessian, gradient, rcond=None)[0]


def _halved(model, theta, candidate, before: float, times: int = 60):
    """The step to `candidate`, halved until the NLL does not rise (a Newton step can overshoot):
    the point and its NLL."""
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(times):
            after = model.nll(candidate)
            if np.isfinite(after) and after <= before + 1e-12 * abs(before):
                return candidate, after
            candidate = theta + 0.5 * (candidate - theta)
    return theta, before
