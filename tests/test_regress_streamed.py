"""mlfit regress on a file past the in-memory limit (forced low here): passes over the file give
the in-memory fit, in every family that streams; laplace, which needs a linear program over every
row, is refused with the limit named."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import mlfit

from conftest import run
from mlfit.regression import regress_file

CASES = [
    ("sample_data/cars.csv", "mpg ~ wt + hp + C(cyl)", "normal", None, None),
    ("tests/data/nist/Longley.csv", "y ~ x1 + x2 + x3 + x4 + x5 + x6", "normal", None, None),
    ("sample_data/cars.csv", "mpg ~ wt", "normal", "~ wt", None),
    ("sample_data/cars.csv", "am ~ wt + hp", "bernoulli", None, None),
    ("tests/data/regress/ucb_admissions.csv", "admitted ~ Gender + Dept", "bernoulli", None, "Freq"),
    ("sample_data/cars.csv", "gear ~ wt", "categorical", None, None),
    ("sample_data/claims.csv", "claims ~ C(district) + age + offset(np.log(holders))", "poisson", None, None),
    ("sample_data/cars.csv", "mpg ~ wt + offset(hp / 10)", "normal", None, None),  # the null model's offset too
    ("tests/data/regress/airquality.csv", "Ozone ~ Temp + Wind", "gamma", None, None),  # (rows with a missing cell)
    ("tests/data/regress/quine.csv", "Days ~ Eth + Sex + Age", "negbinomial", "~ Sex", None),
    ("tests/data/regress/iris.csv", "Species ~ `Sepal.Length`", "categorical", None, None),  # classes as text
]


@pytest.fixture
def tiny_memory(monkeypatch):
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)


@pytest.mark.parametrize("source, formula, dist, sigma, weights", CASES)
def test_passes_over_the_file_give_the_in_memory_fit(source, formula, dist, sigma, weights, monkeypatch):
    held = regress_file(source, formula, dist, sigma=sigma, weights=weights)
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)
    passed = regress_file(source, formula, dist, sigma=sigma, weights=weights)
    assert held.passes == 0 and passed.passes > 1
    np.testing.assert_allclose(passed.coef, held.coef, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(passed.se, held.se, rtol=1e-9)
    for name in ("nll", "null_nll", "deviance"):
        assert getattr(passed, name) == pytest.approx(getattr(held, name), rel=1e-12, abs=1e-9)
    a, b = held.to_dict(), passed.to_dict()
    assert b["loss"]["value"] == pytest.approx(a["loss"]["value"], rel=1e-10)
    assert b["loss"]["nll_from_loss"] == pytest.approx(passed.nll, rel=1e-12)
    for precision in ("float64", "float32", "float16"):  # the raw product, multiplied in file order
        for event in ("first_zero_at", "first_inf_at"):
            assert b["underflow"][precision][event] == a["underflow"][precision][event]
    assert b["underflow"]["log10_likelihood"] == pytest.approx(a["underflow"]["log10_likelihood"], rel=1e-12)
    assert (b["n"], b["dropped"]) == (a["n"], a["dropped"])
    assert passed.warnings() == []


def test_collinear_columns_are_left_out_and_named_in_passes_as_in_memory(tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    x, z = rng.normal(size=40), rng.normal(size=40)
    y = 1.0 + 2.0 * x - z + rng.normal(size=40)
    path = tmp_path / "c.csv"
    path.write_text("y,x,x2,z\n" + "".join(f"{a!r},{b!r},{2 * b!r},{c!r}\n" for a, b, c in zip(y.tolist(), x.tolist(),
                                                                                                z.tolist())))
    held = regress_file(str(path), "y ~ x + x2 + z", "normal")
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)
    passed = regress_file(str(path), "y ~ x + x2 + z", "normal")
    assert passed.passes > 1 and set(passed.aliased) == set(held.aliased) == {"x2"}
    assert passed.labels() == held.labels()
    np.testing.assert_allclose(passed.coef, held.coef, rtol=1e-11)
    assert any("collinear" in w and "'x2'" in w for w in passed.warnings())


def test_an_exact_fit_is_found_in_passes_as_in_memory(tmp_path, monkeypatch):
    x = np.arange(1.0, 21.0)
    path = tmp_path / "e.csv"
    path.write_text("y,x\n" + "".join(f"{1 + 2 * v!r},{v!r}\n" for v in x.tolist()))
    held = regress_file(str(path), "y ~ x", "normal")
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)
    passed = regress_file(str(path), "y ~ x", "normal")
    assert held.exact_fit and passed.exact_fit and passed.passes > 1
    np.testing.assert_allclose(passed.coef[:2], [1.0, 2.0], rtol=1e-12)
    assert [w.split(": ", 2)[-1] for w in passed.warnings()] == [w.split(": ", 2)[-1] for w in held.warnings()]


def test_laplace_past_the_limit_is_fitted_by_reweighting_and_equals_the_linear_program(monkeypatch):
    held = regress_file("sample_data/cars.csv", "mpg ~ wt + hp", "laplace")
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)
    passed = regress_file("sample_data/cars.csv", "mpg ~ wt + hp", "laplace")
    assert "linear program" in held.reference.method and "reweighted" in passed.reference.method
    assert passed.reference.converged and passed.passes > passed.reference.iterations > 10
    np.testing.assert_allclose(passed.coef, held.coef, rtol=1e-9)
    np.testing.assert_allclose(passed.se, held.se, rtol=1e-9)
    assert passed.nll == pytest.approx(held.nll, rel=1e-13)
    assert passed.agreement.agrees and passed.warnings() == []
    assert passed.to_dict()["deviance"] == pytest.approx(held.to_dict()["deviance"], rel=1e-12)


def test_predictions_from_passes_equal_the_in_memory_ones(tmp_path, monkeypatch):
    held, passed = tmp_path / "held.csv", tmp_path / "passed.csv"
    assert run("regress", "sample_data/cars.csv", "am ~ wt", "-d", "bernoulli", "--predict", held).exit_code == 0
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)
    assert run("regress", "sample_data/cars.csv", "am ~ wt", "-d", "bernoulli", "--predict", passed).exit_code == 0
    a = list(csv.DictReader(held.read_text().splitlines()))
    b = list(csv.DictReader(passed.read_text().splitlines()))
    assert [r["row"] for r in a] == [r["row"] for r in b]
    np.testing.assert_allclose([float(r["p"]) for r in b], [float(r["p"]) for r in a], rtol=1e-12)


def test_standard_input_is_read_again_for_each_pass(tiny_memory):
    text = Path("sample_data/cars.csv").read_text()
    result = run("regress", "-", "mpg ~ wt", "-d", "normal", "-f", "json", input=text)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["passes"] > 1 and data["n"] == 32


def test_a_bad_cell_found_in_a_later_pass_names_its_row(tmp_path, tiny_memory):
    path = tmp_path / "bad.csv"
    rows = [["y", "x"]] + [[i % 3, i] for i in range(1, 40)] + [[1, "oops"], [2, 3]]
    with open(path, "w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = run("regress", path, "y ~ x", "-d", "poisson")
    assert result.exit_code == 1 and "row 40: 'oops' is not a number" in result.stderr


def test_the_plot_needs_the_rows_in_memory(tmp_path, tiny_memory):
    pytest.importorskip("matplotlib")
    result = run("regress", "sample_data/cars.csv", "mpg ~ wt", "-d", "normal", "--plot", tmp_path / "p.png")
    assert result.exit_code == 2 and "in passes" in result.stderr and "not held at all" in result.stderr


@pytest.mark.parametrize("dist, response, most", [("normal", "y", 6), ("bernoulli", "made", 10),
                                                  ("poisson", "count", 12)])
def test_few_passes_each_a_newton_step_with_the_in_memory_coefficients(tmp_path, monkeypatch, dist, response, most):
    # Least squares: the survey, the first chunk, the factors, two refinements, the last sums (with
    # the raw product of the first chunk, where it settles). Newton: the same, a pass a step, the
    # last step's sums certifying the optimum and giving the standard errors; no search walks the file.
    rng = np.random.default_rng(12)
    X = rng.normal(size=(3000, 3))
    eta = 0.2 + X @ np.array([0.4, -0.3, 0.2])
    path = tmp_path / "rows.csv"
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["y", "made", "count", "x1", "x2", "x3"])
        for row in zip(1 + eta + rng.normal(size=3000), rng.binomial(1, 1 / (1 + np.exp(-eta))),
                       rng.poisson(np.exp(eta)), *X.T):
            writer.writerow([repr(float(v)) for v in row])
    formula = f"{response} ~ x1 + x2 + x3"
    held = regress_file(str(path), formula, dist)
    import mlfit.regression.streamed as streamed

    monkeypatch.setattr(streamed, "IN_MEMORY_CELLS", 10)
    passed = regress_file(str(path), formula, dist)
    assert passed.passes <= most and passed.reference.converged
    np.testing.assert_allclose(passed.coef, held.coef, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(passed.se, held.se, rtol=1e-9)
    assert passed.nll == pytest.approx(held.nll, rel=1e-12)
    assert (passed.numerical is None) == (dist != "normal")  # least squares checks on the merged factor


def write_rows(path, n, seed=3, late_level=False):
    rng = np.random.default_rng(seed)
    x, w = rng.normal(size=n), rng.integers(1, 4, n)
    group = rng.choice(["a", "b", "c"], n)
    if late_level:
        group[-5:] = "d"  # a level first seen in the last chunk: the designs are built again
    eta = 0.3 + 0.5 * x + (group == "b") * 0.4 - (group == "d") * 0.5
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["y", "made", "count", "x", "group", "w"])
        for i in range(n):
            cells = [repr(float(1 + eta[i] + rng.normal())), str(rng.binomial(1, 1 / (1 + np.exp(-eta[i])))),
                     str(rng.poisson(np.exp(eta[i]))), repr(float(x[i])), group[i], str(w[i])]
            if i == 17:
                cells[3] = ""  # a missing cell: the row is left out and counted
            out.writerow(cells)


@pytest.mark.parametrize("late_level", [False, True])
@pytest.mark.parametrize("dist, response", [("normal", "y"), ("bernoulli", "made"), ("poisson", "count"),
                                            ("categorical", "group")])
def test_a_big_design_built_chunk_by_chunk_equals_the_whole_one(tmp_path, monkeypatch, dist, response, late_level):
    import mlfit.csvtext
    import mlfit.regression.held as held

    path = tmp_path / "rows.csv"
    write_rows(path, 2000, late_level=late_level)
    formula = f"{response} ~ x" + ("" if response == "group" else " + C(group)")
    whole = regress_file(str(path), formula, dist, weights="w")
    monkeypatch.setattr(held, "HELD_CELLS", 500)
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 4096)  # many chunks
    built = []
    original = held.HeldRows._read_again
    monkeypatch.setattr(held.HeldRows, "_read_again", lambda self, source: built.append(1) or original(self, source))
    chunked = regress_file(str(path), formula, dist, weights="w")
    assert chunked.passes > 0 and whole.passes == 0  # (it was fitted chunk by chunk)
    assert bool(built) == late_level  # read again only where the layout (a level, a class) changed late
    np.testing.assert_allclose(chunked.coef, whole.coef, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(chunked.se, whole.se, rtol=1e-8)
    assert chunked.nll == pytest.approx(whole.nll, rel=1e-12)
    a, b = whole.to_dict(), chunked.to_dict()
    assert (a["n"], a["dropped"], list(a["coef"])) == (b["n"], b["dropped"], list(b["coef"]))
    assert a["underflow"]["float64"]["first_zero_at"] == b["underflow"]["float64"]["first_zero_at"]


def test_the_plot_and_the_report_figures_hold_a_big_design_whole(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import mlfit.regression.held as held

    path = tmp_path / "rows.csv"
    write_rows(path, 2000)
    monkeypatch.setattr(held, "HELD_CELLS", 500)
    chunked = regress_file(str(path), "y ~ x + C(group)", "normal")
    assert chunked.passes > 0
    with pytest.raises(mlfit.UsageError, match="whole=True"):
        chunked.plot()
    out = run("regress", path, "y ~ x + C(group)", "-d", "normal", "--plot", tmp_path / "plot.png")
    assert out.exit_code == 0 and (tmp_path / "plot.png").stat().st_size > 0
    page = run("report", path, "y ~ x + C(group)", "-d", "normal", "--output", tmp_path / "page.html")
    assert page.exit_code == 0 and "<svg" in (tmp_path / "page.html").read_text()
