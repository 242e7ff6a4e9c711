"""Bootstrap intervals for a fit's parameters and quantiles, as fitdistrplus's bootdist and
quantile(bootdist) give them.

Each replicate draws n rows, from the fitted distribution (parametric) or from the rows
themselves with replacement (nonparametric), and refits them; the percentile interval of each
parameter is taken over the replicates that converged. A quantile of the fitted distribution gets
its delta-method interval (the gradient of the quantile in the parameters, by central differences,
against the inverse of the NLL's Hessian at the fit, also by differences) and its bootstrap
interval (the quantile at each replicate's parameters).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .errors import MlfitError, UsageError
from .fitting import best_fit

KINDS = ("parametric", "nonparametric")
MAX_ROWS = 10 ** 6  # rows a replicate may hold: each one is drawn and fitted afresh


def fewest_replicates(level: float) -> int:
    """The fewest converged replicates whose percentile interval at `level` has at least one
    replicate beyond each end: 40 at 0.95, 200 at 0.99. With fewer, the "interval" is the range of
    the replicates, whatever the level says."""
    return int(np.ceil(2 / (1 - level) - 1e-9))


@dataclass(frozen=True)
class ParameterBootstrap:
    kind: str
    replicates: int
    converged: int
    level: float
    seed: int
    draws: dict  # name -> replicates (x categories) array; NaN where a replicate failed
    quantiles: dict  # probability -> {"estimate", "se", "delta": [lo, hi], "bootstrap": [lo, hi]}
    labels: list | None = None  # a categorical's categories, the columns of its draws of p
    with_draws: bool = False  # the JSON carries every replicate's parameters

    @property
    def enough(self) -> bool:
        return self.converged >= fewest_replicates(self.level)

    def intervals(self) -> dict:
        """Each parameter's percentile interval over the converged replicates (a categorical's p
        keyed by category), or None where too few converged for the level."""
        alpha = (1 - self.level) / 2
        out = {}
        for name, draws in self.draws.items():
            if not self.enough:
                out[name] = None
                continue
            ok = draws[np.all(np.isfinite(draws.reshape(len(draws), -1)), axis=1)]
            if not len(ok):
                out[name] = None
                continue
            low, high = np.quantile(ok, [alpha, 1 - alpha], axis=0)
            if np.ndim(low) == 0:
                out[name] = [float(low), float(high)]
            else:
                keys = self.labels if self.labels is not None else range(len(low))
                out[name] = {str(key): [float(a), float(b)] for key, a, b in zip(keys, low, high)}
        return out

    def warnings(self) -> list[str]:
        """What the bootstrap could not do, for stderr (exit 3)."""
        if not self.replicates:
            return []
        if self.converged == 0:
            return [f"none of the {self.replicates:,} bootstrap replicates could be fitted: no bootstrap intervals"]
        failed = self.replicates - self.converged
        told = []
        if failed:
            told.append(f"{failed:,} of {self.replicates:,} bootstrap replicates could not be fitted (no maximum, "
                        "or the search failed) and are left out of the intervals")
        if not self.enough:
            told.append(f"{self.converged:,} bootstrap replicates were fitted: a {self.level:.4g} percentile interval "
                        f"needs at least {fewest_replicates(self.level)} (one beyond each end), so none is given")
        return told

    def to_dict(self, with_draws: bool | None = None) -> dict:
        with_draws = self.with_draws if with_draws is None else with_draws
        out = {"kind": self.kind, "replicates": self.replicates, "converged": self.converged,
               "converged_share": self.converged / self.replicates if self.replicates else None,
               "level": self.level, "seed": self.seed, "intervals": self.intervals()}
        if with_draws:
            out["draws"] = {name: [self._draw_record(v) for v in draws] for name, draws in self.draws.items()}
        return out

    def _draw_record(self, value):
        if not np.all(np.isfinite(value)):
            return None
        if self.labels is not None and np.ndim(value):
            return {str(label): float(v) for label, v in zip(self.labels, value)}
        return np.asarray(value).tolist()

    def quantiles_dict(self) -> dict:
        return {repr(q): part for q, part in self.quantiles.items()}


def bootstrap(result, replicates: int, kind: str = "parametric", seed: int = 0, quantiles=(),
              refit=None, level: float | None = None) -> ParameterBootstrap:
    """`refit(sample)`: a replicate's parameters (default: its maximum-likelihood fit, with the
    result's fixed parameters held); mlfit.estimators refits by its own method. `level` of the
    intervals: the result's own by default."""
    if kind not in KINDS:
        raise UsageError(f"--bootstrap-kind is parametric or nonparametric, not {kind!r}")
    family, params, fixed = result.family, result.estimate, result.fixed
    quantiles = tuple(quantiles)
    if quantiles and not family.continuous:
        raise UsageError(f"--quantile is for continuous families; {family.name} is discrete")
    values = result.expanded_values()
    if values is None:
        raise UsageError("a bootstrap of weighted rows needs whole-number weights (rows written out)")
    n = len(values)
    if n > MAX_ROWS:
        raise UsageError(f"each bootstrap replicate would draw {n:,} rows (at most {MAX_ROWS:,})")
    rng = np.random.default_rng(seed)
    draws = {p.name: [] for p in family.parameters}
    converged = 0
    for _ in range(replicates):
        sample = _draw(result, rng, n) if kind == "parametric" else values[rng.integers(0, n, n)]
        try:
            replicate = family.summarize(sample)
            if family.degenerate_reason(replicate, fixed):  # two equal rows of a normal: sigma -> 0
                raise ArithmeticError("no maximum")
            if refit is not None:
                fitted = refit(sample)
            else:
                fitted = best_fit(family, replicate, fixed)
                if result.labels is not None:  # a category a replicate lacks has probability 0 there
                    place = {label: i for i, label in enumerate(result.labels)}
                    aligned = np.zeros(len(result.labels))
                    for label, share in zip(family.labels(replicate), fitted["p"]):
                        aligned[place[label]] = share
                    fitted = {**fitted, "p": aligned}
            ok = all(np.all(np.isfinite(np.atleast_1d(fitted[p.name]))) for p in family.parameters)
        except (MlfitError, ArithmeticError, ValueError):
            fitted, ok = None, False
        converged += ok
        for p in family.parameters:
            shape = np.shape(params[p.name])
            draws[p.name].append(np.asarray(fitted[p.name], dtype=float) if ok else np.full(shape, np.nan))
    draws = {name: np.array(values) for name, values in draws.items()}
    level = result.inference.level if level is None else level
    parts = {q: _quantile(result, q, draws, level) for q in quantiles}
    return ParameterBootstrap(kind, replicates, converged, level, seed, draws, parts, result.labels)


