"""Goodness of fit: does the fitted distribution describe the data, not just beat the others?

Continuous families: the Kolmogorov-Smirnov, Cramer-von Mises and Anderson-Darling statistics
of the data against the fitted CDF, defined as R's fitdistrplus::gofstat defines them. Their
textbook p-values assume the parameters were known in advance; fitted from the same data they
are far too kind, so p-values come only from a parametric bootstrap that refits every replicate.

Continuous families also get Filliben's probability-plot correlation (scipy's goodness_of_fit
"filliben"): the correlation of the sorted data with the fitted quantiles at the medians of the
uniform order statistics; a small one is a bad fit, so its p-value counts replicates at or below it.

Discrete families: Pearson's chi-square over cells pooled until each expects at least 5 rows
(`chisq_cells` "pooled", the default). fitdistrplus's gofstat picks cells from the observed data
instead ("fitdistrplus": about n / (4n)^(2/5) rows a cell, cut at observed values, and no pooling),
and the two rules can disagree at 5 % (R's discoveries: p 0.157 pooled, 0.028 by fitdistrplus's
cells). Explicit cell edges (`chisq_breaks`) give the cells (-inf, b1], (b1, b2], ..., (bk, inf),
for any family; so does "fitdistrplus" for continuous ones, beside KS, CvM and AD.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
from scipy import special

from .fitting import best_fit
from .inference import free_parameter_count
from .weights import whole

MIN_EXPECTED = 5.0
CHISQ_CELLS = ("pooled", "fitdistrplus")
# Filliben's statistic needs the medians of the uniform order statistics, Beta(k, n + 1 - k): exact
# (scipy's betaincinv, 0.3 s at 10^5) up to this many rows; beyond it Kerman's (k - 1/3)/(n + 1/3),
# within 1e-4 of them at k = 2 and closer further in, with the exact ones at the first and last rows.
EXACT_MEDIANS = 20_000
EXACT_ENDS = 100
FILLIBEN_WRITTEN_OUT = 10_000_000  # weighted rows written out for Filliben's statistic, at most


@dataclass(frozen=True)
class GoodnessOfFit:
    statistics: dict  # {"ks": ..., "cvm": ..., "ad": ...} or {"chi2": ...}
    p_values: dict = field(default_factory=dict)  # {"ks_pvalue": ...} when they exist
    df: int | None = None  # chi-square degrees of freedom
    cells: list | None = None  # chi-square cells after pooling: [label, observed, expected]
    bootstrap: int = 0
    note: str = ""

    def to_dict(self) -> dict:
        out = {**self.statistics, **self.p_values}
        if self.df is not None:
            out["df"] = self.df
            out["cells"] = self.cells
        if self.bootstrap:
            out["bootstrap"] = self.bootstrap
        if self.note:
            out["note"] = self.note
        return out


def edf_statistics(log_cdf: np.ndarray, log_sf: np.ndarray) -> dict:
    """KS, CvM and AD from the fitted log-CDF and log-survival at the sorted data."""
    n = len(log_cdf)
    cdf = np.exp(log_cdf)
    i = np.arange(1, n + 1)
    ks = max(np.max(i / n - cdf), np.max(cdf - (i - 1) / n))
    cvm = 1.0 / (12 * n) + np.sum((cdf - (2 * i - 1) / (2 * n)) ** 2)
    # Logs of the CDF and survival function directly, so the tails do not round to log(0).
    ad = -n - np.mean((2 * i - 1) * (log_cdf + log_sf[::-1]))
    return {"ks": float(ks), "cvm": float(cvm), "ad": float(ad)}


def weighted_edf_statistics(log_cdf: np.ndarray, log_sf: np.ndarray, counts: np.ndarray) -> dict:
    """KS, CvM and AD of sorted values each written out `counts` (whole numbers) times, without
    writing them out: a block of w equal values after a earlier ones covers ranks a+1 .. a+w, and
    each statistic's sum over those ranks has a closed form."""
    keep = counts > 0
    log_cdf, log_sf, w = log_cdf[keep], log_sf[keep], counts[keep].astype(float)
    n = w.sum()
    # in shares of n, so that weights of 1e300 neither overflow nor lose the sums
    share = w / n
    after = np.minimum(np.cumsum(share), 1.0)
    before = after - share
    cdf = np.exp(log_cdf)
    ks = max(np.max(after - cdf), np.max(cdf - before))
    # sum over the block of (F - (2i-1)/(2n))^2 = w (F - mean)^2 + w (w^2 - 1) / (12 n^2)
    middle = (before + after) / 2
    cvm = 1.0 / (12 * n) + n * np.sum(share * (cdf - middle) ** 2 + share * (share * share - 1 / n / n) / 12)
    # sum over the block of (2i-1) = w (2a + w), and of (2n+1-2i) = w (2n - 2a - w)
    ad = -n - n * np.sum(share * ((2 * before + share) * log_cdf + (2 - 2 * before - share) * log_sf))
    return {"ks": float(ks), "cvm": float(cvm), "ad": float(ad)}


