"""mlfit score-model and calibrate: a trained model's predictions as likelihoods, each number
against a direct numpy/scipy computation, the naive route's failures, temperature scaling."""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import optimize, special, stats

from conftest import run
from mlfit.trained.scoring import make_spec, score_model
from mlfit.trained.temperature import calibrate, nll_terms


def _write(path, header, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return str(path)


def _text(value) -> str:
    return repr(float(value))


def _score(path, dist, target, **columns):
    header = Path(path).read_text().splitlines()[0].split(",")
    return score_model(path, make_spec(dist, target, names=header, label=path, **columns))


@pytest.fixture
def heads(tmp_path):
    rng = np.random.default_rng(3)
    n = 300
    z = rng.normal(0, 2, n)
    made = rng.integers(0, 2, n)
    logits = rng.normal(0, 2, (n, 3))
    shot = rng.integers(0, 3, n)
    mu, log_var = rng.normal(5, 1, n), rng.normal(0, 0.5, n)
    y = mu + rng.normal(size=n)
    log_rate = rng.normal(0.5, 0.3, n)
    goals = rng.poisson(2, n)
    path = _write(tmp_path / "p.csv", ["made", "z", "shot", "a", "b", "c", "y", "mu", "log_var", "goals", "log_rate"],
                  [[made[i], _text(z[i]), shot[i], *map(_text, logits[i]), _text(y[i]), _text(mu[i]), _text(log_var[i]),
                    goals[i], _text(log_rate[i])] for i in range(n)])
    return path, dict(z=z, made=made, logits=logits, shot=shot, mu=mu, log_var=log_var, y=y, log_rate=log_rate,
                      goals=goals, n=n)


def test_bce_with_logits_is_the_bernoulli_nll(heads):
    path, d = heads
    result = _score(path, "bernoulli", "made", logit="z")
    p = special.expit(d["z"])
    direct = -np.sum(d["made"] * np.log(p) + (1 - d["made"]) * np.log1p(-p))
    assert result.nll == pytest.approx(direct, rel=1e-12)
    assert result.loss["value"] == pytest.approx(direct / d["n"], rel=1e-12)
    assert result.accuracy == pytest.approx(np.mean((d["z"] > 0) == (d["made"] == 1)))


def test_cross_entropy_is_the_categorical_nll(heads):
    path, d = heads
    result = _score(path, "categorical", "shot", logits="a,b,c")
    direct = -np.sum(d["logits"][np.arange(d["n"]), d["shot"]] - special.logsumexp(d["logits"], axis=1))
    assert result.nll == pytest.approx(direct, rel=1e-12)
    assert result.loss["value"] == pytest.approx(direct / d["n"], rel=1e-12)
    assert result.accuracy == pytest.approx(np.mean(np.argmax(d["logits"], axis=1) == d["shot"]))


def test_gaussian_nll_with_a_constant_variance_is_half_log_two_pi_sigma_squared_plus_sse(heads):
    path, d = heads
    result = _score(path, "normal", "y", mean="mu", sigma=1.7)
    sse = np.sum((d["y"] - d["mu"]) ** 2)
    assert result.nll == pytest.approx(d["n"] / 2 * np.log(2 * np.pi * 1.7 ** 2) + sse / (2 * 1.7 ** 2), rel=1e-12)
    assert result.loss["nll_from_loss"] == pytest.approx(result.nll, rel=1e-12)
    estimated = _score(path, "normal", "y", mean="mu")
    assert estimated.scale == pytest.approx(np.sqrt(sse / d["n"]), rel=1e-12) and estimated.scale_estimated


def test_gaussian_nll_with_a_predicted_log_variance_is_torchs_full_gaussian_nll(heads):
    path, d = heads
    result = _score(path, "normal", "y", mean="mu", log_var="log_var")
    variance = np.exp(d["log_var"])
    loss = np.mean(0.5 * (np.log(variance) + (d["y"] - d["mu"]) ** 2 / variance) + 0.5 * np.log(2 * np.pi))
    assert result.loss["value"] == pytest.approx(loss, rel=1e-12)
    assert result.nll == pytest.approx(-np.sum(stats.norm.logpdf(d["y"], d["mu"], np.sqrt(variance))), rel=1e-12)


def test_poisson_nll_with_log_input_and_the_log_factorials(heads):
    path, d = heads
    result = _score(path, "poisson", "goals", log_rate="log_rate")
    assert result.nll == pytest.approx(-np.sum(stats.poisson.logpmf(d["goals"], np.exp(d["log_rate"]))), rel=1e-12)
    assert result.loss["value"] == pytest.approx(np.mean(np.exp(d["log_rate"]) - d["goals"] * d["log_rate"]), rel=1e-12)


def test_laplace_with_an_estimated_b(heads):
    path, d = heads
    result = _score(path, "laplace", "y", mean="mu")
    b = np.mean(np.abs(d["y"] - d["mu"]))
    assert result.nll == pytest.approx(-np.sum(stats.laplace.logpdf(d["y"], d["mu"], b)), rel=1e-12)


def test_logits_of_ten_thousand_the_stable_nll_and_the_naive_routes_failure(tmp_path):
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 1e4, (50, 4))
    target = rng.integers(0, 4, 50)
    path = _write(tmp_path / "big.csv", ["t", "l0", "l1", "l2", "l3"],
                  [[target[i], *map(_text, logits[i])] for i in range(50)])
    result = _score(path, "categorical", "t", logits="l*")
    direct = -np.sum(logits[np.arange(50), target] - special.logsumexp(logits, axis=1))
    assert result.nll == pytest.approx(direct, rel=1e-12)
    for precision in ("float64", "float32", "float16"):
        part = result.stability[precision]
        assert part["naive_result"] in ("inf", "nan") and part["rows_exp_overflow"] > 0
    assert result.stability["largest_abs_input"] == pytest.approx(np.abs(logits).max())


