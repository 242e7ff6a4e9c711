"""Regression on a file too big to hold: the rows are read again, chunk by chunk, on every pass.

A first pass learns the layout (which columns are categorical and all their levels, the
response's classes), so every chunk's design has the same columns. Then:

- least squares (normal, constant sigma): one pass merges the triangular factors of
  [sqrt(w) X D | sqrt(w) y] chunk by chunk (TSQR: R of [R1; R2] is R of the stacked rows), which
  is as accurate as one QR of the whole design; from R come the solution, the residual sum of
  squares, the rank and the cross-products the numerical optimiser minimises over, with no pass
  of its own. Passes of refinement with residuals in extended precision follow, as in memory;
- the other models: Newton's method with a pass over the file per step (IRLS: for these
  canonical links Newton and Fisher scoring are the same steps), and the numerical optimiser's
  NLL, gradient and Hessian summed over a pass per evaluation. Memory holds one chunk.

Linear programming (laplace, and the search for separation) needs the rows in memory: laplace
is refused beyond the limit, and separation is only suspected (exit 3) where Newton's
coefficients run away.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import linalg, special

from ..data import iter_columns, text_cells
from ..errors import DataError, UsageError
from ..underflow import feed, report, running_products
from .design import (MAX_COEFFICIENTS, Layout, complete_rows, design_of, response_classes, scale_terms, split_formula,
                     used_columns)
from .model import ConditionalModel, FactorSquares, Scaling, minimize
from .reference import EXTENDED, Reference, newton
from .result import RegressionResult

# Cells of the used columns held in memory at most; a bigger file is fitted by passes.
IN_MEMORY_CELLS = 2 ** 25


class FileRows:
    """The chunks of a file's design, read afresh on every pass."""

    def __init__(self, source, formula, family, sigma, weights, options, wanted, layout):
        self.source, self.formula, self.family = source, formula, family
        self.sigma, self.weights, self.options = sigma, weights, options
        self.wanted, self.layout = wanted, layout
        self.passes = 0

    def designs(self):
        self.passes += 1
        start = 0
        for chunk in iter_columns(self.source, self.wanted, options=self.options):
            size = max(len(c.values) + c.dropped for c in chunk)
            design = design_of(self._label, chunk, self.formula, self.family, sigma=self.sigma, weights=self.weights,
                               layout=self.layout, start=start)
            start += size
            if design.n:
                yield design

    @property
    def _label(self):
        return "<stdin>" if self.source == "-" else self.source


def survey(source, formula, family, sigma, weights, options, wanted) -> Layout:
    """The first pass: each used column's kind (numbers, or categories with their levels), the
    response's classes, and the rows used and left out."""
    response, terms = split_formula(formula)
    sigma_terms = scale_terms(sigma)
    term_columns = set(used_columns([terms, sigma_terms], wanted))
    inside_c = set(_inside_c([terms, sigma_terms], wanted))
    needed = {*used_columns([response, terms, sigma_terms], wanted), weights}
    numeric_cells = dict.fromkeys(wanted, 0)
    other_cells = dict.fromkeys(wanted, 0)
    texts = {name: set() for name in wanted}
    numbers = {name: set() for name in inside_c}
    classes, used, spanned, start = set(), 0, 0, 0
    for chunk in iter_columns(source, wanted, options=options):
        rows, size = complete_rows(chunk, needed, start)
        start += size
        spanned += size
        used += len(rows)
        for column in chunk:
            at = np.searchsorted(column.rows, rows)
            values = column.values[at] if len(column.rows) != len(rows) else column.values
            if values.dtype.kind in "biuf":
                numeric_cells[column.name] += len(values)
                parsed = values.astype(float)
            else:
                parsed = pd.to_numeric(text_cells(values, column.decimal), errors="coerce").to_numpy(dtype=float)
                numeric_cells[column.name] += int(np.sum(~np.isnan(parsed)))
                other_cells[column.name] += int(np.sum(np.isnan(parsed)))
                if column.name in term_columns and len(texts[column.name]) <= MAX_COEFFICIENTS:
                    texts[column.name].update(str(v) for v in values[np.isnan(parsed)])
                    texts[column.name].update(str(v) for v in values[~np.isnan(parsed)])
            if column.name in numbers and len(numbers[column.name]) <= MAX_COEFFICIENTS:
                numbers[column.name].update(parsed[~np.isnan(parsed)].tolist())
            if column.name == _name(response) and not family.support.numeric and len(classes) <= MAX_COEFFICIENTS + 1:
                classes.update(response_classes(values))
    categorical = {}
    for name in term_columns:
        if other_cells[name] * 2 >= other_cells[name] + numeric_cells[name] and other_cells[name]:
            levels = texts[name]
            if len(levels) > MAX_COEFFICIENTS:
                raise UsageError(f"{source}: column '{name}' has more than {MAX_COEFFICIENTS:,} distinct values: as a "
                                 f"categorical term it would make more than the {MAX_COEFFICIENTS:,} coefficients "
                                 "regress fits")
            categorical[name] = sorted(levels)
        elif name in numbers:
            categorical[name] = sorted(numbers[name])
    ordered = None
    if not family.support.numeric:
        ordered = response_classes(list(classes))
    return Layout(categorical, ordered, used, spanned - used)


