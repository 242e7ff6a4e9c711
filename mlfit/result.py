"""The result of a fit: an immutable record that knows how to describe itself as plain data.

Views (rich tables, JSON) are made from it in `mlfit.report`; nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .estimates import Entries, Estimates, HTMLSummary, covariance_from
from .fitting import NLL_TOLERANCE, PARAM_TOLERANCE, Comparison, NumericalFit
from .gof import GoodnessOfFit
from .inference import Inference
from .underflow import UnderflowReport
from .weights import expand


@dataclass(frozen=True, repr=False)
class FitResult(HTMLSummary, Estimates):
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
    resampled: object = field(default=None, repr=False)  # bootstrap.ParameterBootstrap, where asked for

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
    def estimate(self) -> dict:
        """The numerical optimiser's estimate as the family takes it ({name: value}, a vector
        parameter an array); the reference method's is `reference_params`. `params` is the same as
        a pandas Series."""
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
    def level(self) -> float:
        """The level of the fit's own intervals."""
        return self.inference.level

    @property
    def aic(self) -> float:
        return self.inference.aic

    @property
    def bic(self) -> float:
        return self.inference.bic

    def intervals(self, level: float | None = None) -> dict:
        """{name: {"wald": [lo, hi], "profile": [lo, hi]}} at `level` (the fit's own by default), as
        the JSON gives them; a vector parameter maps each label. `conf_int` is the same as a DataFrame."""
        out = {}
        for name, interval in self.inference_at(level).intervals.items():
            if isinstance(interval, list):
                out[name] = {label: i.to_dict() for label, i in zip(self.labels, interval)}
            else:
                out[name] = interval.to_dict()
        return out

    def loss(self) -> dict:
        """The training loss the NLL is, at the fit, with the identity between them."""
        return self.family.loss_report_over_rows(self.stats, self.estimate)

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
        return self.plain(self.estimate)["p"]

    def nll_at(self, params: dict) -> float:
        """The NLL of this fit's data at other parameters (a categorical's p as {label: prob})."""
        from .params import resolve

        return float(self.family.nll(self.stats, resolve(self.family, self.stats, params, complete=True,
                                                          what="nll_at")))

    def inference_at(self, level: float | None = None) -> Inference:
        """Standard errors and intervals at `level`, computed afresh from the statistics without
        refitting; the fit's own level by default."""
        if level is None or level == self.inference.level:
            return self.inference
        from .inference import infer
        from .options import FitOptions

        level = FitOptions(level=level).level
        if self.scale != 1.0:  # as the fit was made: on the values divided by the scale, mapped back
            from .rescaled import rescaled_inference

            return rescaled_inference(self, level)
        return infer(self.family, self.stats, self.estimate, self.nll, level, self.fixed)

    def _entries(self) -> Entries:
        names, values, errors = [], [], []
        for p in self.family.parameters:
            value = self.estimate[p.name]
            error = self.inference.stderr.get(p.name)
            if np.ndim(value):
                names += [f"{p.name}[{label}]" for label in self.labels]
                values += list(np.asarray(value, dtype=float))
                errors += list(np.full(len(value), np.nan) if error is None else np.asarray(error, dtype=float))
            else:
                names.append(p.name)
                values.append(float(value))
                errors.append(np.nan if error is None else float(error))
        return Entries(names, np.array(values, dtype=float), np.array(errors, dtype=float))

    def _covariance(self, entries: Entries) -> np.ndarray:
        errors = entries.errors
        free = [i for i, p in enumerate(self.family.parameters) if p.name not in self.fixed]
        correlation = None
        if len(free) > 1 or any(np.ndim(self.estimate[p.name]) for p in self.family.parameters):
            stats, estimate, fixed = self.stats, self.estimate, self.fixed
            if self.scale != 1.0 and self.values is not None:
                # As the fit was made, on the values divided by the scale: each parameter maps to the
                # data's units by a constant factor or shift, which leaves the correlation as it is.
                c = self.scale
                stats = self.family.summarize(self.values / c, self.weights)
                estimate, fixed = self.family.rescaled(estimate, 1 / c), self.family.rescaled(fixed, 1 / c)
            found = self.family.correlation(stats, estimate, tuple(fixed))
            if found is not None and len(found) == len(errors):  # every entry free
                correlation = found
            elif found is not None:  # some held: the free ones' block
                correlation = np.eye(len(errors))
                correlation[np.ix_(free, free)] = found
        return covariance_from(errors, correlation)

    def _bounds(self, level: float) -> dict:
        inference = self.inference_at(level)
        columns = {"lower": [], "upper": [], "profile_lower": [], "profile_upper": []}
        for p in self.family.parameters:
            interval = inference.intervals.get(p.name)
            width = np.size(self.estimate[p.name])
            for each in (interval if isinstance(interval, list) else [interval] * width):
                wald = (None, None) if each is None else each.wald
                profile = (None, None) if each is None else each.profile
                for column, end in zip(columns, (*wald, *profile)):
                    columns[column].append(np.nan if end is None else float(end))
        return {column: np.array(ends, dtype=float) for column, ends in columns.items()}

    def warnings(self) -> list[str]:
        """What a user must not miss: a fit that failed to converge or disagrees with the reference."""
        found = []
        where = f"{self.source}: column '{self.column}': {self.distribution}"
        if not self.numerical.converged:
            trust = f"trust the {self.reference_method}" if self.comparison is not None else \
                "and there is no reference solution to fall back on"
            found.append(f"{where}: the {self.numerical.method} optimiser did not converge "
                         f"({self.numerical.message}); {trust}")
            why = self.family.why_unconverged(self.stats, self.estimate)
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
        params = ", ".join(f"{name}={_short(value)}" for name, value in self.plain(self.estimate).items())
        return f"<FitResult {self.distribution}({params}) n={self.n:,} nll={self.nll:.6g} aic={self.aic:.6g}>"

    def summary(self) -> str:
        """A plain-text summary: parameters with standard errors and intervals, the fit measures."""
        from .report import summary_text

        return summary_text(self)

    def plot(self, path: str | None = None):
        """The fit drawn as `mlfit fit --plot` draws it (density or bars, CDF, Q-Q, P-P; censored rows
        as Turnbull's estimate against the fit), to `path`, or returned as a matplotlib Figure."""
        from .plots import draw_censored, draw_fit

        if self.censoring is not None:
            return draw_censored(self, self.stats.data, path)
        if self.values is None:
            from .errors import UsageError

            raise UsageError("this fit did not keep its values (a file read in chunks): fit it with "
                             "keep_values=True to plot it")
        return draw_fit(self, path)

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
            "params": self.plain(self.estimate),
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
        return with_resampling(self, out)


def with_resampling(result, out: dict) -> dict:
    """A fit's JSON with its bootstrap ("bootstrap": the replicates' intervals) and fitted quantiles
    ("quantiles") beside it, where they were asked for."""
    drawn = result.resampled
    if drawn is not None and drawn.replicates:
        out["bootstrap"] = drawn.to_dict()
    if drawn is not None and drawn.quantiles:
        out["quantiles"] = drawn.quantiles_dict()
    return out


def _short(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v:.4g}" for k, v in list(value.items())[:4]) + (", ..." if len(value) > 4 else "") + "}"
    return "None" if value is None else f"{value:.6g}"
