"""Awkward cases the numerical fit must get right, and how it reports them."""

import numpy as np
import pytest
from scipy import stats

import mlfit
from mlfit.families.statistics import Moments

NUMACC4 = np.array([10000000.2] + [10000000.1, 10000000.3] * 500)
NUMACC4_SIGMA = 0.1 * np.sqrt(1000 / 1001)  # certified sd is 0.1 with n-1; the MLE divides by n


def test_numacc4_sigma_within_certified_tolerance():
    result = mlfit.fit(NUMACC4, "normal")
    assert result.closed_form_params["mu"] == pytest.approx(10000000.2, rel=1e-15)
    assert abs(result.closed_form_params["sigma"] - NUMACC4_SIGMA) / NUMACC4_SIGMA < 1.2e-8
    assert abs(result.estimate["sigma"] - NUMACC4_SIGMA) / NUMACC4_SIGMA < 1.2e-8
    assert result.comparison.agrees and result.numerical.converged


def test_naive_variance_formula_would_fail_numacc4():
    """Guards the reason the two-pass form exists: E[x^2]-E[x]^2 loses every digit here."""
    naive = np.mean(NUMACC4**2) - np.mean(NUMACC4) ** 2
    assert abs(np.sqrt(max(naive, 0)) - NUMACC4_SIGMA) / NUMACC4_SIGMA > 1e-3


def test_chan_merge_keeps_two_pass_accuracy():
    chunks = np.array_split(NUMACC4, 7)
    merged = Moments.of(chunks[0])
    for chunk in chunks[1:]:
        merged = merged.merge(Moments.of(chunk))
    whole = Moments.of(NUMACC4)
    assert merged.n == whole.n
    assert merged.mean == pytest.approx(whole.mean, rel=1e-15)
    assert np.sqrt(merged.m2 / merged.n) == pytest.approx(NUMACC4_SIGMA, rel=1.2e-8)


@pytest.mark.parametrize("weighted", [False, True])
def test_variance_of_two_million_counts_is_exact_to_rounding(weighted):
    # Small integers give an exact variance in integer arithmetic; a BLAS dot product in the
    # sum of squares drifted 2e-13 to 1e-12 from it here.
    from fractions import Fraction

    values = np.random.default_rng(0).integers(0, 7, 2_000_000)
    weights = np.random.default_rng(1).integers(1, 4, len(values)) if weighted else np.ones(len(values), dtype=int)
    n, total, squares = int(weights.sum()), int(weights @ values), int(weights @ values**2)
    exact = float(Fraction(squares * n - total * total, n * n))
    moments = Moments.of(values.astype(float), weights.astype(float) if weighted else None)
    assert moments.m2 / moments.n == pytest.approx(exact, rel=1e-15)


def test_laplace_even_count_accepts_any_mu_between_the_middle_values():
    xs = [1.0, 2.0, 10.0, 20.0]  # every mu in [2, 10] has the same NLL
    result = mlfit.fit(xs, "laplace")
    assert 2.0 <= result.estimate["mu"] <= 10.0
    assert result.closed_form_params == {"mu": 6.0, "b": pytest.approx((5 + 4 + 4 + 14) / 4)}
    assert result.comparison.param_differences["mu"] == 0.0
    assert result.comparison.agrees


def test_laplace_far_from_zero():
    result = mlfit.fit(NUMACC4, "laplace")
    assert result.estimate["mu"] == pytest.approx(10000000.2, rel=1e-15)
    # the closed form is exact up to parsing 10000000.1 into a double; Powell compares NLL
    # values, which stop differing in float64 around 1e-8 relative in b
    assert result.closed_form_params["b"] == pytest.approx(0.1 * 1000 / 1001, rel=1.2e-8)
    assert result.estimate["b"] == pytest.approx(result.closed_form_params["b"], rel=1e-7)
    assert result.comparison.agrees


@pytest.mark.parametrize("family, values, param, edge", [
    ("bernoulli", [1.0] * 30, "p", 1.0),
    ("bernoulli", [0.0] * 30, "p", 0.0),
    ("poisson", [0.0] * 30, "lam", 0.0),
])
def test_boundary_optimum_is_reported_as_such(family, values, param, edge):
    result = mlfit.fit(values, family)
    assert result.estimate[param] == edge
    assert result.numerical.at_boundary == (param,)
    assert result.numerical.converged
    assert result.nll == 0.0 == result.closed_form_nll
    assert result.comparison.agrees and not result.warnings()


def test_near_boundary_interior_optimum_is_not_snapped():
    xs = [1.0] * 999_999 + [0.0]  # p = 1 - 1e-6 is the optimum; p = 1 has an infinite NLL
    result = mlfit.fit(xs, "bernoulli")
    assert result.numerical.at_boundary == ()
    assert result.estimate["p"] == pytest.approx(1 - 1e-6, rel=1e-12)
    assert result.comparison.agrees


def test_single_category_has_no_free_parameters():
    result = mlfit.fit(["red"] * 12, "categorical")
    assert result.to_dict()["params"] == {"p": {"red": 1.0}}
    assert result.numerical.iterations == 0 and result.numerical.converged
    assert result.nll == 0.0 and not result.warnings()


