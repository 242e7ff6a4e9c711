"""What the families whose NLL is no framework's named loss share in regress: the loss is the
mean NLL itself, residuals are quantile residuals, and the fit starts from the intercepts alone.

gamma, negbinomial, geometric, binomial, beta, student_t and the survival families mix this in
beside `Conditional`: each then declares only its predictors, its NLL with exact derivatives, its
parameters row by row and each row's mean.
"""

from __future__ import annotations

import numpy as np
from scipy import special


class LikelihoodLoss:
    solver = "newton"
    scale_formula = True
    deviance_definition = "-2 * log-likelihood (a density has no saturated model that bounds it)"
    se_note = ("se: the inverse observed information at the MLE (with a non-canonical link it differs from the "
               "expected information R's glm uses by a few percent)")

    def loss_sums(self, y, etas, w):
        with np.errstate(all="ignore"):
            rows = self.conditional_nll(y, etas)[0]
        return {"weight": float(w.sum()), "nll": float(w @ rows)}

    def conditional_loss(self, sums, first_etas, learns_scale):
        total = sums["weight"]
        value = sums["nll"] / total
        return {"name": f"mean {self.name} NLL per row", "value": value,
                "identity": "NLL = n*loss: no framework names this loss; the mean NLL is what a training loop "
                "minimises", "nll_from_loss": total * value}

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        # (score-model reads no prediction columns for these families; kept for the protocol)
        raise NotImplementedError(f"{self.name}: score-model reads no predictions of this family")

    def residuals(self, y, fitted):
        """Quantile residuals (Dunn and Smyth): Phi^-1 of each row's CDF at its response, standard
        normal where the model holds; for counts, at the middle of the jump, F(y - 1) + p(y)/2; for
        a censored row, at the middle of its bounds' CDFs (F(left) + F(right))/2, where the CDF
        of its unseen value lies."""
        distribution = self.as_scipy(fitted)
        with np.errstate(all="ignore"):
            if self.support.discrete:
                probability = distribution.cdf(y - 1) + 0.5 * distribution.pmf(y)
            else:
                probability = distribution.cdf(y)
                bounds = self.row_input("bounds", len(y)) if "bounds" in self.row_inputs else None
                if bounds is not None:
                    censored = bounds[:, 0] != bounds[:, 1]
                    middle = 0.5 * (distribution.cdf(bounds[:, 0]) + distribution.cdf(bounds[:, 1]))
                    probability = np.where(censored, middle, probability)
            residual = special.ndtri(np.clip(probability, 1e-300, 1 - 1e-16))
        return {"mean": self.row_mean(fitted), "residual": residual, "name": "quantile residual",
                "reference": ("normal", {"mu": 0.0, "sigma": 1.0})}


def log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x <= 0, accurate at both ends (Maechler's switch at -log 2)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))
