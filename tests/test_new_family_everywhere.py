"""A family defined here, outside the package, joins the registry with one call and every command
takes it: fit (weighted, held, censored), compare, score, describe, regress, score-model; calibrate
refuses it in one line (it is not a classifier). No command asks for a family by its name."""

import json

import numpy as np
import pytest
from scipy import special, stats
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app
from mlfit.families import base, distribution, register
from mlfit.families.conditional import Conditional, PredictionInput
from mlfit.families.statistics import Moments

runner = CliRunner()
HALF_LOG_2PI = 0.5 * np.log(2 * np.pi)


class UnitNormal(Conditional, base.NaturalFamily):
    """A normal whose standard deviation is known to be 1: one parameter, the mean."""

    name = "unit_normal"
    parameters = (base.Parameter("mu", base.Real()),)
    support = distribution.RealLine()
    loss = "half the sum of squared errors"
    continuous = True
    example = {"mu": 1.5}
    solver = "newton"
    prediction_inputs = (PredictionInput("--mean", "mean", required=True),)

    def summarize(self, values, weights=None):
        return Moments.of(values, weights)

    def reference(self, stats):
        return {"mu": stats.mean}

    def start(self, stats):
        return {"mu": 0.0}

    def derivatives(self, stats, params, order=2):
        mu, n = params["mu"], stats.n
        value = n * HALF_LOG_2PI + 0.5 * n * stats.mean_square_about(mu, 1.0)
        return value, np.array([n * (mu - stats.mean)]), np.array([[float(n)]])

    def log_prob(self, encoded, params):
        with np.errstate(over="ignore"):  # x beyond 1e154: a density of 0 in float64, log -inf
            return -0.5 * (encoded - params["mu"]) ** 2 - HALF_LOG_2PI

    def log_cdf(self, x, params):
        return special.log_ndtr(x - params["mu"])

    def log_sf(self, x, params):
        return special.log_ndtr(params["mu"] - x)

    def quantile(self, q, params):
        return params["mu"] + special.ndtri(q)

    def sample(self, rng, params, size):
        return rng.normal(params["mu"], 1.0, size)

    def loss_report(self, stats, params):
        half = 0.5 * stats.mean_square_about(params["mu"], 1.0)
        return {"name": self.loss, "value": half, "identity": "NLL = n*(value + log(2*pi)/2)",
                "nll_from_loss": stats.n * (half + HALF_LOG_2PI)}

    def cullen_frey(self, largest):
        return {"point": (0.0, 3.0), "style": "x"}

    # the conditional part: the mean linear in columns
    def predictors(self, classes=None):
        return [base.Predictor("mu", "identity", "mean")]

    def conditional_nll(self, y, etas, order=0):
        r = y - etas[:, 0]
        value = 0.5 * r * r + HALF_LOG_2PI
        if order == 0:
            return value, None, None
        gradient = -r[:, None]
        return value, gradient, (None if order == 1 else np.ones((len(y), 1, 1)))

    def conditional_params(self, etas):
        return {"mu": etas[:, 0]}

    def intercept_only(self, totals):
        return [totals["mean"]]

    def loss_sums(self, y, etas, w):
        r = y - etas[:, 0]
        return {"weight": float(w.sum()), "half_squares": float(w @ (0.5 * r * r))}

    def conditional_loss(self, sums, first_etas, learns_scale):
        value = sums["half_squares"] / sums["weight"]
        return {"name": self.loss, "value": value, "identity": "NLL = n*(value + log(2*pi)/2)",
                "nll_from_loss": sums["weight"] * (value + HALF_LOG_2PI)}

    def residuals(self, y, fitted):
        return {"mean": fitted["mu"], "residual": y - fitted["mu"], "name": "residual",
                "reference": ("normal", {"mu": 0.0, "sigma": 1.0})}

    def naive_log_likelihood(self, y, inputs, scale, dtype):
        with np.errstate(all="ignore"):
            r = y.astype(dtype) - inputs[:, 0].astype(dtype)
            density = np.exp(-r * r / 2) / np.sqrt(np.asarray(2 * np.pi, dtype=dtype))
            return np.log(density), np.zeros(len(y), dtype=bool)


@pytest.fixture(scope="module", autouse=True)
def registered():
    from mlfit import families

    before = dict(families.REGISTRY)
    register(UnitNormal, "unorm")
    yield
    families.REGISTRY.clear()
    families.REGISTRY.update(before)
    families.get_family.cache_clear()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    rng = np.random.default_rng(31)
    x = rng.normal(0.0, 1.0, 60)
    y = 2.0 - 0.5 * x + rng.normal(0.0, 1.0, 60)
    path = tmp_path_factory.mktemp("unit") / "d.csv"
    lines = ["x,y,w,low,high"] + [f"{a!r},{b!r},{1 + i % 3},{b - 0.5!r},{b + 0.5!r}" for i, (a, b) in
                                  enumerate(zip(x.tolist(), y.tolist()))]
    path.write_text("\n".join(lines) + "\n")
    return str(path), x, y


