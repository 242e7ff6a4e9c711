"""Views of score-model and calibrate results for people (JSON is their `to_dict`)."""

from __future__ import annotations

import math

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from ..tables import Table
from rich.text import Text

from .stability import PRECISIONS


def _pairs(title: str) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_header=False, title=title, title_justify="left", title_style="bold")
    table.add_column(style="bold")
    table.add_column()
    return table


def _number(value, digits: int = 10) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:.{digits}g}"


def stability_table(stability: dict) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="the naive route: each probability (or density) first, then its log",
                  title_justify="left")
    for name in ("precision", "naive NLL", "rows exp overflows", "rows log(0) = -inf", "rows NaN"):
        table.add_column(name, justify="left" if name == "precision" else "right")
    for name in PRECISIONS:
        part = stability[name]
        shown = {"finite": _number(part["naive_nll"]), "inf": "inf", "nan": "NaN"}[part["naive_result"]]
        table.add_row(name, shown, f"{part['rows_exp_overflow']:,}", f"{part['rows_log_of_zero']:,}",
                      f"{part['rows_nan']:,}")
    table.caption = (f"largest |prediction| {_number(stability['largest_abs_input'], 6)}; the stable route (in log "
                     f"space throughout) gives NLL {_number(stability['stable_nll'])}")
    return table


def print_model_score(score, console: Console) -> None:
    data = score.to_dict()
    table = _pairs(escape(f"{data['distribution']} predictions of '{data['target']}' in {data['file']}"))
    table.add_row("rows", f"{data['n']:,}" + (f"  ({data['dropped']:,} with a missing cell left out)"
                                              if data["dropped"] else ""))
    table.add_row("inputs", escape(", ".join(f"{c} ({r})" for c, r in data["inputs"].items())))
    for name in ("sigma", "b"):
        if name in data:
            table.add_row(name, f"{_number(data[name]['value'])}" + ("  (estimated: the maximum-likelihood constant)"
                                                                     if data[name]["estimated"] else "  (given)"))
    table.add_row("NLL", f"{_number(data['nll'], 12)}  (mean {_number(data['mean_nll'], 10)} per row)")
    loss = data["loss"]
    table.add_row("loss", escape(f"{loss['name']}: {_number(loss['value'], 12)}"))
    table.add_row("identity", escape(f"{loss['identity']}; NLL from the loss {_number(loss['nll_from_loss'], 12)}"))
    if data["accuracy"] is not None:
        table.add_row("accuracy", f"{data['accuracy']:.6f}")
    if data["impossible_rows"]:
        table.add_row("[bold red]impossible[/]", f"{data['impossible_rows']:,} rows have probability 0 in the naive "
                      "float64 computation")
    console.print(Group(table, stability_table(data["stability"]), Text(score.underflow.explanation(), style="italic")))


def print_calibration(result, console: Console) -> None:
    data = result.to_dict()
    table = _pairs(escape(f"temperature scaling of {data['distribution']} logits of '{data['target']}' in "
                          f"{data['file']}"))
    table.add_row("rows", f"{data['n']:,}" + (f"  ({data['dropped']:,} with a missing cell left out)"
                                              if data["dropped"] else ""))
    ci = data["ci"]
    table.add_row("temperature", f"{_number(data['temperature'])}  (std. error {_number(data['stderr'], 4)}; "
                  f"{ci['level']:.4g} Wald [{_number(ci['wald'][0], 6)}, {_number(ci['wald'][1], 6)}], profile "
                  f"[{_number(ci['profile'][0], 6)}, {_number(ci['profile'][1], 6)}])")
    table.add_row("NLL", f"{_number(data['nll_uncalibrated'], 12)} -> {_number(data['nll'], 12)}")
    table.add_row("accuracy", f"{data['accuracy']:.6f} (a temperature does not change which class is largest)")
    scores = Table(box=box.SIMPLE_HEAD, title="calibration", title_justify="left")
    for name in ("", "before", "after"):
        scores.add_column(name, justify="left" if not name else "right")
    scores.add_row(f"ECE ({data['ece']['bins']} bins)", _number(data["ece"]["before"], 6), _number(data["ece"]["after"], 6))
    scores.add_row("MCE", _number(data["mce"]["before"], 6), _number(data["mce"]["after"], 6))
    scores.add_row("Brier", _number(data["brier"]["before"], 6), _number(data["brier"]["after"], 6))
    console.print(Group(table, scores, stability_table(data["stability"]),
                        Text(result.underflow.explanation(), style="italic")))


def print_sequence_score(score, console: Console) -> None:
    """score-sequence: the cross-entropy and what it is, the underflow in words, the naive route."""
    data = score.to_dict()
    table = _pairs(escape(f"token likelihood of {data['file']}"))
    table.add_row("tokens", f"{data['tokens']:,} scored in {data['sequences']:,} sequences")
    table.add_row("NLL", f"{_number(data['nll'], 12)} nats (the sum of -log p over the scored tokens)")
    table.add_row("cross-entropy", f"{_number(data['cross_entropy'], 10)} nats per token, "
                  f"{_number(data['bits_per_token'], 6)} bits; perplexity {_number(data['perplexity'], 6)}")
    if data.get("label_smoothing"):
        smoothed = data["label_smoothing"]
        table.add_row("label smoothing", f"eps {smoothed['epsilon']:g}: loss {_number(smoothed['loss'], 10)}")
    if data.get("ensemble"):
        members = ", ".join(_number(m, 6) for m in data["ensemble"]["members"])
        table.add_row("ensemble", f"cross-entropy {_number(data['ensemble']['cross_entropy'], 10)} (members: {members})")
    parts = [table]
    if data["naive"] is not None:
        naive = Table(box=box.SIMPLE_HEAD, title="the naive route: exp of the logits, divided by their sum, then log",
                      title_justify="left")
        naive.add_column("precision")
        naive.add_column("tokens whose loss is inf or nan", justify="right")
        for name, found in data["naive"].items():
            naive.add_row(name, f"{found['nonfinite_losses']:,}")
        parts.append(naive)
    parts += [Text(line, style="italic") for line in score.sentences()]
    if data.get("label_smoothing"):
        parts.append(Text(data["label_smoothing"]["note"], style="dim"))
    console.print(Group(*parts))
