"""Which family wins: fit every family the column admits and rank them by AIC.

A family that cannot fit the column stays in the list with the reason, so a user never
wonders whether it was tried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import DEFAULT, ReadOptions, read_weighted
from .errors import MlfitError
from .families import get_family
from .result import FitResult


@dataclass(frozen=True)
class Candidate:
    distribution: str
    result: FitResult | None = None
    error: str | None = None
    delta_aic: float | None = None
    weight: float | None = None  # Akaike weight: exp(-delta/2), normalised over the fitted families

    def to_dict(self, rank: int | None) -> dict:
        if self.result is None:
            return {"distribution": self.distribution, "fitted": False, "error": self.error}
        return {"rank": rank, "fitted": True, **self.result.to_dict(), "delta_aic": self.delta_aic,
                "akaike_weight": self.weight}


@dataclass(frozen=True)
class Ranking:
    source: str
    column: str
    candidates: list  # fitted ones best first, then the ones that failed
    mixes_densities: bool  # continuous and discrete families ranked together

    @property
    def fitted(self) -> list:
        return [c for c in self.candidates if c.result is not None]

    @property
    def winner(self) -> Candidate | None:
        return self.fitted[0] if self.fitted else None

    def to_dict(self) -> dict:
        out = {"file": self.source, "column": self.column,
               "winner": self.winner.distribution if self.winner else None,
               "fits": [c.to_dict(i + 1 if c.result is not None else None) for i, c in enumerate(self.candidates)]}
        if self.note:
            out["note"] = self.note
        return out

    @property
    def note(self) -> str:
        if self.mixes_densities:
            return ("continuous and discrete families are ranked together, but a density and a "
                    "probability are not on one scale: their AICs are not comparable")
        return ""


def candidate_families(values: np.ndarray, decimal: str = ".") -> list[str]:
    """The families whose support admits every value: 0/1 columns are bernoulli, poisson or
    categorical; counts poisson or categorical; other numbers normal or laplace; text categorical."""
    cells = pd.Series(values, dtype=object).astype(str).str.strip()
    if decimal != ".":
        cells = cells.str.replace(decimal, ".", regex=False)
    lowered = cells.str.lower()
    if lowered.isin(["true", "false"]).all():
        return ["bernoulli", "categorical"]
    numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
    if np.isnan(numbers).any() or not np.isfinite(numbers).all():
        return ["categorical"]
    if np.isin(numbers, [0.0, 1.0]).all():
        return ["bernoulli", "poisson", "categorical"]
    if (numbers >= 0).all() and (numbers == np.floor(numbers)).all():
        return ["poisson", "categorical"]
    return ["normal", "laplace"]


def compare_file(source: str, column: str | None = None, distributions=None, *, weights: str | None = None,
                 read_options: ReadOptions = DEFAULT, **options) -> Ranking:
    """Fit each family (those the column admits, or `distributions`) and rank them by AIC.
    Options as `mlfit.fit_file`."""
    from .api import fit_column

    # Read once, as text: each family then parses the cells itself (numbers from the text).
    data = read_weighted(source, column, weights, text=True, options=read_options)
    names = list(dict.fromkeys(distributions)) if distributions else candidate_families(data.values, data.decimal)
    fitted, failed = [], []
    for name in names:
        family = get_family(name)
        try:
            fitted.append(fit_column(data, family, **options))
        except MlfitError as error:
            failed.append(Candidate(name, error=str(error)))
    fitted.sort(key=lambda r: r.aic)
    best = fitted[0].aic if fitted else math.nan
    scores = [math.exp(-(r.aic - best) / 2) for r in fitted]
    total = sum(scores)
    candidates = [Candidate(r.distribution, r, delta_aic=r.aic - best, weight=s / total)
                  for r, s in zip(fitted, scores)]
    kinds = {r.family.continuous for r in fitted}
    return Ranking(data.source, data.name, candidates + failed, mixes_densities=len(kinds) > 1)