def test_tiny_spread_and_huge_offset_scales():
    rng = np.random.default_rng(11)
    for offset, spread in [(0.0, 1e-9), (1e9, 1e-3), (-5e5, 3e4)]:
        xs = offset + spread * rng.normal(size=500)
        result = mlfit.fit(xs, "normal")
        assert result.comparison.agrees, (offset, spread, result.comparison)
        assert result.estimate["sigma"] == pytest.approx(np.std(xs), rel=1e-7)


def test_large_poisson_rate_and_rare_events():
    rng = np.random.default_rng(5)
    for lam in (1e6, 1e-3):
        xs = rng.poisson(lam, 20_000).astype(float)
        result = mlfit.fit(xs, "poisson")
        assert result.estimate["lam"] == pytest.approx(xs.mean(), rel=1e-8)
        assert result.comparison.agrees


def test_a_search_that_stops_short_is_restarted_at_the_closed_form_and_says_so(monkeypatch):
    from mlfit import fitting

    monkeypatch.setitem(fitting.SEARCH_OPTIONS, "maxiter", 1)
    monkeypatch.setattr(fitting, "NEWTON_STEPS", 0)  # nor can Newton finish from where it stopped
    x = np.random.default_rng(1).normal(50, 3, 100)
    result = mlfit.fit(x, "normal")
    assert result.numerical.converged and result.comparison.agrees and result.warnings() == []
    assert "the search stopped short" in result.numerical.message
    assert result.estimate["mu"] == pytest.approx(x.mean(), rel=1e-14)
    assert result.nll == pytest.approx(-stats.norm.logpdf(x, x.mean(), x.std()).sum(), rel=1e-13)


def test_a_restart_newton_cannot_certify_reports_the_closed_form_and_warns(monkeypatch):
    """A fit whose optimiser stops early must say so, not hide behind a number."""
    from mlfit import fitting

    monkeypatch.setitem(fitting.SEARCH_OPTIONS, "maxiter", 1)
    monkeypatch.setattr(fitting, "NEWTON_STEPS", 0)
    monkeypatch.setattr(fitting, "DECREMENT_TOLERANCE", -1.0)  # nothing certifies
    monkeypatch.setattr(fitting, "_within_rounding", lambda *a: False)
    x = np.random.default_rng(1).normal(50, 3, 100)
    result = mlfit.fit(x, "normal")
    assert not result.numerical.converged
    assert result.estimate["sigma"] == pytest.approx(x.std(), rel=1e-14)  # the closed form, not the search's point
    messages = result.warnings()
    assert any("normal: the L-BFGS-B + Newton optimiser did not converge" in m for m in messages)
    assert any("so the closed form is the result" in m for m in messages)


def test_a_reference_the_search_beats_is_a_disagreement(monkeypatch):
    from mlfit.families.normal import Normal

    real = Normal.reference
    monkeypatch.setattr(Normal, "reference", lambda self, stats: {**real(self, stats), "sigma": 2 * real(self, stats)["sigma"]})
    result = mlfit.fit(np.random.default_rng(1).normal(50, 3, 100), "normal")
    assert result.numerical.converged and not result.comparison.agrees
    assert any("normal: the numerical optimum disagrees with the closed form" in m for m in result.warnings())


# --- any finite data, at any scale ---------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None, derandomize=True)  # repeatable in CI; 2,000 random runs while written
@given(exponent=st.integers(-318, 305), seed=st.integers(0, 2**32 - 1), family=st.sampled_from(["normal", "laplace"]),
       n=st.integers(3, 60))
def test_any_scale_fits_as_the_data_near_one_does(exponent, seed, family, n):
    # The same sample at 10^exponent: subnormal (1e-318), tiny (1e-200), huge (1e305) or plain.
    base = np.random.default_rng(seed).normal(1.0, 0.3, n)
    values = base * 10.0**exponent if exponent >= -300 else base * 1e-300 * 10.0 ** (exponent + 300)
    reference = mlfit.fit(values / 10.0**exponent if exponent >= -300 else base, family)
    result = mlfit.fit(values, family)  # the suite fails on any RuntimeWarning
    assert result.numerical.converged and result.comparison.agrees
    # subnormal data carries fewer digits than the sample it was made from
    rel = 1e-9 if exponent >= -305 else 10.0 ** (-308 - exponent) * 1e-13
    for name, value in result.closed_form_params.items():
        assert value == pytest.approx(reference.closed_form_params[name] * 10.0**exponent, rel=max(rel, 1e-12))
    assert result.nll == pytest.approx(reference.nll + n * exponent * np.log(10), rel=max(rel, 1e-12), abs=1e-6)
    assert np.isfinite(result.aic) and np.isfinite(result.loss()["nll_from_loss"])


@pytest.mark.parametrize("family", ["normal", "laplace"])
def test_a_power_of_two_rescales_the_fit_exactly(family):
    values = np.random.default_rng(5).normal(3, 1, 101)
    plain, scaled = mlfit.fit(values, family), mlfit.fit(values * 2.0**-900, family)
    for name, value in plain.closed_form_params.items():
        assert scaled.closed_form_params[name] == value * 2.0**-900
    assert scaled.estimate == pytest.approx({k: v * 2.0**-900 for k, v in plain.estimate.items()}, rel=1e-12)
