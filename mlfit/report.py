"""Views of a FitResult: a rich table for people, one JSON object for programs."""

from __future__ import annotations

import json
import math

from rich import box
from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from .underflow import PRECISIONS


def to_json(result) -> str:
    return json.dumps(result.to_dict(), indent=2, allow_nan=False, default=_jsonable)


def _jsonable(value):
    return float(value) if hasattr(value, "__float__") else str(value)


def to_table(result) -> Group:
    return Group(_summary(result), _parameters(result), _underflow(result),
                 Text(result.underflow.explanation(), style="italic"))


def print_table(result, console: Console) -> None:
    console.print(to_table(result))


def _summary(result) -> Table:
    num = result.numerical
    table = Table(box=box.SIMPLE_HEAD, show_header=False, title=escape(f"{result.distribution} fit of "
                  f"'{result.column}' in {result.source}"), title_justify="left", title_style="bold")
    table.add_column(style="bold")
    table.add_column()
    table.add_row("rows used", f"{result.n:,}" + (f"  ({result.dropped:,} missing skipped)" if result.dropped else ""))
    table.add_row("NLL", f"{result.nll:.10g}  (natural log; the {result.family.loss} in disguise)")
    table.add_row("log-likelihood", f"{result.log_likelihood:.10g}")
    status = "converged" if num.converged else "[bold red]DID NOT CONVERGE[/]"
    table.add_row("optimiser", f"{num.method}, {num.iterations} iterations, {status}: {escape(num.message)}")
    if num.at_boundary:
        table.add_row("boundary", f"optimum on the edge of the parameter space ({', '.join(num.at_boundary)}); "
                      "the optimiser approaches it in unconstrained coordinates")
    check = "agrees" if result.comparison.agrees else "[bold red]DISAGREES[/]"
    table.add_row("vs closed form", f"{check}: largest relative difference {result.comparison.largest:.2e} "
                  f"(NLL {result.comparison.nll_difference:.2e})")
    return table


def _parameters(result) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title="parameters", title_justify="left")
    table.add_column("parameter")
    table.add_column("numerical", justify="right")
    table.add_column("closed form", justify="right")
    table.add_column("rel. diff", justify="right")
    numerical, closed = result.plain(result.params), result.plain(result.closed_form_params)
    for name, value in numerical.items():
        diff = f"{result.comparison.param_differences[name]:.1e}"
        if isinstance(value, dict):
            for label, p in value.items():
                table.add_row(escape(f"{name}[{label}]"), f"{p:.10g}", f"{closed[name][label]:.10g}", diff)
        else:
            table.add_row(name, f"{value:.10g}", f"{closed[name]:.10g}", diff)
    table.add_row("NLL", f"{result.nll:.10g}", f"{result.closed_form_nll:.10g}",
                  f"{result.comparison.nll_difference:.1e}", style="dim")
    return table


def _underflow(result) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=f"raw likelihood = 10^{result.underflow.log10_likelihood:.4g}",
                  title_justify="left")
    table.add_column("precision")
    table.add_column("smallest positive", justify="right")
    table.add_column("margin (decades)", justify="right")
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
