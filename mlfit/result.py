"""The result of a fit: an immutable record that knows how to describe itself as plain data.

Views (rich tables, JSON) are made from it in `mlfit.report`; nothing here prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
    closed_form_params: dict
    closed_form_nll: float
    comparison: Comparison
    underflow: UnderflowReport
    inference: Inference
    gof: GoodnessOfFit
    fixed: dict = field(default_factory=dict)  # parameters held at given values, not estimated
    values: np.ndarray | None = field(default=None, repr=False, compare=False)  # the fitted values, for plots
    stats: object = field(default=None, repr=False, compare=False)  # the family's sufficient statistics
    weights: np.ndarray | None = field(default=None, repr=False, compare=False)  # --weights, one per value

    def expanded_values(self) -> np.ndarray | None:
        """The rows as if each were written out weight times (the values themselves without
        weights); None when the weights are not whole numbers."""
        return expand(self.values, self.weights)

    @property
    def distribution(self) -> str:
        return self.family.name

    @property
    def params(self) -> dict:
        """The numerical optimiser's estimate (the closed form's is `closed_form_params`)."""
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
            if np.ndim(value):
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

    def warnings(self) -> list[str]:
        """What a user must not miss: a fit that failed to converge or disagrees with the formula."""
        found = []
        where = f"{self.source}: column '{self.column}'"
        if not self.numerical.converged:
            found.append(f"{where}: the {self.numerical.method} optimiser did not converge "
                         f"({self.numerical.message}); trust the closed form")
        if not self.comparison.agrees:
            found.append(f"{where}: the numerical optimum disagrees with the closed form "
                         f"(largest relative difference {self.comparison.largest:.3g}; tolerance "
                         f"{NLL_TOLERANCE:g} in NLL, {PARAM_TOLERANCE:g} in parameters)")
        return found

    def to_dict(self) -> dict:
        num, comparison = self.numerical, self.comparison
        return {
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
            "closed_form": {"params": self.plain(self.closed_form_params), "nll": self.closed_form_nll},
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
            "comparison": {
                "param_relative_difference": comparison.param_differences,
                "nll_relative_difference": comparison.nll_difference,
                "largest_relative_difference": comparison.largest,
                "agrees": comparison.agrees,
            },
            "stderr": self.plain(self.inference.stderr),
            "level": self.inference.level,
            "ci": self.intervals(),
            "k": self.inference.k,
            "aic": self.aic,
            "bic": self.bic,
            "gof": self.gof.to_dict(),
            "underflow": self.underflow.to_dict(),
        }
