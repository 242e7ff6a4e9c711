"""Views of a FitResult: a rich table for people, one JSON object for programs."""

from __future__ import annotations

import csv
import json
import math

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from .tables import Table
from rich.text import Text

from .underflow import PRECISIONS


PRETTY_LIMIT = 1 << 18  # bytes of JSON past which only the outer level is indented


def to_json(result, indent: int | None = 2) -> str:
    """A FitResult, a Ranking, a Scoring or a batch Record as one JSON object."""
    return dumps(result.to_dict(), indent)


def dumps(data, indent: int | None = 2) -> str:
    """JSON with `indent`; a big object (a categorical of 10^5 categories) is indented at its
    outer level only: python's indenting encoder is 20 times slower than its compact one. A number
    beyond float64's range (inf) is null, as JSON has no infinity; NaN stays an error: it is a bug."""
    data = _without_infinities(data)
    if indent is None or not isinstance(data, dict):
        return json.dumps(data, indent=indent, allow_nan=False, default=_jsonable)
    parts = {key: json.dumps(value, allow_nan=False, default=_jsonable) for key, value in data.items()}
    if sum(map(len, parts.values())) <= PRETTY_LIMIT:
        return json.dumps(data, indent=indent, allow_nan=False, default=_jsonable)
    pad = " " * indent
    return "{\n" + ",\n".join(f"{pad}{json.dumps(key)}: {value}" for key, value in parts.items()) + "\n}"


class RecordWriter:
    """Writes batch records as they come: jsonl lines (flushed), csv/tsv rows under one header,
    or one json object {"fits": [...]} at the end."""

    def __init__(self, output: str, family, stream):
        self.output, self.family, self.stream = output, family, stream
        self.collected: list = []
        if output in ("csv", "tsv"):
            self.writer = csv.writer(stream, delimiter="," if output == "csv" else "\t", lineterminator="\n")
            self.writer.writerow(self.columns())

    def columns(self) -> list[str]:
        names = [p.name for p in self.family.parameters]
        return [
            "file", "column", "distribution", "n", "dropped", *(f"param.{n}" for n in names), "nll", "log_likelihood",
            "k", "aic", "bic", *(f"stderr.{n}" for n in names),
            *(f"ci.{n}.{kind}" for n in names for kind in ("wald_low", "wald_high", "profile_low", "profile_high")),
            "converged", "agrees", "error_kind", "error_row", "error",
        ]

    def write(self, record) -> None:
        if self.output == "jsonl":
            self.stream.write(to_json(record, indent=None) + "\n")
        elif self.output == "json":
            self.collected.append(record.to_dict())
            return
        else:
            self.writer.writerow(self.row(record))
        self.stream.flush()

    def close(self) -> None:
        if self.output == "json":
            self.stream.write(dumps({"fits": self.collected}) + "\n")
            self.stream.flush()

    def row(self, record) -> list:
        names = [p.name for p in self.family.parameters]
        if record.result is None:
            error = record.error
            return [record.file, record.column or "", self.family.name, *[""] * (len(self.columns()) - 6),
                    error.kind, "" if error.row is None else error.row, str(error)]
        data = record.to_dict()
        intervals = [_cell(_interval_part(data["ci"].get(n), kind, end)) for n in names
                     for kind, end in (("wald", 0), ("wald", 1), ("profile", 0), ("profile", 1))]
        return [
            data["file"], data["column"], data["distribution"], data["n"], data["dropped"],
            *(_cell(data["params"][n]) for n in names), _cell(data["nll"]), _cell(data["log_likelihood"]), data["k"],
            _cell(data["aic"]), _cell(data["bic"]), *(_cell(data["stderr"].get(n)) for n in names), *intervals,
            data["numerical"]["converged"], "" if data["comparison"] is None else data["comparison"]["agrees"], "", "", "",
        ]


def _interval_part(interval, kind, end):
    """One end of an interval; for a categorical, {category: end}."""
    if interval is None:
        return None
    if kind in interval:
        return interval[kind][end]
    return {label: parts[kind][end] for label, parts in interval.items()}


