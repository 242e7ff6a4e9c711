"""Any scipy.stats distribution by name (scipy:NAME): its fit against closed forms and scipy's own
log-densities and fit, a likelihood with no maximum said and never ranked, bad names one line."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app
from mlfit.zoo import compare_scipy, fit_scipy

RIVERS = str(Path(__file__).resolve().parents[1] / "sample_data" / "rivers.csv")


def run(args):
    return CliRunner().invoke(app, args)


def test_the_normal_by_its_scipy_name_is_the_closed_form():
    x = np.random.default_rng(1).normal(3.0, 2.0, 400)
    fit = fit_scipy(x, "scipy:norm")
    assert fit.params["loc"] == pytest.approx(x.mean(), rel=1e-7)
    assert fit.params["scale"] == pytest.approx(x.std(), rel=1e-7)
    n = len(x)
    assert fit.stderr["loc"] == pytest.approx(x.std() / np.sqrt(n), rel=1e-4)
    assert fit.stderr["scale"] == pytest.approx(x.std() / np.sqrt(2 * n), rel=1e-4)


def test_a_poisson_by_its_scipy_name_is_the_mean():
    x = np.random.default_rng(2).poisson(3.3, 300).astype(float)
    fit = fit_scipy(x, "scipy:poisson")
    assert list(fit.params) == ["mu"] and fit.params["mu"] == pytest.approx(x.mean(), rel=1e-7)


@pytest.mark.parametrize("name, truth", [("genextreme", (-0.2, 10.0, 2.0)), ("gumbel_r", (5.0, 1.5)),
                                         ("burr12", (3.0, 2.0, 0.0, 4.0))])
def test_the_fit_is_at_least_scipy_s_own_and_its_nll_is_scipy_s_log_density(name, truth):
    dist = getattr(stats, name)
    x = dist.rvs(*truth, size=600, random_state=7)
    fit = fit_scipy(x, f"scipy:{name}")
    assert fit.nll == pytest.approx(-dist.logpdf(x, *fit.params.values()).sum(), rel=1e-12)
    own = dist.fit(x)
    assert fit.nll <= -dist.logpdf(x, *own).sum() + 1e-9
    assert fit.to_dict()["beats_scipy_by"] >= -1e-9
    assert fit.aic == pytest.approx(2 * fit.nll + 2 * len(truth))


def test_burr12_beats_scipy_s_own_fit_on_the_rivers():
    x = pd.read_csv(RIVERS)["miles"].to_numpy(float)
    fit = fit_scipy(x, "scipy:burr12")
    assert fit.to_dict()["beats_scipy_by"] > 1.0  # scipy's fit stops about 2 nats short


def test_vonmises_on_the_real_line_has_no_maximum_and_is_not_ranked():
    x = pd.read_csv(RIVERS)["miles"].to_numpy(float)
    fit = fit_scipy(x, "scipy:vonmises")
    assert fit.no_maximum and "no maximum" in fit.warnings()[0]
    ranking = compare_scipy(x, ["scipy:norm", "scipy:gumbel_r", "scipy:vonmises", "scipy:lognorm"])
    assert "scipy:vonmises" in [name for name, _ in ranking.unranked]
    aics = [f.aic for f in ranking.fits]
    assert aics == sorted(aics) and ranking.best == "scipy:lognorm"


def test_a_distribution_that_runs_out_of_time_is_listed_with_why():
    x = pd.read_csv(RIVERS)["miles"].to_numpy(float)
    ranking = compare_scipy(x, ["scipy:norm", "scipy:gamma"], budget=1e-4)
    assert all("ran out of its time" in why for _, why in ranking.unranked) and ranking.unranked


def test_the_command_line(tmp_path):
    out = run(["fit", RIVERS, "--column", "miles", "--dist", "scipy:gumbel_r", "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    x = pd.read_csv(RIVERS)["miles"].to_numpy(float)
    assert data["nll"] == pytest.approx(-stats.gumbel_r.logpdf(x, *data["params"].values()).sum(), rel=1e-12)
    assert data["underflow"]["float64"]["first_zero_at"] is not None
    out = run(["compare", RIVERS, "--column", "miles", "--dist", "scipy:norm", "--dist", "scipy:lognorm",
               "--format", "json"])
    assert out.exit_code == 0 and json.loads(out.output)["winner"] == "scipy:lognorm"
    assert mlfit.fit(x, "scipy:gumbel_r").params == data["params"]


@pytest.mark.parametrize("args, code, words", [
    (["--dist", "scipy:genextrme"], 2, "did you mean scipy:genextreme"),
    (["--dist", "scipy:bernoulli"], 1, "no positive density"),
    (["--dist", "scipy:norm", "--bootstrap", "10"], 2, "do not go with"),
])
def test_bad_input_is_one_line(args, code, words):
    out = run(["fit", RIVERS, "--column", "miles", *args])
    assert out.exit_code == code and words in out.output and len(out.output.strip().splitlines()) == 1


def test_score_takes_scipy_names():
    out = run(["score", RIVERS, "--column", "miles", "--dist", "scipy:gumbel_r", "--candidate", "loc=400,scale=300",
               "--format", "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    x = pd.read_csv(RIVERS)["miles"].to_numpy(float)
    [candidate] = data["candidates"]
    assert candidate["nll"] == pytest.approx(-stats.gumbel_r.logpdf(x, 400, 300).sum(), rel=1e-12)
    assert data["mle"]["nll"] == pytest.approx(fit_scipy(x, "scipy:gumbel_r").nll, rel=1e-12)
    assert candidate["nll_excess"] == pytest.approx(candidate["nll"] - data["mle"]["nll"], rel=1e-12)
    out = run(["score", RIVERS, "--column", "miles", "--dist", "scipy:gumbel_r", "--candidate", "loc=400"])
    assert out.exit_code == 2 and "takes loc, scale" in out.output
