"""Pictures of a fit: what fitdistrplus's plot(fitdist) shows, and the NLL landscape.

matplotlib is optional (pip install '.[plot]' from a clone) and imported only here, only when a plot is
asked for. Each panel's data is computed apart from the drawing, so tests can check the numbers.
Files are written to a temporary name beside the target and renamed into place: never half-written.
"""

from __future__ import annotations

import math
import os
import tempfile

import numpy as np

from .errors import UsageError
from .inference import chi2_quantile, profile_function
from .weights import expand
from .underflow import PRECISIONS

FORMATS = (".png", ".svg", ".pdf")
MAX_NLL_PANELS = 9
MAX_BARS = 100


def check_target(path: str, inputs: tuple[str, ...] = ()) -> None:
    """Refuse, before any fitting, a plot file mlfit cannot or must not write."""
    require_matplotlib()
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in FORMATS:
        raise UsageError(f"{path}: a plot is written as {', '.join(FORMATS)}; name the file with one of them")
    from .data import check_output

    check_output(path, inputs, "the plot")


PLOT_HINT = ("plots need matplotlib, which is not installed: pip install matplotlib (from a clone of mlfit, "
             "pip install '.[plot]' installs it too)")


def require_matplotlib() -> None:
    """Before any data is read: a plot that cannot be drawn must not cost the fit first."""
    import importlib.util

    try:
        found = importlib.util.find_spec("matplotlib") is not None
    except (ImportError, ValueError):  # a module entry that is None, or a broken install
        found = False
    if not found:
        raise UsageError(PLOT_HINT)


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise UsageError(PLOT_HINT) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# --- panel data -----------------------------------------------------------------------------
def fit_panels(result) -> dict:
    """The numbers each panel of the fit plot shows."""
    family, params = result.family, result.estimate
    values = result.expanded_values()
    if values is None:
        raise UsageError("plots of weighted data need whole-number weights")
    if family.continuous:
        ordered, positions, grid, heights = _continuous_axes(values)
        return {
            "kind": "continuous",
            "values": values,
            "grid": grid,
            "density": np.exp(family.log_prob(grid, params)),
            "ecdf": (ordered, heights),
            "cdf": np.exp(family.log_cdf(grid, params)),
            "qq": (family.quantile(positions, params), ordered),
            "pp": (positions, np.exp(family.log_cdf(ordered, params))),
        }
    stats = result.stats
    table = family.frequency_table(result.values, stats, params)  # weights are in stats
    if table is None:
        raise UsageError("counts this large make too many bars to plot")
    labels, observed, probabilities = _grouped(*table, ordered=family.support.numeric)
    return {
        "kind": "discrete",
        "labels": labels,
        "observed": observed,
        "expected": probabilities * stats.n,
        "ecdf": np.cumsum(observed) / stats.n,
        "cdf": np.cumsum(probabilities),
    }


def _continuous_axes(values: np.ndarray):
    """The sorted values, their plotting positions (i - 1/2)/n for Q-Q and P-P, a grid of 400
    points over their range widened by 5% each side for densities and CDFs, and the empirical
    CDF's heights i/n. Past MOST_POINTS values, MOST_POINTS order statistics evenly spread from
    the smallest to the largest stand for them (each exactly the i-th value, at its own i): a
    curve of a million points draws as one of twenty thousand, in a fraction of the time."""
    ordered = np.sort(values)
    n = len(ordered)
    spread = ordered[-1] - ordered[0]
    grid = np.linspace(ordered[0] - 0.05 * spread, ordered[-1] + 0.05 * spread, 400)
    at = np.arange(n) if n <= MOST_POINTS else np.unique(np.linspace(0, n - 1, MOST_POINTS).round().astype(np.int64))
    return ordered[at], (at + 0.5) / n, grid, (at + 1.0) / n


MOST_POINTS = 20_000
MOST_BINS = 200  # a histogram's bars: numpy's "auto" rule gives thousands for a long-tailed million rows


