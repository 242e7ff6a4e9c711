"""Categorical family: its NLL is cross-entropy in disguise."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Family, Parameter, Predictor, Simplex, xlogy
from .distribution import Labels
from .conditional import Conditional, PredictionInput


@dataclass(frozen=True)
class CategoryCounts:
    categories: tuple[str, ...]  # sorted, so chunks agree on the order
    counts: np.ndarray

    @property
    def n(self) -> float:
        total = self.counts.sum()
        return int(total) if self.counts.dtype.kind in "iu" else float(total)

    @classmethod
    def of(cls, labels: np.ndarray, weights: np.ndarray | None = None) -> "CategoryCounts":
        categories, codes = np.unique(labels.astype(str), return_inverse=True)
        counts = np.bincount(codes, weights=weights, minlength=len(categories))
        return cls(tuple(categories.tolist()), counts if weights is not None else counts.astype(np.int64))

    def merge(self, other: "CategoryCounts") -> "CategoryCounts":
        merged = dict(zip(self.categories, self.counts.tolist()))
        for label, count in zip(other.categories, other.counts.tolist()):
            merged[label] = merged.get(label, 0) + count
        categories = tuple(sorted(merged))
        return CategoryCounts(categories, np.array([merged[c] for c in categories], dtype=self.counts.dtype))


def _binomial_crossing(excess, estimate: np.ndarray, direction: int) -> np.ndarray:
    """Where excess(v) turns positive on one side of each estimate (elementwise), or the edge 0 or
    1 where it never does. Bisection in logit(v): each step halves every bracket at once."""
    edge = 0.0 if direction < 0 else 1.0
    with np.errstate(divide="ignore"):
        start = special.logit(estimate)
    far = np.full(len(estimate), -745.0 if direction < 0 else 37.0)  # expit of these is 0 or 1 in float64
    at_edge = (estimate == edge) | (excess(special.expit(far)) <= 0)
    inside, outside = np.where(np.isfinite(start), start, -far), far
    for _ in range(200):
        middle = 0.5 * (inside + outside)
        out = excess(special.expit(middle)) > 0
        inside, outside = np.where(out, inside, middle), np.where(out, middle, outside)
        if np.all(at_edge | (np.abs(outside - inside) <= 1e-15 * np.maximum(1.0, np.abs(inside)))):
            break
    ends = special.expit(0.5 * (inside + outside))
    return np.where(at_edge, edge, ends)


class Categorical(Conditional, Family):
    name = "categorical"
    parameters = (Parameter("p", Simplex()),)
    support = Labels()
    loss = "cross-entropy"

    def summarize(self, values, weights=None):
        return CategoryCounts.of(values, weights)

    def labels(self, stats):
        return list(stats.categories)

    def reference(self, stats):
        return {"p": stats.counts / stats.n}

    def start(self, stats):
        k = len(stats.categories)
        return {"p": np.full(k, 1.0 / k)}  # all logits 0: no knowledge of the data

    def nll(self, stats, params):
        return float(-np.sum(xlogy(stats.counts, params["p"])))

    def objective(self, stats, u):
        logits = np.append(u, 0.0)
        frequencies = stats.counts / stats.n
        value = special.logsumexp(logits) - frequencies @ logits
        grad = special.softmax(logits) - frequencies
        return float(value), grad[:-1]

    def hessian(self, stats, u):
        p = special.softmax(np.append(u, 0.0))[:-1]
        return np.diag(p) - np.outer(p, p)

    def solve_hessian(self, stats, u, vector, free):
        # The Hessian of the softmax logits is diag(q) - q q' (q: all probabilities but the last,
        # p_K), whose inverse is diag(1/q) + 1 1'/p_K: O(K) work and memory, not O(K^2) and O(K^3).
        p = special.softmax(np.append(u, 0.0))
        q, last = p[:-1][free], p[-1]
        if last <= 0 or np.any(q <= 0):
            raise np.linalg.LinAlgError("a probability underflowed to 0")
        return vector / q + vector.sum() / last

    def profile_intervals(self, stats, params, name, threshold):
        # Holding p_j = v, the others share 1 - v in proportion to their counts, so the profile NLL
        # is a binomial one: -c log v - (n - c) log(1 - v) + const. Its likelihood-ratio interval
        # is found for every category at once, by bisection in logit(v).
        counts = np.asarray(stats.counts, dtype=float)
        n = counts.sum()
        share = counts / n

        def excess(v):
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # v / share of 1e-315: inf, outside
                return 2 * (-xlogy(counts, v / share) - xlogy(n - counts, (1 - v) / (1 - share))) - threshold

        return _binomial_crossing(excess, share, -1), _binomial_crossing(excess, share, +1)

    def standard_errors(self, stats, params, fixed=()):
        p = params["p"]  # the multinomial covariance is (diag(p) - p p') / n
        return {"p": np.sqrt(p * (1 - p)) / np.sqrt(stats.n)}

    def correlation(self, stats, params, fixed=()):
        p = np.asarray(params["p"], dtype=float)  # of (diag(p) - p p') / n
        with np.errstate(invalid="ignore", divide="ignore"):
            spread = np.sqrt(p * (1 - p))
            correlation = -np.outer(p, p) / np.outer(spread, spread)
        np.fill_diagonal(correlation, 1.0)
        return correlation

    def profile_nll(self, stats, name, value, index=None):
        # With p[index] held, the other categories share 1 - p[index] in proportion to their counts.
        counts = stats.counts
        rest = counts.sum() - counts[index]
        p = counts * (1 - value) / rest if rest else np.zeros(len(counts))
        p[index] = value
        return self.nll(stats, {"p": p})

    def frequency_table(self, values, stats, params):
        return list(stats.categories), stats.counts.astype(float), np.asarray(params["p"], dtype=float)

    def loss_report(self, stats, params):
        n = stats.n
        cross_entropy = float(-np.sum(xlogy(stats.counts / n, params["p"])))
        return {
            "name": self.loss,
            "cross_entropy_nats": cross_entropy,
            "cross_entropy_bits": cross_entropy / np.log(2),
            "perplexity": float(np.exp(cross_entropy)),
            "identity": "NLL = n*CE (in nats); perplexity = exp(CE)",
            "nll_from_loss": n * cross_entropy,
        }

    def encode(self, values, stats):
        return np.searchsorted(np.array(stats.categories), values.astype(str))

    def log_prob(self, encoded, params):
        with np.errstate(divide="ignore"):  # a category of probability 0 (or below 1e-308) has log -inf
            log_p = np.log(params["p"])
        if log_p.ndim == 2:  # one probability vector per row (a conditional model)
            return np.take_along_axis(log_p, np.asarray(encoded)[:, None], axis=1)[:, 0]
        return log_p[encoded]

    # The conditional model: multinomial logit (softmax) with the first class as the reference,
    # whose logit is 0; the loss cross-entropy, through log-sum-exp.
    def predictors(self, classes=None):
        return [Predictor(f"logit[{c}]", "softmax", "mean") for c in (classes or [])[1:]]

    def conditional_nll(self, y, etas, order=0):
        logits = np.column_stack([np.zeros(len(y)), etas])
        normalizer = special.logsumexp(logits, axis=1)
        value = normalizer - np.take_along_axis(logits, y[:, None], axis=1)[:, 0]
        if order == 0:
            return value, None, None
        p = np.exp(logits[:, 1:] - normalizer[:, None])
        observed = np.zeros_like(p)
        has_class = y > 0
        observed[np.flatnonzero(has_class), y[has_class] - 1] = 1.0
        gradient = p - observed
        if order == 1:
            return value, gradient, None
        hessian = -p[:, :, None] * p[:, None, :]
        k = p.shape[1]
        hessian[:, np.arange(k), np.arange(k)] += p
        return value, gradient, hessian

    def conditional_params(self, etas):
        return {"p": special.softmax(np.column_stack([np.zeros(len(etas)), etas]), axis=1)}

    solver = "multinomial newton"
    separation = "classes"
    outcome = "classes"
    prediction_inputs = (PredictionInput("--logits", "logit", required=True, many=True),)

    def etas_from_predictions(self, inputs, scale):
        return inputs[:, 1:] - inputs[:, :1]  # relative to the first class's: softmax is the same

    def predicted_class(self, inputs):
        return np.argmax(inputs, axis=1)

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        with np.errstate(all="ignore"):
            e = np.exp(inputs.astype(dtype))
            p = e / e.sum(axis=1, keepdims=True)
            return np.log(p[np.arange(len(y)), y]), ~np.isfinite(e).all(axis=1)

    def intercept_only(self, totals):
        if totals["offset_total"] is not None:
            return None
        shares = totals["class_weights"] / totals["weight"]
        with np.errstate(divide="ignore"):
            return list(np.log(shares[1:]) - np.log(shares[0]))

    def loss_sums(self, y, etas, w):
        logits = np.column_stack([np.zeros(len(y)), etas])
        log_softmax = logits - special.logsumexp(logits, axis=1, keepdims=True)
        return {"weight": float(w.sum()), "ce": float(w @ -log_softmax[np.arange(len(y)), y])}

    def conditional_loss(self, sums, first_etas, learns_scale):
        ce = sums["ce"] / sums["weight"]
        return {"name": "cross-entropy of log-softmax (torch.nn.CrossEntropyLoss)", "value": ce,
                "identity": "NLL = n*CE", "nll_from_loss": sums["weight"] * ce}
