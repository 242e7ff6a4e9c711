"""mlfit score-model: a trained model's predictions judged as likelihoods.

The model predicts a distribution's parameters row by row (logits, a mean and a log-variance, a
log-rate); the loss in its training code is that distribution's NLL. The rows are summed through
the family's own conditional NLL (the one `mlfit regress` minimises), computed stably from the
predictions, beside the loss as a framework computes it, the naive route's failures in each
precision, and the raw product's underflow. The file is read a chunk at a time: a sum merges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..columns import DEFAULT, ReadOptions
from ..errors import DataError
from ..estimates import HTMLSummary
from ..underflow import UnderflowReport, feed, report, running_products
from .columns import Spec, read_chunks, source_label
from .stability import Stability


@dataclass(frozen=True, repr=False)
class ModelScore(HTMLSummary):
    source: str
    spec: Spec
    n: int
    dropped: int
    nll: float
    loss: dict
    accuracy: float | None
    stability: dict
    underflow: UnderflowReport
    scale: float | None  # normal's sigma or laplace's b when constant: given, or estimated (ML)
    scale_estimated: bool
    impossible_rows: int
    extra: dict = field(default_factory=dict)

    @property
    def mean_nll(self) -> float:
        return self.nll / self.n

    def warnings(self) -> list[str]:
        out = []
        if self.impossible_rows:
            out.append(f"{self.source}: on {self.impossible_rows:,} rows the target has probability exactly 0 in the "
                       "naive float64 computation (its log is -inf); the stable NLL counts them at their true, finite "
                       "cost")
        return out

    def summary(self) -> str:
        """The score as the table view prints it, as text."""
        from ..report import printed_text
        from .report import print_model_score

        return printed_text(print_model_score, self)

    def __repr__(self) -> str:
        return (f"<ModelScore {self.spec.family.name} predictions of '{self.spec.target}' in {self.source}: "
                f"n={self.n:,} nll={self.nll:.6g}>")[:400]

    def to_dict(self) -> dict:
        out = {
            "file": self.source, "distribution": self.spec.family.name, "target": self.spec.target,
            "inputs": dict(zip(self.spec.inputs, self.spec.roles)), "n": self.n, "dropped": self.dropped,
            "nll": self.nll, "mean_nll": self.mean_nll,
            "loss": {"name": self.loss["name"], "value": self.loss["value"], "identity": self.loss["identity"],
                     "nll_from_loss": self.loss["nll_from_loss"]},
            "accuracy": self.accuracy, "stability": self.stability, "underflow": self.underflow.to_dict(),
            "impossible_rows": self.impossible_rows,
        }
        if self.scale is not None:
            out[self.spec.family.scale_name] = {"value": self.scale, "estimated": self.scale_estimated}
        out.update(self.extra)
        return out


def score_model(source: str, spec: Spec, options: ReadOptions = DEFAULT) -> ModelScore:
    label = source_label(source)
    family = spec.family
    scale, estimated = spec.sigma, False
    # a scale predictor, and no column predicting it: a constant scale, given or estimated
    constant_scale = family.scale_name is not None and len(spec.inputs) == 1
    if constant_scale and scale is None:
        scale, estimated = _estimated_scale(source, spec, options), True
    products = running_products()
    stability = Stability()
    sums: dict = {}
    n = dropped = 0
    nll = correct = 0.0
    first_etas = None
    for chunk in read_chunks(source, spec, options):
        dropped += chunk.dropped
        if not len(chunk.y):
            continue
        etas = family.etas_from_predictions(chunk.inputs, scale)
        if first_etas is None:
            first_etas = etas[:1]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            rows = family.conditional_nll(chunk.y, etas)[0]
        feed(products, -rows, None, written_out=True)
        nll += float(rows.sum())
        n += len(chunk.y)
        for key, value in family.loss_sums(chunk.y, etas, np.ones(len(chunk.y))).items():
            sums[key] = sums.get(key, 0.0) + value
        stability.add(family, chunk.y, chunk.inputs, scale)
        predicted = family.predicted_class(chunk.inputs)
        if predicted is not None:
            correct += float(np.sum(predicted == chunk.y))
    if n == 0:
        raise DataError(f"{label}: no row has every used column ({', '.join([spec.target, *spec.inputs])}); "
                        "there is nothing to score", kind="empty")
    learns_scale = family.scale_name is not None and not constant_scale
    loss = family.conditional_loss(sums, first_etas, learns_scale)
    accuracy = correct / n if family.outcome in ("binary", "classes") else None
    return ModelScore(label, spec, n, dropped, nll, loss, accuracy, stability.to_dict(nll),
                      report(products, nll, n, False), scale if constant_scale else None, estimated,
                      stability.impossible_rows())


def _estimated_scale(source, spec, options) -> float:
    """The maximum-likelihood constant scale given the predicted means (the family's
    `constant_scale` from its loss sums: sigma^2 the mean squared residual, b the mean absolute
    one). A pass over the file of its own."""
    family, sums = spec.family, {}
    for chunk in read_chunks(source, spec, options):
        if not len(chunk.y):
            continue
        etas = family.etas_from_predictions(chunk.inputs, 1.0)
        for key, value in family.loss_sums(chunk.y, etas, np.ones(len(chunk.y))).items():
            sums[key] = sums.get(key, 0.0) + value
    if not sums.get("weight"):
        return 1.0
    scale = family.constant_scale(sums)
    if scale == 0:
        raise DataError(f"{source_label(source)}: every prediction equals its target, so the best constant scale is 0 and the "
                        f"likelihood has no maximum; give {family.constant_scale_flag or 'a column'} (or a column "
                        "predicting the scale)")
    return scale


def make_spec(distribution: str, target: str, *, names: list[str], label: str, sigma: float | None = None,
              **columns) -> Spec:
    """Which prediction columns the family reads, checked: each family takes its own flags only
    (`Conditional.prediction_inputs`; `constant_scale_flag` for a scale given as the number `sigma`).
    `columns` by flag, without the dashes: logit="made_logit", mean="mu", log_var="log_var"."""
    from ..errors import UsageError
    from ..families import get_family, regression_families
    from ..families.conditional import regresses
    from .columns import logit_columns

    family = get_family(distribution, 1)
    if not (regresses(family) and family.prediction_inputs):
        scored = [name for name in regression_families() if get_family(name, 1).prediction_inputs]
        raise UsageError(f"score-model judges {', '.join(scored)} predictions, not {family.name}")
    given = {"--" + key.replace("_", "-"): value for key, value in columns.items() if value is not None}
    scale_flag = family.constant_scale_flag
    if sigma is not None:
        given[scale_flag or "--sigma"] = sigma
    items = family.prediction_inputs
    takes = [i.flag for i in items] + ([scale_flag] if scale_flag else [])
    extra = [flag for flag in given if flag not in takes]
    if extra:
        raise UsageError(f"{' and '.join(extra)} {'is' if len(extra) == 1 else 'are'} not for {family.name} "
                         f"predictions (it takes {', '.join(takes)})")
    required = next(i for i in items if i.required)
    if required.flag not in given:
        raise UsageError(f"{family.name} predictions need {required.flag} COLUMN")
    if required.many:
        found = logit_columns(given[required.flag], names, label)
        if len(found) < 2:
            raise UsageError(f"{required.flag} names {len(found)} column; a {family.name} model has a column per "
                             "class (2 or more)")
        return Spec(family, target, found, [required.role] * len(found))
    used = [i for i in items if i.flag in given]
    predicted_scale = [i.flag for i in used if not i.required]
    if predicted_scale and sigma is not None:
        raise UsageError(f"{predicted_scale[0]} and {scale_flag} do not go together: the variance is predicted or "
                         "fixed")
    if sigma is not None and not (math.isfinite(sigma) and sigma > 0):
        raise UsageError(f"{scale_flag} {sigma} is not a positive number")
    return Spec(family, target, [given[i.flag] for i in used], [i.role for i in used], sigma)
