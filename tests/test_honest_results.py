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
