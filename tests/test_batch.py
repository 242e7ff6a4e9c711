"""Batches: several files and columns in one call, in every output format, parsed back and
compared with single fits; failures become error records and the rest go on."""

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app

runner = CliRunner()


@pytest.fixture
def three_files(tmp_path):
    paths = []
    for i in range(3):
        rng = np.random.default_rng(i)
        path = tmp_path / f"f{i}.csv"
        rows = zip(rng.poisson(1 + i, 60), rng.poisson(3 + i, 60), ["t"] * 60)
        path.write_text("home,away,note\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
        paths.append(str(path))
    return paths


def single(path, column):
    return mlfit.fit_file(path, "poisson", column).to_dict()


def test_jsonl_one_object_per_fit(three_files):
    result = runner.invoke(app, ["fit", *three_files, "-d", "poisson", "-c", "home", "-c", "away", "-f", "jsonl"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 6
    for line, (path, column) in zip(lines, [(p, c) for p in three_files for c in ("home", "away")]):
        record = json.loads(line)
        expected = single(path, column)
        assert (record["file"], record["column"]) == (path, column)
        assert record["params"] == expected["params"] and record["nll"] == expected["nll"]


def test_json_collects_fits(three_files):
    result = runner.invoke(app, ["fit", *three_files, "-d", "poisson", "-c", "home", "-c", "away", "-f", "json"])
    data = json.loads(result.stdout)
    assert [f["column"] for f in data["fits"]] == ["home", "away"] * 3


@pytest.mark.parametrize("fmt, delimiter", [("csv", ","), ("tsv", "\t")])
def test_csv_and_tsv_rows_with_stable_columns(three_files, fmt, delimiter):
    result = runner.invoke(app, ["fit", *three_files, "-d", "poisson", "-c", "home", "-c", "away", "-f", fmt])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout), delimiter=delimiter))
    assert len(rows) == 6
    assert list(rows[0]) == ["file", "column", "distribution", "n", "dropped", "param.lam", "nll", "log_likelihood",
                             "k", "aic", "bic", "stderr.lam", "ci.lam.wald_low", "ci.lam.wald_high",
                             "ci.lam.profile_low", "ci.lam.profile_high", "converged", "agrees", "error_kind",
                             "error_row", "error"]
    for row in rows:
        expected = single(row["file"], row["column"])
        assert float(row["param.lam"]) == expected["params"]["lam"]  # full precision survives the text
        assert float(row["nll"]) == expected["nll"] and int(row["n"]) == expected["n"]
        assert float(row["ci.lam.profile_high"]) == expected["ci"]["lam"]["profile"][1]
        assert row["error"] == ""


def test_table_prints_each_fit(three_files):
    result = runner.invoke(app, ["fit", *three_files[:2], "-d", "poisson", "-c", "home", "--no-chart"])
    assert result.exit_code == 0
    assert result.stdout.count("poisson fit of 'home'") == 2


