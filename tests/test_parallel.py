"""A big file read in two halves at once (mlfit.parallel): forced here on small files, the result
must be the one-process result, errors and row numbers included."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
import mlfit.csvtext
import mlfit.parallel
import mlfit.streaming
from mlfit.cli import app

from json_compare import close

runner = CliRunner()


@pytest.fixture
def halves_counted(monkeypatch):
    """Files of any size read in halves; the forks counted."""
    forks = []
    monkeypatch.setattr(mlfit.parallel, "PARALLEL_BYTES", 100)
    monkeypatch.setattr(mlfit.parallel, "_cores", lambda: 2)
    monkeypatch.setattr(mlfit.parallel, "_alone", lambda: True)  # (the session's Dask client runs threads)
    Forked = mlfit.parallel.Forked
    monkeypatch.setattr(mlfit.streaming, "Forked", lambda work: forks.append(1) or Forked(work))
    return forks


def numbers(output: str) -> dict:
    """A fit's JSON without the optimiser's path (its iterations and steps), which rounding in the
    statistics' last digits may change."""
    fitted = json.loads(output)
    for key in ("iterations", "evaluations", "message", "newton_decrement"):
        fitted.get("numerical", {}).pop(key, None)
    fitted.pop("comparison", None)  # (the optimiser's distance from the reference: rounding, either way)
    return fitted


def one_process(monkeypatch):
    monkeypatch.setattr(mlfit.parallel, "PARALLEL_BYTES", 10**15)


def both_ways(monkeypatch, forks, *args):
    halved = runner.invoke(app, [*args, "-f", "json"])
    assert forks, "the file was not read in halves"
    one_process(monkeypatch)
    whole = runner.invoke(app, [*args, "-f", "json"])
    return halved, whole


def write_columns(tmp_path, rows: int, seed: int = 2):
    rng = np.random.default_rng(seed)
    x, counts, made, w = rng.normal(10, 2, rows), rng.poisson(3, rows), rng.integers(0, 2, rows), rng.integers(0, 4, rows)
    lines = ["x,count,made,label,w"] + [f"{a:.6f},{b},{c},\"{'ab'[c]}\",{d}" for a, b, c, d in zip(x, counts, made, w)]
    lines[7] = ",2,1,\"b\",1"  # a missing cell
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("family, column", [("normal", "x"), ("poisson", "count"), ("bernoulli", "made"),
                                            ("categorical", "label"), ("gamma", "x")])
@pytest.mark.parametrize("limit", [40, 10**6])  # statistics merged chunk by chunk, or every value held
def test_two_halves_fit_as_one_process(tmp_path, monkeypatch, halves_counted, family, column, limit):
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 512)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", limit)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 25)
    path = write_columns(tmp_path, 3000)
    halved, whole = both_ways(monkeypatch, halves_counted, "fit", str(path), "-d", family, "-c", column,
                              "--weights", "w")
    assert halved.exit_code == whole.exit_code == 0, halved.stderr
    # the same statistics merged in another order: the same numbers to rounding (and a gamma's
    # profile-likelihood ends, each a root solved to 1e-10 of a numerical profile, to that)
    close(numbers(halved.stdout), numbers(whole.stdout), "fit", rel=1e-9 if family == "gamma" else 1e-12)


def test_every_column_in_two_halves(tmp_path, monkeypatch, halves_counted):
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 512)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    path = write_columns(tmp_path, 2000)
    halved = mlfit.fits.fit_columns(str(path), "normal", None, only_one=False, unknown=[])
    one_process(monkeypatch)
    whole = mlfit.fits.fit_columns(str(path), "normal", None, only_one=False, unknown=[])
    assert [name for name, _ in halved] == [name for name, _ in whole] == ["x", "count", "made", "label", "w"]
    for (_, a), (_, b) in zip(halved, whole):
        if isinstance(b, mlfit.MlfitError):  # the label column: its first row names the first text cell
            assert str(a) == str(b)
        else:
            close(a.to_dict(), b.to_dict(), "fit", rel=1e-12)


