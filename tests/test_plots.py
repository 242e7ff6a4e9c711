"""Plots render to real files of the requested kind, and their panels show the right numbers."""

import json
import math
import os
import sys

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

import mlfit
from mlfit.chart import HEIGHT, chart_cells
from mlfit.cli import app

pytest.importorskip("matplotlib")
from mlfit.plots import draw_fit, draw_nll, fit_panels, nll_panels  # noqa: E402

runner = CliRunner()
SIGNATURES = {".png": b"\x89PNG\r\n\x1a\n", ".svg": b"<?xml", ".pdf": b"%PDF"}


def test_continuous_fit_plot_and_its_panels(tmp_path):
    x = np.random.default_rng(0).normal(10, 2, 300)
    result = mlfit.fit(x, "normal")
    path = tmp_path / "fit.png"
    fig = draw_fit(result, str(path))
    assert path.read_bytes().startswith(SIGNATURES[".png"]) and path.stat().st_size > 10_000
    assert len(fig.axes) == 4
    panels = fit_panels(result)
    n = len(x)
    theoretical, ordered = panels["qq"]
    np.testing.assert_array_equal(ordered, np.sort(x))
    expected = stats.norm.ppf((np.arange(1, n + 1) - 0.5) / n, result.estimate["mu"], result.estimate["sigma"])
    np.testing.assert_allclose(theoretical, expected, rtol=1e-12)
    np.testing.assert_allclose(panels["pp"][1], stats.norm.cdf(np.sort(x), result.estimate["mu"], result.estimate["sigma"]),
                               rtol=1e-12)
    np.testing.assert_allclose(panels["density"], stats.norm.pdf(panels["grid"], result.estimate["mu"],
                                                                 result.estimate["sigma"]), rtol=1e-12)
    assert "normal" in fig._suptitle.get_text() and "±" in fig._suptitle.get_text()


def test_laplace_quantiles_in_the_qq_panel(tmp_path):
    x = np.random.default_rng(1).laplace(0, 1, 101)
    result = mlfit.fit(x, "laplace")
    theoretical, _ = fit_panels(result)["qq"]
    q = (np.arange(1, 102) - 0.5) / 101
    np.testing.assert_allclose(theoretical, stats.laplace.ppf(q, result.estimate["mu"], result.estimate["b"]), rtol=1e-10)


def test_discrete_plot_bars_are_observed_and_fitted_counts(tmp_path):
    counts = np.random.default_rng(2).poisson(3, 400).astype(float)
    result = mlfit.fit(counts, "poisson")
    fig = draw_fit(result, str(tmp_path / "fit.svg"))
    assert (tmp_path / "fit.svg").read_bytes().startswith(SIGNATURES[".svg"])
    assert len(fig.axes) == 2
    panels = fit_panels(result)
    top = int(counts.max())
    np.testing.assert_array_equal(panels["observed"][:-1], np.bincount(counts.astype(int)))
    np.testing.assert_allclose(panels["expected"][:-1], 400 * stats.poisson.pmf(np.arange(top + 1), result.estimate["lam"]))
    assert panels["expected"][-1] == pytest.approx(400 * stats.poisson.sf(top, result.estimate["lam"]))
    assert panels["cdf"][-1] == pytest.approx(1.0)


def test_nll_landscape_panels(tmp_path):
    x = np.random.default_rng(3).normal(size=200)
    result = mlfit.fit(x, "normal")
    fig = draw_nll(result, str(tmp_path / "nll.pdf"))
    assert (tmp_path / "nll.pdf").read_bytes().startswith(SIGNATURES[".pdf"])
    panels = nll_panels(result)
    assert [p["parameter"] for p in panels] == ["mu", "sigma", None]
    mu = panels[0]
    # the profile over mu: sigma at its conditional MLE, the rms deviation from mu
    sigma_of = np.sqrt(np.mean((x[None, :] - mu["grid"][:, None]) ** 2, axis=1))
    brute = -stats.norm.logpdf(x[None, :], mu["grid"][:, None], sigma_of[:, None]).sum(axis=1)
    np.testing.assert_allclose(mu["nll"], brute, rtol=1e-10)
    assert mu["grid"][np.argmin(mu["nll"])] == pytest.approx(result.estimate["mu"], abs=np.diff(mu["grid"])[0])
    assert mu["reference"] == pytest.approx(x.mean())
    raw = panels[-1]
    np.testing.assert_allclose(raw["log10_likelihood"], np.cumsum(stats.norm.logpdf(
        x, result.estimate["mu"], result.estimate["sigma"])) / math.log(10), rtol=1e-10)
    assert raw["limits"]["float64"] == pytest.approx(math.log10(5e-324))
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 3


