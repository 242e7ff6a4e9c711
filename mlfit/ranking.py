"""Which family wins: fit every family the column admits and rank them by AIC.

A family that cannot fit the column stays in the list with the reason, so a user never
wonders whether it was tried. Which families are tried is decided by the same checks `mlfit fit`
makes of each family's values, so compare never proposes what fit refuses, nor the reverse.

A categorical fit with about one category per row (more categories than half the rows) only
memorises the column: it is listed with a warning, never ranked, so it cannot "win" on a column
of measurements or identifiers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .columns import DEFAULT, Column, ReadOptions
from .data import accepted_share, iter_columns, require_column_for_weights, support_values, text_cells
from .errors import DataError, MlfitError
from .families import canonical, registered_families
from .families.distribution import RealLine
from .result import FitResult


SATURATION = 0.5  # a categorical with more categories than this share of its rows is not ranked


@dataclass(frozen=True)
class Candidate:
    distribution: str
    result: FitResult | None = None
    error: str | None = None
    delta_aic: float | None = None
    weight: float | None = None  # Akaike weight: exp(-delta/2), normalised over the ranked families
    warning: str | None = None  # fitted but not ranked: why
    saturated: bool = False  # the categorical of a column of whole numbers: the ceiling, not a candidate

    @property
    def ranked(self) -> bool:
        return self.result is not None and self.warning is None

    def to_dict(self, rank: int | None, deviance: dict | None = None) -> dict:
        if self.result is None:
            return {"distribution": self.distribution, "fitted": False, "error": self.error}
        if self.warning is not None:
            return {"rank": None, "fitted": True, "ranked": False, "saturated": self.saturated,
                    "warning": self.warning, **self.result.to_dict()}
        return {"rank": rank, "fitted": True, "ranked": True, **self.result.to_dict(), "delta_aic": self.delta_aic,
                "akaike_weight": self.weight, **({"deviance": deviance} if deviance else {})}


@dataclass(frozen=True)
class Ranking:
    source: str
    column: str
    candidates: list  # ranked ones best first, then those fitted but not ranked, then the ones that failed
    mixes_densities: bool  # continuous and discrete families ranked together
    level: float = 0.95  # goodness of fit accepts a family whose smallest p-value is at least 1 - level
    notes: list = field(default_factory=list)  # what the reader must know about the column itself
    censored: bool = False  # ranked on censored rows: no goodness-of-fit test exists for them here

    @property
    def fitted(self) -> list:
        return [c for c in self.candidates if c.result is not None]

    @property
    def ranked(self) -> list:
        return [c for c in self.candidates if c.ranked]

    @property
    def winner(self) -> Candidate | None:
        return self.ranked[0] if self.ranked else None

    @property
    def best(self) -> str | None:
        """The winner's name (best by AIC among the ranked families), or None."""
        return self.winner.distribution if self.winner else None

    @property
    def table(self):
        """A pandas DataFrame, one row per family in the ranking's order: k, log-likelihood, AIC,
        BIC, delta-AIC, Akaike weight, whether it is ranked, and why not (or the error)."""
        import pandas as pd

        rows = []
        for candidate in self.candidates:
            result = candidate.result
            rows.append({"family": candidate.distribution, "k": result.inference.k if result else None,
                         "log_likelihood": result.log_likelihood if result else None,
                         "aic": result.aic if result else None, "bic": result.bic if result else None,
                         "delta_aic": candidate.delta_aic, "weight": candidate.weight, "ranked": candidate.ranked,
                         "note": candidate.error or candidate.warning})
        return pd.DataFrame(rows).set_index("family")

    # The estimates' questions are the winner's: params, bse, cov_params(), conf_int(level).
    def _winner_result(self) -> FitResult:
        if self.winner is None:
            raise MlfitError(f"{self.source}: column '{self.column}': no family was ranked, so there are no "
                             "estimates to give")
        return self.winner.result

    @property
    def params(self):
        return self._winner_result().params

    @property
    def bse(self):
        return self._winner_result().bse

    def cov_params(self):
        return self._winner_result().cov_params()

    def conf_int(self, level: float | None = None):
        return self._winner_result().conf_int(level)

    @property
    def log_likelihood(self) -> float:
        return self._winner_result().log_likelihood

    @property
    def aic(self) -> float:
        return self._winner_result().aic

    @property
    def bic(self) -> float:
        return self._winner_result().bic

    def summary(self) -> str:
        """The comparison as the table view prints it, as text."""
        from .report import print_ranking, printed_text

        return printed_text(print_ranking, self)

    def plot(self, path: str | None = None):
        """`mlfit compare --plot`: the best few families' densities, CDFs, Q-Q and P-P panels over the
        data (the fits must hold their values); to `path`, or returned as a matplotlib Figure."""
        from .plots import draw_comparison

        return draw_comparison(self, path)

    def report(self, path: str | None = None, *, figures: bool = True, description=None) -> str:
        """`mlfit report`'s page of this comparison (with `description`, mlfit.describe's, the
        column's shape too): written to `path` where one is given, and returned."""
        from .page import ranking_page, write_page

        return write_page(ranking_page(self, description, figures=figures and self._drawable()), path)

    def _drawable(self) -> bool:
        import importlib.util

        return importlib.util.find_spec("matplotlib") is not None and self.winner is not None \
            and self.winner.result.values is not None

    def _repr_html_(self) -> str:
        """The report's content, as a notebook shows it (figures where the fits hold their values)."""
        from .page import ranking_body

        if self.winner is None:
            return self.table.to_html(float_format=lambda v: f"{v:.6g}", na_rep="")
        return _scoped(ranking_body(self, figures=self._drawable()))

    def __repr__(self) -> str:
        ranked = ", ".join(f"{c.distribution} {c.result.aic:.6g}" for c in self.ranked[:3])
        more = f", ... {len(self.ranked) - 3} more" if len(self.ranked) > 3 else ""
        return (f"<Ranking of '{self.column}' in {self.source}: best {self.best}; AIC {ranked}{more}; "
                f"{len(self.candidates) - len(self.ranked)} not ranked>")

    @property
    def saturated(self) -> FitResult | None:
        """The categorical fit of a column of whole numbers (each observed value its own
        probability): the most any model of these counts can reach."""
        return next((c.result for c in self.candidates if c.saturated), None)

    def deviance(self, result: FitResult) -> dict | None:
        """A count family's likelihood-ratio goodness of fit against the saturated model: G^2 =
        2 (NLL - NLL_saturated) on (categories - 1) - k degrees of freedom, and its chi-square p-value
        (an approximation that wants most observed values seen several times)."""
        ceiling = self.saturated
        if ceiling is None or result.family.continuous or result is ceiling:
            return None
        df = ceiling.inference.k - result.inference.k
        if df < 1:  # as many parameters as observed values, or more: nothing left to test
            return None
        g2 = max(2.0 * (result.nll - ceiling.nll), 0.0)
        return {"g2": g2, "df": df, "p_value": float(special.chdtrc(df, g2))}

    def to_dict(self) -> dict:
        ranks = {id(c): i + 1 for i, c in enumerate(self.ranked)}
        out = {"file": self.source, "column": self.column,
               "winner": self.winner.distribution if self.winner else None,
               "verdict": self.verdict(),
               "fits": [c.to_dict(ranks.get(id(c)), c.result and c.ranked and self.deviance(c.result))
                        for c in self.candidates]}
        if self.note or self.notes:
            out["note"] = " ".join([*self.notes, self.note]).strip()
        return out

    @property
    def note(self) -> str:
        if self.mixes_densities:
            return ("continuous and discrete families are ranked together: a density is ranked with the count "
                    f"families' probabilities only where, at the fit, it is within {DISCRETISATION_AIC:g} AIC "
                    "units of the probability it gives the whole numbers observed (each x as x - 1/2 .. x + 1/2)")
        return ""

    def verdict(self) -> dict:
        """Which family is best by AIC, and whether goodness of fit accepts any ranked family: its
        smallest p-value at least alpha = 1 - level."""
        alpha = 1.0 - self.level
        accepted, rejected, untested = [], [], []
        for candidate in self.ranked:
            p = smallest_p_value(candidate.result)
            (untested if p is None else accepted if p >= alpha else rejected).append(candidate.distribution)
        best = self.winner.distribution if self.winner else None
        if best is None:
            text = "no family could be ranked"
        else:
            text = f"best by AIC: {best}; "
            if accepted:
                text += f"goodness of fit accepts {', '.join(accepted)} (p >= {alpha:.3g})"
                if best not in accepted:
                    text += f", not {best}"
            elif rejected and not untested:
                text += f"no family fits: every goodness-of-fit p < {alpha:.3g}"
            elif rejected:
                text += (f"goodness of fit rejects {', '.join(rejected)} (p < {alpha:.3g}); "
                         f"{', '.join(untested)} untested (run with --gof-bootstrap N for p-values)")
            elif self.censored:
                text += "no goodness-of-fit test on censored rows (KS, CvM and AD need exact values)"
            else:
                text += "goodness of fit not tested (run with --gof-bootstrap N for p-values)"
        return {"best_by_aic": best, "alpha": alpha, "accepted": accepted, "rejected": rejected,
                "untested": untested, "text": text}


