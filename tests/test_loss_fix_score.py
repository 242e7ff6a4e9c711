"""The loss each NLL is, fits with parameters held fixed, and scoring candidate parameters."""

import json
import math

import numpy as np
import pytest
from scipy import special, stats
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app

runner = CliRunner()
RNG = np.random.default_rng(2024)
NORMAL = RNG.normal(4, 3, 250)
LAPLACE = RNG.laplace(-1, 2, 251)
BERNOULLI = (RNG.random(200) < 0.35).astype(float)
COUNTS = RNG.poisson(2.7, 300).astype(float)
LABELS = RNG.choice(["a", "b", "c"], 300, p=[0.5, 0.3, 0.2])


def test_normal_nll_is_scaled_mse_plus_a_constant():
    result = mlfit.fit(NORMAL, "normal")
    loss = result.loss()
    mu, sigma, n = result.estimate["mu"], result.estimate["sigma"], len(NORMAL)
    mse = np.mean((NORMAL - mu) ** 2)
    assert loss["mse"] == pytest.approx(mse, rel=1e-12)
    assert loss["nll_from_loss"] == pytest.approx(result.nll, rel=1e-10)
    assert n * math.log(sigma * math.sqrt(2 * math.pi)) + n * mse / (2 * sigma**2) == pytest.approx(result.nll, rel=1e-10)


def test_laplace_nll_is_mae():
    result = mlfit.fit(LAPLACE, "laplace")
    loss = result.loss()
    mae = np.mean(np.abs(LAPLACE - result.estimate["mu"]))
    assert loss["mae"] == pytest.approx(mae, rel=1e-12)
    assert loss["nll_from_loss"] == pytest.approx(result.nll, rel=1e-10)


def test_bernoulli_nll_is_binary_cross_entropy():
    result = mlfit.fit(BERNOULLI, "bernoulli")
    p = result.estimate["p"]
    bce = -np.mean(BERNOULLI * np.log(p) + (1 - BERNOULLI) * np.log(1 - p))
    assert result.loss()["bce"] == pytest.approx(bce, rel=1e-12)
    assert result.loss()["nll_from_loss"] == pytest.approx(result.nll, rel=1e-10)


def test_categorical_nll_is_cross_entropy_in_nats_and_bits():
    result = mlfit.fit(LABELS, "categorical")
    p = dict(zip(result.labels, result.estimate["p"]))
    ce = -np.mean([math.log(p[v]) for v in LABELS])
    loss = result.loss()
    assert loss["cross_entropy_nats"] == pytest.approx(ce, rel=1e-12)
    assert loss["cross_entropy_bits"] == pytest.approx(ce / math.log(2), rel=1e-12)
    assert loss["perplexity"] == pytest.approx(math.exp(ce), rel=1e-12)
    assert loss["nll_from_loss"] == pytest.approx(result.nll, rel=1e-10)


def test_poisson_loss_as_torch_defines_it():
    result = mlfit.fit(COUNTS, "poisson")
    lam, x = result.estimate["lam"], COUNTS
    # torch.nn.PoissonNLLLoss(log_input=False, full=True), reduction="mean", written out:
    stirling = np.where(x > 1, x * np.log(np.where(x > 1, x, 1)) - x + 0.5 * np.log(2 * np.pi * np.where(x > 1, x, 1)), 0)
    torch_loss = np.mean(lam - x * np.log(lam + 1e-8) + stirling)
    loss = result.loss()
    assert loss["torch_poisson_nll_loss"] == pytest.approx(torch_loss, rel=1e-12)
    assert loss["poisson_nll"] == pytest.approx(np.mean(lam - x * np.log(lam)), rel=1e-12)
    assert loss["log_factorial_mean"] == pytest.approx(np.mean(special.gammaln(x + 1)), rel=1e-12)
    assert loss["nll_from_loss"] == pytest.approx(result.nll, rel=1e-10)
    assert "Stirling" in loss["identity"]


# --- fixed parameters ----------------------------------------------------------------------
def test_normal_with_sigma_fixed_keeps_the_mean():
    result = mlfit.fit(NORMAL, "normal", fix={"sigma": "1"})
    assert result.closed_form_params == {"mu": pytest.approx(NORMAL.mean(), rel=1e-14), "sigma": 1.0}
    assert result.estimate["mu"] == pytest.approx(NORMAL.mean(), rel=1e-10)
    assert result.estimate["sigma"] == 1.0 and result.comparison.agrees
    assert result.nll == pytest.approx(-stats.norm.logpdf(NORMAL, NORMAL.mean(), 1).sum(), rel=1e-12)
    assert result.inference.k == 1 and set(result.intervals()) == {"mu"}
    assert result.inference.stderr["mu"] == pytest.approx(1 / math.sqrt(len(NORMAL)))


