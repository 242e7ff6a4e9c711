"""Finite mixtures by EM: Old Faithful against mclust (R's numbers and script in
tests/data/mixture/), a poisson mixture against a careful multi-start EM written here, the exact
derivatives and standard errors against numerical ones of scipy.stats' log-densities, and the
command line."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app
from mlfit.families import get_family
from mlfit.mixture import _derivatives, fit_mixture

DATA = Path(__file__).parent / "data" / "mixture"
MCLUST = json.loads((DATA / "mclust_reference.json").read_text())
SKLEARN = json.loads((DATA / "sklearn_reference.json").read_text())
FAITHFUL = pd.read_csv(DATA / "faithful.csv")


def run(args):
    return CliRunner().invoke(app, args)


@pytest.fixture(scope="module")
def faithful_fits():
    normal = get_family("normal")
    return {(column, k): fit_mixture(FAITHFUL[column].to_numpy(), normal, k)
            for column in ("eruptions", "waiting") for k in (1, 2, 3, 4)}


@pytest.mark.parametrize("column", ["eruptions", "waiting"])
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_each_number_of_components_reaches_at_least_mclust_s_and_scikit_learn_s_likelihood(faithful_fits, column, k):
    result = faithful_fits[(column, k)]
    reference = MCLUST[column][str(k)]
    assert result.converged
    assert result.log_likelihood >= reference["tight"]["loglik"] - 1e-9
    assert result.log_likelihood >= reference["default"]["loglik"] - 1e-9
    assert result.log_likelihood >= SKLEARN[column][str(k)]["loglik"] - 1e-9  # its best of 40 starts
    # mclust's BIC is 2 log L - k log n: the same number with the other sign
    assert result.k == reference["tight"]["df"]


def test_two_components_of_the_eruptions_are_mclust_s(faithful_fits):
    result = faithful_fits[("eruptions", 2)]
    tight = MCLUST["eruptions"]["2"]["tight"]
    assert result.log_likelihood == pytest.approx(tight["loglik"], abs=1e-8)
    np.testing.assert_allclose([c.weight for c in result.components], tight["weight"], atol=1e-4)
    np.testing.assert_allclose([c.params["mu"] for c in result.components], tight["mean"], atol=1e-4)
    np.testing.assert_allclose([c.params["sigma"] for c in result.components], tight["sd"], atol=1e-4)
    assert result.bic == pytest.approx(-tight["bic"], rel=1e-9)


def test_with_each_k_at_its_best_bic_prefers_three_components_of_the_eruptions(faithful_fits):
    # mclust's default start stops at -267.98 for three components and so prefers four; at the best fit
    # for each K, BIC prefers three. On waiting, two (as mclust).
    for column, preferred in (("eruptions", 3), ("waiting", 2)):
        bics = {k: faithful_fits[(column, k)].bic for k in (1, 2, 3, 4)}
        assert min(bics, key=bics.get) == preferred
    assert MCLUST["eruptions"]["preferred_by_mclust"] == 4
    assert faithful_fits[("eruptions", 3)].log_likelihood > MCLUST["eruptions"]["3"]["default"]["loglik"] + 4


def test_compare_ranks_the_numbers_of_components_by_bic():
    out = run(["compare", str(DATA / "faithful.csv"), "--column", "eruptions", "--dist", "normal", "--components",
               "1-4", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["preferred"] == 3 and data["verdict"] == "BIC prefers 3 components (AIC prefers 4)"
    bics = [row["bic"] for row in data["fits"]]
    assert [row["delta_bic"] for row in data["fits"]] == pytest.approx([b - min(bics) for b in bics])


def _careful_poisson_em(x, k, starts=30, seed=7):
    """EM for a poisson mixture, written plainly: many random starts, each run until it gains
    less than 1e-13 a step."""
    rng = np.random.default_rng(seed)
    log_factorial = special.gammaln(x + 1)
    best = -np.inf
    for _ in range(starts):
        lam = np.sort(rng.uniform(x.min() + 0.1, x.max() + 0.1, k))
        weight = np.full(k, 1.0 / k)
        previous = -np.inf
        for _ in range(20_000):
            joint = np.log(weight) + x[:, None] * np.log(lam[None, :]) - lam[None, :] - log_factorial[:, None]
            row = special.logsumexp(joint, axis=1)
            total = float(row.sum())
            if total - previous < 1e-13:
                break
            previous = total
            r = np.exp(joint - row[:, None])
            weight = r.mean(axis=0)
            lam = (r * x[:, None]).sum(axis=0) / r.sum(axis=0)
        best = max(best, total)
    return best


def test_a_poisson_mixture_is_at_least_a_careful_multi_start_em():
    rng = np.random.default_rng(2026)
    x = np.concatenate([rng.poisson(2.0, 300), rng.poisson(9.0, 200)]).astype(float)
    result = mlfit.fit(x, "poisson", components=2)
    assert result.log_likelihood >= _careful_poisson_em(x, 2) - 1e-9
    rates = [c.params["lam"] for c in result.components]
    assert rates == sorted(rates) and rates[0] == pytest.approx(2.0, abs=0.4) and rates[1] == pytest.approx(9.0, abs=1.0)


@pytest.mark.parametrize("name", ["normal", "gamma", "poisson", "exponential", "lognormal"])
def test_the_mixture_s_derivatives_are_its_log_likelihood_s(name):
    family = get_family(name)
    rng = np.random.default_rng(3)
    x = (rng.poisson(4.0, 80) if name == "poisson" else rng.gamma(3.0, 1.0, 80)).astype(float)
    m = len(family.predictors())
    theta = np.concatenate([[0.4, -0.2], rng.normal(0.5, 0.3, 3 * m)])
    w = rng.integers(1, 3, len(x)).astype(float)
    value, gradient, hessian = _derivatives(x, w, family, theta, 3, m)
    step = 1e-6
    for i in range(len(theta)):
        e = np.eye(len(theta))[i] * step
        up, down = _derivatives(x, w, family, theta + e, 3, m), _derivatives(x, w, family, theta - e, 3, m)
        assert gradient[i] == pytest.approx((up[0] - down[0]) / (2 * step), rel=1e-6, abs=1e-6)
        np.testing.assert_allclose(hessian[:, i], (up[1] - down[1]) / (2 * step), rtol=1e-5, atol=1e-5)


def test_standard_errors_are_the_inverse_hessian_of_scipy_s_mixture_density(faithful_fits):
    result = faithful_fits[("eruptions", 2)]
    x = FAITHFUL["eruptions"].to_numpy()

    def log_likelihood(p):  # (w1, mu1, sigma1, mu2, sigma2): the natural parameters
        w1, mu1, s1, mu2, s2 = p
        return np.logaddexp(np.log(w1) + stats.norm.logpdf(x, mu1, s1),
                            np.log(1 - w1) + stats.norm.logpdf(x, mu2, s2)).sum()

    a, b = result.components
    p = np.array([a.weight, a.params["mu"], a.params["sigma"], b.params["mu"], b.params["sigma"]])
    steps = 1e-5 * np.maximum(np.abs(p), 0.1)
    H = np.zeros((5, 5))
    for i in range(5):
        for j in range(5):
            e_i, e_j = np.eye(5)[i] * steps[i], np.eye(5)[j] * steps[j]
            H[i, j] = (log_likelihood(p + e_i + e_j) - log_likelihood(p + e_i - e_j) - log_likelihood(p - e_i + e_j)
                       + log_likelihood(p - e_i - e_j)) / (4 * steps[i] * steps[j])
    se = np.sqrt(np.diag(np.linalg.inv(-H)))
    np.testing.assert_allclose([a.weight_se, a.stderr["mu"], a.stderr["sigma"], b.stderr["mu"], b.stderr["sigma"]],
                               se, rtol=1e-4)
    assert b.weight_se == pytest.approx(a.weight_se, rel=1e-12)


def test_frequency_weights_are_repeated_rows():
    x = FAITHFUL["eruptions"].to_numpy()[:120]
    w = (np.arange(len(x)) % 3).astype(float)
    weighted = mlfit.fit(x, "normal", components=2, weights=w)
    repeated = mlfit.fit(np.repeat(x, w.astype(int)), "normal", components=2)
    assert weighted.log_likelihood == pytest.approx(repeated.log_likelihood, rel=1e-10)
    np.testing.assert_allclose([c.params["mu"] for c in weighted.components],
                               [c.params["mu"] for c in repeated.components], rtol=1e-7)


def test_the_command_line_writes_posteriors_and_json(tmp_path):
    target = tmp_path / "components.csv"
    out = run(["fit", str(DATA / "faithful.csv"), "--dist", "normal", "--column", "eruptions", "--components", "2",
               "--predict", str(target), "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert [c["params"]["mu"] for c in data["components"]] == sorted(c["params"]["mu"] for c in data["components"])
    assert data["k"] == 5 and data["aic"] == pytest.approx(2 * data["nll"] + 10)
    posterior = pd.read_csv(target)
    x = FAITHFUL["eruptions"].to_numpy()
    parts = np.column_stack([c["weight"] * stats.norm.pdf(x, c["params"]["mu"], c["params"]["sigma"])
                             for c in data["components"]])
    np.testing.assert_allclose(posterior[["p[1]", "p[2]"]].to_numpy(), parts / parts.sum(axis=1, keepdims=True),
                               rtol=1e-9, atol=1e-12)
    assert list(posterior["row"]) == list(range(1, len(x) + 1))
    assert (posterior["component"] == np.argmax(parts, axis=1) + 1).all()


@pytest.mark.parametrize("args, code, words", [
    (["--components", "0"], 2, "from 1 to"), (["--components", "1000"], 2, "from 1 to"),
    (["--components", "2", "--bootstrap", "10"], 2, "does not go with --bootstrap")])
def test_bad_component_counts_are_one_line(args, code, words):
    out = run(["fit", str(DATA / "faithful.csv"), "--dist", "normal", "--column", "eruptions", *args])
    assert out.exit_code == code and words in out.output and len(out.output.strip().splitlines()) == 1


@pytest.mark.parametrize("dist", ["bernoulli", "categorical"])
def test_a_mixture_of_bernoullis_or_categoricals_is_refused(tmp_path, dist):
    path = tmp_path / "flags.csv"
    path.write_text("x\n" + "\n".join(["0", "1", "1", "0", "1"] * 10) + "\n")
    out = run(["fit", str(path), "--dist", dist, "--column", "x", "--components", "2"])
    assert out.exit_code == 2 and "not identifiable" in out.output


def test_the_plot_draws_the_components_and_their_sum():
    pytest.importorskip("matplotlib")
    from mlfit.plots import mixture_panels

    result = mlfit.fit(FAITHFUL["eruptions"], "normal", components=2)
    panels = mixture_panels(result)
    np.testing.assert_allclose(panels["total"], np.sum(panels["parts"], axis=0))
    a, b = result.components
    expected = a.weight * stats.norm.pdf(panels["grid"], a.params["mu"], a.params["sigma"]) \
        + b.weight * stats.norm.pdf(panels["grid"], b.params["mu"], b.params["sigma"])
    np.testing.assert_allclose(panels["total"], expected, rtol=1e-12)
    assert len(result.plot().axes) == 1


def test_equal_components_are_said_to_be_fewer():
    # one exponential explains these as well as two: EM's two rates meet, and the mixture says so
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.gamma(2, 1, 300), rng.gamma(9, 1, 300)])
    result = mlfit.fit(x, "exponential", components=2)
    assert result.coincide and any("two components are equal" in w for w in result.warnings())
    assert result.components[0].stderr is None
    assert result.log_likelihood == pytest.approx(mlfit.fit(x, "exponential").log_likelihood, rel=1e-9)