def smallest_p_value(result) -> float | None:
    """The smallest of a fit's goodness-of-fit p-values (chi-square, or KS/CvM/AD from a
    bootstrap); None when it has none."""
    values = [p for p in result.gof.p_values.values() if p is not None]
    return min(values) if values else None


# A family that fails with one of these is listed as unable to fit; other errors are the file's.
CANDIDATE_FAILURES = ("value", "empty", "degenerate", "size")


@dataclass
class Survey:
    """What one pass over a column finds: which supports refuse it (with the fit's own reason, from
    the same check `mlfit fit` makes), whether it writes true/false, how many of its values are
    numbers, and whether it has more than two distinct values."""

    families: list = field(default_factory=registered_families)
    source: str = ""
    column: str = ""
    values: int = 0
    numbers: float = 0.0
    true_false: bool = False
    distinct: set = field(default_factory=set)  # up to three distinct values: are there more than two?
    refusals: dict = field(default_factory=dict)  # {support key: the fit's message for the first value refused}

    @property
    def supports(self) -> dict:
        """{key: a family with that support}: each support is checked once."""
        return {family.support.key: family for family in reversed(self.families) if family.support.numeric}

    def add(self, data: Column) -> None:
        self.source, self.column = data.source, data.name
        if not len(data.values):
            return
        self.values += len(data.values)
        self.true_false = self.true_false or _writes_true_false(data)
        if len(self.distinct) < 3:  # (a sort per chunk, only until a third value turns up)
            cells = data.values if data.values.dtype.kind in "biuf" else text_cells(data.values, data.decimal).to_numpy()
            self.distinct.update(np.unique(cells)[:3].tolist())
        for key, family in self.supports.items():
            if key not in self.refusals:
                try:
                    support_values(data, family)
                except DataError as error:
                    self.refusals[key] = str(error)
        self.numbers += accepted_share(data, RealLine()) * len(data.values)

    def merge(self, other: "Survey") -> "Survey":
        """Two surveys of parts of a column, this one's part first (a cluster merges them)."""
        return Survey(self.families, self.source or other.source, self.column or other.column,
                      self.values + other.values, self.numbers + other.numbers, self.true_false or other.true_false,
                      set(sorted(self.distinct | other.distinct, key=repr)[:3]),
                      {**other.refusals, **self.refusals})

    def accepts(self, family) -> bool:
        return not family.support.numeric or family.support.key not in self.refusals

    @property
    def candidates(self) -> list[str]:
        """The families whose support holds every value. A family that accepts anything (labels) is
        offered only for whole numbers or text, and a continuous family not for a column of two
        whole numbers (0/1): a density for a yes/no column says nothing."""
        if not self.values:
            return [f.name for f in self.families if not f.support.numeric or f.support.accepts_true_false]
        accepted = [f for f in self.families if self.accepts(f)]
        discrete = any(f.support.numeric and not f.continuous for f in accepted)
        numeric = any(f.support.numeric for f in accepted)
        names = []
        for family in accepted:
            if family.support.catch_all and numeric and not discrete:
                continue
            if family.continuous and discrete and len(self.distinct) == 2:
                continue
            names.append(family.name)
        return names

    @property
    def broken_numbers(self) -> bool:
        """Text only because some cells are not numbers, while most are."""
        numeric = any(f.support.numeric and self.accepts(f) for f in self.families)
        return self.values > 0 and not numeric and self.numbers >= 0.5 * self.values

    @property
    def settled(self) -> bool:
        """Nothing read later can change the candidates (a text column of mostly text)."""
        return len(self.refusals) == len(self.supports) and self.numbers < 0.5 * self.values


