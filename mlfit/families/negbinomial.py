"""Negative binomial family (size r, mean mu): the poisson with a gamma-distributed rate, for counts
more spread out than a poisson's. Its NLL is the poisson NLL's over-dispersed cousin,
-sum[lgamma(x+r) - lgamma(r) - lgamma(x+1) + r*log(r/(r+mu)) + x*log(mu/(r+mu))].
The MLE of mu is the mean; that of r is the root of one score equation, which has none when the
variance is at most the mean: then the best fit is the poisson limit r = inf, reported as such."""

from __future__ import annotations

import numpy as np
from scipy import special

from .base import NaturalFamily, NonNegative, Parameter, PositiveOrInfinite, Predictor, root_in_log, xlogy
from .conditional import Conditional
from .likelihood_loss import LikelihoodLoss
from .distribution import NonNegativeIntegers
from .statistics import Tally


STIRLING_FROM = 1e3  # sizes from which lgamma(x + r) - lgamma(r) is taken from Stirling's series


def log_rising(x, r):
    """lgamma(x + r) - lgamma(r), also for sizes near the poisson limit (r = 1e20), where the
    difference of two lgammas keeps no digits: there from Stirling's series, arranged so that
    nothing large cancels."""
    x = np.asarray(x, dtype=float)
    if r < STIRLING_FROM:
        return special.gammaln(x + r) - special.gammaln(r)
    r = np.float64(r)
    z = r + x
    with np.errstate(over="ignore"):  # r^3 past 1e308: its reciprocal is 0, as the term's size says
        return (r - 0.5) * np.log1p(x / r) + x * np.log(z) - x - x / (12.0 * r * z) + (1 / r**3 - 1 / z**3) / 360.0


def log_rising_over_factorial(x, r):
    """lgamma(x + r) - lgamma(r) - lgamma(x + 1), the count term of each row's log-probability. For
    counts far above the size (x = 1e20, r = 3) the two lgammas of x agree in every digit float64
    keeps, so there lgamma(x + r) - lgamma(x + 1) comes from its asymptotic series in 1/x:
    (r - 1) log x + r(r - 1)/(2x) - (r^3 - 1.5 r^2 + 0.5 r)/(6x^2), whose next term, about
    r^4/(12 x^3), is below 1e-13 from the threshold on."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        out = np.asarray(log_rising(x, r) - special.gammaln(x + 1), dtype=float)
        far = x > ASYMPTOTIC_FROM * np.power(max(1.0, float(r)), 4 / 3)  # (inf for r = 1e300: never)
        if np.any(far):
            xf = x[far] if out.ndim else x
            series = ((r - 1) * np.log(xf) + r * (r - 1) / (2 * xf) - (r**3 - 1.5 * r**2 + 0.5 * r) / (6 * xf**2)
                      - special.gammaln(r))
            if out.ndim:
                out = out.copy()
                out[far] = series
            else:
                out = np.asarray(series)
    return out


ASYMPTOTIC_FROM = 1e4


def log_mean_share(x, r, mu):
    """x log(mu / (r + mu)) written as -x log1p(r / mu): for counts of 1e20 the two logarithms of
    the direct form differ in their 17th digit, times x."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(x) == 0, 0.0, -np.asarray(x, dtype=float) * np.log1p(r / mu)) if mu > 0 else \
            np.where(np.asarray(x) == 0, 0.0, -np.inf)


