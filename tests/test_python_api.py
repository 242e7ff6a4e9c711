"""The Python API on data in memory: what the command line gives for a file, a Python user gets for a
list, an array or a pandas Series (whose name is the column's)."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app

runner = CliRunner()
BEEF = Path(__file__).resolve().parent / "data" / "groundbeef.csv"


@pytest.fixture(scope="module")
def serving():
    return pd.read_csv(BEEF)["serving"]


def test_a_series_name_is_the_column(serving):
    assert mlfit.fit(serving, "gamma").column == "serving"
    assert mlfit.fit(serving.to_numpy(), "gamma").column == "x"
    assert mlfit.fit(serving, "gamma", name="grams").column == "grams"


def test_compare_in_memory_ranks_as_the_command_line_does(serving):
    ranking = mlfit.compare(serving)
    assert ranking.best == "gamma"  # fitdistrplus's choice for groundbeef
    cli = json.loads(runner.invoke(app, ["compare", str(BEEF), "-c", "serving", "-f", "json"]).stdout)
    ours = ranking.to_dict()
    assert ours["winner"] == cli["winner"] and ours["column"] == "serving"
    assert [f["distribution"] for f in ours["fits"]] == [f["distribution"] for f in cli["fits"]]
    for a, b in zip(ours["fits"], cli["fits"]):
        if b.get("nll") is not None:
            assert a["nll"] == pytest.approx(b["nll"], rel=1e-12), a["distribution"]
    table = ranking.table
    assert list(table.index[:2]) == ["gamma", "weibull"]
    assert table.loc["gamma", "aic"] == pytest.approx(mlfit.fit(serving, "gamma").aic, rel=1e-12)
    assert table["weight"].sum() == pytest.approx(1.0)
    assert "which family explains 'serving'" in ranking.summary()
    assert "<table" in ranking._repr_html_() and len(repr(ranking)) < 400


def test_compare_in_memory_takes_the_families_given_and_lists_the_ones_that_cannot_fit():
    ranking = mlfit.compare([0.5, 1.5, -2.0, 3.0], ["normal", "gamma"])
    assert ranking.best == "normal"
    failed = ranking.table.loc["gamma"]
    assert not failed["ranked"] and "-2" in failed["note"]


def test_describe_in_memory_equals_the_command_lines_json(serving):
    cli = json.loads(runner.invoke(app, ["describe", str(BEEF), "-c", "serving", "-f", "json"]).stdout)
    ours = mlfit.describe(serving).to_dict()
    assert ours["column"] == "serving"
    assert {k: v for k, v in ours.items() if k != "file"} == {k: v for k, v in cli.items() if k != "file"}
    with_missing = mlfit.describe([1.0, None, 2.5, np.nan, 4.0, 3.0]).to_dict()
    assert with_missing["n"] == 4 and with_missing["dropped"] == 2


def test_regress_in_memory_equals_the_command_lines_json():
    cars = Path(__file__).resolve().parent.parent / "sample_data" / "cars.csv"
    import mlfit.regression  # (the package's import must not hide the function)

    frame = pd.read_csv(cars)
    ours = mlfit.regress(frame, "mpg ~ wt + hp", dist="normal").to_dict()
    cli = json.loads(runner.invoke(app, ["regress", str(cars), "mpg ~ wt + hp", "-d", "normal", "-f", "json"]).stdout)
    for key in ("coef", "se"):
        for term, value in cli[key].items():
            assert ours[key][term] == pytest.approx(value, rel=1e-12), (key, term)
    assert ours["log_likelihood"] == pytest.approx(cli["log_likelihood"], rel=1e-12)
    assert mlfit.regress(str(cars), "mpg ~ wt + hp", "normal").to_dict()["coef"] == cli["coef"]


# --- one results protocol: params, bse, cov_params(), conf_int(level) as pandas objects ----------
def test_a_fits_estimates_are_pandas_objects_consistent_with_each_other_and_the_json(serving):
    from scipy import stats

    from conftest import numerical_hessian

    result = mlfit.fit(serving, "gamma")
    data = result.to_dict()
    assert list(result.params.index) == ["shape", "rate"] and result.params.name == "estimate"
    assert result.params.to_dict() == data["params"]
    assert result.bse.to_dict() == data["stderr"]
    covariance = result.cov_params()
    assert np.allclose(np.diag(covariance), result.bse**2, rtol=1e-15, atol=0)
    # the off-diagonal against an independent reference: central differences of the NLL
    independent = np.linalg.inv(numerical_hessian(result.family, result.stats, result.estimate))
    assert covariance.loc["shape", "rate"] == pytest.approx(independent[0, 1], rel=1e-4)
    assert covariance.loc["shape", "rate"] == covariance.loc["rate", "shape"] > 0
    at_90 = result.conf_int(0.9)
    z = stats.norm.ppf(0.95)
    assert list(at_90.columns) == ["lower", "upper", "profile_lower", "profile_upper"]
    assert np.allclose(at_90["lower"], result.params - z * result.bse, rtol=1e-14)
    assert np.allclose(at_90["upper"], result.params + z * result.bse, rtol=1e-14)
    for name in ("shape", "rate"):
        assert list(at_90.loc[name, ["profile_lower", "profile_upper"]]) == result.intervals(0.9)[name]["profile"]
    assert result.conf_int().equals(result.conf_int(0.95))
    assert len(repr(result)) < 400 and result._repr_html_().startswith("<pre>")


def test_a_categorical_fits_covariance_is_the_multinomial_one():
    labels = ["a"] * 5 + ["b"] * 3 + ["c"] * 2
    result = mlfit.fit(labels, "categorical")
    assert list(result.params.index) == ["p[a]", "p[b]", "p[c]"]
    p = np.array([0.5, 0.3, 0.2])
    assert np.allclose(result.params, p, rtol=1e-9)
    assert np.allclose(result.cov_params(), (np.diag(p) - np.outer(p, p)) / 10, rtol=1e-8, atol=1e-15)


def test_a_held_parameter_has_no_standard_error_and_no_covariance():
    result = mlfit.fit([1.0, 2.0, 4.0, 3.5, 2.2], "gamma", fix={"shape": "2"})
    assert result.params["shape"] == 2.0 and np.isnan(result.bse["shape"]) and result.bse["rate"] > 0
    covariance = result.cov_params()
    assert np.isnan(covariance.loc["shape"]).all() and covariance.loc["rate", "rate"] == pytest.approx(result.bse["rate"] ** 2, rel=1e-15)


def test_a_regressions_estimates_are_labelled_by_term_and_equal_the_json():
    from scipy import stats

    cars = Path(__file__).resolve().parent.parent / "sample_data" / "cars.csv"
    result = mlfit.regress(pd.read_csv(cars), "mpg ~ wt + hp", dist="normal")
    data = result.to_dict()
    assert list(result.params.index) == ["Intercept", "wt", "hp", "log_sigma: Intercept"]
    for term in ("Intercept", "wt", "hp"):
        assert result.params[term] == data["coef"][term] and result.bse[term] == data["se"][term]
        assert list(result.conf_int().loc[term, ["lower", "upper"]]) == pytest.approx(data["ci"]["wald"][term],
                                                                                    rel=1e-14)
    assert np.allclose(np.diag(result.cov_params()), result.bse**2, rtol=1e-14)
    z = stats.norm.ppf(0.95)
    assert np.allclose(result.conf_int(0.9)["upper"], result.params + z * result.bse, rtol=1e-14)
    assert len(repr(result)) < 400 and 'id="coefficients"' in result._repr_html_()  # the report's content


def test_a_comparisons_estimates_are_its_winners(serving):
    ranking = mlfit.compare(serving, ["gamma", "normal", "weibull"])
    winner = mlfit.fit(serving, "gamma")
    assert ranking.params.equals(winner.params) and ranking.bse.equals(winner.bse)
    assert ranking.conf_int(0.9).equals(winner.conf_int(0.9)) and ranking.cov_params().equals(winner.cov_params())
    with pytest.raises(mlfit.MlfitError, match="no family was ranked"):
        mlfit.compare([-1.0, 2.0, 3.0], ["gamma"]).params


def test_a_description_reads_as_the_table_view(serving):
    description = mlfit.describe(serving)
    assert "Cullen-Frey" in description.summary() and "<pre>" in description._repr_html_()
    assert repr(description).startswith("<Description of 'serving'") and len(repr(description)) <= 400


# --- every option of mlfit fit from Python, with the command line's result -----------------------
RIVERS = Path(__file__).resolve().parent.parent / "sample_data" / "rivers.csv"
REMISSION = Path(__file__).resolve().parent.parent / "sample_data" / "remission.csv"
SALINITY = Path(__file__).resolve().parent.parent / "sample_data" / "salinity.csv"


def cli_json(*args):
    result = runner.invoke(app, [str(a) for a in args] + ["-f", "json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_the_bootstrap_and_quantiles_from_python_equal_the_command_lines():
    miles = pd.read_csv(RIVERS)["miles"]
    ours = mlfit.fit(miles, "gamma", bootstrap=50, quantiles=[0.5, 0.9], seed=3)
    cli = cli_json("fit", RIVERS, "-d", "gamma", "-c", "miles", "--bootstrap", "50", "--quantile", "0.5,0.9",
                   "--seed", "3")
    data = ours.to_dict()
    assert data["bootstrap"] == {**cli["bootstrap"]} and data["quantiles"] == cli["quantiles"]
    assert ours.resampled.converged == 50 and set(data["quantiles"]) == {"0.5", "0.9"}


def test_another_method_from_python_equals_the_command_lines():
    miles = pd.read_csv(RIVERS)["miles"]
    ours = mlfit.fit(miles, "gamma", method="cvm").to_dict()
    cli = cli_json("fit", RIVERS, "-d", "gamma", "-c", "miles", "--method", "cvm")
    assert ours["params"] == pytest.approx(cli["params"], rel=1e-12) and ours["method"] == "cvm"
    assert ours["criterion"]["value"] == pytest.approx(cli["criterion"]["value"], rel=1e-12)


def test_censored_data_from_python_equal_the_command_lines():
    frame = pd.read_csv(REMISSION)
    ours = mlfit.fit(frame["weeks"], "weibull", events=frame["relapsed"]).to_dict()
    cli = cli_json("fit", REMISSION, "-c", "weeks", "--censored", "relapsed", "-d", "weibull")
    assert ours["params"] == pytest.approx(cli["params"], rel=1e-12) and ours["censoring"] == cli["censoring"]
    assert ours["column"] == "weeks"
    from mlfit.censored import CensoredData

    bounds = pd.read_csv(SALINITY)
    by_bounds = mlfit.fit(CensoredData.of(bounds["left"], bounds["right"]), "lognormal").to_dict()
    cli = cli_json("fit", SALINITY, "--left", "left", "--right", "right", "-d", "lnorm")
    assert by_bounds["params"] == pytest.approx(cli["params"], rel=1e-12)
    assert mlfit.fit_file(str(SALINITY), "lognormal", left="left", right="right").to_dict()["nll"] == cli["nll"]


def test_options_that_do_not_go_together_are_refused_by_the_library_in_the_command_lines_words():
    miles = pd.read_csv(RIVERS)["miles"]
    with pytest.raises(mlfit.UsageError, match="--method cvm does not go with --weights"):
        mlfit.fit(miles, "gamma", method="cvm", weights=np.ones(len(miles)))
    with pytest.raises(mlfit.UsageError, match="--probs goes with --method quantile"):
        mlfit.fit(miles, "gamma", probs=[0.5])
    with pytest.raises(mlfit.UsageError, match="not offered for censored data"):
        mlfit.fit(miles, "weibull", events=np.ones(len(miles)), bootstrap=100)
    with pytest.raises(mlfit.UsageError, match="--quantile: each probability lies strictly between 0 and 1"):
        mlfit.fit(miles, "gamma", quantiles=[1.5])
    cli = runner.invoke(app, ["fit", str(RIVERS), "-d", "gamma", "-c", "miles", "--method", "cvm", "-w", "miles"])
    assert cli.exit_code == 2 and "--method cvm does not go with --weights" in cli.stderr


# --- score-model and calibrate from Python, on a file or a table in memory ----------------------
PREDICTIONS = Path(__file__).resolve().parent.parent / "sample_data" / "predictions.csv"


def test_score_model_in_memory_equals_the_command_lines_json():
    cli = cli_json("score-model", PREDICTIONS, "-d", "normal", "--mean", "mu", "--log-var", "log_var", "-t",
                   "distance")
    frame = pd.read_csv(PREDICTIONS)
    for data in (frame, str(PREDICTIONS)):
        ours = mlfit.score_model(data, "normal", "distance", mean="mu", log_var="log_var").to_dict()
        assert {k: v for k, v in ours.items() if k != "file"} == {k: v for k, v in cli.items() if k != "file"}
    scored = mlfit.score_model(frame, "categorical", "shot", logits="logit_*")
    assert scored.source == "<data>" and "<data>" in repr(scored) and len(repr(scored)) < 400
    assert "cross-entropy" in scored.summary() and "<pre>" in scored._repr_html_()
    with pytest.raises(mlfit.UsageError, match="--log-b is not for normal predictions"):
        mlfit.score_model(frame, "normal", "distance", mean="mu", log_b="log_var")


def test_calibrate_in_memory_equals_the_command_lines_json_and_answers_as_an_estimate():
    from scipy import stats

    cli = cli_json("calibrate", PREDICTIONS, "-d", "categorical", "--logits", "logit_*", "-t", "shot")
    result = mlfit.calibrate(pd.read_csv(PREDICTIONS), "categorical", "shot", logits="logit_*")
    ours = result.to_dict()
    assert {k: v for k, v in ours.items() if k != "file"} == {k: v for k, v in cli.items() if k != "file"}
    assert result.params["temperature"] == cli["temperature"] and result.bse["temperature"] == cli["stderr"]
    interval = result.conf_int()
    assert list(interval.loc["temperature", ["lower", "upper"]]) == pytest.approx(cli["ci"]["wald"], rel=1e-12)
    assert list(interval.loc["temperature", ["profile_lower", "profile_upper"]]) == cli["ci"]["profile"]
    z = stats.norm.ppf(0.95)
    assert result.conf_int(0.9).loc["temperature", "upper"] == pytest.approx(
        cli["temperature"] + z * cli["stderr"], rel=1e-14)
    assert result.log_likelihood == -cli["nll"] and "<pre>" in result._repr_html_() and len(repr(result)) < 400
    with pytest.raises(mlfit.UsageError, match="calibrate scales a classifier's logits"):
        mlfit.calibrate(str(PREDICTIONS), "poisson", "goals", logit="log_rate")


def test_every_result_draws_itself_as_its_command_does(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    frame = pd.read_csv(Path(__file__).resolve().parent.parent / "sample_data" / "cars.csv")
    miles = pd.read_csv(RIVERS)["miles"]
    drawn = {
        "fit": mlfit.fit(miles, "gamma"),
        "compare": mlfit.compare(miles, ["gamma", "weibull"]),
        "describe": mlfit.describe(miles),
        "regress": mlfit.regress(frame, "mpg ~ wt", dist="normal"),
        "calibrate": mlfit.calibrate(pd.read_csv(PREDICTIONS), "bernoulli", "made", logit="made_logit"),
        "censored": mlfit.fit(pd.read_csv(REMISSION)["weeks"], "weibull", events=pd.read_csv(REMISSION)["relapsed"]),
    }
    for name, result in drawn.items():
        assert isinstance(result.plot(), Figure), name
        path = tmp_path / f"{name}.png"
        result.plot(str(path))
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_a_missing_event_is_a_missing_row():
    with_gap = mlfit.fit([5.0, 8.0, 12.0, 3.0, 9.0], "weibull", events=[1, 0, 1, np.nan, 1])
    without = mlfit.fit([5.0, 8.0, 12.0, 9.0], "weibull", events=[1, 0, 1, 1])
    assert with_gap.dropped == 1 and with_gap.nll == without.nll
    with pytest.raises(mlfit.UsageError, match="events are 1 .observed. or 0"):
        mlfit.fit([5.0, 8.0], "weibull", events=[1, 2])


def test_compare_and_describe_take_a_file_as_the_command_line_does(serving):
    by_file, in_memory = mlfit.compare(str(BEEF), column="serving"), mlfit.compare(serving)
    assert by_file.best == in_memory.best == "gamma"
    assert list(by_file.table.index) == list(in_memory.table.index)
    np.testing.assert_allclose(by_file.table["aic"].astype(float), in_memory.table["aic"].astype(float), rtol=1e-12)
    assert mlfit.describe(str(BEEF), "serving").to_dict()["n"] == len(serving)
    cli = cli_json("compare", REMISSION, "-c", "weeks", "--censored", "relapsed", "-d", "weibull", "-d", "lognormal")
    frame = pd.read_csv(REMISSION)
    ours = mlfit.compare(frame["weeks"], ["weibull", "lognormal"], events=frame["relapsed"]).to_dict()
    assert [f["distribution"] for f in ours["fits"]] == [f["distribution"] for f in cli["fits"]]
    assert [f["aic"] for f in ours["fits"]] == pytest.approx([f["aic"] for f in cli["fits"]], rel=1e-12)


def test_fit_file_keeps_values_where_asked_and_says_why_not_on_a_cluster():
    goals = Path(__file__).resolve().parent.parent / "sample_data" / "goals.csv"
    assert mlfit.fit_file(str(goals), "poisson", "home_goals", keep_values=True).values is not None
    with pytest.raises(mlfit.UsageError, match="keep_values does not go with scheduler"):
        mlfit.fit_file(str(goals), "poisson", "home_goals", scheduler="local", keep_values=True)


def test_a_rescaled_fit_has_the_correlation_of_the_fit_at_scale_one():
    x = np.random.default_rng(3).gamma(3.0, 2.0, 200)
    at_one, far = mlfit.fit(x, "gamma"), mlfit.fit(x * 2.0**1000, "gamma")

    def correlation(result):
        return result.cov_params().loc["shape", "rate"] / (result.bse["shape"] * result.bse["rate"])

    assert far.scale != 1.0 and correlation(far) == pytest.approx(correlation(at_one), rel=1e-9)
    assert correlation(at_one) > 0.9  # (shape and rate of a gamma move together)


def test_censored_columns_are_read_by_one_set_of_rules_for_fit_and_compare():
    for command in ("fit", "compare"):
        result = runner.invoke(app, [command, str(SALINITY), "--left", "left", "--right", "right", "-c", "left",
                                     "-d", "lognormal"])
        assert result.exit_code == 2, command
        assert result.stderr == "mlfit: error: with --left and --right the rows are those two columns: leave out " \
                                "--column\n", command
