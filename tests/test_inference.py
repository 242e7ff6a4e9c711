"""Standard errors, intervals, AIC and BIC against independent references."""

import numpy as np
import pytest
from scipy import stats

import mlfit
from mlfit.families import get_family
from mlfit.inference import chi2_quantile, infer


def finite_difference_hessian(f, x, rel=1e-4):
    x = np.asarray(x, dtype=float)
    h = rel * np.maximum(np.abs(x), 1e-3)
    k = len(x)
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            def at(si, sj):
                y = x.copy()
                y[i] += si * h[i]
                y[j] += sj * h[j]
                return f(y)
            hessian[i, j] = (at(1, 1) - at(1, -1) - at(-1, 1) + at(-1, -1)) / (4 * h[i] * h[j])
    return hessian


def test_normal_standard_errors_match_the_numerical_hessian():
    x = np.random.default_rng(1).normal(3, 2, 400)
    result = mlfit.fit(x, "normal")
    nll = lambda t: -stats.norm.logpdf(x, t[0], t[1]).sum()
    cov = np.linalg.inv(finite_difference_hessian(nll, [result.estimate["mu"], result.estimate["sigma"]]))
    se = result.inference.stderr
    assert se["mu"] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-4)
    assert se["sigma"] == pytest.approx(np.sqrt(cov[1, 1]), rel=1e-4)
    assert se["mu"] == pytest.approx(result.estimate["sigma"] / np.sqrt(400), rel=1e-12)


@pytest.mark.parametrize("family, data, name, logpdf", [
    ("poisson", np.random.default_rng(2).poisson(3.7, 300).astype(float), "lam",
     lambda x, t: stats.poisson.logpmf(x, t)),
    ("bernoulli", (np.random.default_rng(3).random(300) < 0.3).astype(float), "p",
     lambda x, t: stats.bernoulli.logpmf(x, t)),
])
def test_one_parameter_standard_errors_match_the_numerical_hessian(family, data, name, logpdf):
    result = mlfit.fit(data, family)
    nll = lambda t: -logpdf(data, t[0]).sum()
    variance = 1 / finite_difference_hessian(nll, [result.estimate[name]])[0, 0]
    assert result.inference.stderr[name] == pytest.approx(np.sqrt(variance), rel=1e-4)


def test_laplace_scale_standard_error_matches_the_numerical_hessian():
    x = np.random.default_rng(4).laplace(1, 2, 501)
    result = mlfit.fit(x, "laplace")
    mu = result.estimate["mu"]
    nll = lambda t: -stats.laplace.logpdf(x, mu, t[0]).sum()
    variance = 1 / finite_difference_hessian(nll, [result.estimate["b"]])[0, 0]
    assert result.inference.stderr["b"] == pytest.approx(np.sqrt(variance), rel=1e-4)
    # mu's NLL has kinks: its standard error is that of the median, b / sqrt(n)
    assert result.inference.stderr["mu"] == pytest.approx(result.estimate["b"] / np.sqrt(501), rel=1e-12)


def test_categorical_standard_errors_are_the_multinomial_covariance():
    labels = np.random.default_rng(5).choice(["a", "b", "c", "d"], 500, p=[0.4, 0.3, 0.2, 0.1])
    result = mlfit.fit(labels, "categorical")
    p = result.estimate["p"]
    counts = np.array([np.sum(labels == c) for c in "abcd"])

    def nll(free):  # the first K-1 probabilities; the last is what remains
        full = np.append(free, 1 - free.sum())
        return -stats.multinomial.logpmf(counts, counts.sum(), full)

    cov = np.linalg.inv(finite_difference_hessian(nll, p[:-1]))
    expected = (np.diag(p) - np.outer(p, p)) / 500
    np.testing.assert_allclose(cov, expected[:-1, :-1], rtol=1e-4, atol=1e-9)
    se = result.inference.stderr["p"]
    np.testing.assert_allclose(se[:-1], np.sqrt(np.diag(cov)), rtol=1e-4)
    assert se[-1] == pytest.approx(np.sqrt(cov.sum()), rel=1e-4)  # var(p_K) = var(sum of the others)


def brute_force_interval(grid, profile, nll_min, level=0.95):
    """Where 2*(profile - min) first exceeds the chi-square quantile on each side, interpolated."""
    excess = 2 * (profile - nll_min) - stats.chi2.ppf(level, 1)
    best = int(np.argmin(profile))
    bounds = []
    for indices in (range(best, 0, -1), range(best, len(grid) - 1)):
        bound = grid[0] if indices.step < 0 else grid[-1]
        for i in indices:
            j = i + indices.step
            if excess[j] > 0:
                t = excess[i] / (excess[i] - excess[j])
                bound = grid[i] + t * (grid[j] - grid[i])
                break
        bounds.append(bound)
    return tuple(bounds)