BOOTSTRAP_ROWS = 10_000_000  # a bootstrap replicate draws as many rows as the data holds


def goodness_of_fit(family, values, stats, params, bootstrap: int = 0, seed: int = 0, fixed=None,
                    weights=None, chisq_cells: str = "pooled", chisq_breaks=None) -> GoodnessOfFit:
    """`fixed` parameters were held, not estimated: they cost no degrees of freedom, and each
    bootstrap replicate is refitted with them held too. With `weights`, the EDF statistics are
    those of the rows written out weight times (whole-number weights only), computed without
    writing them out. `chisq_cells` and `chisq_breaks`: see the module's docstring."""
    fixed = fixed or {}
    if family.continuous:
        if not whole(weights):
            return GoodnessOfFit({}, note="no KS, CvM or AD: they need whole-number weights")
        gof = _continuous(family, values, params, bootstrap, seed, fixed, weights)
        if chisq_breaks is None and chisq_cells == "pooled":
            return gof
        return _with_chisq(gof, _chisq_of_values(family, values, weights, stats, params, fixed, chisq_cells,
                                                 chisq_breaks))
    if chisq_breaks is not None or chisq_cells != "pooled":
        return _chisq_of_counts(family, values, stats, params, fixed, chisq_cells, chisq_breaks)
    return _discrete(family, values, stats, params, fixed)


def _edf(family, values, params, weights=None) -> dict:
    if weights is None:
        ordered = np.sort(values)
        statistics = edf_statistics(family.log_cdf(ordered, params), family.log_sf(ordered, params))
        return {**statistics, "filliben": filliben(family, ordered, params)}
    order = np.argsort(values, kind="stable")
    ordered, counts = values[order], weights[order]
    statistics = weighted_edf_statistics(family.log_cdf(ordered, params), family.log_sf(ordered, params), counts)
    if counts.sum() <= FILLIBEN_WRITTEN_OUT:  # (its order-statistic medians need the rows written out)
        statistics["filliben"] = filliben(family, np.repeat(ordered, counts.astype(np.int64)), params)
    return statistics


def _continuous(family, values, params, bootstrap, seed, fixed, weights=None) -> GoodnessOfFit:
    observed = _edf(family, values, params, weights)
    notes = []
    infinite = [name for name, value in observed.items() if not np.isfinite(value)]
    if infinite:  # a value on the fitted support's edge (uniform's smallest and largest): CDF 0 or 1 there
        observed = {name: value for name, value in observed.items() if name not in infinite}
        notes.append(f"no {', '.join(name.upper() for name in infinite)}: infinite, as some values sit on the edge "
                     "of the fitted support (a CDF of exactly 0 or 1)")
    if bootstrap <= 0:
        return GoodnessOfFit(observed, note="; ".join([*notes, "no p-values: run with --gof-bootstrap N for them"]))
    rows = len(values) if weights is None else float(weights.sum())
    if rows > BOOTSTRAP_ROWS:
        notes.append(f"no p-values: each bootstrap replicate would draw {rows:.4g} rows (at most {BOOTSTRAP_ROWS:,})")
        return GoodnessOfFit(observed, note="; ".join(notes))
    rng = np.random.default_rng(seed)
    exceed = dict.fromkeys(observed, 0)
    for _ in range(bootstrap):
        replicate = family.sample(rng, params, int(rows))
        refit = best_fit(family, family.summarize(replicate), fixed)
        statistics = _edf(family, replicate, refit)
        for name in exceed:  # (a small correlation is the bad fit: Filliben's tail is the lower one)
            exceed[name] += (statistics[name] <= observed[name] if name == "filliben"
                             else statistics[name] >= observed[name])
    p_values = {f"{name}_pvalue": (1 + count) / (bootstrap + 1) for name, count in exceed.items()}
    return GoodnessOfFit(observed, p_values, bootstrap=bootstrap, note="; ".join(notes))