def _draw(result, rng, n: int) -> np.ndarray:
    """n rows from the fitted distribution (a categorical's labels with the fitted probabilities)."""
    if result.labels is not None:
        return np.asarray(result.labels, dtype=object)[rng.choice(len(result.labels), size=n, p=result.estimate["p"])]
    return result.family.sample(rng, result.estimate, n)


def _quantile(result, q: float, draws: dict, level: float) -> dict:
    family, params = result.family, result.estimate
    estimate = float(family.quantile(np.array([q]), params)[0])
    z = float(special.ndtri(0.5 + level / 2))
    se = _delta_se(result, q)
    at = [float(family.quantile(np.array([q]), {name: draws[name][i] for name in draws})[0])
          for i in range(len(next(iter(draws.values()))))
          if all(np.all(np.isfinite(draws[name][i])) for name in draws)]
    alpha = (1 - level) / 2
    return {"estimate": estimate, "se": se,
            "delta": None if se is None else [estimate - z * se, estimate + z * se],
            "bootstrap": np.quantile(at, [alpha, 1 - alpha]).tolist() if len(at) >= fewest_replicates(level) else None}


def _delta_se(result, q: float) -> float | None:
    """sqrt(g' H^-1 g): g the quantile's gradient in the free scalar parameters, H the NLL's
    Hessian there, both by central differences of relative step 1e-4."""
    family, params, stats = result.family, dict(result.estimate), result.stats
    free = [p.name for p in family.parameters if p.name not in result.fixed and np.ndim(params[p.name]) == 0]
    if not free or any(np.ndim(params[p.name]) for p in family.parameters):
        return None
    if any(result.inference.stderr.get(name) is None for name in free):
        return None  # a non-regular family (uniform's edges): no information matrix to invert
    steps = {name: 1e-4 * max(abs(float(params[name])), 1e-8) for name in free}

    def moved(changes):
        return {**params, **{name: float(params[name]) + change for name, change in changes.items()}}

    def quantile(at):
        return float(family.quantile(np.array([q]), at)[0])

    def nll(at):
        return float(family.nll(stats, at))

    try:
        g = np.array([(quantile(moved({a: steps[a]})) - quantile(moved({a: -steps[a]}))) / (2 * steps[a]) for a in free])
        H = np.empty((len(free), len(free)))
        for i, a in enumerate(free):
            for j, b in enumerate(free):
                ha, hb = steps[a], steps[b]
                H[i, j] = (nll(moved({a: ha, b: hb} if a != b else {a: 2 * ha}))
                           - nll(moved({a: ha, b: -hb} if a != b else {a: 0.0}))
                           - nll(moved({a: -ha, b: hb} if a != b else {a: 0.0}))
                           + nll(moved({a: -ha, b: -hb} if a != b else {a: -2 * ha}))) / (4 * ha * hb)
        variance = float(g @ np.linalg.solve(H, g))
    except (np.linalg.LinAlgError, ValueError, ArithmeticError, MlfitError):  # (ZeroDivisionError too)
        return None
    return float(np.sqrt(variance)) if np.isfinite(variance) and variance >= 0 else None
