"""mlfit report: one self-contained HTML page. Parsed with the standard library's html.parser:
its sections and figures, nothing fetched from outside, and its numbers the JSON's; and opened in
a real headless browser where chromium is installed."""

import html
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app

pytest.importorskip("matplotlib")
ROOT = Path(__file__).resolve().parents[1]
RIVERS = str(ROOT / "sample_data" / "rivers.csv")
LUNG = str(ROOT / "sample_data" / "lung.csv")


def run(args):
    return CliRunner().invoke(app, args)


class Page(HTMLParser):
    """What a test asks of a page: its tags, the attributes that could fetch something, the text
    of each section's table cells, and its inline SVG figures."""

    def __init__(self, text: str):
        super().__init__()
        self.tags, self.fetching, self.sections, self.svgs = [], [], {}, 0
        self._section, self._row, self._cell = None, None, None
        self.rows = {}  # section id -> [[cell text, ...], ...]
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        for name in ("src", "href", "xlink:href", "action", "data", "poster"):
            value = attrs.get(name)
            if value is not None and not (value.startswith("#") or value.startswith("data:")):
                self.fetching.append((tag, name, value))
        if tag == "svg":
            self.svgs += 1
        if tag == "section":
            self._section = attrs.get("id")
            self.rows[self._section] = []
        elif tag == "tr" and self._section is not None:
            self._row = []
            self.rows[self._section].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "section":
            self._section = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _agrees(text: str, value: float, digits: int) -> bool:
    return text == f"{value:.{digits}g}"


@pytest.fixture(scope="module")
def rivers(tmp_path_factory):
    target = tmp_path_factory.mktemp("report") / "rivers.html"
    out = run(["report", RIVERS, "--column", "miles", "--output", str(target)])
    assert out.exit_code == 0, out.output
    return target.read_text()


def test_the_page_has_every_section_and_its_figures(rivers):
    page = Page(rivers)
    assert set(page.rows) >= {"ranking", "winner", "alternatives", "shape", "gof", "underflow"}
    assert page.svgs == 3  # the winner's four panels, the overlays, the Cullen-Frey graph
    assert rivers.startswith("<!DOCTYPE html>") and '<meta name="viewport"' in rivers


def test_nothing_is_fetched_from_outside(rivers):
    page = Page(rivers)
    assert page.fetching == []
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(page.tags)
    assert not re.search(r"url\((?!#)", rivers) and "@import" not in rivers
    ids = re.findall(r'\bid="([^"]+)"', rivers)
    assert len(ids) == len(set(ids))  # every figure's ids its own


def test_the_ranking_s_numbers_are_the_json_s(rivers):
    data = json.loads(run(["compare", RIVERS, "--column", "miles", "--format", "json"]).output)
    rows = {row[0]: row for row in Page(rivers).rows["ranking"][1:]}
    assert list(rows) == [fit["distribution"] for fit in data["fits"]]
    for fit in data["fits"]:
        row = rows[fit["distribution"]]
        assert row[1] == str(fit["k"])
        assert _agrees(row[2], fit["log_likelihood"], 6) and _agrees(row[3], fit["aic"], 6)
        assert _agrees(row[6], fit["bic"], 6)
        if fit["ranked"]:
            assert _agrees(row[4], fit["delta_aic"], 3) and _agrees(row[5], fit["akaike_weight"], 3)
    assert data["verdict"]["text"] in html.unescape(rivers)


def test_the_winner_s_parameters_and_underflow_are_the_json_s(rivers):
    data = json.loads(run(["compare", RIVERS, "--column", "miles", "--format", "json"]).output)
    winner = data["fits"][0]
    page = Page(rivers)
    parameters = {row[0]: row for row in page.rows["winner"][1:]}
    for name, value in winner["params"].items():
        row = parameters[name]
        assert _agrees(row[1], value, 8) and _agrees(row[2], winner["stderr"][name], 4)
        low, high = winner["ci"][name]["wald"]
        assert row[3] == f"[{low:.5g}, {high:.5g}]"
    underflow = {row[0]: row for row in page.rows["underflow"][1:] if row[0].startswith("float")}
    for precision in ("float64", "float32", "float16"):
        event = winner["underflow"][precision]["first_zero_at"]
        assert underflow[precision][3] == (f"0.0 at row {event:,}" if event is not None else "holds")


