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
from ..underflow import UnderflowReport, feed, report, running_products
from .columns import Spec, read_chunks
from .stability import Stability


@dataclass(frozen=True)
class Rows:
    """What the loss functions take of a chunk (a regress Design's fields they read)."""
    y: np.ndarray
    n: int
    weights: None = None


def predictors(spec: Spec, inputs: np.ndarray, scale: float | None) -> np.ndarray:
    """The family's linear predictors from the prediction columns. A categorical model's logits
    are taken relative to the first class's (softmax does not change when all logits shift)."""
    name = spec.family.name
    if name == "categorical":
        return inputs[:, 1:] - inputs[:, :1]
    if name in ("bernoulli", "poisson"):
        return inputs[:, :1]
    mean = inputs[:, 0]
    if inputs.shape[1] > 1:  # a log-variance (normal) or a log-b (laplace) column
        log_scale = 0.5 * inputs[:, 1] if name == "normal" else inputs[:, 1]
    else:
        log_scale = np.full(len(mean), math.log(scale))
    return np.column_stack([mean, log_scale])


@dataclass(frozen=True)
class ModelScore:
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
            name = "sigma" if self.spec.family.name == "normal" else "b"
            out[name] = {"value": self.scale, "estimated": self.scale_estimated}
        out.update(self.extra)
        return out


def score_model(source: str, spec: Spec, options: ReadOptions = DEFAULT) -> ModelScore:
    from ..regression.fit import loss_report, loss_sums

    label = "<stdin>" if source == "-" else source
    family = spec.family
    scale, estimated = spec.sigma, False
    constant_scale = family.name in ("normal", "laplace") and len(spec.inputs) == 1
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
        etas = predictors(spec, chunk.inputs, scale)
        if first_etas is None:
            first_etas = etas[:1]
        with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
            rows = family.conditional_nll(chunk.y, etas)[0]
        feed(products, -rows, None, written_out=True)
        nll += float(rows.sum())
        n += len(chunk.y)
        for key, value in loss_sums(family, Rows(chunk.y, len(chunk.y)), etas).items():
            sums[key] = sums.get(key, 0.0) + value
        if family.name == "laplace":  # the loss a training loop would write with a predicted log b
            b = np.exp(etas[:, 1])
            sums["laplace"] = sums.get("laplace", 0.0) + float(np.sum(np.abs(chunk.y - etas[:, 0]) / b
                                                                      + np.log(2.0 * b)))
        stability.add(family.name, chunk.y, chunk.inputs, scale)
        if family.name == "bernoulli":
            correct += float(np.sum((chunk.inputs[:, 0] > 0) == (chunk.y > 0.5)))
        elif family.name == "categorical":
            correct += float(np.sum(np.argmax(chunk.inputs, axis=1) == chunk.y))
    if n == 0:
        raise DataError(f"{label}: no row has every used column ({', '.join([spec.target, *spec.inputs])}); "
                        "there is nothing to score", kind="empty")
    learns_scale = family.name == "normal" and not constant_scale
    if family.name == "laplace" and not constant_scale:
        value = sums["laplace"] / n
        loss = {"name": "Laplace NLL with a predicted scale: mean of |y - mu|/b + log(2b)", "value": value,
                "identity": "NLL = n * mean(|y - mu|/b + log(2b))", "nll_from_loss": n * value}
    else:
        loss = loss_report(family, sums, first_etas, nll, learns_scale)
    accuracy = correct / n if family.name in ("bernoulli", "categorical") else None
    return ModelScore(label, spec, n, dropped, nll, loss, accuracy, stability.to_dict(nll),
                      report(products, nll, n, False), scale if constant_scale else None, estimated,
                      stability.impossible_rows())


def _estimated_scale(source, spec, options) -> float:
    """The maximum-likelihood constant scale given the predicted means: sigma^2 = mean squared
    residual (normal), b = mean absolute residual (laplace). A pass over the file of its own."""
    total = count = 0.0
    for chunk in read_chunks(source, spec, options):
        r = chunk.y - chunk.inputs[:, 0]
        total += float(np.sum(r * r) if spec.family.name == "normal" else np.sum(np.abs(r)))
        count += len(r)
    if count == 0:
        return 1.0
    scale = math.sqrt(total / count) if spec.family.name == "normal" else total / count
    if scale == 0:
        raise DataError(f"{source}: every prediction equals its target, so the best constant scale is 0 and the "
                        "likelihood has no maximum; give --sigma (or a log-variance / log-b column)")
    return scale


def make_spec(distribution: str, target: str, *, logit=None, logits=None, mean=None, log_var=None, sigma=None,
              log_b=None, log_rate=None, names: list[str], label: str) -> Spec:
    """Which prediction columns the family reads, checked: each family takes its own flags only."""
    from ..errors import UsageError
    from ..families import get_family
    from .columns import logit_columns

    family = get_family(distribution)
    given = {"--logit": logit, "--logits": logits, "--mean": mean, "--log-var": log_var, "--sigma": sigma,
             "--log-b": log_b, "--log-rate": log_rate}
    takes = {"bernoulli": ("--logit",), "categorical": ("--logits",), "normal": ("--mean", "--log-var", "--sigma"),
             "laplace": ("--mean", "--log-b"), "poisson": ("--log-rate",)}
    needs = {"bernoulli": "--logit", "categorical": "--logits", "normal": "--mean", "laplace": "--mean",
             "poisson": "--log-rate"}
    if family.name not in takes:
        raise UsageError(f"score-model judges normal, laplace, bernoulli, categorical and poisson predictions, not "
                         f"{family.name}")
    extra = [flag for flag, value in given.items() if value is not None and flag not in takes[family.name]]
    if extra:
        raise UsageError(f"{' and '.join(extra)} {'is' if len(extra) == 1 else 'are'} not for {family.name} "
                         f"predictions (it takes {', '.join(takes[family.name])})")
    if given[needs[family.name]] is None:
        raise UsageError(f"{family.name} predictions need {needs[family.name]} COLUMN")
    if family.name == "bernoulli":
        return Spec(family, target, [logit], ["logit"])
    if family.name == "categorical":
        columns = logit_columns(logits, names, label)
        if len(columns) < 2:
            raise UsageError(f"--logits names {len(columns)} column; a categorical model has a logit per class (2 or "
                             "more)")
        return Spec(family, target, columns, ["logit"] * len(columns))
    if family.name == "poisson":
        return Spec(family, target, [log_rate], ["log_rate"])
    if family.name == "normal":
        if log_var is not None and sigma is not None:
            raise UsageError("--log-var and --sigma do not go together: the variance is predicted or fixed")
        if sigma is not None and not (math.isfinite(sigma) and sigma > 0):
            raise UsageError(f"--sigma {sigma} is not a positive number")
        return Spec(family, target, [mean, *([log_var] if log_var else [])],
                    ["mean", *(["log_var"] if log_var else [])], sigma)
    return Spec(family, target, [mean, *([log_b] if log_b else [])], ["mean", *(["log_b"] if log_b else [])])
