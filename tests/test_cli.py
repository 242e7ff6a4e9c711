"""The command line, driven as a user drives it: exit codes, one-line errors, output formats."""

import gzip
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from mlfit.cli import app

from conftest import fit_json, run, write

runner = CliRunner()
REQUIRED_KEYS = {"distribution", "column", "n", "dropped", "params", "nll", "log_likelihood",
                 "closed_form", "numerical", "underflow"}


def assert_error(result, code, *fragments):
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("mlfit: error: ")
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "Traceback" not in result.stderr


# --- success paths -------------------------------------------------------------------------
def test_json_has_every_documented_field_and_matches_the_closed_form(tmp_path):
    path = write(tmp_path, "x\n1.5\n2.5\n\n3.0\nNA\nNaN\n2.0\n")
    data = fit_json(path, "--dist", "normal", "--column", "x")
    assert REQUIRED_KEYS <= data.keys()
    assert data["n"] == 4 and data["dropped"] == 3
    values = np.array([1.5, 2.5, 3.0, 2.0])
    assert data["closed_form"]["params"] == {"mu": values.mean(), "sigma": pytest.approx(values.std(), rel=1e-15)}
    assert data["params"]["sigma"] == pytest.approx(values.std(), rel=1e-9)
    assert data["log_likelihood"] == -data["nll"]
    assert set(data["numerical"]) >= {"params", "nll", "method", "iterations", "converged", "message"}
    for precision in ("float64", "float32", "float16"):
        assert set(data["underflow"][precision]) >= {"smallest", "margin_decades", "underflows",
                                                     "first_zero_at", "first_inf_at"}


def test_table_output_shows_parameters_and_the_underflow_story(tmp_path):
    path = write(tmp_path, "x\n" + "\n".join(str(v) for v in np.random.default_rng(1).normal(5, 2, 800)) + "\n")
    result = run("fit", path, "--dist", "normal")
    assert result.exit_code == 0, result.stderr
    assert "mu" in result.stdout and "sigma" in result.stdout
    assert "hits 0.0 at row" in result.stdout and "log space" in result.stdout


def test_standard_input(tmp_path):
    data = fit_json("-", "--dist", "poisson", "--column", "goals", input="goals\n0\n2\n1\n3\n")
    assert data["params"]["lam"] == pytest.approx(1.5, rel=1e-12)
    assert data["file"] == "<stdin>"


def test_gzip_file(tmp_path):
    path = tmp_path / "shots.csv.gz"
    path.write_bytes(gzip.compress(b"made\n1\n0\n1\n1\n"))
    assert fit_json(path, "--dist", "bernoulli")["params"]["p"] == pytest.approx(0.75, rel=1e-12)


def test_r_write_csv_layout_with_row_names_quoted_header_and_na(tmp_path):
    path = write(tmp_path, '"","speed","dist"\n"1",4,2\n"2",4,NA\n"3",7,4\n"4",7,22\n')
    data = fit_json(path, "--dist", "normal", "--column", "dist")
    assert data["n"] == 3 and data["dropped"] == 1
    assert data["closed_form"]["params"]["mu"] == pytest.approx(28 / 3)


def test_r_write_table_layout_and_single_data_column(tmp_path):
    # write.table leaves the row-name column out of the header; the one data column is chosen
    path = write(tmp_path, '"waiting"\n"1" 79\n"2" 54\n"3" 74\n'.replace(" ", ","))
    data = fit_json(path, "--dist", "laplace")
    assert data["column"] == "waiting" and data["n"] == 3
    assert data["closed_form"]["params"]["mu"] == 74


def test_bernoulli_accepts_true_false(tmp_path):
    path = write(tmp_path, "made\nTRUE\nfalse\ntrue\n1\n0\n")
    assert fit_json(path, "--dist", "bernoulli")["closed_form"]["params"]["p"] == 0.6


def test_categories_are_kept_as_written(tmp_path):
    path = write(tmp_path, 'code\n01\n1\n1.0\n"01"\nNA\n"jump shot"\n')
    params = fit_json(path, "--dist", "categorical")["closed_form"]["params"]["p"]
    assert params == {"01": 0.4, "1": 0.2, "1.0": 0.2, "jump shot": 0.2}