def _writes_true_false(data: Column) -> bool:
    if data.values.dtype.kind == "b":
        return True
    if data.values.dtype.kind in "iuf":
        return False
    return bool(text_cells(data.values, data.decimal).str.lower().isin(["true", "false"]).any())


def candidate_families(values: np.ndarray, decimal: str = ".", trials: int | None = None) -> list[str]:
    """The families whose support admits every value (see Survey.candidates)."""
    found = Survey(registered_families(trials))
    found.add(Column("<data>", "x", values, np.arange(1, len(values) + 1), 0, decimal))
    return found.candidates


def survey(source: str, column: str | None, *, read_options: ReadOptions = DEFAULT, whole: bool = True,
           trials: int | None = None) -> Survey:
    """One pass over the column in bounded memory (without `whole`, the first chunk only)."""
    found = Survey(registered_families(trials))
    for [data] in iter_columns(source, None if column is None else [column], options=read_options,
                               only_one=column is None):
        found.add(data)
        if not whole or found.settled:
            break
    return found


def compare_values(values, distributions=None, *, name: str | None = None, weights=None, level: float = 0.95,
                   **options) -> Ranking:
    """`mlfit.compare`: compare_file for values in memory (a list, a numpy array, a pandas Series,
    whose name is the column's): the families their support admits (or `distributions`), fitted
    and ranked alike; a Ranking with `best`, `table` (a DataFrame), `summary()` and `to_dict()` (the
    CLI's JSON). Options as `mlfit.fit`."""
    from .fits import fit
    from .columns import column_name, memory_column

    name = column_name(values, name)
    if distributions:
        names = list(dict.fromkeys(canonical(d) for d in distributions))
    else:
        kept = memory_column(values, name, text=True).values
        as_numbers = kept.astype(float) if len(kept) and all(isinstance(v, (int, float, np.number)) and
                                                             not isinstance(v, bool) for v in kept) else kept
        names = candidate_families(as_numbers, trials=options.get("trials"))

    def outcome(distribution):
        try:
            return fit(values, distribution, name=name, weights=weights, level=level, **options)
        except MlfitError as error:
            return error

    fitted, unranked, failed = _sorted_out((d, outcome(d)) for d in names)
    return _ranking("<data>", name, fitted, unranked, failed, level, [])


