"""score-sequence against numpy and scipy computed apart: log-softmax in float64, products taken
token by token in each precision, the naive route done by hand."""

import json

import numpy as np
import pytest
from scipy import special
from typer.testing import CliRunner

import mlfit
import mlfit.sequences
from mlfit.cli import app

runner = CliRunner()


def batch(rng, sequences=4, positions=30, vocabulary=12, scale=3.0, dtype=np.float32, padded=True):
    logits = (rng.normal(0, scale, (sequences, positions, vocabulary))).astype(dtype)
    targets = rng.integers(0, vocabulary, (sequences, positions))
    if padded:
        targets[-1, positions // 2:] = -100  # the last sequence is half padding
    return logits, targets


def reference_log_probs(logits, targets, ignore=-100):
    """Each scored token's log p by scipy's log_softmax in float64, per sequence."""
    log_p = special.log_softmax(logits.astype(np.float64), axis=2)
    safe = np.where(targets == ignore, 0, targets)
    own = np.take_along_axis(log_p, safe[..., None], axis=2)[..., 0]
    return [own[b][targets[b] != ignore] for b in range(len(targets))]


def save(tmp_path, name, logits, targets):
    path = tmp_path / name
    np.savez(path, logits=logits, targets=targets)
    return str(path)


def test_a_padded_batch_scores_as_scipys_log_softmax(tmp_path):
    logits, targets = batch(np.random.default_rng(0))
    result = runner.invoke(app, ["score-sequence", save(tmp_path, "b.npz", logits, targets), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    expected = reference_log_probs(logits, targets)
    nll = -sum(lp.sum() for lp in expected)
    tokens = sum(len(lp) for lp in expected)
    assert data["tokens"] == tokens == 4 * 30 - 15 and data["sequences"] == 4
    assert data["nll"] == pytest.approx(nll, rel=1e-13)
    assert data["cross_entropy"] == pytest.approx(nll / tokens, rel=1e-13)
    assert data["perplexity"] == pytest.approx(np.exp(nll / tokens), rel=1e-12)
    assert data["bits_per_token"] == pytest.approx(nll / tokens / np.log(2), rel=1e-13)
    for row, lp in zip(data["per_sequence"], expected):
        assert row["tokens"] == len(lp) and row["nll"] == pytest.approx(-lp.sum(), rel=1e-13)
        assert row["perplexity"] == pytest.approx(np.exp(-lp.mean()), rel=1e-12)


def test_chunks_of_sequences_give_the_whole_batchs_numbers(tmp_path, monkeypatch):
    logits, targets = batch(np.random.default_rng(1), sequences=9)
    path = save(tmp_path, "b.npz", logits, targets)
    whole = mlfit.score_sequence(path)
    monkeypatch.setattr(mlfit.sequences, "CHUNK_BYTES", 30 * 12 * 8 * 2)  # two sequences a chunk
    chunked = mlfit.score_sequence(path)
    assert chunked.nll == pytest.approx(whole.nll, rel=1e-15) and chunked.per_sequence == whole.per_sequence


def naive_nonfinite(logits, targets, precision, ignore=-100):
    scored = targets != ignore
    with np.errstate(all="ignore"):
        e = np.exp(logits.astype(precision))
        p = np.take_along_axis(e, np.where(scored, targets, 0)[..., None], axis=2)[..., 0] / e.sum(axis=2, dtype=precision)
        loss = -np.log(p)
    return int(np.count_nonzero(~np.isfinite(loss) & scored))


def test_logits_of_1e4_overflow_the_naive_route_but_not_the_nll(tmp_path):
    logits, targets = batch(np.random.default_rng(2), scale=1e4, padded=False)
    result = runner.invoke(app, ["score-sequence", save(tmp_path, "big.npz", logits, targets), "-f", "json"])
    data = json.loads(result.stdout)
    expected = reference_log_probs(logits, targets)
    assert np.isfinite(data["nll"]) and data["nll"] == pytest.approx(-sum(lp.sum() for lp in expected), rel=1e-13)
    for precision in ("float32", "float16"):
        count = naive_nonfinite(logits, targets, precision)
        assert data["naive"][precision]["nonfinite_losses"] == count
    assert data["naive"]["float32"]["nonfinite_losses"] > 0  # exp(1e4) is inf in float32


def sequential_first_zero(log_probs, precision):
    product = np.array(1.0, dtype=precision)
    for i, lp in enumerate(log_probs):
        with np.errstate(under="ignore"):
            product = np.array(product * np.array(np.exp(lp), dtype=precision), dtype=precision)
        if product == 0:
            return i
    return None


def test_a_long_sequence_underflows_float64_where_a_product_token_by_token_does(tmp_path):
    logits, targets = batch(np.random.default_rng(3), sequences=2, positions=4096, vocabulary=8, scale=1.0,
                            padded=False)
    data = mlfit.score_sequence(save(tmp_path, "long.npz", logits, targets)).to_dict()
    expected = reference_log_probs(logits, targets)
    for precision in ("float64", "float32", "float16"):
        zeros = [sequential_first_zero(lp, precision) for lp in expected]
        found = [z for z in zeros if z is not None]
        assert data["underflow"][precision]["sequences_underflowing"] == len(found)
        assert data["underflow"][precision]["first_zero_token"] == (min(found) if found else None)
    assert data["underflow"]["float64"]["sequences_underflowing"] == 2  # 4096 tokens of p ~ 1/8: 10^-3700


def test_label_smoothing_is_pytorchs_definition(tmp_path):
    logits, targets = batch(np.random.default_rng(4))
    result = runner.invoke(app, ["score-sequence", save(tmp_path, "b.npz", logits, targets), "--label-smoothing", "0.1",
                                 "-f", "json"])
    data = json.loads(result.stdout)
    log_p = special.log_softmax(logits.astype(np.float64), axis=2)
    scored = targets != -100
    nll = -np.take_along_axis(log_p, np.where(scored, targets, 0)[..., None], axis=2)[..., 0][scored]
    uniform = -log_p.mean(axis=2)[scored]
    expected = 0.9 * nll.mean() + 0.1 * uniform.mean()
    assert data["label_smoothing"]["epsilon"] == 0.1
    assert data["label_smoothing"]["loss"] == pytest.approx(expected, rel=1e-13)
    assert data["cross_entropy"] == pytest.approx(nll.mean(), rel=1e-13)


def test_an_ensemble_of_two_is_the_mean_of_their_probabilities(tmp_path):
    rng = np.random.default_rng(5)
    first, targets = batch(rng)
    second = (first + rng.normal(0, 1, first.shape)).astype(np.float32)
    a, b = save(tmp_path, "a.npz", first, targets), save(tmp_path, "b.npz", second, targets)
    result = runner.invoke(app, ["score-sequence", a, b, "--ensemble", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    pa, pb = (np.exp(np.concatenate(reference_log_probs(z, targets))) for z in (first, second))
    assert data["ensemble"]["cross_entropy"] == pytest.approx(-np.mean(np.log((pa + pb) / 2)), rel=1e-12)
    assert data["ensemble"]["members"] == pytest.approx([-np.mean(np.log(pa)), -np.mean(np.log(pb))], rel=1e-12)


def test_the_csv_form_equals_the_npz_of_the_same_tokens(tmp_path):
    logits, targets = batch(np.random.default_rng(6))
    expected = reference_log_probs(logits, targets)
    rows = "".join(f"doc{b},{float(lp)!r}\n" for b, seq in enumerate(expected) for lp in seq)
    csv = tmp_path / "tokens.csv"
    csv.write_text("doc,logprob\n" + rows)
    from_csv = json.loads(runner.invoke(app, ["score-sequence", str(csv), "--sequence", "doc", "--logprob", "logprob",
                                              "-f", "json"]).stdout)
    from_npz = json.loads(runner.invoke(app, ["score-sequence", save(tmp_path, "b.npz", logits, targets),
                                              "-f", "json"]).stdout)
    for key in ("tokens", "sequences", "underflow"):
        assert from_csv[key] == from_npz[key]
    assert from_csv["nll"] == pytest.approx(from_npz["nll"], rel=1e-14)
    assert [s["nll"] for s in from_csv["per_sequence"]] == pytest.approx([s["nll"] for s in from_npz["per_sequence"]],
                                                                         rel=1e-14)
    assert from_csv["naive"] is None


def test_bad_input_is_one_line(tmp_path):
    rng = np.random.default_rng(7)
    logits, targets = batch(rng, padded=False)
    outside = targets.copy()
    outside[1, 3] = 12
    nan = logits.copy()
    nan[2, 5, 1] = np.nan
    np.savez(tmp_path / "nokey.npz", scores=logits, targets=targets)
    csv = tmp_path / "bad.csv"
    csv.write_text("doc,logprob\na,-0.5\na,0.25\n")
    cases = [
        (["score-sequence", save(tmp_path, "o.npz", logits, outside)], 1,
         "sequence 1, position 3: target 12 is not a token of the vocabulary of 12 (0 .. 11)"),
        (["score-sequence", save(tmp_path, "s.npz", logits, targets[:, :10])], 1,
         "'logits' has shape (4, 30, 12) and the targets (4, 10)"),
        (["score-sequence", save(tmp_path, "n.npz", nan, targets)], 1,
         "sequence 2, position 5: logit 1 is nan, not a finite number"),
        (["score-sequence", str(tmp_path / "nokey.npz")], 2, "no array 'logits' in the archive; the arrays there are "
                                                              "'scores', 'targets'"),
        (["score-sequence", str(csv), "--sequence", "doc", "--logprob", "logprob"], 1,
         "column 'logprob', row 2: 0.25 is not a log-probability (a number at most 0)"),
        (["score-sequence", save(tmp_path, "a.npz", logits, targets), save(tmp_path, "c.npz", logits, targets)], 2,
         "add --ensemble"),
    ]
    for args, code, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == code, (args, result.stderr)
        assert result.stdout == "" and len(result.stderr.splitlines()) == 1 and message in result.stderr, result.stderr


def test_the_table_says_the_underflow_in_words(tmp_path):
    logits, targets = batch(np.random.default_rng(8), sequences=2, positions=800, vocabulary=50, padded=False)
    result = runner.invoke(app, ["score-sequence", save(tmp_path, "w.npz", logits, targets)])
    assert result.exit_code == 0, result.stderr
    text = " ".join(result.stdout.split())
    expected = reference_log_probs(logits, targets)
    worst = int(np.argmin([lp.sum() for lp in expected]))
    decades = expected[worst].sum() / np.log(10)
    zero = sequential_first_zero(expected[worst], "float64")
    assert f"the raw probability of sequence {worst} is 10^{decades:.1f} (800 tokens): float64 reaches 0.0 at token {zero}" \
        in text


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_every_float_precision_is_read_and_scored_in_float64(tmp_path, dtype):
    logits, targets = batch(np.random.default_rng(9), dtype=dtype)
    from_file = mlfit.score_sequence(save(tmp_path, "p.npz", logits, targets))
    in_memory = mlfit.score_sequence(logits, targets=targets)
    expected = -sum(lp.sum() for lp in reference_log_probs(logits, targets))
    assert from_file.nll == pytest.approx(expected, rel=1e-13) and in_memory.nll == from_file.nll


@pytest.mark.parametrize("scale", [1.0, 3.0, 6.0, 12.0, 25.0, 60.0, 120.0, 1e4])
def test_the_naive_counts_equal_the_naive_route_done_in_full_at_every_scale(scale):
    # Scales where float16's exp (past 11.1) and float32's (past 88.7) begin to overflow, and the
    # targets' shares to underflow: the screened count must be the full computation's.
    logits, targets = batch(np.random.default_rng(int(scale)), sequences=6, positions=60, vocabulary=40, scale=scale)
    found = mlfit.score_sequence(logits, targets=targets).naive
    for precision in ("float32", "float16"):
        assert found[precision]["nonfinite_losses"] == naive_nonfinite(logits, targets, precision), (scale, precision)


@pytest.mark.parametrize("scale", [2.0, 4.0, 8.0])
def test_the_naive_counts_hold_for_a_large_vocabulary_where_float16_sums_grow(scale):
    logits, targets = batch(np.random.default_rng(int(10 * scale)), sequences=2, positions=20, vocabulary=3000,
                            scale=scale, padded=False)
    found = mlfit.score_sequence(logits, targets=targets).naive
    for precision in ("float32", "float16"):
        assert found[precision]["nonfinite_losses"] == naive_nonfinite(logits, targets, precision), (scale, precision)


def test_the_csv_form_keeps_each_sequences_tokens_in_file_order_when_sequences_interleave(tmp_path):
    csv = tmp_path / "mixed.csv"
    csv.write_text("doc,logprob\nb,-1\na,-0.5\nb,-800\na,-2\nb,-0.25\n")
    data = json.loads(runner.invoke(app, ["score-sequence", str(csv), "--sequence", "doc", "--logprob", "logprob",
                                          "-f", "json"]).stdout)
    assert [s["tokens"] for s in data["per_sequence"]] == [3, 2]  # b first: the order of first appearance
    assert [s["nll"] for s in data["per_sequence"]] == [801.25, 2.5]
    # b's product reaches 0.0 in float64 at its second token (e^-800), whatever a's rows between
    assert data["underflow"]["float64"] == {"sequences_underflowing": 1, "first_zero_token": 1}
