"""Goodness of fit: does the fitted distribution describe the data, not just beat the others?

Continuous families: the Kolmogorov-Smirnov, Cramer-von Mises and Anderson-Darling statistics
of the data against the fitted CDF, defined as R's fitdistrplus::gofstat defines them. Their
textbook p-values assume the parameters were known in advance; fitted from the same data they
are far too kind, so p-values come only from a parametric bootstrap that refits every replicate.

Discrete families: Pearson's chi-square over cells pooled until each expects at least 5 rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

from .fitting import best_fit
from .inference import free_parameter_count
from .weights import whole

MIN_EXPECTED = 5.0


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
                    weights=None) -> GoodnessOfFit:
    """`fixed` parameters were held, not estimated: they cost no degrees of freedom, and each
    bootstrap replicate is refitted with them held too. With `weights`, the EDF statistics are
    those of the rows written out weight times (whole-number weights only), computed without
    writing them out."""
    fixed = fixed or {}
    if family.continuous:
        if not whole(weights):
            return GoodnessOfFit({}, note="no KS, CvM or AD: they need whole-number weights")
        return _continuous(family, values, params, bootstrap, seed, fixed, weights)
    return _discrete(family, values, stats, params, fixed)


def _edf(family, values, params, weights=None) -> dict:
    if weights is None:
        ordered = np.sort(values)
        return edf_statistics(family.log_cdf(ordered, params), family.log_sf(ordered, params))
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    return weighted_edf_statistics(family.log_cdf(ordered, params), family.log_sf(ordered, params), weights[order])


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
        for name in exceed:
            exceed[name] += statistics[name] >= observed[name]
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
