"""mlfit describe: the column's shape, and the Cullen-Frey graph."""

from __future__ import annotations

from typing import Optional

import typer

from .common import COLUMN, FILE, FORMAT, OutputFormat, SEED, _epilog, _present, app, reader_options


@app.command(epilog=_epilog(
    "mlfit describe sample_data/rivers.csv --column miles",
    "mlfit describe sample_data/free_throws.csv --column error_cm --boot 500 --plot cullen_frey.png",
    "mlfit describe sample_data/rivers.csv --column miles --format json | jq .cullen_frey.nearest",
))
@reader_options
def describe(
    file: str = FILE,
    column: Optional[str] = COLUMN,
    boot: int = typer.Option(0, "--boot", min=0, max=100_000, metavar="N",
                             help="Resample the rows N times and show where the (skewness^2, kurtosis) point moves."),
    seed: int = SEED,
    plot: Optional[str] = typer.Option(None, "--plot", metavar="FILE.png", help="Draw the Cullen-Frey graph. Needs "
                                       "matplotlib: pip install '.[plot]' from a clone of mlfit."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Describe a column's shape before fitting, as fitdistrplus's descdist does (the Cullen-Frey graph).

    n, min, max, median, mean, sd, skewness and kurtosis (descdist's unbiased estimates, its default, and the plain sample ones; kurtosis is 3 for the normal), and where (skewness^2, kurtosis) lies among the normal, uniform, logistic and exponential points, the gamma, lognormal and weibull lines and the beta region, nearest first. The column is held in memory.
    """
    from ..shape import describe_file

    read_options = read_options
    if plot:
        from ..plots import check_target

        check_target(plot, inputs=(file,))
    description = describe_file(file, column, boot=boot, seed=seed, read_options=read_options)
    from ..report import print_description

    _present(description, output, print_description)
    if plot:
        from ..shape import draw_cullen_frey

        draw_cullen_frey(description, plot)
