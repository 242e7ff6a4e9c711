"""What logistic, cauchy and student_t share: a density f0((x - mu)/s)/s on the real line, with no
sufficient statistic smaller than the values. A family gives rho(z) = -log f0(z) and its first two
derivatives in z; the NLL n*log(s) + sum rho(z) and its exact derivatives in (mu, s) follow here."""

from __future__ import annotations

import numpy as np

from .base import NaturalFamily, Parameter, Positive, Real, RealLine, power_of_two
from .statistics import Values


class LocationScale(NaturalFamily):
    location, scale = "mu", "s"  # parameter names
    support = RealLine()
    continuous = True
    reference_method = "none"

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
        return power_of_two(self._half_iqr(stats)) or 1.0

    def _half_iqr(self, stats) -> float:
        return 0.5 * (stats.quantile(0.75) - stats.quantile(0.25))

    def degenerate_reason(self, stats, fixed=()):
        if self.scale in fixed:
            return None
        values = stats.values if stats.weights is None else stats.values[stats.weights > 0]
        if values.min() == values.max():
            return (f"every value is the same (or the others weigh nothing next to it), so the {self.name} "
                    f"likelihood has no maximum ({self.scale} -> 0)")
        return None

    def start(self, stats):
        # Robust and deliberately rough: the median, and half the interquartile range (or of the
        # whole range, where half the rows share one value).
        spread = self._half_iqr(stats) or 0.5 * (stats.values.max() - stats.values.min())
        return {self.location: stats.quantile(0.5), self.scale: float(spread)}

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
