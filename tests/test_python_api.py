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
