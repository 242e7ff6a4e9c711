"""The reliability diagram (calibrate --plot): per bin of confidence, the accuracy against the
mean confidence, before and after temperature scaling, with the bins' counts."""

from __future__ import annotations

import numpy as np


def draw_reliability(result, path: str | None = None):
    from ..plots import _pyplot, finished

    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(11, 5), sharey=True)
    edges = np.linspace(0, 1, result.before.bins + 1)
    width = edges[1] - edges[0]
    for axis, (name, c) in zip(axes, (("before", result.before), (f"after (T = {result.temperature:.4g})",
                                                                    result.after))):
        used = c.counts > 0
        axis.bar(edges[:-1][used], c.accuracy[used], width=width, align="edge", edgecolor="black", alpha=0.7,
                 label="accuracy")
        axis.plot([0, 1], [0, 1], color="black", linewidth=1, linestyle="--", label="perfect calibration")
        axis.plot(c.confidence[used], c.accuracy[used], marker="o", color="tab:red", linestyle="none",
                  label="each bin: mean confidence, accuracy")
        for left, accuracy, count in zip(edges[:-1][used], c.accuracy[used], c.counts[used]):
            axis.annotate(f"{int(count):,}", (left + width / 2, min(accuracy + 0.02, 0.98)), ha="center", fontsize=7)
        axis.set(xlabel="confidence (largest probability)", title=f"{name}: ECE {c.ece:.4f}", xlim=(0, 1), ylim=(0, 1))
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left", fontsize=8)
    figure.tight_layout()
    return finished(figure, path)
