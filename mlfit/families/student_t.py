"""Student's t family (location mu, scale sigma, degrees of freedom nu): its NLL is
((nu+1)/2)*sum(log(1 + z^2/nu)) + n*log(sigma) + n*(the normalising constant), a robust squared error.
As nu -> infinity it becomes the normal: a fit whose best nu is that limit reports nu = inf, at the
boundary, with the normal's mu and sigma."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import Parameter, PositiveOrInfinite, Predictor
from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss
from .location_scale import LocationScale
from .normal import HALF_LOG_2PI
from .statistics import Moments

NU_START = 5.0
NU_LIMIT = 1e6  # a fitted nu beyond this is the normal limit: the likelihood's rise is below float64's reach


def _log_constant(nu):
    """-log of the standardized density's normalising constant, log(Gamma(nu/2) sqrt(nu pi) / Gamma((nu+1)/2)).
    For large nu the difference of two lgammas near 1e15 keeps no digits: there its asymptotic
    series lgamma(x + 1/2) - lgamma(x) = log(x)/2 - 1/(8x) + 1/(192x^3), x = nu/2, which tends to
    the normal's log(sqrt(2 pi))."""
    x = np.float64(nu) / 2
    if x > 1e4:
        with np.errstate(over="ignore"):
            ratio = 0.5 * np.log(x) - 1 / (8 * x) + 1 / (192 * x**3)
    else:
        ratio = special.gammaln(x + 0.5) - special.gammaln(x)
    return 0.5 * np.log(nu * np.pi) - ratio


