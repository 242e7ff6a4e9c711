"""The file is read in chunks: results must not depend on where the chunks are cut."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
import mlfit.csvtext
from mlfit.cli import app

runner = CliRunner()


@pytest.fixture(params=[7, 64, 1 << 24], ids=["7-byte", "64-byte", "16-MB"])
def chunk_bytes(request, monkeypatch):
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", request.param)
    return request.param


def test_every_family_reads_the_same_whatever_the_chunks(tmp_path, chunk_bytes):
    rng = np.random.default_rng(4)
    rows = [f'{i},{rng.normal():.6f},{rng.poisson(2)},{rng.integers(0, 2)},"{rng.choice(["a", "b,c", "d"])}"'
            for i in range(300)]
    rows[17] = '17,,3,1,"multi\nline"'  # a missing cell and a quoted newline
    path = tmp_path / "mixed.csv"
    path.write_text('"id","x","count","made","label"\n' + "\n".join(rows) + "\n")
    for family, column in (("normal", "x"), ("laplace", "x"), ("poisson", "count"), ("bernoulli", "made"),
                           ("categorical", "label")):
        result = mlfit.fit_file(str(path), family, column)
        assert result.n + result.dropped == 300
        expected = {"normal": 299, "laplace": 299}.get(family, 300)
        assert result.n == expected
    cat = mlfit.fit_file(str(path), "categorical", "label").to_dict()["params"]["p"]
    assert set(cat) == {"a", "b,c", "d", "multi\nline"}


def test_cells_opened_by_spaces_read_alike_in_every_chunk(tmp_path, chunk_bytes):
    # Spaces after a separator are skipped only in chunks that hold a space: the spaced rows sit
    # late in the file, so with small chunks the early ones are read without skipping.
    rows = [f"{i % 4},{i % 3}.5,b" for i in range(200)]
    rows[150] = '1, 2.5, "c, d"'
    rows[170] = '2, NA, "c, d"'
    rows[190] = ' 3 ,  , b'
    path = tmp_path / "spaced.csv"
    path.write_text("k,x,label\n" + "\n".join(rows) + "\n")
    labels = mlfit.fit_file(str(path), "categorical", "label").to_dict()["params"]["p"]
    assert labels == pytest.approx({"b": 198 / 200, "c, d": 2 / 200})
    x = mlfit.fit_file(str(path), "normal", "x")
    values = [2.5 if i == 150 else i % 3 + 0.5 for i in range(200) if i not in (170, 190)]
    assert x.n == 198 and x.dropped == 2 and x.estimate["mu"] == pytest.approx(np.mean(values), rel=1e-12)
    assert mlfit.fit_file(str(path), "poisson", "k").estimate["lam"] == pytest.approx(
        np.mean([i % 4 for i in range(200) if i not in (150, 170, 190)] + [1, 2, 3]), rel=1e-12)


def test_bad_value_in_the_last_chunk_names_its_row(tmp_path, chunk_bytes):
    path = tmp_path / "late.csv"
    path.write_text("x\n" + "".join(f"{i % 5}\n" for i in range(999)) + "-4\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "poisson", "-f", "json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"mlfit: error: {path}: column 'x', row 1000: -4 is not a non-negative integer count, "
                             "which poisson needs\n")


def test_long_row_in_a_late_chunk_names_its_row(tmp_path, chunk_bytes):
    path = tmp_path / "ragged.csv"
    path.write_text("a,b\n" + "1,2\n" * 500 + "3,4,5\n" + "6,7\n" * 10)
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "-c", "a"])
    assert result.exit_code == 1
    assert result.stderr == f"mlfit: error: {path}: not a valid CSV: row 501 has more cells than the header's 2\n"


def test_unclosed_quote_in_a_late_chunk(tmp_path, chunk_bytes):
    path = tmp_path / "open.csv"
    path.write_text("x\n" + "1\n" * 300 + '"2\n3\n')
    result = runner.invoke(app, ["fit", str(path), "-d", "normal"])
    assert result.exit_code == 1
    assert result.stderr == f"mlfit: error: {path}: not a valid CSV: the quoted cell that starts in row 301 never ends\n"


def test_header_with_a_quoted_newline_and_a_bom(tmp_path, chunk_bytes):
    path = tmp_path / "bom.csv"
    path.write_bytes(b'\xef\xbb\xbf"error\ncm",other\r\n' + b"".join(b"%d,1\r\n" % (i % 7) for i in range(200)))
    data = json.loads(runner.invoke(app, ["fit", str(path), "-d", "poisson", "-c", "error\ncm", "-f", "json"]).stdout)
    assert data["n"] == 200 and data["closed_form"]["params"]["lam"] == pytest.approx(np.mean([i % 7 for i in range(200)]))


def test_utf16_is_recoded(tmp_path, chunk_bytes):
    path = tmp_path / "wide.csv"
    path.write_bytes(("x\n" + "\n".join(str(v) for v in range(50)) + "\n").encode("utf-16"))
    data = json.loads(runner.invoke(app, ["fit", str(path), "-d", "poisson", "--encoding", "utf-16", "-f", "json"]).stdout)
    assert data["n"] == 50 and data["closed_form"]["params"]["lam"] == 24.5


def test_numacc4_through_small_chunks(tmp_path, chunk_bytes):
    path = tmp_path / "numacc4.csv"
    path.write_text("x\n10000000.2\n" + "10000000.1\n10000000.3\n" * 500)
    result = mlfit.fit_file(str(path), "normal")
    certified = 0.1 * np.sqrt(1000 / 1001)
    assert abs(result.estimate["sigma"] - certified) / certified < 1.2e-8


def test_a_chunk_of_short_rows_holds_no_more_rows_than_bytes(tmp_path, monkeypatch):
    # a file of "3\n" rows packs the most rows into a chunk: memory per chunk follows CHUNK_BYTES
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 10)
    path = tmp_path / "short.csv"
    path.write_text('x\n' + "".join(f"{i % 3}\n" for i in range(95)) + '"1\n"\n' + "2\n" * 30)
    chunks = list(mlfit.data.iter_columns(str(path), ["x"], text=True))
    assert max(len(chunk[0].values) for chunk in chunks) <= 10
    assert len(chunks) > 12
    values = np.concatenate([chunk[0].values for chunk in chunks])
    rows = np.concatenate([chunk[0].rows for chunk in chunks])
    assert len(values) == 126 and list(rows) == list(range(1, 127)) and values[95] == "1\n"


def test_long_row_in_a_one_column_file_after_a_quoted_newline(tmp_path, chunk_bytes):
    # Every column wanted: pandas' own check finds the row; a quoted newline is no row's end.
    path = tmp_path / "one.csv"
    path.write_text('x\n"1\n"\n' + "2\n" * 400 + "3,5\n" + "4\n" * 10)
    result = runner.invoke(app, ["fit", str(path), "-d", "normal"])
    assert result.exit_code == 1
    assert result.stderr == f"mlfit: error: {path}: not a valid CSV: row 402 has more cells than the header's 1\n"


@pytest.mark.parametrize("row", [1, 250])
def test_long_row_when_every_column_is_wanted(tmp_path, chunk_bytes, row):
    # value and weight are the file's two columns; the first row must be checked like the others
    lines = ["1,2"] * 300
    lines[row - 1] = "1,2,3"
    path = tmp_path / "weighted.csv"
    path.write_text("x,w\n" + "\n".join(lines) + "\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "-c", "x", "--weights", "w"])
    assert result.exit_code == 1
    assert result.stderr == f"mlfit: error: {path}: not a valid CSV: row {row} has more cells than the header's 2\n"


def test_a_count_below_float64_late_in_the_file(tmp_path, chunk_bytes):
    # The rows before it are parsed as numbers; from its block on, as text that keeps '1e-400'.
    path = tmp_path / "late.csv"
    path.write_text("x,y\n" + "".join(f"{i % 4},{i}\n" for i in range(600)) + "1e-400,1\n2,2\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "poisson", "-c", "x"])
    assert result.exit_code == 1
    assert result.stderr == (f"mlfit: error: {path}: column 'x', row 601: '1e-400' is not 0 but is too small for "
                             "float64, which would read it as 0\n")
    # in a continuous column the same cell is the number it rounds to, and every row is read
    fitted = mlfit.fit_file(str(path), "normal", "x")
    values = [i % 4 for i in range(600)] + [0.0, 2]
    assert fitted.n == 602 and fitted.estimate["mu"] == pytest.approx(np.mean(values), rel=1e-14)


def test_one_read_csv_call_for_plain_data(tmp_path, monkeypatch):
    # pandas' per-call set-up cost a sixth of a big file's read when it was called per megabyte
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 64)
    calls = []
    read_csv = mlfit.csvtext.pd.read_csv
    monkeypatch.setattr(mlfit.csvtext.pd, "read_csv", lambda *args, **kw: calls.append(kw) or read_csv(*args, **kw))
    path = tmp_path / "plain.csv"
    path.write_text("x,y\n" + "".join(f"{i}.5,{i}\n" for i in range(500)))
    chunks = list(mlfit.data.iter_columns(str(path), ["x"]))
    assert len(calls) == 1 and len(chunks) > 20
    assert np.concatenate([c[0].values for c in chunks]).tolist() == [i + 0.5 for i in range(500)]
    # spaces late in the file: one more call from there on, which skips them
    path.write_text("x,y\n" + "".join(f"{i}.5,{i}\n" for i in range(300)) + "".join(f" {i}.5, NA\n" for i in range(200)))
    calls.clear()
    values = np.concatenate([c[0].values for c in mlfit.data.iter_columns(str(path), ["x"])])
    assert [kw["skipinitialspace"] for kw in calls] == [False, True]
    assert values.tolist() == [i + 0.5 for i in range(300)] + [i + 0.5 for i in range(200)]


@pytest.mark.parametrize("records, may", [
    (b"1,2\n3e-5,4\n", False), (b"1e-400,2\n", True), (b"x,1E-324\n", True), (b"1e-99\n", False),
    (b"1e-0400\n", True), (b"1e-05,\n" * 5000 + b"2e-400\n", True), (b"1e-05,\n" * 5000, False),
    (b"1e-05,\n" * 5000 + b"2E-400\n", True), (b"2E-400\n" + b"1e-05,\n" * 5000, True)])
def test_a_block_may_hide_an_underflowing_number_few_exponents_or_many(records, may):
    from mlfit.csvtext import _may_underflow

    assert _may_underflow(records) is may


def test_a_real_valued_column_reads_an_underflowing_number_as_the_zero_it_is(tmp_path, monkeypatch):
    # 1e-400 is 0.0 in float64: a real-valued family takes it so, with no scan of the text for it and
    # no second read_csv call reading cells as text; a count family still refuses it (above)
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 64)
    calls, scans = [], []
    read_csv, may_underflow = mlfit.csvtext.pd.read_csv, mlfit.csvtext._may_underflow
    monkeypatch.setattr(mlfit.csvtext.pd, "read_csv", lambda *args, **kw: calls.append(kw) or read_csv(*args, **kw))
    monkeypatch.setattr(mlfit.csvtext, "_may_underflow", lambda block: scans.append(1) or may_underflow(block))
    path = tmp_path / "late.csv"
    path.write_text("x,y\n" + "".join(f"{i % 4}.5,{i}\n" for i in range(600)) + "1e-400,1\n2,2\n")
    fitted = mlfit.fit_file(str(path), "normal", "x")
    values = [i % 4 + 0.5 for i in range(600)] + [0.0, 2]
    assert fitted.n == 602 and fitted.estimate["mu"] == pytest.approx(np.mean(values), rel=1e-14)
    assert len(calls) == 1 and calls[0]["dtype"] is None and not scans
