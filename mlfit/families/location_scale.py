"""What logistic, cauchy and student_t share: a density f0((x - mu)/s)/s on the real line, with no
sufficient statistic smaller than the values. A family gives rho(z) = -log f0(z) and its first two
derivatives in z; the NLL n*log(s) + sum rho(z) and its exact derivatives in (mu, s) follow here."""

from __future__ import annotations

import numpy as np

from .base import NaturalFamily, Parameter, Positive, Real
from .distribution import RealLine, power_of_two
from .statistics import Values


class LocationScale(NaturalFamily):
    location, scale = "mu", "s"  # parameter names
    support = RealLine()
    continuous = True
    reference_method = "none"
    sufficient_statistics = False  # the values themselves (see Values)

    @classmethod
    def location_scale_parameters(cls, location: str, scale: str) -> tuple[Parameter, Parameter]:
        return (Parameter(location, Real(), scale_by=scale, in_data_units=True),
                Parameter(scale, Positive(), in_data_units=True))

    def rho(self, z, params, order=2):
        """(rho, rho', rho'') at standardized values z; the derivatives past `order` may be None."""
        raise NotImplementedError

    def summarize(self, values, weights=None):
        return Values(values, weights)

    def unit(self, stats):
        return power_of_two(self._starting_spreads(stats)[-1]) or 1.0

    def _spreads(self, stats) -> list[float]:
        """Robust spreads, most robust first: the median absolute deviation (half the rows may be
        wild), and half the interquartile range (a quarter) where it is more than 10 times wider
        (a tight cluster among far values: its MAD says nothing of the far ones); half the range
        where both are 0."""
        spreads = [float(spread) for spread in (stats.mad, 0.5 * (stats.quantile(0.75) - stats.quantile(0.25)))
                   if spread > 0]
        if len(spreads) == 2 and spreads[1] <= 10 * spreads[0]:
            spreads.pop()
        return spreads or [0.5 * (stats.quantile(1.0) - stats.quantile(0.0))]

    def degenerate_reason(self, stats, fixed=()):
        if self.scale in fixed:
            return None
        low, high = stats.extremes()
        if low == high:
            return (f"every value is the same (or the others weigh nothing next to it), so the {self.name} "
                    f"likelihood has no maximum ({self.scale} -> 0)")
        return None

    def start(self, stats):
        # Robust and deliberately rough: the median and the median absolute deviation (one far
        # value among three puts the interquartile range 10^7 times too wide).
        return {self.location: stats.quantile(0.5), self.scale: self._spreads(stats)[0]}

    def starts(self, stats):
        # One search per robust spread that tells a different story (see _spreads): usually one;
        # and from half the range where even the widest is a thousand times narrower (three rows
        # within 1e-251 of 0 and one at 1: every robust spread is 1e-251, and a search from there
        # cannot leave float64's range of the far row's cost).
        first = self.start(stats)
        return [{**first, self.scale: spread} for spread in self._starting_spreads(stats)]

    def _starting_spreads(self, stats) -> list[float]:
        """The robust spreads, and half the range where even the widest is a thousand times
        narrower; the optimiser's unit is the last (a unit of 1e-251 would leave the Hessian of a
        spread of order 1 below float64's range)."""
        spreads = self._spreads(stats)
        half_range = 0.5 * (stats.quantile(1.0) - stats.quantile(0.0))
        return [*spreads, float(half_range)] if half_range > 1e3 * spreads[-1] else spreads

    def standardized(self, stats, params):
        with np.errstate(over="ignore"):
            return (stats.values - params[self.location]) / params[self.scale]

    def derivatives(self, stats, params, order=2):
        s, n = params[self.scale], stats.n
        z = self.standardized(stats, params)
        rho, d1, d2 = self.rho(z, params, order)
        value = n * np.log(s) + stats.total(rho)
        if order == 0:
            return float(value), None, None
        sum_d1, sum_z_d1 = stats.total(d1), stats.total(z * d1)
        gradient = np.array([-sum_d1 / s, (n - sum_z_d1) / s])
        if order == 1:
            return float(value), gradient, None
        cross = (sum_d1 + stats.total(z * d2)) / s**2
        hessian = np.array([[stats.total(d2) / s**2, cross],
                            [cross, (2.0 * sum_z_d1 + stats.total(z * z * d2) - n) / s**2]])
        return float(value), gradient, hessian

    def log_prob(self, encoded, params):
        with np.errstate(over="ignore"):
            z = (encoded - params[self.location]) / params[self.scale]
        return -self.rho(z, params, order=0)[0] - np.log(params[self.scale])
