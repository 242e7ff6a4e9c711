"""What the families beyond the first five promise at their edges: limiting models reported as
such, the number of trials, names from R and scipy, a non-regular model's intervals, several
optima, and the Python API's results."""

import json

import numpy as np
import pytest

import mlfit
from mlfit.errors import UsageError

from conftest import fit_json, run, write


def column(tmp_path, values, name="x"):
    return write(tmp_path, name + "\n" + "".join(f"{float(v)!r}\n" for v in values))


def test_negbinomial_under_dispersed_counts_fit_the_poisson_limit(tmp_path):
    counts = [int(v) for v in np.random.default_rng(0).poisson(3, 300)]
    assert np.var(counts) <= np.mean(counts)  # no finite maximum in the size
    data = fit_json(column(tmp_path, counts), "-d", "nbinom")
    assert data["params"] == {"size": None, "mu": pytest.approx(np.mean(counts), rel=1e-12)}  # null: infinity
    assert data["numerical"]["at_boundary"] == ["size"] and data["numerical"]["converged"]
    assert data["comparison"]["agrees"]
    poisson = fit_json(column(tmp_path, counts), "-d", "poisson")
    assert data["nll"] == pytest.approx(poisson["nll"], rel=1e-12)
    low, high = data["ci"]["size"]["profile"]
    assert 1 < low < 1e3 and high is None  # the data cannot rule out a finite size above `low`


def test_student_t_on_normal_data_reports_the_normal_limit(tmp_path):
    x = np.random.default_rng(2).normal(5, 2, 500)
    data = fit_json(column(tmp_path, x), "-d", "t")
    assert data["distribution"] == "student_t" and data["numerical"]["at_boundary"] == ["nu"]
    assert data["params"]["nu"] is None and data["numerical"]["converged"]
    assert data["params"]["mu"] == pytest.approx(x.mean(), rel=1e-9)
    assert data["params"]["sigma"] == pytest.approx(x.std(), rel=1e-9)
    assert data["reference"] == {"params": None, "nll": None, "method": "none"}
    assert data["ci"]["nu"]["profile"][0] > 2 and data["ci"]["nu"]["profile"][1] is None


def test_student_t_on_heavy_tails_finds_a_finite_nu():
    x = 1.5 + 0.5 * np.random.default_rng(3).standard_t(3, 4000)
    result = mlfit.fit(x, "student_t")
    assert result.numerical.at_boundary == () and result.warnings() == []
    low, high = result.intervals()["nu"]["profile"]
    assert low < 3 < high and result.estimate["nu"] == pytest.approx(3, rel=0.3)


def test_binomial_needs_its_trials(tmp_path):
    path = column(tmp_path, [3, 5, 2, 7, 4])
    missing = run("fit", path, "-d", "binomial")
    assert missing.exit_code == 2 and missing.stderr == (
        "mlfit: error: binomial needs the number of trials per row: give --trials N\n")
    too_few = run("fit", path, "-d", "binom", "--trials", "6")
    assert too_few.exit_code == 1 and too_few.stderr == (
        f"mlfit: error: {path}: column 'x', row 4: 7 is not a whole number from 0 to 6 (the --trials), "
        "which binomial needs\n")
    data = fit_json(path, "-d", "binom", "--trials", "10")
    assert data["params"]["p"] == pytest.approx(21 / 50, rel=1e-12)
    assert data["closed_form"]["params"]["p"] == pytest.approx(21 / 50, rel=1e-15)
    assert sum(cell[2] for cell in data["gof"]["cells"]) == pytest.approx(5)  # cells 0..10, expected counts


@pytest.mark.parametrize("alias, family", [("lnorm", "lognormal"), ("exp", "exponential"), ("pois", "poisson"),
                                           ("norm", "normal"), ("logis", "logistic"), ("geom", "geometric")])
def test_r_names_work_on_the_command_line(tmp_path, alias, family):
    path = column(tmp_path, [1, 2, 3, 5, 8, 13])
    assert fit_json(path, "-d", alias)["distribution"] == family


