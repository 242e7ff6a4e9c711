"""The coach's candidate curves: score parameter values someone proposes against the data,
next to the maximum-likelihood fit, to show that "most believable" means "smallest NLL"."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .columns import DEFAULT, ReadOptions
from .errors import UsageError
from .data import read_weighted
from .families import get_family
from .params import parse_assignments, resolve
from .underflow import underflow_report


@dataclass(frozen=True)
class Score:
    label: str  # as the user wrote it, or "MLE"
    params: dict  # JSON-ready
    nll: float  # inf when some row is impossible under these parameters
    n: int
    excess: float  # NLL minus the MLE's NLL
    log10_likelihood: float
    first_zero_at: int | None  # where the raw float64 product of the rows hits 0.0
    first_inf_at: int | None
    impossible_row: int | None  # the first data row with probability 0, if any

    def to_dict(self) -> dict:
        finite = math.isfinite(self.nll)
        return {
            "candidate": self.label,
            "params": self.params,
            "nll": self.nll if finite else None,
            "mean_nll": self.nll / self.n if finite else None,
            "nll_excess": self.excess if finite else None,
            "log10_likelihood": self.log10_likelihood if finite else None,
            "float64_underflows": self.first_zero_at is not None,
            "float64_first_zero_at": self.first_zero_at,
            "float64_first_inf_at": self.first_inf_at,
            "impossible_row": self.impossible_row,
        }


@dataclass(frozen=True)
class Scoring:
    source: str
    column: str
    distribution: str
    candidates: list  # best (smallest NLL) first
    mle: Score

    def to_dict(self) -> dict:
        return {"file": self.source, "column": self.column, "distribution": self.distribution,
                "candidates": [c.to_dict() for c in self.candidates], "mle": self.mle.to_dict()}


def score_file(source: str, distribution: str, column: str | None, candidates: list[str], *,
               weights: str | None = None, read_options: ReadOptions = DEFAULT, trials: int | None = None) -> Scoring:
    from .fits import fit_column

    if distribution.startswith("scipy:"):
        if weights is not None or trials is not None:
            raise UsageError("scipy:NAME candidates are scored without --weights or --trials")
        return _score_scipy(source, distribution, column, candidates, read_options)
    family = get_family(distribution, trials)
    data = read_weighted(source, column, weights, text=not family.support.numeric, options=read_options)
    fitted = fit_column(data, family)
    values, stats = fitted.values, fitted.stats
    encoded = family.encode(values, stats)

    def score(label, params):
        log_probs = family.log_prob(encoded, params)
        nll = float(family.nll(stats, params))
        impossible = np.flatnonzero(~np.isfinite(log_probs) & (fitted.weights is None or fitted.weights > 0))
        report = underflow_report(log_probs, nll, fitted.weights).precisions["float64"]
        return Score(label, fitted.plain(params), nll, stats.n, nll - fitted.nll, -nll / math.log(10),
                     report.first_zero_at, report.first_inf_at,
                     int(data.rows[impossible[0]]) if impossible.size else None)

    scored = [score(text, resolve(family, stats, parse_assignments(text), complete=True,
                                  what=f"candidate '{text}'")) for text in candidates]
    scored.sort(key=lambda s: s.nll)
    return Scoring(data.source, data.name, family.name, scored, score("MLE", fitted.estimate))


def _score_scipy(source: str, name: str, column: str | None, candidates: list[str], read_options) -> Scoring:
    """Candidates of a scipy.stats distribution (its parameters by scipy's names, every one given),
    scored with scipy's log-densities beside mlfit's fit of it."""
    import warnings

    from .zoo import scipy_of_file

    fitted = scipy_of_file(source, name, column, read_options=read_options)
    x, (_, dist) = fitted.values, _scipy(name)
    log_density = dist.logpdf if hasattr(dist, "logpdf") else dist.logpmf

    def score(label, params):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            log_probs = log_density(x, *params.values())
        nll = -float(np.sum(log_probs))
        nll = nll if np.isfinite(nll) else math.inf
        impossible = np.flatnonzero(~np.isfinite(log_probs))
        report = underflow_report(log_probs, nll).precisions["float64"]
        return Score(label, dict(params), nll, len(x), nll - fitted.nll, -nll / math.log(10), report.first_zero_at,
                     report.first_inf_at, int(impossible[0]) + 1 if impossible.size else None)

    names = list(fitted.params)
    scored = []
    for text in candidates:
        given = parse_assignments(text)
        if sorted(given) != sorted(names):
            raise UsageError(f"candidate '{text}': {name} takes {', '.join(names)} (every one), not "
                             f"{', '.join(given) or 'nothing'}")
        try:
            params = {n: float(given[n]) for n in names}
        except (TypeError, ValueError):
            raise UsageError(f"candidate '{text}': every value must be a number") from None
        scored.append(score(text, params))
    scored.sort(key=lambda s: s.nll)
    return Scoring(fitted.source, fitted.column, fitted.name, scored, score("MLE", fitted.params))


def _scipy(name: str):
    from .zoo import distribution

    return distribution(name)
