"""One fit asked for, checked once: what `mlfit.fit` and `mlfit.fit_file` take as keywords and
`mlfit fit` as flags. Which options go together is decided here, so a Python caller meets the
same one-line error the command line prints (its words name the flags)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import UsageError
from .options import FitOptions


@dataclass(frozen=True)
class Resampling:
    """Bootstrap replicates of the fit (fitdistrplus's bootdist) and fitted quantiles."""
    replicates: int = 0
    kind: str = "parametric"  # drawn from the fitted distribution, or the rows with replacement
    draws: bool = False  # every replicate's parameters in the JSON
    quantiles: tuple = ()  # probabilities whose fitted quantiles get delta-method (and bootstrap) intervals

    @property
    def asked(self) -> bool:
        return bool(self.replicates or self.quantiles)


@dataclass(frozen=True)
class FitRequest:
    family: object  # built once, here
    options: FitOptions
    method: str = "mle"
    probs: tuple | None = None  # --method quantile's probabilities
    resampling: Resampling = field(default_factory=Resampling)
    censored: bool = False
    weighted: bool = False
    scheduler: str | None = None
    plots: frozenset = frozenset()  # which pictures are drawn: "fit", "nll" (the command line's)

    @classmethod
    def of(cls, distribution: str, *, method: str = "mle", probs=None, bootstrap: int = 0,
           bootstrap_kind: str = "parametric", bootstrap_draws: bool = False, quantiles=(), censored: bool = False,
           weighted: bool = False, scheduler: str | None = None, plots=(), **options) -> "FitRequest":
        from .bootstrap import KINDS, fewest_replicates
        from .estimators import METHODS
        from .families import one_family

        settings = FitOptions.of(**options)
        family = one_family(distribution, settings.trials)
        if method not in METHODS:
            raise UsageError(f"--method is one of {', '.join(METHODS)}, not {method!r}")
        probs = probabilities(probs, "--probs")
        if probs and method != "quantile":
            raise UsageError("--probs goes with --method quantile")
        if bootstrap_kind not in KINDS:
            raise UsageError(f"--bootstrap-kind is parametric or nonparametric, not {bootstrap_kind!r}")
        if isinstance(bootstrap, bool) or not isinstance(bootstrap, int) or not 0 <= bootstrap <= 100_000:
            raise UsageError(f"--bootstrap is a number of replicates from 0 to 100,000, not {bootstrap!r}")
        if 0 < bootstrap < fewest_replicates(settings.level):
            raise UsageError(f"--bootstrap {bootstrap}: a {settings.level:.4g} percentile interval needs at least "
                             f"{fewest_replicates(settings.level)} replicates (one beyond each end; 1000 is usual)")
        resampling = Resampling(bootstrap, bootstrap_kind, bool(bootstrap_draws), probabilities(quantiles, "--quantile"))
        plots = frozenset(plots)
        if scheduler is not None and (settings.fix or resampling.asked or plots or censored or method != "mle"):
            raise UsageError("--scheduler fits one column of one data set (table or json), by maximum likelihood, "
                             "without --fix, --bootstrap, --quantile, plots or censoring")
        if method != "mle" and (weighted or settings.fix or censored or resampling.quantiles or plots
                                or settings.gof_bootstrap):
            raise UsageError(f"--method {method} does not go with --weights, --fix, censored data, --quantile, --plot, "
                             "--plot-nll or --gof-bootstrap (they are maximum likelihood's)")
        if censored and (weighted or resampling.asked or "nll" in plots):
            raise UsageError("--weights do not go with censored data" if weighted else
                             "--bootstrap, --quantile and --plot-nll are not offered for censored data")
        return cls(family, settings, method, probs or None, resampling, censored, weighted, scheduler, plots)

    @property
    def one_fit(self) -> bool:
        """What only one fit can give (the rest go with a batch of files and columns)."""
        return self.resampling.asked or self.method != "mle" or self.censored or bool(self.plots) \
            or self.scheduler is not None


def probabilities(given, flag: str) -> tuple:
    """Probabilities as "0.05,0.5,0.95" or a sequence of numbers, each strictly between 0 and 1."""
    if given is None or (not isinstance(given, str) and not len(given)):
        return ()
    text = given if isinstance(given, str) else None
    try:
        values = tuple(float(part) for part in given.split(",") if part.strip()) if text is not None else \
            tuple(float(v) for v in given)
    except (TypeError, ValueError):
        raise UsageError(f"{flag} takes probabilities separated by commas, e.g. 0.05,0.5,0.95, not {given!r}") \
            from None
    if not values or any(not 0 < v < 1 for v in values):
        raise UsageError(f"{flag}: each probability lies strictly between 0 and 1 ({given!r})")
    return values
