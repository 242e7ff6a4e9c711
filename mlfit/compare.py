"""Which family wins: fit every family the column admits and rank them by AIC.

A family that cannot fit the column stays in the list with the reason, so a user never
wonders whether it was tried.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import DEFAULT, ReadOptions, iter_columns, require_column_for_weights, text_cells
from .errors import MlfitError
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


# What a column's values are, from most to least particular, and the families each admits.
FAMILIES_BY_KIND = {
    None: ["bernoulli", "categorical"],  # no values at all: each family will say so
    "true/false": ["bernoulli", "categorical"],
    "0/1": ["bernoulli", "poisson", "categorical"],
    "counts": ["poisson", "categorical"],
    "numbers": ["normal", "laplace"],
    "text": ["categorical"],
}
NUMERIC_KINDS = ("0/1", "counts", "numbers")  # each admits the ones before it
# A family that fails with one of these is listed as unable to fit; other errors are the file's.
CANDIDATE_FAILURES = ("value", "empty", "degenerate")


def candidate_families(values: np.ndarray, decimal: str = ".") -> list[str]:
    """The families whose support admits every value: 0/1 columns are bernoulli, poisson or
    categorical; counts poisson or categorical; other numbers normal or laplace; text categorical."""
    return FAMILIES_BY_KIND[kind_of(values, decimal)]


def kind_of(values: np.ndarray, decimal: str = ".") -> str | None:
    """The kind of a column's (or a chunk's) values: see FAMILIES_BY_KIND."""
    if not len(values):
        return None
    if values.dtype.kind == "b":
        return "true/false"
    if values.dtype.kind in "iuf":
        numbers = values.astype(float)
    else:  # text, as written (some cell in the chunk was not a number to pandas)
        cells = text_cells(values, decimal)
        if cells.str.lower().isin(["true", "false"]).all():
            return "true/false"
        numbers = pd.to_numeric(cells, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(numbers).all():  # NaN: a cell that is not a number
        return "text"
    if np.isin(numbers, [0.0, 1.0]).all():
        return "0/1"
    if (numbers >= 0).all() and (numbers == np.floor(numbers)).all():
        return "counts"
    return "numbers"


def joined_kind(first: str | None, second: str | None) -> str | None:
    """The kind of two parts of a column taken together."""
    if first is None or second is None or first == second:
        return first or second
    if first in NUMERIC_KINDS and second in NUMERIC_KINDS:
        return max(first, second, key=NUMERIC_KINDS.index)
    return "text"  # true/false with numbers, or anything with text


def survey(source: str, column: str | None, *, read_options: ReadOptions = DEFAULT,
           whole: bool = True) -> tuple[str, str, str | None]:
    """The file's label, the column's name, and (`whole`) the kind of all its values, from one
    pass in bounded memory; without `whole`, only the first chunk is read."""
    kind = None
    for [data] in iter_columns(source, None if column is None else [column], options=read_options,
                               only_one=column is None):
        kind = joined_kind(kind, kind_of(data.values, data.decimal))
        if not whole or kind == "text":  # nothing read later can change a text column's kind
            break
    return data.source, data.name, kind


def compare_file(source: str, column: str | None = None, distributions=None, *, weights: str | None = None,
                 read_options: ReadOptions = DEFAULT, **options) -> Ranking:
    """Fit each family (those the column admits, or `distributions`) and rank them by AIC.
    Each family's fit streams over the file as `mlfit.fit_file` does, so memory stays bounded;
    choosing the families takes one more pass. Options as `mlfit.fit_file`."""
    from .api import fit_file

    require_column_for_weights(column, weights)
    label, name, kind = survey(source, column, read_options=read_options, whole=not distributions)
    names = list(dict.fromkeys(distributions)) if distributions else FAMILIES_BY_KIND[kind]
    fitted, failed = [], []
    for distribution in names:
        try:
            fitted.append(fit_file(source, distribution, name, weights=weights, read_options=read_options, **options))
        except MlfitError as error:
            if error.kind not in CANDIDATE_FAILURES:
                raise
            failed.append(Candidate(distribution, error=str(error)))
    fitted.sort(key=lambda r: r.aic)
    best = fitted[0].aic if fitted else math.nan
    scores = [math.exp(-(r.aic - best) / 2) for r in fitted]
    total = sum(scores)
    candidates = [Candidate(r.distribution, r, delta_aic=r.aic - best, weight=s / total)
                  for r, s in zip(fitted, scores)]
    kinds = {r.family.continuous for r in fitted}
    return Ranking(label, name, candidates + failed, mixes_densities=len(kinds) > 1)
