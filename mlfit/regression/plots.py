"""The regression plot (--plot): fitted against observed, residuals (a calibration curve for
probabilities), a Q-Q plot of the residuals, and the NLL along one coefficient. The numbers of
each panel come from `panels` (tested); `draw_regression` only draws them."""

from __future__ import annotations

import numpy as np
from ..errors import UsageError
from ..families import get_family

CALIBRATION_BINS = 10


def panels(result) -> dict:
    if result.divergence is not None:
        raise UsageError("no plot of a model whose maximum-likelihood estimate does not exist")
    if result.passes:
        raise UsageError("the regression plot draws every row, and this fit went over them in passes: a design of "
                         "more than 2^22 cells is built chunk by chunk unless asked to hold it whole (--plot does; "
                         "in Python, regress(..., whole=True)), and past 2^25 cells it is not held at all")
    family, y = result.family, result.model.y
    weights = result.model.weights
    out = {"distribution": family.name}
    if family.outcome not in ("binary", "classes"):
        found = family.residuals(y, result.fitted)
        mean, residual = found["mean"], found["residual"]
        out["fitted"] = (mean, y)
        out["residual_name"] = found["name"]
        out["residuals"] = (mean, residual)
        ordered = np.sort(residual)
        positions = (np.arange(1, len(ordered) + 1) - 0.5) / len(ordered)
        reference, params = found["reference"]
        out["qq"] = (get_family(reference).quantile(positions, params), ordered, reference)
    else:
        probabilities = result.fitted["p"]
        binary = family.outcome == "binary"
        if binary:
            predicted, observed = probabilities, y
        else:  # every class's predicted probability against whether the row is of that class
            predicted = probabilities.ravel()
            observed = (np.arange(probabilities.shape[1])[None, :] == y[:, None]).astype(float).ravel()
        w = np.ones(len(observed)) if weights is None else np.repeat(weights, len(predicted) // len(weights))
        out["calibration"] = calibration_bins(predicted, observed, w)
        chosen = probabilities if binary else probabilities[np.arange(len(y)), y]
        out["observed_probability"] = chosen
    index = _slice_index(result)
    estimate = float(result.coef[index])
    se = result.se
    spread = 4.0 * float(se[index]) if se is not None and se[index] > 0 else max(abs(estimate), 1.0)
    grid = np.linspace(estimate - spread, estimate + spread, 81)
    out["landscape"] = (result.labels()[index], grid, result.nll_along(index, grid), estimate)
    return out


def calibration_bins(predicted: np.ndarray, observed: np.ndarray, weights: np.ndarray, bins: int = CALIBRATION_BINS):
    """Equal-width bins of predicted probability: each bin's mean prediction, observed frequency
    and weight (empty bins left out)."""
    which = np.minimum((predicted * bins).astype(int), bins - 1)
    total = np.bincount(which, weights=weights, minlength=bins)
    mean_predicted = np.bincount(which, weights=weights * predicted, minlength=bins)
    frequency = np.bincount(which, weights=weights * observed, minlength=bins)
    used = total > 0
    return mean_predicted[used] / total[used], frequency[used] / total[used], total[used]


def _slice_index(result) -> int:
    """The first coefficient that is not an intercept (or the intercept alone)."""
    labels = result.labels()
    for i, label in enumerate(labels):
        if not label.endswith("Intercept") and np.isfinite(result.coef[i]):
            return i
    return 0


def draw_regression(result, path: str | None = None):
    from ..plots import _pyplot, finished

    data = panels(result)
    plt = _pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(10, 8))
    (first, second), (third, fourth) = axes
    if "fitted" in data:
        fitted, observed = data["fitted"]
        first.scatter(fitted, observed, s=10, alpha=0.6)
        low, high = min(fitted.min(), observed.min()), max(fitted.max(), observed.max())
        first.plot([low, high], [low, high], color="black", linewidth=1)
        first.set(xlabel="fitted mean", ylabel="observed", title="fitted vs observed")
        mean, residual = data["residuals"]
        second.scatter(mean, residual, s=10, alpha=0.6)
        second.axhline(0, color="black", linewidth=1)
        second.set(xlabel="fitted mean", ylabel=data["residual_name"], title="residuals")
        theory, ordered, against = data["qq"]
        third.scatter(theory, ordered, s=10)
        third.plot(theory, theory, color="black", linewidth=1)
        third.set(xlabel=f"{against} quantile", ylabel=data["residual_name"], title="Q-Q plot of the residuals")
    else:
        predicted, frequency, weight = data["calibration"]
        first.plot([0, 1], [0, 1], color="black", linewidth=1)
        first.plot(predicted, frequency, marker="o")
        first.set(xlabel="mean predicted probability", ylabel="observed frequency", title="calibration")
        second.bar(np.arange(len(weight)), weight)
        second.set(xlabel="bin of predicted probability", ylabel="rows", title="rows per bin")
        third.hist(data["observed_probability"], bins=20)
        third.set(xlabel="predicted probability of the observed class", ylabel="rows",
                  title="how likely the model found each row")
    label, grid, nll, estimate = data["landscape"]
    fourth.plot(grid, nll)
    fourth.axvline(estimate, color="black", linestyle="--", linewidth=1)
    fourth.set(xlabel=label, ylabel="NLL", title="NLL along one coefficient (the others at the MLE)")
    figure.suptitle(f"{result.distribution} regression: {result.formula}")
    figure.tight_layout()
    return finished(figure, path)