def _cell(value):
    """Numbers at full precision; mappings (a categorical's p) as compact JSON; nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    return repr(float(value)) if isinstance(value, float) else value


def _without_infinities(value):
    if isinstance(value, dict):
        return {key: _without_infinities(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_infinities(item) for item in value]
    if isinstance(value, float) and math.isinf(value):
        return None
    return value


def _jsonable(value):
    return float(value) if hasattr(value, "__float__") else str(value)


def to_table(result, chart: bool = True) -> Group:
    parts = [_summary(result)]
    if chart:
        from .chart import chart as draw

        drawn = draw(result)
        if drawn is not None:
            parts.append(drawn)
    parts += [_parameters(result), _uncertainty(result), _model(result), _loss(result), _underflow(result),
              Text(result.underflow.explanation(), style="italic")]
    return Group(*parts)


def print_table(result, console: Console, chart: bool = True) -> None:
    console.print(to_table(result, chart))


def summary_table(title: str) -> Table:
    """A titled two-column table of labels (bold) and values: the head of each command's report."""
    return facts_table(title, title_style="bold")


def facts_table(title: str, title_style: str | None = None) -> Table:
    """A titled two-column table of labels (bold) and values: a report's model, loss, parameters."""
    table = Table(box=box.SIMPLE_HEAD, show_header=False, title=escape(title), title_justify="left",
                  **({"title_style": title_style} if title_style else {}))
    table.add_column(style="bold")
    table.add_column()
    return table


def _summary(result) -> Table:
    num = result.numerical
    table = summary_table(f"{result.distribution} fit of '{result.column}' in {result.source}")
    table.add_row("rows used", f"{result.n:,}" + (f"  ({result.dropped:,} missing skipped)" if result.dropped else ""))
    if result.censoring is not None:
        table.add_row("censoring", ", ".join(f"{count:,} {kind}" for kind, count in result.censoring.items()
                                             if count) + "  (left: known only to be below a value; right: above)")
    table.add_row("NLL", f"{result.nll:.10g}  (natural log; the {result.family.loss} in disguise)")
    table.add_row("log-likelihood", f"{result.log_likelihood:.10g}")
    status = "converged" if num.converged else "[bold red]DID NOT CONVERGE[/]"
    table.add_row("optimiser", f"{num.method}, {num.iterations} iterations, {status}: {escape(num.message)}")
    if num.at_boundary:
        table.add_row("boundary", f"optimum on the edge of the parameter space ({', '.join(num.at_boundary)}); "
                      "the optimiser approaches it in unconstrained coordinates")
    if result.comparison is None and result.censoring is not None:
        table.add_row("reference", "none: censored data has no closed-form MLE; the search starts from the "
                      "plain fit of each row's exact value, known bound or interval middle")
    elif result.comparison is None:
        table.add_row("reference", f"none: {result.distribution} has no independent solution to check the "
                      "optimiser against" + (" (the starts it tried are in the message)" if "starts" in num.message
                                             else ""))
    else:
        check = "agrees" if result.comparison.agrees else "[bold red]DISAGREES[/]"
        table.add_row(f"vs {result.reference_method}", f"{check}: largest relative difference "
                      f"{result.comparison.largest:.2e} (NLL {result.comparison.nll_difference:.2e})")
    return table


def _parameters(result) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="parameters", title_justify="left")
    table.add_column("parameter")
    table.add_column("numerical", justify="right", overflow="fold")
    table.add_column(escape(result.reference_method if result.comparison else "reference"), justify="right",
                     overflow="fold")
    table.add_column("rel. diff", justify="right", overflow="fold")
    comparison = result.comparison
    reference = dict(_rows(result.plain(result.reference_params))) if comparison else {}
    for label, value in _rows(result.plain(result.estimate), limit=TABLE_CATEGORIES):
        held = " (fixed)" if label.split("[")[0] in result.fixed else ""
        if comparison:
            table.add_row(escape(label + held), f"{value:.10g}", f"{reference[label]:.10g}",
                          f"{comparison.param_differences[label.split('[')[0]]:.1e}")
        else:
            table.add_row(escape(label + held), f"{value:.10g}", "none", "")
    if _hidden(result):
        table.add_row(f"... {_hidden(result):,} more categories", "", "", "", style="dim")
        table.caption = "every category is in --format json"
    if comparison:
        table.add_row("NLL", f"{result.nll:.10g}", f"{result.reference_nll:.10g}", f"{comparison.nll_difference:.1e}",
                      style="dim")
    return table


