"""The conditional part of a (log-)location-scale family, with censoring: survival regression.

With t = y (logistic, cauchy) or t = log y (lognormal, weibull, exponential: accelerated failure
time, R's survreg), a row's location is linear in columns and t = location + sigma * Z, Z of a
standard density f0 = exp(-rho). An observed row costs rho(z) + log sigma (+ log y, the Jacobian
of t = log y), z = (t - location) / sigma; a censored one -log(F0(z_right) - F0(z_left)), its
bounds' z (a bound at -inf or +inf: left- or right-censored). The derivatives in (location,
log sigma) follow from rho's and the standard CDF's; a family gives `standard_rho` and
`standard_log_cdf` / `standard_log_sf`.

weibull: Z is the minimum extreme value (survreg's "extreme"), sigma = 1 / shape, location =
log scale; exponential: the same with sigma = 1; lognormal: Z normal.
"""

from __future__ import annotations

import numpy as np

from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss, log1mexp


class Standardized(LikelihoodLoss, Conditional):
    on_log_scale = False  # t = log y (an accelerated failure time model)
    # log sigma = scale_sign * the scale predictor (weibull's predictor is log shape = -log sigma)
    scale_sign = 1.0
    row_inputs = ("bounds",)
    se_note = "se: the inverse observed information at the MLE (what R's survreg reports)"

    @property
    def response_rule(self):
        """What an observed response must be beyond the family's support (a time whose log exists)."""
        return "greater than 0 (its log is the model's response)" if self.on_log_scale else None

    def standard_rho(self, z, order):
        """(rho, rho', rho'') of the standard density at z (past `order`: None)."""
        raise NotImplementedError

    def standard_log_cdf(self, z):
        raise NotImplementedError

    def standard_log_sf(self, z):
        raise NotImplementedError

    def _location_scale(self, etas):
        location = etas[:, 0]
        log_sigma = self.scale_sign * etas[:, 1] if etas.shape[1] > 1 else np.zeros(len(etas))
        return location, log_sigma

    def _t(self, y):
        if not self.on_log_scale:
            return y
        with np.errstate(divide="ignore"):
            return np.log(y)

    def conditional_nll(self, y, etas, order=0):
        bounds = self.row_input("bounds", len(y))
        location, log_sigma = self._location_scale(etas)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            sigma = np.exp(log_sigma)
            t = self._t(y)
            z = (t - location) / sigma
            rho, r1, r2 = self.standard_rho(z, order)
            value = rho + log_sigma + (t if self.on_log_scale else 0.0)
            if order >= 1:
                g_location, g_scale = -r1 / sigma, 1.0 - z * r1
            if order >= 2:
                h_ll, h_ls, h_ss = r2 / sigma**2, (r1 + z * r2) / sigma, z * r1 + z * z * r2
        if bounds is not None:
            censored = np.flatnonzero(bounds[:, 0] != bounds[:, 1])
            if censored.size:
                parts = self._censored(bounds[censored], location[censored], log_sigma[censored], order)
                value = value.copy()
                value[censored] = parts[0]
                if order >= 1:
                    g_location, g_scale = g_location.copy(), g_scale.copy()
                    g_location[censored], g_scale[censored] = parts[1], parts[2]
                if order >= 2:
                    h_ll, h_ls, h_ss = h_ll.copy(), h_ls.copy(), h_ss.copy()
                    h_ll[censored], h_ls[censored], h_ss[censored] = parts[3:]
        if order == 0:
            return value, None, None
        m = etas.shape[1]
        sign = self.scale_sign
        gradient = np.column_stack([g_location, sign * g_scale])[:, :m]
        if order == 1:
            return value, gradient, None
        hessian = np.empty((len(y), m, m))
        hessian[:, 0, 0] = h_ll
        if m > 1:
            hessian[:, 0, 1] = hessian[:, 1, 0] = sign * h_ls
            hessian[:, 1, 1] = h_ss
        return value, gradient, hessian

    def _censored(self, bounds, location, log_sigma, order):
        """-log(F0(zR) - F0(zL)) and its derivatives in (location, log sigma), row by row."""
        sigma = np.exp(log_sigma)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            zl = (self._t(bounds[:, 0]) - location) / sigma
            zr = (self._t(bounds[:, 1]) - location) / sigma
            # D = S(zl) - S(zr) = F(zr) - F(zl): the form whose leading term is the smaller
            sf_l, sf_r = self.standard_log_sf(zl), self.standard_log_sf(zr)
            cdf_l, cdf_r = self.standard_log_cdf(zl), self.standard_log_cdf(zr)
            upper = sf_l <= cdf_r
            log_d = np.where(upper, sf_l + log1mexp(sf_r - sf_l), cdf_r + log1mexp(cdf_l - cdf_r))
        value = -log_d
        if order == 0:
            return (value,)
        ends = []
        for z in (zl, zr):
            finite = np.isfinite(z)
            safe = np.where(finite, z, 0.0)
            rho, r1, _ = self.standard_rho(safe, 1)
            ratio = np.where(finite, np.exp(-rho - log_d), 0.0)  # f0(z) / D
            # z's derivatives: in location -1/sigma, in log sigma -z; second: (0, 1/sigma, z)
            ends.append((ratio, safe, np.where(finite, -r1, 0.0)))
        (ratio_l, z_l, dlogf_l), (ratio_r, z_r, dlogf_r) = ends
        d_location = -(ratio_r - ratio_l) / sigma
        d_scale = -(ratio_r * z_r - ratio_l * z_l)
        g_location, g_scale = -d_location, -d_scale
        if order == 1:
            return value, g_location, g_scale

        def second(ratio, z, dlogf, zi, zj, zij):
            return ratio * (dlogf * zi * zj + zij)

        dd = {}
        for key, (zi_l, zj_l, zij_l, zi_r, zj_r, zij_r) in {
                "ll": (-1 / sigma, -1 / sigma, 0.0, -1 / sigma, -1 / sigma, 0.0),
                "ls": (-1 / sigma, -z_l, 1 / sigma, -1 / sigma, -z_r, 1 / sigma),
                "ss": (-z_l, -z_l, z_l, -z_r, -z_r, z_r)}.items():
            dd[key] = second(ratio_r, z_r, dlogf_r, zi_r, zj_r, zij_r) - second(ratio_l, z_l, dlogf_l, zi_l, zj_l, zij_l)
        h_ll = -dd["ll"] + d_location * d_location
        h_ls = -dd["ls"] + d_location * d_scale
        h_ss = -dd["ss"] + d_scale * d_scale
        return value, g_location, g_scale, h_ll, h_ls, h_ss

    def no_maximum(self, y, etas, w):
        bounds = self.row_input("bounds", len(y))
        if bounds is None:
            return None
        used = w > 0
        if np.any(np.isfinite(bounds[used, 1])):
            return None
        return (f"{self.predictors()[0].name}: Intercept", "+inf",
                "every row is right-censored (no time was observed and none is bounded above), so the likelihood "
                "rises as the times' location goes to infinity")

    def location_units(self, y):
        return self._t(y)

    def conditional_start(self, y, w):
        t = self._t(y)
        centre = float(w @ t / w.sum())
        spread = float(np.sqrt(w @ (t - centre) ** 2 / w.sum())) or 1.0
        starts = [centre]
        if len(self.predictors()) > 1:
            starts.append(self.scale_sign * np.log(spread))
        return starts

    def row_location_scale(self, etas):
        """Each row's location and sigma on the t scale (for quantiles of the prediction)."""
        location, log_sigma = self._location_scale(etas)
        return location, np.exp(log_sigma)


class MinimumExtreme(Standardized):
    """Z of the minimum extreme value distribution, density exp(z - e^z): log y of a weibull (and an
    exponential, its shape 1), survreg's "extreme"."""
    on_log_scale = True

    def standard_rho(self, z, order):
        with np.errstate(over="ignore"):
            e = np.exp(z)
        return e - z, (e - 1.0 if order >= 1 else None), (e if order >= 2 else None)

    def standard_log_cdf(self, z):
        with np.errstate(over="ignore"):
            return log1mexp(-np.exp(z))

    def standard_log_sf(self, z):
        with np.errstate(over="ignore"):
            return -np.exp(z)
