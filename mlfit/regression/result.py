"""The result of a regression: plain data, and the questions one asks of it.

Coefficients are reported by term; a categorical model's by class, then term. `coef` is the
reference solution (least squares, the linear-programming vertex, IRLS/Newton), the numerical
optimiser's beside it in `numerical`, and their agreement in `agreement`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from ..estimates import Entries, Estimates, HTMLSummary

NLL_TOLERANCE = 1e-8  # relative (floor 1 nat) difference of the two NLLs that still agrees
SE_TOLERANCE = 1e-3  # coefficient difference, in standard errors, that still agrees


@dataclass(frozen=True)
class Agreement:
    largest_in_se: float  # the largest coefficient difference, in standard errors
    nll_difference: float  # relative, floor 1 nat
    agrees: bool
    # False where the two reach the same NLL at different coefficients: both are optima (a least
    # absolute deviations fit whose minimum is a whole edge or face of its linear program, as R's rq
    # warns "solution may be nonunique"); they agree, on the NLL.
    unique: bool = True

    def to_dict(self) -> dict:
        return {"max_coef_difference_in_se": self.largest_in_se, "nll_difference": self.nll_difference,
                "agrees": self.agrees, "unique": self.unique}


@dataclass(frozen=True, repr=False)
class RegressionResult(HTMLSummary, Estimates):
    family: object
    source: str
    formula: str
    sigma_formula: str | None
    n: float  # rows used, or the sum of their weights
    rows: int  # rows used
    dropped: int
    predictors: list  # the family's Predictors, in order
    names: list[list[str]]  # each predictor's terms (the design's columns), aliased ones left out
    classes: list[str] | None
    coef: np.ndarray  # stacked, predictor by predictor; None entries where the MLE does not exist
    covariance: np.ndarray | None  # of coef (None where it does not exist)
    se_ols: np.ndarray | None  # normal: the classical standard errors (residual variance over n - p)
    level: float
    nll: float
    null_nll: float
    null_size: int
    reference: object  # reference.Reference, or None
    numerical: object  # model.NumericalRegression, or None (an exact fit leaves nothing to minimise)
    agreement: Agreement | None
    loss: dict
    deviance: float
    deviance_definition: str
    underflow: object
    aliased: dict = field(default_factory=dict)
    divergence: object = None  # existence.Divergence
    exact_fit: bool = False  # normal/laplace: every residual is 0, sigma (or b) -> 0
    fitted: dict = field(default_factory=dict, repr=False)  # the family's parameters per row, for --predict
    data_rows: np.ndarray | None = field(default=None, repr=False)
    model: object = field(default=None, repr=False, compare=False)  # the ConditionalModel, for plots and nll_at
    residual_sum_of_squares: float | None = None  # normal with a constant sigma
    passes: int = 0  # passes over the file (a file too big to hold); 0 when the rows were in memory
    runaway: int = 0  # streamed: rows whose fitted logit or log rate is beyond +-30 (separation suspected)
    predictions: object = field(default=None, repr=False, compare=False)  # streamed: () -> chunks of (rows, fitted)
    robust: bool = False  # covariance is the sandwich (HC0); model_covariance the observed information's inverse
    model_covariance: np.ndarray | None = None

    def prediction_chunks(self):
        """(data rows, {parameter: values}) chunk by chunk: one chunk in memory, a pass otherwise."""
        if self.predictions is not None:
            yield from self.predictions()
        else:
            yield self.data_rows, self.fitted

    def nll_along(self, index: int, values: np.ndarray) -> np.ndarray:
        """The NLL with coefficient `index` (stacked order) set to each of `values`, the others
        held at the estimate: a slice of the NLL landscape."""
        out = []
        for value in values:
            coef = np.array(self.coef, dtype=float)
            coef[index] = value
            out.append(self.model.nll(self.model.to_scaled(coef)))
        return np.array(out)

    def labels(self) -> list[str]:
        """A label per stacked coefficient: "term", "class: term", or "log_sigma: term"."""
        out = []
        for predictor, terms in zip(self.predictors, self.names):
            if predictor.role != "mean":
                out += [f"{predictor.name}: {t}" for t in terms]
            elif self.classes is not None:
                out += [f"{predictor.name.removeprefix('logit[').removesuffix(']')}: {t}" for t in terms]
            else:
                out += list(terms)
        return out

    @property
    def distribution(self) -> str:
        return self.family.name

    @property
    def size(self) -> int:
        return int(np.sum(np.isfinite(self.coef)))

    @property
    def log_likelihood(self) -> float:
        return -self.nll

    @property
    def aic(self) -> float:
        return 2.0 * self.nll + 2.0 * self.size

    @property
    def bic(self) -> float:
        return 2.0 * self.nll + self.size * math.log(self.n)

    @property
    def se(self) -> np.ndarray | None:
        if self.covariance is None:
            return None
        with np.errstate(invalid="ignore"):
            return np.sqrt(np.maximum(np.diag(self.covariance), 0.0))

    def likelihood_ratio(self) -> dict | None:
        """The test against the intercept-only model: 2 (NLL_null - NLL), chi-square on the extra
        coefficients."""
        df = self.size - self.null_size
        if df <= 0 or not np.isfinite(self.nll) or not np.isfinite(self.null_nll):
            return None
        statistic = max(2.0 * (self.null_nll - self.nll), 0.0)
        return {"statistic": statistic, "df": df, "p_value": float(special.chdtrc(df, statistic))}

    def warnings(self) -> list[str]:
        where = f"{self.source}: {self.formula!r}"
        out = []
        if self.aliased:
            parts = [f"'{t}' is a combination of {_listed([repr(c) for c in of], 6)}" if of else
                     f"'{t}' is constant on the rows used (the intercept holds it) or all 0"
                     for t, of in self.aliased.items()]
            out.append(f"{where}: collinear columns, left out of the fit (their coefficients do not exist): "
                       + _listed(parts, 5, "; ") + (" (all of them in --format json)" if len(parts) > 5 else ""))
        if self.divergence is not None:
            out.append(f"{where}: the maximum-likelihood estimate does not exist: {self.divergence.explanation}; "
                       "no coefficient is reported (the NLL shown is where the reference method stopped, the "
                       "infimum is lower)")
        if self.runaway:
            out.append(f"{where}: on {self.runaway:,} rows the fitted probability (or rate) is within 1e-13 of 0 "
                       "or 1: the maximum-likelihood estimate may not exist (separation); the linear program that "
                       "would tell needs the rows in memory: fit a sample of them to find which rows and columns")
        if self.exact_fit:
            out.append(f"{where}: every residual is 0, so the {self.distribution} scale goes to 0 and the "
                       "likelihood has no maximum; the coefficients are the exact fit")
        if self.reference is not None and not self.reference.converged and self.divergence is None:
            out.append(f"{where}: the reference method ({self.reference.method}) did not converge in "
                       f"{self.reference.iterations} iterations")
        if self.numerical is not None and self.divergence is None and not self.exact_fit:
            if not self.numerical.converged:
                out.append(f"{where}: the numerical optimiser did not converge: {self.numerical.message}")
            elif self.agreement is not None and not self.agreement.agrees:
                out.append(f"{where}: the numerical optimum disagrees with the reference solution "
                           f"(by {self.agreement.largest_in_se:.3g} standard errors, NLL by "
                           f"{self.agreement.nll_difference:.3g}); trust the reference")
        return out

    # --- views as plain data ------------------------------------------------------------
    def _by_term(self, values) -> dict:
        """Stacked values as {predictor or class: {term: value}}, or {term: value} where only one
        predictor is driven by the formula."""
        out, at = {}, 0
        for predictor, terms in zip(self.predictors, self.names):
            part = {t: _number(values[at + i]) if values is not None else None for i, t in enumerate(terms)}
            out[predictor.name] = part
            at += len(terms)
        return out

    def _mean_part(self, by_predictor: dict) -> dict:
        means = [p for p in self.predictors if p.role == "mean"]
        if self.classes is not None:
            return {c: by_predictor[p.name] for c, p in zip(self.classes[1:], means)}
        return by_predictor[means[0].name]

    def to_dict(self) -> dict:
        se = self.se
        by_coef, by_se = self._by_term(self.coef), self._by_term(se)
        z = None if se is None else np.where(se > 0, self.coef / np.where(se > 0, se, 1.0), np.nan)
        p_values = None if z is None else 2.0 * special.ndtr(-np.abs(z))
        quantile = special.ndtri(0.5 + self.level / 2.0)
        low = None if se is None else self.coef - quantile * se
        high = None if se is None else self.coef + quantile * se
        wald = self._by_term(None) if se is None else {
            name: {t: [lo[t], hi[t]] for t in lo}
            for (name, lo), hi in zip(self._by_term(low).items(), self._by_term(high).values())}
        out = {
            "distribution": self.distribution,
            "formula": self.formula,
            "sigma_formula": self.sigma_formula,
            "file": self.source,
            "n": _count(self.n),
            "dropped": self.dropped,
            "link": self.predictors[0].link,
            "coef": self._mean_part(by_coef),
            "se": self._mean_part(by_se),
            "z": self._mean_part(self._by_term(z)),
            "p_value": self._mean_part(self._by_term(p_values)),
            "ci": {"level": self.level, "wald": self._mean_part(wald)},
        }
        if self.se_ols is not None:
            out["se_ols"] = self._mean_part(self._by_term(self.se_ols))
        out["se_kind"] = "robust (sandwich, HC0)" if self.robust else "model (observed information)"
        if self.robust:
            out["se_model"] = self._mean_part(self._by_term(_root_diagonal(self.model_covariance)))
        out["se_note"] = self.family.se_note
        out["params"] = self._other_parameters(se, low, high, by_coef, by_se, wald)
        for name, entry in out["params"].items():  # (normal's sigma and laplace's b: where they always were)
            if self.family.solver in ("least squares", "least absolute deviations"):
                out[name if "value" in entry else f"{name}_coef"] = entry
        lr = self.likelihood_ratio()
        out.update({
            "aliased": self.aliased,
            "nll": _number(self.nll),
            "log_likelihood": _number(self.log_likelihood),
            "aic": _number(self.aic),
            "bic": _number(self.bic),
            "deviance": _number(self.deviance),
            "deviance_definition": self.deviance_definition,
            "null_nll": _number(self.null_nll),
            "lr_test": lr,
            "reference": None if self.reference is None else {
                "coef": None if self.divergence is not None else self._mean_part(self._by_term(self.reference.coef)),
                "nll": _number(self.reference.nll),
                "method": self.reference.method, "converged": self.reference.converged,
                "iterations": self.reference.iterations},
            "numerical": None if self.numerical is None else {
                "coef": self._mean_part(self._by_term(self.numerical.coef)), "nll": _number(self.numerical.nll),
                "method": self.numerical.method, "iterations": self.numerical.iterations,
                "converged": self.numerical.converged, "message": self.numerical.message},
            "agreement": None if self.agreement is None else self.agreement.to_dict(),
            "loss": self.loss,
            "underflow": None if self.underflow is None else self.underflow.to_dict(),
            "divergence": None if self.divergence is None else self.divergence.to_dict(),
            "exact_fit": self.exact_fit,
            "passes": self.passes,
        })
        return out

    def _other_parameters(self, se, low, high, by_coef, by_se, wald) -> dict:
        """The family's parameters beside the mean's coefficients (sigma, shape, size, phi, nu):
        {name: {"value", "se", "ci"}} where the parameter is one number (its se by the delta
        method, its interval the log scale's Wald interval, exponentiated), and the coefficients of
        its log where a --sigma formula makes it linear in columns."""
        out, at = {}, 0
        for predictor, terms in zip(self.predictors, self.names):
            start, at = at, at + len(terms)
            if predictor.role == "mean":
                continue
            name = predictor.name.removeprefix("log_")
            if terms == ["Intercept"]:
                log_value = float(self.coef[start])
                value = math.exp(log_value) if np.isfinite(log_value) else (0.0 if log_value < 0 else None)
                out[name] = {"value": value, "se": None if se is None or value is None else value * float(se[start]),
                             "ci": {"wald_log_scale": None if se is None else [math.exp(float(low[start])),
                                                                               math.exp(float(high[start]))]}}
                if predictor.role == "scale" and self.residual_sum_of_squares is not None:  # R's lm's residual s.e.
                    out[name]["ols"] = math.sqrt(self.residual_sum_of_squares / max(self.n - len(self.names[0]), 1))
            else:
                out[name] = {"log_" + name: by_coef[predictor.name], "se": by_se[predictor.name],
                             "ci": {"wald": wald[predictor.name]}}
        return out

    def _entries(self) -> Entries:
        """By label (`labels`): the mean's terms, a class's ("b: x"), the scale's ("log_sigma: x")."""
        k = len(self.coef)
        se = self.se
        errors = np.full(k, np.nan) if se is None else np.where(np.isfinite(self.coef), se, np.nan)
        return Entries(self.labels(), np.array(self.coef, dtype=float), errors)

    def _covariance(self, entries: Entries) -> np.ndarray:
        k = len(self.coef)
        return np.full((k, k), np.nan) if self.covariance is None else np.array(self.covariance, dtype=float)

    def summary(self) -> str:
        from .report import summary_text

        return summary_text(self)

    def report(self, path: str | None = None, *, figures: bool = True) -> str:
        """`mlfit report`'s page of this regression: written to `path` where one is given, and
        returned."""
        from ..page import regression_page, write_page

        return write_page(regression_page(self, figures=figures and self._drawable()), path)

    def _drawable(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("matplotlib") is not None and self.divergence is None and not self.passes

    def _repr_html_(self) -> str:
        """The report's content, as a notebook shows it."""
        from ..page import STYLE, regression_body

        return f"<style>{STYLE}</style>\n" + regression_body(self, figures=self._drawable())

    def plot(self, path: str | None = None):
        """`mlfit regress --plot`: fitted against observed, residuals (calibration for a classifier),
        Q-Q, the NLL along one coefficient; to `path`, or returned as a matplotlib Figure."""
        from .plots import draw_regression

        return draw_regression(self, path)

    def __repr__(self) -> str:
        return (f"RegressionResult({self.distribution}, {self.formula!r}, n={_count(self.n)}, "
                f"nll={self.nll:.6g})")


def _number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _count(n):
    return int(n) if float(n).is_integer() else float(n)


def _listed(items: list[str], shown: int, separator: str = ", ") -> str:
    """The first `shown` items and how many more: a warning stays a line a person reads."""
    if len(items) <= shown:
        return separator.join(items)
    return separator.join(items[:shown]) + f"{separator}and {len(items) - shown:,} more"


def _root_diagonal(covariance):
    if covariance is None:
        return None
    with np.errstate(invalid="ignore"):
        return np.sqrt(np.maximum(np.diag(covariance), 0.0))