class Negbinomial(LikelihoodLoss, Conditional, NaturalFamily):
    name = "negbinomial"
    parameters = (Parameter("size", PositiveOrInfinite()), Parameter("mu", NonNegative()))
    support = NonNegativeIntegers()
    loss = "negative binomial (over-dispersed Poisson) NLL"
    reference_method = "root of the score equation"
    example = {"size": 2.5, "mu": 4.0}

    def summarize(self, values, weights=None):
        return Tally.of(values, weights)

    def _size_score(self, stats, size, mu) -> float:
        """d(log-likelihood)/d(size) at mu = the mean, per row."""
        used = stats.counts > 0
        shares = stats.counts[used] / stats.n
        digammas = shares @ special.digamma(stats.values[used] + size) - special.digamma(size)
        return float(digammas + np.log(size / (size + mu)))

    def reference(self, stats):
        mu = stats.mean
        if not stats.variance > mu or mu == 0:
            return {"size": np.inf, "mu": mu}  # no finite maximum: the poisson limit
        # With the variance above the mean the size's score is positive for small sizes and
        # negative for large ones, tending to 0 from below: one sign change.
        return {"size": root_in_log(lambda t: self._size_score(stats, np.exp(t), mu), falling=True), "mu": mu}

    def reference_given(self, stats, fixed):
        if set(fixed) == {"size"}:  # mu's MLE is the mean whatever the size
            return {"size": fixed["size"], "mu": stats.mean}
        return super().reference_given(stats, fixed)

    def start(self, stats):
        return {"size": 1.0, "mu": max(stats.mean, 1.0) / 2}

    def derivatives(self, stats, params, order=2):
        r, mu, n = params["size"], params["mu"], stats.n
        total = n * stats.mean
        used = stats.counts > 0
        x, w = stats.values[used], stats.counts[used]
        if np.isinf(r):  # the poisson limit
            value = n * mu - xlogy(total, mu) + w @ special.gammaln(x + 1)
            return float(value), np.array([0.0, n - total / mu]), np.array([[0.0, 0.0], [0.0, total / mu**2]])
        log_ratio = -np.log1p(mu / r)  # log(r / (r + mu)), which r / (r + mu) would round near the limit
        value = -(w @ log_rising_over_factorial(x, r) + n * r * log_ratio + log_mean_share(total, r, mu))
        # Each written so that nothing large cancels (counts of 1e20, sizes near 1): with m the
        # mean, n - (n r + total)/(r + mu) is n (mu - m)/(r + mu), and so on.
        m = stats.mean
        d_r = -(w @ special.digamma(x + r) - n * special.digamma(r) + n * log_ratio + n * (mu - m) / (r + mu))
        d_mu = n * r * (mu - m) / (mu * (r + mu))
        d_r_r = -(w @ special.polygamma(1, x + r) - n * special.polygamma(1, r) + n * mu / (r * (r + mu))
                  - n * (mu - m) / (r + mu) ** 2)
        d_r_mu = n * (mu - m) / (r + mu) ** 2
        d_mu_mu = n * r * (m * r + mu * (2 * m - mu)) / (mu * mu * (r + mu) ** 2)
        return float(value), np.array([d_r, d_mu]), np.array([[d_r_r, d_r_mu], [d_r_mu, d_mu_mu]])

    def standard_errors(self, stats, params, fixed=()):
        if np.isinf(params["size"]):  # the poisson limit: size has no curvature there
            return {"size": float("nan"), **super().standard_errors(stats, params, (*fixed, "size"))}
        return super().standard_errors(stats, params, fixed)

    def log_prob(self, encoded, params):
        r, mu = params["size"], params["mu"]
        if np.isinf(r):
            return xlogy(encoded, mu) - mu - special.gammaln(encoded + 1)
        return log_rising_over_factorial(encoded, r) - r * np.log1p(mu / r) + log_mean_share(encoded, r, mu)

    def survival(self, top, params):
        """P(X > top)."""
        r, mu = params["size"], params["mu"]
        if np.isinf(r):
            return special.pdtrc(top, mu)
        return special.betainc(top + 1.0, r, mu / (r + mu))

    def sample(self, rng, params, size):
        r, mu = params["size"], params["mu"]
        if np.isinf(r):
            return rng.poisson(mu, size).astype(float)
        return rng.negative_binomial(r, r / (r + mu), size).astype(float)

    def frequency_table(self, values, stats, params):
        return stats.frequency_table(lambda k: self.log_prob(k, params), lambda top: self.survival(top, params))

    def loss_report(self, stats, params):
        nll = self.nll(stats, params)
        return {"name": self.loss, "mean_nll": nll / stats.n,
                "identity": "NLL = n*mean(NB NLL); as size -> inf it becomes the Poisson NLL",
                "nll_from_loss": stats.n * (nll / stats.n)}

    def as_scipy(self, params):
        from scipy import stats

        r, mu = params["size"], params["mu"]
        if np.ndim(r) == 0 and np.isinf(r):
            return stats.poisson(mu)
        return stats.nbinom(r, r / (r + mu))

    # The conditional model: log of the mean linear in columns and the size r constant (or log-linear with
    # --sigma), estimated: MASS::glm.nb's coefficients and theta.
    separation = "zero counts"
    outcome = "count"

    def predictors(self, classes=None):
        return [Predictor("log_mu", "log", "mean"), Predictor("log_size", "log", "scale")]

    def conditional_nll(self, y, etas, order=0):
        return counts_given_mean(y, etas[:, 0], etas[:, 1], order)

    deviance_definition = "2 * sum(y log(y/mu) - (y + size) log((y + size)/(mu + size))) (R's glm.nb)"

    def conditional_deviance(self, y, etas, w, nll):
        return count_deviance(y, np.exp(etas[:, 0]), np.exp(etas[:, 1]), w)

    solver = "profiled scoring"

    def mean_information(self, y, etas):
        r, mu = np.exp(etas[:, 1]), np.exp(etas[:, 0])
        return r * mu / (r + mu)

    def conditional_params(self, etas):
        return {"size": np.exp(etas[:, 1]), "mu": np.exp(etas[:, 0])}

    def no_maximum(self, y, etas, w):
        # The score of 1/size at 0 (the poisson limit) is sum((y - mu)^2 - y) / 2: where it is not
        # positive, the likelihood rises all the way to the poisson model's
        mu = np.exp(etas[:, 0])
        excess = float(w @ ((y - mu) ** 2 - y))
        if excess > 0 and np.all(np.isfinite(etas[:, 1])) and np.exp(etas[:, 1]).min() < 1e8 * max(mu.max(), 1.0):
            return None
        return ("log_size: Intercept", "+inf",
                f"the counts are not over-dispersed about their fitted means (sum of (y - mu)^2 - y is {excess:.4g}), "
                "so the size runs to infinity and the likelihood rises to the poisson model's, its limit: fit "
                "--dist poisson")

    def row_mean(self, fitted):
        return fitted["mu"]

    def conditional_start(self, y, w):
        mean = float(w @ y / w.sum())
        variance = float(w @ (y - mean) ** 2 / w.sum())
        excess = variance - mean
        return [float(np.log(mean)) if mean > 0 else 0.0,
                float(np.log(mean * mean / excess)) if excess > 0 and mean > 0 else float(np.log(100.0 * max(mean, 1)))]


