"""Goodness-of-fit statistics against scipy.stats' implementations of the same definitions."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import mlfit


def scipy_statistics(x, distribution):
    ks = stats.kstest(x, distribution.cdf).statistic
    cvm = stats.cramervonmises(x, distribution.cdf).statistic
    dist, params = distribution.dist, distribution.kwds
    ad = stats.goodness_of_fit(dist, x, known_params=params, statistic="ad", n_mc_samples=1).statistic
    return {"ks": ks, "cvm": cvm, "ad": ad}


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=5, max_value=400))
def test_edf_statistics_match_scipy_for_normal_and_laplace(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.standard_t(4, n) * 3 + 1
    normal = mlfit.fit(x, "normal")
    laplace = mlfit.fit(x, "laplace")
    expected = {
        "normal": scipy_statistics(x, stats.norm(loc=normal.estimate["mu"], scale=normal.estimate["sigma"])),
        "laplace": scipy_statistics(x, stats.laplace(loc=laplace.estimate["mu"], scale=laplace.estimate["b"])),
    }
    for result in (normal, laplace):
        for name, value in expected[result.distribution].items():
            assert result.gof.statistics[name] == pytest.approx(value, rel=1e-8, abs=1e-12), name
        assert result.gof.p_values == {}  # no plain p-values: they would be wrong for fitted parameters


def test_anderson_darling_survives_far_tails():
    x = np.append(np.random.default_rng(0).normal(size=200), 40.0)  # F(40) rounds to 1 in float64
    ad = mlfit.fit(x, "normal").gof.statistics["ad"]
    assert np.isfinite(ad) and ad > 10


def test_bootstrap_p_values_separate_a_good_fit_from_a_bad_one():
    rng = np.random.default_rng(1)
    good = mlfit.fit(rng.normal(size=300), "normal", gof_bootstrap=99, seed=3)
    bad = mlfit.fit(rng.exponential(size=300), "normal", gof_bootstrap=99, seed=3)
    for name in ("ks", "cvm", "ad"):
        assert good.gof.p_values[f"{name}_pvalue"] > 0.05
        assert bad.gof.p_values[f"{name}_pvalue"] == pytest.approx(1 / 100)  # no replicate as extreme


def test_bootstrap_is_repeatable_with_a_seed():
    x = np.random.default_rng(2).laplace(size=100)
    first = mlfit.fit(x, "laplace", gof_bootstrap=30, seed=7).gof.p_values
    assert first == mlfit.fit(x, "laplace", gof_bootstrap=30, seed=7).gof.p_values


def test_poisson_chi_square_pools_cells_and_matches_scipy():
    x = np.random.default_rng(3).poisson(2.2, 400).astype(float)
    result = mlfit.fit(x, "poisson")
    gof = result.gof
    cells = gof.cells
    assert all(expected >= 5 for _, _, expected in cells)
    assert sum(observed for _, observed, _ in cells) == 400
    assert sum(expected for _, _, expected in cells) == pytest.approx(400, rel=1e-12)
    observed = np.array([o for _, o, _ in cells])
    expected = np.array([e for _, _, e in cells])
    reference = stats.chisquare(observed, expected, ddof=1)  # one estimated parameter
    assert gof.statistics["chi2"] == pytest.approx(reference.statistic, rel=1e-12)
    assert gof.p_values["chi2_pvalue"] == pytest.approx(reference.pvalue, rel=1e-9)
    assert gof.df == len(cells) - 2
    # the cells' expected counts come from the poisson pmf and the tail beyond the largest count
    lam = result.estimate["lam"]
    assert cells[0][2] == pytest.approx(400 * stats.poisson.pmf(0, lam), rel=1e-12)
    assert cells[-1][0].endswith(f">{int(x.max())}")


def test_saturated_discrete_models_have_no_p_value():
    for family, data in (("bernoulli", [0, 1, 1, 0, 1] * 10), ("categorical", list("aabbbc") * 10)):
        gof = mlfit.fit(data, family).gof
        assert gof.statistics["chi2"] == pytest.approx(0, abs=1e-9)
        assert gof.p_values["chi2_pvalue"] is None and "saturated" in gof.note


@pytest.mark.parametrize("family_name", ["normal", "laplace"])
def test_weighted_edf_statistics_equal_those_of_the_rows_written_out(family_name):
    from mlfit.families import get_family
    from mlfit.gof import _edf

    rng = np.random.default_rng(11)
    family = get_family(family_name)
    values = np.round(rng.normal(3, 2, 40), 1)  # ties between rows as well as within them
    weights = rng.integers(0, 6, 40).astype(float)
    params = family.reference(family.summarize(values, weights))
    written_out = _edf(family, np.repeat(values, weights.astype(int)), params)
    assert _edf(family, values, params, weights) == pytest.approx(written_out, rel=1e-10)


def test_pooled_cells_keep_labels_that_hold_two_dots():
    from mlfit.gof import _pool

    cells = _pool(["a..b", "c", "d..e", "f"], [10.0, 1.0, 1.0, 1.0], [6.0, 1.0, 1.0, 1.0])
    assert cells == [["a..b..f", 13.0, 9.0]]  # the short tail joins the cell before; "a..b" stays whole
    cells = _pool(["x..y", "z"], [4.0, 1.0], [5.0, 1.0])
    assert cells[-1][0] == "x..y..z"  # the first label of the last cell, whole, then the last
