"""mlfit score-sequence: the NLL of sequences of tokens under a language model's logits."""

from __future__ import annotations

import contextlib
import sys
from typing import Optional

import typer

from ..errors import UsageError
from .common import FORMAT, OutputFormat, _bar, _epilog, _present, app, reader_options


@app.command("score-sequence", epilog=_epilog(
    "mlfit score-sequence sample_data/tokens.npz",
    "mlfit score-sequence sample_data/tokens.npz --label-smoothing 0.1 --format json | jq .cross_entropy",
    "mlfit score-sequence sample_data/tokens.npz sample_data/tokens_b.npz --ensemble",
    "mlfit score-sequence sample_data/tokens.csv --sequence sequence --logprob logprob",
))
@reader_options
def score_sequence(
    files: list[str] = typer.Argument(..., metavar="FILE...", help="A .npz of logits (B, T, V) and targets (B, T); "
                                      "with --ensemble, one per member. Or a CSV of one row per token (with "
                                      "--sequence and --logprob)."),
    logits: str = typer.Option("logits", "--logits", metavar="KEY", help="The logits' array in the .npz."),
    targets: str = typer.Option("targets", "--targets", metavar="KEY", help="The targets' array in the .npz."),
    ignore_index: int = typer.Option(-100, "--ignore-index", help="A target of this value is padding, not scored "
                                     "(PyTorch's convention)."),
    label_smoothing: Optional[float] = typer.Option(None, "--label-smoothing", metavar="EPS", help="Also PyTorch's "
                                                    "label-smoothed loss, beside the NLL."),
    ensemble: bool = typer.Option(False, "--ensemble", help="Score the files as one ensemble: each token's "
                                  "probability the mean of the members'."),
    sequence: Optional[str] = typer.Option(None, "--sequence", metavar="COLUMN", help="The CSV form: the column "
                                           "naming each token's sequence."),
    logprob: Optional[str] = typer.Option(None, "--logprob", metavar="COLUMN", help="The CSV form: the "
                                          "log-probability the model gave the observed token."),
    output: OutputFormat = FORMAT,
    read_options=None,
) -> None:
    """Score a language model's tokens as one likelihood: the token-level cross-entropy, and the underflow that makes the log trick necessary.

    Each token's log-probability is log-softmax of its logits at the target, computed in float64 with log-sum-exp. Reports the NLL, cross-entropy, perplexity and bits per token, each sequence's NLL, where the raw product of each sequence's token probabilities reaches 0.0 in float64, float32 and float16, and how many tokens' loss the naive route (exp, divide, log) makes inf or nan in float32 and float16. The .npz is read a chunk of sequences at a time.
    """
    from ..sequences import score_logprob_rows, score_sequence as score
    from ..trained.report import print_sequence_score

    if (sequence is None) != (logprob is None):
        raise UsageError("--sequence and --logprob go together: the CSV form names both columns")
    if sequence is not None:
        if len(files) != 1 or ensemble or label_smoothing is not None:
            raise UsageError("the CSV form scores one file of log-probabilities, without --ensemble or "
                             "--label-smoothing (both need every class's logit)")
        result = score_logprob_rows(files[0], sequence, logprob, read_options)
    else:
        if len(files) > 1 and not ensemble:
            raise UsageError("several .npz files are the members of one ensemble: add --ensemble")
        if ensemble and len(files) < 2:
            raise UsageError("--ensemble needs two .npz files or more, one per member")
        with _sequence_progress() as progress:
            result = score(files[0], logits_key=logits, targets_key=targets, ignore_index=ignore_index,
                           label_smoothing=label_smoothing, ensemble=files[1:] or None, progress=progress)
    _present(result, output, print_sequence_score)


@contextlib.contextmanager
def _sequence_progress():
    """Sequences scored / total on stderr, at a terminal only."""
    if not sys.stderr.isatty():
        yield None
        return
    with _bar("scoring sequences", "", counted="items") as progress:
        yield progress
