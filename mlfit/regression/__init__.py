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
from ..errors import UsageError
from .design import Design, Held, PastTheLimit, design_of, read_design
from .fit import fit_design
from .result import RegressionResult
from .row_options import NO_ROW_OPTIONS, RowOptions

__all__ = ["regress_file", "regress", "RegressionResult", "Design", "RowOptions"]
STANDARD_ERRORS = ("model", "robust")


def regress_file(source: str, formula: str, distribution: str, *, sigma: str | None = None,
                 weights: str | None = None, level: float = 0.95, read_options: ReadOptions = DEFAULT,
                 extras: RowOptions = NO_ROW_OPTIONS, se: str = "model", whole: bool = False) -> RegressionResult:
    """Fit `formula` ("y ~ x1 + C(group)") to a CSV file (or '-' for standard input) under a
    family (any of `families.regression_families()`). `sigma`: the terms of the log of the
    family's scale or shape ("~ x1"); `weights`: a column of case/frequency weights; `extras`:
    trials, censoring, an exposure or an offset; `se`: "model" (the observed information) or
    "robust" (the sandwich, HC0). `whole`: hold the whole design, within the in-memory limit, where a
    big one would be built and fitted chunk by chunk (the plot and the report's figures draw every
    row)."""
    from . import held, streamed

    family = _family(distribution, extras, se)
    chunked = getattr(family, "solver", None) not in (None, "least absolute deviations") and not extras.columns() \
        and se == "model" and not whole
    design = read_design(source, formula, family, sigma=sigma, weights=weights, options=read_options,
                         limit=streamed.IN_MEMORY_CELLS, extras=extras,
                         hold_beyond=held.HELD_CELLS if chunked else None)
    if isinstance(design, Held):  # big: the design built and fitted chunk by chunk, in memory
        rows = held.HeldRows(source, read_options, design.chunks, design.rest, formula, family, sigma, weights,
                             design.wanted)
        return streamed.fit_rows(family, rows, level=level)
    if isinstance(design, PastTheLimit):  # too big to hold: passes over the file
        if extras.columns() or se != "model":
            raise UsageError(f"{source}: --trials COLUMN, censoring, --exposure, --offset and --se robust need the "
                             "rows in memory, and this file is past the in-memory limit: fit a sample of its rows "
                             "(shuf -n 2000000), or write the offset in the formula (offset(np.log(x)))")
        return streamed.fit_streamed(family, source, formula, sigma=sigma, weights=weights, options=read_options,
                                     wanted=design.wanted, level=level)
    return fit_design(family, design, level=level, sigma_formula=sigma, se=se)


def regress(data, formula: str, distribution: str, *, sigma: str | None = None, weights: str | None = None,
            level: float = 0.95, extras: RowOptions = NO_ROW_OPTIONS, se: str = "model") -> RegressionResult:
    """The same for data in memory: a pandas DataFrame or a dict of equal-length columns; None
    and NaN are missing cells (their rows are left out and counted)."""
    columns = frame_columns(data)
    family = _family(distribution, extras, se)
    design = design_of("<data>", columns, formula, family, sigma=sigma, weights=weights, extras=extras)
    return fit_design(family, design, level=level, sigma_formula=sigma, se=se)


def _family(distribution: str, extras: RowOptions, se: str):
    """The family, built with its trials: a number for every row, or (a column) one per row later."""
    from ..families import family_class, one_family

    if se not in STANDARD_ERRORS:
        raise UsageError(f"--se is one of {', '.join(STANDARD_ERRORS)}, not {se!r}")
    trials = extras.trials
    if isinstance(trials, str):
        if "trials" not in family_class(distribution).needs:
            return one_family(distribution, 1)  # (refuses the --trials it would ignore)
        return get_family(distribution, 1)
    return one_family(distribution, trials)  # (binomial without --trials: one line saying so)