def _bins(values: np.ndarray):
    edges = np.histogram_bin_edges(values, bins="auto")
    return edges if len(edges) <= MOST_BINS + 1 else MOST_BINS


def _grouped(labels, observed, probabilities, ordered: bool):
    """At most MAX_BARS cells: counts 0..10^6 become MAX_BARS runs of neighbouring counts; categories
    beyond the MAX_BARS - 1 most frequent become one "other" cell. (A bar per cell cost matplotlib
    minutes on a column of 10^5 distinct counts; the fit takes two seconds.)"""
    if len(labels) <= MAX_BARS:
        return labels, observed, probabilities
    if ordered:
        edges = np.linspace(0, len(labels), MAX_BARS + 1).astype(int)
        starts, ends = edges[:-1], edges[1:] - 1
        names = [labels[a] if a == b else f"{labels[a]}..{labels[b]}" for a, b in zip(starts, ends)]
        return names, np.add.reduceat(observed, starts), np.add.reduceat(probabilities, starts)
    keep = np.sort(np.argsort(-observed, kind="stable")[: MAX_BARS - 1])
    rest = np.ones(len(labels), dtype=bool)
    rest[keep] = False
    names = [labels[i] for i in keep] + [f"other ({int(rest.sum()):,})"]
    return (names, np.append(observed[keep], observed[rest].sum()),
            np.append(probabilities[keep], probabilities[rest].sum()))


def nll_panels(result) -> list[dict]:
    """One panel per free parameter (per category for categorical): its profile NLL on a grid,
    the optimum and the reference solution marked; then the running log10 likelihood of the first k rows."""
    family, params = result.family, result.estimate
    stats = result.stats
    profile = profile_function(family, params, result.fixed)
    threshold = result.nll + chi2_quantile(result.inference.level) / 2
    panels = []
    for p in family.parameters:
        if p.name in result.fixed:
            continue
        value = params[p.name]
        closed = None if result.reference_params is None else result.reference_params[p.name]
        entries = range(len(value)) if np.ndim(value) else [None]
        for index in list(entries)[:MAX_NLL_PANELS]:
            theta = value if index is None else value[index]
            low, high = _span(result, p, index)
            grid = np.linspace(low, high, 201)
            panels.append({
                "parameter": p.name if index is None else f"{p.name}[{result.labels[index]}]",
                "grid": grid,
                "nll": np.array([profile(stats, p.name, t, index) for t in grid]),
                "optimum": float(theta),
                "reference": None if closed is None else float(closed if index is None else closed[index]),
                "minimum_nll": result.nll,
                "threshold": threshold,
            })
    log_probs = family.log_prob(family.encode(result.values, stats), params)
    if result.weights is not None:
        log_probs = expand(log_probs, result.weights)
        if log_probs is None:
            raise UsageError("plots of weighted data need whole-number weights")
    panels.append({
        "parameter": None,
        "k": np.arange(1, len(log_probs) + 1),
        "log10_likelihood": np.cumsum(log_probs) / math.log(10),
        "limits": {name: math.log10(np.finfo(name).smallest_subnormal) for name in PRECISIONS},
        "tops": {name: math.log10(np.finfo(name).max) for name in PRECISIONS},
    })
    return panels


def _span(result, parameter, index):
    """A range around the estimate wide enough to show where the profile interval ends."""
    interval = result.inference.intervals[parameter.name]
    interval = interval if index is None else interval[index]
    estimate = result.estimate[parameter.name] if index is None else result.estimate[parameter.name][index]
    # the finite ends there are: an end may be missing (uniform has no Wald interval) or infinite
    # (nu's upper end when student_t's best fit is the normal limit)
    ends = [end for end in (*interval.profile, *interval.wald, estimate) if end is not None and math.isfinite(end)]
    low, high = min(ends), max(ends)
    width = max(high - low, 0.5 * abs(low), 1e-12)
    space = parameter.constraint.scalar()
    start = low - 0.6 * width
    if start <= space.low and space.low not in space.boundaries:  # an open edge (sigma > 0): stay off it
        start = space.low + 0.02 * (low - space.low)
    return max(start, space.low), min(high + 0.6 * width, space.high)


