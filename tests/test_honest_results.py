"""What a new user found wrong (the "honest results" issue): each case built here from a tiny input,
with the exit code and the line it must now give. The corpus at the top drives every command the
same way as test_hostile's corpus drives `fit`; the cases that need more than an exit code and a
line follow it."""

import json
import os

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from mlfit.cli import app

from conftest import write

runner = CliRunner()


def invoke(tmp_path, files, *args):
    """mlfit with `files` ({name: content}) written into tmp_path; `{name}` in args is its path."""
    paths = {"{" + name + "}": str(write(tmp_path, content, name=name)) for name, content in files.items()}
    return runner.invoke(app, [paths.get(a, a) for a in args])


POSITIVE = "x\n" + "\n".join(f"{v:.6g}" for v in np.random.default_rng(1).gamma(2.0, 3.0, 200)) + "\n"
NUMBERS = "y,x\n" + "\n".join(f"{i % 7 + 0.5 * i},{i}" for i in range(20)) + "\n"

# name: (files, arguments, exit code, a piece of the last stderr line)
CORPUS = {
    "a formula that calls a builtin": (
        {"d.csv": NUMBERS}, ["regress", "{d.csv}", "y ~ x + I(__import__('os').system('echo hi'))", "-d", "normal"],
        2, "calling \"__import__('os').system\" is not allowed: a formula is data"),
    "a formula that opens a file": (
        {"d.csv": NUMBERS}, ["regress", "{d.csv}", "y ~ I(open('/etc/passwd'))", "-d", "normal"],
        2, "calling 'open' is not allowed"),
    "a formula with an attribute": (
        {"d.csv": NUMBERS}, ["regress", "{d.csv}", "y ~ I(np.lib.format.open_memmap('m'))", "-d", "normal"],
        2, "calling 'np.lib.format.open_memmap' is not allowed"),
    "a --sigma formula that calls a builtin": (
        {"d.csv": NUMBERS}, ["regress", "{d.csv}", "y ~ x", "-d", "normal", "--sigma", "~ I(exec('1'))"],
        2, "--sigma \"I(exec('1'))\": calling 'exec' is not allowed"),
    "a response that calls a builtin": (
        {"d.csv": NUMBERS}, ["regress", "{d.csv}", "eval('y') ~ x", "-d", "normal"],
        2, "calling 'eval' is not allowed"),
}


@pytest.mark.parametrize("name", CORPUS)
def test_corpus(tmp_path, name):
    files, args, code, message = CORPUS[name]
    result = invoke(tmp_path, files, *args)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert message in result.stderr.strip().splitlines()[-1], result.stderr
    if code in (1, 2):
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1


def test_a_formula_never_runs_as_code(tmp_path):
    marker = tmp_path / "ran"
    formula = f"y ~ x + I(__import__('pathlib').Path({str(marker)!r}).touch())"
    result = invoke(tmp_path, {"d.csv": NUMBERS}, "regress", "{d.csv}", formula, "-d", "normal")
    assert result.exit_code == 2 and not marker.exists()


def test_the_documented_transforms_still_fit(tmp_path):
    formula = "np.log(y + 1) ~ np.log1p(x) + I(x**2) + np.sqrt(x) + scale(x) + C(g) + I(x > 3)"
    content = "y,x,g\n" + "\n".join(f"{i % 5 + 0.1 * i},{i},{'ab'[i % 2]}" for i in range(30)) + "\n"
    result = invoke(tmp_path, {"d.csv": content}, "regress", "{d.csv}", formula, "-d", "normal", "-f", "json")
    assert result.exit_code == 0, result.stderr
    fitted = json.loads(result.stdout)
    y = np.log(np.array([i % 5 + 0.1 * i for i in range(30)]) + 1)
    x = np.arange(30.0)
    design = np.column_stack([np.ones(30), np.arange(30) % 2, np.log1p(x), x**2, np.sqrt(x),
                              (x - x.mean()) / x.std(ddof=1), x > 3])
    fitted_values = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    sigma = np.sqrt(np.mean((y - fitted_values) ** 2))
    assert fitted["nll"] == pytest.approx(-stats.norm.logpdf(y, fitted_values, sigma).sum(), rel=1e-9)


