"""URLs through fsspec: file:// stands in for s3:// and gs:// (no network in tests); a protocol
whose package is missing is named in a one-line error."""

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app

pytest.importorskip("fsspec")
runner = CliRunner()


def test_a_file_url_reads_as_the_path(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("x\n" + "".join(f"{v:.4f}\n" for v in np.random.default_rng(61).gamma(2, 2, 300)))
    by_url = mlfit.fit_file(path.as_uri(), "gamma")
    by_path = mlfit.fit_file(str(path), "gamma")
    assert by_url.estimate == by_path.estimate and by_url.source == path.as_uri()


def test_a_parquet_url(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    values = np.random.default_rng(62).poisson(4, 200)
    pq.write_table(pa.table({"k": values}), tmp_path / "k.parquet")
    assert mlfit.fit_file((tmp_path / "k.parquet").as_uri(), "poisson", "k").estimate["lam"] == pytest.approx(
        values.mean(), rel=1e-14)


@pytest.mark.parametrize("url, message", [("gs://bucket/x.csv", "gcsfs"), ("s3://bucket/x.csv", "s3fs")])
def test_a_missing_protocol_package_is_named(url, message):
    result = runner.invoke(app, ["fit", url, "-d", "normal"])
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1


def test_a_missing_url_is_one_line(tmp_path):
    result = runner.invoke(app, ["fit", (tmp_path / "nope.csv").as_uri(), "-d", "normal"])
    assert result.exit_code == 2 and result.stderr.endswith("nope.csv: no such file\n")


def test_a_url_glob_on_the_cluster(tmp_path, dask_client):
    from mlfit.distributed import fit_distributed

    rng = np.random.default_rng(63)
    for i in range(3):
        (tmp_path / f"p{i}.csv").write_text("x\n" + "".join(f"{v:.5f}\n" for v in rng.normal(1, 2, 150)))
    (tmp_path / "all.csv").write_text("x\n" + "".join((tmp_path / f"p{i}.csv").read_text().split("\n", 1)[1]
                                                      for i in range(3)))
    spread = fit_distributed([tmp_path.as_uri() + "/p*.csv"], "normal", "x", client=dask_client)
    single = mlfit.fit_file(str(tmp_path / "all.csv"), "normal", "x")
    assert spread.n == 450 and spread.estimate["mu"] == pytest.approx(single.estimate["mu"], rel=1e-13)