def _discrete(family, values, stats, params, fixed) -> GoodnessOfFit:
    table = family.frequency_table(values, stats, params)
    if table is None:
        return GoodnessOfFit({}, note="no chi-square: counts this large make too many cells to tabulate")
    labels, observed, probabilities = table
    expected = probabilities * stats.n
    cells = _pool(labels, observed, expected)
    chi2 = float(sum(_chi2_term(o, e) for _, o, e in cells if e > 0))
    k = free_parameter_count(family, stats, fixed)
    df = len(cells) - 1 - k
    if df < 1:
        note = ("saturated: the fitted probabilities reproduce the observed frequencies, so there is "
                "nothing left to test" if np.allclose(observed, expected, rtol=1e-9) else
                "too few cells with 5 or more expected rows to test")
        return GoodnessOfFit({"chi2": chi2}, {"chi2_pvalue": None}, df=max(df, 0), cells=cells, note=note)
    return GoodnessOfFit({"chi2": chi2}, {"chi2_pvalue": float(special.chdtrc(df, chi2))}, df=df, cells=cells)


def _chi2_term(observed: float, expected: float) -> float:
    """(o - e)^2 / e, written so that counts of 1e300 (weights) do not overflow, with differences at
    rounding level (a saturated fit reproduces the counts up to the last bits of p * n) taken as
    the exact 0 they are."""
    difference = observed - expected
    if abs(difference) <= 1e-9 * max(abs(observed), abs(expected)):
        return 0.0
    return difference * (difference / expected)


def _pool(labels, observed, expected) -> list:
    """Merge neighbouring cells, left to right, until each expects at least MIN_EXPECTED rows;
    a short last group joins the one before it."""
    cells, firsts, label, obs, exp = [], [], [], 0.0, 0.0  # firsts: each cell's first label
    for name, o, e in zip(labels, observed, expected):
        label.append(name)
        obs += o
        exp += e
        if exp >= MIN_EXPECTED:  # (a cell expecting nothing, like p = 0, joins its neighbour)
            cells.append([_span(label), float(obs), float(exp)])
            firsts.append(label[0])
            label, obs, exp = [], 0.0, 0.0
    if label:
        if cells:  # (the first label is kept, not parsed back out of a span: labels may hold "..")
            cells[-1] = [_span([firsts[-1], *label]), cells[-1][1] + float(obs), cells[-1][2] + float(exp)]
        else:
            cells.append([_span(label), float(obs), float(exp)])
    return cells


def _span(labels) -> str:
    return labels[0] if len(labels) == 1 else f"{labels[0]}..{labels[-1]}"


def order_statistic_medians(n: int) -> np.ndarray:
    """The medians of the order statistics of n uniform values: Beta(k, n + 1 - k)'s."""
    k = np.arange(1, n + 1, dtype=float)
    if n <= EXACT_MEDIANS:
        return special.betaincinv(k, n + 1 - k, 0.5)
    medians = (k - 1.0 / 3.0) / (n + 1.0 / 3.0)
    ends = np.r_[0:EXACT_ENDS, n - EXACT_ENDS:n]
    medians[ends] = special.betaincinv(k[ends], n + 1 - k[ends], 0.5)
    return medians


def filliben(family, ordered: np.ndarray, params) -> float:
    """The correlation of the sorted values with the fitted quantiles at the order statistics'
    medians (scipy's goodness_of_fit "filliben"); nan for fewer than two values or a flat side."""
    if len(ordered) < 2:
        return float("nan")
    with np.errstate(all="ignore"):
        quantiles = family.quantile(order_statistic_medians(len(ordered)), params)
        x, q = ordered - ordered.mean(), quantiles - quantiles.mean()
        return float(np.sum(x * q) / np.sqrt(np.sum(x * x) * np.sum(q * q)))


# --- chi-square on chosen cells ----------------------------------------------------------------

def fitdistrplus_breaks(points: np.ndarray, counts: np.ndarray) -> list[float]:
    """The cell edges fitdistrplus's gofstat picks from sorted distinct `points` holding `counts`
    rows: meancount = round(n / (4n)^(2/5)); while more than ceiling(1.5 * meancount) rows are
    left, the meancount-th smallest of them is an edge and the rows up to it are set aside."""
    n = float(counts.sum())
    meancount = round(n / (4 * n) ** 0.4)  # (R's round, like Python's, takes halves to even)
    edges, left = [], np.cumsum(counts)
    start = 0
    while left[-1] - (left[start - 1] if start else 0.0) > np.ceil(1.5 * meancount):
        below = left[start - 1] if start else 0.0
        at = int(np.searchsorted(left, below + meancount - 1e-9 * n))  # first point reaching meancount more
        edges.append(float(points[at]))
        start = at + 1
    return edges


