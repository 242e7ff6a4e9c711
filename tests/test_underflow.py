"""The underflow report against a direct numpy.cumprod and hand-computed cases."""

import math

import numpy as np
import pytest
from scipy import stats

import mlfit
from mlfit.underflow import underflow_report


def first_event(running, event):
    hits = np.flatnonzero(event(running))
    return int(hits[0]) + 1 if hits.size else None


@pytest.mark.parametrize("seed", range(5))
def test_zero_row_matches_cumprod_in_each_precision(seed):
    x = np.random.default_rng(seed).normal(size=2000)
    result = mlfit.fit(x, "normal")
    densities = stats.norm.pdf(x, result.estimate["mu"], result.estimate["sigma"])
    report = result.underflow
    for name in ("float64", "float32", "float16"):
        with np.errstate(under="ignore"):
            running = np.cumprod(densities.astype(name))
        assert report.precisions[name].first_zero_at == first_event(running, lambda r: r == 0)
        assert report.precisions[name].first_inf_at is None
        assert report.precisions[name].underflows
    # PERFORMANCE.md: float64 near row 526, float32 near 75, float16 near 13 for N(0,1)
    assert 300 < report.precisions["float64"].first_zero_at < 800
    assert report.log10_likelihood == pytest.approx(stats.norm.logpdf(
        x, result.estimate["mu"], result.estimate["sigma"]).sum() / math.log(10), rel=1e-12)


def test_small_sample_reports_no_underflow():
    result = mlfit.fit([0.2, -0.4, 1.1, 0.3, -0.9], "normal")
    for report in result.underflow.precisions.values():
        assert report.first_zero_at is None and report.first_inf_at is None
        assert not report.underflows and not report.overflows
        assert report.margin_decades > 0
    assert "every precision holds" in result.underflow.explanation()


def test_narrow_normal_overflows():
    x = np.random.default_rng(3).normal(0, 0.01, 2000)  # densities near 40
    result = mlfit.fit(x, "normal")
    f64 = result.underflow.precisions["float64"]
    densities = stats.norm.pdf(x, result.estimate["mu"], result.estimate["sigma"])
    with np.errstate(over="ignore"):
        assert f64.first_inf_at == first_event(np.cumprod(densities), np.isinf)
    assert f64.first_zero_at is None and f64.overflows
    assert "overflows float64 to inf at row" in result.underflow.explanation()


def test_margins_are_decades_to_the_smallest_subnormal():
    log_probs = np.full(10, math.log(0.1))  # likelihood exactly 10^-10
    report = underflow_report(log_probs, -log_probs.sum())
    assert report.log10_likelihood == pytest.approx(-10)
    assert report.precisions["float64"].smallest == 5e-324
    assert report.precisions["float64"].margin_decades == pytest.approx(-10 - math.log10(5e-324))
    assert report.precisions["float16"].smallest == pytest.approx(2**-24)
    assert report.precisions["float16"].underflows  # 1e-10 < 6e-8
    assert report.precisions["float16"].first_zero_at == 8  # 0.1 in float16 times itself 8 times
    assert report.precisions["float32"].first_zero_at is None


def test_explanation_names_the_row():
    x = np.random.default_rng(0).normal(size=2000)
    result = mlfit.fit(x, "normal")
    row = result.underflow.precisions["float64"].first_zero_at
    text = result.underflow.explanation()
    assert f"hits 0.0 at row {row:,}" in text and "2,000 rows" in text and "log space" in text
