"""Views of a RegressionResult for people: rich tables for the terminal, plain text for a session.
(JSON is `RegressionResult.to_dict`, written by mlfit.report.dumps.)"""

from __future__ import annotations

import math

import numpy as np

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from ..tables import Table
from rich.text import Text

from ..families.conditional import Conditional
from ..report import facts_table, summary_table


def print_regression(result, console: Console) -> None:
    console.print(to_table(result))


def to_table(result) -> Group:
    data = result.to_dict()
    parts = [_summary(result, data), _coefficients(result, data)]
    scale = _scale(data)
    if scale is not None:
        parts.append(scale)
    parts += [_model(data), _loss(data)]
    if result.underflow is not None:
        parts.append(Text(result.underflow.explanation(), style="italic"))
    return Group(*parts)


def _summary(result, data) -> Table:
    table = summary_table(f"{data['distribution']} regression ({data['link']} link): {data['formula']} in "
                          f"{data['file']}")
    table.add_row("rows used", f"{data['n']:,}" + (f"  ({data['dropped']:,} with a missing cell left out)"
                                                   if data["dropped"] else ""))
    if data["sigma_formula"]:
        table.add_row("log sigma", escape(f"~ {data['sigma_formula'].split('~')[-1].strip()}"))
    reference, numerical = data["reference"], data["numerical"]
    if reference is not None:
        state = "" if reference["converged"] or data["divergence"] else ", [bold red]DID NOT CONVERGE[/]"
        table.add_row("reference", escape(reference["method"]) + state)
    if numerical is not None:
        state = "converged" if numerical["converged"] else "[bold red]DID NOT CONVERGE[/]"
        table.add_row("numerical", f"{escape(numerical['method'])}, {numerical['iterations']} iterations, {state}")
    if data["agreement"] is not None and not data["agreement"].get("unique", True):
        table.add_row("the two", f"agree on the NLL (within {data['agreement']['nll_difference']:.1e}, relative) at "
                      f"coefficients {data['agreement']['max_coef_difference_in_se']:.2g} standard errors apart: "
                      "both are optimal, so the solution is not unique (any point between them fits as well)")
    elif data["agreement"] is not None:
        check = "agree" if data["agreement"]["agrees"] else "[bold red]DISAGREE[/]"
        table.add_row("the two", f"{check}: coefficients within {data['agreement']['max_coef_difference_in_se']:.1e} "
                      f"standard errors, NLL within {data['agreement']['nll_difference']:.1e} (relative)")
    if data["divergence"] is not None:
        table.add_row("[bold red]no MLE[/]", escape(data["divergence"]["explanation"]))
    if data["aliased"]:
        table.add_row("[bold red]collinear[/]", escape("; ".join(
            f"{t} = combination of {', '.join(of)}" for t, of in data["aliased"].items()) + " (left out)"))
    if data["exact_fit"]:
        table.add_row("[bold red]exact fit[/]", "every residual is 0: the scale goes to 0 and the likelihood has "
                      "no maximum")
    return table


def _coefficients(result, data) -> Group:
    """Two tables, so that each fits 80 columns without folding a number: the estimates with their
    standard errors and Wald p-values, then the intervals."""
    level = data["ci"]["level"]
    table = Table(box=box.SIMPLE_HEAD, title="coefficients (the numerical optimiser's and z are in --format json)",
                  title_justify="left")
    intervals = Table(box=box.SIMPLE_HEAD, title=f"Wald {level:.4g} intervals", title_justify="left")
    robust = "se_model" in data
    for name in ("term", "estimate", "robust s.e." if robust else "std. error", *(("se (OLS)",) if "se_ols" in data else ()),
                 *(("model s.e.",) if robust else ()), "p (Wald)"):
        table.add_column(name, justify="left" if name == "term" else "right", overflow="fold", no_wrap=name != "term")
    for name in ("term", "low", "high"):
        intervals.add_column(name, justify="left" if name == "term" else "right", overflow="fold",
                             no_wrap=name != "term")
    for label, keys in _labels(data["coef"]):
        row = [escape(label), _number(_get(data["coef"], keys), 10), _number(_get(data["se"], keys), 4)]
        if "se_ols" in data:
            row.append(_number(_get(data["se_ols"], keys), 4))
        if robust:
            row.append(_number(_get(data["se_model"], keys), 4))
        table.add_row(*row, _p(_get(data["p_value"], keys)))
        interval = _get(data["ci"]["wald"], keys) or [None, None]
        intervals.add_row(escape(label), _number(interval[0], 6), _number(interval[1], 6))
    table.caption = escape(data["se_note"] if not robust else "std. errors: the sandwich (HC0, robust to a wrong "
                           "variance function) in the s.e. column; the model's, from the observed information, beside")
    return Group(table, intervals)


