"""The result of a fit: an immutable record that knows how to describe itself as plain data.

Views (rich tables, JSON) are made from it in `mlfit.report`; nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from .fitting import NLL_TOLERANCE, PARAM_TOLERANCE, Comparison, NumericalFit
from .gof import GoodnessOfFit
from .inference import Inference
from .underflow import UnderflowReport
from .weights import expand


@dataclass(frozen=True)
class FitResult:
    family: object  # the Family that was fitted
    source: str
    column: str
    n: int | float  # rows used, or the sum of their weights
    dropped: int
    labels: list | None  # category names for a vector parameter, in the order of its entries
    numerical: NumericalFit
    reference_params: dict | None  # the family's own solution (None where it has no method: reference_method "none")
    reference_nll: float | None
    reference_method: str  # "closed form", "root of the score equation", "Newton on the score equations" or "none"
    comparison: Comparison | None  # numerical vs reference; None without a reference
    underflow: UnderflowReport
    inference: Inference
    gof: GoodnessOfFit
    fixed: dict = field(default_factory=dict)  # parameters held at given values, not estimated
    values: np.ndarray | None = field(default=None, repr=False, compare=False)  # the fitted values, for plots
    stats: object = field(default=None, repr=False, compare=False)  # the family's sufficient statistics
    weights: np.ndarray | None = field(default=None, repr=False, compare=False)  # --weights, one per value
    # The power of two the values were divided by to fit them (data beyond 2^+-256, see
    # pipeline.rescaling); every number above is in the data's own units.
    scale: float = field(default=1.0, repr=False)

    def expanded_values(self) -> np.ndarray | None:
        """The rows as if each were written out weight times (the values themselves without
        weights); None when the weights are not whole numbers."""
        return expand(self.values, self.weights)

    @property
    def distribution(self) -> str:
        return self.family.name

    @property
    def censoring(self) -> dict | None:
        """Censored data: the rows of each kind ({"exact": 19, "left": 0, "right": 60, "interval": 29})."""
        return getattr(self.stats, "censoring", None)

    @property
    def params(self) -> dict:
        """The numerical optimiser's estimate (the reference method's is `reference_params`)."""
        return self.numerical.params

    @property
    def nll(self) -> float:
        return self.numerical.nll

    @property
    def log_likelihood(self) -> float:
        return -self.numerical.nll

    def plain(self, params: dict) -> dict:
        """Parameters as JSON-ready values: a vector becomes {category: probability}."""
        out = {}
        for name, value in params.items():
            if value is None:  # a standard error a non-regular family does not have
                out[name] = None
            elif np.ndim(value):
                out[name] = {label: float(v) for label, v in zip(self.labels, value)}
            else:
                out[name] = float(value)
        return out

    @property
    def aic(self) -> float:
        return self.inference.aic

    @property
    def bic(self) -> float:
        return self.inference.bic

    def intervals(self) -> dict:
        """{name: {"wald": [lo, hi], "profile": [lo, hi]}}; a vector parameter maps each label."""
        out = {}
        for name, interval in self.inference.intervals.items():
            if isinstance(interval, list):
                out[name] = {label: i.to_dict() for label, i in zip(self.labels, interval)}
            else:
                out[name] = interval.to_dict()
        return out

    def loss(self) -> dict:
        """The training loss the NLL is, at the fit, with the identity between them."""
        return self.family.loss_report(self.stats, self.params)

    @property
    def closed_form_params(self) -> dict | None:
        """The reference solution where it is a closed form (None otherwise)."""
        return self.reference_params if self.reference_method == "closed form" else None

    @property
    def closed_form_nll(self) -> float | None:
        return self.reference_nll if self.reference_method == "closed form" else None

    @property
    def probabilities(self) -> dict | None:
        """A categorical fit's probabilities by category label; None for other families."""
        if self.labels is None:
            return None
        return self.plain(self.params)["p"]

    def nll_at(self, params: dict) -> float:
        """The NLL of this fit's data at other parameters (a categorical's p as {label: prob})."""
        from .params import resolve

        return float(self.family.nll(self.stats, resolve(self.family, self.stats, params, complete=True,
                                                          what="nll_at")))

    def conf_int(self, level: float | None = None) -> dict:
        """Wald and profile intervals ({name: {"wald": [lo, hi], "profile": [lo, hi]}}) at `level`,
        computed afresh from the statistics, without refitting; the fit's own level by default."""
        if level is None or level == self.inference.level:
            return self.intervals()
        from .inference import infer
        from .options import FitOptions

        level = FitOptions(level=level).level
        if self.scale != 1.0:  # as the fit was made: on the values divided by the scale, mapped back
            from .rescaled import rescaled_inference

            return replace(self, inference=rescaled_inference(self, level)).intervals()
        again = infer(self.family, self.stats, self.params, self.nll, level, self.fixed)
        return replace(self, inference=again).intervals()

    def warnings(self) -> list[str]:
        """What a user must not miss: a fit that failed to converge or disagrees with the reference."""
        found = []
        where = f"{self.source}: column '{self.column}': {self.distribution}"
        if not self.numerical.converged:
            trust = f"trust the {self.reference_method}" if self.comparison is not None else \
                "and there is no reference solution to fall back on"
            found.append(f"{where}: the {self.numerical.method} optimiser did not converge "
                         f"({self.numerical.message}); {trust}")
            why = self.family.why_unconverged(self.stats, self.params)
            if why:
                found.append(f"{where}: {why}")
        if not self.inference.unique and self.numerical.converged:
            found.append(f"{where}: {self.inference.note}")
        if self.comparison is not None and not self.comparison.agrees:
            found.append(f"{where}: the numerical optimum disagrees with the {self.reference_method} "
                         f"(largest relative difference {self.comparison.largest:.3g}; tolerance "
                         f"{NLL_TOLERANCE:g} in NLL, {PARAM_TOLERANCE:g} in parameters)")
        return found

    def __repr__(self) -> str:
        params = ", ".join(f"{name}={_short(value)}" for name, value in self.plain(self.params).items())
        return f"<FitResult {self.distribution}({params}) n={self.n:,} nll={self.nll:.6g} aic={self.aic:.6g}>"

    def summary(self) -> str:
        """A plain-text summary: parameters with standard errors and intervals, the fit measures."""
        from .report import summary_text

        return summary_text(self)

    def _repr_html_(self) -> str:
        from html import escape

        return f"<pre>{escape(self.summary())}</pre>"

    def to_dict(self) -> dict:
        num, comparison = self.numerical, self.comparison
        reference = None if self.reference_params is None else {
            "params": self.plain(self.reference_params), "nll": self.reference_nll}
        out = {
            "distribution": self.distribution,
            "file": self.source,
            "column": self.column,
            "n": self.n,
            "dropped": self.dropped,
            "params": self.plain(self.params),
            "fixed": self.plain(self.fixed),
            "nll": self.nll,
            "log_likelihood": self.log_likelihood,
            "loss": self.loss(),
            "reference": {**(reference or {"params": None, "nll": None}), "method": self.reference_method},
        }
        if self.censoring is not None:
            out["censoring"] = self.censoring
        if self.reference_method == "closed form":  # what parsers of the first five families read
            out["closed_form"] = reference
        out.update({
            "numerical": {
                "params": self.plain(num.params),
                "nll": num.nll,
                "method": num.method,
                "iterations": num.iterations,
                "evaluations": num.evaluations,
                "converged": num.converged,
                "message": num.message,
                "newton_decrement": num.newton_decrement,
                "at_boundary": list(num.at_boundary),
            },
            "comparison": None if comparison is None else {
                "param_relative_difference": comparison.param_differences,
                "nll_relative_difference": comparison.nll_difference,
                "largest_relative_difference": comparison.largest,
                "agrees": comparison.agrees,
            },
            "stderr": {name: None if isinstance(error, float) and math.isnan(error) else error
                       for name, error in self.plain(self.inference.stderr).items()},  # nan: none at that point
            "level": self.inference.level,
            "ci": self.intervals(),
            "k": self.inference.k,
            "aic": self.aic,
            "bic": self.bic,
            "gof": self.gof.to_dict(),
            "underflow": self.underflow.to_dict(),
        })
        if self.inference.note:
            out["ci_note"] = self.inference.note
        return out


def _short(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:.4g}" for k, v in list(value.items())[:4]) + (", ..." if len(value) > 4 else "") + "}"
    return "None" if value is None else f"{value:.6g}"
