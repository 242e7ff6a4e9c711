"""Whole-number weights give exactly the fit of the rows written out that many times."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mlfit.cli import app

from json_compare import close

runner = CliRunner()
RNG = np.random.default_rng(31)
SAMPLES = {
    "normal": np.round(RNG.normal(5, 2, 40), 1),
    "laplace": np.round(RNG.laplace(0, 1, 41), 1),
    "bernoulli": RNG.integers(0, 2, 40).astype(float),
    "poisson": RNG.poisson(2.5, 40).astype(float),
    "categorical": RNG.choice(["a", "b", "c"], 40),
}


def fitted(path, *args):
    result = runner.invoke(app, ["fit", str(path), "-f", "json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("family", list(SAMPLES))
def test_weights_equal_expanded_rows(tmp_path, family):
    values = SAMPLES[family]
    weights = RNG.integers(0, 5, len(values))
    weights[0] = 3  # at least one row counts
    weighted = tmp_path / "weighted.csv"
    weighted.write_text("x,w\n" + "".join(f"{v},{w}\n" for v, w in zip(values, weights)))
    expanded = tmp_path / "expanded.csv"
    expanded.write_text("x\n" + "".join(f"{v}\n" for v in np.repeat(values, weights)))
    got = fitted(weighted, "-d", family, "-c", "x", "-w", "w")
    want = fitted(expanded, "-d", family, "-c", "x")
    assert got["n"] == want["n"] == int(weights.sum())
    close(got["closed_form"], want["closed_form"], "closed_form", rel=1e-12)
    # numerical estimates: Powell (laplace) stops ~1e-9 from the optimum whichever way it is fed
    for key in ("params", "stderr", "ci"):
        close(got[key], want[key], key, rel=1e-7)
    for key in ("nll", "aic", "bic"):
        assert got[key] == pytest.approx(want[key], rel=1e-12), key
    close(got["underflow"], want["underflow"], "underflow", rel=1e-12)
    close(got["gof"], want["gof"], "gof", rel=1e-7)  # evaluated at the numerical estimate
    close(got["loss"], want["loss"], "loss", rel=1e-7)


def test_underflow_row_counts_expanded_rows():
    from scipy import stats

    from mlfit.underflow import underflow_report

    values = np.array([0.004, 0.002, -0.003, 0.0005])  # densities near 30: the product overflows
    weights = np.array([100, 1, 400, 200])
    log_probs = stats.norm.logpdf(values, 0, 0.01)
    report = underflow_report(log_probs, -(weights @ log_probs), weights)
    expanded = np.repeat(np.exp(log_probs), weights)
    with np.errstate(over="ignore"):
        running = np.cumprod(expanded)
    assert report.precisions["float64"].first_inf_at == int(np.flatnonzero(np.isinf(running))[0]) + 1 > 101
    assert report.n == 701 and "counted as many times as its weight" in report.explanation()


def test_fractional_weights_fit_without_expansion(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("x,w\n1.0,0.5\n2.0,1.5\n4.0,1.0\n")
    data = fitted(path, "-d", "normal", "-c", "x", "-w", "w")
    assert data["n"] == 3.0
    assert data["params"]["mu"] == pytest.approx((0.5 * 1 + 1.5 * 2 + 4) / 3, rel=1e-10)
    assert "whole-number weights" in data["gof"]["note"]


@pytest.mark.parametrize("text, message", [
    ("x,w\n1,2\n2,-1\n", "column 'w', row 2: weight -1 is not a non-negative number"),
    ("x,w\n1,2\n2,\n", "column 'w', row 2: the weight is missing"),
    ("x,w\n1,2\n2,lots\n", "column 'w', row 2: 'lots' is not a number"),
    ("x,w\n1,0\n2,0\n", "column 'x': its weights sum to 0; there is nothing to fit"),
])
def test_bad_weights(tmp_path, text, message):
    path = tmp_path / "w.csv"
    path.write_text(text)
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "-c", "x", "-w", "w"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == f"mlfit: error: {path}: {message}\n"


def test_missing_values_skip_their_weights_and_batches_take_weights(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("x,y,w\n1,5,2\nNA,6,\n3,7,1\n")
    data = fitted(path, "-d", "poisson", "-c", "x", "-w", "w")
    assert data["n"] == 3 and data["dropped"] == 1
    batch = runner.invoke(app, ["fit", str(path), "-d", "poisson", "--columns-all", "-w", "w", "-f", "jsonl"])
    records = [json.loads(line) for line in batch.stdout.splitlines()]
    # y's row 2 has a value but no weight: an error record; the weights column is not fitted
    assert [r["column"] for r in records] == ["x", "y"]
    assert records[1]["error"]["message"].endswith("column 'w', row 2: the weight is missing")
    assert batch.exit_code == 1


# --- weights far beyond any number of rows one could write out --------------------------------------
@pytest.mark.parametrize("family", ["normal", "laplace", "categorical"])
@pytest.mark.parametrize("big", [1e15, 1e20, 1e300])
def test_huge_weights_fit_from_weighted_statistics(tmp_path, family, big):
    from fractions import Fraction

    path = tmp_path / "table.csv"
    path.write_text(f"x,w\n1.5,{big:g}\n2.5,3\n4,{big / 1e5:g}\n")
    result = runner.invoke(app, ["fit", str(path), "-f", "json", "-d", family, "-c", "x", "-w", "w"])
    data = json.loads(result.stdout)
    assert data["n"] == pytest.approx(big * (1 + 1e-5), rel=1e-12)
    if family == "categorical" and big == 1e300:
        # p = 3e-300 for the middle row: the optimiser, walking softmax logits from 0 a nat or so a
        # Newton step, stops far short of logit -690 and says so (exit 3) rather than pretending
        assert result.exit_code == 3 and "disagrees with the closed form" in result.stderr
        assert data["closed_form"]["params"]["p"]["2.5"] == pytest.approx(3 / (big * (1 + 1e-5)), rel=1e-14)
    else:
        assert result.exit_code == 0, result.stderr
        assert data["comparison"]["agrees"]
    if family == "normal":  # the weighted mean and root mean square deviation, in exact arithmetic
        w = [Fraction(big), Fraction(3), Fraction(big / 1e5)]
        x = [Fraction(1.5), Fraction(2.5), Fraction(4)]
        mean = sum(a * b for a, b in zip(w, x)) / sum(w)
        variance = sum(a * (b - mean) ** 2 for a, b in zip(w, x)) / sum(w)
        assert data["params"]["mu"] == pytest.approx(float(mean), rel=1e-14)
        assert data["params"]["sigma"] == pytest.approx(float(variance) ** 0.5, rel=1e-12)
    if family == "laplace":
        assert data["closed_form"]["params"]["mu"] == 1.5  # the weighted median
    # the raw product: row 1's density multiplied in over and over reaches 0.0 (or inf) long before 1e15 rows
    assert data["underflow"]["float64"]["first_zero_at"] or data["underflow"]["float64"]["first_inf_at"]


def test_a_hundred_million_rows_of_weight_take_no_time_or_memory(tmp_path):
    import resource
    import time

    path = tmp_path / "table.csv"
    path.write_text("x,w\n1,30000000\n2,40000000\n3,30000000\n")
    began = time.perf_counter()
    data = fitted(path, "-d", "normal", "-c", "x", "-w", "w", "--gof-bootstrap", "9")
    assert time.perf_counter() - began < 20  # 48 s and 6.4 GB when rows were written out
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss < 4_000_000  # KB
    assert data["params"] == pytest.approx({"mu": 2.0, "sigma": 0.6**0.5}, rel=1e-14)
    assert "no p-values" in data["gof"]["note"]  # a replicate would draw 1e8 rows


@pytest.mark.parametrize("precision, factor", [("float32", 0.999), ("float16", 0.9), ("float32", 1.0001),
                                               ("float16", 0.999), ("float32", 0.99)])
def test_a_row_repeated_many_times_meets_the_limit_where_real_multiplication_does(precision, factor):
    from mlfit.underflow import REPEATS, RunningProduct

    counts = np.array([3.0, 2_000_000.0, 5.0])
    likelihoods = np.array([0.5, factor, 0.25])
    fast = RunningProduct(precision)
    fast.feed(likelihoods, counts)
    assert counts[1] > REPEATS  # the logarithmic path is the one under test
    slow = RunningProduct(precision)
    with np.errstate(over="ignore", under="ignore"):  # as feed() multiplies
        slow._multiply(np.repeat(likelihoods.astype(precision), counts.astype(int)))  # written out for real
    got = fast.first_zero_at or fast.first_inf_at
    want = slow.first_zero_at or slow.first_inf_at
    assert got == pytest.approx(want, rel=0.01)
    if want is None:  # stuck among the subnormals, short of 0.0, where the real product sticks too
        assert (fast.carry[0], fast.rows) == (slow.carry[0], slow.rows)


def test_a_factor_near_one_repeated_1e300_times_takes_no_time():
    import time

    from mlfit.underflow import RunningProduct

    product = RunningProduct("float64")
    began = time.perf_counter()
    with np.errstate(under="ignore"):
        product.feed(np.array([0.9999999, 0.25]), np.array([1e300, 3.0]))
    assert time.perf_counter() - began < 5  # walking it took 10^8 multiplications per row
    assert product.first_zero_at is None and product.rows == 1e300 + 3
