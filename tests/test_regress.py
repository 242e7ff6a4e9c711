"""mlfit regress: each family's conditional NLL against scipy.stats, its derivatives against finite
differences, the fit against independent computations, the loss identities, what happens when
the MLE does not exist, and the command line."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special, stats

from conftest import run as run_cli
from mlfit.families import get_family
from mlfit.regression import regress, regress_file

def run(args):
    return run_cli(*args)


REGRESSED = ["normal", "laplace", "bernoulli", "categorical", "poisson"]


def _random_case(name, rng, n=7):
    family = get_family(name)
    classes = ["a", "b", "c"] if name == "categorical" else None
    m = len(family.predictors(classes))
    etas = rng.normal(size=(n, m))
    y = {"normal": rng.normal(size=n) * 2, "laplace": rng.normal(size=n) * 2,
         "bernoulli": rng.integers(0, 2, n).astype(float), "poisson": rng.poisson(3.0, n).astype(float),
         "categorical": rng.integers(0, 3, n)}[name]
    return family, y, etas


def _scipy_log_density(name, y, params):
    if name == "normal":
        return stats.norm.logpdf(y, params["mu"], params["sigma"])
    if name == "laplace":
        return stats.laplace.logpdf(y, params["mu"], params["b"])
    if name == "bernoulli":
        return stats.bernoulli.logpmf(y, params["p"])
    if name == "poisson":
        return stats.poisson.logpmf(y, params["lam"])
    return np.log(params["p"][np.arange(len(y)), y])


@pytest.mark.parametrize("name", REGRESSED)
def test_conditional_nll_is_scipys_log_density_at_the_linked_parameters(name):
    family, y, etas = _random_case(name, np.random.default_rng(1))
    params = family.conditional_params(etas)
    value = family.conditional_nll(y, etas)[0]
    np.testing.assert_allclose(-value, _scipy_log_density(name, y, params), rtol=1e-12, atol=1e-12)
    # and the family's own log_prob takes parameters that vary by row
    np.testing.assert_allclose(-value, family.log_prob(y, params), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["normal", "bernoulli", "categorical", "poisson"])
def test_conditional_gradient_and_hessian_match_finite_differences(name):
    family, y, etas = _random_case(name, np.random.default_rng(2))
    _, gradient, hessian = family.conditional_nll(y, etas, order=2)
    step = 1e-6
    for j in range(etas.shape[1]):
        up, down = etas.copy(), etas.copy()
        up[:, j] += step
        down[:, j] -= step
        np.testing.assert_allclose(gradient[:, j], (family.conditional_nll(y, up)[0] - family.conditional_nll(y, down)[0])
                                   / (2 * step), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(hessian[:, :, j], (family.conditional_nll(y, up, 1)[1]
                                                      - family.conditional_nll(y, down, 1)[1]) / (2 * step),
                                   rtol=1e-5, atol=1e-7)


def test_laplace_smoothed_nll_derivatives_match_finite_differences_and_it_tends_to_the_nll():
    family, y, etas = _random_case("laplace", np.random.default_rng(3))
    width = 0.3
    _, gradient, hessian = family.smoothed_conditional_nll(y, etas, width, order=2)
    step = 1e-6
    for j in range(2):
        up, down = etas.copy(), etas.copy()
        up[:, j] += step
        down[:, j] -= step
        values = [family.smoothed_conditional_nll(y, e, width)[0] for e in (up, down)]
        np.testing.assert_allclose(gradient[:, j], (values[0] - values[1]) / (2 * step), rtol=1e-6, atol=1e-8)
        slopes = [family.smoothed_conditional_nll(y, e, width, 1)[1] for e in (up, down)]
        np.testing.assert_allclose(hessian[:, :, j], (slopes[0] - slopes[1]) / (2 * step), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(family.smoothed_conditional_nll(y, etas, 1e-12)[0], family.conditional_nll(y, etas)[0],
                               rtol=1e-10)


def test_bce_with_logits_stays_finite_where_the_naive_log_of_sigmoid_does_not():
    family = get_family("bernoulli")
    etas = np.array([[800.0], [-800.0]])
    value = family.conditional_nll(np.array([0.0, 1.0]), etas)[0]
    np.testing.assert_allclose(value, [800.0, 800.0])


# --- fits against independent computations ------------------------------------------------
def _frame(rng, n=60):
    x1, x2 = rng.normal(size=n), rng.uniform(-1, 1, n)
    group = rng.choice(["u", "v", "w"], n)
    return {"x1": x1, "x2": x2, "g": group}


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.integers(0, 10_000))
def test_ols_equals_numpys_least_squares_and_the_numerical_optimum_agrees(seed):
    rng = np.random.default_rng(seed)
    data = _frame(rng)
    data["y"] = 1.5 + 2.0 * data["x1"] - data["x2"] + rng.normal(size=60) * rng.uniform(0.1, 10)
    result = regress(data, "y ~ x1 + x2 + C(g)", "normal")
    X = np.column_stack([np.ones(60), data["x1"], data["x2"], data["g"] == "v", data["g"] == "w"]).astype(float)
    expected, *_ = np.linalg.lstsq(X, data["y"], rcond=None)
    np.testing.assert_allclose(result.coef[:-1], expected, rtol=1e-9, atol=1e-12)
    assert result.agreement.agrees
    residual = data["y"] - X @ expected
    assert result.nll == pytest.approx(-stats.norm.logpdf(residual, 0, np.sqrt(np.mean(residual ** 2))).sum(),
                                       rel=1e-12)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(st.integers(0, 10_000), st.sampled_from(["bernoulli", "poisson"]))
def test_glm_reference_and_numerical_optimum_minimise_scipys_nll(seed, name):
    rng = np.random.default_rng(seed)
    data = _frame(rng, 200)
    eta = 0.3 + 0.8 * data["x1"] - 0.5 * data["x2"]
    data["y"] = rng.binomial(1, special.expit(eta)) if name == "bernoulli" else rng.poisson(np.exp(eta))
    result = regress(data, "y ~ x1 + x2", name)
    if result.divergence is not None:
        return
    X = np.column_stack([np.ones(200), data["x1"], data["x2"]])

    def nll(beta):
        if name == "bernoulli":
            return -stats.bernoulli.logpmf(data["y"], special.expit(X @ beta)).sum()
        return -stats.poisson.logpmf(data["y"], np.exp(X @ beta)).sum()

    found = optimize.minimize(nll, np.zeros(3), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(result.coef, found.x, rtol=1e-5, atol=1e-6)
    assert result.nll == pytest.approx(nll(result.coef), rel=1e-12)
    assert result.nll <= found.fun + 1e-9
    assert result.agreement.agrees


def test_heteroscedastic_normal_equals_a_direct_minimisation_of_scipys_nll():
    rng = np.random.default_rng(5)
    n = 300
    x = rng.uniform(0, 2, n)
    y = 1.0 + 2.0 * x + np.exp(-1.0 + 0.8 * x) * rng.normal(size=n)
    result = regress({"x": x, "y": y}, "y ~ x", "normal", sigma="~ x")

    def nll(theta):
        return -stats.norm.logpdf(y, theta[0] + theta[1] * x, np.exp(theta[2] + theta[3] * x)).sum()

    found = optimize.minimize(nll, [0, 0, 0, 0], method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(result.coef, found.x, rtol=1e-5, atol=1e-6)
    assert result.nll == pytest.approx(found.fun, rel=1e-10)
    data = result.to_dict()
    assert set(data["sigma_coef"]["log_sigma"]) == {"Intercept", "x"}
    assert data["loss"]["nll_from_loss"] == pytest.approx(result.nll, rel=1e-12)
    # standard errors: the inverse of scipy-free finite differences of the NLL's gradient
    grad = optimize.approx_fprime
    hessian = np.array([grad(result.coef, lambda t: optimize.approx_fprime(t, nll, 1e-6)[i], 1e-5) for i in range(4)])
    np.testing.assert_allclose(result.se, np.sqrt(np.diag(np.linalg.inv((hessian + hessian.T) / 2))), rtol=1e-3)


def test_softmax_coefficients_minimise_the_cross_entropy():
    rng = np.random.default_rng(6)
    n = 300
    x = rng.normal(size=n)
    logits = np.column_stack([np.zeros(n), 0.5 + x, -0.5 - x])
    y = np.array([rng.choice(3, p=p) for p in special.softmax(logits, axis=1)])
    labels = np.array(["red", "green", "blue"])[y]
    result = regress({"colour": labels, "x": x}, "colour ~ x", "categorical")
    assert result.classes == ["blue", "green", "red"]  # sorted; the first is the reference
    codes = np.searchsorted(["blue", "green", "red"], labels)

    def nll(theta):
        z = np.column_stack([np.zeros(n), theta[0] + theta[1] * x, theta[2] + theta[3] * x])
        return -(z[np.arange(n), codes] - special.logsumexp(z, axis=1)).sum()

    found = optimize.minimize(nll, np.zeros(4), method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(result.coef, found.x, rtol=1e-5, atol=1e-6)
    assert result.to_dict()["loss"]["nll_from_loss"] == pytest.approx(result.nll, rel=1e-12)


@pytest.mark.parametrize("name", REGRESSED)
def test_the_loss_rebuilds_the_nll_and_is_the_framework_formula(name):
    rng = np.random.default_rng(7)
    n = 80
    x = rng.normal(size=n)
    y = {"normal": 1 + x + rng.normal(size=n), "laplace": 1 + x + rng.laplace(size=n),
         "bernoulli": rng.binomial(1, special.expit(x)), "poisson": rng.poisson(np.exp(0.5 * x)),
         "categorical": rng.choice(["a", "b", "c"], n)}[name]
    result = regress({"x": x, "y": y}, "y ~ x", name)
    loss = result.to_dict()["loss"]
    assert loss["nll_from_loss"] == pytest.approx(result.nll, rel=1e-12)
    fitted = result.fitted
    if name == "normal":
        assert loss["value"] == pytest.approx(np.mean((y - fitted["mu"]) ** 2), rel=1e-12)
    elif name == "laplace":
        assert loss["value"] == pytest.approx(np.mean(np.abs(y - fitted["mu"])), rel=1e-12)
    elif name == "bernoulli":
        p = fitted["p"]
        assert loss["value"] == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)), rel=1e-10)
    elif name == "poisson":
        lam = fitted["lam"]
        assert loss["value"] == pytest.approx(np.mean(lam - y * np.log(lam)), rel=1e-10)
    else:
        codes = np.searchsorted(["a", "b", "c"], y)
        assert loss["value"] == pytest.approx(-np.mean(np.log(fitted["p"][np.arange(n), codes])), rel=1e-10)


def test_weights_give_the_fit_of_the_rows_written_out():
    rng = np.random.default_rng(8)
    x = rng.normal(size=30)
    y = rng.binomial(1, special.expit(x))
    counts = rng.integers(1, 4, 30)
    weighted = regress({"x": x, "y": y, "w": counts}, "y ~ x", "bernoulli", weights="w")
    expanded = regress({"x": np.repeat(x, counts), "y": np.repeat(y, counts)}, "y ~ x", "bernoulli")
    np.testing.assert_allclose(weighted.coef, expanded.coef, rtol=1e-10)
    np.testing.assert_allclose(weighted.se, expanded.se, rtol=1e-8)
    assert weighted.nll == pytest.approx(expanded.nll, rel=1e-12)
    assert weighted.n == expanded.n == counts.sum()


def test_the_underflow_report_follows_the_raw_product_in_file_order():
    rng = np.random.default_rng(9)
    x = rng.normal(size=400)
    y = 3 + x + rng.normal(size=400) * 5
    result = regress({"x": x, "y": y}, "y ~ x", "normal")
    densities = stats.norm.pdf(y, result.fitted["mu"], result.fitted["sigma"])
    product, zero_at = 1.0, None
    for i, d in enumerate(densities, start=1):
        product *= d
        if product == 0.0:
            zero_at = i
            break
    assert result.underflow.precisions["float64"].first_zero_at == zero_at
    assert result.underflow.log10_likelihood == pytest.approx(-result.nll / np.log(10), rel=1e-12)


def test_wald_p_values_and_intervals_follow_from_the_standard_errors():
    rng = np.random.default_rng(10)
    x = rng.normal(size=50)
    data = regress({"x": x, "y": rng.poisson(np.exp(0.2 + 0.3 * x))}, "y ~ x", "poisson", level=0.9).to_dict()
    coef, se = data["coef"]["x"], data["se"]["x"]
    assert data["p_value"]["x"] == pytest.approx(2 * stats.norm.sf(abs(coef / se)), rel=1e-12)
    low, high = data["ci"]["wald"]["x"]
    assert low == pytest.approx(coef - stats.norm.ppf(0.95) * se, rel=1e-12)
    assert high == pytest.approx(coef + stats.norm.ppf(0.95) * se, rel=1e-12)


def test_likelihood_ratio_test_is_against_the_intercept_only_model():
    rng = np.random.default_rng(11)
    x = rng.normal(size=100)
    y = rng.binomial(1, special.expit(0.5 * x))
    result = regress({"x": x, "y": y}, "y ~ x", "bernoulli")
    p = y.mean()
    null_nll = -(y * np.log(p) + (1 - y) * np.log(1 - p)).sum()
    assert result.null_nll == pytest.approx(null_nll, rel=1e-12)
    test = result.likelihood_ratio()
    assert test["df"] == 1
    assert test["p_value"] == pytest.approx(stats.chi2.sf(2 * (null_nll - result.nll), 1), rel=1e-10)


# --- when the maximum-likelihood estimate does not exist ---------------------------------------
def test_complete_separation_is_named_with_its_rows_and_no_coefficient_is_printed():
    x = np.array([-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0, 3.0])
    result = regress({"x": x, "y": (x > 0).astype(float)}, "y ~ x", "bernoulli")
    assert result.divergence.kind == "complete separation"
    assert result.divergence.terms["x"] == "+inf"
    assert len(result.divergence.rows) == 8
    assert all(v is None for v in result.to_dict()["coef"].values())
    assert result.to_dict()["reference"]["coef"] is None


def test_quasi_complete_separation_names_only_the_rows_pushed_to_0_or_1():
    x = np.array([-3.0, -2.0, -1.0, 0.0, 0.0, 1.0, 2.0, 3.0])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1.0])
    result = regress({"x": x, "y": y}, "y ~ x", "bernoulli")
    assert result.divergence.kind == "quasi-complete separation"
    assert sorted(result.divergence.rows.tolist()) == [1, 2, 3, 6, 7, 8]


def test_a_poisson_group_with_no_events_has_no_finite_rate():
    rng = np.random.default_rng(12)
    group = np.repeat(["a", "b", "c"], 10)
    counts = np.concatenate([rng.poisson(3, 10), rng.poisson(5, 10), np.zeros(10)])
    result = regress({"g": group, "n": counts}, "n ~ g", "poisson")
    assert result.divergence.kind == "zero counts"
    assert result.divergence.terms == {"g[T.c]": "-inf"}
    assert sorted(result.divergence.rows.tolist()) == list(range(21, 31))


def test_collinear_columns_are_named_left_out_and_the_rest_fitted():
    rng = np.random.default_rng(13)
    x = rng.normal(size=40)
    data = {"x": x, "double_x": 2 * x, "y": 1 + x + rng.normal(size=40)}
    result = regress(data, "y ~ x + double_x", "normal")
    assert result.aliased == {"double_x": ["x"]}
    alone = regress(data, "y ~ x", "normal")
    np.testing.assert_allclose(result.coef, alone.coef, rtol=1e-12)
    assert any("collinear" in w for w in result.warnings())


# --- the command line -------------------------------------------------------------------------
def _write(tmp_path, name, rows):
    path = tmp_path / name
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return str(path)


def test_regress_json_has_the_documented_fields(tmp_path):
    result = run(["regress", "sample_data/cars.csv", "mpg ~ wt + hp", "--dist", "normal", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("distribution", "formula", "n", "dropped", "coef", "se", "se_ols", "ci", "nll", "log_likelihood",
                "aic", "bic", "deviance", "null_nll", "lr_test", "reference", "numerical", "loss", "underflow", "sigma"):
        assert key in data, key
    assert set(data["coef"]) == {"Intercept", "wt", "hp"}
    assert data["numerical"]["converged"] and data["agreement"]["agrees"]


def test_rows_with_a_missing_cell_in_a_used_column_are_left_out_and_counted(tmp_path):
    path = _write(tmp_path, "m.csv", [["y", "x", "unused"], [1, 1, ""], [2, "", 5], [3, 2, 1], [5, 3, ""], [6, 4, 1]])
    data = json.loads(run(["regress", path, "y ~ x", "-d", "normal", "-f", "json"]).stdout)
    assert data["n"] == 4 and data["dropped"] == 1


def test_a_bad_cell_is_one_line_naming_file_row_and_value(tmp_path):
    path = _write(tmp_path, "bad.csv", [["y", "x"], [1, 1], [2, "two"], [3, 3], [4, 4]])
    result = run(["regress", path, "y ~ x", "-d", "normal"])
    assert result.exit_code == 1
    assert f"{path}: column 'x', row 2: 'two' is not a number" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_transform_that_leaves_the_reals_names_the_row(tmp_path):
    path = _write(tmp_path, "log.csv", [["y", "x"], [1, 1], [2, 0], [3, 3]])
    result = run(["regress", path, "y ~ np.log(x)", "-d", "normal"])
    assert result.exit_code == 1
    assert "row 2: the formula term 'np.log(x)' is -inf" in result.stderr


def test_formula_mistakes_are_usage_errors(tmp_path):
    for formula, message in [("y ~ x +", "formula"), ("y x", "response ~ terms"), ("mpg ~ nosuch", "'nosuch', which is not a column"),
                             ("~ x", "name the response")]:
        result = run(["regress", "sample_data/cars.csv", formula, "-d", "normal"])
        assert result.exit_code == 2, formula
        assert message in result.stderr
        assert "Traceback" not in result.output


def test_backticks_intercept_removal_interactions_and_offsets(tmp_path):
    path = _write(tmp_path, "t.csv", [["y.val", "x", "g", "e"]] + [[i % 5 + (i % 3), i, "ab"[i % 2], 1 + i % 4]
                                                                   for i in range(1, 30)])
    no_intercept = json.loads(run(["regress", path, "`y.val` ~ x - 1", "-d", "normal", "-f", "json"]).stdout)
    assert set(no_intercept["coef"]) == {"x"}
    interaction = json.loads(run(["regress", path, "`y.val` ~ x * g", "-d", "normal", "-f", "json"]).stdout)
    assert set(interaction["coef"]) == {"Intercept", "x", "g[T.b]", "x:g[T.b]"}
    offset = regress_file(path, "`y.val` ~ x + offset(np.log(e))", "poisson")
    rows = np.arange(1, 30)
    y, e = (rows % 5 + rows % 3).astype(float), 1.0 + rows % 4

    def nll(beta):
        return -stats.poisson.logpmf(y, np.exp(beta[0] + beta[1] * rows + np.log(e))).sum()

    found = optimize.minimize(nll, [0.0, 0.0], method="BFGS", options={"gtol": 1e-10})
    np.testing.assert_allclose(offset.coef, found.x, rtol=1e-5, atol=1e-7)


def test_separation_exits_3_with_the_partial_result(tmp_path):
    path = _write(tmp_path, "sep.csv", [["y", "x"], [0, -2], [0, -1], [1, 1], [1, 2]])
    result = run(["regress", path, "y ~ x", "-d", "bernoulli", "-f", "json"])
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["divergence"]["kind"] == "complete separation"
    assert "does not exist" in result.stderr


def test_predict_writes_each_rows_probabilities_with_its_row_number(tmp_path):
    out = tmp_path / "p.csv"
    result = run(["regress", "sample_data/cars.csv", "gear ~ wt", "-d", "categorical", "--predict", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert list(rows[0]) == ["row", "p[3]", "p[4]", "p[5]"]
    assert [int(r["row"]) for r in rows] == list(range(1, 33))
    totals = [sum(float(r[k]) for k in ("p[3]", "p[4]", "p[5]")) for r in rows]
    np.testing.assert_allclose(totals, 1.0, rtol=1e-12)
    fitted = regress_file("sample_data/cars.csv", "gear ~ wt", "categorical").fitted["p"]
    np.testing.assert_allclose([float(r["p[4]"]) for r in rows], fitted[:, 1], rtol=1e-15)


def test_predict_never_writes_over_the_input(tmp_path):
    path = _write(tmp_path, "in.csv", [["y", "x"], [1, 1], [2, 2], [4, 3]])
    before = Path(path).read_text()
    result = run(["regress", path, "y ~ x", "-d", "normal", "--predict", path])
    assert result.exit_code == 2 and "never writes to its input" in result.stderr
    assert Path(path).read_text() == before


def test_sigma_is_for_the_normal_family_only():
    result = run(["regress", "sample_data/cars.csv", "am ~ wt", "-d", "bernoulli", "--sigma", "~ wt"])
    assert result.exit_code == 2 and "--sigma" in result.stderr


def test_hostile_designs_are_one_line_errors(tmp_path):
    huge = _write(tmp_path, "huge.csv", [["y", "x"], [1, "1e308"], [2, 5], [3, 7]])
    result = run(["regress", huge, "y ~ x", "-d", "normal"])
    assert result.exit_code == 1 and "row 1: the formula term 'x' is 1e+308" in result.stderr
    ids = _write(tmp_path, "ids.csv", [["y", "id"]] + [[i % 7, f"id{i}"] for i in range(1200)])
    result = run(["regress", ids, "y ~ id", "-d", "normal"])
    assert result.exit_code == 2 and "column 'id' has 1,200 distinct values" in result.stderr
    classes = _write(tmp_path, "classes.csv", [["y", "x"]] + [[f"c{i}", i] for i in range(1200)])
    result = run(["regress", classes, "y ~ x", "-d", "categorical"])
    assert result.exit_code == 2 and "1,200 classes" in result.stderr
    one_class = _write(tmp_path, "one.csv", [["y", "x"], ["a", 1], ["a", 2]])
    result = run(["regress", one_class, "y ~ x", "-d", "categorical"])
    assert result.exit_code == 2 and "one class only" in result.stderr
    empty = _write(tmp_path, "empty.csv", [["y", "x"]])
    assert run(["regress", empty, "y ~ x", "-d", "normal"]).exit_code == 1


def test_a_constant_column_is_named_as_such():
    result = regress({"y": [1.0, 2.0, 4.0, 3.0], "x": [1.0, 2.0, 3.0, 5.0], "c": [7.0] * 4}, "y ~ x + c", "normal")
    assert result.aliased == {"c": []}
    assert any("'c' is constant" in w for w in result.warnings())


def test_several_files_are_one_record_each_and_a_failure_does_not_stop_the_rest(tmp_path):
    bad = _write(tmp_path, "bad.csv", [["mpg", "wt"], [1, "x"], [2, 3], [3, 4]])
    result = run(["regress", "sample_data/cars.csv", bad, "sample_data/cars.csv.gz", "mpg ~ wt", "-d", "normal",
                  "-f", "jsonl"])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["file"] for r in records] == ["sample_data/cars.csv", bad, "sample_data/cars.csv.gz"]
    assert records[1]["error"]["kind"] == "value" and records[1]["error"]["row"] == 1
    assert records[0]["coef"] == records[2]["coef"]
    assert "row 1: 'x' is not a number" in result.stderr
    whole = json.loads(run(["regress", "sample_data/cars.csv", "sample_data/cars.csv.gz", "mpg ~ wt", "-d", "normal",
                            "-f", "json"]).stdout)
    assert len(whole["fits"]) == 2


def test_fail_fast_stops_at_the_first_failure(tmp_path):
    bad = _write(tmp_path, "bad.csv", [["mpg", "wt"], [1, "x"], [2, 3], [3, 4], [5, 5]])
    result = run(["regress", bad, "sample_data/cars.csv", "mpg ~ wt", "-d", "normal", "-f", "jsonl", "--fail-fast"])
    assert result.exit_code == 1 and len(result.stdout.splitlines()) == 1


def test_predict_and_plot_take_one_file():
    result = run(["regress", "sample_data/cars.csv", "sample_data/cars.csv.gz", "mpg ~ wt", "-d", "normal",
                  "--predict", "out.csv"])
    assert result.exit_code == 2 and "one file" in result.stderr


def test_the_table_prints_the_json_numbers():
    data = json.loads(run(["regress", "sample_data/cars.csv", "mpg ~ wt + hp", "-d", "normal", "-f", "json"]).stdout)
    table = run(["regress", "sample_data/cars.csv", "mpg ~ wt + hp", "-d", "normal"])
    assert table.exit_code == 0
    text = " ".join(table.stdout.split())
    for term, value in data["coef"].items():
        assert f"{value:.10g}" in text, term
        low, high = data["ci"]["wald"][term]
        assert f"{low:.6g}" in text and f"{high:.6g}" in text
    assert f"{data['nll']:.12g}" in text and "mean squared error in disguise" in text
    assert f"{data['sigma']['value']:.10g}" in text


def test_plot_panels_hold_the_fit():
    from mlfit.regression.plots import calibration_bins, panels

    predicted = np.array([0.05, 0.15, 0.12, 0.95, 0.91])
    observed = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    mean_predicted, frequency, weight = calibration_bins(predicted, observed, np.ones(5))
    np.testing.assert_allclose(mean_predicted, [0.05, 0.135, 0.93])
    np.testing.assert_allclose(frequency, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(weight, [1, 2, 2])
    result = regress_file("sample_data/cars.csv", "mpg ~ wt", "normal")
    data = panels(result)
    label, grid, nll, estimate = data["landscape"]
    assert label == "wt" and estimate == result.coef[1]
    assert nll.min() == pytest.approx(result.nll, rel=1e-12)  # the grid's middle point is the estimate
    residual = data["residuals"][1]
    np.testing.assert_allclose(residual, (result.model.y - result.fitted["mu"]) / result.fitted["sigma"])
    assert data["qq"][2] == "normal"


def test_complete_separation_whose_lp_vertex_lays_the_boundary_through_rows_is_still_complete():
    rng = np.random.default_rng(14)
    x = rng.normal(size=600)
    result = regress({"x": x, "z": rng.normal(size=600), "y": (x > 0.3).astype(float)}, "y ~ x + z", "bernoulli")
    assert result.divergence.kind == "complete separation"
    assert len(result.divergence.rows) == 600