def summary_text(result) -> str:
    """The fit in plain text, for a Python session or a notebook (FitResult.summary)."""
    lines = [f"{result.distribution} fit of '{result.column}' in {result.source}: n = {result.n:,}",
             f"NLL {result.nll:.10g}  log-likelihood {result.log_likelihood:.10g}  AIC {result.aic:.6f}  "
             f"BIC {result.bic:.6f}  (k = {result.inference.k})",
             f"optimiser: {result.numerical.method}, {'converged' if result.numerical.converged else 'DID NOT CONVERGE'}"]
    if result.comparison is None:
        lines.append("reference solution: none (numerical only)")
    else:
        lines.append(f"reference ({result.reference_method}): "
                     f"{'agrees' if result.comparison.agrees else 'DISAGREES'}, largest relative difference "
                     f"{result.comparison.largest:.2e}")
    level = result.inference.level
    lines.append(f"{'parameter':<16}{'estimate':>16}{'std. error':>12}  {level:.4g} Wald{'':<18}profile")
    errors = dict(_rows(result.plain(result.inference.stderr)))
    intervals = dict(_rows(result.intervals(), leaf=lambda value: "wald" in value))
    for label, value in _rows(result.plain(result.estimate), limit=TABLE_CATEGORIES):
        error, interval = errors.get(label), intervals.get(label)
        held = label.split("[")[0] in result.fixed
        lines.append(f"{label:<16}{value:>16.8g}{'fixed' if held else _number(error):>12}  "
                     + ("" if interval is None else f"{_span(interval['wald']):<24}{_span(interval['profile'])}"))
    if result.inference.note:
        lines.append(result.inference.note)
    lines.append(f"goodness of fit: {gof_summary(result.gof)}")
    return "\n".join(lines)


def _number(value) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.4g}"


TABLE_CATEGORIES = 40  # a vector parameter's entries shown in the table; JSON has them all


def _rows(values: dict, leaf=lambda value: not isinstance(value, dict), limit: int | None = None):
    """(label, value) pairs with a vector parameter spread over its categories (the first `limit`)."""
    for name, value in values.items():
        if not leaf(value):
            entries = list(value.items())[:limit]
            yield from ((f"{name}[{label}]", v) for label, v in entries)
        else:
            yield name, value


def _hidden(result) -> int:
    """Categories the table leaves out."""
    return max(len(result.labels or ()) - TABLE_CATEGORIES, 0)


def _uncertainty(result) -> Table:
    level = result.inference.level
    table = Table(box=box.SIMPLE_HEAD, title=f"uncertainty: {level:.4g} intervals", title_justify="left")
    table.add_column("parameter")
    table.add_column("std. error", justify="right", overflow="fold")
    table.add_column("Wald", justify="right", overflow="fold")
    table.add_column("profile likelihood", justify="right", overflow="fold")
    errors = dict(_rows(result.plain(result.inference.stderr)))
    for label, interval in _rows(result.intervals(), leaf=lambda value: "wald" in value, limit=TABLE_CATEGORIES):
        table.add_row(escape(label), _number(errors[label]), _span(interval["wald"]), _span(interval["profile"]))
    if _hidden(result):
        table.add_row(f"... {_hidden(result):,} more categories", "", "", "", style="dim")
    if result.inference.note:
        table.caption = escape(result.inference.note)
    return table


def _span(pair) -> str:
    return "[" + ", ".join("n/a" if end is None else f"{end:.5g}" for end in pair) + "]"


def _model(result) -> Table:
    table = facts_table("model")
    inference = result.inference
    table.add_row("free parameters", str(inference.k))
    table.add_row("AIC / BIC", f"{inference.aic:.6f} / {inference.bic:.6f}")
    table.add_row("goodness of fit", escape(gof_summary(result.gof)))
    if result.gof.bootstrap:
        table.add_row("", f"p-values from {result.gof.bootstrap} parametric-bootstrap refits")
    if result.gof.note:
        table.add_row("", escape(result.gof.note))
    return table


def _loss(result) -> Table:
    loss = result.loss()
    table = facts_table(f"the NLL is the {loss['name']} in disguise")
    for key, value in loss.items():
        if key not in ("name", "identity", "nll_from_loss"):
            table.add_row(key.replace("_", " "), "beyond float64's range" if value is None else f"{value:.10g}")
    table.add_row("identity", escape(loss["identity"]))
    table.add_row("NLL from the loss", f"{loss['nll_from_loss']:.10g}  (the NLL: {result.nll:.10g})")
    return table