def test_normal_profile_intervals_match_a_brute_force_grid():
    x = np.random.default_rng(6).normal(10, 3, 40)
    result = mlfit.fit(x, "normal")
    mu_hat, sigma_hat = result.estimate["mu"], result.estimate["sigma"]
    mus = np.linspace(mu_hat - 3, mu_hat + 3, 1201)
    sigmas = np.linspace(sigma_hat * 0.5, sigma_hat * 2, 1201)
    surface = -stats.norm.logpdf(x[None, None, :], mus[:, None, None], sigmas[None, :, None]).sum(axis=-1)
    profile_mu = surface.min(axis=1)
    profile_sigma = surface.min(axis=0)
    got = result.intervals()
    assert got["mu"]["profile"] == pytest.approx(brute_force_interval(mus, profile_mu, result.nll), abs=0.01)
    assert got["sigma"]["profile"] == pytest.approx(brute_force_interval(sigmas, profile_sigma, result.nll), abs=0.01)


def test_laplace_profile_interval_for_mu_matches_a_brute_force_grid():
    x = np.random.default_rng(7).laplace(-2, 1.5, 60)
    result = mlfit.fit(x, "laplace")
    mus = np.linspace(result.estimate["mu"] - 2, result.estimate["mu"] + 2, 801)
    bs = np.linspace(result.estimate["b"] * 0.5, result.estimate["b"] * 2, 801)
    surface = -stats.laplace.logpdf(x[None, None, :], mus[:, None, None], bs[None, :, None]).sum(axis=-1)
    expected = brute_force_interval(mus, surface.min(axis=1), result.nll)
    assert result.intervals()["mu"]["profile"] == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("family, data, name, grid, logpmf", [
    ("poisson", np.random.default_rng(8).poisson(2.5, 80).astype(float), "lam", np.linspace(1e-6, 6, 60001),
     lambda x, g: stats.poisson.logpmf(x[None, :], g[:, None])),
    ("bernoulli", (np.random.default_rng(9).random(50) < 0.2).astype(float), "p", np.linspace(0, 1, 100001),
     lambda x, g: stats.bernoulli.logpmf(x[None, :], g[:, None])),
    ("bernoulli", np.zeros(20), "p", np.linspace(0, 1, 100001),
     lambda x, g: stats.bernoulli.logpmf(x[None, :], g[:, None])),
])
def test_one_parameter_profile_intervals_match_a_brute_force_grid(family, data, name, grid, logpmf):
    result = mlfit.fit(data, family)
    with np.errstate(divide="ignore"):
        profile = -logpmf(data, grid).sum(axis=1)
    expected = brute_force_interval(grid, profile, result.nll)
    assert result.intervals()[name]["profile"] == pytest.approx(expected, abs=2 * (grid[1] - grid[0]))


def test_bernoulli_with_no_successes_keeps_a_real_profile_interval():
    result = mlfit.fit([0.0] * 20, "bernoulli")
    ci = result.intervals()["p"]
    assert ci["wald"] == [0.0, 0.0]  # the Wald interval collapses at the boundary
    low, high = ci["profile"]
    assert low == 0.0
    # -2 * 20 * log(1 - p) = chi2(0.95, 1)  =>  p = 1 - exp(-q / 40)
    assert high == pytest.approx(1 - np.exp(-stats.chi2.ppf(0.95, 1) / 40), rel=1e-10)


def test_categorical_profile_interval_matches_a_brute_force_grid():
    labels = np.array(["a"] * 12 + ["b"] * 5 + ["c"] * 3)
    result = mlfit.fit(labels, "categorical")
    pa = np.linspace(1e-6, 1 - 1e-6, 2001)
    pb = np.linspace(1e-6, 1 - 1e-6, 2001)
    with np.errstate(divide="ignore", invalid="ignore"):
        pc = 1 - pa[:, None] - pb[None, :]
        surface = -(12 * np.log(pa)[:, None] + 5 * np.log(pb)[None, :] + 3 * np.log(pc))
    surface[pc <= 0] = np.inf
    expected = brute_force_interval(pa, surface.min(axis=1), result.nll)
    assert result.intervals()["p"]["a"]["profile"] == pytest.approx(expected, abs=1e-3)


