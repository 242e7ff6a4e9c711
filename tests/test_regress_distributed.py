"""mlfit regress over a data set of several files on the session's LocalCluster (two worker
processes): least squares from QR factors merged across files, the other models a distributed pass
per Newton step; the same fit as one machine's of the files written as one."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import mlfit
from mlfit.cli import app
from mlfit.regression import regress_file
from test_regress_streamed import CASES  # (the models that stream: the same on a cluster)

pytest.importorskip("distributed")
runner = CliRunner()

def split(source, folder, cuts=(3, 9)):
    """The file's rows in three files (the first of 3 rows), each with the header."""
    with open(source) as handle:
        header, *rows = handle.read().splitlines()
    edges = [0, *cuts, len(rows)]
    for i, (a, b) in enumerate(zip(edges, edges[1:])):
        (folder / f"part-{i}.csv").write_text("\n".join([header, *rows[a:b]]) + "\n")
    return str(folder / "part-*.csv")


@pytest.mark.parametrize("source, formula, dist, sigma, weights", CASES)
def test_the_cluster_regression_equals_the_single_machine_one(dask_client, tmp_path, source, formula, dist, sigma,
                                                              weights):
    from mlfit.distributed import regress_distributed

    spread = regress_distributed([split(source, tmp_path)], formula, dist, client=dask_client, sigma=sigma,
                                 weights=weights)
    single = regress_file(source, formula, dist, sigma=sigma, weights=weights)
    np.testing.assert_allclose(spread.coef, single.coef, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(spread.se, single.se, rtol=1e-12)
    assert spread.nll == pytest.approx(single.nll, rel=1e-12)
    # Sums of squared residuals carry the rounding of X beta magnified where the residuals are small
    # beside the response: Longley's are 1/200 of it, and both RSSs are within 1.3e-12 of NIST's.
    summed = 5e-12 if "Longley" in source else 1e-12
    for name in ("null_nll", "deviance"):
        assert getattr(spread, name) == pytest.approx(getattr(single, name), rel=summed, abs=1e-12)
    a, b = single.to_dict(), spread.to_dict()
    assert b["loss"]["value"] == pytest.approx(a["loss"]["value"], rel=summed)
    for precision in ("float64", "float32", "float16"):  # multiplied in file order, across the files
        for event in ("first_zero_at", "first_inf_at"):
            assert b["underflow"][precision][event] == a["underflow"][precision][event]
    assert (b["n"], b["dropped"]) == (a["n"], a["dropped"])
    assert spread.passes > 2 and spread.source.startswith("3 files (")
    assert spread.warnings() == []


def test_a_bad_cell_names_its_file_and_its_row_there(dask_client, tmp_path):
    from mlfit.distributed import regress_distributed

    pattern = split("sample_data/cars.csv", tmp_path)
    lines = (tmp_path / "part-1.csv").read_text().splitlines()
    cells = lines[4].split(",")
    cells[lines[0].split(",").index('"wt"')] = "heavy"
    lines[4] = ",".join(cells)
    (tmp_path / "part-1.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(mlfit.DataError, match=r"part-1\.csv: .*row 4.*'heavy'"):
        regress_distributed([pattern], "mpg ~ wt", "normal", client=dask_client)


@pytest.mark.slow  # (about 400 distributed passes: the reweighting's, then the numerical check's)
def test_laplace_on_a_cluster_equals_the_linear_program(dask_client, tmp_path):
    from mlfit.distributed import regress_distributed

    pattern = split("sample_data/cars.csv", tmp_path)
    spread = regress_distributed([pattern], "mpg ~ wt", "laplace", client=dask_client)
    single = regress_file("sample_data/cars.csv", "mpg ~ wt", "laplace")
    np.testing.assert_allclose(spread.coef, single.coef, rtol=1e-9)
    assert spread.nll == pytest.approx(single.nll, rel=1e-13) and spread.warnings() == []


def test_sigma_outside_normal_is_refused_on_a_cluster(dask_client, tmp_path):
    from mlfit.distributed import regress_distributed

    pattern = split("sample_data/cars.csv", tmp_path)
    with pytest.raises(mlfit.UsageError, match="--sigma models the log of a family.s scale or shape"):
        regress_distributed([pattern], "am ~ wt", "bernoulli", sigma="~ wt", client=dask_client)


def test_the_command_line_fits_the_files_as_one_data_set(dask_client, tmp_path):
    pattern = split("sample_data/cars.csv", tmp_path)
    result = runner.invoke(app, ["regress", pattern, "am ~ wt", "-d", "bernoulli", "--scheduler",
                                 dask_client.scheduler.address, "-f", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    single = regress_file("sample_data/cars.csv", "am ~ wt", "bernoulli")
    assert data["n"] == 32 and data["coef"]["wt"] == pytest.approx(single.to_dict()["coef"]["wt"], rel=1e-12)
    refused = runner.invoke(app, ["regress", pattern, "am ~ wt", "-d", "bernoulli", "--scheduler",
                                  dask_client.scheduler.address, "--predict", str(tmp_path / "p.csv")])
    assert refused.exit_code == 2 and "every row in one place" in refused.stderr
    assert not (tmp_path / "p.csv").exists()


def test_a_big_file_in_parts_gives_the_same_regression(dask_client, tmp_path):
    from mlfit.columns import DEFAULT
    from mlfit.distributed import partition, regress_distributed

    rng = np.random.default_rng(7)
    x = rng.normal(0, 1, 1500)
    y = rng.poisson(np.exp(0.5 + 0.8 * x))
    group = rng.choice(["north", "south, far", "east\nside"], 1500)
    lines = ["y,x,group"] + [f'{a},{b:.6f},"{c}"' for a, b, c in zip(y, x, group)]
    path = tmp_path / "big.csv"
    path.write_text("\n".join(lines) + "\n")
    assert len(partition([str(path)], DEFAULT, dask_client, part_bytes=8_000)) > 3
    spread = regress_distributed([str(path)], "y ~ x + C(group)", "poisson", client=dask_client, part_bytes=8_000)
    single = regress_file(str(path), "y ~ x + C(group)", "poisson")
    np.testing.assert_allclose(spread.coef, single.coef, rtol=1e-12)
    np.testing.assert_allclose(spread.se, single.se, rtol=1e-12)
    assert spread.nll == pytest.approx(single.nll, rel=1e-12) and spread.source == str(path)