def counts_given_mean(y, eta, log_size, order):
    """Each row's negative binomial NLL with mean exp(eta) and size exp(log_size) (a log_size of
    None: a size of 1, the geometric), and its derivatives in (eta, log size). Written so that
    nothing large cancels near the poisson limit: the derivative in eta is r (mu - y) / (r + mu)."""
    fixed = log_size is None
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        r = np.ones_like(eta) if fixed else np.exp(log_size)
        mu = np.exp(eta)
        log_share = -np.log1p(mu / r)  # log(r / (r + mu))
        log_rising = special.gammaln(y + r) - special.gammaln(r) - special.gammaln(y + 1)  # (r row by row)
        value = -(log_rising + r * log_share + np.where(y == 0, 0.0, y * (eta - np.log(r + mu))))
        if order == 0:
            return value, None, None
        total = r + mu
        d_eta = r * (mu - y) / total
        columns = [d_eta]
        if not fixed:
            d_r = -(special.digamma(y + r) - special.digamma(r) + log_share + (mu - y) / total)  # d/dr
            columns.append(r * d_r)
        gradient = np.column_stack(columns)
        if order == 1:
            return value, gradient, None
        m = gradient.shape[1]
        hessian = np.empty((len(y), m, m))
        hessian[:, 0, 0] = r * mu * (r + y) / total**2
        if not fixed:
            hessian[:, 0, 1] = hessian[:, 1, 0] = r * mu * (mu - y) / total**2
            d_r_r = -(special.polygamma(1, y + r) - special.polygamma(1, r) + mu / (r * total) - (mu - y) / total**2)
            hessian[:, 1, 1] = r * r * d_r_r + r * d_r
    return value, gradient, hessian


def count_deviance(y, mu, size, w) -> float:
    """The negative binomial deviance at a size (R's negative.binomial(theta) family)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        unit = special.xlogy(y, y / mu) - (y + size) * np.log((y + size) / (mu + size))
    return float(2.0 * (w @ unit))
