"""A corpus of hostile inputs, each with the exact exit code and message it must produce, a
property test on random CSV text, and the process-level behaviours (Ctrl-C, a closed pipe)."""

import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mlfit.cli import app

from conftest import write

runner = CliRunner()


def run(path, *args, dist="normal"):
    return runner.invoke(app, ["fit", str(path), "-d", dist, *args])


def assert_fails(result, code, message):
    assert (result.exit_code, result.stdout) == (code, ""), result.stderr
    assert result.stderr == f"mlfit: error: {message}\n"


CORPUS = {
    # name: (file content, extra arguments, family, exit code, message after "<path>: ")
    "binary garbage": (bytes(range(256)) * 8, [], "normal", 1,
                       "not a text CSV in UTF-8 (name its encoding with --encoding)"),
    "empty file": (b"", [], "normal", 1, "the file is empty (no header row)"),
    "header only": ("x\n", [], "normal", 1, "column 'x' has no rows; there is nothing to fit"),
    "duplicate header names": ("x,x\n1,2\n", ["-c", "x"], "normal", 2, "the header names column 'x' 2 times"),
    "ragged rows": ("x,y\n1,2\n3,4,5\n", ["-c", "x"], "normal", 1,
                    "not a valid CSV: row 2 has more cells than the header's 2"),
    "ragged first row": ("x,y\n1,2,3\n", ["-c", "x"], "normal", 1,
                         "not a valid CSV: row 1 has more cells than the header's 2"),
    "thousands separators in a comma file": ("x\n1,000\n2,500\n", [], "normal", 1,
                                             "not a valid CSV: row 1 has more cells than the header's 1"),
    "thousands separators in a semicolon file": ("id;x\n1;1,000\n2;2,500\n", ["-c", "x"], "normal", 1,
                                                 "column 'x', row 1: '1,000' is not a number"),
    "1e309 overflows to inf": ("x\n1\n1e309\n", [], "normal", 1,
                               "column 'x', row 2: inf is not a finite number, which normal needs"),
    "inf spelled out": ("x\n1\n2\n-Infinity\n", [], "normal", 1,
                        "column 'x', row 3: -inf is not a finite number, which normal needs"),
    "ends inside a quote": ('x\n1\n"2\n', [], "normal", 1,
                            "not a valid CSV: the quoted cell that starts in row 2 never ends"),
    "huge cell": ("x\n" + "a" * 5_000_000 + "\n", [], "normal", 1,
                  "column 'x', row 1: '" + "a" * 37 + "...' is not a number"),
    "a count below float64's smallest number": ("x\n1\n0\n1e-400\n", [], "poisson", 1,
                                                "column 'x', row 3: '1e-400' is not 0 but is too small for float64, "
                                                "which would read it as 0"),
    "a 0/1 cell below float64's smallest number": ("x\n1\n0\n-2.5E-0400\n", [], "bernoulli", 1,
                                                  "column 'x', row 3: '-2.5E-0400' is not 0 but is too small for "
                                                  "float64, which would read it as 0"),
    "a subnormal count is quoted short": ("x\n1\n0\n1e-320\n", [], "poisson", 1,
                                          "column 'x', row 3: '1e-320' is not a non-negative integer count, which "
                                          "poisson needs"),
    "constant column": ("x\n3\n3\n3\n", [], "laplace", 1,
                        "column 'x': every value is the same, so the laplace likelihood has no maximum (b -> 0)"),
    # the "honest results" issue's cases (more, across every command, in test_honest_results.py)
    "an empty zip archive": (b"PK\x05\x06" + bytes(18), [], "normal", 1,
                             "the zip archive holds 0 files; mlfit reads one CSV"),
    "a note above the header, the column picked for the user": (
        "# exported 2026-12-01\nx\n1\n2\n", [], "normal", 1,
        "column '# exported 2026-12-01', row 1: 'x' is not a number (the column's name '# exported 2026-12-01' looks "
        "like a note before the header: skip such lines with --comment '#' or --skip N)"),
    "counts whose sum leaves float64": ("x\n1e308\n1.5e308\n", [], "geometric", 1,
                                        "column 'x': the geometric likelihood of these values is beyond float64's "
                                        "range (values up to 1.5e+308); rescale the column (divide it by a power of "
                                        "ten) to fit geometric"),
    "a subnormal column's rate past float64": ("x\n5e-321\n1e-320\n2e-320\n", [], "exponential", 1,
                                               "column 'x': the exponential fit's rate is about 8.6e+319, beyond "
                                               "float64's largest number (1.8e+308); rescale the column (multiply it "
                                               "by a power of ten) to fit exponential"),
    "every row right-censored": ("t,e\n3,0\n5,0\n7,0\n", ["-c", "t", "--censored", "e"], "weibull", 1,
                                 "columns t: every row is censored and all admit values of at least 7, so the weibull "
                                 "likelihood rises towards 1 without a maximum (the search ran off to "),
}


