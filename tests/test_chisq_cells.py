"""Chi-square cells as fitdistrplus's gofstat picks them (or as given), against R's numbers stored in
tests/data/chisq with the R script that produced them; Filliben's statistic against scipy."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

import mlfit
import mlfit.gof
from mlfit.cli import app
from mlfit.families import get_family
from mlfit.gof import filliben, fitdistrplus_breaks

runner = CliRunner()
DATA = Path(__file__).parent / "data" / "chisq"
R = json.loads((DATA / "gofstat.json").read_text())


def check(gof, stored, rel):
    data = gof.to_dict()
    assert data["df"] == stored["df"]
    assert [cell[1] for cell in data["cells"]] == stored["observed"]
    assert [cell[2] for cell in data["cells"]] == pytest.approx(stored["expected"], rel=rel)
    assert data["chi2"] == pytest.approx(stored["chisq"], rel=rel)
    assert data["chi2_pvalue"] == pytest.approx(stored["pvalue"], rel=rel)


def test_discoveries_poisson_on_fitdistrplus_cells():
    # the closed-form lambda is R's (the mean), so the statistic is R's to rounding
    result = mlfit.fit_file(str(DATA / "discoveries.csv"), "poisson", chisq_cells="fitdistrplus")
    assert result.estimate["lam"] == pytest.approx(R["discoveries_pois"]["estimate"]["lambda"], rel=1e-12)
    check(result.gof, R["discoveries_pois"], rel=1e-9)
    assert R["discoveries_pois"]["pvalue"] < 0.05  # rejected at 5 % on these cells ...
    pooled = mlfit.fit_file(str(DATA / "discoveries.csv"), "poisson").gof.to_dict()
    assert pooled["chi2_pvalue"] == pytest.approx(0.15665, abs=1e-5)  # ... not on mlfit's pooled ones


def test_discoveries_on_given_breaks():
    result = mlfit.fit_file(str(DATA / "discoveries.csv"), "poisson", chisq_breaks=(5, 1, 2, 3))
    check(result.gof, R["discoveries_pois_breaks"], rel=1e-9)


def at_r_estimate(path, family_name, column, r_params, **options):
    """The goodness of fit at R's own estimate: the cells and the statistic then match R's to rounding
    (R's numerical optimum sits 1e-6 to 2e-5 from the root of the score equation that mlfit finds)."""
    family = get_family(family_name)
    values = mlfit.fit_file(str(path), family_name, column, keep_values=True).values
    return mlfit.gof.goodness_of_fit(family, values, family.summarize(values), r_params, **options)


def test_discoveries_negbinomial():
    stored = R["discoveries_nbinom"]
    size, mu = stored["estimate"]["size"], stored["estimate"]["mu"]
    gof = at_r_estimate(DATA / "discoveries.csv", "negbinomial", None, {"size": size, "mu": mu},
                        chisq_cells="fitdistrplus")
    check(gof, stored, rel=1e-9)
    own = mlfit.fit_file(str(DATA / "discoveries.csv"), "negbinomial", chisq_cells="fitdistrplus")
    check(own.gof, stored, rel=1e-3)


@pytest.mark.parametrize("key, options", [("groundbeef_gamma", {"chisq_cells": "fitdistrplus"}),
                                          ("groundbeef_gamma_breaks", {"chisq_breaks": (40, 60, 80, 100)})])
def test_groundbeef_gamma_beside_the_edf_statistics(key, options):
    estimate = R["groundbeef_gamma"]["estimate"]
    gof = at_r_estimate(DATA / "groundbeef.csv", "gamma", "serving", dict(estimate), **options)
    check(gof, R[key], rel=1e-9)
    own = mlfit.fit_file(str(DATA / "groundbeef.csv"), "gamma", "serving", keep_values=True, **options)
    check(own.gof, R[key], rel=1e-2)
    assert {"ks", "cvm", "ad", "filliben"} <= set(own.gof.statistics)
    if "chisq_cells" in options:
        assert fitdistrplus_breaks(*np.unique(own.values, return_counts=True)) == R[key]["breaks"]


def test_fitdistrplus_breaks_by_hand():
    # n = 20: meancount = round(20 / 80^0.4) = round(3.46) = 3; edges at the 3rd smallest of what is
    # left while more than ceiling(4.5) = 5 rows are
    values = np.array([1, 1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 7, 8, 9, 9, 10], dtype=float)
    points, counts = np.unique(values, return_counts=True)
    # left: 20 rows -> 3rd is 1 (edge 1, 16 left) -> 3rd is 3 (edge 3, 11 left) -> 3rd of 4,5,5,6.. is 5
    # (edge 5, 8 left) -> 3rd of 6,7,7,7,8,9,9,10 is 7 (edge 7, 4 left: stop)
    assert fitdistrplus_breaks(points, counts) == [1.0, 3.0, 5.0, 7.0]


def test_filliben_is_scipys_statistic():
    rng = np.random.default_rng(11)
    x = rng.gamma(3.0, 2.0, 300)
    result = mlfit.fit(x, "gamma")
    n = len(x)
    k = np.arange(1, n + 1)
    dist = stats.gamma(result.estimate["shape"], scale=1 / result.estimate["rate"])
    expected = stats.pearsonr(np.sort(x), dist.ppf(stats.beta(k, n + 1 - k).median()))[0]
    assert result.gof.statistics["filliben"] == pytest.approx(expected, rel=1e-12)


def test_filliben_beyond_the_exact_medians(monkeypatch):
    x = np.sort(np.random.default_rng(12).normal(size=3000))
    family, params = get_family("normal"), {"mu": 0.0, "sigma": 1.0}
    exact = filliben(family, x, params)
    monkeypatch.setattr(mlfit.gof, "EXACT_MEDIANS", 100)
    assert filliben(family, x, params) == pytest.approx(exact, abs=1e-7)


def test_filliben_p_value_counts_the_lower_tail():
    rng = np.random.default_rng(13)
    skewed = mlfit.fit(rng.exponential(size=200), "normal", gof_bootstrap=39, seed=1)
    assert skewed.gof.p_values["filliben_pvalue"] == pytest.approx(1 / 40)  # no replicate as bad
    plain = mlfit.fit(rng.normal(size=200), "normal", gof_bootstrap=39, seed=1)
    assert plain.gof.p_values["filliben_pvalue"] > 0.05


def test_cli_flags(tmp_path):
    path = DATA / "discoveries.csv"
    result = runner.invoke(app, ["fit", str(path), "-d", "pois", "--chisq-cells", "fitdistrplus", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["gof"]["chi2"] == pytest.approx(R["discoveries_pois"]["chisq"], rel=1e-9)
    result = runner.invoke(app, ["fit", str(path), "-d", "pois", "--chisq-breaks", "1,2,3,5", "-f", "json"])
    assert json.loads(result.stdout)["gof"]["chi2"] == pytest.approx(R["discoveries_pois_breaks"]["chisq"], rel=1e-9)
    bad = runner.invoke(app, ["fit", str(path), "-d", "pois", "--chisq-breaks", "1,x"])
    assert bad.exit_code == 2 and "--chisq-breaks takes numbers" in bad.stderr
    ranking = runner.invoke(app, ["compare", str(path), "-d", "pois", "-d", "nbinom", "--chisq-cells",
                                  "fitdistrplus", "-f", "json"])
    assert ranking.exit_code == 0, ranking.stderr
    fits = {fit["distribution"]: fit for fit in json.loads(ranking.stdout)["fits"]}
    assert fits["poisson"]["gof"]["df"] == R["discoveries_pois"]["df"]
