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