def gof_summary(gof) -> str:
    """The statistics in one short line (notes are shown apart)."""
    data = gof.to_dict()
    parts = []
    for name, label in (("ks", "KS"), ("cvm", "CvM"), ("ad", "AD"), ("filliben", "Filliben r")):
        if name not in data:  # (AD where a value sits on the fitted support's edge)
            continue
        p = data.get(f"{name}_pvalue")
        parts.append(f"{label} {data[name]:.4g}" + (f" (p {p:.2g})" if p is not None else ""))
    if "chi2" in data:
        p = data["chi2_pvalue"]
        parts.append(f"chi2 {data['chi2']:.4g}, df {data['df']}" + (f", p {p:.3g}" if p is not None else ""))
    return ", ".join(parts) or "not computed"


RANK_COLUMNS = ("", "family", "k", "log-lik", "AIC", "dAIC", "weight", "BIC")


def print_ranking(ranking, console: Console) -> None:
    rows = []
    notes = [Text(note, style="yellow") for note in ranking.notes]
    shared = {}  # a goodness-of-fit note shared by several families is said once, naming them all
    for rank, candidate in enumerate(ranking.candidates, start=1):
        result = candidate.result
        if result is None:
            rows.append(["", candidate.distribution, "", "", "", "", "", "cannot fit"])
            notes.append(Text(f"{candidate.distribution} cannot fit: {candidate.error}", style="red"))
            continue
        numbers = [str(result.inference.k), f"{result.log_likelihood:.6g}", f"{result.aic:.6g}"]
        if candidate.ranked:
            rows.append(["*" if rank == 1 else "", result.distribution, *numbers, f"{candidate.delta_aic:.3g}",
                         f"{candidate.weight:.3g}", f"{result.bic:.6g}"])
        elif candidate.saturated:
            rows.append(["", result.distribution, *numbers, "ceiling", "", f"{result.bic:.6g}"])
            notes.append(Text(f"{candidate.distribution} is {candidate.warning}", style="dim"))
        else:
            rows.append(["", result.distribution, *numbers, "not ranked", "", f"{result.bic:.6g}"])
            notes.append(Text(f"{candidate.distribution} is not ranked: {candidate.warning}", style="yellow"))
        if result.gof.note and not ranking.censored and not candidate.saturated:
            for part in result.gof.note.split("; "):
                shared.setdefault(part, []).append(result.distribution)
        if result.gof.bootstrap:
            notes.append(Text(f"{result.distribution}: p-values from {result.gof.bootstrap} "
                              "parametric-bootstrap refits", style="dim"))
    title = escape(f"which family explains '{ranking.column}' in {ranking.source}?")
    console.print(_table_or_cards(console, title, RANK_COLUMNS, rows))
    if ranking.fitted and not ranking.censored:
        fits = Table(box=box.SIMPLE_HEAD, title="goodness of fit", title_justify="left")
        fits.add_column("family", no_wrap=True)
        fits.add_column("statistics", overflow="fold")
        for candidate in ranking.fitted:
            if candidate.saturated:
                continue
            line = gof_summary(candidate.result.gof)
            deviance = ranking.deviance(candidate.result) if candidate.ranked else None
            if deviance:
                p = deviance["p_value"]
                line += (f"; deviance G2 {deviance['g2']:.4g}, df {deviance['df']}"
                         + (f", p {p:.3g}" if p is not None else "") + " (against the saturated model)")
            fits.add_row(candidate.distribution, escape(line))
        console.print(fits)
    for note, families in shared.items():
        notes.append(Text(f"{', '.join(families)}: {note}", style="dim"))
    console.print(Text(f"verdict: {ranking.verdict()['text']}", style="bold"))
    if ranking.note:
        notes.append(Text(f"note: {ranking.note}", style="yellow"))
    for note in notes:
        console.print(note)


def _table_or_cards(console: Console, title: str, headers, rows):
    """A table whose cells are never cut: when its numbers do not fit the console's width side by
    side, each row becomes a small card of label: value lines instead."""
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left", title_style="bold")
    for name in headers:
        table.add_column(name, justify="left" if name in ("", "family") else "right", no_wrap=True)
    for row in rows:
        table.add_row(*(escape(cell) for cell in row))
    # rich would rather cut a cell ("1.92809e...") than wrap the table: measure it ourselves, each
    # column as wide as its widest cell plus its padding.
    widths = [max(len(name), *(len(row[i]) for row in rows)) + 2 for i, name in enumerate(headers)]
    if sum(widths) + 2 <= console.width:
        return table
    cards = [Text(title, style="bold")]
    for row in rows:
        card = Table(box=None, show_header=False, padding=(0, 1))
        card.add_column(style="bold", no_wrap=True)
        card.add_column(overflow="fold")
        for name, cell in zip(headers, row):
            if cell:
                card.add_row(name or "best", escape(cell))
        cards += [Text(""), card]
    return Group(*cards)