def test_failures_become_error_records_and_the_rest_go_on(three_files, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("home,away\n1,2\n-3,4\n")
    files = [three_files[0], str(tmp_path / "missing.csv"), str(bad), three_files[1]]
    result = runner.invoke(app, ["fit", *files, "-d", "poisson", "-c", "home", "-c", "nope", "-f", "jsonl"])
    assert result.exit_code == 2  # a missing file or column is a usage error, as in a single fit
    assert len(result.stderr.splitlines()) == 6 and all(line.startswith("mlfit: error: ")
                                                        for line in result.stderr.splitlines())
    records = [json.loads(line) for line in result.stdout.splitlines()]
    errors = [(r["file"], r["column"], r["error"]["kind"], r["error"]["row"]) for r in records if "error" in r]
    assert errors == [
        (three_files[0], "nope", "column", None),
        (str(tmp_path / "missing.csv"), "home", "file", None),
        (str(tmp_path / "missing.csv"), "nope", "file", None),
        (str(bad), "nope", "column", None),
        (str(bad), "home", "value", 2),
        (three_files[1], "nope", "column", None),
    ]
    assert sum("params" in r for r in records) == 2
    message = next(r for r in records if r.get("error", {}).get("kind") == "value")["error"]["message"]
    assert message == f"{bad}: column 'home', row 2: -3 is not a non-negative integer count, which poisson needs"


def test_csv_error_rows(three_files, tmp_path):
    result = runner.invoke(app, ["fit", three_files[0], str(tmp_path / "gone.csv"), "-d", "poisson", "-c", "home",
                                 "-f", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[0]["error"] == "" and rows[1]["error_kind"] == "file"
    assert rows[1]["error"].endswith("gone.csv: no such file") and rows[1]["nll"] == ""
    assert result.exit_code == 2 and result.stderr.endswith("gone.csv: no such file\n")


def test_fail_fast_stops_at_the_first_failure(three_files, tmp_path):
    files = [three_files[0], str(tmp_path / "missing.csv"), three_files[1]]
    result = runner.invoke(app, ["fit", *files, "-d", "poisson", "-c", "home", "-f", "jsonl", "--fail-fast"])
    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 2 and "error" in records[1]


def test_columns_all_skips_what_the_family_does_not_accept(three_files):
    result = runner.invoke(app, ["fit", three_files[0], "-d", "poisson", "--columns-all", "-f", "jsonl"])
    assert result.exit_code == 0
    assert [json.loads(line)["column"] for line in result.stdout.splitlines()] == ["home", "away"]
    assert result.stderr.strip() == (f"mlfit: skipped {three_files[0]}: column 'note', row 1: 't' is not a number")


@pytest.mark.parametrize("args, message", [
    (["-", "-"], "standard input (-) can be read once only"),
    (["a.csv", "--columns-all", "-c", "x"], "--columns-all and --column do not go together"),
    (["a.csv", "b.csv", "--plot", "p.png"], "--plot and --plot-nll draw one fit"),
])
def test_batch_usage_errors(args, message):
    result = runner.invoke(app, ["fit", *args, "-d", "normal"])
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_fit_columns_in_python_gives_a_result_or_an_error_per_column(three_files):
    outcomes = dict(mlfit.fit_columns(three_files[0], "poisson"))
    assert list(outcomes) == ["home", "away", "note"]
    assert outcomes["home"].to_dict() == single(three_files[0], "home")
    assert isinstance(outcomes["note"], mlfit.DataError) and outcomes["note"].kind == "value"


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv", "tsv"])
def test_one_bad_cell_in_a_numeric_column_is_an_error_in_every_format(tmp_path, fmt):
    path = tmp_path / "typo.csv"
    path.write_text("id,x,y\n" + "".join(f"r{i},{i / 3:.3f},{i % 5}\n" for i in range(30)).replace("4.000", "4.0O0"))
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "--columns-all", "-f", fmt, "--no-chart"])
    assert result.exit_code == 1, result.stderr
    lines = result.stderr.splitlines()
    assert f"mlfit: skipped {path}: column 'id', row 1: 'r0' is not a number" in lines  # text: not this family's
    assert f"mlfit: error: {path}: column 'x', row 13: '4.0O0' is not a number" in lines
    if fmt == "jsonl":
        records = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(r["column"], "error" in r) for r in records] == [("x", True), ("y", False)]


def test_a_one_column_file_with_a_typo_prints_its_error_record(tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("x\n1.5\n2.5\n3,5\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "--columns-all", "-f", "jsonl"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"]["kind"] == "csv"


def test_measurements_are_skipped_for_a_count_family_but_a_stray_fraction_is_an_error(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("height,goals\n" + "".join(f"{170 + i * 0.37:.2f},{i % 4}\n" for i in range(20))
                    + "171.5,2.5\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "poisson", "--columns-all", "-f", "jsonl"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0].startswith(f"mlfit: skipped {path}: column 'height'")
    assert json.loads(result.stdout)["error"]["row"] == 21


def test_columns_all_refuses_a_header_that_names_a_column_twice(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("x,x,y\n1,2,3\n4,5,6\n2,2,2\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "--columns-all", "-f", "jsonl"])
    assert result.exit_code == 2
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["column"], r.get("error", {}).get("kind")) for r in records] == [("x", "column"), ("y", None)]
    assert f"mlfit: error: {path}: the header names column 'x' 2 times" in result.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "jsonl", "csv"])
def test_a_missing_file_and_a_bad_fix_are_exit_2_alone_or_in_a_batch(three_files, tmp_path, fmt):
    missing = str(tmp_path / "missing.csv")
    for files in ([missing], [three_files[0], missing]):
        result = runner.invoke(app, ["fit", *files, "-d", "poisson", "-c", "home", "-f", fmt])
        assert result.exit_code == 2 and result.stderr.endswith(f"{missing}: no such file\n"), result.stderr
    for files in ([three_files[0]], three_files[:2]):
        result = runner.invoke(app, ["fit", *files, "-d", "normal", "-c", "home", "--fix", "sigma=-1", "-f", fmt])
        assert result.exit_code == 2 and "sigma must be greater than 0, not -1" in result.stderr, result.stderr


def test_a_batch_of_a_family_without_a_reference_writes_csv(tmp_path):
    rng = np.random.default_rng(21)
    path = tmp_path / "two.csv"
    a, b = rng.logistic(1, 2, 50), rng.logistic(-3, 0.5, 50)
    path.write_text("a,b\n" + "".join(f"{float(x)!r},{float(y)!r}\n" for x, y in zip(a, b)))
    result = CliRunner().invoke(app, ["fit", str(path), "-d", "logis", "-c", "a", "-c", "b", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(result.stdout.splitlines()))
    assert [row["column"] for row in rows] == ["a", "b"] and {row["distribution"] for row in rows} == {"logistic"}
    assert all(row["agrees"] == "" and row["converged"] == "True" for row in rows)  # no reference to agree with
    assert float(rows[1]["param.mu"]) == pytest.approx(mlfit.fit(b, "logistic").estimate["mu"], rel=1e-12)
