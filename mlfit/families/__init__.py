"""The registry of families: adding one means one module and one line here.

Each line names the module and class, then the other names `--dist` accepts for it (R's and
scipy's). Families are imported on first use, so listing their names (for `--help`) costs
nothing: numpy and scipy load only when a fit needs them. A family defined elsewhere (a user's,
a test's) joins with `register(cls, *aliases)`, and every command takes it from here.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

REGISTRY = {
    "normal": ("normal:Normal", "norm"),
    "laplace": ("laplace:Laplace",),
    "bernoulli": ("bernoulli:Bernoulli",),
    "categorical": ("categorical:Categorical",),
    "poisson": ("poisson:Poisson", "pois"),
    "exponential": ("exponential:Exponential", "exp", "expon"),
    "geometric": ("geometric:Geometric", "geom"),
    "lognormal": ("lognormal:Lognormal", "lnorm"),
    "gamma": ("gamma:Gamma",),
    "weibull": ("weibull:Weibull", "weibull_min"),
    "negbinomial": ("negbinomial:Negbinomial", "nbinom"),
    "beta": ("beta:Beta",),
    "uniform": ("uniform:Uniform", "unif"),
    "logistic": ("logistic:Logistic", "logis"),
    "cauchy": ("cauchy:Cauchy",),
    "student_t": ("student_t:StudentT", "t"),
    "binomial": ("binomial:Binomial", "binom"),
}
NAMES = tuple(REGISTRY)  # the built-in families; `family_names()` includes registered ones
ALIASES = {alias: name for name, (_, *aliases) in REGISTRY.items() for alias in aliases}


def family_names() -> tuple[str, ...]:
    return tuple(REGISTRY)


def family_aliases() -> dict[str, str]:
    return {alias: name for name, (_, *aliases) in REGISTRY.items() for alias in aliases}


def register(cls, *aliases: str) -> None:
    """Add a family class defined outside this package (a subclass of base.Family, with a
    conditional.Conditional part if it regresses): fit, compare, score, describe, regress and
    score-model then take it by its `name` or an alias, as they take the built-in ones."""
    from .base import Family

    if not (isinstance(cls, type) and issubclass(cls, Family) and cls.name):
        raise TypeError(f"{cls!r} is not a family class with a name")
    taken = set(REGISTRY) | set(family_aliases())
    clash = [n for n in (cls.name, *aliases) if n in taken and REGISTRY.get(n, (None,))[0] is not cls]
    if clash:
        raise ValueError(f"the name {clash[0]!r} is taken by another family")
    REGISTRY[cls.name] = (cls, *aliases)
    get_family.cache_clear()


def canonical(name: str) -> str:
    """The family's own name for a name or alias ('lnorm' -> 'lognormal'); unknown names unchanged."""
    return family_aliases().get(name, name)


def family_class(name: str):
    from ..errors import UsageError

    name = canonical(name)
    if name not in REGISTRY:
        raise UsageError(f"unknown distribution '{name}'; choose one of: {', '.join(family_names())} "
                         f"(or R's and scipy's names: {', '.join(family_aliases())})")
    where = REGISTRY[name][0]
    if isinstance(where, type):  # registered at run time
        return where
    module, cls = where.split(":")
    return getattr(import_module(f".{module}", __name__), cls)


@cache
def get_family(name: str, trials: int | None = None):
    """The family called `name` (or an alias), built with the options it needs (binomial: `trials`)."""
    from ..errors import UsageError

    cls = family_class(name)
    if "trials" in cls.needs:
        if trials is None:
            raise UsageError(f"{cls.name} needs the number of trials per row: give --trials N")
        if not (isinstance(trials, int) and trials >= 1):
            raise UsageError(f"--trials must be a whole number of at least 1, not {trials}")
        return cls(trials)
    return cls()


def regression_families() -> list[str]:
    """The families whose parameters can depend on columns (mlfit regress, score-model): those with
    a conditional part. (Each family's module is imported to ask it.)"""
    from .conditional import Conditional

    return [name for name in family_names() if issubclass(family_class(name), Conditional)]


def registered_families(trials: int | None = None) -> list:
    """Every family in the registry that can be built (binomial only with `trials`)."""
    from ..errors import UsageError

    families = []
    for name in family_names():
        if "trials" in family_class(name).needs and trials is None:
            continue
        try:
            families.append(get_family(name, trials))
        except UsageError:  # (a --trials the family cannot take is reported by fit itself)
            continue
    return families


def one_family(name: str, trials: int | None = None):
    """The family a command fits alone, refusing options it would ignore: --trials belongs to the
    families that count successes out of trials (binomial), and another family given it would
    silently drop it."""
    from ..errors import UsageError

    if trials is not None and "trials" not in family_class(name).needs:
        raise UsageError(f"--trials is the number of trials behind each count (binomial); "
                         f"{canonical(name)} takes no trials")
    return get_family(name, trials)