def print_scores(scoring, console: Console) -> None:
    table = Table(box=box.SIMPLE_HEAD, title=escape(f"{scoring.distribution} candidates for "
                  f"'{scoring.column}' in {scoring.source}"), title_justify="left", title_style="bold")
    for name in ("candidate", "NLL", "NLL / row", "NLL - MLE", "log10 L", "float64 product"):
        table.add_column(name, justify="left" if name in ("candidate", "float64 product") else "right",
                         no_wrap=name != "candidate", overflow="fold")
    for score in [*scoring.candidates, scoring.mle]:
        data = score.to_dict()
        if data["nll"] is None:
            cells = ["inf", "inf", "inf", "-inf", f"row {score.impossible_row} has probability 0"]
        else:
            product = ("holds" if score.first_zero_at is None and score.first_inf_at is None else
                       f"0.0 at row {score.first_zero_at:,}" if score.first_zero_at is not None else
                       f"inf at row {score.first_inf_at:,}")
            cells = [f"{score.nll:.8g}", f"{data['mean_nll']:.5g}", f"{score.excess:+.4g}",
                     f"{score.log10_likelihood:.5g}", product]
        style = "bold" if score is scoring.mle else None
        table.add_row(escape(score.label), *cells, style=style)
    console.print(table)
    console.print(Text("MLE: the maximum-likelihood fit, for reference. Smaller NLL = more believable: the MLE "
                       "is the candidate no one can beat.", style="italic"))


def _underflow(result) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=f"raw likelihood = 10^{result.underflow.log10_likelihood:.4g}",
                  title_justify="left")
    table.add_column("precision")
    table.add_column("smallest positive", justify="right", overflow="fold")
    table.add_column("margin (decades)", justify="right", overflow="fold")
    table.add_column("running product", justify="left")
    for name in PRECISIONS:
        r = result.underflow.precisions[name]
        if r.first_zero_at is not None:
            event = f"[red]0.0 at row {r.first_zero_at:,}[/]"
        elif r.first_inf_at is not None:
            event = f"[red]inf at row {r.first_inf_at:,}[/]"
        else:
            event = "holds"
        table.add_row(name, f"10^{math.log10(r.smallest):.1f}", f"{r.margin_decades:+.1f}", event)
    return table


def printed_text(printer, thing, width: int = 100) -> str:
    """What `printer(thing, console)` shows, as plain text (a result's summary())."""
    import io

    console = Console(width=width, record=True, file=io.StringIO())
    printer(thing, console)
    return console.export_text()


def print_description(description, console: Console) -> None:
    """mlfit describe: the summary, skewness and kurtosis by both methods, and the Cullen-Frey verdict."""
    data = description.to_dict()
    table = Table(box=box.SIMPLE_HEAD, show_header=False, title=escape(f"'{data['column']}' in {data['file']}"),
                  title_justify="left", title_style="bold")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("rows", f"{data['n']:,}" + (f"  ({data['dropped']:,} missing skipped)" if data["dropped"] else ""))
    for key in ("min", "max", "median", "mean", "sd"):
        table.add_row(key, _number(data[key]) if data[key] is None else f"{data[key]:.10g}")
    for key in ("skewness", "kurtosis"):
        part = data[key]
        table.add_row(key, f"{_number(part['unbiased'])} (unbiased, descdist's default)  "
                      f"{_number(part['sample'])} (sample)")
    table.add_row("Cullen-Frey", escape(description.verdict()))
    boot = data.get("cullen_frey", {}).get("bootstrap")
    if boot and boot["skewness_squared_5_95"]:
        low, high = boot["skewness_squared_5_95"]
        k_low, k_high = boot["kurtosis_5_95"]
        table.add_row("bootstrap", f"{boot['replicates']:,} resamples: skewness^2 {low:.4g}..{high:.4g}, kurtosis "
                      f"{k_low:.4g}..{k_high:.4g} (5%-95%)")
    console.print(table)


