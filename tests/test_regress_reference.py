"""mlfit regress against certified values (NIST StRD) and against R's own fits of R's data sets
(lm, glm, nnet::multinom, quantreg::rq; numbers in tests/data/regress/regress_reference.json,
made by the R script beside them). R is never needed to run these."""

import json
from pathlib import Path

import numpy as np
import pytest

from mlfit.regression import regress_file

NIST = Path(__file__).parent / "data" / "nist"
REGRESS = Path(__file__).parent / "data" / "regress"
CERTIFIED = json.loads((NIST / "certified.json").read_text())
R = json.loads((REGRESS / "regress_reference.json").read_text())


def digits(computed, certified) -> float:
    """NIST's log relative error (absolute where the certified value is 0), capped at 15."""
    computed, certified = np.asarray(computed, float), np.asarray(certified, float)
    error = np.where(certified != 0, np.abs(computed - certified) / np.abs(np.where(certified != 0, certified, 1)),
                     np.abs(computed - certified))
    return float(np.min(np.minimum(15.0, -np.log10(np.maximum(error, 1e-300)))))


# Digits each problem reaches (measured; see benchmarks/RESULTS.md): the issue asks 12 everywhere
# and 7 for Filip, which R's lm refuses as singular.
REQUIRED = {"Longley": 12, "Norris": 12, "Pontius": 12, "Wampler1": 12, "Wampler2": 12, "Wampler3": 12,
            "Wampler4": 12, "Filip": 7}


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_least_squares_reaches_the_certified_digits_of_every_nist_problem(name):
    certified = CERTIFIED[name]
    fitted = regress_file(str(NIST / f"{name}.csv"), certified["formula"], "normal")
    if not fitted.exact_fit:  # the optimiser from a neutral start agrees, and nothing is flagged
        assert fitted.warnings() == [] and fitted.agreement.agrees
    result = fitted.to_dict()
    assert digits(list(result["coef"].values()), certified["coef"]) >= REQUIRED[name]
    assert digits(list(result["se_ols"].values()), certified["se"]) >= REQUIRED[name]
    assert digits(result["sigma"]["ols"], certified["residual_sd"]) >= REQUIRED[name]


@pytest.mark.parametrize("name", ["Wampler1", "Wampler2"])
def test_an_exact_polynomial_is_an_exact_fit_with_no_likelihood_maximum(name):
    result = regress_file(str(NIST / f"{name}.csv"), CERTIFIED[name]["formula"], "normal")
    assert result.exact_fit
    assert any("every residual is 0" in w for w in result.warnings())
    assert result.numerical is None  # nothing for an optimiser to find: sigma -> 0


def _vector(values):
    """A JSON coefficient block as one vector, class by class for a categorical model."""
    if all(isinstance(v, dict) for v in values.values()):
        return np.array([x for block in values.values() for x in block.values()], dtype=float)
    return np.array(list(values.values()), dtype=float)


FILES = {"mtcars_lm": "mtcars", "mtcars_logit": "mtcars", "warpbreaks_poisson": "warpbreaks",
         "insurance_offset": "insurance", "ucb_weighted_logit": "ucb_admissions", "housing_multinom": "housing",
         "stackloss_lad": "stackloss", "iris_separated": "iris"}


def fit_r_case(key):
    entry = R[key]
    return regress_file(str(REGRESS / f"{FILES[key]}.csv"), entry["formula"], entry["dist"],
                        weights=entry.get("weights"))


@pytest.mark.parametrize("key", ["mtcars_lm", "mtcars_logit", "warpbreaks_poisson", "insurance_offset",
                                 "ucb_weighted_logit", "housing_multinom"])
def test_coefficients_and_log_likelihood_equal_r(key):
    entry = R[key]
    result = fit_r_case(key)
    data = result.to_dict()
    np.testing.assert_allclose(_vector(data["coef"]), _vector(entry["coef"]), rtol=1e-6)
    assert abs(data["log_likelihood"] - entry["loglik"]) <= 1e-9 * abs(entry["loglik"])
    assert result.warnings() == []
    if "deviance" in entry:
        assert data["deviance"] == pytest.approx(entry["deviance"], rel=1e-9)
    if "aic" in entry:
        assert data["aic"] == pytest.approx(entry["aic"], rel=1e-9)
    if "bic" in entry:
        assert data["bic"] == pytest.approx(entry["bic"], rel=1e-9)


@pytest.mark.parametrize("key", ["mtcars_logit", "warpbreaks_poisson", "insurance_offset", "ucb_weighted_logit",
                                 "housing_multinom"])
def test_standard_errors_and_p_values_equal_r_within_its_own_convergence(key):
    # R stops IRLS at a relative deviance change of 1e-8 and takes the standard errors from the
    # last working weights: they are good to about 1e-6, which is as close as the two can agree.
    entry = R[key]
    data = fit_r_case(key).to_dict()
    np.testing.assert_allclose(_vector(data["se"]), _vector(entry["se"]), rtol=5e-6)
    if "p_value" in entry:
        np.testing.assert_allclose(_vector(data["p_value"]), _vector(entry["p_value"]), rtol=1e-4)


def test_ols_standard_errors_and_residual_standard_error_equal_lm():
    entry = R["mtcars_lm"]
    data = fit_r_case("mtcars_lm").to_dict()
    np.testing.assert_allclose(_vector(data["se_ols"]), _vector(entry["se_ols"]), rtol=1e-12)
    assert data["sigma"]["ols"] == pytest.approx(entry["sigma_ols"], rel=1e-12)


def test_null_deviance_equals_glm():
    for key in ("mtcars_logit", "warpbreaks_poisson", "insurance_offset"):
        entry = R[key]
        result = fit_r_case(key)
        null_deviance = result.deviance + 2.0 * (result.null_nll - result.nll)
        assert null_deviance == pytest.approx(entry["null_deviance"], rel=1e-9)


def test_least_absolute_deviations_vertex_equals_quantreg():
    entry = R["stackloss_lad"]
    result = fit_r_case("stackloss_lad")
    data = result.to_dict()
    np.testing.assert_allclose(_vector(data["coef"]), _vector(entry["coef"]), rtol=1e-9)
    assert data["deviance"] == pytest.approx(entry["sum_abs_residuals"], rel=1e-12)
    assert data["b"]["value"] == pytest.approx(entry["sum_abs_residuals"] / 21, rel=1e-12)
    assert data["agreement"]["agrees"]


def test_where_multinom_prints_large_numbers_mlfit_finds_the_separation():
    entry = R["iris_separated"]
    assert max(abs(v) for block in entry["coef"].values() for v in block.values()) > 50  # R's "answer"
    result = fit_r_case("iris_separated")
    assert result.divergence is not None and "separation" in result.divergence.kind
    assert all(v is None for block in result.to_dict()["coef"].values() for v in block.values())
    assert result.warnings()