# --- drawing --------------------------------------------------------------------------------
def title(result) -> str:
    shown = result.plain(result.estimate)
    errors = result.plain(result.inference.stderr)
    if any(isinstance(v, dict) for v in shown.values()):
        body = f"{len(result.labels)} categories"
    else:
        body = ", ".join(f"{name} = {value:.4g}" + _error(errors, name) for name, value in shown.items())
    return f"{result.distribution}: {body}   (n = {result.n:,}, NLL = {result.nll:.6g})"


def _error(errors: dict, name: str) -> str:
    if name not in errors:
        return " (fixed)"
    error = errors[name]
    return "" if error is None or not math.isfinite(error) else f" ± {error:.2g}"  # (none: uniform, nu = inf)


def draw_fit(result, path: str | None = None):
    plt = _pyplot()
    data = fit_panels(result)
    if data["kind"] == "continuous":
        fig, axes = plt.subplots(2, 2, figsize=(10, 8), layout="constrained")
        (hist, cdf), (qq, pp) = axes
        hist.hist(data["values"], bins=_bins(data["values"]), density=True, color="#9ecae1", edgecolor="white", label="data")
        hist.plot(data["grid"], data["density"], color="#d62728", lw=2, label="fitted density")
        hist.set(title="Histogram and fitted density", xlabel=result.column, ylabel="density")
        cdf.step(*data["ecdf"], where="post", color="#3182bd", label="empirical CDF")
        cdf.plot(data["grid"], data["cdf"], color="#d62728", lw=2, label="fitted CDF")
        cdf.set(title="Empirical and fitted CDF", xlabel=result.column, ylabel="cumulative probability")
        qq.scatter(*data["qq"], s=8, color="#3182bd", label="data")
        _diagonal(qq, data["qq"])
        qq.set(title="Q-Q plot", xlabel="fitted quantiles", ylabel="sorted data")
        pp.scatter(*data["pp"], s=8, color="#3182bd", label="data")
        _diagonal(pp, ([0, 1], [0, 1]))
        pp.set(title="P-P plot", xlabel="empirical probabilities", ylabel="fitted probabilities")
        for ax in axes.flat:
            ax.legend(loc="best", fontsize="small")
    else:
        fig, (bars, cdf) = plt.subplots(1, 2, figsize=(11, 4.8), layout="constrained")
        positions = np.arange(len(data["labels"]))
        bars.bar(positions - 0.2, data["observed"], width=0.4, color="#9ecae1", label="observed")
        bars.bar(positions + 0.2, data["expected"], width=0.4, color="#d62728", alpha=0.8, label="fitted")
        bars.set(title="Observed and fitted frequencies", xlabel=result.column, ylabel="rows")
        cdf.step(positions, data["ecdf"], where="post", color="#3182bd", label="empirical CDF")
        cdf.step(positions, data["cdf"], where="post", color="#d62728", lw=2, label="fitted CDF")
        cdf.set(title="Empirical and fitted CDF", xlabel=result.column, ylabel="cumulative probability")
        for ax in (bars, cdf):
            _categories(ax, positions, data["labels"])
            ax.legend(loc="best", fontsize="small")
    fig.suptitle(title(result), fontsize="medium")
    return finished(fig, path)
    return fig