@pytest.mark.parametrize("name", CORPUS)
def test_corpus(tmp_path, name):
    content, args, family, code, message = CORPUS[name]
    path = write(tmp_path, content)
    result = run(path, *args, dist=family)
    if message.endswith(" "):  # the rest of the line is where a search stopped: the start is compared
        assert (result.exit_code, result.stdout) == (code, "") and len(result.stderr.splitlines()) == 1
        assert result.stderr.startswith(f"mlfit: error: {path}: {message}"), result.stderr
        return
    assert_fails(result, code, f"{path}: {message}")


def test_directory_and_missing_file_and_permission(tmp_path, monkeypatch):
    assert_fails(run(tmp_path), 2, f"{tmp_path}: is a directory, not a CSV file")
    assert_fails(run(tmp_path / "nope.csv"), 2, f"{tmp_path / 'nope.csv'}: no such file")
    import mlfit.sources

    path = write(tmp_path, "x\n1\n2\n")
    monkeypatch.setattr(mlfit.sources, "open", lambda *a, **k: (_ for _ in ()).throw(PermissionError(13, "Permission denied")),
                        raising=False)
    assert_fails(run(path), 2, f"{path}: cannot open: permission denied")


def test_minus_zero_nan_and_ending_mid_row_still_fit(tmp_path):
    path = write(tmp_path, "x,y\n-0,1\nnan,2\n3,4\n2")  # no final newline; the last row has no y
    result = run(path, "-c", "y", "-f", "json", dist="poisson")
    assert result.exit_code == 0, result.stderr
    assert '"n": 3' in result.stdout and '"dropped": 1' in result.stdout
    assert run(path, "-c", "x", "-f", "json", dist="poisson").exit_code == 0  # -0 is the count 0


def test_ten_thousand_columns(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    rows = "\n".join(",".join(str((i * j) % 7) for i in range(10_000)) for j in range(1, 6))
    path = write(tmp_path, header + "\n" + rows + "\n")
    result = run(path, "-c", "c5003", "-f", "json", dist="poisson")
    assert result.exit_code == 0, result.stderr
    unknown = run(path, "-c", "c10000")
    assert unknown.exit_code == 2 and "no column 'c10000'" in unknown.stderr and len(unknown.stderr) < 400


def test_ten_million_identical_categories(tmp_path):
    path = write(tmp_path, "shot\n" + "layup\n" * 10_000_000)
    result = run(path, "-f", "json", dist="categorical")
    assert result.exit_code == 0, result.stderr
    assert '"n": 10000000' in result.stdout and '"layup": 1.0' in result.stdout


# --- random CSV text ---------------------------------------------------------------------------
cell = st.one_of(st.integers(-5, 1000).map(str), st.floats(allow_nan=True).map(str),
                 st.sampled_from(["", "NA", "nan", "inf", "true", "x", '"q,"', "1e309", "-0", " 3"]),
                 st.text(alphabet='ab,;\t"\n\r\\ 1.', max_size=6))
csv_text = st.lists(st.lists(cell, min_size=1, max_size=4), min_size=0, max_size=8).map(
    lambda rows: "\n".join(",".join(row) for row in rows))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=csv_text, family=st.sampled_from(["normal", "laplace", "bernoulli", "categorical", "poisson"]),
       header=st.booleans())
def test_random_csv_fits_or_fails_in_one_line(tmp_path, text, family, header):
    path = write(tmp_path, text, name="fuzz.csv")
    args = [] if header else ["--no-header"]
    result = runner.invoke(app, ["fit", str(path), "-d", family, "-f", "json", *args])
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    if result.exit_code in (1, 2):
        assert result.stdout == ""
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("mlfit: error: ")


# --- the process ----------------------------------------------------------------------------------
def _unread_bytes(pipe) -> int:
    """Bytes written into a pipe that its reader has not taken yet (Linux: FIONREAD on either end)."""
    import fcntl
    import struct
    import termios

    return struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIONREAD on a pipe's write end is Linux's")
