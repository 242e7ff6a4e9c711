"""Censored data: against fitdistrplus' fitdistcens (numbers in tests/data/censored, with the R script
that produced them), scipy's CensoredData fits, the closed forms that exist, and hand computations."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from mlfit.censored import CensoredData, Censored, read_bounds, read_events, row_log_likelihoods
from mlfit.turnbull import turnbull
from mlfit.censored import fit_censored
from mlfit.cli import app
from mlfit.families import get_family

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "censored"
R_FITS = json.loads((DATA / "fitdistcens.json").read_text())
R_NAMES = {"lnorm": ("lognormal", {"meanlog": "mu", "sdlog": "sigma"}),
           "norm": ("normal", {"mean": "mu", "sd": "sigma"}),
           "weibull": ("weibull", {"shape": "shape", "scale": "scale"}),
           "gamma": ("gamma", {"shape": "shape", "rate": "rate"}),
           "logis": ("logistic", {"location": "mu", "scale": "s"})}


def bounds(name: str) -> CensoredData:
    return read_bounds(str(DATA / f"{name}.csv"), "left", "right")


@pytest.mark.parametrize("key", sorted(R_FITS))
def test_fitdistcens_on_its_own_data(key):
    # R optimises with optim's Nelder-Mead and a numerical Hessian: mlfit's log-likelihood must be at
    # least R's, the estimates the same to R's tolerance, the standard errors within 2 %.
    stored = R_FITS[key]
    family, names = R_NAMES[stored["family"]]
    result = fit_censored(bounds(stored["data"]), family)
    assert result.numerical.converged
    assert result.log_likelihood >= stored["loglik"] - 1e-9
    assert result.log_likelihood == pytest.approx(stored["loglik"], abs=1e-5)
    for r_name, name in names.items():
        assert result.estimate[name] == pytest.approx(stored["estimate"][r_name], rel=2e-5)
        assert result.inference.stderr[name] == pytest.approx(stored["sd"][r_name], rel=2e-2)
    assert result.aic == pytest.approx(stored["aic"], abs=1e-4)
    assert result.bic == pytest.approx(stored["bic"], abs=1e-4)


def test_where_fitdistcens_fails_mlfit_fits():
    # fitdistcens(fluazinam, "gamma") stops: "non-finite finite-difference value" (fitdistcens.R)
    assert not any(v["data"] == "fluazinam" and v["family"] == "gamma" for v in R_FITS.values())
    result = fit_censored(bounds("fluazinam"), "gamma")
    assert result.numerical.converged and np.isfinite(result.log_likelihood)
    # its optimum: the score is 0 there (the NLL rises in every direction by its curvature)
    family, data = get_family("gamma"), bounds("fluazinam")
    best = result.nll
    for name in ("shape", "rate"):
        for factor in (1 - 1e-4, 1 + 1e-4):
            moved = {**result.estimate, name: result.estimate[name] * factor}
            assert -np.sum(row_log_likelihoods(family, data, moved)) > best


def scipy_censored(data: CensoredData):
    kinds = data.kinds
    return stats.CensoredData(uncensored=data.low[kinds == 0], left=data.high[kinds == 1],
                              right=data.low[kinds == 2],
                              interval=np.column_stack([data.low[kinds == 3], data.high[kinds == 3]]))


@pytest.mark.parametrize("family, scipy_family, names", [
    ("normal", stats.norm, None),
    ("lognormal", stats.lognorm, None),
    ("weibull", stats.weibull_min, None),
])
def test_scipy_censored_fits_reach_no_higher_likelihood(family, scipy_family, names):
    data = bounds("salinity")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's own log(0) on its way
        if family == "normal":
            mu, sigma = scipy_family.fit(scipy_censored(data))
            theirs = {"mu": mu, "sigma": sigma}
        elif family == "lognormal":
            s, _, scale = scipy_family.fit(scipy_censored(data), floc=0)
            theirs = {"mu": np.log(scale), "sigma": s}
        else:
            c, _, scale = scipy_family.fit(scipy_censored(data), floc=0)
            theirs = {"shape": c, "scale": scale}
    ours = fit_censored(data, family)
    fam = get_family(family)
    their_nll = -np.sum(row_log_likelihoods(fam, data, theirs))
    assert ours.nll <= their_nll + 1e-9
    for name, value in theirs.items():
        assert ours.estimate[name] == pytest.approx(value, rel=1e-4)


def test_the_nll_is_scipys_log_densities_and_probabilities():
    rng = np.random.default_rng(3)
    low = np.array([1.2, -np.inf, 0.4, 2.0, 30.0, -40.0])
    high = np.array([1.2, 0.3, np.inf, 2.5, 31.0, -39.0])
    data = CensoredData("t", "x", low, high, np.arange(1, 7), 0)
    params = {"mu": 0.5 + rng.random(), "sigma": 1.3}
    norm = stats.norm(params["mu"], params["sigma"])
    expected = [norm.logpdf(1.2), norm.logcdf(0.3), norm.logsf(0.4), np.log(norm.cdf(2.5) - norm.cdf(2.0)),
                norm.logsf(30.0), norm.logcdf(-39.0)]  # far tails: F(b) - F(a) is all of F(b) or S(a)
    got = row_log_likelihoods(get_family("normal"), data, params)
    assert got[:4] == pytest.approx(expected[:4], rel=1e-13)
    # beyond float64's reach of F(31) - F(30), the log of the difference still has every digit:
    # log(S(30) - S(31)) = log S(30) + log(1 - S(31)/S(30)), S(31)/S(30) ~ e^-24
    assert got[4] == pytest.approx(expected[4] + np.log1p(-np.exp(norm.logsf(31.0) - norm.logsf(30.0))), rel=1e-13)
    assert got[5] == pytest.approx(expected[5] + np.log1p(-np.exp(norm.logcdf(-40.0) - norm.logcdf(-39.0))),
                                   rel=1e-13)
    assert np.isfinite(got).all()


def test_exact_rows_alone_give_the_plain_fit():
    values = np.random.default_rng(5).gamma(2.0, 3.0, 80).round(3)
    data = CensoredData("t", "x", values, values.copy(), np.arange(1, 81), 0)
    censored = fit_censored(data, "gamma")
    from mlfit import fit

    plain = fit(values, "gamma")
    assert censored.nll == pytest.approx(plain.nll, rel=1e-12)
    for name in ("shape", "rate"):
        assert censored.estimate[name] == pytest.approx(plain.reference_params[name], rel=1e-7)
        assert censored.inference.stderr[name] == pytest.approx(plain.inference.stderr[name], rel=1e-4)


def test_right_censored_exponential_has_a_closed_form():
    # rate = events / total time (the exposure): the MLE with right-censoring
    rng = np.random.default_rng(7)
    times = rng.exponential(4.0, 200).round(4)
    limit = rng.uniform(1, 8, 200).round(4)
    seen = np.minimum(times, limit)
    event = times <= limit
    data = CensoredData("t", "x", seen, np.where(event, seen, np.inf), np.arange(1, 201), 0)
    result = fit_censored(data, "exponential")
    assert result.estimate["rate"] == pytest.approx(event.sum() / seen.sum(), rel=1e-9)
    # the observed information: events / rate^2
    assert result.inference.stderr["rate"] == pytest.approx(np.sqrt(event.sum()) / seen.sum(), rel=1e-5)


def test_an_event_column_is_right_censoring(tmp_path):
    path = tmp_path / "survival.csv"
    path.write_text("months,died\n3,1\n5,1\n5,0\n8,1\n10,false\n12,true\n,1\n15,1\n15,0\n20,1\n")
    events = read_events(str(path), "months", "died")
    assert events.counts() == {"exact": 6, "left": 0, "right": 3, "interval": 0} and events.dropped == 1
    assert list(events.rows) == [1, 2, 3, 4, 5, 6, 8, 9, 10]
    as_bounds = tmp_path / "bounds.csv"
    as_bounds.write_text("l,r\n3,3\n5,5\n5,\n8,8\n10,NA\n12,12\n15,15\n15,\n20,20\n")
    a = fit_censored(events, "weibull")
    b = fit_censored(read_bounds(str(as_bounds), "l", "r"), "weibull")
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)


def test_turnbull_is_kaplan_meier_for_right_censored_rows():
    t = np.array([3.0, 5, 5, 8, 10, 12, 15, 15, 20])
    event = np.array([1, 1, 0, 1, 0, 1, 1, 0, 1], dtype=bool)
    estimate = turnbull(CensoredData("t", "x", t, np.where(event, t, np.inf), np.arange(1, 10), 0))
    survival, km = 1.0, []
    for u in np.unique(t[event]):  # Kaplan-Meier by hand: censored at u still at risk at u
        survival *= 1 - (event & (t == u)).sum() / (t >= u).sum()
        km.append(1 - survival)
    assert list(estimate.left) == list(np.unique(t[event])) and estimate.converged
    assert np.cumsum(estimate.mass) == pytest.approx(km, abs=1e-9)


def test_turnbull_matches_survfit_on_salinity():
    stored = json.loads((DATA / "turnbull.json").read_text())["salinity"]
    estimate = turnbull(bounds("salinity"))
    # survfit reports S after each of its times; where mlfit's innermost intervals end, compare
    survival = 1 - np.cumsum(estimate.mass)
    theirs = dict(zip(stored["time"], stored["surv"]))
    compared = 0
    for right, s in zip(estimate.right, survival):
        if right in theirs:
            assert s == pytest.approx(theirs[right], abs=1e-5)  # survfit's EM stops at a looser tolerance
            compared += 1
    assert compared >= 10


def test_cli_fit_and_compare(tmp_path):
    path = DATA / "salinity.csv"
    result = runner.invoke(app, ["fit", str(path), "--left", "left", "--right", "right", "-d", "lnorm", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["censoring"] == {"exact": 19, "left": 0, "right": 60, "interval": 29}
    assert data["params"]["mu"] == pytest.approx(R_FITS["salinity lnorm"]["estimate"]["meanlog"], rel=2e-5)
    assert data["ci"]["mu"]["profile"][0] < data["params"]["mu"] < data["ci"]["mu"]["profile"][1]
    r_families = ["lnorm", "norm", "weibull", "gamma", "logis"]
    ranking = runner.invoke(app, ["compare", str(path), "--left", "left", "--right", "right", "-f", "json",
                                  *[arg for name in r_families for arg in ("-d", name)]])
    assert ranking.exit_code == 0, ranking.stderr
    ranked = json.loads(ranking.stdout)["fits"]
    r_aic = {R_NAMES[v["family"]][0]: v["aic"] for k, v in R_FITS.items() if v["data"] == "salinity"}
    ours = {entry["distribution"]: entry["aic"] for entry in ranked if entry.get("ranked")}
    assert [name for name in ours if name in r_aic] == sorted(r_aic, key=r_aic.get)  # R's order
    for name, aic in r_aic.items():
        assert ours[name] == pytest.approx(aic, abs=1e-4)


def test_cli_plot_draws_the_npmle(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "censored.png"
    result = runner.invoke(app, ["fit", str(DATA / "smokedfish.csv"), "--left", "left", "--right", "right",
                                 "-d", "lognormal", "--plot", str(target)])
    assert result.exit_code == 0, result.stderr
    assert target.stat().st_size > 10_000


@pytest.mark.parametrize("rows, args, message", [
    ("l,r\n1,2\n3,1\n", ["--left", "l", "--right", "r"], "row 2: left 3 is greater than right 1"),
    ("t,e\n1,1\n2,2\n", ["-c", "t", "--censored", "e"], "column 'e', row 2: 2 is not 1 (observed) or 0 (right-censored)"),
    ("l,r\n1,1\n-2,-1\n", ["--left", "l", "--right", "r"], "row 2: [-2, -1] has probability 0 under every gamma, which needs a number greater than 0"),
    ("l,r\n1,1\n-2,-2\n", ["--left", "l", "--right", "r"], "row 2: -2 is not a number greater than 0"),
])
def test_bad_censored_rows_name_the_row(tmp_path, rows, args, message):
    path = tmp_path / "bad.csv"
    path.write_text(rows)
    result = runner.invoke(app, ["fit", str(path), *args, "-d", "gamma"])
    assert result.exit_code == 1 and result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args, message", [
    (["--left", "l"], "--left and --right go together"),
    (["--left", "l", "--right", "r", "-d", "laplace"], "laplace is not fitted to censored data"),
    (["--left", "l", "--right", "r", "-d", "poisson"], "poisson is not a continuous family"),
    (["--left", "l", "--right", "r", "--weights", "w"], "--weights do not go with censored data"),
    (["--censored", "r"], "give the value column with one --column"),
])
def test_censored_usage_errors(tmp_path, args, message):
    path = tmp_path / "d.csv"
    path.write_text("l,r,w\n1,2,1\n2,3,1\n")
    full = ["fit", str(path), *args] + ([] if "-d" in args else ["-d", "gamma"])
    result = runner.invoke(app, full)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_censored_wrapper_keeps_the_familys_distribution():
    family = Censored(get_family("weibull"))
    params = {"shape": 1.7, "scale": 2.5}
    x = np.array([0.5, 1.0, 4.0])
    assert family.log_cdf(x, params) == pytest.approx(stats.weibull_min(1.7, scale=2.5).logcdf(x), rel=1e-12)
    assert [p.name for p in family.parameters] == ["shape", "scale"]


def test_in_memory_bounds():
    data = CensoredData.of([1.0, None, 4.0, np.nan, 2.0], [1.0, 2.5, None, np.nan, 3.0])
    assert data.counts() == {"exact": 1, "left": 1, "right": 1, "interval": 1} and data.dropped == 1
    assert list(data.rows) == [1, 2, 3, 5]
    with pytest.raises(Exception, match="row 2: low 3 is greater than high 1"):
        CensoredData.of([0.0, 3.0], [1.0, 1.0])


def test_survival_times_against_survreg():
    # survreg's Weibull: shape = 1/scale, scale = exp(intercept); lognormal: mu = intercept, sigma = scale
    stored = json.loads((DATA / "survreg.json").read_text())
    data = read_events(str(Path(__file__).parents[1] / "sample_data" / "remission.csv"), "weeks", "relapsed")
    weibull = fit_censored(data, "weibull")
    assert weibull.estimate["shape"] == pytest.approx(1 / stored["weibull"]["scale"], rel=1e-6)
    assert weibull.estimate["scale"] == pytest.approx(np.exp(stored["weibull"]["intercept"]), rel=1e-6)
    lognormal = fit_censored(data, "lognormal")
    assert lognormal.estimate["mu"] == pytest.approx(stored["lognormal"]["intercept"], rel=1e-6)
    assert lognormal.estimate["sigma"] == pytest.approx(stored["lognormal"]["scale"], rel=1e-6)
    exponential = fit_censored(data, "exponential")
    assert exponential.estimate["rate"] == pytest.approx(np.exp(-stored["exponential"]["intercept"]), rel=1e-6)
    for name, fit in (("weibull", weibull), ("lognormal", lognormal), ("exponential", exponential)):
        assert fit.log_likelihood >= stored[name]["loglik"] - 1e-9
        assert fit.log_likelihood == pytest.approx(stored[name]["loglik"], abs=1e-7)