def print_estimate(estimate, console: Console) -> None:
    """fit --method other than mle: the estimate, its criterion, and the likelihood at it."""
    data = estimate.to_dict()
    table = summary_table(f"{estimate.distribution} fitted to '{estimate.column}' in {estimate.source} by "
                          f"--method {estimate.method}")
    table.add_row("rows used", f"{estimate.n:,}" + (f"  ({estimate.dropped:,} missing skipped)"
                                                     if estimate.dropped else ""))
    for name, value in data["params"].items():
        table.add_row(escape(name), f"{value:.10g}")
    if "probabilities" in data:
        table.add_row("probabilities", ", ".join(f"{p:.4g}" for p in data["probabilities"]))
    table.add_row("criterion", f"{data['criterion']['value']:.10g}  ({data['criterion']['name']})")
    table.add_row("search", ("converged: " if estimate.converged else "[bold red]DID NOT CONVERGE[/]: ")
                  + escape(estimate.message))
    table.add_row("log-likelihood", f"{-estimate.nll:.10g}  (at these parameters)")
    table.add_row("AIC / BIC", f"{estimate.aic:.6f} / {estimate.bic:.6f}")
    table.add_row("intervals", escape(data["note"]))
    console.print(table)


def print_bootstrap(drawn, console: Console) -> None:
    """fit --bootstrap / --quantile: percentile intervals per parameter, quantiles with both intervals."""
    data = drawn.to_dict()
    parts = []
    if data["replicates"]:
        table = Table(box=box.SIMPLE_HEAD, title=f"{data['kind']} bootstrap: {data['converged']:,} of "
                      f"{data['replicates']:,} replicates fitted ({data['level']:.4g} percentile intervals)",
                      title_justify="left")
        table.add_column("parameter")
        table.add_column("bootstrap interval", justify="right")
        for name, interval in data["intervals"].items():
            if isinstance(interval, dict):  # a categorical's p, one row per category
                for label, span in interval.items():
                    table.add_row(escape(f"{name}[{label}]"), _span(span))
            else:
                table.add_row(escape(name), "n/a" if interval is None else _span(interval))
        parts.append(table)
    quantiles = drawn.quantiles_dict()
    if quantiles:
        table = Table(box=box.SIMPLE_HEAD, title=f"fitted quantiles ({data['level']:.4g} intervals)",
                      title_justify="left")
        columns = ("probability", "quantile", "std. error", "delta method") + (("bootstrap",) if data["replicates"]
                                                                                  else ())
        for column in columns:
            table.add_column(column, justify="right")
        for q, part in quantiles.items():
            cells = [q, f"{part['estimate']:.6g}", _number(part["se"]),
                     "n/a" if part["delta"] is None else _span(part["delta"])]
            if data["replicates"]:
                cells.append("n/a" if part["bootstrap"] is None else _span(part["bootstrap"]))
            table.add_row(*cells)
        parts.append(table)
    console.print(Group(*parts))


def print_mixture(result, console: Console) -> None:
    """A mixture: each component's weight and parameters with standard errors, the likelihood."""
    data = result.to_dict()
    table = Table(box=box.SIMPLE_HEAD, title=escape(f"{len(data['components'])}-component {data['distribution']} "
                                                    f"mixture of '{data['column']}' in {data['file']}"),
                  title_justify="left", title_style="bold")
    names = list(data["components"][0]["params"])
    for name in ("component", "weight", *names):
        table.add_column(name, justify="left" if name == "component" else "right", no_wrap=True)
    for i, component in enumerate(data["components"], start=1):
        errors = component["stderr"] or {}
        cells = [f"{component['weight']:.6g}" + _plus_minus(component["weight_se"])]
        cells += [f"{component['params'][n]:.6g}" + _plus_minus(errors.get(n)) for n in names]
        table.add_row(str(i), *cells)
    table.caption = "± the standard error from the observed information of the whole mixture"
    console.print(table)
    model = facts_table("model")
    model.add_row("rows", f"{data['n']:,}")
    model.add_row("log-likelihood / NLL", f"{data['log_likelihood']:.10g} / {data['nll']:.10g}")
    model.add_row("AIC / BIC", f"{data['aic']:.6f} / {data['bic']:.6f}  (k = {data['k']})")
    starts = data["starts"]
    model.add_row("EM", f"{starts['tried']} starts ({escape(starts['how'])}); the best from {starts['best']}; "
                  f"{starts['collapsed']} collapsed; {data['iterations']} iterations, "
                  + ("converged" if data["converged"] else "[bold red]DID NOT CONVERGE[/]"))
    console.print(model)