def test_ctrl_c_exits_130_without_a_traceback(tmp_path):
    # Started as from a terminal: a test run in a background job (`cmd &` without job control) ignores
    # SIGINT, its children inherit that, and Python leaves an ignored SIGINT ignored; the shim restores
    # the default before it execs mlfit (an ignored Ctrl-C was the only failure in this session's CI).
    command = [sys.executable, "-m", "mlfit", "fit", "-", "-d", "normal"]
    shim = f"import os, signal; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execv({command[0]!r}, {command!r})"
    process = subprocess.Popen([sys.executable, "-c", shim], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    process.stdin.write("x\n1\n")
    process.stdin.flush()
    # The signal goes only once mlfit has taken the bytes off the pipe: it is then copying
    # standard input (which stays open), well past start-up, so the test does not depend on
    # how fast a loaded machine imports numpy.
    deadline = time.monotonic() + 60
    while _unread_bytes(process.stdin) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _unread_bytes(process.stdin) == 0, "mlfit never read its standard input"
    process.send_signal(signal.SIGINT)
    # Standard input stays open until mlfit has ended: only the signal can end it.
    try:
        process.wait(timeout=30)
    finally:
        process.kill()
        out, err = process.communicate()
    assert (process.returncode, out, err) == (130, "", "mlfit: error: interrupted\n")


def test_ctrl_c_while_importing_the_command_line_is_one_line(monkeypatch, capsys):
    # The window a signal can hit before run() installs its handling: importing mlfit.cli.
    import mlfit.__main__ as entry

    class Interrupting:
        def find_spec(self, name, path=None, target=None):
            if name == "mlfit.cli":
                raise KeyboardInterrupt

    monkeypatch.delitem(sys.modules, "mlfit.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as done:
        entry.main()
    assert done.value.code == 130
    assert capsys.readouterr().err == "mlfit: error: interrupted\n"


def test_closed_stdout_ends_quietly(tmp_path):
    path = write(tmp_path, "x\n" + "\n".join(str(i % 13) for i in range(3000)) + "\n")
    command = f"{sys.executable} -m mlfit fit {path} -d poisson -f json | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "80"})
    assert done.stdout == "{\n" and done.stderr == ""


# --- inputs and outputs a shell pipeline meets ------------------------------------------------------
def _numbers_csv(rows=2000):
    return ("x\n" + "\n".join(f"{(i * 37) % 101 / 7:.4f}" for i in range(rows)) + "\n").encode()


@pytest.mark.parametrize("suffix, compress", [(".gz", "gzip"), (".xz", "lzma"), (".bz2", "bz2")])
def test_a_truncated_compressed_file_is_bad_data_on_disk_and_on_stdin(tmp_path, suffix, compress):
    import importlib

    packed = importlib.import_module(compress).compress(_numbers_csv())
    path = write(tmp_path, packed[: len(packed) // 2], name="cut.csv" + suffix)
    name = {"gzip": "gzip", "lzma": "xz", "bz2": "bzip2"}[compress]
    assert_fails(run(path), 1, f"{path}: truncated/corrupt {name} stream")
    piped = runner.invoke(app, ["fit", "-", "-d", "normal"], input=packed[: len(packed) // 2])
    assert_fails(piped, 1, f"<stdin>: truncated/corrupt {name} stream")


@pytest.mark.parametrize("dist", ["normal", "laplace"])
def test_a_fifo_reads_like_standard_input(tmp_path, dist):
    import threading

    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    content = _numbers_csv()
    writer = threading.Thread(target=lambda: fifo.write_bytes(content), daemon=True)  # never hangs the suite
    writer.start()
    result = runner.invoke(app, ["compare", str(fifo), "-d", dist, "-d", "normal", "-f", "json"])
    writer.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    expected = runner.invoke(app, ["compare", str(write(tmp_path, content)), "-d", dist, "-d", "normal", "-f", "json"])
    import json

    assert [f["nll"] for f in json.loads(result.stdout)["fits"]] == [f["nll"] for f in json.loads(expected.stdout)["fits"]]


def test_process_substitution_and_closed_stdin_from_a_shell(tmp_path):
    path = write(tmp_path, _numbers_csv(), name="d.csv")
    mlfit = f"{sys.executable} -m mlfit"
    done = subprocess.run(["bash", "-c", f"{mlfit} fit <(cat {path}) -d laplace -f json"], capture_output=True,
                          text=True)
    assert done.returncode == 0 and '"n": 2000' in done.stdout, done.stderr
    closed = subprocess.run(["bash", "-c", f"{mlfit} fit - -d normal <&-"], capture_output=True, text=True)
    assert closed.returncode == 2
    assert closed.stderr == "mlfit: error: FILE is '-' but standard input is closed: pipe a CSV in, or name a file\n"


def test_utf16_is_read_with_a_byte_order_mark_and_named_without_one(tmp_path):
    text = "x\n1.5\n2\n3\n"
    marked = write(tmp_path, text.encode("utf-16"), name="bom.csv")
    result = run(marked, "-f", "json")
    assert result.exit_code == 0 and '"n": 3' in result.stdout, result.stderr
    for order in ("le", "be"):
        bare = write(tmp_path, text.encode(f"utf-16-{order}"), name=f"{order}.csv")
        assert_fails(run(bare), 1, f"{bare}: looks like UTF-16 text without a byte-order mark (every other byte "
                                   f"is 0): read it with --encoding utf-16-{order}")
        assert run(bare, "--encoding", f"utf-16-{order}").exit_code == 0


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("output", ["table", "json", "jsonl", "csv"])
def test_a_full_disk_and_a_closed_stdout_are_errors(tmp_path, output):
    path = write(tmp_path, _numbers_csv(), name="d.csv")
    mlfit = f"{sys.executable} -m mlfit fit {path} -d normal -f {output}"
    full = subprocess.run(["bash", "-c", f"{mlfit} > /dev/full"], capture_output=True, text=True)
    assert (full.returncode, full.stderr) == (1, "mlfit: error: cannot write the output: no space left on device\n")
    closed = subprocess.run(["bash", "-c", f"{mlfit} >&-"], capture_output=True, text=True)
    assert (closed.returncode, closed.stderr) == (1, "mlfit: error: standard output is closed: nothing can be written\n")


def test_a_negative_seed_is_a_usage_error(tmp_path):
    path = write(tmp_path, _numbers_csv())
    result = run(path, "--gof-bootstrap", "3", "--seed", "-5")
    assert result.exit_code == 2 and "--seed" in result.stderr and len(result.stderr.splitlines()) == 1


def test_a_zero_written_with_a_long_exponent_is_still_zero(tmp_path):
    path = write(tmp_path, "x\n1\n0e-400\n0.000E-999\n2\n")
    result = run(path, "-f", "json", dist="poisson")
    assert result.exit_code == 0 and '"n": 4' in result.stdout, result.stderr


def test_a_number_in_an_error_is_short(tmp_path):
    path = write(tmp_path, "x\n1\n0\n2\n", name="d.csv")
    from mlfit.columns import _show

    assert _show(1e-320) == "1e-320" and _show(2.5) == "2.5" and _show(0.0) == "0" and _show(1e300) == "1e+300"
    assert run(path, dist="poisson").exit_code == 0


# --- generated tables: cells, weights and scales from 1e-300 to 1e300 ----------------------------
def _number(mantissa, exponent):
    return f"{mantissa:.6g}e{exponent}"


number_cell = st.builds(_number, st.floats(-9.99, 9.99, allow_nan=False), st.integers(-320, 300))
count_cell = st.integers(0, 10**6).map(str)
odd_cell = st.sampled_from(["", "NA", "x", "inf", "-inf", "1e-400", "1e400", "true", "FALSE", " 3 ", '"a,b"'])
weight_cell = st.one_of(st.sampled_from(["1", "0", "3", "0.5", "1e15", "1e20", "1e300", "1e-300", "", "-1", "x"]),
                        st.integers(0, 50).map(str))


# Derandomized: CI runs the same 120 tables every time, so it cannot fail at random; the same test
# was run with 3,000 fresh random examples at a time while it was written.
@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.one_of(number_cell, count_cell, odd_cell), weight_cell), min_size=1, max_size=12),
       family=st.sampled_from(["normal", "laplace", "bernoulli", "categorical", "poisson"]),
       weighted=st.booleans())
def test_generated_tables_fit_or_fail_in_one_line_and_a_fit_agrees(tmp_path, rows, family, weighted):
    import json

    path = write(tmp_path, "x,w\n" + "".join(f"{x},{w}\n" for x, w in rows), name="generated.csv")
    args = ["fit", str(path), "-d", family, "-c", "x", "-f", "json", *(["-w", "w"] if weighted else [])]
    result = runner.invoke(app, args)
    assert result.exit_code in (0, 1, 2, 3), (result.exit_code, result.stderr)  # never 70
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr
    if result.exit_code in (1, 2):
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1
    if result.exit_code == 0:
        data = json.loads(result.stdout)
        assert data["comparison"]["agrees"] and data["numerical"]["converged"]