def test_a_regression_s_page_has_its_json_s_numbers(tmp_path):
    target = tmp_path / "lung.html"
    out = run(["report", LUNG, "time ~ age + sex", "--dist", "weibull", "--censored", "event", "--output", str(target)])
    assert out.exit_code == 0, out.output
    data = json.loads(run(["regress", LUNG, "time ~ age + sex", "--dist", "weibull", "--censored", "event",
                           "--format", "json"]).output)
    page = Page(target.read_text())
    assert page.fetching == [] and page.svgs == 1
    rows = {row[0]: row for row in page.rows["coefficients"][1:]}
    for term, value in data["coef"].items():
        assert _agrees(rows[term][1], value, 10) and _agrees(rows[term][2], data["se"][term], 4)
    shape = {row[0]: row for row in page.rows["params"][1:]}["shape"]
    assert _agrees(shape[1], data["params"]["shape"]["value"], 10)


def test_standard_output_and_no_figures(tmp_path):
    out = run(["report", RIVERS, "--column", "miles", "--no-figures", "--output", "-"])
    assert out.exit_code == 0
    page = Page(out.output)
    assert page.svgs == 0 and "ranking" in page.rows and out.output.rstrip().endswith("</html>")


def test_without_matplotlib_the_report_says_so_in_one_line(monkeypatch, tmp_path):
    import importlib.util

    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else found(name, *a))
    out = run(["report", RIVERS, "--column", "miles", "--output", str(tmp_path / "page.html")])
    assert out.exit_code == 2 and "matplotlib" in out.output and len(out.output.strip().splitlines()) == 1
    assert not (tmp_path / "page.html").exists()
    out = run(["report", RIVERS, "--column", "miles", "--no-figures", "--output", str(tmp_path / "page.html")])
    assert out.exit_code == 0 and (tmp_path / "page.html").exists()


def test_bad_usage_is_one_line():
    out = run(["report", RIVERS, "--column", "miles", "--output", RIVERS])
    assert out.exit_code == 2 and "input" in out.output
    out = run(["report", LUNG, "time ~ age", "--output", "-"])
    assert out.exit_code == 2 and "one --dist" in out.output


def test_a_big_column_is_summarised_not_listed(tmp_path):
    rng = np.random.default_rng(1)
    source = tmp_path / "big.csv"
    source.write_text("x\n" + "\n".join(f"{v:.6f}" for v in rng.gamma(2.0, 3.0, 200_000)) + "\n")
    target = tmp_path / "big.html"
    out = run(["report", str(source), "--column", "x", "--dist", "gamma", "--dist", "lognormal", "--output",
               str(target)])
    assert out.exit_code in (0, 3), out.output
    assert target.stat().st_size < 5_000_000
    assert "data:image/png;base64," in target.read_text()  # the 200,000 points as a picture, not as paths


def test_python_gives_the_same_page(tmp_path):
    ranking = mlfit.compare(RIVERS, ["gamma", "lognormal", "weibull"], column="miles", keep_values=True)
    written = ranking.report(str(tmp_path / "page.html"))
    assert (tmp_path / "page.html").read_text() == written
    assert Page(written).rows["ranking"] and 'id="ranking"' in ranking._repr_html_()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (Debian: apt-get install chromium)")
def test_a_real_browser_renders_the_page(rivers, tmp_path):
    page = tmp_path / "rivers.html"
    page.write_text(rivers)
    flags = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert "Which family explains" in dom.stdout and dom.stdout.count("<svg") == 3
    shot = tmp_path / "shot.png"
    subprocess.run([*flags, "--window-size=390,2400", f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000  # a phone-width page, drawn


def test_a_categorical_winner_shows_its_first_categories_only(tmp_path):
    source = tmp_path / "words.csv"
    words = [f"w{i % 90}" for i in range(2000)]
    source.write_text("w\n" + "\n".join(words) + "\n")
    out = run(["report", str(source), "--column", "w", "--no-figures", "--output", "-"])
    assert out.exit_code == 0, out.output
    winner = Page(out.output).rows["winner"]
    assert len(winner) == 1 + 40 and "and 50 more categories" in out.output


def test_standard_input_is_read_once(tmp_path):
    from pathlib import Path as P

    text = P(RIVERS).read_text()
    out = CliRunner().invoke(app, ["report", "-", "--column", "miles", "--no-figures", "--output", "-"], input=text)
    assert out.exit_code == 0, out.output
    page = Page(out.output)
    assert "shape" in page.rows and "ranking" in page.rows
    by_file = Page(run(["report", RIVERS, "--column", "miles", "--no-figures", "--output", "-"]).output)
    assert page.rows["shape"] == by_file.rows["shape"] and page.rows["ranking"] == by_file.rows["ranking"]