def test_a_target_impossible_in_the_naive_route_is_counted_not_crashed_on(tmp_path):
    path = _write(tmp_path / "sure.csv", ["y", "z"], [[0, 800.0], [1, 2.0], [0, -1.0]])
    result = run("score-model", path, "--dist", "bernoulli", "--logit", "z", "--target", "y", "-f", "json")
    assert result.exit_code == 3, result.stderr
    data = json.loads(result.stdout)
    assert data["impossible_rows"] == 1
    assert data["nll"] == pytest.approx(800 + np.logaddexp(0, -2.0) + np.logaddexp(0, -1.0), rel=1e-12)


def test_categorical_targets_by_position_or_by_logit_column_name(tmp_path):
    rows = [["a", 1.0, 2.0, 0.5], ["c", 0.1, 0.2, 3.0], ["b", 0.0, 1.0, 0.0]]
    named = _write(tmp_path / "named.csv", ["t", "a", "b", "c"], rows)
    placed = _write(tmp_path / "placed.csv", ["t", "a", "b", "c"], [[{"a": 0, "b": 1, "c": 2}[r[0]], *r[1:]] for r in rows])
    assert _score(named, "categorical", "t", logits="a,b,c").nll == pytest.approx(
        _score(placed, "categorical", "t", logits="a,b,c").nll, rel=1e-15)
    bad = _write(tmp_path / "bad.csv", ["t", "a", "b"], [[0, 1.0, 2.0], [5, 0.0, 1.0]])
    result = run("score-model", bad, "--dist", "categorical", "--logits", "a,b", "--target", "t")
    assert result.exit_code == 1 and "row 2: 5 is neither a class position 0..1" in result.stderr


def test_flags_that_do_not_belong_to_the_family_are_usage_errors():
    for args, message in [(["--dist", "bernoulli", "--mean", "mu", "--target", "made"], "not for bernoulli"),
                          (["--dist", "normal", "--target", "distance"], "need --mean"),
                          (["--dist", "normal", "--mean", "mu", "--log-var", "log_var", "--sigma", "1", "--target",
                            "distance"], "do not go together"),
                          (["--dist", "categorical", "--logits", "nope_*", "--target", "shot"], "matches no column"),
                          (["--dist", "poisson", "--log-rate", "nosuch", "--target", "goals"], "no column 'nosuch'")]:
        result = run("score-model", "sample_data/predictions.csv", *args)
        assert result.exit_code == 2, args
        assert message in result.stderr