def test_normal_with_mu_fixed_gives_the_rms_deviation():
    result = mlfit.fit(NORMAL, "normal", fix={"mu": "0"})
    rms = math.sqrt(np.mean(NORMAL**2))
    assert result.closed_form_params["sigma"] == pytest.approx(rms, rel=1e-12)
    assert result.estimate["sigma"] == pytest.approx(rms, rel=1e-10)
    assert result.comparison.agrees and set(result.intervals()) == {"sigma"}


def test_laplace_with_either_parameter_fixed():
    with_b = mlfit.fit(LAPLACE, "laplace", fix={"b": "3"})
    assert with_b.closed_form_params["mu"] == pytest.approx(np.median(LAPLACE))
    assert with_b.estimate["mu"] == pytest.approx(np.median(LAPLACE), abs=1e-8) and with_b.comparison.agrees
    with_mu = mlfit.fit(LAPLACE, "laplace", fix={"mu": "0.5"})
    assert with_mu.closed_form_params["b"] == pytest.approx(np.mean(np.abs(LAPLACE - 0.5)), rel=1e-12)
    assert with_mu.estimate["b"] == pytest.approx(np.mean(np.abs(LAPLACE - 0.5)), rel=1e-7)


def test_everything_fixed_is_evaluated_not_fitted():
    result = mlfit.fit(COUNTS, "poisson", fix={"lam": "2"})
    assert result.estimate == {"lam": 2.0} and result.numerical.iterations == 0
    assert result.nll == pytest.approx(-stats.poisson.logpmf(COUNTS, 2).sum(), rel=1e-12)
    assert result.inference.k == 0 and result.aic == pytest.approx(2 * result.nll)
    cat = mlfit.fit(["a", "b", "b"], "categorical", fix={"p": {"a": "0.25", "b": "0.75"}})
    assert cat.nll == pytest.approx(-(math.log(0.25) + 2 * math.log(0.75)))


def test_a_constant_column_fits_once_sigma_is_fixed():
    result = mlfit.fit([2.0] * 10, "normal", fix={"sigma": "0.5"})
    assert result.estimate["mu"] == pytest.approx(2.0)


