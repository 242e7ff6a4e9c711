"""Parquet input: the same fits as the same rows in a CSV, locally and on the cluster."""

import numpy as np
import pytest

import mlfit

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    folder = tmp_path_factory.mktemp("parquet")
    rng = np.random.default_rng(51)
    n = 700
    x = rng.normal(5, 2, n)
    count = rng.poisson(2.5, n).astype(float)
    made = rng.integers(0, 2, n).astype(bool)
    label = rng.choice(["red", "green", "blue"], n).astype(object)
    x[[3, 99]] = np.nan  # nulls in Parquet, empty cells in the CSV
    label[10] = None
    table = pa.table({"x": pa.array(x, from_pandas=True), "count": pa.array(count.astype(np.int64)),
                      "made": pa.array(made), "label": pa.array(label, type=pa.string())})
    pq.write_table(table, folder / "data.parquet", row_group_size=128)
    lines = ["x,count,made,label"] + [
        f"{'' if np.isnan(a) else repr(float(a))},{int(b)},{int(c)},{'' if d is None else d}"
        for a, b, c, d in zip(x, count, made, label)]
    (folder / "data.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.parametrize("family, column", [("normal", "x"), ("poisson", "count"), ("bernoulli", "made"),
                                            ("categorical", "label"), ("gamma", "count")])
def test_parquet_equals_csv(both, family, column):
    if family == "gamma":  # zeros in the counts: gamma refuses them, naming the same row either way
        with pytest.raises(mlfit.DataError) as from_parquet:
            mlfit.fit_file(str(both / "data.parquet"), family, column)
        with pytest.raises(mlfit.DataError) as from_csv:
            mlfit.fit_file(str(both / "data.csv"), family, column)
        assert from_parquet.value.row == from_csv.value.row
        return
    a = mlfit.fit_file(str(both / "data.parquet"), family, column)
    b = mlfit.fit_file(str(both / "data.csv"), family, column)
    assert (a.n, a.dropped) == (b.n, b.dropped)
    for name, value in b.estimate.items():
        assert np.allclose(a.estimate[name], value, rtol=1e-15, atol=0)


def test_a_damaged_parquet_file_is_one_line(both, tmp_path):
    damaged = tmp_path / "cut.parquet"
    damaged.write_bytes((both / "data.parquet").read_bytes()[:300])
    with pytest.raises(mlfit.DataError, match="not a valid Parquet file"):
        mlfit.fit_file(str(damaged), "normal", "x")


def test_parquet_files_on_the_cluster(both, tmp_path, dask_client):
    from mlfit.distributed import fit_distributed

    table = pq.read_table(both / "data.parquet")
    for i, start in enumerate(range(0, 700, 250)):
        pq.write_table(table.slice(start, 250), tmp_path / f"part-{i}.parquet")
    spread = fit_distributed([str(tmp_path)], "poisson", "count", client=dask_client)
    local = mlfit.fit_file(str(both / "data.csv"), "poisson", "count")
    assert spread.estimate["lam"] == pytest.approx(local.estimate["lam"], rel=1e-14) and spread.n == local.n


def test_a_pipe_is_not_sniffed_for_parquet(tmp_path):
    # reading a FIFO's first bytes to look for Parquet's magic would take them from the CSV reader
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("x\n1\n2\n4\n"))
    writer.start()
    result = mlfit.fit_file(str(fifo), "poisson", "x")
    writer.join()
    assert result.n == 3 and result.estimate["lam"] == pytest.approx(7 / 3)


def test_a_parquet_file_is_read_a_few_row_groups_a_task(both, dask_client):
    from mlfit.distributed import fit_distributed, partition
    from mlfit.columns import DEFAULT

    pieces = partition([str(both / "data.parquet")], DEFAULT, dask_client, part_bytes=2_000)
    assert len(pieces) > 2 and pieces[1][1].part.rows_before == 128 * pieces[1][1].part.start
    for family, column in (("normal", "x"), ("categorical", "label")):
        spread = fit_distributed([str(both / "data.parquet")], family, column, client=dask_client, part_bytes=2_000)
        local = mlfit.fit_file(str(both / "data.csv"), family, column)
        assert spread.n == local.n and spread.dropped == local.dropped
        for name, value in local.estimate.items():
            assert np.allclose(spread.estimate[name], value, rtol=1e-12), name