def cli(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def test_fit_takes_it_by_name_and_alias(data):
    path, _, y = data
    for name in ("unit_normal", "unorm"):
        out = cli("fit", path, "-d", name, "-c", "y", "-f", "json")
        assert out.exit_code == 0, out.stderr
        fitted = json.loads(out.stdout)
        assert fitted["params"]["mu"] == pytest.approx(y.mean(), rel=1e-12)
        assert fitted["nll"] == pytest.approx(-stats.norm.logpdf(y, y.mean(), 1.0).sum(), rel=1e-12)
        assert fitted["stderr"]["mu"] == pytest.approx(1 / np.sqrt(len(y)), rel=1e-12)


def test_weighted_and_censored_fits_take_it(data):
    path, _, y = data
    weighted = json.loads(cli("fit", path, "-d", "unit_normal", "-c", "y", "-w", "w", "-f", "json").stdout)
    w = np.array([1 + i % 3 for i in range(len(y))])
    assert weighted["params"]["mu"] == pytest.approx(np.average(y, weights=w), rel=1e-12)
    censored = cli("fit", path, "-d", "unit_normal", "--left", "low", "--right", "high", "-f", "json")
    assert censored.exit_code == 0, censored.stderr
    mu = json.loads(censored.stdout)["params"]["mu"]
    # the interval likelihood's optimum, found here by scipy's bounded scalar minimiser
    from scipy import optimize

    def nll(m):
        return -np.sum(np.log(stats.norm.cdf(y + 0.5 - m) - stats.norm.cdf(y - 0.5 - m)))

    assert mu == pytest.approx(optimize.minimize_scalar(nll, bounds=(-5, 5), method="bounded",
                                                        options={"xatol": 1e-10}).x, abs=1e-6)


def test_compare_score_and_describe_take_it(data):
    path = data[0]
    ranking = json.loads(cli("compare", path, "-c", "y", "-d", "unit_normal", "-d", "normal", "-f", "json").stdout)
    assert {f["distribution"] for f in ranking["fits"]} == {"unit_normal", "normal"}
    assert "unit_normal" in [c.distribution for c in mlfit.compare(data[2]).candidates]  # offered by default too
    scored = cli("score", path, "-d", "unit_normal", "-c", "y", "--candidate", "mu=1", "-f", "json")
    assert scored.exit_code == 0, scored.stderr
    described = json.loads(cli("describe", path, "-c", "y", "-f", "json").stdout)
    assert "unit_normal" in [e["family"] for e in described["cullen_frey"]["nearest"]]


def test_regress_takes_it_and_equals_least_squares(data):
    path, x, y = data
    out = cli("regress", path, "y ~ x", "-d", "unit_normal", "-f", "json")
    assert out.exit_code == 0, out.stderr
    model = json.loads(out.stdout)
    X = np.column_stack([np.ones(len(x)), x])
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    assert [model["coef"]["Intercept"], model["coef"]["x"]] == pytest.approx(beta, rel=1e-10)
    se = np.sqrt(np.diag(np.linalg.inv(X.T @ X)))  # sigma known to be 1
    assert [model["se"]["Intercept"], model["se"]["x"]] == pytest.approx(se, rel=1e-8)
    assert model["nll"] == pytest.approx(-stats.norm.logpdf(y, X @ beta, 1.0).sum(), rel=1e-12)
    assert model["agreement"]["agrees"] and model["loss"]["nll_from_loss"] == pytest.approx(model["nll"], rel=1e-12)
    assert "Newton" in model["reference"]["method"]


def test_score_model_takes_it_and_calibrate_refuses_it_in_one_line(data):
    path, x, y = data
    out = cli("score-model", path, "-d", "unit_normal", "--mean", "x", "-t", "y", "-f", "json")
    assert out.exit_code == 0, out.stderr
    assert json.loads(out.stdout)["nll"] == pytest.approx(-stats.norm.logpdf(y, x, 1.0).sum(), rel=1e-12)
    refused = cli("calibrate", path, "-d", "unit_normal", "--logit", "x", "-t", "y")
    assert refused.exit_code == 2
    assert refused.stderr.strip().splitlines() == [
        "mlfit: error: calibrate scales a classifier's logits (a bernoulli or categorical model), not unit_normal "
        "predictions"]


def test_a_name_is_registered_once():
    with pytest.raises(ValueError, match="taken"):
        register(type("Other", (UnitNormal,), {"name": "normal"}))


def test_the_other_estimators_and_the_bootstrap_take_it(data):
    path, _, y = data
    by_quantile = cli("fit", path, "-d", "unit_normal", "-c", "y", "--method", "quantile", "-f", "json")
    assert by_quantile.exit_code == 0, by_quantile.stderr
    assert json.loads(by_quantile.stdout)["params"]["mu"] == pytest.approx(np.quantile(y, 0.5), rel=1e-6)
    by_moments = cli("fit", path, "-d", "unit_normal", "-c", "y", "--method", "mm")
    assert by_moments.exit_code == 2 and by_moments.stderr.strip().splitlines() == [
        "mlfit: error: --method mm matches raw moments, and unit_normal gives none (it declares no scipy.stats "
        "twin): use another --method, such as quantile or mle"]
    drawn = json.loads(cli("fit", path, "-d", "unit_normal", "-c", "y", "--bootstrap", "40", "-f", "json").stdout)
    assert drawn["bootstrap"]["converged"] == 40
