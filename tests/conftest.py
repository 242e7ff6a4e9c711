"""Helpers the test files share: driving the CLI as a user does, writing input files, and an
independent numerical Hessian."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from mlfit.cli import app

runner = CliRunner()


def run(*args, input=None):
    """mlfit's CLI with these arguments (each made a string), as a shell would run it."""
    return runner.invoke(app, [str(a) for a in args], input=input)


def fit_json(*args, input=None):
    """`mlfit fit ... --format json`, which must succeed and print exactly one JSON object."""
    result = run("fit", *args, "--format", "json", input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def write(tmp_path, content, name="data.csv"):
    """A file holding `content` (text or bytes), as written."""
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def numerical_hessian(family, stats, params):
    """Central differences of the NLL in the natural parameters, steps relative to each: an
    independent check of a family's analytic observed information."""
    names = [p.name for p in family.parameters]
    point = np.array([params[name] for name in names], dtype=float)
    steps = 1e-4 * np.maximum(np.abs(point), 1e-3)

    def nll(at):
        return family.nll(stats, dict(zip(names, at)))

    size = len(point)
    hessian = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            ei, ej = np.eye(size)[i] * steps[i], np.eye(size)[j] * steps[j]
            hessian[i, j] = (nll(point + ei + ej) - nll(point + ei - ej) - nll(point - ei + ej)
                             + nll(point - ei - ej)) / (4 * steps[i] * steps[j])
    return hessian


@pytest.fixture(autouse=True)
def _terminal_width(monkeypatch):
    """Every test sees one terminal width (rich reads COLUMNS): none depends on the developer's
    terminal. Views fold long cells rather than cut them, so the checkout's path does not matter either."""
    monkeypatch.setenv("COLUMNS", "80")


@pytest.fixture
def cli():
    return run


@pytest.fixture(scope="session")
def dask_client():
    """One real dask.distributed LocalCluster for the whole session: two worker processes."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
