"""Every family in the registry, checked the same way: a new family gets these tests by being
registered. Each is checked against scipy.stats (an implementation that is not ours), against
finite differences of its own NLL, and by sampling from known parameters and fitting them back."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

import mlfit
import mlfit.data
import mlfit.streaming
from mlfit.families import NAMES, get_family
from mlfit.families.base import Family, Parameter, Positive
from mlfit.families.distribution import NonNegativeReals
from mlfit.families.statistics import NoSufficientStatistics, Values
from mlfit.fitting import PARAM_TOLERANCE
from mlfit.options import FitOptions
from mlfit.pipeline import fit_statistics

from conftest import numerical_hessian

TRIALS = 12
FAMILIES = [get_family(name, TRIALS) for name in NAMES]
NUMERIC = [f for f in FAMILIES if f.support.numeric]
IDS = [f.name for f in NUMERIC]


def options(family, **more):
    return {"trials": TRIALS, **more} if "trials" in family.needs else more


def draw(family, size, seed=0):
    return family.sample(np.random.default_rng(seed), family.example, size)


def point_off_the_optimum(family, stats):
    return family.pack(family.start(stats), stats) + 0.3


@pytest.mark.parametrize("family", NUMERIC, ids=IDS)
def test_every_numeric_family_declares_an_example_and_its_scipy_twin(family):
    assert set(family.example) == {p.name for p in family.parameters}
    assert family.as_scipy(family.example) is not None


@pytest.mark.parametrize("family", NUMERIC, ids=IDS)
def test_log_prob_cdf_and_quantile_match_scipy(family):
    x = draw(family, 300)
    twin = family.as_scipy(family.example)
    want = twin.logpdf(x) if family.continuous else twin.logpmf(x)
    np.testing.assert_allclose(family.log_prob(family.encode(x, None), family.example), want, rtol=1e-10, atol=1e-12)
    if family.continuous:
        inner = x[(twin.cdf(x) > 1e-12) & (twin.sf(x) > 1e-12)]
        np.testing.assert_allclose(family.log_cdf(inner, family.example), twin.logcdf(inner), rtol=1e-8, atol=1e-12)
        np.testing.assert_allclose(family.log_sf(inner, family.example), twin.logsf(inner), rtol=1e-8, atol=1e-12)
        q = np.array([0.01, 0.3, 0.5, 0.9, 0.999])
        np.testing.assert_allclose(family.quantile(q, family.example), twin.ppf(q), rtol=1e-9)


@pytest.mark.parametrize("family", [f for f in NUMERIC if f.continuous], ids=[f.name for f in NUMERIC if f.continuous])
def test_cdf_and_survival_are_defined_everywhere(family):
    """Outside the support and far out they are 0 or 1 (log: -inf or 0), never NaN, and add up."""
    x = np.array([-1e300, -2.0, -0.5, 0.0, 0.25, 0.5, 2.0, 1e6, 1e300])
    log_cdf, log_sf = family.log_cdf(x, family.example), family.log_sf(x, family.example)
    assert not np.isnan(log_cdf).any() and not np.isnan(log_sf).any()
    assert np.all(log_cdf <= 0) and np.all(log_sf <= 0)
    np.testing.assert_allclose(np.exp(log_cdf) + np.exp(log_sf), 1.0, rtol=1e-12)
    assert np.all(np.diff(np.exp(log_cdf)) >= 0)
    density = family.log_prob(x, family.example)
    assert not np.isnan(density).any() and np.all(density[[0, -1]] < -1e5)  # 0 or nearly, far out


@pytest.mark.parametrize("family", NUMERIC, ids=IDS)
def test_the_objective_is_the_nll_per_row_and_minus_the_summed_log_prob(family):
    x = draw(family, 100, seed=1)
    stats = family.summarize(x)
    start = family.start(stats)
    u = family.pack(start, stats) - 0.1
    params = family.unpack(u, start, stats)
    nll = family.nll(stats, params)
    assert family.objective(stats, u)[0] * stats.n == pytest.approx(nll, rel=1e-12)
    assert family.log_prob(family.encode(x, stats), params).sum() == pytest.approx(-nll, rel=1e-11)


@pytest.mark.parametrize("family", [f for f in NUMERIC if f.smooth], ids=[f.name for f in NUMERIC if f.smooth])
def test_gradient_and_hessian_are_the_derivatives_of_the_objective(family):
    stats = family.summarize(draw(family, 200, seed=2))
    u = point_off_the_optimum(family, stats)
    _, gradient = family.objective(stats, u)
    hessian = family.hessian(stats, u)
    h = 1e-5
    for i in range(len(u)):
        step = np.zeros_like(u)
        step[i] = h
        numeric = (family.objective(stats, u + step)[0] - family.objective(stats, u - step)[0]) / (2 * h)
        assert gradient[i] == pytest.approx(numeric, rel=1e-6, abs=1e-8)
        column = (family.objective(stats, u + step)[1] - family.objective(stats, u - step)[1]) / (2 * h)
        np.testing.assert_allclose(hessian[:, i], column, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("family", NUMERIC, ids=IDS)
def test_sampled_data_fits_back_to_its_parameters(family):
    x = draw(family, 3000, seed=3)
    result = mlfit.fit(x, family.name, **options(family))
    assert result.numerical.converged, result.numerical.message
    assert result.warnings() == []
    if family.reference_method != "none":
        assert result.comparison.agrees and result.comparison.largest < 1e-8, result.comparison
    else:
        assert result.comparison is None and result.to_dict()["reference"]["method"] == "none"
    for p in family.parameters:
        value, truth = result.estimate[p.name], family.example[p.name]
        se = result.inference.stderr[p.name]
        interval = result.intervals()[p.name]["profile"]
        assert interval[0] <= value <= interval[1]
        if se is None:  # uniform: not a regular model; its estimate is the data's extreme
            assert abs(value - truth) < 0.01 * abs(family.example["high"] - family.example["low"])
        else:
            assert abs(value - truth) < 5 * se, (p.name, value, truth, se)


@pytest.mark.parametrize("family", [f for f in NUMERIC if f.smooth], ids=[f.name for f in NUMERIC if f.smooth])
def test_standard_errors_match_a_numerical_hessian(family):
    result = mlfit.fit(draw(family, 2000, seed=4), family.name, **options(family))
    covariance = np.linalg.inv(numerical_hessian(family, result.stats, result.estimate))
    for i, p in enumerate(family.parameters):
        assert result.inference.stderr[p.name] == pytest.approx(np.sqrt(covariance[i, i]), rel=2e-3)
    # cov_params(): the whole matrix, its diagonal the standard errors squared
    ours = result.cov_params().to_numpy()
    np.testing.assert_allclose(ours, covariance, rtol=5e-3, atol=1e-3 * np.sqrt(np.outer(np.diag(covariance),
                                                                                         np.diag(covariance))).max())
    np.testing.assert_allclose(np.diag(ours), result.bse.to_numpy() ** 2, rtol=1e-14)


@pytest.mark.parametrize("family", NUMERIC, ids=IDS)
def test_merged_statistics_fit_as_the_whole_column_does(family):
    x = draw(family, 900, seed=5)
    whole = family.summarize(x)
    parts = [x[:300], x[300:700], x[700:]]
    try:  # as the streaming reader does: chunk sketches merged, then finished with one more pass if needed
        merged = family.sketch(parts[0], None, seed=1).merge(family.sketch(parts[1], None, seed=301))
        merged = family.finish(merged.merge(family.sketch(parts[2], None, seed=701)),
                               lambda: ((part, None) for part in parts))
    except NoSufficientStatistics:
        assert isinstance(whole, Values)  # held whole, up to the in-memory limit: see test_streaming
        return
    fits = []
    for stats in (whole, merged):
        rows = mlfit.streaming.InMemory(mlfit.data.Column("<data>", "x", x, np.arange(1, len(x) + 1), 0), x)
        fits.append(fit_statistics(family, stats, "<data>", "x", 0, rows, FitOptions(**options(family))))
    assert fits[1].nll == pytest.approx(fits[0].nll, rel=1e-12)
    optimal = family.optimal_intervals(whole)  # laplace's mu with an even count: any point between the middle two
    for name, value in fits[0].estimate.items():
        if name in optimal:
            low, high = optimal[name]
            assert low <= fits[1].estimate[name] <= high and low <= value <= high
        else:  # Powell (laplace) stops where the NLL is flat to rounding: b within ~1e-9 of its optimum
            assert fits[1].estimate[name] == pytest.approx(value, rel=1e-9 if family.smooth else PARAM_TOLERANCE)


@pytest.mark.parametrize("family", NUMERIC, ids=IDS)
def test_weights_count_as_rows_written_out(family):
    x = draw(family, 60, seed=6)
    w = np.random.default_rng(7).integers(1, 5, len(x))
    weighted = mlfit.fit(x, family.name, weights=w, **options(family))
    written = mlfit.fit(np.repeat(x, w), family.name, **options(family))
    assert weighted.n == written.n == w.sum()
    assert weighted.nll == pytest.approx(written.nll, rel=1e-10)
    for name, value in written.estimate.items():
        assert weighted.estimate[name] == pytest.approx(value, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("family", [f for f in NUMERIC if len(f.parameters) > 1],
                         ids=[f.name for f in NUMERIC if len(f.parameters) > 1])
def test_fixing_a_parameter_at_its_estimate_leaves_the_others_there(family):
    x = draw(family, 500, seed=8)
    free = mlfit.fit(x, family.name, **options(family))
    for p in family.parameters:
        held = mlfit.fit(x, family.name, fix={p.name: repr(free.estimate[p.name])}, **options(family))
        assert held.fixed == {p.name: free.estimate[p.name]}
        assert held.nll == pytest.approx(free.nll, rel=1e-9)
        for name, value in free.estimate.items():
            assert held.estimate[name] == pytest.approx(value, rel=1e-6, abs=1e-9), (p.name, name)
        assert p.name not in held.inference.stderr and held.inference.k == free.inference.k - 1


def test_a_family_that_declares_a_flag_without_its_methods_fails_when_defined():
    with pytest.raises(TypeError, match="log_cdf, log_sf, quantile, sample"):
        class Halfway(Family):  # noqa: F841 (defining it is the test)
            name = "halfway"
            parameters = (Parameter("rate", Positive()),)
            support = NonNegativeReals()
            continuous = True
            reference_method = "none"

            def summarize(self, values, weights=None): ...
            def start(self, stats): ...
            def nll(self, stats, params): ...
            def objective(self, stats, u): ...
            def hessian(self, stats, u): ...
            def standard_errors(self, stats, params, fixed=()): ...
            def log_prob(self, encoded, params): ...
            def loss_report(self, stats, params): ...


@pytest.mark.parametrize("alias, name", [("norm", "normal"), ("lnorm", "lognormal"), ("exp", "exponential"),
                                         ("nbinom", "negbinomial"), ("geom", "geometric"), ("pois", "poisson"),
                                         ("logis", "logistic"), ("unif", "uniform"), ("t", "student_t"),
                                         ("binom", "binomial")])
def test_r_and_scipy_names_are_accepted(alias, name):
    assert get_family(alias, TRIALS).name == name