def compare_file(source: str, column: str | None = None, distributions=None, *, weights: str | None = None,
                 read_options: ReadOptions = DEFAULT, level: float = 0.95, keep_values: bool = False,
                 **options) -> Ranking:
    """Fit each family (those the column admits, or `distributions`) and rank them by AIC.
    Each family's fit streams over the file as `mlfit.fit_file` does, so memory stays bounded;
    choosing the families takes one more pass. `keep_values` holds each fit's values (the
    comparison plot needs them). Options as `mlfit.fit_file`."""
    from .fits import fit_file

    require_column_for_weights(column, weights)
    trials = options.get("trials")
    found = survey(source, column, read_options=read_options, whole=not distributions, trials=trials)
    notes = []
    names = list(dict.fromkeys(canonical(d) for d in distributions)) if distributions else found.candidates
    if not distributions and found.broken_numbers:
        # Most cells are numbers: the families of any real number are tried and say which cell stops them.
        real_line = [f for f in found.families if f.support.key == RealLine().key]
        names = [*(f.name for f in real_line), *names]
        share = found.numbers / found.values
        notes.append(f"column '{found.column}' looks numeric ({share:.0%} of its cells are numbers), but "
                     f"{_after_column(found.refusals[RealLine().key])}: only families of labels can take it, as text")
    def outcome(distribution):
        try:
            return fit_file(source, distribution, found.column if column is None else column, weights=weights,
                            read_options=read_options, level=level, keep_values=keep_values, **options)
        except MlfitError as error:
            return error

    fitted, unranked, failed = _sorted_out((name, outcome(name)) for name in names)
    return _ranking(found.source, found.column, fitted, unranked, failed, level, notes)


def _sorted_out(outcomes) -> tuple[list, list, list]:
    """(name, FitResult or MlfitError) pairs as the results to rank, the fitted ones not ranked
    (with why), and the families that could not fit (an error of another kind is raised)."""
    fitted, unranked, failed = [], [], []
    for distribution, result in outcomes:
        if isinstance(result, MlfitError):
            if result.kind not in CANDIDATE_FAILURES:
                raise result
            failed.append(Candidate(distribution, error=str(result)))
            continue
        memorises = _saturated(result)
        if memorises:
            unranked.append(Candidate(distribution, result, warning=memorises))
        else:
            fitted.append(result)
    counts = [r for r in fitted if r.family.support.numeric and not r.family.continuous]
    for result in [r for r in fitted if r.labels is not None and counts]:
        # On whole numbers the categorical gives each observed value its own probability: the
        # saturated model, which every count family is measured against, not a rival to them.
        fitted.remove(result)
        unranked.insert(0, Candidate(result.distribution, result, saturated=True, warning=(
            f"the saturated model ({len(result.labels)} observed value{'s' if len(result.labels) != 1 else ''}, "
            "each its own probability): the ceiling "
            "each count family's deviance is measured from, not a candidate")))
    if any(not r.family.continuous and r.family.support.numeric for r in fitted):  # whole numbers
        for result in [r for r in fitted if r.family.continuous]:
            why = _density_on_whole_numbers(result)
            if why:
                fitted.remove(result)
                unranked.append(Candidate(result.distribution, result, warning=why))
    return fitted, unranked, failed


