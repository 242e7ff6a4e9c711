"""mlfit describe: descdist's summary against R's (tests/data/describe, with the R script), the
Cullen-Frey loci against their closed forms, the bootstrap cloud against a direct resampling."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from conftest import run
from mlfit.families.lognormal import lognormal_curve
from mlfit.families.weibull import weibull_curve
from mlfit.shape import bootstrap_shapes, describe_file, in_beta_region, nearest, shape

DATA = Path(__file__).parent / "data"
R = json.loads((DATA / "describe" / "describe_reference.json").read_text())


@pytest.mark.parametrize("name", ["groundbeef", "rivers", "toxocara"])
def test_the_summary_equals_descdists(name):
    data = describe_file(str(DATA / f"{name}.csv"), None).to_dict()
    want = R[name]
    assert data["n"] == want["n"]
    for key in ("min", "max", "median", "mean", "sd"):
        assert data[key] == pytest.approx(want[key], rel=1e-12), key
    for method in ("unbiased", "sample"):
        assert data["skewness"][method] == pytest.approx(want[f"skewness_{method}"], rel=1e-12)
        assert data["kurtosis"][method] == pytest.approx(want[f"kurtosis_{method}"], rel=1e-12)


def test_the_loci_are_the_families_moments():
    w = math.e  # lognormal, sigma = 1
    np.testing.assert_allclose(lognormal_curve(np.array([1.0]))[0], [(w + 2) ** 2 * (w - 1), w ** 4 + 2 * w ** 3 + 3 * w ** 2 - 3])
    np.testing.assert_allclose(weibull_curve(np.array([1.0]))[0], [4.0, 9.0], rtol=1e-12)  # the exponential
    from scipy import stats

    skew, excess = stats.weibull_min(2.5).stats(moments="sk")
    np.testing.assert_allclose(weibull_curve(np.array([2.5]))[0], [skew ** 2, excess + 3], rtol=1e-10)
    assert nearest(2.0, 6.0)[0]["family"] in ("gamma", "beta")  # on the gamma line, the beta region's edge
    gamma = next(e for e in nearest(2.0, 6.0) if e["family"] == "gamma")
    assert gamma["distance"] == pytest.approx(0.0, abs=1e-3)
    assert nearest(0.0, 3.0)[0] == {"family": "normal", "locus": "point", "distance": 0.0}
    assert in_beta_region(1.0, 3.0) and not in_beta_region(1.0, 6.0) and not in_beta_region(1.0, 1.5)


def test_the_bootstrap_cloud_is_the_shape_of_resampled_rows():
    values = np.random.default_rng(2).gamma(2.0, size=80)
    cloud = bootstrap_shapes(values, 5, seed=7)
    rng = np.random.default_rng(7)
    for point in cloud:
        resample = values[rng.integers(0, 80, 80)]
        shapes = shape(resample)
        np.testing.assert_allclose(point, [shapes["skewness"]["unbiased"] ** 2, shapes["kurtosis"]["unbiased"]])


def test_describe_json_and_the_graph(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "cf.png"
    result = run("describe", "sample_data/rivers.csv", "--column", "miles", "--boot", "50", "--plot", out,
                 "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["cullen_frey"]["bootstrap"]["replicates"] == 50
    assert data["cullen_frey"]["nearest"][0]["distance"] <= data["cullen_frey"]["nearest"][-1]["distance"]
    assert out.stat().st_size > 10_000


def test_describe_refuses_what_it_cannot_describe(tmp_path):
    text = tmp_path / "t.csv"
    text.write_text("x\na\nb\nc\n")
    result = run("describe", text)
    assert result.exit_code == 1 and "is not a number" in result.stderr
    one = tmp_path / "one.csv"
    one.write_text("x\n5\n")
    result = run("describe", one)
    assert result.exit_code == 1 and "needs two at least" in result.stderr
    constant = tmp_path / "c.csv"
    constant.write_text("x\n5\n5\n5\n5\n5\n")
    result = run("describe", constant, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["skewness"]["unbiased"] is None