def test_categorical_nll_panels_renormalise_the_others(tmp_path):
    labels = ["a"] * 6 + ["b"] * 3 + ["c"]
    result = mlfit.fit(labels, "categorical")
    panels = nll_panels(result)
    first = panels[0]
    assert first["parameter"] == "p[a]"
    pa = first["grid"][50]
    expected = -(6 * math.log(pa) + 3 * math.log((1 - pa) * 3 / 4) + math.log((1 - pa) / 4))
    assert first["nll"][50] == pytest.approx(expected, rel=1e-12)
    draw_nll(result, str(tmp_path / "nll.png"))


def test_cli_writes_plots_atomically_with_ordinary_permissions(tmp_path):
    data = tmp_path / "goals.csv"
    data.write_text("g\n" + "\n".join(map(str, np.random.default_rng(4).poisson(2, 100))) + "\n")
    before = data.read_bytes()
    result = runner.invoke(app, ["fit", str(data), "-d", "poisson", "--plot", str(tmp_path / "a.png"),
                                 "--plot-nll", str(tmp_path / "b.png"), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    json.loads(result.stdout)
    assert sorted(os.listdir(tmp_path)) == ["a.png", "b.png", "goals.csv"]  # no temporary left behind
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "a.png").stat().st_mode & 0o777 == 0o666 & ~mask
    assert data.read_bytes() == before


@pytest.mark.parametrize("target, message", [
    ("plot.gif", "a plot is written as .png, .svg, .pdf"),
    ("missing/plot.png", "cannot write the plot: no directory"),
])
def test_cli_refuses_bad_plot_targets_before_fitting(tmp_path, target, message):
    data = tmp_path / "x.csv"
    data.write_text("x\n1\n2\n3\n")
    result = runner.invoke(app, ["fit", str(data), "-d", "normal", "--plot", str(tmp_path / target)])
    assert result.exit_code == 2 and message in result.stderr and result.stdout == ""


def test_cli_never_plots_over_its_input(tmp_path):
    data = tmp_path / "x.png"
    data.write_text("x\n1\n2\n3\n")
    result = runner.invoke(app, ["fit", str(data), "-d", "normal", "--plot", str(data)])
    assert result.exit_code == 2 and "is the input file" in result.stderr
    assert data.read_text() == "x\n1\n2\n3\n"


def test_without_matplotlib_plot_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    data = tmp_path / "x.csv"
    data.write_text("x\n1\n2\n3\n")
    result = runner.invoke(app, ["fit", str(data), "-d", "normal", "--plot", str(tmp_path / "p.png"), "-f", "json"])
    assert result.exit_code == 2 and result.stdout == ""  # no fit printed before the error
    assert result.stderr.startswith("mlfit: error: plots need matplotlib, which is not installed")


# --- the terminal chart ----------------------------------------------------------------------
def test_chart_counts_and_fitted_marks():
    x = np.random.default_rng(5).normal(size=500)
    result = mlfit.fit(x, "normal")
    observed, expected, first, last = chart_cells(result)
    assert observed.sum() == 500
    edges = np.histogram_bin_edges(x, bins="auto")
    np.testing.assert_allclose(expected, 500 * np.diff(stats.norm.cdf(edges, result.estimate["mu"], result.estimate["sigma"])),
                               rtol=1e-9, atol=1e-12)
    assert first == f"{x.min():.4g}" and last == f"{x.max():.4g}"


def test_chart_in_the_table_view_and_no_chart(tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("x\n" + "\n".join(map(str, np.random.default_rng(6).normal(size=300))) + "\n")
    shown = runner.invoke(app, ["fit", str(data), "-d", "normal", "--chart"]).stdout
    hidden = runner.invoke(app, ["fit", str(data), "-d", "normal", "--no-chart"]).stdout
    piped = runner.invoke(app, ["fit", str(data), "-d", "normal"]).stdout  # not a terminal: no chart
    assert piped == hidden
    chart_lines = [line for line in shown.splitlines() if "█" in line or "•" in line or line.startswith("└")]
    assert 3 <= len(chart_lines) <= 12
    assert "█ data  • fitted" in shown and "█ data" not in hidden
    assert len(shown.splitlines()) - len(hidden.splitlines()) <= HEIGHT + 2


def test_without_matplotlib_plot_fails_before_reading_the_data(tmp_path, monkeypatch):
    import importlib.util

    import mlfit.fits

    data = tmp_path / "x.csv"
    data.write_text("x\n1\n2\n4\n")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr(mlfit.fits, "fit_columns", lambda *a, **k: pytest.fail("the data was read"))
    result = runner.invoke(app, ["fit", str(data), "-d", "poisson", "--plot", str(tmp_path / "p.png")])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == ("mlfit: error: plots need matplotlib, which is not installed: pip install matplotlib "
                             "(from a clone of mlfit, pip install '.[plot]' installs it too)\n")


def test_many_cells_are_grouped_into_at_most_a_hundred_bars():
    from mlfit.plots import MAX_BARS

    counts = np.random.default_rng(12).choice(10**5, 5000, replace=False).astype(float)
    result = mlfit.fit(counts, "poisson")
    panels = fit_panels(result)
    table = result.family.frequency_table(result.values, result.stats, result.estimate)
    assert len(panels["labels"]) == MAX_BARS
    assert panels["observed"].sum() == 5000 and panels["expected"].sum() == pytest.approx(table[2].sum() * 5000)
    assert panels["labels"][0].startswith("0..") and panels["labels"][-1].endswith(f"..>{int(counts.max())}")
    labels = np.array([f"k{i}" for i in range(300)] + ["k7"] * 50)
    categorical = fit_panels(mlfit.fit(labels, "categorical"))
    assert len(categorical["labels"]) == MAX_BARS and categorical["labels"][-1] == "other (201)"
    assert categorical["observed"].sum() == 350 and "k7" in categorical["labels"]


FAMILIES = [name for name in __import__("mlfit.families", fromlist=["NAMES"]).NAMES if name != "categorical"]


@pytest.mark.parametrize("name", FAMILIES)
def test_every_family_draws_its_fit_and_its_nll_landscape(tmp_path, name):
    from mlfit.families import get_family

    family = get_family(name, 12)
    x = family.sample(np.random.default_rng(13), family.example, 120)
    result = mlfit.fit(x, name, trials=12 if "trials" in family.needs else None)
    draw_fit(result, str(tmp_path / "fit.png"))
    draw_nll(result, str(tmp_path / "nll.png"))
    for picture in ("fit.png", "nll.png"):
        assert (tmp_path / picture).read_bytes().startswith(SIGNATURES[".png"])
    panels = nll_panels(result)
    for panel, p in zip(panels, family.parameters):
        # each profile passes through the optimum's NLL where the grid crosses the estimate
        assert panel["parameter"] == p.name and np.nanmin(panel["nll"]) >= result.nll - 1e-9 * abs(result.nll) - 1e-9
        if result.reference_params is not None:
            assert panel["reference"] == pytest.approx(result.reference_params[p.name])
    if family.continuous:
        qq = fit_panels(result)["qq"][0]
        n = len(x)
        np.testing.assert_allclose(qq, family.as_scipy(result.estimate).ppf((np.arange(1, n + 1) - 0.5) / n), rtol=1e-8)


def test_student_t_at_the_normal_limit_draws_without_an_infinite_line(tmp_path):
    x = np.random.default_rng(14).normal(0, 1, 300)
    result = mlfit.fit(x, "student_t")
    assert result.estimate["nu"] == math.inf
    fig = draw_nll(result, str(tmp_path / "nll.png"))
    assert "nu = inf" in fig._suptitle.get_text() and "nan" not in fig._suptitle.get_text()


def test_the_comparison_plot_overlays_the_best_families_in_aic_order(tmp_path):
    from mlfit.ranking import compare_file
    from mlfit.plots import COMPARED, comparison_panels

    ranking = compare_file("sample_data/rivers.csv", "miles", keep_values=True)
    data = comparison_panels(ranking)
    assert data["kind"] == "continuous"  # the winner (lognormal) is a density: densities are drawn
    aics = [fit["aic"] for fit in data["fits"]]
    assert aics == sorted(aics) and len(aics) <= COMPARED
    best = next(c.result for c in ranking.ranked if c.distribution == data["fits"][0]["name"])
    np.testing.assert_allclose(data["fits"][0]["density"], np.exp(best.family.log_prob(data["grid"], best.estimate)))
    np.testing.assert_allclose(data["fits"][0]["pp"][1], np.exp(best.family.log_cdf(np.sort(best.values), best.estimate)))
    counts = comparison_panels(compare_file("sample_data/goals.csv", "home_goals", keep_values=True))
    assert counts["kind"] == "discrete" and sum(counts["observed"]) == 380
    out = tmp_path / "comparison.png"
    result = runner.invoke(app, ["compare", "sample_data/goals.csv", "--column", "home_goals", "--plot", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 10_000


def test_a_big_column_is_drawn_through_order_statistics():
    from mlfit.plots import MOST_POINTS

    x = np.random.default_rng(4).normal(3.0, 2.0, 3 * MOST_POINTS + 7)
    result = mlfit.fit(x, "normal")
    panels = fit_panels(result)
    ordered, heights = panels["ecdf"]
    assert len(ordered) == MOST_POINTS and ordered[0] == x.min() and ordered[-1] == x.max()
    index = np.round(heights * len(x)).astype(int) - 1  # each point is exactly the i-th value, at its own i
    np.testing.assert_array_equal(ordered, np.sort(x)[index])
    theoretical, shown = panels["qq"]
    np.testing.assert_allclose(theoretical, stats.norm.ppf((index + 0.5) / len(x), result.estimate["mu"],
                                                           result.estimate["sigma"]), rtol=1e-12)
