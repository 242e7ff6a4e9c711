"""Conditional models: a family whose mean (probability, rate) is a linear function of columns,
fitted by minimising the NLL, which is a training loss in disguise.

    >>> import mlfit.regression as regress
    >>> result = regress.regress_file("tests/data/nist/Norris.csv", "y ~ x", "normal")
    >>> round(result.to_dict()["coef"]["x"], 6)
    1.002117

formulaic (the formula parser) is imported only here, on first use.
"""

from __future__ import annotations

from ..columns import DEFAULT, ReadOptions, frame_columns
from ..families import get_family
from .design import Design, PastTheLimit, design_of, read_design
from .fit import fit_design
from .result import RegressionResult

__all__ = ["regress_file", "regress", "RegressionResult", "Design"]


def regress_file(source: str, formula: str, distribution: str, *, sigma: str | None = None,
                 weights: str | None = None, level: float = 0.95,
                 read_options: ReadOptions = DEFAULT) -> RegressionResult:
    """Fit `formula` ("y ~ x1 + C(group)") to a CSV file (or '-' for standard input) under a
    family (normal, laplace, bernoulli, categorical, poisson). `sigma`: the terms of the normal
    model's log standard deviation ("~ x1"); `weights`: a column of case/frequency weights."""
    from . import streamed

    family = get_family(distribution)
    design = read_design(source, formula, family, sigma=sigma, weights=weights, options=read_options,
                         limit=streamed.IN_MEMORY_CELLS)
    if isinstance(design, PastTheLimit):  # too big to hold: passes over the file
        return streamed.fit_streamed(family, source, formula, sigma=sigma, weights=weights, options=read_options,
                                     wanted=design.wanted, level=level)
    return fit_design(family, design, level=level, sigma_formula=sigma)


def regress(data, formula: str, distribution: str, *, sigma: str | None = None, weights: str | None = None,
            level: float = 0.95) -> RegressionResult:
    """The same for data in memory: a pandas DataFrame or a dict of equal-length columns; None
    and NaN are missing cells (their rows are left out and counted)."""
    columns = frame_columns(data)
    family = get_family(distribution)
    design = design_of("<data>", columns, formula, family, sigma=sigma, weights=weights)
    return fit_design(family, design, level=level, sigma_formula=sigma)
