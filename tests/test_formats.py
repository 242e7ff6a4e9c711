"""Input formats and options: separators, decimal commas, no header, encodings, compression,
byte-order marks, Windows line endings, extra missing-value markers."""

import bz2
import gzip
import json
import lzma
import zipfile

import pytest
from typer.testing import CliRunner

from mlfit.cli import app

runner = CliRunner()
VALUES = [1.5, 2.25, 3.0, 4.5]


def fit(path, *args):
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "-f", "json", *args])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"])
def test_separator_is_detected(tmp_path, sep):
    path = tmp_path / "data.txt"
    path.write_text(f"id{sep}x\n" + "".join(f"{i}{sep}{v}\n" for i, v in enumerate(VALUES)))
    assert fit(path, "-c", "x")["n"] == 4
    assert fit(path, "-c", "x", "--sep", {"\t": "tab"}.get(sep, sep))["closed_form"]["params"]["mu"] == 2.8125


def test_decimal_comma_with_semicolons(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text("id;x\n" + "".join(f"{i};{str(v).replace('.', ',')}\n" for i, v in enumerate(VALUES)))
    assert fit(path, "-c", "x", "--decimal", ",")["closed_form"]["params"]["mu"] == 2.8125
    compare = runner.invoke(app, ["compare", str(path), "-c", "x", "--decimal", ",", "-f", "json"])
    fits = {f["distribution"]: f for f in json.loads(compare.stdout)["fits"]}
    assert fits["normal"]["reference"]["params"]["mu"] == 2.8125  # every family read the same four numbers
    assert all(f["n"] == 4 for f in fits.values() if f["fitted"])


def test_no_header_names_columns_by_position(tmp_path):
    path = tmp_path / "raw.csv"
    path.write_text("".join(f"{i},{v}\n" for i, v in enumerate(VALUES)))
    data = fit(path, "--no-header", "-c", "2")
    assert data["column"] == "2" and data["n"] == 4


def test_encoding_latin1_and_utf8_bom_and_crlf(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("café\n1\n2\n4\n".encode("latin-1"))
    refused = runner.invoke(app, ["fit", str(latin), "-d", "normal"])
    assert refused.exit_code == 1 and "not a text CSV in UTF-8" in refused.stderr
    assert fit(latin, "--encoding", "latin-1")["column"] == "café"
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfx\r\n1\r\n2\r\n4\r\n")
    data = fit(bom)
    assert data["column"] == "x" and data["n"] == 3


@pytest.mark.parametrize("name, compress", [
    ("d.csv.gz", gzip.compress), ("d.csv.bz2", bz2.compress), ("d.csv.xz", lzma.compress),
])
def test_compressed_files(tmp_path, name, compress):
    path = tmp_path / name
    path.write_bytes(compress(("x\n" + "\n".join(map(str, VALUES)) + "\n").encode()))
    assert fit(path)["n"] == 4


def test_zip_with_one_member_and_with_two(tmp_path):
    path = tmp_path / "d.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("d.csv", "x\n" + "\n".join(map(str, VALUES)) + "\n")
    assert fit(path)["n"] == 4
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("e.csv", "x\n1\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "normal"])
    assert result.exit_code == 1 and "the zip archive holds 2 files; mlfit reads one CSV" in result.stderr


def test_extra_missing_markers(tmp_path):
    path = tmp_path / "na.csv"
    path.write_text("x\n1\n-999\n2\n.\n4\n")
    data = fit(path, "--na", "-999", "--na", ".")
    assert data["n"] == 3 and data["dropped"] == 2


@pytest.mark.parametrize("args, message", [
    (["--sep", "::"], "is not one character"),
    (["--decimal", ";"], "--decimal is . or , not ';'"),
    (["--encoding", "klingon"], "unknown encoding 'klingon'"),
])
def test_bad_reader_options(tmp_path, args, message):
    path = tmp_path / "x.csv"
    path.write_text("x\n1\n2\n")
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", *args])
    assert result.exit_code == 2 and message in result.stderr


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout.startswith("mlfit ")


def test_r_write_table_default_layout(tmp_path):
    # write.table(df, "t.txt"): space separated, names quoted, row names quoted, header one field short
    path = tmp_path / "t.txt"
    path.write_text('"x" "y"\n"1" 1.5 2\n"2" 2.5 NA\n"3" 3.1 4\n')
    data = fit(path, "-c", "x")
    assert data["n"] == 3 and data["params"]["mu"] == pytest.approx((1.5 + 2.5 + 3.1) / 3, rel=1e-15)
    y = fit(path, "-c", "y", "--sep", " ")
    assert (y["n"], y["dropped"]) == (2, 1)


def test_comment_lines_and_skipped_lines(tmp_path):
    stocks = tmp_path / "stocks.csv"
    stocks.write_text("# Stock prices\n# source: a sample\nDate,AAPL\n2000-01-03,3.9\n# a note\n2000-01-04,3.5\n"
                      "2000-01-05,3.6\n")
    data = fit(stocks, "-c", "AAPL", "--comment", "#")
    assert data["n"] == 3 and data["params"]["mu"] == pytest.approx(11 / 3, rel=1e-15)
    plain = runner.invoke(app, ["fit", str(stocks), "-d", "normal", "-c", "AAPL"])
    assert plain.exit_code == 2 and "skip them with --comment '#'" in plain.stderr
    titled = tmp_path / "titled.csv"
    titled.write_text("Survey 2020\nrecorded by hand\nx,y\n1,2\n3,4\n5,7\n")
    assert fit(titled, "-c", "y", "--skip", "2")["params"]["mu"] == pytest.approx(13 / 3)
