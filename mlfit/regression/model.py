"""A conditional model: a family whose parameters vary by row, each a link of a linear predictor.

The family gives each row's NLL and its derivatives with respect to the linear predictors
(`conditional_nll`); this module stacks the predictors' coefficients into one vector, sums the
rows (with weights), and minimises the total with scipy.optimize. The optimiser works on centred
and scaled columns (`Scaling`), where a neutral start is near every answer and Longley-style
collinearity costs few digits; coefficients are reported on the columns as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

from ..families.conditional import Conditional
from .design import Design

GRADIENT_TOLERANCE = 1e-10  # on the gradient of the mean NLL per unit weight, in scaled coordinates
STATIONARY = 1e-12  # relative NLL gain of a Newton step below which a stalled trust region is at the optimum


@dataclass(frozen=True)
class Scaling:
    """Columns centred on their (weighted) mean where the block has an intercept, divided by their
    spread, then orthonormalised: scaled = X @ A, so coefficients map back as beta = A @ theta."""
    A: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, weights: np.ndarray | None, orthonormal: bool = True) -> "Scaling":
        p = X.shape[1]
        A = np.eye(p)
        if p == 0 or len(X) == 0:
            return cls(A)
        w = np.ones(len(X)) if weights is None else weights
        total = w.sum()
        intercept = next((j for j in range(p) if np.all(X[:, j] == 1.0)), None)
        mean = (w @ X) / total if intercept is not None else np.zeros(p)
        spread = np.sqrt(np.maximum(w @ (X - mean) ** 2 / total, 0.0))
        for j in range(p):
            if j == intercept:
                continue
            s = spread[j] if spread[j] > 0 else (np.sqrt(w @ X[:, j] ** 2 / total) or 1.0)
            A[j, j] = 1.0 / s
            if intercept is not None:
                A[intercept, j] = -mean[j] / s
        # Then orthonormalised (weighted, columns of mean square 1): the NLL's curvature is then
        # near the identity's for every family, however collinear the columns (Filip's degree-10
        # polynomial), so the optimiser's steps do not depend on the design's conditioning.
        if not orthonormal or p == 1:  # one column: scaling is all orthonormalising does
            return cls(A)
        R = triangular_factor(np.sqrt(w)[:, None] * (X @ A))
        diagonal = np.abs(np.diag(R))
        if diagonal.min() > diagonal.max() * len(X) * np.finfo(float).eps:
            A = A @ np.linalg.solve(R, np.eye(p)) * np.sqrt(total)
        return cls(A)

    def scaled(self, X: np.ndarray) -> np.ndarray:
        return X @ self.A


class ConditionalModel:
    """The NLL of a design under a family, as a function of all the coefficients stacked: the
    coefficients of each linear predictor in turn (`blocks`)."""

    def __init__(self, family, design: Design, X: np.ndarray | None = None, Z: np.ndarray | None = None,
                 scalings: list | None = None):
        """`scalings`: coordinates given rather than derived from these rows (a chunk of a file
        shares the whole file's); such a model's rows are summed by its file's model."""
        self.family, self.design = family, design
        self.predictors = family.predictors(design.classes)
        self.y = design.y
        self.weights = design.weights
        self.offset = design.offset
        X = design.X if X is None else X
        Z = design.Z if Z is None else Z
        self.blocks = [block_of(p, X, Z) for p in self.predictors]
        if scalings is not None:
            self.scalings = scalings
        else:
            self.scalings = [Scaling.of(B, self.weights) for B in self.blocks]
            if self.predictors and self.predictors[0].link == "identity":
                # A mean in the response's units: its coefficients are measured in the response's spread
                # too, so that every scaled coefficient is of order one.
                unit = _spread(family.location_units(self.y), self.weights)
                self.scalings[0] = Scaling(self.scalings[0].A * (unit if unit > 0 else 1.0))
        self.scaled_blocks = [s.scaled(B) for s, B in zip(self.scalings, self.blocks)]
        self.sizes = [B.shape[1] for B in self.blocks]
        self.starts = np.cumsum([0, *self.sizes])
        self.total_weight = float(len(self.y) if self.weights is None else self.weights.sum())
        # least squares with a constant scale: the NLL is a function of the cross-products
        least_squares = family.solver == "least squares" and Z.shape[1] == 1 and np.all(Z == 1.0)
        self.gram = CrossProducts.of(self) if least_squares and scalings is None else None

    @property
    def size(self) -> int:
        return int(self.starts[-1])

    def split(self, theta: np.ndarray) -> list[np.ndarray]:
        return [theta[a:b] for a, b in zip(self.starts[:-1], self.starts[1:])]

    def to_original(self, theta: np.ndarray) -> np.ndarray:
        """Coefficients on the columns as given, from the scaled ones."""
        return np.concatenate([s.A @ t for s, t in zip(self.scalings, self.split(theta))]) if self.size else theta

    def to_scaled(self, beta: np.ndarray) -> np.ndarray:
        return np.concatenate([np.linalg.solve(s.A, b) for s, b in zip(self.scalings, self.split(beta))]) \
            if self.size else beta

    def transform(self) -> np.ndarray:
        """The block-diagonal map from scaled to original coefficients."""
        T = np.zeros((self.size, self.size))
        for (a, b), s in zip(zip(self.starts[:-1], self.starts[1:]), self.scalings):
            T[a:b, a:b] = s.A
        return T

    def etas(self, theta: np.ndarray, scaled: bool = True) -> np.ndarray:
        blocks = self.scaled_blocks if scaled else self.blocks
        columns = []
        for predictor, B, t in zip(self.predictors, blocks, self.split(theta)):
            eta = B @ t
            if predictor.role == "mean" and self.offset is not None:
                eta = eta + self.offset
            columns.append(eta)
        return np.column_stack(columns) if columns else np.zeros((len(self.y), 0))

    def row_nll(self, theta: np.ndarray, scaled: bool = True) -> np.ndarray:
        return self.family.conditional_nll(self.y, self.etas(theta, scaled))[0]

    def nll(self, theta: np.ndarray, scaled: bool = True) -> float:
        rows = self.row_nll(theta, scaled)
        return float(rows.sum() if self.weights is None else self.weights @ rows)

    def derivatives(self, theta: np.ndarray, order: int = 2, scaled: bool = True, smoothing: float | None = None,
                    by_rows: bool = False, lazy: bool = False):
        """The total NLL, its gradient and (order 2) Hessian with respect to the stacked coefficients;
        with `smoothing`, of the family's smoothed NLL (laplace's kinks rounded off at that width).
        The normal model with a constant sigma is evaluated from its cross-products unless `by_rows`.
        `lazy`: the Hessian as a function that assembles it, for an optimiser that needs it only at
        the points it accepts (assembling it is most of an evaluation's cost)."""
        if self.gram is not None and scaled and smoothing is None and not by_rows:
            value, gradient, hessian = self.gram.derivatives(theta, order)
            return value, gradient, (lambda: hessian) if lazy and order >= 2 else hessian
        blocks = self.scaled_blocks if scaled else self.blocks
        with np.errstate(over="ignore", invalid="ignore"):
            etas = self.etas(theta, scaled)
            if smoothing is None:
                value, gradient, hessian = self.family.conditional_nll(self.y, etas, order)
            else:
                value, gradient, hessian = self.family.smoothed_conditional_nll(self.y, etas, smoothing, order)
        w = np.ones(len(self.y)) if self.weights is None else self.weights
        total = float(w @ value)
        g = np.concatenate([B.T @ (w * gradient[:, j]) for j, B in enumerate(blocks)])
        if order < 2:
            return total, g, None

        def assemble():
            H = np.zeros((self.size, self.size))
            for j, Bj in enumerate(blocks):
                for k in range(j, len(blocks)):
                    weight = w * hessian[:, j, k]
                    if j == k and np.all(weight >= 0):  # B'WB as C'C: half the work (a symmetric product)
                        C = Bj * np.sqrt(weight)[:, None]
                        block = C.T @ C
                    else:
                        block = Bj.T @ (weight[:, None] * blocks[k])
                    H[self.starts[j]:self.starts[j + 1], self.starts[k]:self.starts[k + 1]] = block
                    H[self.starts[k]:self.starts[k + 1], self.starts[j]:self.starts[j + 1]] = block.T
            return H

        return total, g, assemble if lazy else assemble()

    @property
    def response_spread(self) -> float:
        """The response's root-mean-square deviation from its mean (the unit of the search's steps)."""
        return _spread(self.y, self.weights)

    def neutral_start(self) -> np.ndarray:
        """Every coefficient 0, but a scale predictor's intercept at the log of the response's
        spread: the NLL is then of the order of one nat per row, whatever the response's units.
        A family that says where its predictors start (`conditional_start`: gamma's log mean and
        log shape, ...) has its intercepts there instead."""
        return self.to_scaled(self.neutral_coefficients(_spread(self.y, self.weights)))

    def neutral_coefficients(self, spread: float) -> np.ndarray:
        coef = np.zeros(self.size)
        starts = self.family_start()
        for j, (predictor, terms, start) in enumerate(zip(self.predictors, self.term_names(), self.starts[:-1])):
            if "Intercept" not in terms:
                continue
            if starts is not None:
                offset = 0.0
                if predictor.role == "mean" and self.offset is not None:  # (the offset's typical part is in eta)
                    offset = float(np.median(self.offset))
                coef[start + terms.index("Intercept")] = starts[j] - offset
            elif predictor.role == "scale":
                coef[start + terms.index("Intercept")] = np.log(spread) if spread > 0 else 0.0
        return coef

    def family_start(self) -> list[float] | None:
        """The family's own starting values of its predictors, where it declares them."""
        if type(self.family).conditional_start is Conditional.conditional_start:
            return None
        w = np.ones(len(self.y)) if self.weights is None else self.weights
        starts = self.family.conditional_start(self.y, w)
        return [s if np.isfinite(s) else 0.0 for s in starts]

    def term_names(self) -> list[list[str]]:
        return [self.design.terms if p.role == "mean" else self.design.scale_terms if p.role == "scale"
                else ["Intercept"] for p in self.predictors]


@dataclass(frozen=True)
class NumericalRegression:
    coef: np.ndarray  # on the columns as given
    nll: float
    method: str
    iterations: int
    converged: bool
    message: str


class CrossProducts:
    """The normal model with a constant sigma depends on the rows only through the weighted
    cross-products of [scaled columns, response]: its NLL, gradient and Hessian cost O(p^2) per
    evaluation, whatever the number of rows. The response is centred first (the intercept takes
    its mean), so the residual sum of squares is not a small difference of large sums."""

    def __init__(self, xx, xy, yy, shift, total):
        self.xx, self.xy, self.yy, self.shift, self.total = xx, xy, yy, shift, total

    @classmethod
    def of(cls, model) -> "CrossProducts":
        X, y = model.scaled_blocks[0], model.y if model.offset is None else model.y - model.offset
        w = np.ones(len(y)) if model.weights is None else model.weights
        p = X.shape[1]
        intercept = next((j for j in range(p) if np.all(model.blocks[0][:, j] == 1.0)), None)
        centre = float(w @ y / w.sum()) if intercept is not None else 0.0
        # the scaled coefficients that make the constant 1: X e_intercept = 1, scaled = X A
        shift = centre * np.linalg.solve(model.scalings[0].A, np.eye(p)[intercept]) if intercept is not None \
            else np.zeros(p)
        centred = y - centre
        weighted = w[:, None] * X
        return cls(X.T @ weighted, weighted.T @ centred, float(w @ (centred * centred)), shift, float(w.sum()))

    def squares(self, b, xxb) -> float:
        return max(self.yy - 2.0 * b @ self.xy + b @ xxb, 0.0)

    def derivatives(self, theta, order: int = 2):
        b, log_sigma = theta[:-1] - self.shift, theta[-1]
        xxb = self.xx @ b
        squares = self.squares(b, xxb)
        with np.errstate(over="ignore"):
            precision = np.exp(-2.0 * log_sigma)
        value = self.total * (0.5 * np.log(2 * np.pi) + log_sigma) + 0.5 * precision * squares
        if order == 0:
            return float(value), None, None
        slope = xxb - self.xy
        gradient = np.append(precision * slope, self.total - precision * squares)
        if order == 1:
            return float(value), gradient, None
        p = len(b)
        hessian = np.empty((p + 1, p + 1))
        hessian[:p, :p] = precision * self.xx
        hessian[:p, p] = hessian[p, :p] = -2.0 * precision * slope
        hessian[p, p] = 2.0 * precision * squares
        return float(value), gradient, hessian


class FactorSquares(CrossProducts):
    """The same from the triangular factor of [X D | y] (a streamed QR): on scaled coefficients
    theta = k * u, where u solves R u = c, the residual sum of squares is |c - k theta|^2 + r^2
    exactly, a sum of squares rather than a difference of large sums."""

    def __init__(self, c, r, k, total):
        p = len(c)
        super().__init__(k * k * np.eye(p), k * c, float(c @ c + r * r), np.zeros(p), total)
        self.c, self.r, self.k = c, r, k

    def squares(self, b, xxb) -> float:
        difference = self.c - self.k * b
        return float(difference @ difference + self.r * self.r)


def block_of(predictor, X: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """The design a predictor is linear in: the formula's (the mean), the --sigma formula's (the
    scale), or a constant (a shape that stays one number: student_t's nu)."""
    if predictor.role == "mean":
        return X
    if predictor.role == "scale":
        return Z
    return np.ones((len(X), 1))


def triangular_factor(M: np.ndarray) -> np.ndarray:
    """R of M = QR (min(n, p) x p), without forming Q: LAPACK's raw output, its upper triangle."""
    raw, _ = linalg.qr(np.asfortranarray(M), mode="raw", overwrite_a=True, check_finite=False)[0]
    k = min(M.shape)
    return np.triu(raw[:k, :])


def _spread(y: np.ndarray, weights: np.ndarray | None) -> float:
    """The response's root-mean-square deviation from its (weighted) mean."""
    w = np.ones(len(y)) if weights is None else weights
    centre = (w @ y) / w.sum()
    return float(np.sqrt((w @ (y - centre) ** 2) / w.sum()))


def minimize(model: ConditionalModel, start: np.ndarray | None = None, polish: bool = True) -> NumericalRegression:
    """Minimise the NLL with scipy.optimize from the neutral start (scaled coordinates). Smooth
    families use a trust region with the exact Hessian; laplace, whose NLL has a kink at every
    row, the trust region on the NLL with its kinks rounded off ever less, then (`polish`) Powell's
    derivative-free search on the exact NLL."""
    theta0 = model.neutral_start() if start is None else start
    scale = model.total_weight

    def mean_nll(theta):
        with np.errstate(over="ignore", invalid="ignore"):
            value = model.nll(theta) / scale
        return value if np.isfinite(value) else np.inf

    def trust_region(theta, smoothing=None):
        last = {}  # the Hessian at the point fun saw last: scipy asks for it there, once accepted

        def fun(theta):
            value, gradient, hessian = model.derivatives(theta, order=2, smoothing=smoothing, lazy=True)
            last.update(theta=np.array(theta), hessian=hessian)
            if not np.isfinite(value):
                return np.inf, np.zeros_like(theta)
            return value / scale, gradient / scale

        def hess(theta):
            if "theta" in last and np.array_equal(last["theta"], theta):
                hessian = last["hessian"]
                return (hessian() if callable(hessian) else hessian) / scale
            return model.derivatives(theta, order=2, smoothing=smoothing)[2] / scale

        found = optimize.minimize(fun, theta, jac=True, hess=hess, method="trust-exact",
                                  options={"gtol": GRADIENT_TOLERANCE, "maxiter": 500})
        if not found.success:
            # Near the optimum the NLL's changes fall below float64's resolution and the trust
            # region stops "failing to predict improvement". If a Newton step from there would
            # gain less than float64 can show (its decrement, summed row by row: cross-products
            # lose the last digits where the columns are nearly collinear), that is the optimum.
            value, gradient, hessian = model.derivatives(found.x, order=2, smoothing=smoothing, by_rows=True)
            try:
                decrement = 0.5 * gradient @ np.linalg.solve(hessian, gradient)
            except np.linalg.LinAlgError:
                decrement = np.inf
            if np.isfinite(decrement) and abs(decrement) <= STATIONARY * max(abs(value), 1.0):
                found.success = True
                found.message = (f"stationary: a Newton step would lower the NLL by {abs(decrement):.1e} "
                                 f"({found.message})")
        return found

    if model.family.smooth:
        found = trust_region(theta0)
        method = "scipy.optimize.minimize(method='trust-exact'), exact gradient and Hessian"
    else:
        # |y - mu| has a kink at every row: follow the minimum of the NLL with the kinks rounded
        # off at a width shrinking from a tenth of the response's spread to 1e-13 of it, then let
        # Powell's derivative-free search finish on the exact NLL.
        unit = model.response_spread or 1.0
        iterations, theta = 0, theta0
        for width in 10.0 ** -np.arange(1, 14):
            stage = trust_region(theta, smoothing=width * unit)
            iterations += int(stage.nit)
            theta = stage.x
        method = ("scipy.optimize.minimize(method='trust-exact') on the NLL with its kinks rounded off, "
                  "the rounding shrunk to 1e-13 of the spread")
        if polish:
            found = optimize.minimize(mean_nll, theta, method="Powell",
                                      options={"xtol": 1e-14, "ftol": 1e-16, "maxiter": 100_000, "maxfev": 100_000})
            if not found.fun <= mean_nll(theta):
                found.x, found.fun = theta, mean_nll(theta)
            method += ", then method='Powell' on the exact NLL"
        else:
            found = stage
        found.nit = iterations + (int(getattr(found, "nit", 0) or 0) if polish else 0)
    theta = np.asarray(found.x, dtype=float)
    return NumericalRegression(model.to_original(theta), model.nll(theta), method, int(getattr(found, "nit", 0) or 0),
                        bool(found.success), str(found.message))