def test_boundary_optimum_exits_zero_without_warning(tmp_path):
    path = write(tmp_path, "made\n" + "1\n" * 20)
    result = run("fit", path, "--dist", "bernoulli", "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
    data = json.loads(result.stdout)
    assert data["params"]["p"] == 1.0 and data["numerical"]["at_boundary"] == ["p"]


def test_failed_check_warns_on_stderr_and_exits_3(tmp_path, monkeypatch):
    from mlfit import fitting

    monkeypatch.setitem(fitting.SEARCH_OPTIONS, "maxiter", 1)
    monkeypatch.setattr(fitting, "NEWTON_STEPS", 0)
    monkeypatch.setattr(fitting, "DECREMENT_TOLERANCE", -1.0)  # nor can a restart at the closed form certify it
    monkeypatch.setattr(fitting, "_within_rounding", lambda *a: False)
    path = write(tmp_path, "x\n" + "\n".join(str(v) for v in np.random.default_rng(2).normal(40, 3, 50)))
    result = run("fit", path, "--dist", "normal", "--format", "json")
    assert result.exit_code == 3
    json.loads(result.stdout)  # the result is still printed in full
    assert "mlfit: warning:" in result.stderr and "did not converge" in result.stderr


def test_input_file_is_never_written(tmp_path):
    path = write(tmp_path, "x\n1\n2\n4\n")
    before = (path.read_bytes(), os.stat(path).st_mtime_ns)
    run("fit", path, "--dist", "poisson")
    run("fit", path, "--dist", "bernoulli")
    assert (path.read_bytes(), os.stat(path).st_mtime_ns) == before


# --- bad input -----------------------------------------------------------------------------
@pytest.mark.parametrize("text, dist, fragments", [
    ("x\n1.0\n2.0\nabc\n", "normal", ["data.csv: column 'x', row 3: 'abc' is not a number"]),
    ("x\n1\n-2\n", "poisson", ["row 2: -2 is not a non-negative integer count"]),
    ("x\n1\n2.5\n", "poisson", ["row 2: 2.5 is not a non-negative integer count"]),
    ("x\n0\n1\n2\n", "bernoulli", ["row 3: 2 is not 0 or 1 (or true/false)"]),
    ("x\n0\nyes\n", "bernoulli", ["row 2: 'yes' is not a number"]),
    ("x\n1\ninf\n", "normal", ["row 2: inf is not a finite number"]),
    ("x\n", "normal", ["column 'x' has no rows"]),
    ("x\nNA\n\nNaN\n", "poisson", ["column 'x' has only missing cells (3)"]),
    ("x\n4.2\n4.2\nNA\n4.2\n", "normal", ["every value is the same", "sigma -> 0"]),
    ("x\n7\n", "laplace", ["every value is the same", "b -> 0"]),
    ("x\n1\n2,3\n", "normal", ["not a valid CSV", "row 2 has more cells than the header's 1"]),
    ('x\n"1\n2\n', "normal", ["not a valid CSV"]),
    ("", "normal", ["the file is empty"]),
])
def test_bad_data_exits_1_with_one_line(tmp_path, text, dist, fragments):
    path = write(tmp_path, text)
    assert_error(run("fit", path, "--dist", dist), 1, *fragments)


def test_binary_garbage_is_bad_data(tmp_path):
    path = tmp_path / "data.csv"
    path.write_bytes(bytes(range(256)) * 4)
    assert_error(run("fit", path, "--dist", "normal"), 1, "not a text CSV")


def test_bad_value_in_stdin_names_stdin():
    assert_error(run("fit", "-", "--dist", "poisson", input="n\n1\n2\n-1\n"), 1,
                 "<stdin>: column 'n', row 3: -1")


@pytest.mark.parametrize("args, fragments", [
    (["--dist", "normal", "--column", "y"], ["no column 'y'", "'a', 'b'"]),
    (["--dist", "normal"], ["has 2 columns ('a', 'b'); choose one with --column"]),
    (["--dist", "gompertz", "--column", "a"], ["'gompertz' is not one of", "normal", "lnorm"]),
])
def test_usage_errors_exit_2(tmp_path, args, fragments):
    path = write(tmp_path, "a,b\n1,2\n3,4\n")
    assert_error(run("fit", path, *args), 2, *fragments)


def test_missing_file_and_directory_exit_2(tmp_path):
    assert_error(run("fit", tmp_path / "nope.csv", "--dist", "normal"), 2, "nope.csv: no such file")
    assert_error(run("fit", tmp_path, "--dist", "normal"), 2, "is a directory")


def test_unreadable_file_exits_2(tmp_path, monkeypatch):
    import mlfit.sources

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(mlfit.sources, "open", refuse, raising=False)
    path = write(tmp_path, "x\n1\n")
    assert_error(run("fit", path, "--dist", "normal"), 2, "cannot open: permission denied")


def test_python_dash_m_and_exit_codes_in_a_real_process(tmp_path):
    path = write(tmp_path, "x\n1\n2\nzz\n")
    done = subprocess.run([sys.executable, "-m", "mlfit", "fit", str(path), "--dist", "poisson"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip() == f"mlfit: error: {path}: column 'x', row 3: 'zz' is not a number"
    ok = subprocess.run([sys.executable, "-m", "mlfit", "fit", "-", "--dist", "categorical", "--format", "json"],
                        input="s\na\nb\n", capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["params"]["p"] == {"a": 0.5, "b": 0.5}


def test_help_shows_examples_and_exit_codes():
    result = run("fit", "--help")
    assert result.exit_code == 0
    assert "Examples" in result.stdout and "Exit codes" in result.stdout


def test_the_command_line_runs_numpy_on_one_blas_thread_unless_told_otherwise():
    from mlfit.__main__ import one_blas_thread

    environment = {"PATH": "/bin"}
    one_blas_thread(environment)
    assert environment["OPENBLAS_NUM_THREADS"] == environment["OMP_NUM_THREADS"] == "1"
    mine = {"OMP_NUM_THREADS": "2"}
    one_blas_thread(mine)
    assert mine == {"OMP_NUM_THREADS": "2"}  # the user's setting stands, and mlfit adds none of its own
    # and the console script sets it before numpy loads (mlfit's import of numpy is lazy)
    probe = "import mlfit.__main__ as m, sys; m.one_blas_thread(); import numpy; import os; print(os.environ['OPENBLAS_NUM_THREADS'])"
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                              "MKL_NUM_THREADS")}
    assert subprocess.run([sys.executable, "-c", probe], env=clean, capture_output=True, text=True).stdout.strip() == "1"