def test_the_raw_product_past_the_first_half_counts_rows_as_the_file_does(tmp_path, monkeypatch, halves_counted):
    # p = 0.999: float16's product reaches 0 only after ~9,000 rows, in the second half
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 10**6)
    path = tmp_path / "rare.csv"
    path.write_text("x\n" + "".join("0\n" if i % 1000 == 999 else "1\n" for i in range(20000)))
    halved, whole = both_ways(monkeypatch, halves_counted, "fit", str(path), "-d", "bernoulli")
    assert halved.exit_code == 0
    close(numbers(halved.stdout), numbers(whole.stdout), "fit", rel=1e-12)
    assert json.loads(halved.stdout)["underflow"]["float16"]["first_zero_at"] > 1500  # (in the second half)


@pytest.mark.parametrize("bad_row", [5, 2500])  # in the first half, and in the second
def test_an_error_in_either_half_names_the_row_as_one_process(tmp_path, monkeypatch, halves_counted, bad_row):
    path = tmp_path / "bad.csv"
    lines = ["x"] + [str(i % 7) for i in range(3000)]
    lines[bad_row] = "2.5"
    path.write_text("\n".join(lines) + "\n")
    halved, whole = both_ways(monkeypatch, halves_counted, "fit", str(path), "-d", "poisson")
    assert halved.exit_code == whole.exit_code == 1
    assert halved.stderr == whole.stderr and f"row {bad_row}:" in halved.stderr


def test_a_cut_inside_a_quoted_cell_reads_the_file_in_one_process(tmp_path, monkeypatch, halves_counted):
    # a quoted note holding many lines, across the middle of the file: the line the cut finds is
    # no record's start, which the quotes before it (odd in number) tell
    path = tmp_path / "notes.csv"
    before = "".join(f"{i % 5},\"a\"\n" for i in range(300))
    note = "\n".join(["line"] * 800)
    after = "".join(f"{i % 5},\"b\"\n" for i in range(300))
    path.write_text(f"x,note\n{before}3,\"{note}\"\n{after}")
    size, middle = path.stat().st_size, len("x,note\n") + (path.stat().st_size - len("x,note\n")) // 2
    assert len("x,note\n" + before) < middle < size - len(after)  # (the cut falls in the note)
    halved, whole = both_ways(monkeypatch, halves_counted, "fit", str(path), "-d", "poisson", "-c", "x")
    assert halved.exit_code == 0 and halved.stdout == whole.stdout
    assert '"n": 601' in halved.stdout.replace("\n", "").replace("  ", " ") or '"n":601' in halved.stdout


def test_small_files_and_pipes_are_read_in_one_process(tmp_path, monkeypatch):
    monkeypatch.setattr(mlfit.parallel, "_cores", lambda: 2)
    monkeypatch.setattr(mlfit.parallel, "_alone", lambda: True)
    path = write_columns(tmp_path, 200)
    assert mlfit.parallel.halves(str(path), mlfit.columns.DEFAULT) is None  # below PARALLEL_BYTES
    monkeypatch.setattr(mlfit.parallel, "PARALLEL_BYTES", 100)
    assert mlfit.parallel.halves(str(path), mlfit.columns.DEFAULT) is not None
    assert mlfit.parallel.halves("-", mlfit.columns.DEFAULT) is None
    monkeypatch.setattr(mlfit.parallel, "_cores", lambda: 1)
    assert mlfit.parallel.halves(str(path), mlfit.columns.DEFAULT) is None


@pytest.mark.parametrize("family, column", [("laplace", "x"), ("weibull", "x"), ("cauchy", "x")])
@pytest.mark.parametrize("limit", [40, 10**6])
def test_families_that_keep_their_values_read_both_halves_back(tmp_path, monkeypatch, halves_counted, family,
                                                               column, limit):
    # pass one writes each half's values to its own temporary file (the second half's made before the
    # fork); the second pass, or Newton's passes, read the first's then the second's
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 512)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", limit)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 25)
    monkeypatch.setattr(mlfit.streaming, "SAMPLE_ROWS", 64)
    path = write_columns(tmp_path, 3000)
    halved, whole = both_ways(monkeypatch, halves_counted, "fit", str(path), "-d", family, "-c", column,
                              "--weights", "w")
    assert halved.exit_code == whole.exit_code == 0, halved.stderr
    close(numbers(halved.stdout), numbers(whole.stdout), "fit", rel=1e-9)