# --- the bootstrap and fitted quantiles ---------------------------------------------------------------
def test_quantiles_without_a_bootstrap_have_delta_method_intervals(tmp_path):
    result = invoke(tmp_path, {"pos.csv": POSITIVE}, "fit", "{pos.csv}", "-d", "gamma", "--quantile", "0.5,0.9",
                    "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert "bootstrap" not in data
    shape, rate = data["params"]["shape"], data["params"]["rate"]
    for q in ("0.5", "0.9"):
        part = data["quantiles"][q]
        assert part["estimate"] == pytest.approx(stats.gamma.ppf(float(q), shape, scale=1 / rate), rel=1e-10)
        assert part["delta"][0] < part["estimate"] < part["delta"][1] and part["bootstrap"] is None
    table = invoke(tmp_path, {"pos.csv": POSITIVE}, "fit", "{pos.csv}", "-d", "gamma", "--quantile", "0.5")
    header = next(line for line in table.stdout.splitlines() if "probability" in line)
    assert table.exit_code == 0 and "delta method" in header and "bootstrap" not in header


def test_a_bootstrap_too_small_for_its_level_is_refused(tmp_path):
    result = invoke(tmp_path, {"pos.csv": POSITIVE}, "fit", "{pos.csv}", "-d", "gamma", "--bootstrap", "1")
    assert result.exit_code == 2
    assert result.stderr == ("mlfit: error: --bootstrap 1: a 0.95 percentile interval needs at least 40 replicates "
                             "(one beyond each end; 1000 is usual)\n")
    at_99 = invoke(tmp_path, {"pos.csv": POSITIVE}, "fit", "{pos.csv}", "-d", "gamma", "--bootstrap", "100",
                   "--level", "0.99")
    assert at_99.exit_code == 2 and "needs at least 200 replicates" in at_99.stderr


def test_a_bootstrap_where_no_replicate_can_be_fitted_says_so(tmp_path):
    # Two equal rows drawn from two rows: a normal with sigma -> 0 has no maximum.
    result = invoke(tmp_path, {"two.csv": "x\n1.5\n2.5\n"}, "fit", "{two.csv}", "-d", "normal", "--bootstrap", "40",
                    "--bootstrap-kind", "nonparametric", "-f", "json")
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)["bootstrap"]
    rng = np.random.default_rng(0)
    degenerate = sum(len(set(rng.integers(0, 2, 2))) == 1 for _ in range(40))
    assert data["converged"] == 40 - degenerate and degenerate > 0
    assert data["intervals"] == {"mu": None, "sigma": None}
    assert f"{degenerate} of 40 bootstrap replicates could not be fitted" in result.stderr
    assert "a 0.95 percentile interval needs at least 40" in result.stderr


def test_a_categorical_bootstrap_is_keyed_by_category(tmp_path):
    content = "x\n" + "a\n" * 30 + "b\n" * 15 + "c\n" * 5
    result = invoke(tmp_path, {"c.csv": content}, "fit", "{c.csv}", "-d", "categorical", "--bootstrap", "40",
                    "--bootstrap-kind", "nonparametric", "--bootstrap-draws", "-f", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)["bootstrap"]
    assert set(data["intervals"]["p"]) == {"a", "b", "c"}
    shares = np.array([[draw[k] for k in "abc"] for draw in data["draws"]["p"]])
    assert np.allclose(shares.sum(axis=1), 1)
    for i, label in enumerate("abc"):
        assert data["intervals"]["p"][label] == pytest.approx(np.quantile(shares[:, i], [0.025, 0.975]).tolist())
    table = invoke(tmp_path, {"c.csv": content}, "fit", "{c.csv}", "-d", "categorical", "--bootstrap", "40")
    assert table.exit_code == 0 and "p[a]" in table.stdout and "p[c]" in table.stdout