def _ranking(source, column, fitted, unranked, failed, level, notes, censored=False) -> Ranking:
    fitted = sorted(fitted, key=lambda r: r.aic)
    best = fitted[0].aic if fitted else math.nan
    scores = [math.exp(-(r.aic - best) / 2) for r in fitted]
    total = sum(scores)
    candidates = [Candidate(r.distribution, r, delta_aic=r.aic - best, weight=s / total)
                  for r, s in zip(fitted, scores)]
    kinds = {r.family.continuous for r in fitted}
    return Ranking(source, column, candidates + unranked + failed, mixes_densities=len(kinds) > 1,
                   level=level, notes=notes, censored=censored)


def compare_censored(data, distributions=None, *, level: float = 0.95, **options) -> Ranking:
    """Rank continuous families by AIC on censored rows (see mlfit.censored): by default every
    family a censored fit takes whose support holds each row's pseudo-value (the exact value, the
    known bound, or the interval's middle)."""
    from .censored import fit_censored

    if distributions:
        names = list(dict.fromkeys(canonical(d) for d in distributions))
    else:
        pseudo = data.pseudo_values()
        names = [f.name for f in registered_families() if f.continuous and not f.uncensorable
                 and not f.support.violations(pseudo).any()]
    fitted, failed = [], []
    for distribution in names:
        try:
            fitted.append(fit_censored(data, distribution, level=level, **options))
        except MlfitError as error:
            if error.kind not in CANDIDATE_FAILURES:
                raise
            failed.append(Candidate(distribution, error=str(error)))
    counts = ", ".join(f"{n} {kind}" for kind, n in data.counts().items() if n)
    return _ranking(data.source, data.name, fitted, [], failed, level,
                    [f"censored rows ({counts}): each family's likelihood is its density at the exact rows and "
                     "its probability of the censored ones"], censored=True)


# A density's AIC is ranked with the count families' only while it stays within this many AIC units
# of the probability it gives the whole numbers observed.
DISCRETISATION_AIC = 4.0


def _density_on_whole_numbers(result) -> str | None:
    """Why a continuous family fitted to whole numbers is not ranked with the count families: its
    density at each x differs from the probability P(x - 1/2 < X <= x + 1/2) it gives the whole number
    x (a density near 0 for small counts, an exponential's 0.6 at 0 against a poisson's 0.2), by more
    than DISCRETISATION_AIC in AIC. For counts spread over hundreds of values they agree to a
    fraction of an AIC unit, and the two kinds rank together."""
    values, weights = result.values, result.weights
    if values is None:
        return ("a density on whole numbers, past the in-memory limit: whether its AIC is comparable with the "
                "count families' cannot be checked, so it is not ranked with them")
    family, params = result.family, result.estimate
    with np.errstate(all="ignore"):
        density = family.log_prob(values, params)
        low, high = family.log_cdf(values - 0.5, params), family.log_cdf(values + 0.5, params)
        low_sf, high_sf = family.log_sf(values - 0.5, params), family.log_sf(values + 0.5, params)
        # log(F(b) - F(a)) in the left half, log(S(a) - S(b)) in the right: neither loses digits in its tail
        left = high + np.log1p(-np.exp(low - high))
        right = low_sf + np.log1p(-np.exp(high_sf - low_sf))
        probability = np.where(high < np.log(0.5), left, right)
        gaps = density - probability
        gap = float(np.sum(gaps) if weights is None else weights[weights > 0] @ gaps[weights > 0])
    if np.isfinite(gap) and 2 * abs(gap) <= DISCRETISATION_AIC:
        return None
    return (f"a density on whole numbers: its log-likelihood is {gap:.4g} away from the log-probability it gives "
            "the whole numbers observed (each x as x - 1/2 .. x + 1/2), so its AIC is not comparable with the "
            "count families' and it is listed but not ranked")


def _saturated(result) -> str | None:
    """Why a categorical fit is not ranked: about one category per row."""
    if result.labels is None or len(result.labels) <= SATURATION * result.n:
        return None
    return (f"{len(result.labels):,} categories for {result.n:,} rows: with nearly one category per row the "
            "fit memorises the column, so it is listed but not ranked")


def _after_column(message: str) -> str:
    """'file: column 'x', row 3: 'a' is not a number' -> "row 3: 'a' is not a number"."""
    return message.split("', ", 1)[-1] if "', row " in message else message


def _scoped(body: str) -> str:
    """A report's body with its style, for a notebook cell."""
    from .page import STYLE

    return f"<style>{STYLE}</style>\n{body}"
