"""When the maximum-likelihood estimate does not exist, and why.

- Collinear columns (a rank-deficient design): infinitely many coefficient vectors give the same
  fit. The columns that are combinations of earlier ones are named and left out (R's lm reports
  them as NA, "aliased").
- Separation (logistic, softmax): some direction of the coefficients classifies rows perfectly,
  so the likelihood keeps rising as the coefficients run to infinity.
- Poisson counts that are all 0 where some column is not (a group with no events): its rate's
  logarithm runs to minus infinity.

Separation and the Poisson case are found by linear programming (as R's detectseparation does):
a direction d with no row worse off and some row better off exists exactly when the MLE does not.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

SHOWN_ROWS = 10


def aliased_columns(X: np.ndarray, weights: np.ndarray | None, names: list[str], centred: bool = True) -> dict:
    """{column left out: the earlier columns it is a combination of}, by a pivoted QR of the
    centred, scaled columns; empty for a design of full rank."""
    from .model import Scaling, triangular_factor

    n, p = X.shape
    if p == 0:
        return {}
    if p == 1:  # one column is collinear only with nothing: all zeros
        return {} if np.any(X[:, 0] != 0) and n >= 1 else {names[0]: []}
    w = np.ones(n) if weights is None else weights
    scaled = np.sqrt(w)[:, None] * (X @ Scaling.of(X, weights, orthonormal=False).A if centred else X)
    norms = np.linalg.norm(scaled, axis=0)
    norms[norms == 0] = 1.0
    # The pivoted QR of X's R decides the rank as X's own would (the same singular values), at p x p cost
    R0 = triangular_factor(scaled / norms)
    _, R, pivots = linalg.qr(R0, pivoting=True)
    diagonal = np.abs(np.diag(R))
    tolerance = max(n, p) * np.finfo(float).eps * 64 * (diagonal[0] if len(diagonal) else 1.0)
    rank = int(np.sum(diagonal > tolerance))
    if rank == p and n >= p:
        return {}
    kept = sorted(pivots[:rank].tolist())
    # Of collinear columns the later ones are left out, as R's lm does, where the columns in order
    # show it (each later one's part orthogonal to those before it lost in rounding): the pivoted
    # choice among equals is arbitrary.
    in_order = [j for j in range(p) if abs(R0[j, j]) > tolerance] if n >= p else kept  # (R0's columns: norm 1)
    if len(in_order) == rank:
        kept = in_order
    aliased = {}
    for j in (j for j in range(p) if j not in kept):
        combination, *_ = np.linalg.lstsq(scaled[:, kept], scaled[:, j], rcond=None)
        big = np.abs(combination) > 1e-8 * max(np.abs(combination).max(initial=0.0), 1e-300)
        # a constant column is 0 once centred (to rounding): the intercept holds it
        constant = np.linalg.norm(scaled[:, j]) <= 1e-12 * np.sqrt(w.sum())
        aliased[names[j]] = [] if constant else [names[kept[i]] for i in np.flatnonzero(big)]
    return aliased


@dataclass(frozen=True)
class Divergence:
    """A direction along which the likelihood keeps rising: the coefficients it moves (with the
    sign they run to) and the rows it fits ever better."""
    kind: str  # "complete separation", "quasi-complete separation" or "zero counts"
    terms: dict  # {term: "+inf" or "-inf"} (a categorical's terms as "class: term")
    rows: np.ndarray  # the data rows whose fitted probability (or rate) goes to 0 or 1
    explanation: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "terms": self.terms, "rows": self.rows[:SHOWN_ROWS].tolist(),
                "rows_count": int(len(self.rows)), "explanation": self.explanation}


def divergence(model) -> Divergence | None:
    """The direction along which this model's likelihood has no maximum, or None where the MLE
    exists, for a family whose MLE can fail to by separation (`Conditional.separation`); None otherwise."""
    separation = model.family.separation
    if separation is None:
        return None
    X = model.scaled_blocks[0]
    w = np.ones(len(model.y)) if model.weights is None else model.weights
    use = w > 0
    if separation == "binary":  # (binomial: a row with both successes and failures is on both sides)
        at, sides = model.family.outcome_sides(model.y)
        kept = use[at]
        at, sides = at[kept], sides[kept]
    X, y, rows = X[use], model.y[use], model.design.rows[use]
    p = X.shape[1]
    if p == 0:
        return None
    if separation == "binary":
        X, rows, signs = model.scaled_blocks[0][at], model.design.rows[at], sides
        margins = signs[:, None] * X  # each row's margin x'd, signed by its class, must be >= 0
        direction, gains = _best_direction(margins, p)
        if direction is None:
            return None
        terms = _terms(model, direction, [""])
        strict = gains > STRICT
        if not strict.all() and _completely(margins, p):  # a vertex may lay the boundary through rows
            strict[:] = True
        kind = "complete separation" if strict.all() else "quasi-complete separation"
        return Divergence(kind, terms, rows[strict],
                          f"{kind}: a combination of {', '.join(t for t in terms)} puts the rows of each class on "
                          f"its own side, so the coefficients run to infinity and {int(strict.sum())} rows' "
                          "fitted probabilities to exactly 0 or 1")
    if separation == "classes":
        k = len(model.design.classes) - 1
        # Variables: the direction d_c (p each) of the logit of each class but the first (whose
        # logit is 0). For every row and every other class c', logit[y] - logit[c'] must not fall.
        blocks = []
        for c_other in range(k + 1):
            mask = y != c_other
            if not mask.any():
                continue
            margin = np.zeros((int(mask.sum()), k * p))
            own = y[mask]
            for c in range(1, k + 1):
                sign = (own == c).astype(float) - (c == c_other)
                margin[:, (c - 1) * p:c * p] += sign[:, None] * X[mask]
            blocks.append((np.flatnonzero(mask), margin))
        margins = np.vstack([m for _, m in blocks])
        owner = np.concatenate([i for i, _ in blocks])
        direction, gains = _best_direction(margins, k * p)
        if direction is None:
            return None
        strict = np.zeros(len(y), dtype=bool)
        strict[owner[gains > STRICT]] = True
        terms = _terms(model, direction, [f"{c}: " for c in model.design.classes[1:]])
        if not strict.all() and _completely(margins, k * p):
            strict[:] = True
        kind = "complete separation" if strict.all() else "quasi-complete separation"
        return Divergence(kind, terms, rows[strict],
                          f"{kind}: a combination of {', '.join(terms)} separates the classes, so the coefficients "
                          f"run to infinity and on {int(strict.sum())} rows the fitted probability of some class goes to 0")
    # poisson: a direction d with x'd <= 0 on every row, = 0 where the count is positive, < 0 somewhere
    positive = y > 0
    margins = -X
    direction, gains = _best_direction(margins, p, equal=positive)
    if direction is None:
        return None
    strict = gains > STRICT
    terms = _terms(model, direction, [""])
    return Divergence("zero counts", terms, rows[strict],
                      f"every count is 0 on the {int(strict.sum())} rows that a combination of {', '.join(terms)} "
                      "can push down without moving the others, so their fitted rate goes to 0 and the coefficients "
                      "run to infinity")


def _best_direction(margins: np.ndarray, size: int, equal: np.ndarray | None = None):
    """A direction d whose margins (margins @ d) are all >= 0 (== 0 on the `equal` rows) and
    positive on as many rows as any direction's can be: max sum(t) with margins @ d >= t,
    0 <= t <= 1. The directions that separate form a convex cone, so one d is strictly positive
    on every row some separating direction is. (None, None) where there is none."""
    rows = len(margins) if equal is None else int((~equal).sum())
    free = margins if equal is None else margins[~equal]
    from scipy import sparse

    # variables: d (size), then t (one per inequality row); minimise -sum(t). Sparse: the t block
    # is an identity, which held dense is rows^2 numbers (3 GB at 2 * 10^4 rows).
    cost = np.concatenate([np.zeros(size), -np.ones(rows)])
    inequality = sparse.hstack([sparse.csr_matrix(-free), sparse.identity(rows, format="csr")], format="csr")
    equality = None
    if equal is not None and equal.any():
        equality = sparse.hstack([sparse.csr_matrix(margins[equal]), sparse.csr_matrix((int(equal.sum()), rows))],
                                 format="csr")
    solved = optimize.linprog(cost, A_ub=inequality, b_ub=np.zeros(rows),
                              A_eq=equality, b_eq=None if equality is None else np.zeros(equality.shape[0]),
                              bounds=[(-BOX, BOX)] * size + [(0.0, 1.0)] * rows, method="highs")
    if solved.status != 0:
        return None, None
    direction = solved.x[:size]
    gains = margins @ direction
    if gains.max(initial=0.0) <= STRICT:
        return None, None
    return direction, gains


def _completely(margins: np.ndarray, size: int) -> bool:
    """Whether some direction makes every margin positive: max t with margins @ d >= t, |d| <= 1."""
    cost = np.append(np.zeros(size), -1.0)
    inequality = np.hstack([-margins, np.ones((len(margins), 1))])  # t - margins @ d <= 0
    solved = optimize.linprog(cost, A_ub=inequality, b_ub=np.zeros(len(margins)),
                              bounds=[(-1.0, 1.0)] * size + [(None, 1.0)], method="highs")
    return solved.status == 0 and -solved.fun > STRICT


BOX = 1e3  # coefficients of the direction, on the orthonormalised columns (margins of order 1 per unit)
STRICT = 1e-7  # a margin above this is a row the direction fits ever better


def _terms(model, direction: np.ndarray, prefixes: list[str]) -> dict:
    """The coefficients a scaled direction moves, on the columns as given, with the sign of their run."""
    p = model.sizes[0]
    A = model.scalings[0].A
    moved = {}
    for index, prefix in enumerate(prefixes):
        part = A @ direction[index * p:(index + 1) * p]
        scale = np.abs(part).max(initial=0.0)
        for term, value in zip(model.design.terms, part):
            if abs(value) > 1e-6 * scale:
                moved[f"{prefix}{term}"] = "+inf" if value > 0 else "-inf"
    return moved


def runaway(model, solved) -> Divergence | None:
    """A maximum the family says its likelihood lacks on these rows, though no column separates
    them (`Conditional.no_maximum`: every time right-censored; counts less dispersed than the
    poisson's, whose negative binomial size runs to infinity): the parameter that runs and why."""
    w = np.ones(len(model.y)) if model.weights is None else model.weights
    with np.errstate(all="ignore"):
        etas = model.etas(model.to_scaled(solved.coef))
    found = model.family.no_maximum(model.y, etas, w)
    if found is None:
        return None
    parameter, direction, why = found
    return Divergence("no maximum", {parameter: direction}, np.zeros(0, dtype=np.int64), why)
