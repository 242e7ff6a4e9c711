"""mlfit against R's fitdistrplus on its own data sets (numbers stored in tests/data by the R script
beside them): a log-likelihood at least as high wherever fitdistrplus converges, parameters on the
exact solution of the score equations (which fitdistrplus' optimiser stops short of), and a fit
where fitdistrplus fails."""

import json
from pathlib import Path

import numpy as np
import pytest

import mlfit
from mlfit.ranking import compare_file

from conftest import numerical_hessian

DATA = Path(__file__).parent / "data"
REFERENCE = json.loads((DATA / "fitdistrplus_reference.json").read_text())
COLUMNS = {"groundbeef": "serving", "toxocara": "number", "rivers": "miles", "proportions": "share"}
# R's distribution names and parameter names, as mlfit's
FAMILIES = {"norm": "normal", "lnorm": "lognormal", "gamma": "gamma", "weibull": "weibull", "exp": "exponential",
            "logis": "logistic", "cauchy": "cauchy", "unif": "uniform", "pois": "poisson", "nbinom": "negbinomial",
            "geom": "geometric", "beta": "beta"}
PARAMETERS = {"mean": "mu", "sd": "sigma", "meanlog": "mu", "sdlog": "sigma", "location": "mu", "min": "low",
              "max": "high", "lambda": "lam", "prob": "p", "shape1": "alpha", "shape2": "beta"}
SCALES = {"logis": {"scale": "s"}, "cauchy": {"scale": "gamma"}}


def fitted(dataset, dist):
    return mlfit.fit_file(str(DATA / f"{dataset}.csv"), FAMILIES[dist], COLUMNS[dataset])


def ours(dist, name):
    return SCALES.get(dist, {}).get(name) or PARAMETERS.get(name, name)


CONVERGED = [key for key, value in REFERENCE.items() if "error" not in value]


@pytest.mark.parametrize("key", CONVERGED)
def test_the_log_likelihood_is_at_least_fitdistrplus(key):
    dataset, dist = key.split(":")
    theirs = REFERENCE[key]
    result = fitted(dataset, dist)
    assert result.warnings() == []
    assert result.log_likelihood >= theirs["loglik"] - 1e-9 * abs(theirs["loglik"])
    if result.comparison is not None:  # the optimum is the reference solution, to 1e-8
        assert result.comparison.largest < 1e-8, result.comparison
    for name, value in theirs["estimate"].items():  # R stops early, but not far off
        assert result.estimate[ours(dist, name)] == pytest.approx(value, rel=2e-3), name
    assert result.aic == pytest.approx(theirs["aic"], rel=1e-6)
    if dist == "unif":  # not a regular model: neither gives standard errors that mean anything
        return
    # Ours come from the analytic observed information, and match a numerical Hessian; R's from
    # optim's finite differences, close except where the parameters' scales differ widely.
    covariance = np.linalg.inv(numerical_hessian(result.family, result.stats, result.estimate))
    for i, p in enumerate(result.family.parameters):
        assert result.inference.stderr[p.name] == pytest.approx(np.sqrt(covariance[i, i]), rel=1e-3)
    for name, value in theirs["sd"].items():
        off = abs(result.inference.stderr[ours(dist, name)] / value - 1)
        assert off > 0.1 if key in R_STANDARD_ERRORS_OFF else off < 0.02, (name, off)


# The gamma on rivers has a rate of 0.004 and a shape of 2.6: R's standard errors are 14% (shape:
# 0.249 against the exact information's 0.289) and 19% (rate) off.
R_STANDARD_ERRORS_OFF = {"rivers:gamma"}


def test_gamma_on_groundbeef_is_on_the_root_of_the_score_equation_where_r_stops_short():
    result = fitted("groundbeef", "gamma")
    shape = result.reference_params["shape"]
    x = np.loadtxt(DATA / "groundbeef.csv", skiprows=1)
    from scipy import special

    assert np.log(shape) - special.digamma(shape) == pytest.approx(np.log(x.mean()) - np.log(x).mean(), rel=1e-13)
    assert result.estimate["shape"] == pytest.approx(shape, rel=1e-9)
    assert abs(REFERENCE["groundbeef:gamma"]["estimate"]["shape"] - shape) > 1e-5  # fitdistrplus' optimiser stopped


def test_the_exponential_fits_the_rivers_where_fitdistrplus_fails():
    assert "failed" in REFERENCE["rivers:exp"]["error"]
    result = fitted("rivers", "exp")
    x = np.loadtxt(DATA / "rivers.csv", skiprows=1)
    assert result.estimate["rate"] == pytest.approx(1 / x.mean(), rel=1e-12)
    assert result.warnings() == []


def test_compare_ranks_gamma_weibull_lognormal_on_groundbeef():
    ranking = compare_file(str(DATA / "groundbeef.csv"), "serving")
    order = [c.distribution for c in ranking.ranked]
    positive = [name for name in order if name in ("gamma", "weibull", "lognormal")]
    assert positive == ["gamma", "weibull", "lognormal"]
    assert order[0] == "gamma"


def test_negbinomial_beats_poisson_on_overdispersed_counts():
    ranking = compare_file(str(DATA / "toxocara.csv"), "number")
    aic = {c.distribution: c.result.aic for c in ranking.ranked}
    assert aic["negbinomial"] < aic["poisson"] - 100
    # the best family with a shape for counts (categorical, 20 labels for 53 rows, memorises them)
    assert min((a, name) for name, a in aic.items() if name != "categorical")[1] == "negbinomial"