def _name(response: str) -> str:
    return response[1:-1] if response.startswith("`") and response.endswith("`") else response


def _inside_c(texts, names):
    import re

    found = []
    for name in names:
        plain = re.escape(name)
        if any(re.search(rf"C\(\s*(`{plain}`|{plain})\s*[,)]", text) for text in texts):
            found.append(name)
    return found


class StreamedModel(ConditionalModel):
    """A ConditionalModel whose rows are read in chunks: its sums are taken over a pass."""

    def __init__(self, family, rows: FileRows, first, X_scalings, Z_scalings, total_weight, gram=None, unit=1.0):
        self.family, self.rows, self.design = family, rows, first
        self.predictors = family.predictors(first.classes)
        self.weights = first.weights
        self.offset = None
        self.scalings = [X_scalings if p.role == "mean" else Z_scalings for p in self.predictors]
        self.sizes = [s.A.shape[0] for s in self.scalings]
        self.starts = np.cumsum([0, *self.sizes])
        self.total_weight = total_weight
        self.gram = gram
        self.unit = unit

    def chunk_models(self):
        """Each chunk's rows as a model in the file's coordinates."""
        for design in self.rows.designs():
            yield ConditionalModel(self.family, design, scalings=self.scalings)

    def nll(self, theta, scaled=True):
        return float(sum(m.nll(theta, scaled) for m in self.chunk_models()))

    def derivatives(self, theta, order=2, scaled=True, smoothing=None, by_rows=False, lazy=False):
        if self.gram is not None and scaled and smoothing is None and not by_rows:
            return self.gram.derivatives(theta, order)  # (an optimiser takes a matrix as well as a function)
        total, gradient, hessian = 0.0, np.zeros(self.size), np.zeros((self.size, self.size)) if order >= 2 else None
        for model in self.chunk_models():
            value, g, H = model.derivatives(theta, order, scaled, smoothing, by_rows=True)
            total += value
            if order >= 1:
                gradient += g
            if order >= 2:
                hessian += H
        return total, (gradient if order >= 1 else None), hessian

    def neutral_start(self):
        return self.to_scaled(self.neutral_coefficients(self.unit))


