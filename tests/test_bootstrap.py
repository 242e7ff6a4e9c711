"""fit --bootstrap and --quantile: replicates against refits done by hand with the same random
numbers, percentile intervals against numpy, delta-method standard errors against closed forms."""

import json

import numpy as np
import pytest
from scipy import stats

from conftest import run
from mlfit import fit
from mlfit.bootstrap import bootstrap
from mlfit.families import get_family
from mlfit.fitting import best_fit


@pytest.fixture
def gamma_fit():
    values = np.random.default_rng(3).gamma(2.5, 2.0, 300)
    return fit(values, "gamma"), values


def test_parametric_replicates_are_refits_of_draws_from_the_fit(gamma_fit):
    result, values = gamma_fit
    drawn = bootstrap(result, 5, "parametric", seed=11)
    family, rng = get_family("gamma"), np.random.default_rng(11)
    for i in range(5):
        again = best_fit(family, family.summarize(family.sample(rng, result.estimate, len(values))), {})
        assert drawn.draws["shape"][i] == pytest.approx(again["shape"], rel=1e-12)
        assert drawn.draws["rate"][i] == pytest.approx(again["rate"], rel=1e-12)
    assert drawn.converged == 5


def test_nonparametric_replicates_resample_the_rows(gamma_fit):
    result, values = gamma_fit
    drawn = bootstrap(result, 4, "nonparametric", seed=5)
    family, rng = get_family("gamma"), np.random.default_rng(5)
    for i in range(4):
        again = best_fit(family, family.summarize(values[rng.integers(0, 300, 300)]), {})
        assert drawn.draws["shape"][i] == pytest.approx(again["shape"], rel=1e-12)


def test_percentile_intervals_are_the_draws_quantiles(gamma_fit):
    result, _ = gamma_fit
    drawn = bootstrap(result, 60, "parametric", seed=1)
    low, high = drawn.intervals()["rate"]
    assert [low, high] == pytest.approx(np.quantile(drawn.draws["rate"], [0.025, 0.975]).tolist())


def test_delta_method_standard_errors_of_quantiles_match_their_closed_forms():
    values = np.random.default_rng(4).normal(5.0, 2.0, 400)
    result = fit(values, "normal")
    drawn = bootstrap(result, 0, quantiles=(0.1, 0.9))
    n, sigma = len(values), result.estimate["sigma"]
    for q in (0.1, 0.9):
        z = stats.norm.ppf(q)
        part = drawn.quantiles[q]
        assert part["estimate"] == pytest.approx(result.estimate["mu"] + z * sigma, rel=1e-12)
        # var(mu) = sigma^2/n, var(sigma) = sigma^2/(2n), independent at the MLE
        assert part["se"] == pytest.approx(sigma * np.sqrt(1 / n + z * z / (2 * n)), rel=1e-4)
    exponential = fit(np.random.default_rng(5).exponential(3.0, 250), "exponential")
    part = bootstrap(exponential, 0, quantiles=(0.5,)).quantiles[0.5]
    assert part["se"] == pytest.approx(part["estimate"] / np.sqrt(250), rel=1e-4)


def test_the_command_line_gives_the_bootstrap_in_json_and_refuses_what_it_cannot_do():
    result = run("fit", "sample_data/rivers.csv", "-d", "gamma", "-c", "miles", "--bootstrap", "40", "--quantile",
                 "0.5", "--bootstrap-draws", "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["bootstrap"]
    assert data["replicates"] == 40 and len(data["draws"]["shape"]) == 40
    quantiles = json.loads(result.stdout)["quantiles"]
    assert quantiles["0.5"]["delta"][0] < quantiles["0.5"]["estimate"] < quantiles["0.5"]["bootstrap"][1]
    for args, message in [(["-d", "poisson", "-c", "home_goals", "--quantile", "0.5"], "continuous families"),
                          (["-d", "normal", "-c", "home_goals", "-c", "away_goals", "--bootstrap", "40"], "one fit"),
                          (["-d", "normal", "-c", "home_goals", "--quantile", "1.5"], "strictly between")]:
        result = run("fit", "sample_data/goals.csv", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr


def test_a_categorical_bootstrap_keeps_every_category_even_when_a_replicate_lacks_one():
    labels = ["a"] * 60 + ["b"] * 38 + ["rare"] * 2
    result = fit(labels, "categorical")
    drawn = bootstrap(result, 40, "nonparametric", seed=3)
    assert drawn.draws["p"].shape == (40, 3)
    assert np.allclose(drawn.draws["p"].sum(axis=1), 1.0)
    assert (drawn.draws["p"][:, 2] == 0).any()  # some replicate drew no "rare" row
    parametric = bootstrap(result, 10, "parametric", seed=3)
    assert parametric.converged == 10 and parametric.draws["p"].shape == (10, 3)


def test_a_non_regular_family_has_no_delta_method_interval():
    result = fit(np.random.default_rng(6).uniform(2, 5, 100), "uniform")
    part = bootstrap(result, 40, quantiles=(0.5,)).quantiles[0.5]
    assert part["se"] is None and part["delta"] is None and part["bootstrap"] is not None