def test_score_model_is_the_same_read_a_few_rows_at_a_time(monkeypatch):
    import mlfit.csvtext

    whole = _score("sample_data/predictions.csv", "categorical", "shot", logits="logit_*")
    monkeypatch.setattr(mlfit.csvtext, "CHUNK_BYTES", 200)
    chunked = _score("sample_data/predictions.csv", "categorical", "shot", logits="logit_*")
    assert chunked.nll == pytest.approx(whole.nll, rel=1e-13)
    assert chunked.n == whole.n
    for precision in ("float64", "float32", "float16"):  # the naive route's counts merge exactly
        for key in ("naive_result", "rows_exp_overflow", "rows_log_of_zero", "rows_nan"):
            assert chunked.stability[precision][key] == whole.stability[precision][key]
    for precision in ("float64", "float32", "float16"):  # the raw product, multiplied in file order
        assert chunked.underflow.precisions[precision].first_zero_at == whole.underflow.precisions[precision].first_zero_at


# --- temperature scaling ------------------------------------------------------------------------
@pytest.fixture
def overconfident(tmp_path):
    rng = np.random.default_rng(11)
    n, k = 3000, 3
    true = rng.normal(size=(n, k)) * 1.5
    p = special.softmax(true, axis=1)
    y = np.array([rng.choice(k, p=row) for row in p])
    path = _write(tmp_path / "cal.csv", ["c0", "c1", "c2", "label"],
                  [[*map(_text, 3 * true[i]), y[i]] for i in range(n)])
    return path


def _calibrate(path, **options):
    spec = make_spec("categorical", "label", logits="c*", names=["c0", "c1", "c2", "label"], label=path)
    return calibrate(path, spec, **options)


def test_over_confident_logits_recover_their_temperature(overconfident):
    result = _calibrate(overconfident)
    assert abs(result.temperature - 3.0) <= 2 * result.stderr
    assert result.after.ece < result.before.ece
    assert result.after.brier < result.before.brier
    brute = optimize.minimize_scalar(lambda T: nll_terms(1 / T, result.logits, order=0)[0], bounds=(0.5, 10),
                                     method="bounded", options={"xatol": 1e-12})
    assert result.nll_after == pytest.approx(brute.fun, rel=1e-10)
    assert result.temperature == pytest.approx(brute.x, rel=1e-5)


def test_standard_error_and_intervals_of_the_temperature(overconfident):
    result = _calibrate(overconfident, level=0.9)
    s = 1 / result.temperature
    step = 1e-4
    second = (nll_terms(s + step, result.logits, 0)[0] - 2 * result.nll_after + nll_terms(s - step, result.logits, 0)[0]) \
        / step ** 2
    assert result.stderr == pytest.approx(result.temperature ** 2 / np.sqrt(second), rel=1e-4)
    z = stats.norm.ppf(0.95)
    assert result.wald == pytest.approx((result.temperature - z * result.stderr, result.temperature + z * result.stderr))
    low, high = result.profile
    cut = stats.chi2.ppf(0.9, 1) / 2
    for end in (low, high):
        assert nll_terms(1 / end, result.logits, 0)[0] - result.nll_after == pytest.approx(cut, rel=1e-8)
    assert low < result.temperature < high


def test_ece_mce_and_brier_by_hand():
    from mlfit.trained.temperature import calibration

    class Held:
        spec = make_spec("bernoulli", "y", logit="z", names=["y", "z"], label="x")

        def chunks(self):
            z = np.array([2.0, -1.0, 0.5, 3.0])
            logits = np.column_stack([np.zeros(4), z])
            yield logits, np.array([1, 1, 0, 1]), np.arange(1, 5)

    c = calibration(1.0, Held(), 2)
    p = special.expit(np.array([2.0, -1.0, 0.5, 3.0]))
    confidence = np.maximum(p, 1 - p)
    right = np.array([1, 0, 0, 1])  # predictions 1, 0, 1, 1 against 1, 1, 0, 1
    bins = np.minimum((confidence * 2).astype(int), 1)  # every confidence is >= 0.5: the upper bin
    assert (bins == 1).all()
    assert c.ece == pytest.approx(abs(right.mean() - confidence.mean()))
    assert c.mce == pytest.approx(abs(right.mean() - confidence.mean()))
    assert c.brier == pytest.approx(np.mean((p - np.array([1, 1, 0, 1])) ** 2))