def fit_streamed(family, source, formula, *, sigma, weights, options, wanted, level) -> RegressionResult:
    from . import fit as single

    label = "<stdin>" if source == "-" else source
    if family.name == "laplace":
        raise DataError(f"{label}: laplace regression solves a linear program over every row, which needs them in "
                        f"memory: at most {IN_MEMORY_CELLS:,} cells of the used columns")
    layout = survey(source, formula, family, sigma, weights, options, wanted)
    if not layout.rows:
        raise DataError(f"{label}: the columns of {formula!r} have no row without a missing cell; there is nothing "
                        "to fit", kind="empty")
    if layout.classes is not None and len(layout.classes) < 2:
        raise UsageError(f"{label}: the response has one class only ('{layout.classes[0]}'): there is nothing to "
                         "predict")
    rows = FileRows(source, formula, family, sigma, weights, options, wanted, layout)
    first = next(iter(rows.designs()))
    totals = _first_pass(family, rows)
    aliased = {**_aliased(totals["R_x"], first.terms), **{f"sigma: {k}": v for k, v in
                                                          _aliased(totals["R_z"], first.scale_terms).items()}}
    if aliased:
        raise DataError(f"{label}: collinear columns ({', '.join(aliased)}); a file this big is fitted by passes, "
                        "which need columns of full rank: leave them out of the formula")
    predictors = family.predictors(first.classes)
    identity = predictors[0].link == "identity"
    unit = totals["spread"] if identity and totals["spread"] > 0 else 1.0
    W = totals["weight"]
    scale_x = Scaling(totals["D_x"] @ linalg.solve_triangular(totals["R_x"], np.eye(len(first.terms))) * math.sqrt(W)
                      * unit)
    scale_z = Scaling(totals["D_z"] @ linalg.solve_triangular(totals["R_z"], np.eye(len(first.scale_terms)))
                      * math.sqrt(W))
    least_squares = family.name == "normal" and sigma is None
    gram = None
    if least_squares:
        gram = FactorSquares(totals["c"], totals["r"], math.sqrt(W) * unit, W)
    model = StreamedModel(family, rows, first, scale_x, scale_z, W, gram, totals["spread"])
    if least_squares:
        solved = _least_squares(model, totals)
    elif family.name == "normal":  # --sigma: Newton from the least-squares fit with a constant sigma
        start = np.zeros(model.size)
        p = len(first.terms)
        start[:p] = totals["D_x"] @ linalg.solve_triangular(totals["R_x"], totals["c"])
        if "Intercept" in first.scale_terms and totals["r"] > 0:
            start[p + first.scale_terms.index("Intercept")] = math.log(totals["r"] / math.sqrt(W))
        solved = _newton(model, model.to_scaled(start), "Newton on the score equations, from the least-squares fit, "
                         "a pass over the file per step")
    else:
        solved = _newton(model)
    numerical = minimize(model)
    coef = np.array(solved.coef, dtype=float)
    covariance = single._covariance(model, coef, solved)
    se_ols = None
    if solved.unscaled_covariance is not None:
        residual_variance = solved.residual_sum_of_squares / max(W - len(first.terms), 1.0)
        se_ols = np.append(np.sqrt(np.diag(solved.unscaled_covariance) * residual_variance), np.nan)
    agreement = single._agreement(numerical, solved, covariance)
    summary = _last_pass(model, coef, totals)
    loss = single.loss_report(family, summary["loss"], summary["first_etas"], solved.nll, sigma is not None)
    names = [first.terms if p.role == "mean" else first.scale_terms for p in predictors]
    return RegressionResult(
        family=family, source=label, formula=formula, sigma_formula=sigma, n=W, rows=layout.rows,
        dropped=layout.dropped, predictors=predictors, names=names, classes=first.classes, coef=coef,
        covariance=covariance, se_ols=se_ols, level=level, nll=solved.nll, null_nll=summary["null_nll"],
        null_size=len(predictors), reference=solved, numerical=numerical, agreement=agreement, loss=loss,
        deviance=summary["deviance"], deviance_definition=single.DEVIANCE[family.name],
        underflow=summary["underflow"], aliased={}, divergence=None, exact_fit=False,
        fitted={}, data_rows=None, model=model, residual_sum_of_squares=solved.residual_sum_of_squares,
        passes=rows.passes, runaway=summary["runaway"],
        predictions=lambda: _predictions(model, coef))


