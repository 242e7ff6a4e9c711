"""For random data, each family with a reference solution agrees with it, and the others converge:
hypothesis draws the columns (derandomized, so CI cannot fail at random)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mlfit
from mlfit.errors import DataError

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

positive = st.lists(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False), min_size=2, max_size=100)
proportions = st.lists(st.floats(min_value=1e-6, max_value=1 - 1e-6, allow_nan=False), min_size=2, max_size=100)
counts = st.lists(st.integers(min_value=0, max_value=500), min_size=2, max_size=100)
reals = st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=3, max_size=100)


def fits_or_says_why(values, family, **options):
    """The fit, or None where the column has no maximum (every value the same): that is an error
    with a reason, not a crash."""
    try:
        return mlfit.fit(values, family, **options)
    except DataError as error:
        assert error.kind == "degenerate", error
        return None


def agrees(result):
    assert result.numerical.converged, result.numerical.message
    assert result.comparison.agrees, (result.estimate, result.reference_params, result.comparison)


@SETTINGS
@given(positive)
def test_positive_families_agree_with_their_reference(xs):
    for family in ("exponential", "lognormal", "gamma", "weibull"):
        result = fits_or_says_why(xs, family)
        if result is not None:
            agrees(result)


@SETTINGS
@given(proportions)
def test_beta_agrees_with_newton_on_its_score_equations(xs):
    result = fits_or_says_why(xs, "beta")
    if result is not None:
        agrees(result)


@SETTINGS
@given(counts)
def test_count_families_agree_with_their_reference(xs):
    for family, options in (("geometric", {}), ("negbinomial", {}), ("binomial", {"trials": 500})):
        result = fits_or_says_why(xs, family, **options)
        if result is not None:
            agrees(result)


@pytest.mark.slow
@settings(SETTINGS, max_examples=10)  # (each fit's profile intervals are numerical: slower)
@given(reals.filter(lambda xs: np.ptp(xs) > 1e-3 * max(1.0, np.max(np.abs(xs)))))
def test_location_scale_families_converge_and_beat_their_starts(xs):
    for family in ("logistic", "cauchy", "student_t", "uniform"):
        result = fits_or_says_why(xs, family)
        if result is None:
            continue
        start = result.family.start(result.stats)
        assert result.nll <= result.nll_at(start) + 1e-9 * abs(result.nll)
        if not result.numerical.converged:
            # The t's likelihood has no maximum (at a value k rows share, nu below k/(n-k) and
            # sigma -> 0 send it to infinity), nor may a cauchy's with half the rows at one value
            # (or nearly: 0 and 1e-181 among three rows): a search on a few rows can head there.
            # Such a fit is flagged (exit 3), and where the family knows why, it says so.
            assert family in ("student_t", "cauchy") and result.warnings(), (family, result.estimate)
            why = result.family.why_unconverged(result.stats, result.estimate)
            assert why is None or why in " ".join(result.warnings())
            k = max(xs.count(x) for x in xs)
            if family == "student_t" and result.estimate["nu"] < k / (len(xs) - k):
                assert why is not None
            continue
        assert result.numerical.converged, (family, result.numerical.message)
        if not result.inference.unique:  # a ridge of equal maxima (a cauchy on two pairs): flagged, not hidden
            assert family == "cauchy" and result.warnings() == [f"<data>: column 'x': cauchy: {result.inference.note}"]
            continue
        assert result.warnings() == []