def test_fix_through_the_cli(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("x\n" + "\n".join(map(str, NORMAL)) + "\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "--fix", "sigma=2", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["fixed"] == {"sigma": 2.0} and data["params"]["sigma"] == 2.0
    table = runner.invoke(app, ["fit", str(path), "-d", "normal", "--fix", "sigma=2", "--no-chart"])
    assert "sigma (fixed)" in table.stdout
    for bad, message in (("sigma=0", "sigma must be greater than 0"), ("tau=1", "has no parameter 'tau'"),
                         ("sigma", "write name=value pairs")):
        failed = runner.invoke(app, ["fit", str(path), "-d", "normal", "--fix", bad])
        assert failed.exit_code == 2 and message in failed.stderr and failed.stdout == ""


# --- score -----------------------------------------------------------------------------------
def score_cli(tmp_path, values, *args):
    path = tmp_path / "data.csv"
    path.write_text("x\n" + "\n".join(map(str, values)) + "\n")
    return runner.invoke(app, ["score", str(path), *args])


def test_score_ranks_by_independently_computed_nll(tmp_path):
    candidates = ["mu=0,sigma=1", "mu=4,sigma=3", "mu=5,sigma=10", "mu=3.5,sigma=2.5"]
    args = ["-d", "normal", "-f", "json"] + [a for c in candidates for a in ("--candidate", c)]
    result = score_cli(tmp_path, NORMAL, *args)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = {c: -stats.norm.logpdf(NORMAL, float(c.split(",")[0][3:]), float(c.split(",")[1][6:])).sum()
                for c in candidates}
    assert [s["candidate"] for s in data["candidates"]] == sorted(candidates, key=expected.get)
    mle_nll = -stats.norm.logpdf(NORMAL, NORMAL.mean(), NORMAL.std()).sum()
    assert data["mle"]["nll"] == pytest.approx(mle_nll, rel=1e-10)
    for score in data["candidates"]:
        assert score["nll"] == pytest.approx(expected[score["candidate"]], rel=1e-12)
        assert score["mean_nll"] == pytest.approx(score["nll"] / len(NORMAL))
        assert score["nll_excess"] == pytest.approx(score["nll"] - mle_nll, rel=1e-9)
        assert score["nll_excess"] > 0
        assert score["log10_likelihood"] == pytest.approx(-score["nll"] / math.log(10))
        densities = stats.norm.pdf(NORMAL, *map(float, (score["params"]["mu"], score["params"]["sigma"])))
        with np.errstate(under="ignore"):
            zeros = np.flatnonzero(np.cumprod(densities) == 0)
        assert score["float64_first_zero_at"] == (int(zeros[0]) + 1 if zeros.size else None)


def test_score_reports_an_impossible_candidate(tmp_path):
    result = score_cli(tmp_path, [1, 1, 0, 1], "-d", "bernoulli", "--candidate", "p=1", "--candidate", "p=0.7",
                       "-f", "json")
    data = json.loads(result.stdout)
    assert [s["candidate"] for s in data["candidates"]] == ["p=0.7", "p=1"]
    assert data["candidates"][1]["nll"] is None and data["candidates"][1]["impossible_row"] == 3


def test_score_categorical_candidate_and_table(tmp_path):
    result = score_cli(tmp_path, ["a", "b", "b"], "-d", "categorical", "--candidate", "p=a:0.5,b:0.5")
    assert result.exit_code == 0, result.stderr
    assert "MLE: the maximum-likelihood fit" in result.stdout
    rows = [line.split()[0] for line in result.stdout.splitlines() if line.startswith("  ") and line.split()]
    assert "MLE" in rows and any(row.startswith("p=a:0.5") for row in rows)


@pytest.mark.parametrize("family, candidate, message", [
    ("normal", "mu=0,sigma=-1", "sigma must be greater than 0"),
    ("normal", "mu=0", "gives no value for sigma"),
    ("bernoulli", "p=1.5", "p must be between 0 and 1"),
    ("categorical", "p=a:0.5,b:0.6", "sum to 1.1"),
    ("categorical", "p=a:0.5", "no probability for category 'b'"),
    ("categorical", "p=a:0.5,z:0.5", "'z' is not a category"),
])
def test_candidates_outside_the_parameter_space_are_refused(tmp_path, family, candidate, message):
    values = ["a", "b"] if family == "categorical" else [0, 1, 1]
    result = score_cli(tmp_path, values, "-d", family, "--candidate", candidate)
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


@pytest.mark.parametrize("label", ["a,b", "x:y", "k=v", 'say "hi"', 'a,"b":c=d'])
def test_a_category_label_with_a_comma_colon_or_quote_can_be_fixed_and_scored(tmp_path, label):
    from mlfit.params import quote_label

    path = tmp_path / "labels.csv"
    cell = '"' + label.replace('"', '""') + '"'
    path.write_text("shot\n" + f"{cell}\nc\nc\n{cell}\n")
    written = f"p={quote_label(label)}:0.25,c:0.75"
    fixed = runner.invoke(app, ["fit", str(path), "-d", "categorical", "--fix", written, "-f", "json"])
    assert fixed.exit_code == 0, fixed.stderr
    assert json.loads(fixed.stdout)["fixed"]["p"] == {label: 0.25, "c": 0.75}
    scored = runner.invoke(app, ["score", str(path), "-d", "categorical", "--candidate", written, "-f", "json"])
    assert scored.exit_code == 0, scored.stderr
    # the candidate's NLL by hand: two rows of probability 0.25, two of 0.75
    assert json.loads(scored.stdout)["candidates"][0]["nll"] == pytest.approx(-2 * np.log(0.25) - 2 * np.log(0.75))


@pytest.mark.parametrize("written, message", [
    ("p=plain:0.5,a,b:0.5", "cannot read 'a' in 'p=plain:0.5,a,b:0.5': a category is label:probability"),
    ('p="a,b:0.5', "a double quote is not closed"),
    ("p=c:0.5,c:0.5", "gives category 'c' twice"),
])
def test_an_unreadable_candidate_is_a_usage_error_that_shows_the_quoting_rule(tmp_path, written, message):
    path = tmp_path / "labels.csv"
    path.write_text('shot\n"a,b"\nc\n')
    for command in (["score", str(path), "--candidate", written], ["fit", str(path), "--fix", written]):
        result = runner.invoke(app, [*command, "-d", "categorical"])
        assert result.exit_code == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.splitlines()) == 1