def _first_pass(family, rows: FileRows) -> dict:
    """Diagonal scalings from the first chunk, then the triangular factors of [sqrt(w) X D | sqrt(w) y]
    and of sqrt(w) Z D merged over every chunk, with the weight total, the response's mean and
    spread (merged in Chan's way) and what the intercept-only model needs."""
    factor_x = factor_z = None
    D_x = D_z = None
    weight = mean = m2 = 0.0
    offset_total = 0.0  # sum of w * exp(offset), for the poisson intercept-only model
    class_weights = None
    for design in rows.designs():
        w = np.ones(design.n) if design.weights is None else design.weights
        if D_x is None:
            D_x, D_z = _diagonal(design.X), _diagonal(design.Z)
        root = np.sqrt(w)
        y = design.y if design.offset is None or family.name != "normal" else design.y - design.offset
        numeric_y = y if design.classes is None else np.zeros(design.n)
        block_x = np.column_stack([root[:, None] * (design.X @ D_x), root * numeric_y])
        factor_x = _merge(factor_x, block_x)
        factor_z = _merge(factor_z, root[:, None] * (design.Z @ D_z))
        chunk_weight = float(w.sum())
        if chunk_weight > 0:
            chunk_mean = float(w @ numeric_y / chunk_weight)
            chunk_m2 = float(w @ (numeric_y - chunk_mean) ** 2)
            total = weight + chunk_weight
            delta = chunk_mean - mean
            mean += delta * chunk_weight / total
            m2 += chunk_m2 + delta * delta * weight * chunk_weight / total
            weight = total
        if design.offset is not None:
            offset_total += float(w @ np.exp(design.offset))
        if design.classes is not None:
            counts = np.bincount(design.y, weights=w, minlength=len(design.classes))
            class_weights = counts if class_weights is None else class_weights + counts
    p = D_x.shape[0]
    factor_x, factor_z = _positive(factor_x), _positive(factor_z)
    return {"R_x": factor_x[:p, :p], "c": factor_x[:p, p], "r": abs(float(factor_x[p, p])) if factor_x.shape[0] > p
            else 0.0, "R_z": factor_z, "D_x": D_x, "D_z": D_z, "weight": weight, "mean": mean,
            "spread": math.sqrt(m2 / weight) if weight > 0 else 0.0, "offset_total": offset_total or None,
            "class_weights": class_weights}


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
    from .existence import aliased_columns

    if R.shape[0] < R.shape[1]:
        return {names[j]: [] for j in range(R.shape[0], R.shape[1])}
    return aliased_columns(R, None, names, centred=False)


def _least_squares(model: StreamedModel, totals) -> Reference:
    """The solution from the merged factor, refined with residuals in extended precision, a pass
    per refinement."""
    R, c, D = totals["R_x"], totals["c"], totals["D_x"]
    p = R.shape[0]
    beta = D @ linalg.solve_triangular(R, c)
    for _ in range(4):
        gradient = np.zeros(p, dtype=EXTENDED)
        for design in model.rows.designs():
            w = np.ones(design.n) if design.weights is None else design.weights
            y = design.y if design.offset is None else design.y - design.offset
            residual = y.astype(EXTENDED) - design.X.astype(EXTENDED) @ beta.astype(EXTENDED)
            gradient += design.X.astype(EXTENDED).T @ (w.astype(EXTENDED) * residual)
        step = D @ linalg.solve_triangular(R, linalg.solve_triangular(R, D.T @ gradient.astype(float), trans="T"))
        beta = beta + step
        if np.all(np.abs(step) <= np.finfo(float).eps * np.abs(beta)):
            break
    rss = 0.0
    for design in model.rows.designs():
        w = np.ones(design.n) if design.weights is None else design.weights
        y = design.y if design.offset is None else design.y - design.offset
        residual = y.astype(EXTENDED) - design.X.astype(EXTENDED) @ beta.astype(EXTENDED)
        rss += float(w.astype(EXTENDED) @ (residual * residual))
    G = D @ linalg.solve_triangular(R, np.eye(p))
    sigma = math.sqrt(rss / model.total_weight)
    coef = np.append(beta, math.log(sigma) if sigma > 0 else -math.inf)
    nll = model.nll(model.to_scaled(coef)) if sigma > 0 else -math.inf
    return Reference(coef, nll, "least squares: the QR factors of the chunks merged (TSQR), refined with residuals "
                     "in extended precision, a pass over the file each", True, 1, G @ G.T, rss)


