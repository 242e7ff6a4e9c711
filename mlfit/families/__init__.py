"""The registry of families: adding one means one module and one line here.

Families are imported on first use, so listing their names (for `--help`) costs
nothing: numpy and scipy load only when a fit needs them.
"""

from __future__ import annotations

from functools import cache
from importlib import import_module

REGISTRY = {
    "normal": "normal:Normal",
    "laplace": "laplace:Laplace",
    "bernoulli": "bernoulli:Bernoulli",
    "categorical": "categorical:Categorical",
    "poisson": "poisson:Poisson",
}
NAMES = tuple(REGISTRY)


@cache
def get_family(name: str):
    from ..errors import UsageError

    if name not in REGISTRY:
        raise UsageError(f"unknown distribution '{name}'; choose one of: {', '.join(NAMES)}")
    module, cls = REGISTRY[name].split(":")
    return getattr(import_module(f".{module}", __name__), cls)()