def _scale(data) -> Group | None:
    """The family's other parameters: each a number with its interval, or its log's coefficients
    where --sigma makes it linear in columns."""
    parts, plain = [], None
    for name, part in data["params"].items():
        if "value" in part:
            if plain is None:
                plain = facts_table("parameters")
                parts.append(plain)
            interval = part["ci"]["wald_log_scale"]
            plain.add_row(escape(name), f"{_number(part['value'], 10)}  (std. error {_number(part['se'])}"
                          + ("" if interval is None else f", interval [{_number(interval[0])}, {_number(interval[1])}]"
                             " from the Wald interval of its log") + ")")
            continue
        table = Table(box=box.SIMPLE_HEAD, title=f"log {name} (learned from the columns)", title_justify="left")
        for column in ("term", "estimate", "std. error", "interval"):
            table.add_column(column, justify="left" if column == "term" else "right")
        for term, value in part[f"log_{name}"].items():
            interval = part["ci"]["wald"][term]
            table.add_row(escape(term), _number(value, 10), _number(part["se"][term]),
                          "" if interval is None else f"[{_number(interval[0])}, {_number(interval[1])}]")
        parts.append(table)
    return Group(*parts) if parts else None


def _model(data) -> Table:
    table = facts_table("model")
    table.add_row("NLL / log-likelihood", f"{_number(data['nll'], 12)} / {_number(data['log_likelihood'], 12)}")
    table.add_row("AIC / BIC", f"{_number(data['aic'], 10)} / {_number(data['bic'], 10)}")
    table.add_row("deviance", f"{_number(data['deviance'], 10)}  ({escape(data['deviance_definition'])})")
    test = data["lr_test"]
    line = f"{_number(data['null_nll'], 10)}"
    if test is not None:
        line += (f"; likelihood-ratio test: {_number(test['statistic'], 6)} on {test['df']} df, "
                 f"p = {_p(test['p_value'])}")
    table.add_row("intercept-only NLL", line)
    return table


def _loss(data) -> Table:
    loss = data["loss"]
    table = facts_table(f"the NLL is the {loss['name']} in disguise")
    table.add_row("loss per row", _number(loss["value"], 12))
    table.add_row("identity", escape(loss["identity"]))
    table.add_row("NLL from the loss", f"{_number(loss['nll_from_loss'], 12)}  (the NLL: {_number(data['nll'], 12)})")
    return table


def summary_text(result) -> str:
    """The regression in plain text (RegressionResult.summary)."""
    data = result.to_dict()
    lines = [f"{data['distribution']} regression ({data['link']} link) of {data['formula']} in {data['file']}: "
             f"n = {data['n']:,}",
             f"NLL {_number(data['nll'], 10)}  AIC {_number(data['aic'], 8)}  BIC {_number(data['bic'], 8)}",
             f"{'term':<28}{'estimate':>16}{'std. error':>12}"]
    for label, keys in _labels(data["coef"]):
        lines.append(f"{label:<28}{_number(_get(data['coef'], keys), 8):>16}{_number(_get(data['se'], keys)):>12}")
    lines += [f"warning: {w}" for w in result.warnings()]
    return "\n".join(lines)


def _labels(coef: dict):
    """(label, keys) for each coefficient: "term", or "class: term" for a categorical model."""
    for key, value in coef.items():
        if isinstance(value, dict):
            for term in value:
                yield f"{key}: {term}", (key, term)
        else:
            yield key, (key,)


def _get(values, keys):
    for key in keys:
        if values is None:
            return None
        values = values.get(key)
    return values


def _number(value, digits: int = 5) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def _p(value) -> str:
    if value is None:
        return "n/a"
    return "<1e-300" if value == 0 else f"{value:.3g}"


def prediction_columns(result, fitted: dict) -> dict:
    """{column name: values per row}: the fitted mean (normal, laplace) and scale, probability
    (bernoulli), class probabilities (categorical) or rate (poisson), row by row."""
    if result.classes is not None:
        return {f"p[{c}]": fitted["p"][:, i] for i, c in enumerate(result.classes)}
    family = result.family
    if type(family).row_mean is Conditional.row_mean:
        return dict(fitted)
    distribution = family.as_scipy(fitted)
    with np.errstate(all="ignore"):
        quantiles = {name: distribution.ppf(q) for name, q in PREDICTED_QUANTILES.items()}
    return {"mean": family.row_mean(fitted), **quantiles, **fitted}


# each row's predicted distribution summarised by these quantiles beside its mean
PREDICTED_QUANTILES = {"q05": 0.05, "median": 0.5, "q95": 0.95}


def write_predictions(result, path: str) -> None:
    """A CSV with the data row of each observation used, then its predictions (a file too big to
    hold is read once more for them)."""
    import csv

    from ..data import written_atomically

    with written_atomically(path, "the predictions") as handle:
        writer = csv.writer(handle)
        header = False
        for rows, fitted in result.prediction_chunks():
            columns = prediction_columns(result, fitted)
            if not header:
                writer.writerow(["row", *columns])
                header = True
            values = list(columns.values())
            for i, row in enumerate(rows.tolist()):
                writer.writerow([row, *(repr(float(v[i])) for v in values)])