def _newton(model: StreamedModel, start=None, method: str | None = None) -> Reference:
    """Newton's method from the neutral start, a pass per step (and per halving of a step that
    overshoots): for the logit, log and softmax links these are the IRLS steps."""
    return newton(model, model.neutral_start() if start is None else start,
                  lambda theta: model.derivatives(theta, order=2)[1:],
                  method or "Newton on the score equations (IRLS for these links), a pass over the file per step",
                  most=100)


EXTREME = 30.0  # a fitted logit (or log rate) this far out: probabilities within 1e-13 of 0 or 1


def _last_pass(model: StreamedModel, coef, totals) -> dict:
    """At the estimate, in file order: the raw product's underflow, the deviance and loss sums,
    and the intercept-only model's NLL."""
    from . import fit as single

    family = model.family
    theta = model.to_scaled(coef)
    products = running_products()
    written_out = None
    sums, deviance, nll, null_nll, runaway = {}, 0.0, 0.0, 0.0, 0
    first_etas = None
    null_etas = _null(family, totals)
    for chunk in model.chunk_models():
        design = chunk.design
        etas = chunk.etas(theta)
        if first_etas is None:
            first_etas = etas[:1]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            rows = family.conditional_nll(design.y, etas)[0]
        if written_out is None:
            written_out = design.weights is None or bool(np.all(design.weights == np.round(design.weights)))
        feed(products, -rows, design.weights, written_out=written_out)
        w = np.ones(design.n) if design.weights is None else design.weights
        nll += float(w @ rows)
        deviance += single.deviance_sum(family, design, etas, w @ rows)
        for key, value in single.loss_sums(family, design, etas).items():
            sums[key] = sums.get(key, 0.0) + value
        offset = np.zeros(design.n) if design.offset is None else design.offset
        null_chunk = np.column_stack([np.full(design.n, value) + (offset if k == 0 and family.name == "poisson" else 0)
                                      for k, value in enumerate(null_etas)])
        null_nll += float(w @ family.conditional_nll(design.y, null_chunk)[0])
        if family.name != "normal":
            runaway += int(np.sum(np.abs(etas) > EXTREME))
    return {"underflow": report(products, nll, _count(model.total_weight), model.weights is not None),
            "deviance": deviance, "loss": sums, "first_etas": first_etas, "null_nll": null_nll,
            "runaway": runaway}


def _count(n):
    return int(n) if float(n).is_integer() else n


def _null(family, totals):
    """The intercept-only model's linear predictors, in closed form."""
    weight, mean = totals["weight"], totals["mean"]
    if family.name == "normal":
        return [mean, math.log(totals["spread"]) if totals["spread"] > 0 else 0.0]
    if family.name == "bernoulli":
        return [special.logit(mean)]
    if family.name == "poisson":
        if totals["offset_total"] is not None:
            return [math.log(mean * weight / totals["offset_total"]) if mean > 0 else -math.inf]
        return [math.log(mean) if mean > 0 else -math.inf]
    shares = totals["class_weights"] / weight
    with np.errstate(divide="ignore"):
        return list(np.log(shares[1:]) - np.log(shares[0]))


def _predictions(model: StreamedModel, coef):
    theta = model.to_scaled(coef)
    for chunk in model.chunk_models():
        yield chunk.design.rows, chunk.family.conditional_params(chunk.etas(theta))
