"""A data set of several files fitted on a real dask.distributed LocalCluster (two worker processes,
started once for the session): the same result as the single-machine fit of the files written as one."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app

distributed = pytest.importorskip("distributed")

runner = CliRunner()
FAMILIES = {"normal": "x", "laplace": "x", "lognormal": "size", "gamma": "size", "exponential": "size", "beta": "share",
            "poisson": "count", "negbinomial": "count", "geometric": "count", "bernoulli": "made",
            "categorical": "label"}


@pytest.fixture
def client(dask_client):
    return dask_client


@pytest.fixture(scope="module")
def parts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parts")
    rng = np.random.default_rng(41)
    header = "x,size,share,count,made,label\n"
    whole = [header]
    for i, n in enumerate((12, 400, 251, 333)):  # a first file too short for the raw product to settle
        rows = [f"{a:.6f},{b:.5f},{c:.5f},{d},{e},{f}\n" for a, b, c, d, e, f in zip(
            rng.normal(10, 2, n), rng.gamma(2, 3, n), rng.beta(2, 5, n), rng.negative_binomial(3, 0.4, n),
            rng.integers(0, 2, n), rng.choice(["a", "b", "c"], n))]
        if i == 2:
            rows[7] = "NA,1.5,0.5,,1,b\n"  # missing cells are skipped and counted, as locally
        (folder / f"part-{i}.csv").write_text(header + "".join(rows))
        whole += rows
    (folder / "whole.csv.all").write_text("".join(whole))
    return folder


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_cluster_fit_equals_the_single_machine_fit(client, parts, family):
    column = FAMILIES[family]
    from mlfit.distributed import fit_distributed

    spread = fit_distributed([str(parts / "part-*.csv")], family, column, client=client)
    single = mlfit.fit_file(str(parts / "whole.csv.all"), family, column)
    assert spread.n == single.n and spread.dropped == single.dropped
    if single.reference_params is not None:  # the exact solution: the same to rounding
        for name, value in single.reference_params.items():
            assert np.allclose(spread.reference_params[name], value, rtol=1e-12, atol=0), name
    numerical = 1e-7 if family == "laplace" else 1e-12  # (laplace's Powell search: ~1e-9 however it is fed)
    for name, value in single.estimate.items():
        assert np.allclose(spread.estimate[name], value, rtol=numerical, atol=0), name
        assert np.allclose(spread.inference.stderr[name], single.inference.stderr[name], rtol=max(numerical, 1e-9))
    assert spread.nll == pytest.approx(single.nll, rel=1e-12)
    # the raw product, followed file by file past the 12-row first file, as in one pass
    for precision, report in single.underflow.precisions.items():
        theirs = vars(spread.underflow.precisions[precision])
        for key, value in vars(report).items():  # where it first reached 0 or inf: exactly the same row
            assert theirs[key] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value), key


def test_a_broken_file_is_named_with_its_row(client, parts, tmp_path):
    for i in range(3):
        (tmp_path / f"p{i}.csv").write_text((parts / f"part-{i + 1}.csv").read_text())
    text = (tmp_path / "p1.csv").read_text().splitlines()
    text[5] = "oops,1,0.5,2,1,a"
    (tmp_path / "p1.csv").write_text("\n".join(text) + "\n")
    from mlfit.distributed import fit_distributed

    with pytest.raises(mlfit.DataError, match=r"p1\.csv: column 'x', row 5: 'oops' is not a number"):
        fit_distributed([str(tmp_path)], "normal", "x", client=client)


@pytest.mark.parametrize("family, column", [("weibull", "size"), ("cauchy", "x"), ("logistic", "x"),
                                            ("student_t", "x")])
def test_families_whose_statistic_is_their_values_gather_them_then_take_passes(client, parts, family, column):
    from mlfit.distributed import fit_distributed

    spread = fit_distributed([str(parts / "part-*.csv")], family, column, client=client)
    single = mlfit.fit_file(str(parts / "whole.csv.all"), family, column)
    assert (spread.n, spread.dropped) == (single.n, single.dropped)
    for name, value in single.estimate.items():  # the same values in the same order: the same search
        assert spread.estimate[name] == pytest.approx(value, rel=1e-12), name
    assert spread.nll == pytest.approx(single.nll, rel=1e-12)
    # past the limit: the sample's fit, then Newton's steps on every value, a distributed pass each
    # (300: two parts pass it in their own worker, and the tree joins the others past it)
    passed = fit_distributed([str(parts / "part-*.csv")], family, column, client=client, values_limit=300)
    assert passed.numerical.converged and "passes over the values" in passed.numerical.message
    assert (passed.n, passed.dropped) == (single.n, single.dropped)
    for name, value in single.estimate.items():
        assert passed.estimate[name] == pytest.approx(value, rel=1e-9), name
    assert passed.nll == pytest.approx(single.nll, rel=1e-13)


def test_the_command_line_reaches_the_scheduler(client, parts):
    address = client.scheduler.address
    result = runner.invoke(app, ["fit", str(parts / "part-*.csv"), "-d", "poisson", "-c", "count", "--scheduler",
                                 address, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    single = mlfit.fit_file(str(parts / "whole.csv.all"), "poisson", "count")
    assert data["params"]["lam"] == pytest.approx(single.params["lam"], rel=1e-14)
    assert data["file"].startswith("4 files")
    unreachable = runner.invoke(app, ["fit", str(parts / "part-0.csv"), "-d", "normal", "-c", "x", "--scheduler",
                                      "auto"], env={"DASK_SCHEDULER_ADDRESS": ""})
    assert unreachable.exit_code == 2 and "DASK_SCHEDULER_ADDRESS" in unreachable.stderr


def test_every_family_declares_whether_it_has_sufficient_statistics():
    from mlfit.families import NAMES, family_class
    from mlfit.families.statistics import Values

    for name in NAMES:
        family = family_class(name)(10) if "trials" in family_class(name).needs else family_class(name)()
        values = np.array(["a", "b"], dtype=object) if not family.support.numeric else np.array([0.25, 0.5])
        assert family.sufficient_statistics == (not isinstance(family.summarize(values), Values)), name


def test_compare_ranks_as_on_one_machine(client, parts):
    from mlfit.distributed import compare_distributed
    from mlfit.ranking import compare_file

    spread = compare_distributed([str(parts / "part-*.csv")], "count", client=client)
    single = compare_file(str(parts / "whole.csv.all"), "count")
    ours = {c.distribution: c.result.aic for c in spread.ranked}
    theirs = {c.distribution: c.result.aic for c in single.ranked}
    # the same order; the densities are left unranked on a cluster, as past the in-memory limit (whether a
    # density may be ranked with counts needs every value)
    assert [name for name in theirs if name in ours] == list(ours)
    assert {"poisson", "negbinomial", "geometric"} <= set(ours)
    for name, aic in ours.items():
        assert aic == pytest.approx(theirs[name], rel=1e-12)
    result = runner.invoke(app, ["compare", str(parts / "part-*.csv"), "-c", "made", "--scheduler",
                                 client.scheduler.address, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["winner"] == compare_file(str(parts / "whole.csv.all"), "made").winner.distribution


def test_progress_counts_the_files_on_stderr_only(client, parts, monkeypatch, capsys):
    import mlfit.cli
    from mlfit.distributed import fit_distributed

    monkeypatch.setattr(mlfit.cli.common.sys.stderr, "isatty", lambda: True, raising=False)
    show = mlfit.cli.common._cluster_progress()
    fit_distributed([str(parts / "part-*.csv")], "poisson", "count", client=client, progress=show)
    show.close()
    out, err = capsys.readouterr()
    assert out == "" and err.endswith("mlfit: 4 of 4 parts read\n")
    regression = mlfit.cli.common._cluster_progress()
    from mlfit.distributed import regress_distributed

    result = regress_distributed([str(parts / "part-*.csv")], "made ~ x", "bernoulli", client=client,
                                 progress=regression)
    regression.close()
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and f"pass {result.passes - 2}: 4 of 4 parts read\n" in err


def test_a_file_without_the_column_is_one_line_and_no_worker_traceback(client, parts, tmp_path):
    from mlfit.distributed import compare_distributed

    (tmp_path / "a.csv").write_text((parts / "part-1.csv").read_text())
    (tmp_path / "b.csv").write_text("other\n1\n2\n")

    def failures():
        return sum("Compute Failed" in message for logs in client.get_worker_logs().values() for _, message in logs)

    before = failures()
    with pytest.raises(mlfit.UsageError, match=r"b\.csv: no column 'count'"):
        compare_distributed([str(tmp_path)], "count", client=client)
    with pytest.raises(mlfit.UsageError, match=r"b\.csv: no column 'count'"):
        compare_distributed([str(tmp_path)], "count", ["laplace"], client=client)
    assert failures() == before  # (raised on a worker, dask would log it there with a traceback)


@pytest.fixture(scope="module")
def quoted(tmp_path_factory):
    """A file with quoted newlines and quotes in its cells, to be cut in parts of 2 kB."""
    rng = np.random.default_rng(43)
    lines = ["x,count,note"]
    for i, (x, count) in enumerate(zip(rng.normal(3, 1, 1500), rng.poisson(4, 1500))):
        note = ['"plain"', '"two\nlines"', '"a ""quoted"" word, and a comma"', 'bare'][i % 4]
        lines.append(f"{x:.6f},{count},{note}" if i != 700 else f",{count},{note}")
    path = tmp_path_factory.mktemp("quoted") / "quoted.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("family, column", [("normal", "x"), ("laplace", "x"), ("poisson", "count")])
def test_a_big_file_is_read_in_parts_with_the_same_fit(client, quoted, family, column):
    from mlfit.columns import DEFAULT
    from mlfit.distributed import fit_distributed, partition

    pieces = partition([str(quoted)], DEFAULT, client, part_bytes=2_000)
    assert len(pieces) > 10
    spread = fit_distributed([str(quoted)], family, column, client=client, part_bytes=2_000)
    single = mlfit.fit_file(str(quoted), family, column)
    assert (spread.n, spread.dropped) == (single.n, single.dropped)
    assert spread.nll == pytest.approx(single.nll, rel=1e-12)
    for name, value in (single.reference_params or single.estimate).items():
        assert np.allclose((spread.reference_params or spread.estimate)[name], value, rtol=1e-12), name


def test_a_bad_cell_in_a_part_names_its_row_in_the_file(client, quoted, tmp_path):
    from mlfit.distributed import fit_distributed

    lines = quoted.read_text().split("\n")
    # data row 1201 (0-based record 1200: each 4th record holds a quoted newline, one more line)
    line = 1 + 1200 + 1200 // 4
    assert lines[line].startswith(("-", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"))
    lines[line] = "oops" + lines[line][lines[line].index(","):]
    (tmp_path / "bad.csv").write_text("\n".join(lines))
    with pytest.raises(mlfit.DataError, match=r"bad\.csv: column 'x', row 1201: 'oops' is not a number"):
        fit_distributed([str(tmp_path / "bad.csv")], "normal", "x", client=client, part_bytes=2_000)
    with pytest.raises(mlfit.DataError, match=r"bad\.csv: column 'x', row 1201: 'oops' is not a number"):
        mlfit.fit_file(str(tmp_path / "bad.csv"), "normal", "x")


def test_laplace_narrows_its_bracket_where_pass_two_would_gather_too_many(client, quoted, monkeypatch):
    import mlfit.distributed
    from mlfit.distributed import fit_distributed

    from mlfit.families.laplace import Laplace

    held = []
    real = Laplace.narrowed_plan
    monkeypatch.setattr(Laplace, "narrowed_plan", lambda *a: held.append(real(*a)[1]) or real(*a))
    import mlfit.families.two_pass

    monkeypatch.setattr(mlfit.families.two_pass, "GATHERED", 3)
    spread = fit_distributed([str(quoted)], "laplace", "x", client=client, part_bytes=2_000)
    single = mlfit.fit_file(str(quoted), "laplace", "x")
    assert held and held[-1] <= 3  # a counting pass narrowed the bracket (~24 values by the sample) to 3 or fewer
    assert spread.reference_params["mu"] == single.reference_params["mu"]  # the median, exactly
    assert spread.reference_params["b"] == pytest.approx(single.reference_params["b"], rel=1e-14)
    assert spread.nll == pytest.approx(single.nll, rel=1e-12)


def test_the_raw_product_is_multiplied_for_real_only_from_where_it_nears_a_limit(client, tmp_path, monkeypatch):
    import mlfit.distributed
    from mlfit.distributed import fit_distributed

    rng = np.random.default_rng(5)
    for i in range(4):  # sigma 0.3: each row's density is 0.81 on average, float64 reaches 0.0 in the third file
        (tmp_path / f"part-{i}.csv").write_text("x\n" + "".join(f"{v:.6f}\n" for v in rng.normal(0, 0.3, 1500)))
    whole = tmp_path / "whole.txt"
    whole.write_text("x\n" + "".join((tmp_path / f"part-{i}.csv").read_text()[2:] for i in range(4)))
    found = []
    real = mlfit.distributed.starting_points
    monkeypatch.setattr(mlfit.distributed, "starting_points", lambda paths: found.append(real(paths)) or found[-1])
    spread = fit_distributed([str(tmp_path / "part-*.csv")], "normal", "x", client=client)
    single = mlfit.fit_file(str(whole), "normal", "x")
    [starts] = found
    assert starts["float64"][0] == 2 and starts["float16"][0] == 0  # (float64 jumps over two files)
    for precision, report in single.underflow.precisions.items():
        theirs = spread.underflow.precisions[precision]
        assert (theirs.first_zero_at, theirs.first_inf_at) == (report.first_zero_at, report.first_inf_at), precision
    assert 3000 < single.underflow.precisions["float64"].first_zero_at < 4500


def test_log_paths_of_parts_join_into_the_whole_ones_and_place_the_starts():
    from mlfit.underflow import LogPath, joined_paths, log_paths, starting_points

    rng = np.random.default_rng(8)
    log_probs = rng.normal(-0.2, 1.0, 5000)
    weights = rng.integers(0, 3, 5000).astype(float)
    for w, written_out in ((None, True), (weights, True), (weights * 0.5, False)):
        whole = log_paths(log_probs, w, written_out)
        joined = log_paths(np.zeros(0), None, True)
        for a, b in ((0, 1), (1, 1700), (1700, 1700), (1700, 5000)):
            joined = joined_paths(joined, log_paths(log_probs[a:b], None if w is None else w[a:b], written_out))
        for precision, path in whole.items():
            assert joined[precision].rows == path.rows
            assert joined[precision].total == pytest.approx(path.total, rel=1e-12)
            assert (joined[precision].low, joined[precision].high) == pytest.approx((path.low, path.high), rel=1e-12)
    # float16 rounds a likelihood of 0.9999 to 1: its product never moves, whatever the float64 sum does
    assert log_paths(np.full(10, np.log(0.9999)), None, True)["float16"].total == 0.0
    far, near = LogPath(10, -50.0, -60.0, 1.0), LogPath(10, -700.0, -705.0, 0.0)
    starts = starting_points([{p: path for p in ("float64", "float32", "float16")} for path in (far, far, near, far)])
    assert starts["float64"] == (2, -100.0, 20)  # (-100 - 705 is within 2 decades of float64's smallest normal)
    assert starts["float16"][0] == 0 and starts["float32"][0] == 1
