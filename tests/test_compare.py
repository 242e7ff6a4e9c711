"""mlfit compare: which families are tried, how they are ranked, what happens to a family that cannot fit."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mlfit.cli import app
from mlfit.ranking import candidate_families, compare_file

runner = CliRunner()


def write_column(tmp_path, name, values):
    path = tmp_path / "data.csv"
    path.write_text(name + "\n" + "\n".join(str(v) for v in values) + "\n")
    return path


REAL_LINE = ["normal", "laplace", "uniform", "logistic", "cauchy", "student_t"]
COUNTS = ["categorical", "poisson", "geometric", "negbinomial"]


@pytest.mark.parametrize("values, expected", [
    (["0", "1", "1"], ["bernoulli", *COUNTS]),  # no density for a yes/no column
    (["true", "FALSE"], ["bernoulli", "categorical"]),
    (["0", "3", "12"], ["normal", "laplace", "categorical", "poisson", "exponential", "geometric", "negbinomial",
                        *REAL_LINE[2:]]),
    (["1", "3", "12"], ["normal", "laplace", "categorical", "poisson", "exponential", "geometric", "lognormal",
                        "gamma", "weibull", "negbinomial", *REAL_LINE[2:]]),
    (["0.5", "-3", "2"], REAL_LINE),
    (["-1", "2"], REAL_LINE),
    (["0.2", "0.5", "0.9"], ["normal", "laplace", "exponential", "lognormal", "gamma", "weibull", "beta",
                             *REAL_LINE[2:]]),
    (["red", "3"], ["categorical"]),
])
def test_candidates_follow_the_support(values, expected):
    assert candidate_families(np.array(values, dtype=object)) == expected


def test_binomial_is_a_candidate_only_with_trials():
    values = np.array(["0", "1", "3"], dtype=object)
    assert "binomial" not in candidate_families(values)
    assert "binomial" in candidate_families(values, trials=3)
    assert "binomial" not in candidate_families(values, trials=2)  # 3 successes of 2 trials


def test_laplace_data_ranks_laplace_first(tmp_path):
    path = write_column(tmp_path, "x", np.random.default_rng(0).laplace(3, 2, 2000))
    ranking = compare_file(str(path))
    assert sorted(c.distribution for c in ranking.candidates) == sorted(REAL_LINE)
    assert ranking.winner.distribution == "laplace"


def test_json_ranking_with_weights_and_a_family_that_cannot_fit(tmp_path):
    counts = np.random.default_rng(1).poisson(2, 300)
    path = write_column(tmp_path, "goals", counts)
    result = runner.invoke(app, ["compare", str(path), "--column", "goals", "--dist", "poisson",
                                 "--dist", "bernoulli", "--dist", "categorical", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    fitted = [f for f in data["fits"] if f["fitted"] and f["ranked"]]
    saturated = [f for f in data["fits"] if f.get("saturated")]
    assert [f["distribution"] for f in saturated] == ["categorical"]  # on counts: the ceiling, not a candidate
    assert [f["distribution"] for f in fitted] == sorted(
        (f["distribution"] for f in fitted), key=lambda name: next(g["aic"] for g in fitted if g["distribution"] == name))
    assert data["winner"] == fitted[0]["distribution"] and fitted[0]["rank"] == 1
    assert fitted[0]["delta_aic"] == 0 and all(f["delta_aic"] >= 0 for f in fitted)
    assert sum(f["akaike_weight"] for f in fitted) == pytest.approx(1)
    weights = np.exp(-np.array([f["delta_aic"] for f in fitted]) / 2)
    np.testing.assert_allclose([f["akaike_weight"] for f in fitted], weights / weights.sum(), rtol=1e-12)
    failed = [f for f in data["fits"] if not f["fitted"]]
    assert [f["distribution"] for f in failed] == ["bernoulli"]
    assert "is not 0 or 1" in failed[0]["error"]
    for fit in fitted:
        assert {"aic", "bic", "log_likelihood", "k", "gof", "params"} <= fit.keys()


def test_table_marks_the_winner_and_lists_failures(tmp_path):
    path = write_column(tmp_path, "x", np.random.default_rng(2).normal(size=200))
    result = runner.invoke(app, ["compare", str(path), "--dist", "normal", "--dist", "poisson"])
    assert result.exit_code == 0, result.stderr
    assert "best by AIC: normal" in result.stdout
    assert "poisson cannot fit" in result.stdout and "is not a non-negative integer count" in result.stdout


def test_no_family_can_fit_is_bad_data(tmp_path):
    path = write_column(tmp_path, "x", [1.5, 2.5, 3.5])
    result = runner.invoke(app, ["compare", str(path), "--dist", "poisson", "--dist", "bernoulli", "--format", "json"])
    assert result.exit_code == 1
    assert "no family could be fitted" in result.stderr
    assert all(not f["fitted"] for f in json.loads(result.stdout)["fits"])


def test_fit_json_carries_the_inference_fields(tmp_path):
    path = write_column(tmp_path, "x", np.random.default_rng(3).normal(size=100))
    result = runner.invoke(app, ["fit", str(path), "--dist", "normal", "--format", "json", "--level", "0.9",
                                 "--gof-bootstrap", "19"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["level"] == 0.9 and data["k"] == 2
    assert set(data["stderr"]) == {"mu", "sigma"}
    assert set(data["ci"]["mu"]) == {"wald", "profile"}
    assert {"ks", "cvm", "ad", "ks_pvalue", "cvm_pvalue", "ad_pvalue"} <= data["gof"].keys()


@pytest.mark.parametrize("level", ["0", "1", "1.5", "-0.2"])
def test_level_outside_zero_one_is_a_usage_error(tmp_path, level):
    path = write_column(tmp_path, "x", [1, 2, 3])
    result = runner.invoke(app, ["fit", str(path), "--dist", "normal", "--level", level])
    assert result.exit_code == 2 and "--level" in result.stderr and result.stdout == ""


@pytest.mark.parametrize("parts, expected", [
    ([["0", "1"], ["3", "0"]], ["normal", "laplace", "categorical", "poisson", "exponential", "geometric",
                                "negbinomial", *REAL_LINE[2:]]),
    ([["0", "1"], ["3"], ["2.5"]], ["normal", "laplace", "exponential", *REAL_LINE[2:]]),
    ([["true"], ["1"]], ["bernoulli", "categorical"]),  # what fit --dist bernoulli takes
    ([["4"], [], ["x"]], ["categorical"]),
])
def test_the_families_of_a_column_read_in_chunks(parts, expected):
    from mlfit.families import registered_families
    from mlfit.ranking import Survey
    from mlfit.columns import Column

    found = Survey(registered_families())
    for part in parts:
        found.add(Column("f", "x", np.array(part, dtype=object), np.arange(1, len(part) + 1), 0))
    assert found.candidates == expected == candidate_families(np.array(sum(parts, []), dtype=object))


def test_compare_streams_past_the_in_memory_limit(tmp_path, monkeypatch):
    import mlfit.fits
    import mlfit.streaming
    import mlfit.csvtext

    values = [str(v) for v in np.random.default_rng(5).poisson(2, 400)]
    values[390] = "2.5"  # one late non-integer: normal and laplace, though every chunk before was counts
    path = write_column(tmp_path, "x", values)
    whole = compare_file(str(path)).to_dict()
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 64)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 50)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 30)
    streamed = compare_file(str(path)).to_dict()
    assert {f["distribution"] for f in streamed["fits"]} == {"normal", "laplace", "exponential", *REAL_LINE}
    # logistic, cauchy and student_t have no statistic smaller than the values: past the in-memory
    # limit their values go to a temporary file and Newton's method takes a pass a step; every
    # family ranks as in memory
    assert all(f["fitted"] for f in streamed["fits"])
    assert [f["distribution"] for f in streamed["fits"]] == [f["distribution"] for f in whole["fits"]]
    for ours, theirs in zip(streamed["fits"], whole["fits"]):
        if theirs["reference"]["params"]:
            assert ours["reference"]["params"] == pytest.approx(theirs["reference"]["params"], rel=1e-12)
        assert ours["aic"] == pytest.approx(theirs["aic"], rel=1e-12)
        assert ours["delta_aic"] == pytest.approx(theirs["delta_aic"], rel=1e-6, abs=1e-6)


def test_a_broken_file_is_an_error_not_a_family_that_cannot_fit(tmp_path):
    path = tmp_path / "ragged.csv"
    path.write_text("x,y\n" + "1,2\n" * 50 + "3,4,5\n")
    result = runner.invoke(app, ["compare", str(path), "--column", "x", "--dist", "poisson", "--dist", "normal"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"mlfit: error: {path}: not a valid CSV: row 51 has more cells than the header's 2\n"


@pytest.mark.parametrize("cells, expected", [
    (["true", "FALSE", "True"], ["bernoulli", "categorical"]),
    (["true", "", "false"], ["bernoulli", "categorical"]),  # pandas' own booleans, and with a gap
    (["1", "0", "1"], ["bernoulli", *COUNTS]),
    (["1", "x", "1"], ["categorical", *REAL_LINE]),  # mostly numbers: normal says which cell stops it
    (["a", "x", "1"], ["categorical"]),
])
def test_compare_chooses_from_the_file_as_written(tmp_path, cells, expected):
    path = write_column(tmp_path, "made", cells)
    ranking = compare_file(str(path))
    assert sorted(c.distribution for c in ranking.candidates) == sorted(expected)


@pytest.mark.parametrize("cells", [["TRUE", "false", "1", "0"], ["True", "0", "FALSE", "1.0"]])
def test_compare_proposes_bernoulli_exactly_when_fit_accepts_it(tmp_path, cells):
    path = write_column(tmp_path, "made", cells * 5)
    ranking = compare_file(str(path))
    assert ranking.winner.distribution == "bernoulli"
    fitted = runner.invoke(app, ["fit", str(path), "-d", "bernoulli", "-f", "json"])
    assert json.loads(fitted.stdout)["params"]["p"] == pytest.approx(0.5)


def test_a_numeric_column_with_a_bad_cell_says_why_each_family_was_not_fitted(tmp_path):
    values = [f"{v:.3f}" for v in np.random.default_rng(6).normal(10, 2, 300)]
    values[199] = "9 2"
    path = write_column(tmp_path, "x", values)
    result = runner.invoke(app, ["compare", str(path), "-f", "json"])
    assert result.exit_code == 1 and "no family could be ranked" in result.stderr  # categorical: 300 labels
    data = json.loads(result.stdout)
    errors = {f["distribution"]: f.get("error") for f in data["fits"]}
    assert errors["normal"] == f"{path}: column 'x', row 200: '9 2' is not a number"
    assert errors["laplace"] == f"{path}: column 'x', row 200: '9 2' is not a number"
    assert "looks numeric (100% of its cells are numbers), but row 200: '9 2' is not a number" in data["note"]
    table = runner.invoke(app, ["compare", str(path)])
    assert "normal cannot fit: " in table.stdout and "looks numeric" in table.stdout


def test_a_saturated_categorical_is_listed_but_never_wins(tmp_path):
    values = np.random.default_rng(7).choice(10**7, 3000, replace=False)  # distinct integers
    path = write_column(tmp_path, "id", values)
    result = runner.invoke(app, ["compare", str(path), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["winner"] == "uniform"  # (they were drawn uniformly)
    categorical = next(f for f in data["fits"] if f["distribution"] == "categorical")
    assert categorical["ranked"] is False and categorical["rank"] is None
    assert "3,000 categories for 3,000 rows" in categorical["warning"]


def test_the_verdict_says_whether_any_family_fits(tmp_path):
    counts = np.random.default_rng(8).poisson(3, 400)
    path = write_column(tmp_path, "goals", counts)
    data = json.loads(runner.invoke(app, ["compare", str(path), "-f", "json"]).stdout)
    poisson = next(f for f in data["fits"] if f["distribution"] == "poisson")
    assert data["verdict"]["best_by_aic"] == "poisson"
    assert (poisson["gof"]["chi2_pvalue"] >= 0.05) == ("poisson" in data["verdict"]["accepted"])
    # a mixture of two far-apart normals: neither normal nor laplace fits (bootstrap p-values)
    rng = np.random.default_rng(9)
    bimodal = write_column(tmp_path, "x", np.concatenate([rng.normal(0, 1, 150), rng.normal(8, 1, 150)]).round(4))
    two = ["--dist", "normal", "--dist", "laplace"]  # (every family's 199 refits would take 20 s)
    result = runner.invoke(app, ["compare", str(bimodal), *two, "--gof-bootstrap", "199", "--level", "0.99", "-f", "json"])
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["accepted"] == [] and sorted(verdict["rejected"]) == ["laplace", "normal"]
    assert verdict["text"].endswith("no family fits: every goodness-of-fit p < 0.01")
    table = runner.invoke(app, ["compare", str(bimodal), *two, "--gof-bootstrap", "199", "--level", "0.99"])
    assert "verdict: best by AIC: " in table.stdout and "no family fits" in table.stdout
    untested = json.loads(runner.invoke(app, ["compare", str(bimodal), "-f", "json"]).stdout)["verdict"]
    assert untested["untested"] and "not tested" in untested["text"]


def test_numbers_are_never_cut_in_a_narrow_table(tmp_path):
    values = np.random.default_rng(10).choice(10**9, 500, replace=False)
    path = write_column(tmp_path, "x", values)
    result = runner.invoke(app, ["compare", str(path)], env={"COLUMNS": "60"})
    assert result.exit_code == 0, result.stderr
    assert "…" not in result.stdout and "..." not in result.stdout
    data = json.loads(runner.invoke(app, ["compare", str(path), "-f", "json"]).stdout)
    for fit in data["fits"]:
        assert f"{fit['aic']:.6g}" in result.stdout


def test_a_density_on_small_counts_is_listed_but_not_ranked_with_the_count_families(tmp_path):
    counts = np.random.default_rng(11).poisson(1.6, 380)
    ranking = compare_file(str(write_column(tmp_path, "goals", counts)))
    exponential = next(c for c in ranking.candidates if c.distribution == "exponential")
    assert not exponential.ranked and "a density on whole numbers" in exponential.warning
    # its density at 0 goals is its rate, 1/1.6, against the 0.2 a poisson gives the count 0
    x = counts.astype(float)
    rate = 1 / x.mean()
    gap = np.sum(np.log(rate) - rate * x - np.log(np.exp(-rate * np.maximum(x - 0.5, 0)) - np.exp(-rate * (x + 0.5))))
    assert f"{gap:.4g} away" in exponential.warning
    assert ranking.winner.distribution in ("poisson", "negbinomial")


def test_densities_rank_with_counts_spread_over_hundreds_of_values(tmp_path):
    lengths = np.round(np.random.default_rng(12).lognormal(6, 0.7, 300))
    ranking = compare_file(str(write_column(tmp_path, "miles", lengths.astype(int))))
    assert ranking.winner.distribution == "lognormal" and ranking.mixes_densities
    assert all(c.ranked for c in ranking.candidates if c.result is not None and c.distribution != "categorical")
