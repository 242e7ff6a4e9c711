"""Poisson family: its NLL is the Poisson NLL loss (with the log x! Stirling term kept)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .base import Family, NonNegative, NonNegativeIntegers, Parameter, xlogy


@dataclass(frozen=True)
class Counts:
    n: int
    total: float
    sum_log_factorial: float  # sum of log(x!): constant in lam, but part of the true NLL

    @classmethod
    def of(cls, values: np.ndarray) -> "Counts":
        return cls(len(values), float(np.sum(values)), float(np.sum(special.gammaln(values + 1))))

    def merge(self, other: "Counts") -> "Counts":
        return Counts(
            self.n + other.n, self.total + other.total, self.sum_log_factorial + other.sum_log_factorial
        )


class Poisson(Family):
    name = "poisson"
    parameters = (Parameter("lam", NonNegative()),)
    support = NonNegativeIntegers()
    loss = "Poisson NLL"

    def summarize(self, values):
        return Counts.of(values)

    def closed_form(self, stats):
        return {"lam": stats.total / stats.n}

    def start(self, stats):
        return {"lam": 1.0}  # log-rate 0: no knowledge of the data

    def nll(self, stats, params):
        lam = params["lam"]
        return float(stats.n * lam - xlogy(stats.total, lam) + stats.sum_log_factorial)

    def objective(self, stats, u):
        (log_lam,) = u
        lam = np.exp(log_lam)
        mean = stats.total / stats.n
        value = lam - mean * log_lam + stats.sum_log_factorial / stats.n
        return float(value), np.array([lam - mean])

    def hessian(self, stats, u):
        return np.array([[np.exp(u[0])]])

    def standard_errors(self, stats, params):
        return {"lam": float(np.sqrt(params["lam"] / stats.n))}

    def profile_nll(self, stats, name, value, index=None):
        return self.nll(stats, {"lam": value})

    def frequency_table(self, values, stats, params):
        # Each count up to the largest seen, then the unseen tail beyond it as one more cell.
        top = int(values.max())
        observed = np.append(np.bincount(values.astype(np.int64), minlength=top + 1), 0).astype(float)
        probabilities = np.exp(self.log_prob(np.arange(top + 1, dtype=float), params))
        probabilities = np.append(probabilities, special.pdtrc(top, params["lam"]))  # P(X > top)
        return [str(k) for k in range(top + 1)] + [f">{top}"], observed, probabilities

    def log_prob(self, encoded, params):
        lam = params["lam"]
        return xlogy(encoded, lam) - lam - special.gammaln(encoded + 1)
