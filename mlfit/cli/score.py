"""mlfit score: the NLL of a column under given parameters, beside the MLE's."""

from __future__ import annotations

from typing import Optional

import typer

from .common import (COLUMN, FILE, FORMAT, OutputFormat, TRIALS, WEIGHTS, _epilog, _show, app, distribution_option,
                     reader_options)


@app.command(epilog=_epilog(
    'mlfit score sample_data/free_throws.csv --dist normal --column error_cm --candidate "mu=0,sigma=5"',
    "mlfit score sample_data/shots.csv --dist bernoulli --column made --candidate p=0.5 --format json",
    'mlfit score sample_data/shots.csv --dist categorical --column shot_type --candidate \'p="jump shot":0.2,layup:0.3,three:0.3,dunk:0.1,hook:0.1\'',
))
@reader_options
def score(
    file: str = FILE,
    dist: str = distribution_option(help="The distribution family of the candidates."),
    candidate: list[str] = typer.Option(..., "--candidate", metavar="NAME=VALUE,...",
                                        help="Parameter values to score (repeatable), e.g. \"mu=0,sigma=1\"; "
                                        "for categorical \"p=a:0.5,b:0.5\", a label holding a comma, colon, "
                                        "equals sign or quote in double quotes: 'p=\"a,b\":0.5,c:0.5'."),
    column: Optional[str] = COLUMN,
    output: OutputFormat = FORMAT,
    trials: Optional[int] = TRIALS,
    weights: Optional[str] = WEIGHTS,
    read_options=None,
) -> None:
    """Score candidate parameter values on the data, ranked, next to the maximum-likelihood fit.

    For each candidate: NLL, mean NLL per row, log10 likelihood, whether and at which row the raw float64 product of the row likelihoods underflows, and how far its NLL exceeds the MLE's. A candidate outside the parameter space (sigma <= 0, p > 1, probabilities that do not sum to 1) is refused.
    """
    from ..families import one_family
    from ..score import score_file

    if not dist.startswith("scipy:"):
        one_family(dist, trials)
    scoring = score_file(file, dist, column, candidate, weights=weights, trials=trials,
                         read_options=read_options)
    _show(scoring, output, "print_scores")