def _plus_minus(error) -> str:
    return "" if error is None or not math.isfinite(error) else f" ± {error:.2g}"


def print_components(ranking, console: Console) -> None:
    """compare --components: each number of components, ranked by BIC."""
    data = ranking.to_dict()
    table = Table(box=box.SIMPLE_HEAD, title=escape(f"how many {data['distribution']} components explain "
                                                    f"'{data['column']}' in {data['file']}?"),
                  title_justify="left", title_style="bold")
    for name in ("", "K", "k", "log-likelihood", "BIC", "ΔBIC", "AIC"):
        table.add_column(name, justify="left" if name in ("", "K") else "right", no_wrap=True)
    notes = []
    for row in data["fits"]:
        if not row["ranked"]:
            table.add_row("", str(row["components"]), "", "", "", "not ranked", "")
            notes.append(Text(f"K = {row['components']} is not ranked: {row['error']}", style="yellow"))
            continue
        table.add_row("*" if row["components"] == data["preferred"] else "", str(row["components"]), str(row["k"]),
                      f"{row['log_likelihood']:.8g}", f"{row['bic']:.6f}", f"{row['delta_bic']:.3g}",
                      f"{row['aic']:.6f}")
    console.print(table)
    console.print(Text(f"verdict: {data['verdict']}", style="bold"))
    for note in notes:
        console.print(note)


def print_scipy_fit(result, console: Console) -> None:
    """A scipy.stats distribution's fit: its parameters (scipy's names), the likelihood, scipy's own fit beside."""
    data = result.to_dict()
    table = Table(box=box.SIMPLE_HEAD, title=escape(f"{data['distribution']} fit of '{data['column']}' in "
                                                    f"{data['file']}"), title_justify="left", title_style="bold")
    for name in ("parameter", "estimate", "std. error", "scipy's fit"):
        table.add_column(name, justify="left" if name == "parameter" else "right", no_wrap=True)
    reference = (data["reference"] or {}).get("params", {})
    for name, value in data["params"].items():
        error = (data["stderr"] or {}).get(name)
        table.add_row(name, f"{value:.8g}", _number(error), _number(reference.get(name)) if reference else "n/a")
    console.print(table)
    model = facts_table("model")
    model.add_row("rows", f"{data['n']:,}")
    model.add_row("NLL / log-likelihood", f"{data['nll']:.10g} / {data['log_likelihood']:.10g}")
    model.add_row("AIC / BIC", f"{data['aic']:.6f} / {data['bic']:.6f}  (k = {data['k']})")
    if data["reference"] is not None:
        model.add_row("scipy's own fit", f"NLL {data['reference']['nll']:.10g}: mlfit's is lower by "
                      f"{data['beats_scipy_by']:.3g} nats")
    gof = data["gof"]
    if gof:
        model.add_row("goodness of fit", f"KS {gof['ks']:.4g}, CvM {gof['cvm']:.4g}, AD {gof['ad']:.4g}")
    model.add_row("search", escape(data["method"]))
    console.print(model)
    console.print(Text(result.underflow.explanation(), style="italic"))


def print_scipy_ranking(ranking, console: Console) -> None:
    data = ranking.to_dict()
    table = Table(box=box.SIMPLE_HEAD, title=escape(f"which scipy.stats distribution explains '{data['column']}' in "
                                                    f"{data['file']}?"), title_justify="left", title_style="bold")
    for name in ("", "distribution", "k", "log-likelihood", "AIC", "ΔAIC", "BIC"):
        table.add_column(name, justify="left" if name in ("", "distribution") else "right", no_wrap=True)
    for fit in data["fits"]:
        table.add_row("*" if fit["rank"] == 1 else "", fit["distribution"], str(fit["k"]),
                      f"{fit['log_likelihood']:.6g}", f"{fit['aic']:.6g}", f"{fit['delta_aic']:.3g}", f"{fit['bic']:.6g}")
    console.print(table)
    for row in data["not_ranked"]:
        console.print(Text(f"{row['distribution']} is not ranked: {row['why']}", style="yellow"))