def test_a_full_disk_in_the_second_half_reads_the_file_again(tmp_path, monkeypatch, halves_counted):
    class FullDisk:
        def write(self, data):
            raise OSError(28, "No space left on device")

        def close(self):
            pass

    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    path = write_columns(tmp_path, 3000)
    whole = mlfit.fit_file(str(path), "laplace", "x")
    made = []
    TemporaryFile = mlfit.streaming.tempfile.TemporaryFile
    monkeypatch.setattr(mlfit.streaming.tempfile, "TemporaryFile",
                        lambda **k: made.append(1) or (FullDisk() if len(made) == 1 else TemporaryFile(**k)))
    halved = mlfit.fit_file(str(path), "laplace", "x")  # (the second half's file is made first: the full one)
    assert halves_counted and halved.values is None
    assert halved.estimate == pytest.approx(whole.estimate, rel=1e-12)


def test_progress_counts_both_halves(tmp_path, monkeypatch, halves_counted):
    # the first half's bytes stand for both (the other half moves as fast): the bar ends near the file's size
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 4096)
    path = write_columns(tmp_path, 6000)
    heard = []
    mlfit.fit_file(str(path), "normal", "x", progress=lambda done, total: heard.append((done, total)))
    assert halves_counted and heard
    total = path.stat().st_size
    assert all(t == total for _, t in heard) and [d for d, _ in heard] == sorted(d for d, _ in heard)
    assert 0.9 * total <= heard[-1][0] <= total


@pytest.mark.parametrize("layout", ["crlf", "no header", "european", "notes before the header", "utf-8 bom"])
def test_every_layout_reads_in_halves_as_in_one_process(tmp_path, monkeypatch, halves_counted, layout):
    rng = np.random.default_rng(7)
    values = rng.normal(3, 1, 3000)
    args = ["-c", "x"]
    lines = ["x,y"] + [f"{v:.6f},{i % 3}" for i, v in enumerate(values)]
    if layout == "no header":
        lines, args = lines[1:], ["-c", "1", "--no-header"]
    if layout == "european":
        lines = ["x;y"] + [f"{v:.6f};{i % 3}".replace(".", ",") for i, v in enumerate(values)]
        args = ["-c", "x", "--sep", ";", "--decimal", ","]
    if layout == "notes before the header":
        lines, args = ["a title", "a note, with a comma", *lines], ["-c", "x", "--skip", "2"]
    text = ("\r\n" if layout == "crlf" else "\n").join(lines) + "\n"
    path = tmp_path / "layout.csv"
    path.write_bytes((b"\xef\xbb\xbf" if layout == "utf-8 bom" else b"") + text.encode())
    halved, whole = both_ways(monkeypatch, halves_counted, "fit", str(path), "-d", "normal", *args)
    assert halved.exit_code == whole.exit_code == 0, halved.stderr
    close(numbers(halved.stdout), numbers(whole.stdout), "fit", rel=1e-12)
    assert json.loads(halved.stdout)["n"] == 3000


def test_one_process_beside_other_threads_or_in_a_pool_worker(tmp_path, monkeypatch):
    import threading

    monkeypatch.setattr(mlfit.parallel, "_cores", lambda: 2)
    monkeypatch.setattr(mlfit.parallel, "PARALLEL_BYTES", 100)
    path = write_columns(tmp_path, 200)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert mlfit.parallel.halves(str(path), mlfit.columns.DEFAULT) is not None
    monkeypatch.setattr(threading, "active_count", lambda: 2)  # another thread beside this one
    assert mlfit.parallel.halves(str(path), mlfit.columns.DEFAULT) is None
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(mlfit.parallel.multiprocessing.current_process(), "daemon", True, raising=False)
    assert mlfit.parallel.halves(str(path), mlfit.columns.DEFAULT) is None  # a pool's worker