def test_uniform_says_why_it_has_no_standard_errors(tmp_path):
    x = np.random.default_rng(4).uniform(2, 7, 200)
    data = fit_json(column(tmp_path, x), "-d", "unif")
    assert data["params"] == {"low": x.min(), "high": x.max()}
    assert data["stderr"] == {"low": None, "high": None}
    assert data["ci"]["low"]["wald"] == [None, None]
    width = x.max() - x.min()
    reach = width * np.expm1(3.841458820694124 / 400)  # 2 n log(width'/width) = chi2(0.95, 1)
    assert data["ci"]["high"]["profile"] == pytest.approx([x.max(), x.max() + reach], rel=1e-12)
    assert "not a regular model" in data["ci_note"]
    assert "AD" in data["gof"]["note"] and "ad" not in data["gof"]


def test_cauchy_keeps_the_best_of_several_local_optima():
    # two far-apart clusters: the likelihood in mu has a local maximum at each
    x = np.concatenate([np.full(30, -50.0) + np.linspace(-1, 1, 30), np.linspace(99, 101, 70)])
    result = mlfit.fit(x, "cauchy")
    assert result.estimate["mu"] == pytest.approx(100, abs=1.5)
    assert "(the best of 3 starts)" in result.numerical.message  # two spreads, and the best grid point
    for mu in (-50.0, 25.0):  # no other start does better
        assert result.nll_at({"mu": mu, "gamma": result.estimate["gamma"]}) > result.nll


def test_the_python_api_validates_its_options():
    with pytest.raises(UsageError, match="level must lie strictly between 0 and 1"):
        mlfit.fit([1.0, 2.0, 4.0], "gamma", level=1.5)
    with pytest.raises(UsageError, match="unknown fit option bootstraps"):
        mlfit.fit([1.0, 2.0, 4.0], "gamma", bootstraps=9)
    with pytest.raises(UsageError, match="--bootstrap 9: a 0.95 percentile interval needs at least 40"):
        mlfit.fit([1.0, 2.0, 4.0], "gamma", bootstrap=9)  # the command line's words, from the library
    with pytest.raises(UsageError, match="2 weights for 3 values"):
        mlfit.fit([1.0, 2.0, 4.0], "gamma", weights=[1, 2])
    with pytest.raises(UsageError, match="unknown distribution 'gompertz'"):
        mlfit.fit([1.0, 2.0, 4.0], "gompertz")


def test_a_result_answers_questions_without_refitting():
    x = np.random.default_rng(5).gamma(3.0, 2.0, 400)
    result = mlfit.fit(x, "gamma", weights=np.ones(400), level=0.9)
    assert repr(result).startswith("<FitResult gamma(shape=") and "n=400" in repr(result)
    assert result.nll_at(result.estimate) == pytest.approx(result.nll, rel=1e-14)
    assert result.nll_at({"shape": 3.0, "rate": 0.5}) > result.nll
    at_99 = result.conf_int(0.99)
    assert result.conf_int().equals(result.conf_int(0.9))  # the fit's own level, 0.9
    for name in ("shape", "rate"):
        narrow, wide = result.intervals()[name]["profile"], at_99.loc[name, ["profile_lower", "profile_upper"]]
        assert wide.iloc[0] < narrow[0] < narrow[1] < wide.iloc[1]
        assert result.intervals(0.99)[name]["wald"] == list(at_99.loc[name, ["lower", "upper"]])
    text = result.summary()
    assert "gamma fit of 'x'" in text and "root of the score equation" in text and "shape" in text
    assert result._repr_html_().startswith("<pre>")


def test_categorical_probabilities_by_label():
    result = mlfit.fit(["a", "b", "b", "c", "b"], "categorical")
    assert result.probabilities == pytest.approx({"a": 0.2, "b": 0.6, "c": 0.2})
    assert mlfit.fit([1.0, 2.0], "normal").probabilities is None
