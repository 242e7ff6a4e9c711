"""The distribution part of a family: what it says of values, apart from fitting them: its
support (which values it accepts), the log-density or mass of a row, and where it is continuous
the log-CDF, log-survival, quantile and sampling (EDF statistics, Q-Q plots, censoring, the
bootstrap), or discrete its frequency table; its scipy.stats twin where it has one; where it
sits in describe's Cullen-Frey plane; how its parameters follow when the data are rescaled.
`base.Family` adds the likelihood part (statistics, the NLL and its derivatives, the reference
solution, the start) and checks, when a family class is defined, that what it declares it has.
"""

from __future__ import annotations

import numpy as np


def _in_units(value, unit: str, c: float):
    with np.errstate(over="ignore"):  # beyond float64: inf, which the caller refuses
        if unit == "data":
            return np.float64(value) * c
        if unit == "per data":
            return np.float64(value) / c
        if unit == "log data":
            return np.float64(value) + np.log(c)
    raise ValueError(f"unknown data unit {unit!r}")


def power_of_two(x: float) -> float:
    """The largest power of two not above x (> 0 and finite); 0.0 otherwise."""
    if not (np.isfinite(x) and x > 0):
        return 0.0
    mantissa, exponent = np.frexp(x)  # x = mantissa * 2^exponent, mantissa in [0.5, 1)
    return float(np.ldexp(1.0, int(exponent) - 1))


# --- supports: which values a family accepts ------------------------------------------
class Support:
    """Which values a family accepts: the one definition that `fit` checks a column against and
    `compare` chooses its candidates by."""

    description = ""
    numeric = True
    discrete = False  # whole numbers only: a cell that underflows to 0 is refused, not counted as 0
    accepts_true_false = False  # cells written true/false read as 1/0
    catch_all = False  # accepts any value at all (labels): compare offers it only for discrete or text columns

    @property
    def key(self) -> tuple:
        """Equal for supports that accept the same values (compare checks each once)."""
        return (type(self).__name__,)

    def violations(self, values: np.ndarray) -> np.ndarray:
        """Boolean mask of the values outside the support."""
        raise NotImplementedError


class RealLine(Support):
    description = "a finite number"

    def violations(self, values):
        return ~np.isfinite(values)


class PositiveReals(Support):
    description = "a number greater than 0"

    def violations(self, values):
        return ~np.isfinite(values) | ~(values > 0)


class NonNegativeReals(Support):
    description = "a number 0 or greater"

    def violations(self, values):
        return ~np.isfinite(values) | ~(values >= 0)


class OpenUnitInterval(Support):
    description = "a number strictly between 0 and 1"

    def violations(self, values):
        return ~((values > 0) & (values < 1))


class ZeroOne(Support):
    description = "0 or 1 (or true/false)"
    discrete = True
    accepts_true_false = True

    def violations(self, values):
        return (values != 0) & (values != 1)


class NonNegativeIntegers(Support):
    description = "a non-negative integer count"
    discrete = True

    def violations(self, values):
        return ~np.isfinite(values) | (values < 0) | (values != np.floor(values))


class CountsUpTo(Support):
    """0, 1, ..., trials: a binomial count of successes."""

    discrete = True

    def __init__(self, trials: int):
        self.trials = trials
        self.description = f"a whole number from 0 to {trials} (the --trials)"

    @property
    def key(self):
        return ("CountsUpTo", self.trials)

    def violations(self, values):
        return ~np.isfinite(values) | (values < 0) | (values > self.trials) | (values != np.floor(values))


class Labels(Support):
    description = "any text label"
    numeric = False
    catch_all = True

    def violations(self, values):
        return np.zeros(len(values), dtype=bool)


class Distribution:
    support: Support = RealLine()
    continuous = False  # continuous families have a CDF (and log_cdf, log_sf, quantile, sample)
    # How each parameter follows when the data are multiplied by c, for a continuous family whose
    # density is scale-equivariant: "data" (a location or scale: times c), "per data" (a rate:
    # divided by c), "log data" (the location of log x: plus log c); parameters not named stay put.
    # Empty: the family is not scale-equivariant (counts, labels, proportions). A family that
    # declares it is fitted to data near float64's edges divided by a power of two, exactly.
    data_units: dict = {}
    # Why a censored fit (which follows the gradient of a smooth likelihood) refuses the family; "" where it does not.
    uncensorable = ""

    def as_scipy(self, params: dict):
        """The frozen scipy.stats twin at `params` (its moments for --method mm; the tests compare
        against it), or None where the family has none."""
        return None

    def cullen_frey(self, largest: float) -> dict | None:
        """Where the family lies in the (skewness^2, kurtosis) plane of a Cullen-Frey graph (mlfit
        describe): {"point": (s2, k)}, {"line": an array of (s2, k) rows, sampled up to skewness^2
        `largest`}, or {"region": ((a, b), (c, d))}, between kurtosis = a + b s2 and c + d s2;
        "style" the marker or line style descdist draws it with. None where the graph has no place
        for it."""
        return None

    def rescaled(self, params: dict, c: float) -> dict:
        """The parameters of data multiplied by c, from those of the data (see data_units)."""
        out = dict(params)
        for name, unit in self.data_units.items():
            if name in out:
                out[name] = _in_units(out[name], unit, c)
        return out

    def frequency_table(self, values, stats, params) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Discrete families: cell labels, observed counts and model probabilities (summing to 1),
        from `stats` where they hold them; None when there are too many cells to tabulate."""
        raise NotImplementedError

    def encode(self, values: np.ndarray, stats) -> np.ndarray:
        """Values as `log_prob` takes them (category labels become codes)."""
        return values

    def log_prob(self, encoded: np.ndarray, params: dict) -> np.ndarray:
        """Per-row log-probability (or log-density) in file order."""
        raise NotImplementedError

    def labels(self, stats) -> list[str] | None:
        """Names of the entries of a vector parameter (categories), or None."""
        return None
