"""mlfit compare: which families are tried, how they are ranked, what happens to a family that cannot fit."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mlfit.cli import app
from mlfit.compare import candidate_families, compare_file

runner = CliRunner()


def write_column(tmp_path, name, values):
    path = tmp_path / "data.csv"
    path.write_text(name + "\n" + "\n".join(str(v) for v in values) + "\n")
    return path


@pytest.mark.parametrize("values, expected", [
    (["0", "1", "1"], ["bernoulli", "poisson", "categorical"]),
    (["true", "FALSE"], ["bernoulli", "categorical"]),
    (["0", "3", "12"], ["poisson", "categorical"]),
    (["0.5", "-3", "2"], ["normal", "laplace"]),
    (["-1", "2"], ["normal", "laplace"]),
    (["red", "3"], ["categorical"]),
])
def test_candidates_follow_the_support(values, expected):
    assert candidate_families(np.array(values, dtype=object)) == expected


def test_laplace_data_ranks_laplace_first(tmp_path):
    path = write_column(tmp_path, "x", np.random.default_rng(0).laplace(3, 2, 2000))
    ranking = compare_file(str(path))
    assert [c.distribution for c in ranking.candidates] == ["laplace", "normal"]
    assert ranking.winner.distribution == "laplace"


def test_json_ranking_with_weights_and_a_family_that_cannot_fit(tmp_path):
    counts = np.random.default_rng(1).poisson(2, 300)
    path = write_column(tmp_path, "goals", counts)
    result = runner.invoke(app, ["compare", str(path), "--column", "goals", "--dist", "poisson",
                                 "--dist", "bernoulli", "--dist", "categorical", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    fitted = [f for f in data["fits"] if f["fitted"]]
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
    ([["0", "1"], ["3", "0"]], ["poisson", "categorical"]),
    ([["0", "1"], ["3"], ["2.5"]], ["normal", "laplace"]),
    ([["true"], ["1"]], ["categorical"]),
    ([["4"], [], ["x"]], ["categorical"]),
])
def test_the_families_of_a_column_read_in_chunks(parts, expected):
    from mlfit.compare import FAMILIES_BY_KIND, joined_kind, kind_of

    kind = None
    for part in parts:
        kind = joined_kind(kind, kind_of(np.array(part, dtype=object)))
    assert FAMILIES_BY_KIND[kind] == expected == candidate_families(np.array(sum(parts, []), dtype=object))


def test_compare_streams_past_the_in_memory_limit(tmp_path, monkeypatch):
    import mlfit.api
    import mlfit.data

    values = [str(v) for v in np.random.default_rng(5).poisson(2, 400)]
    values[390] = "2.5"  # one late non-integer: normal and laplace, though every chunk before was counts
    path = write_column(tmp_path, "x", values)
    whole = compare_file(str(path)).to_dict()
    monkeypatch.setattr(mlfit.data, "CHUNK_BYTES", 64)
    monkeypatch.setattr(mlfit.api, "IN_MEMORY_ROWS", 50)
    monkeypatch.setattr(mlfit.api, "PREFIX_ROWS", 30)
    streamed = compare_file(str(path)).to_dict()
    assert [f["distribution"] for f in streamed["fits"]] == [f["distribution"] for f in whole["fits"]]
    assert {f["distribution"] for f in streamed["fits"]} == {"normal", "laplace"}
    for ours, theirs in zip(streamed["fits"], whole["fits"]):
        assert ours["closed_form"]["params"] == pytest.approx(theirs["closed_form"]["params"], rel=1e-12)
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
    (["1", "0", "1"], ["bernoulli", "poisson", "categorical"]),
    (["1", "x", "1"], ["categorical"]),
])
def test_compare_chooses_from_the_file_as_written(tmp_path, cells, expected):
    path = write_column(tmp_path, "made", cells)
    ranking = compare_file(str(path))
    assert sorted(c.distribution for c in ranking.candidates) == sorted(expected)
