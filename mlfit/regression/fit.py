"""One way from a design to a RegressionResult: check the MLE exists, solve by the reference
method, minimise the NLL numerically from a neutral start, compare, infer, and report the loss
the NLL is and what the raw product of the rows' likelihoods would do."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from ..errors import UsageError
from ..families import get_family, regression_families
from ..families.conditional import regresses
from ..underflow import underflow_report
from .design import Design
from .existence import aliased_columns, divergence, runaway
from .model import ConditionalModel, minimize
from .reference import reference
from .result import NLL_TOLERANCE, SE_TOLERANCE, Agreement, RegressionResult

# Divergence is looked for by linear programming on every design up to this many rows, and on
# bigger ones only where the fit shows its signs (probabilities within 1e-7 of 0 or 1).
ALWAYS_CHECK_ROWS = 5_000  # (the LP takes 0.5-3 s at 5,000 rows, 6-12 s at 20,000)
EXTREME_LOGIT = 16.0


def check_model(family, sigma_formula: str | None) -> None:
    """The families regress fits (those with a conditional part), and --sigma only with one whose
    scale takes a formula."""
    if not regresses(family):
        why = getattr(family, "not_conditional", None)
        raise UsageError(f"regress has no {family.name} model: {why}" if why else
                         f"regress fits {', '.join(regression_families())} models, not {family.name}")
    if sigma_formula is not None and not family.scale_formula:
        takes = [name for name in regression_families() if get_family(name, 1).scale_formula]
        why = getattr(family, "no_scale_formula", None) or f"{family.name} has none to model"
        raise UsageError(f"--sigma models the log of a family's scale or shape ({', '.join(takes)}); {why}")


def fit_design(family, design: Design, *, level: float = 0.95, sigma_formula: str | None = None,
               se: str = "model") -> RegressionResult:
    check_model(family, sigma_formula)
    family = family.on_rows(design.extra)
    if design.classes is not None and len(design.classes) < 2:
        raise UsageError(f"{design.source}: the response '{design.response}' has one class only "
                         f"('{design.classes[0]}'): there is nothing to predict")
    aliased = aliased_columns(design.X, design.weights, design.terms)
    scale_aliased = aliased_columns(design.Z, design.weights, design.scale_terms)
    keep = [i for i, t in enumerate(design.terms) if t not in aliased]
    keep_scale = [i for i, t in enumerate(design.scale_terms) if t not in scale_aliased]
    design = replace(design, X=design.X[:, keep], terms=[design.terms[i] for i in keep],
                     Z=design.Z[:, keep_scale], scale_terms=[design.scale_terms[i] for i in keep_scale])
    aliased = {**aliased, **{f"sigma: {k}": v for k, v in scale_aliased.items()}}
    model = ConditionalModel(family, design)
    solved = reference(model)
    found = _divergence(model, solved)
    exact = _exact_fit(model, solved)
    numerical = None if exact or found is not None else minimize(model)
    null = _null_model(family, design)
    # (where the MLE does not exist: the reference method's last point, for the loss and the underflow)
    etas = model.etas(model.to_scaled(solved.coef))
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        row_nll = family.conditional_nll(design.y, etas)[0]
    w = _weights(design)
    rows = {"null_nll": null.nll, "null_size": null.size, "loss": family.loss_sums(design.y, etas, w),
            "first_etas": etas[:1], "deviance": family.conditional_deviance(design.y, etas, w, solved.nll),
            "underflow": None if not np.isfinite(solved.nll) else
            underflow_report(-row_nll, solved.nll, design.weights),
            "runaway": 0}
    return assemble(family, model, solved, numerical, head=design, sigma_formula=sigma_formula, level=level,
                    n_rows=design.n, dropped=design.dropped, aliased=aliased, divergence=found, exact=exact,
                    rows=rows, fitted=family.conditional_params(etas), data_rows=design.rows, robust=se == "robust")


def assemble(family, model, solved, numerical, *, head: Design, sigma_formula, level, n_rows, dropped, aliased,
             divergence, exact, rows: dict, fitted=None, data_rows=None, passes=0, predictions=None,
             source: str | None = None, robust: bool = False):
    """The RegressionResult, built here for rows in memory and rows read by passes alike: the
    estimates and their inference, the agreement of the two solutions, and the sums over the rows
    (`rows`: the null model's NLL and size, the loss sums and a row's predictors, the deviance, the
    underflow report, the rows whose fit runs away). `source`: the data set's label, where the
    rows are more than the first design's file. `passes`: how many passes over the file were
    made, asked once the inference here has made its own (the observed information is one)."""
    coef, covariance, se_ols = coefficient_inference(model, solved, divergence, exact)
    agreement = None if numerical is None else _agreement(numerical, solved, covariance)
    model_covariance = None
    if robust:
        model_covariance, covariance = covariance, sandwich(model, coef, covariance)
    predictors = family.predictors(head.classes)
    return RegressionResult(
        family=family, source=source or head.source, formula=head.formula, sigma_formula=sigma_formula,
        n=model.total_weight, rows=n_rows, dropped=dropped, predictors=predictors,
        names=[head.terms if p.role == "mean" else head.scale_terms if p.role == "scale" else ["Intercept"]
               for p in predictors], classes=head.classes,
        coef=coef, covariance=covariance, se_ols=se_ols, level=level, nll=solved.nll, null_nll=rows["null_nll"],
        null_size=rows["null_size"], reference=solved, numerical=numerical, agreement=agreement,
        loss=family.conditional_loss(rows["loss"], rows["first_etas"], sigma_formula is not None),
        deviance=rows["deviance"], deviance_definition=family.deviance_definition, underflow=rows["underflow"],
        aliased=aliased, divergence=divergence, exact_fit=exact, fitted=fitted or {}, data_rows=data_rows,
        model=model, residual_sum_of_squares=solved.residual_sum_of_squares,
        passes=passes() if callable(passes) else passes, runaway=rows["runaway"], predictions=predictions,
        robust=robust, model_covariance=model_covariance)


def sandwich(model, coef, covariance):
    """The robust (sandwich, HC0) covariance: I^-1 (sum_i w_i s_i s_i') I^-1, s_i row i's score
    and I the observed information (the model's covariance is its inverse): right where the
    family's variance is wrong but its mean is not. None where the model's covariance is."""
    if covariance is None or not np.all(np.isfinite(coef)):
        return covariance
    etas = model.etas(coef, scaled=False)
    with np.errstate(over="ignore", invalid="ignore"):
        gradient = model.family.conditional_nll(model.y, etas, 1)[1]
    scores = np.column_stack([B * gradient[:, [j]] for j, B in enumerate(model.blocks)])
    w = np.ones(len(model.y)) if model.weights is None else model.weights
    meat = scores.T @ (w[:, None] * scores)
    return covariance @ meat @ covariance


def coefficient_inference(model, solved, divergence, exact: bool):
    """The coefficients, their covariance and (least squares) the classical standard errors, the
    same wherever the rows were: none where the MLE does not exist, zeros for an exact fit."""
    coef = np.array(solved.coef, dtype=float)
    if divergence is not None:
        # Along the direction the coefficients have no finite value, and the others' limits
        # depend on how the rows are split: none is printed as if it were an estimate.
        return np.full(model.size, np.nan), None, None
    if exact:
        return coef, np.zeros((model.size, model.size)), np.zeros(model.size)
    se_ols = None
    if solved.unscaled_covariance is not None:
        p = solved.unscaled_covariance.shape[0]
        residual_variance = solved.residual_sum_of_squares / max(model.total_weight - p, 1.0)
        se_ols = np.append(np.sqrt(np.diag(solved.unscaled_covariance) * residual_variance), np.nan)
    return coef, _covariance(model, coef, solved), se_ols


def exactly_fitted(sigma_coef: float, spread: float, largest: float) -> bool:
    """A constant scale's estimate (its log `sigma_coef`) at float64's resolution of the response
    (its spread and largest magnitude): every residual is 0 and the scale goes to 0."""
    return not np.isfinite(sigma_coef) or math.exp(sigma_coef) <= 4 * np.finfo(float).eps * max(spread, largest)


def _divergence(model, solved):
    unbounded = runaway(model, solved)
    if unbounded is not None:
        return unbounded
    separation = model.family.separation
    if separation is None:
        return None
    if model.design.n > ALWAYS_CHECK_ROWS and solved.converged:
        etas = model.etas(model.to_scaled(solved.coef))
        # zero counts: a log rate running to -inf; a class: a logit running either way
        extreme = (etas < -EXTREME_LOGIT).any() if separation == "zero counts" \
            else np.abs(etas).max(initial=0.0) > EXTREME_LOGIT
        if not extreme:
            return None
    return divergence(model)


def _exact_fit(model, solved) -> bool:
    """Every residual 0 (to float64's resolution): a constant scale (normal's sigma, laplace's b)
    goes to 0."""
    if model.family.solver not in ("least squares", "least absolute deviations"):
        return False  # (the others' scales are not fitted residuals' spread)
    scale = model.y.std() if len(model.y) else 0.0
    return exactly_fitted(solved.coef[-1], scale, np.abs(model.y).max(initial=0.0))


def _covariance(model, coef, solved):
    """The inverse of the observed information at the estimate, on the columns as given; for
    least squares sigma^2 (X'WX)^-1 exactly, with log sigma's 1/(2n) beside it."""
    if solved.unscaled_covariance is not None:
        sigma2 = solved.residual_sum_of_squares / model.total_weight
        p = solved.unscaled_covariance.shape[0]
        covariance = np.zeros((p + 1, p + 1))
        covariance[:p, :p] = solved.unscaled_covariance * sigma2
        covariance[p, p] = 1.0 / (2.0 * model.total_weight)
        return covariance
    theta = model.to_scaled(coef)
    _, _, hessian = model.derivatives(theta)
    try:
        inverse = np.linalg.inv(hessian)
    except np.linalg.LinAlgError:
        return None
    T = model.transform()
    return T @ inverse @ T.T


def _agreement(numerical, solved, covariance) -> Agreement:
    se = None if covariance is None else np.sqrt(np.maximum(np.diag(covariance), 0.0))
    difference = np.abs(numerical.coef - solved.coef)
    if se is not None:
        floor = 1e-6 * np.maximum(np.abs(solved.coef), 1e-300)
        in_se = difference / np.maximum(se, floor)
    else:
        in_se = difference / np.maximum(np.abs(solved.coef), 1.0)
    largest = float(np.max(in_se, initial=0.0))
    nll_difference = abs(numerical.nll - solved.nll) / max(abs(solved.nll), 1.0)
    same_nll = nll_difference <= NLL_TOLERANCE
    # At a curved optimum an NLL within t nats of the minimum lies within sqrt(2t) standard errors of
    # it; coefficients ten times further apart at the same NLL lie on a flat stretch of optima.
    curved_reach = 10 * np.sqrt(2 * NLL_TOLERANCE * max(abs(solved.nll), 1.0))
    flat = same_nll and se is not None and largest > max(curved_reach, SE_TOLERANCE) \
        and numerical.converged and solved.converged
    return Agreement(largest, nll_difference, same_nll and (largest <= SE_TOLERANCE or flat), unique=not flat)


class _Null:
    def __init__(self, nll, size):
        self.nll, self.size = nll, size


def _null_model(family, design: Design) -> _Null:
    """The intercept-only model (a constant mean, a constant scale), by the reference method."""
    ones = np.ones((design.n, 1))
    null_design = replace(design, X=ones, terms=["Intercept"], Z=ones, scale_terms=["Intercept"])
    model = ConditionalModel(family, null_design)
    solved = reference(model)
    return _Null(solved.nll, model.size)


def _weights(design) -> np.ndarray:
    return np.ones(design.n) if design.weights is None else design.weights