def test_calibrate_past_the_memory_limit_reads_the_file_again_and_agrees(overconfident, monkeypatch):
    held = _calibrate(overconfident)
    import mlfit.trained.temperature as temperature

    monkeypatch.setattr(temperature, "IN_MEMORY_CELLS", 100)
    passed = _calibrate(overconfident)
    assert passed.passes > 1 and held.passes == 1
    assert passed.temperature == pytest.approx(held.temperature, rel=1e-12)
    assert passed.after.ece == pytest.approx(held.after.ece, rel=1e-12)


def test_calibrate_writes_the_calibrated_probabilities_and_the_json(tmp_path, overconfident):
    out = tmp_path / "calibrated.csv"
    result = run("calibrate", overconfident, "--dist", "categorical", "--logits", "c*", "--target", "label",
                 "--output", out, "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    for key in ("temperature", "stderr", "ci", "ece", "mce", "brier", "nll", "mean_nll", "accuracy"):
        assert key in data
    rows = list(csv.DictReader(out.read_text().splitlines()))
    assert list(rows[0]) == ["row", "p[c0]", "p[c1]", "p[c2]"]
    first = np.array([float(rows[0][k]) for k in ("p[c0]", "p[c1]", "p[c2]")])
    logits = np.array([float(v) for v in Path(overconfident).read_text().splitlines()[1].split(",")[:3]])
    np.testing.assert_allclose(first, special.softmax(logits / data["temperature"]), rtol=1e-12)


def test_the_reliability_plot_is_drawn(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "reliability.png"
    result = run("calibrate", "sample_data/predictions.csv", "--dist", "bernoulli", "--logit", "made_logit",
                 "--target", "made", "--plot", out)
    assert result.exit_code == 0, result.stderr
    assert out.stat().st_size > 10_000


def test_calibrates_raw_product_and_naive_route_are_those_of_the_calibrated_logits(overconfident):
    result = _calibrate(overconfident)
    data = Path(overconfident).read_text().splitlines()[1:]
    logits = np.array([[float(v) for v in line.split(",")[:3]] for line in data]) / result.temperature
    target = np.array([int(line.split(",")[3]) for line in data])
    log_p = logits[np.arange(len(target)), target] - special.logsumexp(logits, axis=1)
    assert result.nll_after == pytest.approx(-log_p.sum(), rel=1e-12)
    product, zero_at = 1.0, None
    for i, value in enumerate(np.exp(log_p), start=1):
        product *= value
        if product == 0.0:
            zero_at = i
            break
    assert result.underflow.precisions["float64"].first_zero_at == zero_at
    with np.errstate(all="ignore"):
        naive32 = np.log((np.exp(logits.astype(np.float32)) / np.exp(logits.astype(np.float32)).sum(1, keepdims=True))
                         [np.arange(len(target)), target])
    assert result.stability["float32"]["rows_log_of_zero"] == int(np.sum(naive32 == -np.inf))


def test_logits_that_no_temperature_can_improve_are_one_line_errors(tmp_path):
    flat = _write(tmp_path / "flat.csv", ["y", "a", "b"], [[0, 1, 1], [1, 2, 2]])
    result = run("calibrate", flat, "--dist", "categorical", "--logits", "a,b", "--target", "y")
    assert result.exit_code == 1 and "changes nothing" in result.stderr
    perfect = _write(tmp_path / "perfect.csv", ["y", "a", "b"], [[0, 5, 1], [1, 1, 5]])
    result = run("calibrate", perfect, "--dist", "categorical", "--logits", "a,b", "--target", "y")
    assert result.exit_code == 3 and "no finite temperature" in result.stderr  # as regress names separation