def chisq_on_breaks(breaks, cdf_at_breaks: np.ndarray, observed_at_or_below: np.ndarray, n: float, k: int,
                    rule: str) -> GoodnessOfFit:
    """fitdistrplus's compute.gofstat.Chi2: cells (-inf, b1], ..., (bk, inf) (the last left out when
    both the model and the data put everything at or below bk), no pooling, df = cells - 1 - k."""
    p = np.diff(np.concatenate([[0.0], cdf_at_breaks]))
    observed = np.diff(np.concatenate([[0.0], observed_at_or_below]))
    labels = [f"<= {b:.6g}" for b in breaks]
    if not (cdf_at_breaks[-1] == 1.0 and observed_at_or_below[-1] == n):
        p = np.append(p, 1.0 - cdf_at_breaks[-1])
        observed = np.append(observed, n - observed_at_or_below[-1])
        labels.append(f"> {breaks[-1]:.6g}")
    expected = p * n
    cells = [[label, float(o), float(e)] for label, o, e in zip(labels, observed, expected)]
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = float(np.sum((observed - expected) ** 2 / expected))
    df = len(cells) - 1 - k
    p_value = float(special.chdtrc(df, chi2)) if df > 0 and np.isfinite(chi2) else None
    note = f"chi-square on {rule}" + ("" if df > 0 else f": {len(cells)} cells leave no degree of freedom")
    return GoodnessOfFit({"chi2": chi2}, {"chi2_pvalue": p_value}, df=max(df, 0), cells=cells, note=note)


def _rule(chisq_cells: str, chisq_breaks) -> str:
    return ("the cells given (--chisq-breaks)" if chisq_breaks is not None
            else "fitdistrplus's cells (gofstat: about n/(4n)^(2/5) rows a cell, cut at observed values)")


def _chisq_of_counts(family, values, stats, params, fixed, chisq_cells, chisq_breaks) -> GoodnessOfFit:
    """A count family's chi-square on fitdistrplus's cells or the given edges, from its table."""
    table = family.frequency_table(values, stats, params)
    if table is None:
        return GoodnessOfFit({}, note="no chi-square: counts this large make too many cells to tabulate")
    labels, observed, probabilities = table
    counted = [label for label in labels if not label.startswith(">")]
    if not all(label.lstrip("-").isdigit() for label in counted):
        pooled = _discrete(family, values, stats, params, fixed)
        return replace(pooled, note="; ".join(note for note in (pooled.note, "chi-square on pooled cells: "
                       "--chisq-cells fitdistrplus and --chisq-breaks need a count family") if note))
    points = np.array([float(label) for label in counted])
    counts = observed[: len(points)]
    breaks = fitdistrplus_breaks(points, counts) if chisq_breaks is None else sorted(set(chisq_breaks))
    if not breaks:
        return GoodnessOfFit({}, note="no chi-square: too few rows for fitdistrplus's cells")
    cdf = np.array([probabilities[: len(points)][points <= b].sum() for b in breaks])
    at_or_below = np.array([counts[points <= b].sum() for b in breaks])
    return chisq_on_breaks(breaks, np.minimum(cdf, 1.0), at_or_below, float(stats.n),
                           free_parameter_count(family, stats, fixed), _rule(chisq_cells, chisq_breaks))


def _chisq_of_values(family, values, weights, stats, params, fixed, chisq_cells, chisq_breaks) -> GoodnessOfFit:
    """A continuous family's chi-square on fitdistrplus's cells or the given edges."""
    if values is None:
        return GoodnessOfFit({}, note="no chi-square: its cells need every value in memory")
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    counts = np.ones(len(ordered)) if weights is None else weights[order].astype(float)
    points, first = np.unique(ordered, return_index=True)
    per_point = np.add.reduceat(counts, first)
    breaks = fitdistrplus_breaks(points, per_point) if chisq_breaks is None else sorted(set(chisq_breaks))
    if not breaks:
        return GoodnessOfFit({}, note="no chi-square: too few rows for fitdistrplus's cells")
    cdf = np.exp(family.log_cdf(np.array(breaks, dtype=float), params))
    cumulative = np.cumsum(per_point)
    at = np.searchsorted(points, breaks, side="right")
    at_or_below = np.where(at > 0, cumulative[np.maximum(at - 1, 0)], 0.0)
    return chisq_on_breaks(breaks, cdf, at_or_below, float(counts.sum()),
                           free_parameter_count(family, stats, fixed), _rule(chisq_cells, chisq_breaks))


def _with_chisq(gof: GoodnessOfFit, chisq: GoodnessOfFit) -> GoodnessOfFit:
    notes = "; ".join(note for note in (gof.note, chisq.note) if note)
    return GoodnessOfFit({**gof.statistics, **chisq.statistics}, {**gof.p_values, **chisq.p_values}, df=chisq.df,
                         cells=chisq.cells, bootstrap=gof.bootstrap, note=notes)
