"""Regression on a file too big to hold: the rows are read again, chunk by chunk, on every pass.

A first pass learns the layout (which columns are categorical and all their levels, the
response's classes), so every chunk's design has the same columns. Then:

- least squares (normal, constant sigma): one pass merges the triangular factors of
  [sqrt(w) X D | sqrt(w) y] chunk by chunk (TSQR: R of [R1; R2] is R of the stacked rows), which
  is as accurate as one QR of the whole design; from R come the solution, the residual sum of
  squares, the rank and the cross-products the numerical optimiser minimises over, with no pass
  of its own. Passes of refinement with residuals in extended precision follow, as in memory,
  each with the residual sum of squares at its point;
- least absolute deviations (laplace): iteratively reweighted least squares (weights 1/|r|), a
  pass per step, from the least-squares fit; the linear program that solves it in memory needs
  every row at once;
- the other models: Newton's method with a pass over the file per step (IRLS: for these
  canonical links Newton and Fisher scoring are the same steps), each pass summing the NLL, its
  gradient and its Hessian at once; the last pass's sums certify the optimum and give the standard
  errors. No numerical search walks the file (it took a pass per evaluation: a logistic model read
  the data 27 times, now 9). Memory holds one chunk.

A last pass sums the deviance, the loss and the intercept-only model's NLL, with the raw product
of the first chunk's rows; only where that has not settled does one more pass follow it further.

The rules are the in-memory fit's: collinear columns are left out and named (read from the merged
factor, column by column), an exact fit is found. The search for separation is a linear program
over every row: here separation is only suspected (exit 3) where Newton's coefficients run away.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
from scipy import linalg

from ..data import iter_columns, label_of
from ..errors import DataError, UsageError
from ..families.conditional import Conditional
from ..families.on_disk import added
from ..underflow import feed, report, running_products
from .design import design_of
from .model import ConditionalModel, FactorSquares, Scaling, minimize
from .reference import EXTENDED, Reference, descent_step
from .result import RegressionResult
from .survey import ColumnTally, survey_layout, tally_file

# Cells of the used columns held in memory at most; a bigger file is fitted by passes.
IN_MEMORY_CELLS = 2 ** 25


class FileRows:
    """The chunks of a data set's designs (one file, or many on a cluster), read afresh on every
    pass. A pass is a fold: a function of each chunk's design, merged in file order. Here the files
    are read one after the other; a `runner` given (mlfit.distributed's) reads each on a worker,
    its parts merged in a tree."""

    def __init__(self, sources, formula, family, sigma, weights, options, wanted, layout=None, runner=None,
                 kept=None):
        self.sources = list(sources)
        self.formula, self.family = formula, family
        self.sigma, self.weights, self.options = sigma, weights, options
        self.wanted, self.layout = wanted, layout
        self.runner = runner
        self.kept = kept  # (columns of X, columns of Z) the fit keeps: the aliased ones left out
        self.passes = 0

    def column_chunks(self, source):
        """(the data rows before them, an iterator of the used columns' chunks) of a source: a file,
        or (path, read options naming a part of it)."""
        path, options = _split(source, self.options)
        return (0 if options.part is None else options.part.rows_before), iter_columns(path, self.wanted,
                                                                                      options=options)

    def tally(self) -> ColumnTally:
        """The first pass's counts of every file, merged."""
        return self.each_file(tally_file, ColumnTally.merge)

    def designs(self, source):
        """A source's designs, a chunk at a time."""
        path, _ = _split(source, self.options)
        start, chunks = self.column_chunks(source)
        for chunk in chunks:
            size = max(len(c.values) + c.dropped for c in chunk)
            design = design_of(_label(path), chunk, self.formula, self.family, sigma=self.sigma,
                               weights=self.weights, layout=self.layout, start=start)
            start += size
            if design.n:
                yield design if self.kept is None else _keeping(design, *self.kept)

    def each_file(self, per_file, merge):
        """per_file(rows, source) of every file, merged in file order (None: a file without a row)."""
        either = functools.partial(_either, merge)
        if self.runner is not None:
            return self.runner.each_file(self.plain(), per_file, either)
        return functools.reduce(either, (per_file(self, source) for source in self.sources))

    def fold(self, per_design, merge):
        self.passes += 1
        return self.each_file(functools.partial(fold_file, per_design=per_design, merge=merge), merge)

    def carry(self, state, step, done):
        """`state` carried through the chunks in file order by `step` until `done` (a pass that
        usually ends within the first chunk: the raw product's, the first design's)."""
        self.passes += 1
        if self.runner is not None:
            return self.runner.carry(self.plain(), state, step, done)
        for source in self.sources:
            state = carry_file(self, source, state, step, done)
        return state

    def plain(self) -> "FileRows":
        """These rows read in the process they are in (what a worker is sent)."""
        return FileRows(self.sources, self.formula, self.family, self.sigma, self.weights, self.options,
                        self.wanted, self.layout, kept=self.kept)

    @property
    def label(self):
        return label_of(list(dict.fromkeys(_label(_split(source, self.options)[0]) for source in self.sources)))


def _keeping(design, keep_x, keep_z):
    return replace(design, X=design.X[:, keep_x], terms=[design.terms[i] for i in keep_x],
                   Z=design.Z[:, keep_z], scale_terms=[design.scale_terms[i] for i in keep_z])


def _split(source, options):
    return (source, options) if isinstance(source, str) else source


def _label(source):
    return "<stdin>" if source == "-" else source


def _either(merge, a, b):
    return a if b is None else b if a is None else merge(a, b)


def fold_file(rows: FileRows, source, per_design, merge):
    """One file's part of a fold."""
    total = None
    for design in rows.designs(source):
        total = _either(merge, total, per_design(design))
    return total


def carry_file(rows: FileRows, source, state, step, done):
    """One file's part of a carry."""
    if done(state):
        return state
    for design in rows.designs(source):
        if done(state):
            break
        state = step(state, design)
    return state


class StreamedModel(ConditionalModel):
    """A ConditionalModel whose rows are read in chunks: its sums are taken over a pass."""

    def __init__(self, family, rows: FileRows, first, X_scalings, Z_scalings, total_weight, gram=None, unit=1.0):
        self.family, self.rows, self.design = family, rows, first
        self.predictors = family.predictors(first.classes)
        self.weights = first.weights
        self.offset = None
        self.scalings = [X_scalings if p.role == "mean" else Z_scalings if p.role == "scale" else Scaling(np.eye(1))
                         for p in self.predictors]
        self.sizes = [s.A.shape[0] for s in self.scalings]
        self.starts = np.cumsum([0, *self.sizes])
        self.total_weight = total_weight
        self.gram = gram
        self.unit = unit

    @property
    def chunk_model(self):
        """A chunk's design -> its rows as a model in the data set's coordinates (a function a
        worker is sent: it holds the family and the scalings, not these rows)."""
        return functools.partial(ConditionalModel, self.family, scalings=self.scalings)

    def chunk_models(self):
        for source in self.rows.sources:
            for design in self.rows.designs(source):
                yield self.chunk_model(design)

    def nll(self, theta, scaled=True):
        if self.gram is not None and scaled:
            return float(self.gram.derivatives(theta, 0)[0])
        chunk_model = self.chunk_model
        return float(self.rows.fold(lambda design: chunk_model(design).nll(theta, scaled), added))

    def derivatives(self, theta, order=2, scaled=True, smoothing=None, by_rows=False, lazy=False):
        if self.gram is not None and scaled and smoothing is None:
            # (an optimiser takes a matrix as well as a function; the factor's sums of squares are
            # as exact as the rows', which the in-memory cross-products are not)
            return self.gram.derivatives(theta, order)
        # The last pass's sums where they were last taken, asked for again (to the rounding of a
        # trip through the coefficients' units and back): Newton's final pass has the Hessian the
        # standard errors are taken from.
        theta = np.asarray(theta, dtype=float)
        last = getattr(self, "_last", None)
        if last is not None and last[1] == (scaled, smoothing) and last[2] >= order and \
                np.all(np.abs(last[0] - theta) <= 1e-13 * np.maximum(np.abs(theta), 1.0)):
            return last[3]
        chunk_model = self.chunk_model

        def of_chunk(design):
            value, gradient, hessian = chunk_model(design).derivatives(theta, order, scaled, smoothing, by_rows=True)
            return (value, gradient if order >= 1 else None, hessian if order >= 2 else None)

        found = self.rows.fold(of_chunk, added)
        self._last = (theta.copy(), (scaled, smoothing), order, found)
        return found

    def neutral_start(self):
        return self.to_scaled(self.neutral_coefficients(self.unit))

    def family_start(self):
        """The family's starting values from the file's first chunk (rough values are all a start
        needs; the rows of one chunk give them without another pass)."""
        if type(self.family).conditional_start is Conditional.conditional_start:
            return None
        if getattr(self, "_family_start", None) is None:  # (asked by each search's start: the chunk read once)
            first = next(iter(self.rows.designs(self.rows.sources[0])))
            w = np.ones(first.n) if first.weights is None else first.weights
            self._family_start = [s if np.isfinite(s) else 0.0 for s in self.family.conditional_start(first.y, w)]
        return self._family_start

    @property
    def response_spread(self) -> float:
        return self.unit


def _intercept_only(family, scalings, design):
    ones = np.ones((design.n, 1))
    return ConditionalModel(family, replace(design, X=ones, terms=["Intercept"], Z=ones, scale_terms=["Intercept"]),
                            scalings=scalings)


class InterceptOnly(StreamedModel):
    """The intercept-only model of the same rows, read by passes (its null NLL, for a family whose
    intercept-only fit has no closed form)."""

    @property
    def chunk_model(self):
        return functools.partial(_intercept_only, self.family, self.scalings)


def fit_streamed(family, source, formula, *, sigma, weights, options, wanted, level) -> RegressionResult:
    from .fit import check_model

    check_model(family, sigma)
    rows = FileRows([source], formula, family, sigma, weights, options, wanted)
    return fit_rows(family, rows, level=level)


def fit_rows(family, rows: FileRows, *, level) -> RegressionResult:
    """The fit by passes over `rows` (a file, or a data set of files on a cluster)."""
    from .fit import assemble, check_model, exactly_fitted

    check_model(family, rows.sigma)
    label, formula, sigma = rows.label, rows.formula, rows.sigma
    layout = rows.layout = survey_layout(rows)
    if not layout.rows:
        raise DataError(f"{label}: the columns of {formula!r} have no row without a missing cell; there is nothing "
                        "to fit", kind="empty")
    if layout.classes is not None and len(layout.classes) < 2:
        raise UsageError(f"{label}: the response has one class only ('{layout.classes[0]}'): there is nothing to "
                         "predict")
    first, D_x, D_z = rows.carry(None, _opening, lambda found: found is not None)
    totals = _first_pass(family, rows, D_x, D_z)
    aliased_x, aliased_z = _aliased(totals["R_x"], first.terms), _aliased(totals["R_z"], first.scale_terms)
    if aliased_x or aliased_z:  # left out, as in memory: the fit goes on with the columns of full rank
        rows.kept = ([i for i, t in enumerate(first.terms) if t not in aliased_x],
                     [i for i, t in enumerate(first.scale_terms) if t not in aliased_z])
        first, D_x, D_z = rows.carry(None, _opening, lambda found: found is not None)
        totals = _first_pass(family, rows, D_x, D_z)
    aliased = {**aliased_x, **{f"sigma: {k}": v for k, v in aliased_z.items()}}
    predictors = family.predictors(first.classes)
    identity = predictors[0].link == "identity"
    unit = totals["spread"] if identity and totals["spread"] > 0 else 1.0
    W = totals["weight"]
    scale_x = Scaling(D_x @ linalg.solve_triangular(totals["R_x"], np.eye(len(first.terms))) * math.sqrt(W) * unit)
    scale_z = Scaling(D_z @ linalg.solve_triangular(totals["R_z"], np.eye(len(first.scale_terms))) * math.sqrt(W))
    least_squares = family.solver == "least squares" and sigma is None
    gram = None
    if least_squares:
        gram = FactorSquares(totals["c"], totals["r"], math.sqrt(W) * unit, W)
    model = StreamedModel(family, rows, first, scale_x, scale_z, W, gram, totals["spread"])
    if least_squares:
        solved = _least_squares(model, totals, D_x)
    elif family.solver == "least squares":  # --sigma: Newton from the least-squares fit with a constant sigma
        start = np.zeros(model.size)
        p = len(first.terms)
        start[:p] = D_x @ linalg.solve_triangular(totals["R_x"], totals["c"])
        if "Intercept" in first.scale_terms and totals["r"] > 0:
            start[p + first.scale_terms.index("Intercept")] = math.log(totals["r"] / math.sqrt(W))
        solved = _newton(model, model.to_scaled(start), "Newton on the score equations, from the least-squares fit, "
                         "a pass over the data per step")
    elif family.solver == "least absolute deviations":
        solved = _least_absolute_deviations(model, totals, D_x)
    else:
        solved = _newton(model)
    exact = (least_squares or family.solver == "least absolute deviations") and \
        exactly_fitted(solved.coef[-1], totals["spread"], abs(totals["mean"]))
    # The numerical cross-check walks the data only where it costs no pass: least squares minimises
    # over the merged factor. Elsewhere Newton's last pass certifies its point (the next step is
    # below SETTLED), and a search would take a pass per evaluation (27 passes where Newton took 5);
    # laplace keeps its smoothed stages (the kinked NLL's last search, Powell's, is left out).
    numerical = None if exact or (family.smooth and not least_squares) else minimize(model, polish=family.smooth)
    coef = solved.coef
    summary = _last_pass(model, coef, totals)
    if family.intercept_only(totals) is None and family.smooth:  # no closed form: Newton passes (not on kinks)
        null = InterceptOnly(family, rows, replace(first, terms=["Intercept"], scale_terms=["Intercept"]),
                             Scaling(np.eye(1)), Scaling(np.eye(1)), W, unit=totals["spread"])
        summary["null_nll"] = _newton(null, method="").nll
    return assemble(family, model, solved, numerical, head=first, sigma_formula=sigma, level=level,
                    n_rows=layout.rows, dropped=layout.dropped, aliased=aliased, divergence=None, exact=exact,
                    rows={**summary, "null_size": len(predictors)}, passes=lambda: rows.passes,
                    predictions=lambda: _predictions(model, coef), source=label)


def _opening(_, design):
    """The first chunk's diagonal scalings, with its first row (the design's terms and classes):
    what every chunk's factor is computed in."""
    head = replace(design, y=design.y[:1], X=design.X[:1], Z=design.Z[:1], rows=design.rows[:1],
                   offset=None if design.offset is None else design.offset[:1],
                   weights=None if design.weights is None else design.weights[:1])
    return head, _diagonal(design.X), _diagonal(design.Z)


def _first_pass(family, rows: FileRows, D_x, D_z) -> dict:
    """The triangular factors of [sqrt(w) X D | sqrt(w) y] and of sqrt(w) Z D merged over every
    chunk (TSQR: R of [R1; R2] is R of the stacked rows), with the weight total, the response's
    mean and spread (merged in Chan's way), whether every weight is whole, and what the
    intercept-only model needs."""
    def of_chunk(design):
        w = np.ones(design.n) if design.weights is None else design.weights
        root = np.sqrt(w)
        identity = family.predictors(design.classes)[0].link == "identity"  # the offset is in y's units
        y = design.y - design.offset if design.offset is not None and identity else design.y
        numeric_y = y if design.classes is None else np.zeros(design.n)
        weight = float(w.sum())
        mean = float(w @ numeric_y / weight) if weight > 0 else 0.0
        return {"factor_x": _merge(None, np.column_stack([root[:, None] * (design.X @ D_x), root * numeric_y])),
                "factor_z": _merge(None, root[:, None] * (design.Z @ D_z)),
                "weight": weight, "mean": mean, "m2": float(w @ (numeric_y - mean) ** 2) if weight > 0 else 0.0,
                "whole": design.weights is None or bool(np.all(design.weights == np.round(design.weights))),
                "offset_total": 0.0 if design.offset is None else float(w @ np.exp(design.offset)),
                "class_weights": None if design.classes is None else
                np.bincount(design.y.astype(np.int64), weights=w, minlength=len(design.classes))}

    totals = rows.fold(of_chunk, _merged_totals)
    p = D_x.shape[0]
    factor_x, factor_z = _positive(totals["factor_x"]), _positive(totals["factor_z"])
    weight = totals["weight"]
    return {"R_x": factor_x[:p, :p], "c": factor_x[:p, p], "r": abs(float(factor_x[p, p])) if factor_x.shape[0] > p
            else 0.0, "R_z": factor_z, "weight": weight, "mean": totals["mean"],
            "spread": math.sqrt(totals["m2"] / weight) if weight > 0 else 0.0,
            "offset_total": totals["offset_total"] or None, "class_weights": totals["class_weights"],
            "whole": totals["whole"]}


def _merged_totals(a: dict, b: dict) -> dict:
    weight = a["weight"] + b["weight"]
    delta = b["mean"] - a["mean"]
    share = b["weight"] / weight if weight > 0 else 0.0
    return {"factor_x": _merge(a["factor_x"], b["factor_x"]), "factor_z": _merge(a["factor_z"], b["factor_z"]),
            "weight": weight, "mean": a["mean"] + delta * share,
            "m2": a["m2"] + b["m2"] + delta * delta * a["weight"] * share,
            "whole": a["whole"] and b["whole"], "offset_total": a["offset_total"] + b["offset_total"],
            "class_weights": added(a["class_weights"], b["class_weights"])}


def _positive(R):
    """R with each row's sign chosen to make its diagonal positive (R'R, and so the fit, unchanged):
    a constant column's factor is then the plain scale, and its coefficient keeps its sign."""
    signs = np.sign(np.diag(R))
    signs[signs == 0] = 1.0
    return R * np.append(signs, np.ones(R.shape[0] - len(signs)))[:, None] if R.shape[0] else R


def _diagonal(X):
    spread = np.sqrt(np.mean(X * X, axis=0)) if len(X) else np.ones(X.shape[1])
    spread[~(spread > 0)] = 1.0
    return np.diag(1.0 / spread)


def _merge(running, block):
    stacked = block if running is None else np.vstack([running, block])
    return linalg.qr(stacked, mode="r", check_finite=False)[0][: min(stacked.shape)]


def _aliased(R, names):
    """{column: the earlier columns it is a combination of}, read from the merged factor R (X = QR):
    a column whose part orthogonal to the columns before it (|R_jj|) is lost in rounding is a
    combination of them, as the in-memory check names the later of two collinear columns."""
    p = len(names)
    if R.shape[0] < p:  # fewer rows than columns: the last ones have nothing left to be fitted on
        R = np.vstack([R, np.zeros((p - R.shape[0], p))])
    norms = np.linalg.norm(R, axis=0)
    tolerance = max(p, 1) * np.finfo(float).eps * 64
    kept, aliased = [], {}
    for j in range(p):
        if norms[j] == 0 or abs(R[j, j]) <= tolerance * norms[j]:
            combination = np.linalg.lstsq(R[:, kept], R[:, j], rcond=None)[0] if kept else np.zeros(0)
            big = np.abs(combination) > 1e-8 * max(np.abs(combination).max(initial=0.0), 1e-300)
            aliased[names[j]] = [names[kept[i]] for i in np.flatnonzero(big)]
        else:
            kept.append(j)
    return aliased


def _least_squares(model: StreamedModel, totals, D) -> Reference:
    """The solution from the merged factor, refined with residuals in extended precision, a pass
    per refinement."""
    R, c = totals["R_x"], totals["c"]
    p = R.shape[0]
    beta = D @ linalg.solve_triangular(R, c)
    for _ in range(4):  # (the residual sum of squares at beta comes with each refinement's pass)
        gradient, squares = model.rows.fold(functools.partial(_residual_sums, beta=beta), added)
        rss = float(squares)
        step = D @ linalg.solve_triangular(R, linalg.solve_triangular(R, D.T @ gradient.astype(float), trans="T"))
        if np.all(np.abs(step) <= np.finfo(float).eps * np.abs(beta)):
            break  # (a step this small leaves beta, and so its sum of squares, as they are)
        beta = beta + step
    else:
        rss = float(model.rows.fold(functools.partial(_residual_squares, beta=beta), added))
    G = D @ linalg.solve_triangular(R, np.eye(p))
    sigma = math.sqrt(rss / model.total_weight)
    coef = np.append(beta, math.log(sigma) if sigma > 0 else -math.inf)
    nll = model.nll(model.to_scaled(coef)) if sigma > 0 else -math.inf  # (from the merged factor: no pass)
    return Reference(coef, nll, "least squares: the QR factors of the chunks merged (TSQR), refined with residuals "
                     "in extended precision, a pass over the data each", True, 1, G @ G.T, rss)


LAD_MOST = 500  # passes of reweighting at most


def _least_absolute_deviations(model: StreamedModel, totals, D) -> Reference:
    """Least absolute deviations by iteratively reweighted least squares (each row weighted by
    1/|r|, Schlossmacher's method), from the least-squares fit, a pass over the file per step; the
    linear program that solves it in memory needs every row at once."""
    R, c = totals["R_x"], totals["c"]
    beta = D @ linalg.solve_triangular(R, c)
    floor = 1e-13 * (totals["spread"] or 1.0)  # |r| below this weighs as this: a row the fit passes through
    previous, converged, iterations = np.inf, False, 0
    for iterations in range(1, LAD_MOST + 1):
        gram, moment, absolute = model.rows.fold(functools.partial(_reweighted, beta=beta, D=D, floor=floor), added)
        if absolute >= previous * (1 - 1e-15):
            converged = True
            break
        previous = absolute
        beta = D @ np.linalg.lstsq(gram, moment, rcond=None)[0]
    b = previous / model.total_weight
    coef = np.append(beta, math.log(b) if b > 0 else -math.inf)
    nll = model.nll(model.to_scaled(coef)) if b > 0 else -math.inf
    return Reference(coef, nll, "least absolute deviations by iteratively reweighted least squares (weights 1/|r|), "
                     "a pass over the file per step", converged, iterations)


def _reweighted(design, beta, D, floor):
    """A chunk's weighted cross-products with weights w/|r| at `beta`, and its sum of w|r|."""
    w = np.ones(design.n) if design.weights is None else design.weights
    y = design.y if design.offset is None else design.y - design.offset
    XD = design.X @ D
    absolute = np.abs(y - design.X @ beta)
    weight = w / np.maximum(absolute, floor)
    weighted = weight[:, None] * XD
    return XD.T @ weighted, weighted.T @ y, float(w @ absolute)


def _residuals(design, beta):
    w = np.ones(design.n) if design.weights is None else design.weights
    y = design.y if design.offset is None else design.y - design.offset
    return w.astype(EXTENDED), y.astype(EXTENDED) - design.X.astype(EXTENDED) @ beta.astype(EXTENDED)


def _residual_gradient(design, beta):
    w, residual = _residuals(design, beta)
    return design.X.astype(EXTENDED).T @ (w * residual)


def _residual_sums(design, beta):
    w, residual = _residuals(design, beta)
    return design.X.astype(EXTENDED).T @ (w * residual), w @ (residual * residual)


def _residual_squares(design, beta):
    w, residual = _residuals(design, beta)
    return w @ (residual * residual)


NEWTON_MOST = 100  # Newton steps over the data at most
# A step this small beside its coordinates (scaled) moves nothing the result shows: the point the
# step starts from is the optimum, and the pass that found the step has its Hessian for the errors.
SETTLED = 1e-14


def _newton(model: StreamedModel, start=None, method: str | None = None) -> Reference:
    """Newton's method from the neutral start, one pass over the data per step: each pass sums the
    NLL, its gradient and its Hessian at once, so the NLL that accepts a step (or halves one that
    overshoots) comes with the next step. For the logit, log and softmax links these are the IRLS
    steps. Converged where the next step is below SETTLED of the coefficients (or, at float64's
    floor, gains nothing)."""
    method = method or "Newton on the score equations (IRLS for these links), a pass over the data per step"
    theta = model.neutral_start() if start is None else start
    value, gradient, hessian = model.derivatives(theta, order=2)
    converged, iterations = False, 0
    for iterations in range(1, NEWTON_MOST + 1):
        step = descent_step(hessian, gradient)
        if np.all(np.abs(step) <= SETTLED * np.maximum(np.abs(theta), 1.0)):
            converged = True
            decrement = float(np.sqrt(max(float(gradient @ step), 0.0)))
            method += (f"; the last pass's gradient and Hessian certify the optimum (the next step below 1e-14 of "
                       f"the coefficients, Newton decrement {decrement:.1e}), where a numerical search would read the "
                       "data once per evaluation")
            break
        candidate = theta - step
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(60):
                found = model.derivatives(candidate, order=2)
                if np.isfinite(found[0]) and found[0] <= value + 1e-12 * abs(value):
                    break
                candidate = theta + 0.5 * (candidate - theta)
            else:
                break
        moved, gain = float(np.max(np.abs(candidate - theta), initial=0.0)), value - found[0]
        theta, (value, gradient, hessian) = candidate, found
        if gain <= 1e-15 * (abs(value) + 1.0) and moved <= 1e-10:  # float64's floor: steps gain nothing
            converged = True
            break
    return Reference(model.to_original(theta), float(value), method, converged, iterations)


EXTREME = 30.0  # a fitted logit (or log rate) this far out: probabilities within 1e-13 of 0 or 1


def _last_pass(model: StreamedModel, coef, totals) -> dict:
    """At the estimate: the deviance and loss sums and the intercept-only model's NLL over a pass,
    and the raw product's underflow, multiplied in file order until it settles."""
    family = model.family
    theta = model.to_scaled(coef)
    null_etas = family.intercept_only(totals)
    chunk_model, predictors = model.chunk_model, model.predictors  # (what a worker is sent: not the model)

    def of_chunk(design):
        etas = chunk_model(design).etas(theta)
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            rows = family.conditional_nll(design.y, etas)[0]
        w = np.ones(design.n) if design.weights is None else design.weights
        null_nll = math.nan
        if null_etas is not None:  # the offset, as every model's, adds to the mean's predictor
            offset = np.zeros(design.n) if design.offset is None else design.offset
            null_chunk = np.column_stack([np.full(design.n, value) + (offset if p.role == "mean" else 0.0)
                                          for value, p in zip(null_etas, predictors)])
            null_nll = float(w @ family.conditional_nll(design.y, null_chunk)[0])
        first_products = running_products()  # (kept of the first chunk: the product from row 1)
        feed(first_products, -rows, design.weights, written_out=totals["whole"])
        return {"first_etas": etas[:1], "first_products": first_products, "nll": float(w @ rows),
                "deviance": family.conditional_deviance(design.y, etas, w, w @ rows),
                "loss": family.loss_sums(design.y, etas, w),
                "null_nll": null_nll,
                "runaway": int(np.sum(np.abs(etas) > EXTREME)) if family.separation is not None else 0}

    firsts = ("first_etas", "first_products")

    def merged(a, b):
        return {**added({k: v for k, v in a.items() if k not in firsts},
                        {k: v for k, v in b.items() if k not in firsts}), **{k: a[k] for k in firsts}}

    def multiplied(products, design):
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            rows = family.conditional_nll(design.y, chunk_model(design).etas(theta))[0]
        feed(products, -rows, design.weights, written_out=totals["whole"])
        return products

    sums = model.rows.fold(of_chunk, merged)
    products = sums["first_products"]
    if not all(product.settled for product in products.values()):  # past the first chunk: in file order
        products = model.rows.carry(running_products(), multiplied,
                                    lambda products: all(product.settled for product in products.values()))
    return {"underflow": report(products, sums["nll"], _count(model.total_weight), model.weights is not None),
            **{key: sums[key] for key in ("deviance", "loss", "first_etas", "null_nll", "runaway")}}


def _count(n):
    return int(n) if float(n).is_integer() else n


def _predictions(model: StreamedModel, coef):
    theta = model.to_scaled(coef)
    for chunk in model.chunk_models():
        yield chunk.design.rows, chunk.family.conditional_params(chunk.etas(theta))
