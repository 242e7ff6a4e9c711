"""Past the in-memory limit, a file is fitted from statistics merged chunk by chunk. Forced here
with tiny limits and chunks, the streamed fit must equal the in-memory one."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
import mlfit.api
import mlfit.streaming
import mlfit.csvtext
from mlfit.cli import app
from mlfit.families import NAMES, get_family
from mlfit.families.statistics import Values

from json_compare import close

runner = CliRunner()


@pytest.fixture
def tiny_limits(monkeypatch):
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 97)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 25)


def fitted(path, *args, input=None):
    result = runner.invoke(app, ["fit", str(path), "-f", "json", *args], input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write(tmp_path, rows, header="x,w"):
    path = tmp_path / "data.csv"
    path.write_text(header + "\n" + "".join(f"{row}\n" for row in rows))
    return path


SAMPLES = {
    "normal": lambda rng: [f"{v:.4f}" for v in rng.normal(25, 4, 300)],
    "laplace": lambda rng: [f"{v:.4f}" for v in rng.laplace(-3, 2, 302)],  # 301 kept: one median
    "poisson": lambda rng: [str(v) for v in rng.poisson(2.5, 300)],
    "bernoulli": lambda rng: [str(v) for v in rng.integers(0, 2, 300)],
    "categorical": lambda rng: list(rng.choice(["a", "b", "c,d"], 300)),
}
TRIALS = 12


def sample(name, rng):
    """300 values of the family, from its own example parameters where SAMPLES has none."""
    if name in SAMPLES:
        return SAMPLES[name](rng)
    family = get_family(name, TRIALS)
    return [repr(float(v)) for v in family.sample(rng, family.example, 300)]


@pytest.mark.parametrize("family", NAMES)
def test_streamed_fit_equals_the_in_memory_fit(tmp_path, monkeypatch, family):
    rng = np.random.default_rng(8)
    values = sample(family, rng)
    values[13] = ""  # a missing cell
    path = write(tmp_path, [f'"{v}"' if "," in v else v for v in values], header="x")
    trials = ["--trials", str(TRIALS)] if family == "binomial" else []
    whole = fitted(path, "-d", family, *trials)
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 97)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 25)
    monkeypatch.setattr(mlfit.streaming, "SAMPLE_ROWS", 32)
    kind = get_family(family, TRIALS)
    # no statistic smaller than the values: past the in-memory limit they go to a temporary file,
    # and Newton's method finishes the fit of a sample with a pass over them a step
    on_disk = kind.support.numeric and isinstance(kind.summarize(kind.sample(rng, kind.example, 3)), Values)
    streamed = fitted(path, "-d", family, *trials)
    assert streamed["numerical"]["converged"] and (streamed["comparison"] is None or streamed["comparison"]["agrees"])
    if streamed["reference"] is not None:
        close(streamed["reference"], whole["reference"], "reference")
    # laplace's numerical estimate comes from Powell, good to ~1e-9 whichever way it is fed; values
    # on disk are fitted by other steps to the same optimum (a Newton decrement of 1e-8 or less)
    numerical = 1e-7 if family == "laplace" else 1e-9 if on_disk else 1e-12
    keys = ("n", "dropped", "params", "stderr", "k", "nll", "aic", "bic", "loss", "underflow")
    for key in keys if on_disk else (*keys, "ci"):
        close(streamed[key], whole[key], key, rel=numerical)
    if on_disk:  # Wald intervals only: a profile-likelihood end would take dozens of passes
        assert "passes over the values" in streamed["numerical"]["message"]
        close({name: ci["wald"] for name, ci in streamed["ci"].items()},
              {name: ci["wald"] for name, ci in whole["ci"].items()}, "ci", rel=numerical)
        assert all(ci["profile"] == [None, None] for ci in streamed["ci"].values())
    if get_family(family, TRIALS).continuous:
        assert "beyond 40 rows" in streamed["gof"]["note"] and "ks" not in streamed["gof"]
    else:
        close(streamed["gof"], whole["gof"], "gof")


def test_numacc4_streamed(tmp_path, tiny_limits):
    path = write(tmp_path, ["10000000.2"] + ["10000000.1", "10000000.3"] * 500, header="x")
    result = mlfit.fit_file(str(path), "normal")
    assert result.values is None  # it did stream
    certified = 0.1 * np.sqrt(1000 / 1001)
    assert abs(result.estimate["sigma"] - certified) / certified < 1.2e-8


def test_bad_value_in_the_last_chunk_when_streaming(tmp_path, tiny_limits):
    path = write(tmp_path, [str(i % 4) for i in range(500)] + ["2.5"], header="x")
    result = runner.invoke(app, ["fit", str(path), "-d", "poisson", "-f", "json"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr == (f"mlfit: error: {path}: column 'x', row 501: 2.5 is not a non-negative integer count, "
                             "which poisson needs\n")


def test_raw_product_followed_past_the_prefix(tmp_path, tiny_limits):
    # p = 0.99: a row's likelihood is 0.99, so float16 only reaches 0.0 after ~1,600 rows, far
    # past the 25 kept rows: the report must come from a second pass over the file.
    values = ["1"] * 2000 + ["0"] * 20
    path = write(tmp_path, values, header="made")
    streamed = mlfit.fit_file(str(path), "bernoulli")
    assert streamed.values is None
    reference = mlfit.fit([float(v) for v in values], "bernoulli")
    for name in ("float64", "float32", "float16"):
        assert streamed.underflow.precisions[name] == reference.underflow.precisions[name]
    assert streamed.underflow.precisions["float16"].first_zero_at is not None


def test_standard_input_streams_with_a_second_pass(tmp_path, tiny_limits):
    text = "made\n" + "1\n" * 2000 + "0\n" * 20
    streamed = fitted("-", "-d", "bernoulli", input=text)
    whole = mlfit.fit([1.0] * 2000 + [0.0] * 20, "bernoulli").to_dict()
    assert streamed["underflow"] == whole["underflow"] and streamed["params"] == pytest.approx(whole["params"])


def test_weights_stream_too(tmp_path, tiny_limits):
    rng = np.random.default_rng(9)
    rows = [f"{rng.poisson(3)},{rng.integers(0, 4)}" for _ in range(300)]
    path = write(tmp_path, rows)
    streamed = fitted(path, "-d", "poisson", "-c", "x", "-w", "w")
    expanded = [r.split(",")[0] for r in rows for _ in range(int(r.split(",")[1]))]
    whole = mlfit.fit([float(v) for v in expanded], "poisson").to_dict()
    assert streamed["n"] == whole["n"] and streamed["nll"] == pytest.approx(whole["nll"], rel=1e-12)
    close(streamed["underflow"], whole["underflow"], "underflow")


def test_fractional_weights_late_in_the_file_are_powers_from_the_first_row(tmp_path, monkeypatch):
    # The first chunks' weights are whole, the column's are not: every row enters the raw
    # product as a power, as in memory, so the rows where it hits 0.0 are counted alike.
    rng = np.random.default_rng(10)
    rows = [f"{rng.normal(0, 0.05):.4f},{rng.integers(1, 4)}" for _ in range(300)]
    rows[290] = rows[290].split(",")[0] + ",0.5"
    path = write(tmp_path, rows)
    whole = fitted(path, "-d", "normal", "-c", "x", "-w", "w")
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 97)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 1000)  # the whole file: no second pass
    streamed = fitted(path, "-d", "normal", "-c", "x", "-w", "w")
    assert whole["underflow"]["float32"]["first_inf_at"] is not None
    close(streamed["underflow"], whole["underflow"], "underflow", rel=1e-12)


def test_plots_keep_every_value(tmp_path, tiny_limits):
    path = write(tmp_path, [f"{v:.3f}" for v in np.random.default_rng(2).laplace(size=200)], header="x")
    assert mlfit.fit_file(str(path), "laplace").values is None
    assert mlfit.fit_file(str(path), "laplace", keep_values=True).values is not None


def test_laplace_even_count_and_far_from_zero_when_streamed(tmp_path, tiny_limits):
    values = ["10000000.2"] + ["10000000.1", "10000000.3"] * 500 + ["10000000.25"]  # even count
    path = write(tmp_path, values, header="x")
    streamed = mlfit.fit_file(str(path), "laplace")
    whole = mlfit.fit([float(v) for v in values], "laplace")
    assert streamed.values is None
    assert streamed.closed_form_params["mu"] == whole.closed_form_params["mu"]
    assert streamed.closed_form_params["b"] == pytest.approx(whole.closed_form_params["b"], rel=1e-9)
    assert streamed.comparison.agrees and streamed.numerical.converged


def test_a_misplaced_bracket_falls_back_to_holding_every_value(tmp_path, tiny_limits, monkeypatch):
    from mlfit.families import base, median_statistics

    def misplaced(sketch, edges, part):
        raise base.NeedsEveryValue

    monkeypatch.setattr(median_statistics.Bracket, "completed", classmethod(lambda cls, *a: misplaced(*a)))
    path = write(tmp_path, [f"{v:.3f}" for v in np.random.default_rng(3).laplace(size=200)], header="x")
    result = mlfit.fit_file(str(path), "laplace")
    assert result.values is not None and result.comparison.agrees


class FullDisk:
    closed = False

    def write(self, data):
        raise OSError(28, "No space left on device")

    def close(self):
        self.closed = True


@pytest.mark.parametrize("weighted", [False, True])
def test_the_second_pass_reads_the_spill_not_the_file(tmp_path, tiny_limits, monkeypatch, weighted):
    rng = np.random.default_rng(21)
    rows = [f"{v:.4f},{w}" for v, w in zip(rng.laplace(2, 1, 301), rng.integers(0, 4, 301))]
    path = write(tmp_path, rows)
    values = np.array([float(r.split(",")[0]) for r in rows])
    weights = np.array([float(r.split(",")[1]) for r in rows]) if weighted else None
    whole = mlfit.fit(values, "laplace", weights=weights)
    parses, spills = [], []
    iter_columns, TemporaryFile = mlfit.data.iter_columns, mlfit.streaming.tempfile.TemporaryFile
    counted = lambda *a, **k: parses.append(1) or iter_columns(*a, **k)  # noqa: E731
    monkeypatch.setattr(mlfit.streaming, "iter_columns", counted)  # pass one
    monkeypatch.setattr(mlfit.data, "iter_columns", counted)  # any pass through iter_weighted
    for disk in ("room", "full"):  # a full disk: the second pass parses the file again
        spill = (lambda **k: spills.append(TemporaryFile(**k)) or spills[-1]) if disk == "room" else (
            lambda **k: spills.append(FullDisk()) or spills[-1])
        monkeypatch.setattr(mlfit.streaming.tempfile, "TemporaryFile", spill)
        parses.clear()
        streamed = mlfit.fit_file(str(path), "laplace", "x", weights="w" if weighted else None)
        assert streamed.values is None
        assert streamed.closed_form_params["mu"] == whole.closed_form_params["mu"]
        assert streamed.closed_form_params["b"] == pytest.approx(whole.closed_form_params["b"], rel=1e-13)
        assert len(spills) == 1 and spills.pop().closed  # one spill, gone when the fit is done
        counts = (counts, len(parses)) if disk == "full" else len(parses)
    assert counts[1] == counts[0] + 1


def test_progress_hears_the_bytes_read(tmp_path, monkeypatch):
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 512)
    path = write(tmp_path, [str(i % 9) for i in range(2000)], header="x")
    heard = []
    mlfit.fit_file(str(path), "poisson", progress=lambda done, total: heard.append((done, total)))
    assert len(heard) > 3
    assert [done for done, _ in heard] == sorted(done for done, _ in heard)
    assert {total for _, total in heard} == {path.stat().st_size} and heard[-1][0] == path.stat().st_size


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, monkeypatch):
    import mlfit.cli

    monkeypatch.setattr(mlfit.cli.common, "PROGRESS_BYTES", 0)
    path = write(tmp_path, [str(i % 9) for i in range(2000)], header="x")
    result = runner.invoke(app, ["fit", str(path), "-d", "poisson", "-f", "json"])
    assert result.exit_code == 0 and result.stderr == ""


def test_bracket_sums_are_exact_where_it_claims():
    from mlfit.families import get_family
    from mlfit.families.median_statistics import Sketch

    rng = np.random.default_rng(12)
    values = rng.laplace(5, 3, 5000)
    weights = rng.integers(0, 3, 5000).astype(float)
    sketch = Sketch.of(values[:2500], weights[:2500], 1).merge(Sketch.of(values[2500:], weights[2500:], 2))
    bracket = get_family("laplace").finish(sketch, lambda: iter([(values[:2500], weights[:2500]),
                                                                 (values[2500:], weights[2500:])]))
    total = weights.sum()
    for mu in np.linspace(bracket.low, bracket.high, 7):
        assert bracket.mean_abs(mu) == pytest.approx(weights @ np.abs(values - mu) / total, rel=1e-12)
    expanded = np.sort(np.repeat(values, weights.astype(int)))
    k = len(expanded) // 2
    assert (bracket.lower_median, bracket.upper_median) == ((expanded[k - 1], expanded[k]) if len(expanded) % 2 == 0
                                                           else (expanded[k], expanded[k]))
    with pytest.raises(ValueError):
        bracket.mean_abs(bracket.low - 1.0)  # values lie below the bracket: not held, not guessed


def test_a_batch_reads_each_file_once_and_streams_every_column(tmp_path, monkeypatch):
    rng = np.random.default_rng(12)
    rows = [f"{a:.3f},{b:.3f},{c},{w}" for a, b, c, w in
            zip(rng.normal(5, 2, 240), rng.laplace(0, 1, 240), rng.poisson(2, 240), rng.integers(1, 4, 240))]
    rows[200] = rows[200].replace(",", ",x", 1)  # column b: a late cell that is not a number
    path = write(tmp_path, rows, header="a,b,c,w")
    whole = {column: fitted(path, "-d", "normal", "-c", column, "-w", "w") for column in ("a", "c")}
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 97)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 25)
    monkeypatch.setattr(mlfit.streaming, "BATCH_ROWS", 90)  # three columns: 30 rows each held whole
    passes = []  # the passes over the file that read every column at once
    real_iter = mlfit.streaming.iter_columns
    monkeypatch.setattr(mlfit.streaming, "iter_columns", lambda *args, **kw: passes.append(args[1]) or real_iter(*args, **kw))
    result = runner.invoke(app, ["fit", str(path), "-d", "normal", "--columns-all", "-w", "w", "-f", "jsonl"])
    assert result.exit_code == 1, result.stderr  # a numeric column with a bad cell is an error, not skipped
    assert result.stderr == f"mlfit: error: {path}: column 'b', row 201: 'x-0.835' is not a number\n"
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [record["column"] for record in records] == ["a", "b", "c"]
    assert records.pop(1)["error"]["row"] == 201
    assert passes == [None]  # one pass reads all three (the raw product is then followed column by column)
    for record in records:
        whole_fit = whole[record["column"]]
        assert "beyond 30 rows" in record["gof"]["note"]
        for key in ("n", "dropped", "params", "stderr", "ci", "nll", "loss", "underflow"):
            close(record[key], whole_fit[key], key, rel=1e-12)


def test_a_batch_column_that_fails_late_leaves_the_others(tmp_path, tiny_limits):
    rows = [f"{i % 7},{i % 5}" for i in range(300)]
    rows[280] = "3,-1"
    path = write(tmp_path, rows, header="good,bad")
    result = runner.invoke(app, ["fit", str(path), "-d", "poisson", "-c", "good", "-c", "bad", "-f", "jsonl"])
    assert result.exit_code == 1
    good, bad = (json.loads(line) for line in result.stdout.splitlines())
    assert good["column"] == "good" and good["params"]["lam"] == pytest.approx(
        np.mean([3 if i == 280 else i % 7 for i in range(300)]), rel=1e-12)
    assert bad["error"] == {"kind": "value", "row": 281, "message": f"{path}: column 'bad', row 281: -1 is not a "
                            "non-negative integer count, which poisson needs"}


@pytest.mark.parametrize("family", ["normal", "laplace", "poisson", "bernoulli", "categorical"])
def test_a_streamed_chunk_whose_weights_are_all_zero_fits_as_in_memory(tmp_path, monkeypatch, family):
    rng = np.random.default_rng(21)
    values = {"normal": rng.normal(4, 1, 200).round(3), "laplace": rng.laplace(4, 1, 200).round(3),
              "poisson": rng.poisson(3, 200), "bernoulli": rng.integers(0, 2, 200),
              "categorical": rng.choice(["a", "b"], 200)}[family]
    weights = rng.integers(1, 4, 200)
    weights[60:140] = 0  # whole chunks of rows that count for nothing
    path = write(tmp_path, [f"{v},{w}" for v, w in zip(values, weights)])
    whole = fitted(path, "-d", family, "-c", "x", "-w", "w")
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 97)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    monkeypatch.setattr(mlfit.streaming, "PREFIX_ROWS", 25)
    streamed = fitted(path, "-d", family, "-c", "x", "-w", "w")
    close(streamed["closed_form"], whole["closed_form"], "closed_form")
    close(streamed["params"], whole["params"], "params", rel=1e-7 if family == "laplace" else 1e-12)


def test_all_zero_weights_say_the_same_streamed_or_not(tmp_path, monkeypatch):
    path = write(tmp_path, [f"{v},0" for v in range(100)])
    whole = runner.invoke(app, ["fit", str(path), "-d", "normal", "-c", "x", "-w", "w"])
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 97)
    monkeypatch.setattr(mlfit.streaming, "IN_MEMORY_ROWS", 40)
    streamed = runner.invoke(app, ["fit", str(path), "-d", "normal", "-c", "x", "-w", "w"])
    assert whole.exit_code == streamed.exit_code == 1
    assert whole.stderr == streamed.stderr == f"mlfit: error: {path}: column 'x': its weights sum to 0; there is nothing to fit\n"


def test_the_merged_sketch_holds_exactly_the_largest_keys_of_every_row(monkeypatch):
    import mlfit.families.median_statistics as median_statistics
    from mlfit.families.median_statistics import Sketch

    monkeypatch.setattr(median_statistics, "RESERVOIR", 50)
    rng = np.random.default_rng(8)
    chunks = [rng.normal(size=int(size)) for size in rng.integers(1, 120, 40)]
    weights = [rng.uniform(0.1, 3, len(c)) for c in chunks]
    for weighted in (False, True):
        running, all_keys, all_values = None, [], []
        for i, (values, w) in enumerate(zip(chunks, weights)):
            part = Sketch.of(values, w if weighted else None, seed=i)
            keys = np.random.default_rng(i).random(len(values)) ** (1.0 / (w if weighted else 1.0))
            all_keys.append(keys)
            all_values.append(values)
            running = part if running is None else running.merge(part)
        keys, values = np.concatenate(all_keys), np.concatenate(all_values)
        top = np.argsort(keys)[-50:]
        assert sorted(running.bracket_sample().tolist()) == sorted(values[top].tolist())


def test_a_sketch_travels_as_its_largest_keys(monkeypatch):
    import pickle

    import mlfit.families.median_statistics as median_statistics
    from mlfit.families.median_statistics import Sketch

    monkeypatch.setattr(median_statistics, "RESERVOIR", 100)
    values = np.random.default_rng(3).normal(size=5000)
    sketch = Sketch.of(values, None, seed=2)
    sent = pickle.loads(pickle.dumps(sketch))
    limit = median_statistics.RESERVOIR
    assert len(sketch.keys) == 5000 and len(sent.keys) == limit == 100
    assert np.array_equal(np.sort(sent.bracket_sample()), np.sort(sketch.bracket_sample()))
    assert sent.moments == sketch.moments and (sent.low, sent.high) == (sketch.low, sketch.high)


# --- families with no statistic smaller than the values, past the in-memory limit ----------------

def test_the_sample_a_fit_on_disk_starts_from_is_evenly_spread(monkeypatch):
    monkeypatch.setattr(mlfit.streaming, "SAMPLE_ROWS", 100)
    spilling = mlfit.streaming.Spilling()
    values = np.arange(1000, dtype=float)
    for part in np.array_split(values, 37):  # parts of uneven lengths
        spilling.add(part, None)
    on_disk = spilling.on_disk(lambda: iter([(values, None)]))
    assert on_disk.sample.values.tolist() == values[::16].tolist()  # 63 rows: the stride doubled 4 times
    assert (on_disk.n, on_disk.low, on_disk.high, on_disk.rows) == (1000, 0.0, 999.0, 1000)


@pytest.mark.parametrize("family", ["weibull", "logistic", "cauchy", "student_t"])
def test_weighted_values_on_disk_fit_as_in_memory(tmp_path, tiny_limits, monkeypatch, family):
    monkeypatch.setattr(mlfit.streaming, "SAMPLE_ROWS", 16)
    kind = get_family(family)
    rng = np.random.default_rng(4)
    values, weights = kind.sample(rng, kind.example, 400), rng.integers(0, 4, 400).astype(float)
    path = write(tmp_path, [f"{float(v)!r},{w:g}" for v, w in zip(values, weights)])
    whole = mlfit.fit(values, family, weights=weights)
    streamed = mlfit.fit_file(str(path), family, "x", weights="w")
    assert streamed.values is None and streamed.numerical.converged
    assert "passes over the values" in streamed.numerical.message
    assert streamed.numerical.nll == pytest.approx(whole.numerical.nll, rel=1e-13)
    for name, value in whole.estimate.items():
        assert streamed.estimate[name] == pytest.approx(value, rel=1e-8)
    assert streamed.loss()["nll_from_loss"] == pytest.approx(whole.loss()["nll_from_loss"], rel=1e-12)


def test_values_on_disk_parse_the_file_again_where_the_disk_is_full(tmp_path, tiny_limits, monkeypatch):
    rng = np.random.default_rng(5)
    values = 3.0 * rng.weibull(1.7, 300)
    path = write(tmp_path, [repr(float(v)) for v in values], header="x")
    whole = mlfit.fit(values, "weibull")
    monkeypatch.setattr(mlfit.streaming.tempfile, "TemporaryFile", lambda **k: FullDisk())
    streamed = mlfit.fit_file(str(path), "weibull")
    assert streamed.values is None and streamed.comparison.agrees
    assert streamed.reference_params["shape"] == pytest.approx(whole.reference_params["shape"], rel=1e-13)


@pytest.mark.parametrize("family, cells, message", [
    ("weibull", ["2.5"] * 60, "every value is the same"),
    ("logistic", ["-1"] * 60, "every value is the same"),
    ("cauchy", ["4"] * 40 + [str(v) for v in range(20)], "more than half the rows are 4"),
])
def test_values_on_disk_without_a_maximum_say_why(tmp_path, tiny_limits, family, cells, message):
    path = write(tmp_path, cells, header="x")
    result = runner.invoke(app, ["fit", str(path), "-d", family])
    assert result.exit_code != 0 and result.stdout == ""
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_values_on_disk_with_a_far_value_fit_as_in_memory(tmp_path, tiny_limits, monkeypatch):
    # A row at 1e9 puts the optimiser's unit near the half range, where the location's curvature is
    # 10^17 times the scale's: Newton's steps must still be whole steps in both
    monkeypatch.setattr(mlfit.streaming, "SAMPLE_ROWS", 64)
    values = np.append(-1.0 + 0.7 * np.random.default_rng(9).standard_cauchy(500), 1e9)
    path = write(tmp_path, [repr(float(v)) for v in values], header="x")
    whole = mlfit.fit(values, "cauchy")
    streamed = mlfit.fit_file(str(path), "cauchy")
    assert streamed.values is None and streamed.numerical.converged
    passes = int(streamed.numerical.message.split(" passes over the values")[0].split()[-1])
    assert passes <= 8
    for name, value in whole.estimate.items():
        assert streamed.estimate[name] == pytest.approx(value, rel=1e-9)


def test_the_sample_on_disk_holds_only_rows_that_weigh_something(tmp_path, tiny_limits, monkeypatch):
    # most rows weigh nothing: an evenly spread sample of all rows could hold none that weighs
    # something, and the search on it would have nothing to fit
    monkeypatch.setattr(mlfit.streaming, "SAMPLE_ROWS", 16)
    rng = np.random.default_rng(6)
    values = 3.0 * rng.weibull(1.7, 400)
    weights = np.where(np.arange(400) % 37 == 5, 2.0, 0.0)
    path = write(tmp_path, [f"{float(v)!r},{w:g}" for v, w in zip(values, weights)])
    whole = mlfit.fit(values, "weibull", weights=weights)
    streamed = mlfit.fit_file(str(path), "weibull", "x", weights="w")
    assert streamed.values is None and streamed.numerical.converged
    for name, value in whole.estimate.items():
        assert streamed.estimate[name] == pytest.approx(value, rel=1e-8)