class StudentT(LikelihoodLoss, Conditional, LocationScale):
    name = "student_t"
    location, scale = "mu", "sigma"
    parameters = (*LocationScale.location_scale_parameters("mu", "sigma"), Parameter("nu", PositiveOrInfinite()))
    data_units = {"mu": "data", "sigma": "data"}
    loss = "Student-t loss: ((nu+1)/2)*log(1 + z^2/nu), a squared error that forgives outliers"
    example = {"mu": 0.5, "sigma": 2.0, "nu": 4.0}

    def start(self, stats):
        return {**super().start(stats), "nu": NU_START}

    def reference_given(self, stats, fixed):
        if fixed.get("nu") == np.inf and set(fixed) <= {"nu"}:  # the normal limit: its closed form
            moments = stats.over_rows(lambda part: Moments.of(part.values, part.weights), Moments.merge)
            return {"mu": moments.mean, "sigma": moments.sd, "nu": np.inf}
        return super().reference_given(stats, fixed)

    def rho(self, z, params, order=2):
        nu = params["nu"]
        with np.errstate(over="ignore", invalid="ignore"):
            square = z * z
            if np.isinf(nu):
                return 0.5 * square + HALF_LOG_2PI, z, np.ones_like(z)
            rho = (nu + 1) / 2 * np.log1p(square / nu) + _log_constant(nu)
            if order == 0:
                return rho, None, None
            plus = nu + square
            return rho, (nu + 1) * z / plus, ((nu + 1) * (nu - square) / (plus * plus) if order > 1 else None)

    def derivatives(self, stats, params, order=2):
        value, gradient2, hessian2 = super().derivatives(stats, params, order)
        nu, sigma, n = params["nu"], params["sigma"], stats.n
        if order == 0:
            return value, None, None
        if np.isinf(nu):  # the normal limit: nu's derivatives vanish there
            return value, np.append(gradient2, 0.0), None if order == 1 else np.pad(hessian2, (0, 1))
        z = self.standardized(stats, params)
        with np.errstate(over="ignore", invalid="ignore"):
            square = z * z
            plus = nu + square
            log_term = np.log1p(square / nu)
            share = square / (nu * plus)  # z^2 / (nu (nu + z^2))
            d_nu = (-0.5 * special.digamma((nu + 1) / 2) + 0.5 * special.digamma(nu / 2) + 0.5 / nu) * n \
                + stats.total(0.5 * log_term - 0.5 * (nu + 1) * share)
        gradient = np.append(gradient2, d_nu)
        if order == 1:
            return value, gradient, None
        with np.errstate(over="ignore", invalid="ignore"):
            d_nu_nu = (-0.25 * special.polygamma(1, (nu + 1) / 2) + 0.25 * special.polygamma(1, nu / 2)
                       - 0.5 / nu**2) * n + stats.total(-0.5 * share + 0.5 * share * (nu**2 + 2 * nu + square)
                                                         / (nu * plus))
            d_z_nu = z * (square - 1.0) / (plus * plus)
        hessian = np.zeros((3, 3))
        hessian[:2, :2] = hessian2
        hessian[0, 2] = hessian[2, 0] = -stats.total(d_z_nu) / sigma
        hessian[1, 2] = hessian[2, 1] = -stats.total(z * d_z_nu) / sigma
        hessian[2, 2] = d_nu_nu
        return value, gradient, hessian

    def why_unconverged(self, stats, params):
        # At a value k rows share (k = 1 for any value at all), the density of those rows grows as
        # 1/sigma^k and the others' shrink as sigma^(nu (n - k)): below nu = k/(n - k), sigma -> 0
        # there sends the likelihood to infinity. Every t fit with free nu is a local maximum.
        nearest, k = stats.nearest(params["mu"])
        if k < stats.n and params["nu"] < k / (stats.n - k):
            return (f"the student_t likelihood is unbounded: with nu below {k / (stats.n - k):.3g}, sigma -> 0 at "
                    f"{nearest:g} sends it to infinity, and the search went there; fit with --fix nu=... or a "
                    "larger sample, whose local maximum lies elsewhere")
        return None

    def standard_errors(self, stats, params, fixed=()):
        if np.isinf(params["nu"]):  # at the boundary nu has no curvature: the normal's for the others
            errors = super().standard_errors(stats, params, fixed=(*fixed, "nu"))
            return {**errors, "nu": float("nan")}
        return super().standard_errors(stats, params, fixed)

    def log_cdf(self, x, params):
        return self._log_tail((x - params["mu"]) / params["sigma"], params["nu"])

    def log_sf(self, x, params):
        return self._log_tail(-(x - params["mu"]) / params["sigma"], params["nu"])

    @staticmethod
    def _log_tail(z, nu):
        """log P(Z <= z) for the standard t with nu degrees of freedom (the normal's at nu = inf)."""
        if not np.isfinite(nu):
            return special.log_ndtr(z)
        with np.errstate(divide="ignore"):  # a tail beyond float64: log 0
            return np.log(special.stdtr(nu, z))

    def quantile(self, q, params):
        z = special.stdtrit(params["nu"], q) if np.isfinite(params["nu"]) else special.ndtri(q)
        return params["mu"] + params["sigma"] * z

    def sample(self, rng, params, size):
        z = rng.standard_t(params["nu"], size) if np.isfinite(params["nu"]) else rng.standard_normal(size)
        return params["mu"] + params["sigma"] * z

    def loss_report(self, stats, params):
        z = self.standardized(stats, params)
        rho = self.rho(z, params, order=0)[0]
        mean_loss = stats.total(rho) / stats.n
        return {"name": self.loss, "mean_t_loss": mean_loss,
                "identity": "NLL = n*mean(((nu+1)/2)*log(1 + z^2/nu) + c(nu)) + n*log(sigma), z = (x - mu)/sigma, "
                            "c(nu) = -log(Gamma((nu+1)/2) / (Gamma(nu/2)*sqrt(nu*pi)))",
                "nll_from_loss": float(stats.n * (mean_loss + np.log(params["sigma"])))}

    def as_scipy(self, params):
        from scipy import stats

        if np.ndim(params["nu"]) == 0 and np.isinf(params["nu"]):
            return stats.norm(params["mu"], params["sigma"])
        return stats.t(params["nu"], params["mu"], params["sigma"])

    # The conditional model: y = mu + sigma T, T a standard t with nu degrees of freedom, mu linear in columns,
    # log sigma constant (or linear with --sigma), log nu constant: outlier-resistant regression. With
    # A = (nu + 1)/2 log(1 + z^2/nu) and C = -log of the normalising constant, a row costs C + log sigma + A.
    def predictors(self, classes=None):
        return [Predictor("mu", "identity", "mean"), Predictor("log_sigma", "log", "scale"),
                Predictor("log_nu", "log", "shape")]

    def conditional_nll(self, y, etas, order=0):
        mu, log_sigma, log_nu = etas[:, 0], etas[:, 1], etas[:, 2]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            sigma, nu = np.exp(log_sigma), np.exp(log_nu)
            z = (y - mu) / sigma
            square = z * z
            plus = nu + square
            log_term = np.log1p(square / nu)
            value = 0.5 * (nu + 1.0) * log_term + _log_constant_rows(nu) + log_sigma
            if order == 0:
                return value, None, None
            a_z = (nu + 1.0) * z / plus
            a_nu = 0.5 * log_term - 0.5 * (nu + 1.0) * square / (nu * plus)
            c_nu = -0.5 * special.digamma((nu + 1.0) / 2) + 0.5 * special.digamma(nu / 2) + 0.5 / nu
            gradient = np.column_stack([-a_z / sigma, 1.0 - z * a_z, nu * (c_nu + a_nu)])
            if order == 1:
                return value, gradient, None
            a_zz = (nu + 1.0) * (nu - square) / plus**2
            a_z_nu = z * (square - 1.0) / plus**2
            a_nu_nu = (0.5 / plus - 0.5 / nu + square * (nu * nu + 2.0 * nu + square) / (2.0 * nu * nu * plus**2))
            c_nu_nu = (-0.25 * special.polygamma(1, (nu + 1.0) / 2) + 0.25 * special.polygamma(1, nu / 2)
                       - 0.5 / nu**2)
            hessian = np.empty((len(y), 3, 3))
            hessian[:, 0, 0] = a_zz / sigma**2
            hessian[:, 0, 1] = hessian[:, 1, 0] = (a_zz * z + a_z) / sigma
            hessian[:, 1, 1] = z * a_z + square * a_zz
            hessian[:, 0, 2] = hessian[:, 2, 0] = -nu * a_z_nu / sigma
            hessian[:, 1, 2] = hessian[:, 2, 1] = -nu * a_z_nu * z
            hessian[:, 2, 2] = nu * (c_nu + a_nu) + nu * nu * (c_nu_nu + a_nu_nu)
        return value, gradient, hessian

    def conditional_params(self, etas):
        return {"mu": etas[:, 0], "sigma": np.exp(etas[:, 1]), "nu": np.exp(etas[:, 2])}

    def no_maximum(self, y, etas, w):
        # nu -> infinity, the normal model the limit: the score of 1/nu there is sum(z^4 - 2 z^2 - 1)/4
        if np.all(etas[:, 2] < np.log(NU_LIMIT)):
            return None
        z = (y - etas[:, 0]) * np.exp(-etas[:, 1])
        score = float(w @ (z**4 - 2 * z**2 - 1)) / 4
        return ("log_nu: Intercept", "+inf",
                f"the residuals' tails are no heavier than the normal's (the score of 1/nu at the normal model is "
                f"{score:.4g}), so nu runs to infinity and the likelihood rises to the normal model's, its limit: "
                "fit --dist normal")

    def row_mean(self, fitted):
        return fitted["mu"]

    def conditional_start(self, y, w):
        centre = float(np.median(y))
        spread = float(np.median(np.abs(y - centre))) * 1.4826 or 1.0
        return [centre, float(np.log(spread)), float(np.log(NU_START))]


def _log_constant_rows(nu):
    """_log_constant for an array of nu (the same switch to the asymptotic series)."""
    x = np.asarray(nu, dtype=float) / 2
    with np.errstate(over="ignore", invalid="ignore"):
        series = 0.5 * np.log(x) - 1 / (8 * x) + 1 / (192 * x**3)
        ratio = np.where(x > 1e4, series, special.gammaln(x + 0.5) - special.gammaln(x))
    return 0.5 * np.log(2 * x * np.pi) - ratio
