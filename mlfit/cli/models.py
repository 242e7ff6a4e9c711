"""mlfit score-model and mlfit calibrate: a trained model's predictions, scored and recalibrated."""

from __future__ import annotations

from typing import Optional

import typer

from .common import (FILE, FORMAT, LEVEL, OutputFormat, _epilog, _present, _warn_and_exit, app, distribution_option,
                     reader_options)


TARGET = typer.Option(..., "--target", "-t", metavar="COLUMN", help="The true value: 0/1 (or true/false) for "
                      "bernoulli; for categorical the class's 0-based position among the logit columns, or the name "
                      "of its logit column.")
LOGIT = typer.Option(None, "--logit", metavar="COLUMN", help="bernoulli: the one logit column.")
LOGITS = typer.Option(None, "--logits", metavar="C0,C1,...", help="categorical: the logit columns, one per class, "
                      "as a list or a glob ('logit_*', in the header's order).")


@app.command("score-model", epilog=_epilog(
    "mlfit score-model sample_data/predictions.csv --dist bernoulli --logit made_logit --target made",
    "mlfit score-model sample_data/predictions.csv --dist categorical --logits 'logit_*' --target shot",
    "mlfit score-model sample_data/predictions.csv --dist normal --mean mu --log-var log_var --target distance",
    "mlfit score-model sample_data/predictions.csv --dist poisson --log-rate log_rate --target goals --format json",
))
@reader_options
def score_model(
    file: str = FILE,
    dist: str = distribution_option(listed=False, help="The distribution the model predicts: normal, laplace, "
                                       "bernoulli, categorical or poisson (those whose parameters can depend on columns)."),
    target: str = TARGET,
    logit: Optional[str] = LOGIT,
    logits: Optional[str] = LOGITS,
    mean: Optional[str] = typer.Option(None, "--mean", metavar="COLUMN", help="normal, laplace: the predicted mean."),
    log_var: Optional[str] = typer.Option(None, "--log-var", metavar="COLUMN",
                                          help="normal: the predicted log-variance (else --sigma, else estimated)."),
    sigma: Optional[float] = typer.Option(None, "--sigma", metavar="VALUE", help="normal: a fixed standard deviation."),
    log_b: Optional[str] = typer.Option(None, "--log-b", metavar="COLUMN",
                                        help="laplace: the predicted log scale (else estimated)."),
    log_rate: Optional[str] = typer.Option(None, "--log-rate", metavar="COLUMN", help="poisson: the predicted log-rate."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Judge a trained model's predictions as likelihoods: the NLL, the loss it is, and the naive route's failures.

    For each row the model predicts a distribution (logits, a mean and a log-variance, a log-rate); the loss in its training code is that distribution's NLL. Reports the total and mean NLL computed stably (log-sum-exp, BCE with logits), the loss as a framework computes it with the identity between them, accuracy (bernoulli, categorical), where a naive exp / softmax / sigmoid and then log overflows, underflows or gives -inf or NaN in float64, float32 and float16, and the raw product's underflow. Rows whose target has probability 0 in the naive computation are counted. The file is read a chunk at a time.
    """
    from ..data import column_names
    from ..trained.scoring import make_spec, score_model as judge

    read_options = read_options
    label = "<stdin>" if file == "-" else file
    spec = make_spec(dist, target, names=column_names(file, read_options), label=label, sigma=sigma,
                     logit=logit, logits=logits, mean=mean, log_var=log_var, log_b=log_b, log_rate=log_rate)
    from ..trained.columns import check_columns

    check_columns(file, spec, read_options)
    result = judge(file, spec, read_options)
    from ..trained.report import print_model_score

    _present(result, output, print_model_score)
    _warn_and_exit(result.warnings())


@app.command(epilog=_epilog(
    "mlfit calibrate sample_data/predictions.csv --dist categorical --logits 'logit_*' --target shot",
    "mlfit calibrate sample_data/predictions.csv --dist bernoulli --logit made_logit --target made --plot reliability.png",
    "mlfit calibrate sample_data/predictions.csv --dist categorical --logits 'logit_*' --target shot --output calibrated.csv --format json",
))
@reader_options
def calibrate(
    file: str = FILE,
    dist: str = distribution_option(listed=False, help="bernoulli (one logit) or categorical (a logit per class)."),
    target: str = TARGET,
    logit: Optional[str] = LOGIT,
    logits: Optional[str] = LOGITS,
    bins: int = typer.Option(15, "--bins", min=1, max=10_000, help="Equal-width bins of confidence for ECE and MCE."),
    level: float = LEVEL,
    output_file: Optional[str] = typer.Option(None, "--output", "-o", metavar="FILE.csv",
                                              help="Write the calibrated probabilities, with each row's number."),
    plot: Optional[str] = typer.Option(None, "--plot", metavar="FILE.png", help="Draw the reliability diagram before "
                                       "and after, with the bin counts. Needs matplotlib: pip install '.[plot]' from a clone of mlfit."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Fit one temperature T > 0 to a model's logits (temperature scaling, Guo et al. 2017) by maximum likelihood.

    Minimises the NLL of softmax(logits / T) (sigmoid for a binary model) by Newton's method in 1/T, where it is convex; gives T's standard error, Wald and profile-likelihood intervals, and the expected and maximum calibration error (equal-width bins of confidence, count-weighted) and the Brier score before and after.
    """
    from ..data import check_output, column_names
    from ..trained.columns import check_columns
    from ..trained.temperature import calibrate as fit_temperature, logit_spec

    read_options = read_options
    if plot:
        from ..plots import check_target

        check_target(plot, inputs=(file,))
    if output_file:
        check_output(output_file, (file,), "the calibrated probabilities")
    label = "<stdin>" if file == "-" else file
    spec = logit_spec(dist, target, names=column_names(file, read_options), label=label, logit=logit,
                      logits=logits)
    check_columns(file, spec, read_options)
    result = fit_temperature(file, spec, bins=bins, level=level, options=read_options)
    from ..trained.report import print_calibration

    _present(result, output, print_calibration)
    if output_file:
        from ..trained.temperature import write_calibrated

        write_calibrated(result, output_file)
    if plot:
        from ..trained.plots import draw_reliability

        draw_reliability(result, plot)