def test_profile_interval_coverage_for_a_normal_mean():
    """2,000 samples of n = 30: the 95% profile interval for mu covers the truth 93-97% of the time."""
    rng = np.random.default_rng(2026)
    family = get_family("normal")
    covered = 0
    for _ in range(2000):
        x = rng.normal(5.0, 2.0, 30)
        s = family.summarize(x)
        params = family.reference(s)
        low, high = infer(family, s, params, family.nll(s, params)).intervals["mu"].profile
        covered += low <= 5.0 <= high
    assert 0.93 <= covered / 2000 <= 0.97


def test_level_changes_the_intervals():
    x = np.random.default_rng(10).normal(size=100)
    narrow = mlfit.fit(x, "normal", level=0.5).intervals()["mu"]["profile"]
    wide = mlfit.fit(x, "normal", level=0.99).intervals()["mu"]["profile"]
    assert wide[0] < narrow[0] < narrow[1] < wide[1]
    assert chi2_quantile(0.95) == pytest.approx(stats.chi2.ppf(0.95, 1), rel=1e-12)


@pytest.mark.parametrize("family, data, k, logpdf", [
    ("normal", np.random.default_rng(11).normal(size=50), 2, lambda x, p: stats.norm.logpdf(x, p["mu"], p["sigma"])),
    ("laplace", np.random.default_rng(12).laplace(size=50), 2, lambda x, p: stats.laplace.logpdf(x, p["mu"], p["b"])),
    ("poisson", np.random.default_rng(13).poisson(4, 50).astype(float), 1, lambda x, p: stats.poisson.logpmf(x, p["lam"])),
])
def test_aic_and_bic_from_scipy_log_likelihood(family, data, k, logpdf):
    result = mlfit.fit(data, family)
    loglik = logpdf(data, result.estimate).sum()
    assert result.inference.k == k
    assert result.aic == pytest.approx(2 * k - 2 * loglik, rel=1e-10)
    assert result.bic == pytest.approx(k * np.log(len(data)) - 2 * loglik, rel=1e-10)


def test_categorical_free_parameters_and_single_category():
    assert mlfit.fit(list("abcab"), "categorical").inference.k == 2
    single = mlfit.fit(["x"] * 5, "categorical")
    assert single.inference.k == 0 and single.aic == 0.0
    assert single.intervals()["p"]["x"] == {"wald": [1.0, 1.0], "profile": [1.0, 1.0]}


def test_categorical_profile_intervals_at_once_match_the_search_entry_by_entry():
    # The vectorised binomial form against the general search over the family's own profile NLL,
    # with a category on the edge (weight 0 makes p = 0) and a rare one.
    from mlfit.inference import _interval, chi2_quantile

    family = get_family("categorical")
    labels = np.array(["a"] * 40 + ["b"] * 7 + ["c"] + ["d"] * 3)
    weights = np.array([1.0] * 48 + [0.0] * 3)
    for w in (None, weights):
        stats = family.summarize(labels, w)
        params = family.reference(stats)
        nll = family.nll(stats, params)
        threshold = chi2_quantile(0.95)
        lows, highs = family.profile_intervals(stats, params, "p", threshold)
        se = family.standard_errors(stats, params)["p"]
        for i, (v, s) in enumerate(zip(params["p"], se)):
            searched = _interval(family.profile_nll, stats, family.parameters[0], float(v), float(s), nll,
                                 1.96, threshold, index=i).profile
            assert (lows[i], highs[i]) == pytest.approx(searched, rel=1e-9, abs=1e-300)


def test_categorical_newton_solve_without_the_dense_hessian():
    family = get_family("categorical")
    rng = np.random.default_rng(4)
    stats = family.summarize(np.array(list("abcdefg"))[rng.integers(0, 7, 500)])
    u = rng.normal(size=6)
    free = np.ones(6, dtype=bool)
    g = rng.normal(size=6)
    structured = family.solve_hessian(stats, u, g, free)
    dense = np.linalg.solve(family.hessian(stats, u), g)
    assert structured == pytest.approx(dense, rel=1e-10)


@pytest.mark.slow
def test_a_hundred_thousand_categories_fit_in_linear_memory():
    import time
    import tracemalloc

    labels = np.array([f"k{i}" for i in range(100_000)] * 2)
    tracemalloc.start()
    began = time.process_time()
    result = mlfit.fit(labels, "categorical")
    seconds = time.process_time() - began
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.numerical.converged and result.comparison.agrees
    assert result.estimate["p"] == pytest.approx(np.full(100_000, 1e-5), rel=1e-9)
    # a dense Hessian alone would be 80 GB; the O(K) fit holds a few hundred arrays of K floats
    assert peak < 400e6, peak
    assert seconds < 120  # minutes before; a loose bound on a shared machine, not a benchmark
