"""The conditional part of a family: its parameters row by row, each a link of a linear predictor.

`mlfit regress` minimises the sum of `conditional_nll` over the rows; `score-model` sums it over a
trained model's predictions. A family that regresses mixes in `Conditional` beside `Family` and
declares, checked when its class is defined:

- `predictors(classes)`: the linear predictors (name, link, role "mean" or "scale"), and
  `conditional_nll(y, etas, order)` with its derivatives, `conditional_params(etas)`;
- `solver`: how the reference solution is found (`mlfit.regression.reference` has one solver each);
- `separation`: how the MLE can fail to exist ("binary", "classes", "zero counts"; None: it cannot
  by separation), which `mlfit.regression.existence` looks for by linear programming;
- `scale_formula`: whether the scale predictor takes a formula of its own (`--sigma`);
- the deviance (`conditional_deviance`, `deviance_definition`), the deep-learning loss the NLL is
  (`loss_sums`, which add up chunk by chunk, and `conditional_loss`), and the note on how its
  standard errors are made (`se_note`);
- `outcome`: what a row's response is ("number", "count", "binary", "classes"): a classifier's
  fits are judged by calibration and accuracy, the others' by residuals (`residuals`);
- for score-model, the columns a trained model predicts (`prediction_inputs`), how they become
  linear predictors (`etas_from_predictions`), and the naive float computation of each row's
  likelihood that the stable one is set beside (`naive_log_likelihood`);
- optionally: what rows carry beside the response (`row_inputs`: binomial's "trials", censoring's
  "bounds"; a design's family is `on_rows(extra)`), rough starting values (`conditional_start`),
  each row's mean (`row_mean`), the expected information of the mean's predictor for Fisher
  scoring (`mean_information`) and where the likelihood has no maximum whatever the columns
  (`no_maximum`).

The commands ask the family these questions, never its name.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

OUTCOMES = ("number", "count", "binary", "classes")


@dataclass(frozen=True)
class PredictionInput:
    """A column of a trained model's predictions that score-model reads (`flag` names it)."""
    flag: str  # "--logit", "--mean", "--log-var"
    role: str  # as the JSON reports it: "logit", "mean", "log_var"
    required: bool = False
    many: bool = False  # one column per class, named as a list or a glob (--logits)
    factor: float = 1.0  # the linear predictor is factor * the column (a log-variance is 2 log sigma: 0.5)


# least squares (an identity-link mean, a log scale), least absolute deviations, iteratively reweighted
# (glm's Fisher scoring, for the logit and log links), the multinomial's Newton, and Newton's method
# on the score equations from the family's exact derivatives (any family)
# "profiled scoring": Fisher scoring for the mean from the family's expected information (`mean_information`),
# alternated with the root of the shape's (size's) score given the mean, as MASS's glm.nb and gamma.shape do
SOLVERS = ("least squares", "least absolute deviations", "iteratively reweighted", "multinomial newton", "newton",
           "profiled scoring")
SEPARATIONS = (None, "binary", "classes", "zero counts")
REQUIRED = ("predictors", "conditional_nll", "conditional_params", "loss_sums", "conditional_loss",
            "naive_log_likelihood")