def draw_nll(result, path: str | None = None):
    plt = _pyplot()
    panels = nll_panels(result)
    columns = min(len(panels), 3)
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.9 * rows), layout="constrained", squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        if panel["parameter"] is None:
            ax.plot(panel["k"], panel["log10_likelihood"], color="#3182bd", label="log10 L of the first k rows")
            for (name, limit), colour in zip(panel["limits"].items(), ("#d62728", "#ff7f0e", "#2ca02c")):
                ax.axhline(limit, color=colour, ls="--", lw=1, label=f"{name} underflows")
            ax.set(title="Why log space: the raw product", xlabel="rows multiplied (k)", ylabel="log10 likelihood")
        else:
            ax.plot(panel["grid"], panel["nll"], color="#3182bd", label="profile NLL")
            if math.isfinite(panel["optimum"]):  # (nu = inf, the normal limit, is off the axis)
                ax.axvline(panel["optimum"], color="#d62728", lw=1.5, label="numerical optimum")
            if panel["reference"] is not None and math.isfinite(panel["reference"]):
                ax.axvline(panel["reference"], color="black", ls=":", lw=1.5, label=result.reference_method)
            ax.axhline(panel["threshold"], color="grey", ls="--", lw=1,
                       label=f"{result.inference.level:.0%} profile interval")
            ax.set(title=f"NLL against {panel['parameter']}", xlabel=panel["parameter"], ylabel="NLL")
        ax.legend(loc="best", fontsize="x-small")
    for ax in list(axes.flat)[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(title(result), fontsize="medium")
    return finished(fig, path)
    return fig


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _diagonal(ax, reference):
    low = float(np.min(reference[0]))
    high = float(np.max(reference[0]))
    ax.plot([low, high], [low, high], color="#d62728", lw=1.5, label="y = x")


def _categories(ax, positions, labels):
    step = max(1, len(labels) // 20)  # keep tick labels from running into each other
    ax.set_xticks(positions[::step], labels[::step], rotation=45 if max(map(len, labels)) > 3 else 0,
                  ha="right" if max(map(len, labels)) > 3 else "center")


def finished(fig, path: str | None):
    """The figure saved to `path` (under a temporary name renamed into place: never half-written),
    or only returned where a Python caller gave no path; pyplot lets go of it either way (the
    figure stays usable: fig.savefig, or a notebook's display)."""
    plt = _pyplot()
    try:
        if path is not None:
            save_atomically(fig, path)
    finally:
        plt.close(fig)
    return fig


def save_atomically(fig, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1].lower()
    handle, temporary = tempfile.mkstemp(prefix=".mlfit-", suffix=suffix, dir=folder)
    os.close(handle)
    try:
        fig.savefig(temporary, format=suffix[1:], dpi=110)
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600 is for the temporary name only
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# --- comparing families (compare --plot: fitdistrplus's denscomp, cdfcomp, qqcomp, ppcomp) ------
COMPARED = 6  # the best this many by AIC are drawn: more lines than that hide each other


def comparison_panels(ranking) -> dict:
    """The numbers of the comparison plot: the ranked fits in AIC order, their densities (or
    expected frequencies) and CDFs on one grid, and each one's Q-Q and P-P points."""
    ranked = [c.result for c in ranking.ranked]
    if not ranked:
        raise UsageError("no family could be ranked: there is nothing to compare in a plot")
    # the winner's kind: densities overlay densities, counts overlay counts (on whole numbers both
    # may be ranked; the other kind is left out of the picture, not of the ranking)
    discrete = not ranked[0].family.continuous
    kind = [r for r in ranked if r.family.continuous != discrete]
    fits = kind[:COMPARED]
    first = fits[0]
    values = first.expanded_values()
    if values is None:
        raise UsageError("plots of weighted data need whole-number weights")
    if not discrete:
        ordered, positions, grid, heights = _continuous_axes(values)
        return {"kind": "continuous", "values": values, "grid": grid, "ecdf": (ordered, heights),
                "left_out": len(kind) - len(fits),
                "fits": [{"name": r.distribution, "aic": r.aic,
                          "density": np.exp(r.family.log_prob(grid, r.estimate)),
                          "cdf": np.exp(r.family.log_cdf(grid, r.estimate)),
                          "qq": (r.family.quantile(positions, r.estimate), ordered),
                          "pp": (positions, np.exp(r.family.log_cdf(ordered, r.estimate)))} for r in fits]}
    panels = [fit_panels(r) for r in fits]
    labels = panels[0]["labels"]
    return {"kind": "discrete", "labels": labels, "observed": panels[0]["observed"], "left_out": len(kind) - len(fits),
            "ecdf": panels[0]["ecdf"],
            "fits": [{"name": r.distribution, "aic": r.aic, "expected": panel["expected"], "cdf": panel["cdf"]}
                     for r, panel in zip(fits, panels) if panel["labels"] == labels]}


def draw_comparison(ranking, path: str | None = None):
    plt = _pyplot()
    data = comparison_panels(ranking)
    legend = [f"{f['name']} (AIC {f['aic']:.6g})" for f in data["fits"]]  # in AIC order, as ranked
    if data["kind"] == "continuous":
        fig, axes = plt.subplots(2, 2, figsize=(11, 8.5), layout="constrained")
        (dens, cdf), (qq, pp) = axes
        dens.hist(data["values"], bins=_bins(data["values"]), density=True, color="#d9d9d9", edgecolor="white", label="data")
        cdf.step(*data["ecdf"], where="post", color="black", label="empirical CDF")
        for fit, name in zip(data["fits"], legend):
            dens.plot(data["grid"], fit["density"], lw=1.6, label=name)
            cdf.plot(data["grid"], fit["cdf"], lw=1.6, label=name)
            qq.scatter(*fit["qq"], s=6, label=name)
            pp.scatter(*fit["pp"], s=6, label=name)
        _diagonal(qq, data["fits"][0]["qq"])
        _diagonal(pp, ([0, 1], [0, 1]))
        low, high = float(np.min(data["values"])), float(np.max(data["values"]))
        qq.set_xlim(low - 0.25 * (high - low), high + 0.25 * (high - low))  # a cauchy's far quantiles would squash the rest
        dens.set(title="Histogram and fitted densities", xlabel=ranking.column, ylabel="density")
        cdf.set(title="Empirical and fitted CDFs", xlabel=ranking.column, ylabel="cumulative probability")
        qq.set(title="Q-Q plot", xlabel="fitted quantiles", ylabel="sorted data")
        pp.set(title="P-P plot", xlabel="empirical probabilities", ylabel="fitted probabilities")
        for ax in axes.flat:
            ax.legend(loc="best", fontsize="x-small")
    else:
        fig, (bars, cdf) = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
        positions = np.arange(len(data["labels"]))
        width = 0.8 / (len(data["fits"]) + 1)
        bars.bar(positions - 0.4 + width / 2, data["observed"], width=width, color="#bdbdbd", label="observed")
        cdf.step(positions, data["ecdf"], where="post", color="black", label="empirical CDF")
        for i, (fit, name) in enumerate(zip(data["fits"], legend), start=1):
            bars.bar(positions - 0.4 + width / 2 + i * width, fit["expected"], width=width, label=name)
            cdf.step(positions, fit["cdf"], where="post", lw=1.4, label=name)
        bars.set(title="Observed and fitted frequencies", xlabel=ranking.column, ylabel="rows")
        cdf.set(title="Empirical and fitted CDFs", xlabel=ranking.column, ylabel="cumulative probability")
        for ax in (bars, cdf):
            _categories(ax, positions, data["labels"])
            ax.legend(loc="best", fontsize="x-small")
    left_out = f" (the {len(data['fits'])} best; {data['left_out']} more in the table)" if data["left_out"] else ""
    fig.suptitle(f"'{ranking.column}' in {ranking.source}: families ranked by AIC{left_out}", fontsize="medium")
    return finished(fig, path)
    return fig


# --- censored data (fitdistrplus's plotdistcens and cdfcompcens) ----------------------------------

def censored_panels(result, data) -> dict:
    """The numbers of the censored-data plot: Turnbull's NPMLE as the CDF after each innermost
    interval (its rise inside an interval is not determined: drawn as a box), and the fitted CDF."""
    from .turnbull import turnbull

    estimate = turnbull(data)
    finite = np.concatenate([v[np.isfinite(v)] for v in (data.low, data.high, estimate.left, estimate.right)])
    low, high = float(finite.min()), float(finite.max())
    margin = 0.05 * (high - low or abs(high) or 1.0)
    grid = np.linspace(low - margin, high + margin, 400)
    family = result.family
    with np.errstate(all="ignore"):
        fitted = np.exp(family.log_cdf(grid, result.estimate))
    after = np.cumsum(estimate.mass)
    return {"grid": grid, "cdf": fitted, "left": estimate.left, "right": estimate.right,
            "before": after - estimate.mass, "after": after, "span": (low - margin, high + margin),
            "converged": estimate.converged}


def draw_censored(result, data, path: str | None = None):
    plt = _pyplot()
    panels = censored_panels(result, data)
    fig, ax = plt.subplots(figsize=(8, 5.5), layout="constrained")
    start, stop = panels["span"]
    steps_x, steps_y = [start], [0.0]
    for left, right, before, after in zip(panels["left"], panels["right"], panels["before"], panels["after"]):
        left, right = max(left, start), min(right, stop)
        steps_x += [left, right]
        steps_y += [before, after]
        if right > left:  # where in the interval the mass sits the data cannot say
            ax.add_patch(plt.Rectangle((left, before), right - left, after - before, color="#bdbdbd", alpha=0.6,
                                       lw=0))
    steps_x.append(stop)
    steps_y.append(steps_y[-1])
    ax.plot(steps_x, steps_y, color="#3182bd", lw=1.5, label="Turnbull NPMLE" + ("" if panels["converged"] else " (EM not converged)"))
    ax.plot(panels["grid"], panels["cdf"], color="#d62728", lw=2, label=f"fitted {result.distribution} CDF")
    counts = ", ".join(f"{n} {kind}" for kind, n in result.censoring.items() if n)
    ax.set(title=f"Censored data ({counts}): nonparametric and fitted CDF", xlabel=result.column,
           ylabel="cumulative probability", ylim=(-0.02, 1.02))
    ax.legend(loc="best", fontsize="small")
    fig.suptitle(title(result), fontsize="medium")
    return finished(fig, path)
    return fig


# --- mixtures ---------------------------------------------------------------------------------
def mixture_panels(result) -> dict:
    """The numbers of the mixture plot: the data, each component's weighted density (or
    probability, for counts) and their sum, on a grid over the data."""
    values = result.values
    if result.weights is not None:
        whole = np.all(result.weights == np.round(result.weights))
        if not whole:
            raise UsageError("plots of weighted data need whole-number weights")
        values = np.repeat(values, result.weights.astype(np.int64))
    if result.family.continuous:
        low, high = float(values.min()), float(values.max())
        grid = np.linspace(low - 0.05 * (high - low), high + 0.05 * (high - low), 400)
    else:
        grid = np.arange(int(values.min()), int(values.max()) + 1, dtype=float)
    total, parts = result.density(grid)
    return {"values": values, "grid": grid, "total": total, "parts": parts, "continuous": result.family.continuous}


def draw_mixture(result, path: str | None = None):
    plt = _pyplot()
    data = mixture_panels(result)
    fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
    if data["continuous"]:
        ax.hist(data["values"], bins=_bins(data["values"]), density=True, color="#d9d9d9", edgecolor="white",
                label="data")
    else:
        counts = np.bincount(data["values"].astype(np.int64) - int(data["grid"][0]))
        ax.bar(data["grid"][:len(counts)], counts / counts.sum(), color="#d9d9d9", label="data")
    ax.plot(data["grid"], data["total"], color="black", lw=2.5, alpha=0.7, label="the mixture")
    for i, (part, component) in enumerate(zip(data["parts"], result.components), start=1):  # (over the sum)
        shown = ", ".join(f"{name} {value:.4g}" for name, value in component.params.items())
        ax.plot(data["grid"], part, lw=1.5, ls="--", label=f"component {i} (weight {component.weight:.3g}; {shown})")
    ax.set(xlabel=result.column, ylabel="density" if data["continuous"] else "probability",
           title=f"{len(result.components)}-component {result.distribution} mixture of '{result.column}' "
                 f"(log-likelihood {result.log_likelihood:.6g})")
    ax.legend(loc="best", fontsize="small")
    return finished(fig, path)
