"""How to fit, checked once in the library: what the CLI's flags and a Python caller's keywords
both become, so `mlfit.fit(values, "gamma", level=1.5)` is refused as `--level 1.5` is."""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from .errors import UsageError


@dataclass(frozen=True)
class FitOptions:
    level: float = 0.95  # of the Wald and profile intervals
    gof_bootstrap: int = 0  # parametric-bootstrap replicates for KS/CvM/AD p-values (0: none)
    seed: int = 0  # of the bootstrap
    fix: dict = field(default_factory=dict)  # parameters held at written values, e.g. {"sigma": "1"}
    trials: int | None = None  # binomial's number of trials per row
    chisq_cells: str = "pooled"  # the chi-square's cells: "pooled" to 5 expected rows, or "fitdistrplus"
    chisq_breaks: tuple | None = None  # explicit cell edges (the cells (-inf, b1], ..., (bk, inf))

    def __post_init__(self):
        if isinstance(self.level, bool) or not isinstance(self.level, (int, float)) or not 0.0 < self.level < 1.0:
            raise UsageError(f"level must lie strictly between 0 and 1, not {self.level!r}")
        for name in ("gof_bootstrap", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"{name} must be a whole number of at least 0, not {value!r}")
        if self.trials is not None and (isinstance(self.trials, bool) or not isinstance(self.trials, int)
                                        or self.trials < 1):
            raise UsageError(f"trials must be a whole number of at least 1, not {self.trials!r}")
        if self.chisq_cells not in ("pooled", "fitdistrplus"):
            raise UsageError(f"chisq_cells is 'pooled' or 'fitdistrplus', not {self.chisq_cells!r}")
        if self.chisq_breaks is not None:
            breaks = self.chisq_breaks
            if (isinstance(breaks, (str, bytes)) or not all(isinstance(b, (int, float)) and not isinstance(b, bool)
                                                            and b == b and abs(b) != float("inf") for b in breaks)
                    or not len(breaks)):
                raise UsageError(f"chisq_breaks must be finite numbers, the cells' upper edges, not {breaks!r}")
            object.__setattr__(self, "chisq_breaks", tuple(sorted(set(float(b) for b in breaks))))
        if not isinstance(self.fix, dict):
            raise UsageError(f"fix must map parameter names to values, not {self.fix!r}")

    @classmethod
    def of(cls, options: "FitOptions | dict | None" = None, **keywords) -> "FitOptions":
        """FitOptions from an instance, a dict or keywords; an unknown keyword is a UsageError."""
        if isinstance(options, FitOptions) and not keywords:
            return options
        given = {**(vars(options) if isinstance(options, FitOptions) else options or {}), **keywords}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise UsageError(f"unknown fit option {', '.join(unknown)}; the options are {', '.join(sorted(known))}")
        return cls(**{name: value for name, value in given.items() if value is not None})  # None: the default
