"""One self-contained HTML page (`mlfit report`): a comparison of families with the winner's fit,
the alternatives overlaid, the column's shape and the underflow lesson; or a regression's
coefficients, fit and residuals. Figures are inline SVG (heavy layers as embedded PNG), styles
inline: nothing is fetched from anywhere, and the page reads on a phone and prints.

The numbers are the JSON's (`to_dict()`), rounded as the table view rounds them. The page is a
view: it computes nothing of its own but the figures, which the plot functions draw.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from html import escape

from . import __version__
from .regression.report import _get, _labels, _p

STYLE = """
.mlfit-report{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d1d1f;
  max-width:980px;margin:0 auto;padding:12px;line-height:1.45}
.mlfit-report h1{font-size:1.45em;margin:.4em 0}
.mlfit-report h2{font-size:1.15em;margin:1.4em 0 .4em;border-bottom:1px solid #ddd;padding-bottom:.2em}
.mlfit-report .verdict{font-weight:600;background:#f1f6fb;border-left:4px solid #3182bd;padding:.5em .8em}
.mlfit-report .note{color:#6b6b6b;font-size:.92em}
.mlfit-report .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
.mlfit-report table{border-collapse:collapse;font-size:.92em;margin:.3em 0}
.mlfit-report th,.mlfit-report td{padding:.25em .6em;border-bottom:1px solid #e5e5e5;text-align:right;
  white-space:nowrap}
.mlfit-report th:first-child,.mlfit-report td:first-child{text-align:left}
.mlfit-report td.text,.mlfit-report th.text{white-space:normal;min-width:16em;text-align:left}
.mlfit-report tr.best td{font-weight:600;background:#fbf7e8}
.mlfit-report figure{margin:.6em 0;overflow-x:auto}
.mlfit-report figure svg{width:100%;min-width:540px;height:auto}
.mlfit-report figcaption{color:#6b6b6b;font-size:.9em}
@media print{.mlfit-report{max-width:none}.mlfit-report section{break-inside:avoid}
  .mlfit-report figure svg{min-width:0}.mlfit-report .scroll{overflow:visible}}
"""

# a layer of more points (or bars) than this is embedded as a picture in the SVG: its size then
# follows the figure's, not the data's
HEAVY = 1_000


def document(title: str, body: str) -> str:
    """A whole page around a report's body."""
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")


def ranking_page(ranking, description=None, *, figures: bool = True) -> str:
    data = ranking.to_dict()
    title = f"Which family explains '{data['column']}' in {data['file']}?"
    return document(title, ranking_body(ranking, description, figures=figures, title=title, data=data))


def ranking_body(ranking, description=None, *, figures: bool = True, title: str | None = None,
                 data: dict | None = None) -> str:
    data = data or ranking.to_dict()
    title = title or f"Which family explains '{data['column']}' in {data['file']}?"
    fits = data["fits"]
    winner = next((f for f in fits if f.get("rank") == 1), None)
    parts = [f"<h1>{escape(title)}</h1>", f"<p class=\"verdict\">{escape(data['verdict']['text'])}</p>"]
    if winner is not None:
        parts.append(f"<p>{winner['n']:,} rows" + (f" ({winner['dropped']:,} with a missing cell left out)"
                                                    if winner.get("dropped") else "") + "</p>")
    if data.get("note"):
        parts.append(f"<p class=\"note\">{escape(data['note'])}</p>")
    parts.append(section("ranking", "Ranked by AIC", _ranking_table(fits)))
    if winner is not None:
        result = ranking.winner.result
        content = _parameters_table(winner)
        if figures and result.values is not None:
            from .plots import draw_fit

            content += figure(draw_fit(result), f"The {winner['distribution']} fit drawn four ways: histogram and "
                              "density, CDF, Q-Q and P-P")
        parts.append(section("winner", f"The winner: {winner['distribution']}", content))
        if figures and len(ranking.ranked) > 1 and result.values is not None:
            from .plots import draw_comparison

            parts.append(section("alternatives", "The best families overlaid",
                                 figure(draw_comparison(ranking), "The ranked families' densities, CDFs, Q-Q and P-P "
                                        "points over the data, the legend in AIC order")))
    if description is not None:
        parts.append(section("shape", "The column's shape", _shape(description, figures)))
    parts.append(section("gof", "Goodness of fit", _gof_table(fits)))
    if winner is not None and winner.get("underflow"):
        parts.append(section("underflow", "Why log space: the raw likelihood",
                             _underflow(winner["underflow"], ranking.winner.result.underflow.explanation())
                             + _loss(winner["loss"], winner["nll"])))
    parts.append(_footer())
    return f"<div class=\"mlfit-report\">\n{chr(10).join(parts)}\n</div>"


def regression_page(result, *, figures: bool = True) -> str:
    data = result.to_dict()
    title = f"{data['distribution']} regression: {data['formula']} in {data['file']}"
    return document(title, regression_body(result, figures=figures, title=title, data=data))


def regression_body(result, *, figures: bool = True, title: str | None = None, data: dict | None = None) -> str:
    data = data or result.to_dict()  # (the coefficients as regress's table shows them: its labels and p-values)
    title = title or f"{data['distribution']} regression: {data['formula']} in {data['file']}"
    parts = [f"<h1>{escape(title)}</h1>"]
    facts = [("rows used", f"{data['n']:,}" + (f" ({data['dropped']:,} with a missing cell left out)"
                                               if data["dropped"] else "")),
             ("link", data["link"])]
    if data["reference"] is not None:
        facts.append(("reference", data["reference"]["method"]))
    if data["agreement"] is not None:
        a = data["agreement"]
        facts.append(("the numerical optimum", ("agrees" if a["agrees"] else "DISAGREES")
                      + f": coefficients within {a['max_coef_difference_in_se']:.1e} standard errors"))
    parts.append(_facts(facts))
    for warning in result.warnings():
        parts.append(f"<p class=\"verdict\">{escape(warning)}</p>")
    parts.append(section("coefficients", "Coefficients", _coefficients(data)))
    if data["params"]:
        parts.append(section("params", "The family's other parameters", _other_parameters(data["params"])))
    lr = data["lr_test"]
    model = [("NLL / log-likelihood", f"{_g(data['nll'], 12)} / {_g(data['log_likelihood'], 12)}"),
             ("AIC / BIC", f"{_g(data['aic'], 10)} / {_g(data['bic'], 10)}"),
             ("deviance", f"{_g(data['deviance'], 10)} ({data['deviance_definition']})"),
             ("intercept-only NLL", _g(data["null_nll"], 10) + (
                 "" if lr is None else f"; likelihood-ratio test {_g(lr['statistic'], 6)} on {lr['df']} df, "
                 f"p = {_p(lr['p_value'])}"))]
    parts.append(section("model", "The model", _facts(model)))
    if figures and result.divergence is None and not result.passes:
        parts.append(section("figures", "Fitted against observed, residuals, the NLL",
                             figure(result.plot(), "Fitted against observed (a calibration curve for a classifier), "
                                    "the residuals, their Q-Q plot, and the NLL along one coefficient")))
    loss = data["loss"]
    parts.append(section("loss", f"The NLL is the {loss['name']} in disguise",
                         _facts([("loss per row", _g(loss["value"], 12)), ("identity", loss["identity"]),
                                 ("NLL from the loss", _g(loss["nll_from_loss"], 12))])))
    if data["underflow"]:
        parts.append(section("underflow", "Why log space: the raw likelihood",
                             _underflow(data["underflow"], result.underflow.explanation())))
    parts.append(_footer())
    return f"<div class=\"mlfit-report\">\n{chr(10).join(parts)}\n</div>"


def write_page(text: str, path: str | None) -> str:
    """The page written to `path` (never half-written: under a temporary name, renamed), and returned."""
    if path is not None:
        from .data import written_atomically

        with written_atomically(path, "the report") as handle:
            handle.write(text)
    return text


# --- pieces ---------------------------------------------------------------------------------
def section(key: str, heading: str, content: str) -> str:
    return f"<section id=\"{key}\">\n<h2>{escape(heading)}</h2>\n{content}\n</section>"


def table(headers: list[str] | None, rows: list[list[str]], classes: list[str] | None = None,
          text: tuple[int, ...] = ()) -> str:
    """A table (its cells already text, escaped here), scrolling sideways on a narrow screen;
    without headers, a list of facts. `text`: the columns of words, which wrap."""
    head = "" if headers is None else "<thead><tr>" + "".join(
        f"<th class=\"text\">{escape(h)}</th>" if j in text else f"<th>{escape(h)}</th>" for j, h in enumerate(headers)) \
        + "</tr></thead>"
    body = []
    for i, row in enumerate(rows):
        css = f" class=\"{classes[i]}\"" if classes and classes[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td class=\"text\">{escape(str(c))}</td>" if j in text else
                                           f"<td>{escape(str(c))}</td>" for j, c in enumerate(row)) + "</tr>")
    return f"<div class=\"scroll\"><table>\n{head}\n<tbody>\n" + "\n".join(body) \
        + "\n</tbody>\n</table></div>"


def _facts(pairs) -> str:
    return table(None, [[name, value] for name, value in pairs], text=(1,))


def _ranking_table(fits: list[dict]) -> str:
    rows, classes = [], []
    for fit in fits:
        if not fit.get("fitted", True) or fit.get("log_likelihood") is None:
            rows.append([fit["distribution"], "", "", "", "", "", "", "cannot fit: " + str(fit.get("error", ""))])
            classes.append("")
            continue
        ranked = fit.get("ranked")
        rows.append([fit["distribution"], str(fit["k"]), _g(fit["log_likelihood"], 6), _g(fit["aic"], 6),
                     _g(fit["delta_aic"], 3) if ranked else "not ranked",
                     _g(fit.get("akaike_weight"), 3) if ranked else "", _g(fit["bic"], 6),
                     fit.get("warning") or ""])
        classes.append("best" if fit.get("rank") == 1 else "")
    return table(["family", "k", "log-likelihood", "AIC", "ΔAIC", "weight", "BIC", "note"], rows, classes, text=(7,))


def _parameters_table(fit: dict) -> str:
    level = fit.get("level", 0.95)
    rows = []
    errors = dict(_flat(fit.get("stderr") or {}))
    entries = list(_flat(fit["params"]))
    for name, value in entries[:SHOWN_ENTRIES]:
        interval = _interval_of(fit.get("ci") or {}, name)
        rows.append([name, _g(value, 8), _g(errors.get(name), 4), _span(interval.get("wald")),
                     _span(interval.get("profile"))])
    shown = table(["parameter", "estimate", "std. error", f"{level:.4g} Wald", "profile likelihood"], rows)
    if len(entries) > SHOWN_ENTRIES:
        shown += (f"<p class=\"note\">... and {len(entries) - SHOWN_ENTRIES:,} more categories: every one is in "
                  "--format json</p>")
    return shown


SHOWN_ENTRIES = 40  # a categorical's probabilities shown, as the table view shows them


def _flat(values: dict):
    for name, value in values.items():
        if isinstance(value, dict):
            yield from ((f"{name}[{k}]", v) for k, v in value.items())
        else:
            yield name, value


def _interval_of(ci: dict, label: str) -> dict:
    if label in ci:
        return ci[label]
    name, _, key = label.partition("[")
    return (ci.get(name) or {}).get(key.rstrip("]"), {}) if key else {}


def _gof_table(fits: list[dict]) -> str:
    rows = []
    for fit in fits:
        gof = fit.get("gof")
        if not gof:
            continue
        cells = []
        for key in ("ks", "cvm", "ad", "chi2"):
            if gof.get(key) is None:
                cells.append("")
                continue
            p = gof.get(f"{key}_pvalue")
            cell = _g(gof[key], 4) + (f", df {gof['df']}" if key == "chi2" and gof.get("df") is not None else "")
            cells.append(cell + (f" (p {_g(p, 2)})" if p is not None else ""))
        rows.append([fit["distribution"], *cells, gof.get("note") or ""])
    if not rows:
        return "<p class=\"note\">No goodness-of-fit test on these rows.</p>"
    return table(["family", "Kolmogorov-Smirnov", "Cramér-von Mises", "Anderson-Darling", "chi-square", "note"], rows,
                 text=(5,))


def _underflow(report: dict, explanation: str) -> str:
    rows = []
    for name in ("float64", "float32", "float16"):
        r = report[name]
        event = (f"0.0 at row {r['first_zero_at']:,}" if r["first_zero_at"] is not None else
                 f"inf at row {r['first_inf_at']:,}" if r["first_inf_at"] is not None else "holds")
        rows.append([name, f"10^{math.log10(r['smallest']):.1f}", f"{r['margin_decades']:+.1f}", event])
    return (f"<p>The raw likelihood, the product of every row's probability, is "
            f"10^{report['log10_likelihood']:.4g}.</p>"
            + table(["precision", "smallest positive", "margin (decades)", "running product in file order"], rows)
            + f"<p>{escape(explanation)}</p>")


def _loss(loss: dict, nll: float) -> str:
    pairs = [(key.replace("_", " "), "beyond float64's range" if value is None else _g(value, 10))
             for key, value in loss.items() if key not in ("name", "identity", "nll_from_loss")]
    pairs += [("identity", loss["identity"]), ("NLL from the loss", _g(loss["nll_from_loss"], 10)),
              ("the NLL", _g(nll, 10))]
    return f"<h3>The NLL is the {escape(loss['name'])} in disguise</h3>" + _facts(pairs)


def _shape(description, figures: bool) -> str:
    data = description.to_dict()
    pairs = [("min / median / max", f"{_g(data['min'], 6)} / {_g(data['median'], 6)} / {_g(data['max'], 6)}"),
             ("mean / sd", f"{_g(data['mean'], 6)} / {_g(data['sd'], 6)}")]
    if data.get("skewness"):
        pairs.append(("skewness / kurtosis (unbiased)", f"{_g(data['skewness']['unbiased'], 4)} / "
                                                        f"{_g(data['kurtosis']['unbiased'], 4)}"))
    nearest = (data.get("cullen_frey") or {}).get("nearest") or []
    if nearest:
        pairs.append(("nearest on the Cullen-Frey graph", ", ".join(n["family"] for n in nearest[:4])))
    content = _facts(pairs)
    if figures:
        content += figure(description.plot(), "The Cullen-Frey graph: the column's squared skewness and kurtosis "
                          "beside each family's")
    return content


def _coefficients(data: dict) -> str:
    level = data["ci"]["level"]
    rows = []
    for label, keys in _labels(data["coef"]):
        interval = _get(data["ci"]["wald"], keys) or [None, None]
        rows.append([label, _g(_get(data["coef"], keys), 10), _g(_get(data["se"], keys), 4),
                     _g(_get(data["z"], keys), 4), _p(_get(data["p_value"], keys)), _g(interval[0], 6),
                     _g(interval[1], 6)])
    kind = "robust s.e." if "se_model" in data else "std. error"
    return (table(["term", "estimate", kind, "z", "p (Wald)", f"{level:.4g} low", "high"], rows)
            + f"<p class=\"note\">{escape(data['se_note'])}</p>")


def _other_parameters(params: dict) -> str:
    rows = []
    for name, part in params.items():
        if "value" in part:
            interval = part["ci"]["wald_log_scale"] or [None, None]
            rows.append([name, _g(part["value"], 10), _g(part["se"], 4), _g(interval[0], 5), _g(interval[1], 5)])
        else:
            for term, value in part[f"log_{name}"].items():
                interval = part["ci"]["wald"][term] or [None, None]
                rows.append([f"log {name}: {term}", _g(value, 10), _g(part["se"][term], 4), _g(interval[0], 5),
                             _g(interval[1], 5)])
    return table(["parameter", "estimate", "std. error", "low", "high"], rows)


def _footer() -> str:
    return (f"<p class=\"note\">Made by mlfit {escape(__version__)}: maximum likelihood in log space. Every "
            "number here is in the command's --format json.</p>")


def _g(value, digits: int) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def _span(pair) -> str:
    if not pair:
        return ""
    return "[" + ", ".join("n/a" if end is None else f"{end:.5g}" for end in pair) + "]"


# --- figures --------------------------------------------------------------------------------
def figure(fig, caption: str) -> str:
    return f"<figure>\n{svg(fig)}\n<figcaption>{escape(caption)}</figcaption>\n</figure>"


def svg(fig) -> str:
    """The figure as inline SVG: no XML prologue, no metadata, text as paths (no font to fetch),
    and a layer of more than HEAVY points or bars embedded as a PNG picture."""
    for ax in fig.axes:
        for artist in [*ax.collections, *ax.lines]:
            if _points(artist) > HEAVY:
                artist.set_rasterized(True)
        if len(ax.patches) > HEAVY:
            for patch in ax.patches:
                patch.set_rasterized(True)
    buffer = io.StringIO()
    from matplotlib import rc_context

    with rc_context({"svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", dpi=100, metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    # each figure's ids its own (matplotlib names every figure's "figure_1", "axes_1", ...): a page
    # holds several, and an id must be unique in it
    prefix = f"f{next(_FIGURES)}-"
    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(r'url\(#([^)]+)\)', lambda m: f"url(#{prefix}{m.group(1)})", text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}{m.group(1)}"', text)
    return text.strip()


_FIGURES = itertools.count(1)


def _points(artist) -> int:
    if hasattr(artist, "get_offsets"):
        return len(artist.get_offsets())
    if hasattr(artist, "get_xydata"):
        return len(artist.get_xydata())
    return 0