class Conditional:
    solver: str = ""
    separation: str | None = None
    scale_formula = False
    deviance_definition = "2 * NLL (the saturated model of ungrouped rows has likelihood 1)"
    se_note = ("se: the inverse observed information at the MLE (for these canonical links also the expected one, "
               "as R's glm reports)")
    outcome = "number"
    prediction_inputs: tuple[PredictionInput, ...] = ()
    constant_scale_flag: str | None = None  # score-model's flag for a scale given as a number (normal: --sigma)
    # what a row may carry beside its response (`on_rows`): "trials" (binomial), "bounds" (censoring)
    row_inputs: tuple[str, ...] = ()
    rows: dict | None = None  # those arrays, for the rows of one design (set by on_rows)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls, "name", ""):
            return
        if cls.solver not in SOLVERS:
            raise TypeError(f"family {cls.name}: a conditional family's solver must be one of {SOLVERS}")
        if cls.outcome not in OUTCOMES:
            raise TypeError(f"family {cls.name}: outcome must be one of {OUTCOMES}")
        if cls.prediction_inputs and not any(i.required for i in cls.prediction_inputs):
            raise TypeError(f"family {cls.name}: the prediction columns score-model reads include a required one")
        if cls.separation not in SEPARATIONS:
            raise TypeError(f"family {cls.name}: separation must be one of {SEPARATIONS}")
        missing = [m for m in REQUIRED if getattr(cls, m) is getattr(Conditional, m)]
        if missing:
            raise TypeError(f"family {cls.name}: a conditional family must define {', '.join(missing)}")

    def on_rows(self, extra: dict | None):
        """This family for the rows of one design whose rows carry `extra` arrays beside the
        response (each of `row_inputs`): a copy that holds them, so that every function of the
        rows below reads them; itself where there are none."""
        if not extra:
            return self
        unknown = [k for k in extra if k not in self.row_inputs]
        if unknown:
            raise TypeError(f"family {self.name} takes no {', '.join(unknown)} per row")
        bound = copy.copy(self)
        bound.rows = dict(extra)
        return bound

    def row_input(self, name: str, n: int) -> np.ndarray | None:
        """The rows' `name` array, checked to be one per row of the y given."""
        values = None if self.rows is None else self.rows.get(name)
        if values is not None and len(values) != n:
            raise ValueError(f"{self.name}: {name} has {len(values)} rows for {n} responses")
        return values

    def conditional_start(self, y: np.ndarray, w: np.ndarray) -> list[float]:
        """Each predictor's constant value to start the search from (the intercepts; the other
        coefficients start at 0): rough, of the right order of magnitude."""
        return [0.0] * len(self.predictors())

    def location_units(self, y: np.ndarray) -> np.ndarray:
        """The response in the units of an identity-link mean (lognormal's: log y)."""
        return y

    def row_mean(self, fitted: dict) -> np.ndarray:
        """Each row's mean from its parameters (for --predict and the plots)."""
        raise NotImplementedError

    def predictors(self, classes: list[str] | None = None) -> list:
        """The linear predictors of the conditional model (base.Predictor), in the order of the
        columns of `etas` below."""
        raise NotImplementedError

    def conditional_nll(self, y: np.ndarray, etas: np.ndarray, order: int = 0) -> tuple:
        """Each row's NLL given its linear predictors `etas` (n x m), computed stably from them
        (log-sum-exp, not the log of a probability), and for order 1 and 2 its gradient (n x m)
        and Hessian (n x m x m) with respect to them (None beyond the order asked)."""
        raise NotImplementedError

    def conditional_params(self, etas: np.ndarray) -> dict:
        """The family's parameters row by row (arrays) from the linear predictors, as `log_prob`
        takes them."""
        raise NotImplementedError

    @property
    def scale_name(self) -> str | None:
        """The scale parameter a scale predictor drives ("sigma" from "log_sigma"), or None."""
        scales = [p.name for p in self.predictors() if p.role == "scale"]
        return scales[0].removeprefix("log_") if scales else None

    def etas_from_predictions(self, inputs: np.ndarray, scale: float | None) -> np.ndarray:
        """The linear predictors from a trained model's prediction columns (those of
        `prediction_inputs`, in order, as many as were given); a scale predictor not given is the
        constant log `scale`."""
        columns = [inputs[:, j] * item.factor for j, item in enumerate(self.prediction_inputs[:inputs.shape[1]])]
        if len(columns) < len(self.predictors()):
            columns.append(np.full(len(inputs), float(np.log(scale))))
        return np.column_stack(columns)

    def mean_information(self, y: np.ndarray, etas: np.ndarray) -> np.ndarray:
        """Each row's expected information of the mean's linear predictor (E of the NLL's second
        derivative in it): the weights of Fisher scoring ("profiled scoring" solver)."""
        raise NotImplementedError(f"{self.name} has no Fisher scoring")

    def no_maximum(self, y: np.ndarray, etas: np.ndarray, w: np.ndarray) -> tuple[str, str, str] | None:
        """Where the likelihood has no maximum on these rows whatever the columns (`etas`: where the
        reference method stopped): (the parameter that runs away, "+inf" or "-inf", why); None
        where it has one (or separation, looked for apart, is the only way to lose it)."""
        return None

    def outcome_sides(self, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For separation (binary outcomes): each outcome's row and its side, +1 a success, -1 a
        failure."""
        return np.arange(len(y)), np.where(y > 0.5, 1.0, -1.0)

    def predicted_class(self, inputs: np.ndarray) -> np.ndarray | None:
        """A classifier's predicted class per row from its prediction columns (None otherwise)."""
        return None

    def constant_scale(self, sums: dict) -> float:
        """The maximum-likelihood constant scale given the means, from `loss_sums` at them."""
        raise NotImplementedError(f"{self.name} has no scale")

    def residuals(self, y: np.ndarray, fitted: dict) -> dict:
        """For the regression plot: each row's "mean", its "residual" standardised ("name" says
        how), and the "reference" family and parameters its Q-Q plot is drawn against."""
        raise NotImplementedError

    def naive_log_likelihood(self, y: np.ndarray, inputs: np.ndarray, scale: float | None, dtype) -> tuple:
        """Each row's log-likelihood from the prediction columns computed the naive way in `dtype`
        (exp, then a product, then log, as a first training script does), and which rows' exp
        overflowed."""
        raise NotImplementedError

    def intercept_only(self, totals: dict) -> list[float] | None:
        """The intercept-only model's linear predictors in closed form, from a pass's totals of the
        response: "weight", "mean" and "spread" (of y less the offset where the mean's link is the
        identity), "offset_total" (the sum of w exp(offset), None without one) and "class_weights";
        None where there is no closed form (the model is then fitted like any other)."""
        return None

    def conditional_deviance(self, y: np.ndarray, etas: np.ndarray, w: np.ndarray, nll: float) -> float:
        """The deviance of these rows (`nll` their NLL), by R's definition for the family."""
        return 2.0 * float(nll)

    def loss_sums(self, y: np.ndarray, etas: np.ndarray, w: np.ndarray) -> dict:
        """The weighted sums the loss is made of, over these rows ("weight" among them): they add
        up chunk by chunk."""
        raise NotImplementedError

    def conditional_loss(self, sums: dict, first_etas: np.ndarray, learns_scale: bool) -> dict:
        """The deep-learning loss this NLL is, computed the way a framework computes it, and the
        NLL rebuilt from it by the exact identity ("name", "value", "identity", "nll_from_loss").
        `first_etas`: a row's linear predictors (a constant scale is read from it)."""
        raise NotImplementedError


def regresses(family) -> bool:
    return isinstance(family, Conditional)
