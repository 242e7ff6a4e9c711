"""mlfit's speed and memory, measured against baselines in the same run.

    python benchmarks/run.py                 # the full run (a 10-million-row CSV, a few minutes)
    python benchmarks/run.py --rows 1000000  # a quicker run on a smaller file
    python benchmarks/run.py --write benchmarks/RESULTS.md
    python benchmarks/run.py --only-families --family-rows 100000   # each family's fit cost only
    python benchmarks/run.py --only-regress   # mlfit regress against statsmodels, 10^6 rows x 10 columns
    python benchmarks/run.py --only-spilled --narrow-rows 0   # weibull, logistic, cauchy, student_t at 3*10^6 rows
    python benchmarks/run.py --only-reader    # the big-file rows, the 10^8-row one-column file, fit costs
    python benchmarks/run.py --dask           # 10^8 rows in 50 files: --scheduler local against one process
    python benchmarks/run.py --only-dask-regress   # regress --scheduler local: its passes, against one process
    python benchmarks/run.py --sequences      # score-sequence on 10^6 tokens x 1000 logits (a 4 GB .npz)

It generates its own data in a temporary folder, times each command in a fresh process (the
median of --repeat runs), reads each command's peak memory from resource.getrusage of its child
process, and prints the ratios the targets are stated in. The machine is shared and noisy:
compare ratios measured in one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# The in-process fit-cost rows measure the fit as mlfit's command line runs it, with one BLAS thread
# (set before numpy loads, as mlfit's __main__ does, unless the user set one). The commands timed
# in child processes get the environment as it was.
CHILD_ENVIRONMENT = dict(os.environ)
BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
if not any(name in os.environ for name in BLAS_THREADS):
    os.environ.update({name: "1" for name in BLAS_THREADS})

import numpy as np  # noqa: E402

PYTHON = sys.executable
# Run each command in a fresh wrapper, so RUSAGE_CHILDREN's peak is that command's alone.
WRAPPER = (
    "import resource, subprocess, sys, time; t = time.perf_counter(); "
    "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode; "
    "elapsed = time.perf_counter() - t; "
    "print(elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, code)"
)


def measure(command: list[str], repeat: int) -> tuple[float, float]:
    """Median seconds and the largest peak RSS (MB) over `repeat` runs."""
    times, peaks = [], []
    for _ in range(repeat):
        done = subprocess.run([PYTHON, "-c", WRAPPER, *command], capture_output=True, text=True, check=True,
                              env=CHILD_ENVIRONMENT)
        elapsed, peak_kb, code = done.stdout.split()
        if code != "0":
            raise SystemExit(f"benchmark command failed ({code}): {' '.join(command)}")
        times.append(float(elapsed))
        peaks.append(int(peak_kb) / 1024)
    return statistics.median(times), max(peaks)


def in_process(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_big_csv(path: str, rows: int, seed: int = 0) -> None:
    """Five columns: x normal, count poisson, made 0/1, and two more floats to read past."""
    rng = np.random.default_rng(seed)
    with open(path, "w") as handle:
        handle.write("x,count,made,d,e\n")
        for start in range(0, rows, 1_000_000):
            size = min(1_000_000, rows - start)
            block = np.column_stack([rng.normal(10, 2, size), rng.poisson(3, size), rng.integers(0, 2, size),
                                     rng.normal(size=size), rng.normal(size=size)])
            np.savetxt(handle, block, fmt=["%.9f", "%d", "%d", "%.9f", "%.9f"], delimiter=",")


def write_narrow_csv(path: str, rows: int, seed: int = 0, draw=None) -> None:
    """One column of values (normal, or draw(rng, n)'s): a block of 10^6 rows written over and over
    (fast to write)."""
    block_rows = min(rows, 1_000_000)
    rng = np.random.default_rng(seed)
    block = "".join(f"{v:.9f}\n" for v in (rng.normal(10, 2, block_rows) if draw is None else draw(rng, block_rows)))
    with open(path, "w") as handle:
        handle.write("x\n")
        for start in range(0, rows, block_rows):
            handle.write(block if rows - start >= block_rows else "".join(block.splitlines(True)[: rows - start]))


def mlfit_command(*args: str) -> list[str]:
    return [PYTHON, "-m", "mlfit", *args]


def run(args) -> list[tuple]:
    rows = []
    folder = tempfile.mkdtemp(prefix="mlfit-bench-")
    try:
        small = os.path.join(folder, "small.csv")
        with open(small, "w") as handle:
            handle.write("x\n" + "\n".join(f"{v:.3f}" for v in np.random.default_rng(1).normal(size=20)) + "\n")
        big = os.path.join(folder, "big.csv")
        print(f"writing a {args.rows:,}-row, 5-column CSV ...", file=sys.stderr)
        write_big_csv(big, args.rows)
        size_mb = os.path.getsize(big) / 1e6

        # start-up
        base, base_mem = measure([PYTHON, "-c", "import typer, rich"], args.repeat)
        for label, command in (("mlfit --help", mlfit_command("--help")),
                               ("mlfit fit --help", mlfit_command("fit", "--help"))):
            took, mem = measure(command, args.repeat)
            rows.append(("start-up", label, took, "import typer, rich", base, took / base, "< 2", mem))

        # a 20-row file: against the imports the fit path needs
        imports = "import numpy, scipy.optimize, scipy.special, pandas, typer, rich"
        base, _ = measure([PYTHON, "-c", imports], args.repeat)
        took, mem = measure(mlfit_command("fit", small, "--dist", "normal", "--format", "json"), args.repeat)
        rows.append(("20-row fit", "mlfit fit small.csv --dist normal", took, "the fit path's imports", base,
                     took / base, "< 1.15", mem))

        # a big file: against pandas reading the one column
        for family, column in (("normal", "x"), ("poisson", "count"), ("bernoulli", "made")):
            read = f"import pandas; pandas.read_csv({big!r}, usecols=[{column!r}])"
            base, base_mem = measure([PYTHON, "-c", read], args.repeat)
            took, mem = measure(mlfit_command("fit", big, "--dist", family, "--column", column, "--format", "json"),
                                args.repeat)
            rows.append((f"{args.rows:,} rows ({size_mb:.0f} MB)", f"mlfit fit --dist {family}", took,
                         f"read_csv(usecols=[{column}]) ({base_mem:.0f} MB)", base, took / base,
                         "<= 1.5, <= 200 MB", mem))
            if family == "normal":
                # The floor of any fitter on this path: its imports, then one whole-file read_csv
                # (no chunks, so no bounded memory, and nothing checked or fitted).
                floor, floor_mem = measure([PYTHON, "-c", f"{imports}; {read.split('; ', 1)[1]}"], args.repeat)
                rows.append((f"{args.rows:,} rows ({size_mb:.0f} MB)", "floor: the fit path's imports + read_csv",
                             floor, f"read_csv(usecols=[{column}])", base, floor / base, "", floor_mem))

        rows += exponent_file(folder, args)
        rows += narrow_file(folder, args)
        rows += spilled_families(folder, args)
        rows += fit_cost(args)
        if not args.only_reader:
            rows += family_fit_cost(args)
            rows += regress_cost(folder, args)
            rows += r_peer(folder, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return rows


def exponent_file(folder: str, args) -> list[tuple]:
    """--exponent-rows rows of three columns written with '%.6g' (R's write.csv and numpy's %g do
    so): 0.04% of the cells, the small ones, get an exponent (3.65974e-05). mlfit against pandas
    reading the one column: the check for counts that would underflow must cost nothing here."""
    if not args.exponent_rows:
        return []
    path = os.path.join(folder, "exponents.csv")
    print(f"writing a {args.exponent_rows:,}-row CSV in %.6g ...", file=sys.stderr)
    rng = np.random.default_rng(3)
    with open(path, "w") as handle:
        handle.write("x,y,z\n")
        for start in range(0, args.exponent_rows, 1_000_000):
            size = min(1_000_000, args.exponent_rows - start)
            block = np.column_stack([rng.normal(10, 2, size), rng.gamma(2, 1, size), rng.normal(size=size)])
            small = rng.random(size) < 0.0004 * 3
            block[small, 2] = rng.uniform(1e-6, 9e-5, int(small.sum()))
            np.savetxt(handle, block, fmt="%.6g", delimiter=",")
    case = f"{args.exponent_rows:,} rows x 3 in %.6g ({os.path.getsize(path) / 1e6:.0f} MB)"
    repeat = max(1, min(args.repeat, 3))
    base, base_mem = measure([PYTHON, "-c", f"import pandas; pandas.read_csv({path!r}, usecols=['z'])"], repeat)
    took, mem = measure(mlfit_command("fit", path, "--dist", "normal", "--column", "z", "--format", "json"), repeat)
    os.remove(path)
    return [(case, "mlfit fit --dist normal --column z", took, f"read_csv(usecols=[z]) ({base_mem:.0f} MB)", base,
             took / base, "<= 1.5", mem)]


def narrow_file(folder: str, args) -> list[tuple]:
    """A one-column file of --narrow-rows rows: mlfit against pandas reading it, and laplace (two
    passes: its median) against normal (one) on the same file."""
    if not args.narrow_rows:
        return []
    path = os.path.join(folder, "narrow.csv")
    print(f"writing a {args.narrow_rows:,}-row, 1-column CSV ...", file=sys.stderr)
    write_narrow_csv(path, args.narrow_rows)
    case = f"{args.narrow_rows:,} rows, 1 column ({os.path.getsize(path) / 1e6:.0f} MB)"
    repeat = max(1, min(args.repeat, 3))  # (tens of seconds a run)
    base, base_mem = measure([PYTHON, "-c", f"import pandas; pandas.read_csv({path!r}, usecols=['x'])"], repeat)
    normal, normal_mem = measure(mlfit_command("fit", path, "--dist", "normal", "--format", "json"), repeat)
    laplace, laplace_mem = measure(mlfit_command("fit", path, "--dist", "laplace", "--format", "json"), repeat)
    os.remove(path)
    return [(case, "mlfit fit --dist normal", normal, f"read_csv(usecols=[x]) ({base_mem:.0f} MB)", base,
             normal / base, "<= 1.15", normal_mem),
            (case, "mlfit fit --dist laplace", laplace, "mlfit fit --dist normal", normal, laplace / normal, "<= 2",
             laplace_mem)]


# The families with no statistic smaller than their values, their scipy fit, and how each draws values.
SPILLED_PEERS = {
    "weibull": ("weibull_min.fit(x, floc=0)", "weibull_min.logpdf(x, *p)", lambda rng, n: 3.0 * rng.weibull(1.7, n)),
    "logistic": ("logistic.fit(x)", "logistic.logpdf(x, *p)", lambda rng, n: 5.0 + 2.0 * rng.logistic(size=n)),
    "cauchy": ("cauchy.fit(x)", "cauchy.logpdf(x, *p)", lambda rng, n: -1.0 + 0.7 * rng.standard_cauchy(n)),
    "student_t": ("t.fit(x)", "t.logpdf(x, *p)", lambda rng, n: 0.5 + 2.0 * rng.standard_t(4, n)),
}


# mlfit's parameters in the order scipy's log-density takes them
SPILLED_ORDER = {
    "weibull": lambda p: (p["shape"], 0.0, p["scale"]),
    "logistic": lambda p: (p["mu"], p["s"]),
    "cauchy": lambda p: (p["mu"], p["gamma"]),
    "student_t": lambda p: (p["nu"], p["mu"], p["sigma"]),
}


def spilled_families(folder: str, args) -> list[tuple]:
    """weibull, logistic, cauchy and student_t past the in-memory limit (their values in a temporary
    file, a Newton step a pass) against pandas reading the column and scipy fitting it in memory;
    and at --narrow-rows, weibull against normal on the same file."""
    if not args.spill_rows:
        return []
    from scipy import stats

    rows, n = [], args.spill_rows
    for name, (fit, logpdf, draw) in SPILLED_PEERS.items():
        path = os.path.join(folder, f"{name}.csv")
        values = draw(np.random.default_rng(7), n)
        with open(path, "w") as handle:
            handle.write("x\n")
            np.savetxt(handle, values, fmt="%.10g")
        peer = (f"import pandas; from scipy import stats; x = pandas.read_csv({path!r})['x'].to_numpy(); "
                f"p = stats.{fit}; print(*p)")
        base, base_mem = measure([PYTHON, "-c", peer], args.repeat)
        command = mlfit_command("fit", path, "--dist", name, "--format", "json")
        took, mem = measure(command, args.repeat)
        theirs = [float(v) for v in subprocess.run([PYTHON, "-c", peer], capture_output=True, text=True,
                                                   check=True).stdout.split()]
        ours = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        # both NLLs summed the same way, by scipy's log-density at each fit's parameters, of the
        # values as the file holds them
        import pandas

        values = pandas.read_csv(path)["x"].to_numpy()
        p = SPILLED_ORDER[name](ours["params"])
        nll_ours = -float(getattr(stats, logpdf.split(".")[0]).logpdf(values, *p).sum())
        p = theirs
        nll_theirs = -float(getattr(stats, logpdf.split(".")[0]).logpdf(values, *p).sum())
        rows.append((f"{n:,} rows, no sufficient statistic", f"mlfit fit --dist {name} "
                     f"(NLL {nll_ours - nll_theirs:+.2g} against scipy's; {_passes(ours)} passes)", took,
                     f"read_csv + scipy.stats.{fit} ({base_mem:.0f} MB)", base, took / base,
                     "NLL <= scipy's, <= 300 MB", mem))
        os.remove(path)
    if args.narrow_rows:
        path = os.path.join(folder, "narrow-weibull.csv")
        print(f"writing a {args.narrow_rows:,}-row weibull column ...", file=sys.stderr)
        write_narrow_csv(path, args.narrow_rows, draw=SPILLED_PEERS["weibull"][2])
        case = f"{args.narrow_rows:,} rows, 1 column ({os.path.getsize(path) / 1e6:.0f} MB)"
        repeat = max(1, min(args.repeat, 2))  # (a minute a run)
        normal, normal_mem = measure(mlfit_command("fit", path, "--dist", "normal", "--format", "json"), repeat)
        command = mlfit_command("fit", path, "--dist", "weibull", "--format", "json")
        took, mem = measure(command, repeat)
        ours = json.loads(subprocess.run(command, capture_output=True, text=True, check=True).stdout)
        rows.append((case, f"mlfit fit --dist weibull ({_passes(ours)} passes over the values on disk)", took,
                     "mlfit fit --dist normal (one pass)", normal, took / normal, "<= 300 MB", mem))
        os.remove(path)
    return rows


def _passes(fitted: dict) -> str:
    words = fitted["numerical"]["message"].split(" passes over the values")[0].split()
    return words[-1] if words else "?"


DASK_SCRIPT = """
import pickle, resource, sys, time
sys.path.insert(0, {root!r})
from distributed import Client, LocalCluster
from mlfit.distributed import fit_distributed, summarize, expand

start = time.perf_counter()
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
client = Client(cluster)
result = fit_distributed([{pattern!r}], "normal", "x", client=client)
took = time.perf_counter() - start
peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
one = summarize(expand([{pattern!r}])[1], False, ("normal",), None, "x", None, __import__("mlfit.data").data.DEFAULT)
print(took, max(peaks.values()), len(pickle.dumps(one)), result.params["mu"])
client.close()
cluster.close()
"""


def dask_cost(folder: str, args) -> list[tuple]:
    """--dask-rows rows in --dask-files one-column files: mlfit fit --scheduler local (two worker
    processes) against one process fitting the same rows as one file."""
    files = os.path.join(folder, "parts")
    os.makedirs(files, exist_ok=True)
    per_file = args.dask_rows // args.dask_files
    print(f"writing {args.dask_files} files of {per_file:,} rows ...", file=sys.stderr)
    for i in range(args.dask_files):
        write_narrow_csv(os.path.join(files, f"part-{i:03d}.csv"), per_file, seed=i)
    whole = os.path.join(folder, "whole.csv")
    with open(whole, "w") as out:
        out.write("x\n")
        for i in range(args.dask_files):
            with open(os.path.join(files, f"part-{i:03d}.csv")) as part:
                part.readline()
                shutil.copyfileobj(part, out, 1 << 20)
    pattern = os.path.join(files, "part-*.csv")
    repeat = max(1, min(args.repeat, 3))
    single, single_mem = measure(mlfit_command("fit", whole, "--dist", "normal", "--format", "json"), repeat)
    spread, _ = measure(mlfit_command("fit", pattern, "--dist", "normal", "--scheduler", "local", "--format", "json"),
                        repeat)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([PYTHON, "-c", DASK_SCRIPT.format(root=root, pattern=pattern)], capture_output=True,
                          text=True, check=True, env=CHILD_ENVIRONMENT)
    _, worker_peak, summary_bytes, _ = done.stdout.split()
    case = f"{args.dask_rows:,} rows in {args.dask_files} files"
    rows = [(case, "mlfit fit --scheduler local (2 worker processes; peak: the larger worker's)", spread,
             "one process, the rows as one file",
             single, spread / single, "", float(worker_peak)),
            (case, f"bytes a file's summary sends (normal): {summary_bytes}", None, "", None, None,
             "O(files), not O(rows)", None)]
    in_parts, _ = measure(mlfit_command("fit", whole, "--dist", "normal", "--scheduler", "local", "--format", "json"),
                          repeat)
    size = os.path.getsize(whole)
    parts = -(-size // (128 << 20))
    rows.append((f"{args.dask_rows:,} rows in one file ({size / 1e6:.0f} MB)",
                 f"mlfit fit --scheduler local ({parts} part{'s' if parts > 1 else ''} of 128 MB)", in_parts,
                 "one process", single, in_parts / single, "", None))
    laplace_single, laplace_mem = measure(mlfit_command("fit", whole, "--dist", "laplace", "--format", "json"), repeat)
    laplace_spread, _ = measure(mlfit_command("fit", pattern, "--dist", "laplace", "--scheduler", "local", "--format",
                                              "json"), repeat)
    rows.append((case, "mlfit fit --dist laplace --scheduler local (two passes)", laplace_spread,
                 "one process, the rows as one file", laplace_single, laplace_spread / laplace_single, "", None))
    os.remove(whole)
    shutil.rmtree(files)
    return rows + regress_on_cluster(folder, args)


def regress_on_cluster(folder: str, args) -> list[tuple]:
    """mlfit regress --scheduler local on --dask-regress-rows rows (y, made, x1..x10) in 8 files,
    against one process fitting the same rows as one file."""
    files = os.path.join(folder, "regress-parts")
    os.makedirs(files, exist_ok=True)
    rows_per_file = args.dask_regress_rows // 8
    for i in range(8):
        write_regress_csv(os.path.join(files, f"part-{i}.csv"), rows_per_file, seed=i)
    whole = os.path.join(folder, "regress-whole.csv")
    with open(whole, "w") as out:
        for i in range(8):
            with open(os.path.join(files, f"part-{i}.csv")) as part:
                if i:
                    part.readline()
                shutil.copyfileobj(part, out, 1 << 20)
    terms = " + ".join(f"x{i}" for i in range(1, REGRESS_COLUMNS + 1))
    case = f"regress, {args.dask_regress_rows:,} rows x {REGRESS_COLUMNS} columns in 8 files"
    repeat = max(1, min(args.repeat, 3))
    found = []
    for family, response, most in (("normal", "y", 6), ("bernoulli", "made", 10)):
        one = mlfit_command("regress", whole, f"{response} ~ {terms}", "--dist", family, "--format", "json")
        cluster = mlfit_command("regress", os.path.join(files, "part-*.csv"), f"{response} ~ {terms}", "--dist",
                                family, "--scheduler", "local", "--format", "json")
        single, _ = measure(one, repeat)
        spread, _ = measure(cluster, repeat)
        a, b = (json.loads(subprocess.run(command, capture_output=True, text=True, check=True,
                                          env=CHILD_ENVIRONMENT).stdout) for command in (one, cluster))
        differs = max(abs(b["coef"][k] - v) / max(abs(v), 1e-300) for k, v in a["coef"].items())
        found.append((case, f"mlfit regress --dist {family} --scheduler local ({b['passes']} passes; coefficients "
                      f"within {differs:.1e} of one process's)", spread, "one process, one file", single,
                      spread / single, f"<= {most} passes, 1e-12", None))
    shutil.rmtree(files)
    os.remove(whole)
    return found


def fit_cost(args) -> list[tuple]:
    """The numerical fit alone, on in-memory values: mlfit against the closed form and scipy.stats.fit."""
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from scipy import stats

    from mlfit.families import get_family
    from mlfit.fitting import minimize_nll

    rows = []
    rng = np.random.default_rng(2)
    for n in (10**5, 10**6, 10**7):
        for name, data in (("normal", rng.normal(10, 2, n)), ("poisson", rng.poisson(3, n).astype(float))):
            family = get_family(name)
            summary = family.summarize(data)
            closed = in_process(lambda: family.reference(family.summarize(data)), args.repeat)
            numerical = in_process(lambda: minimize_nll(family, summary), args.repeat)
            rows.append((f"fit cost, n = {n:,}", f"mlfit numerical {name} (on sufficient statistics)", numerical,
                         "closed form (incl. summarizing)", closed, numerical / closed, "< 5 ms, flat in n", None))
            if n <= args.peer_limit:
                if name == "normal":
                    peer = in_process(lambda: stats.fit(stats.norm, data, bounds={"loc": (0, 20), "scale": (0, 10)}), 1)
                else:
                    peer = in_process(lambda: stats.fit(stats.poisson, data, bounds={"mu": (0, 10)}), 1)
                rows.append((f"fit cost, n = {n:,}", f"mlfit numerical {name}", numerical,
                             "scipy.stats.fit", peer, numerical / peer, "", None))
    return rows


# Each family beyond the first five, with scipy's own fit of it (closed form or root where scipy has
# one: loc held at 0 as mlfit's families have none) and the bounds scipy.stats.fit needs.
FAMILY_PEERS = {
    "exponential": ("expon", {"floc": 0}, {"loc": (0, 0), "scale": (1e-3, 100)}),
    "lognormal": ("lognorm", {"floc": 0}, {"s": (1e-3, 10), "loc": (0, 0), "scale": (1e-3, 100)}),
    "gamma": ("gamma", {"floc": 0}, {"a": (1e-2, 100), "loc": (0, 0), "scale": (1e-2, 100)}),
    "weibull": ("weibull_min", {"floc": 0}, {"c": (1e-2, 100), "loc": (0, 0), "scale": (1e-2, 100)}),
    "beta": ("beta", {"floc": 0, "fscale": 1}, {"a": (1e-2, 100), "b": (1e-2, 100), "loc": (0, 0), "scale": (1, 1)}),
    "logistic": ("logistic", {}, {"loc": (-10, 10), "scale": (1e-2, 100)}),
    "cauchy": ("cauchy", {}, {"loc": (-10, 10), "scale": (1e-2, 100)}),
    "student_t": ("t", {}, {"df": (0.1, 100), "loc": (-10, 10), "scale": (1e-2, 100)}),
    "uniform": ("uniform", {}, {"loc": (-10, 10), "scale": (1e-2, 100)}),
    "negbinomial": (None, {}, {"n": (1e-2, 100), "p": (1e-3, 1)}),
    "geometric": (None, {}, {"p": (1e-3, 1)}),
}


def family_fit_cost(args) -> list[tuple]:
    """Each family's numerical fit (its statistics and the optimiser) on n = --family-rows values
    drawn from it, against scipy.stats.<dist>.fit and, up to --peer-limit, scipy.stats.fit."""
    import warnings

    from scipy import stats

    from mlfit.families import get_family
    from mlfit.fitting import minimize_nll

    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    rows, n = [], args.family_rows
    rng = np.random.default_rng(4)
    for name, (scipy_name, held, bounds) in FAMILY_PEERS.items():
        family = get_family(name)
        data = family.sample(rng, family.example, n)
        ours = in_process(lambda: minimize_nll(family, family.summarize(data)), args.repeat)
        case = f"fit cost, n = {n:,}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy's optimisers warn on far-out trial steps
            if scipy_name is not None:
                dist = getattr(stats, scipy_name)
                own = in_process(lambda: dist.fit(data, **held), args.repeat)
                rows.append((case, f"mlfit numerical {name} (statistics + optimiser)", ours,
                             f"scipy.stats.{scipy_name}.fit", own, ours / own, "< 2", None))
            if n <= args.peer_limit:
                generic = getattr(stats, scipy_name or {"negbinomial": "nbinom", "geometric": "geom"}[name])
                peer = in_process(lambda: stats.fit(generic, data, bounds=bounds), 1)
                rows.append((case, f"mlfit numerical {name}", ours, "scipy.stats.fit", peer, ours / peer, "< 0.05",
                             None))
    return rows


REGRESS_COLUMNS = 10


def write_regress_csv(path: str, rows: int, seed: int = 5) -> None:
    """Ten normal columns x1..x10, and three responses linear in them: y (normal), made (0/1,
    logistic) and count (Poisson)."""
    rng = np.random.default_rng(seed)
    beta = np.linspace(-0.5, 0.5, REGRESS_COLUMNS)
    names = [f"x{i}" for i in range(1, REGRESS_COLUMNS + 1)]
    with open(path, "w") as handle:
        handle.write(",".join(["y", "made", "count", *names]) + "\n")
        for start in range(0, rows, 500_000):
            size = min(500_000, rows - start)
            X = rng.normal(size=(size, REGRESS_COLUMNS))
            eta = 0.2 + X @ beta * 0.5
            block = np.column_stack([1.0 + X @ beta + rng.normal(size=size), rng.binomial(1, 1 / (1 + np.exp(-eta))),
                                     rng.poisson(np.exp(eta)), X])
            np.savetxt(handle, block, fmt=["%.9f", "%d", "%d"] + ["%.9f"] * REGRESS_COLUMNS, delimiter=",")


def regress_cost(folder: str, args) -> list[tuple]:
    """mlfit regress on --regress-rows rows x 10 columns against statsmodels (OLS, and GLM's IRLS
    for logistic and Poisson), each reading the CSV in a fresh process, and against pandas
    reading the CSV alone."""
    path = os.path.join(folder, "regress.csv")
    print(f"writing a {args.regress_rows:,}-row CSV with {REGRESS_COLUMNS} columns to regress on ...", file=sys.stderr)
    write_regress_csv(path, args.regress_rows)
    terms = " + ".join(f"x{i}" for i in range(1, REGRESS_COLUMNS + 1))
    case = f"regress, {args.regress_rows:,} rows x {REGRESS_COLUMNS} columns"
    read, read_mem = measure([PYTHON, "-c", f"import pandas; pandas.read_csv({path!r})"], args.repeat)
    try:
        import statsmodels  # noqa: F401

        has_statsmodels = True
    except ImportError:
        has_statsmodels = False
    rows = []
    for family, response, peer in (("normal", "y", "sm.OLS(y, X).fit()"),
                                   ("bernoulli", "made", "sm.GLM(y, X, family=sm.families.Binomial()).fit()"),
                                   ("poisson", "count", "sm.GLM(y, X, family=sm.families.Poisson()).fit()")):
        took, mem = measure(mlfit_command("regress", path, f"{response} ~ {terms}", "--dist", family, "--format",
                                          "json"), args.repeat)
        rows.append((case, f"mlfit regress --dist {family}", took, f"pandas.read_csv (all columns, {read_mem:.0f} MB)",
                     read, took / read, "< 2", mem))
        if has_statsmodels:
            script = (f"import pandas, statsmodels.api as sm; d = pandas.read_csv({path!r}); y = d[{response!r}]; "
                      f"X = sm.add_constant(d[[f'x{{i}}' for i in range(1, {REGRESS_COLUMNS + 1})]]); {peer}")
            other, other_mem = measure([PYTHON, "-c", script], args.repeat)
            rows.append((case, f"mlfit regress --dist {family}", took, f"statsmodels {peer.split('(')[0]} "
                         f"(read_csv + fit, {other_mem:.0f} MB)", other, took / other, "<= 1, <= 300 MB", mem))
        else:
            rows.append((case, "statsmodels", None, "skipped: statsmodels is not installed", None, None, "", None))
        rscript = shutil.which("Rscript")
        if rscript and family in ("normal", "bernoulli"):
            model = (f"lm({response} ~ {terms}, d)" if family == "normal"
                     else f"glm({response} ~ {terms}, binomial, d)")
            other, other_mem = measure([rscript, "-e", f"d <- read.csv({path!r}); f <- {model}"], args.repeat)
            rows.append((case, f"mlfit regress --dist {family}", took, f"R read.csv + {model.split('(')[0]} "
                         f"({other_mem:.0f} MB)", other, took / other, "<= 1 (goal)", mem))
    return rows


def r_peer(folder: str, args) -> list[tuple]:
    """R's fitdistrplus, when Rscript with fitdistrplus is installed."""
    rscript = shutil.which("Rscript")
    if not rscript or subprocess.run([rscript, "-e", "library(fitdistrplus)"], capture_output=True).returncode:
        return [("R fitdistrplus", "skipped: Rscript with fitdistrplus is not installed", None, "", None, None, "",
                 None)]
    path = os.path.join(folder, "peer.csv")
    with open(path, "w") as handle:
        handle.write("x\n" + "\n".join(f"{v:.9f}" for v in np.random.default_rng(3).normal(10, 2, 10**6)) + "\n")
    script = f"suppressMessages(library(fitdistrplus)); x <- read.csv({path!r})$x; f <- fitdist(x, 'norm')"
    peer, peer_mem = measure([rscript, "-e", script], max(1, args.repeat // 2))
    took, mem = measure(mlfit_command("fit", path, "--dist", "normal", "--format", "json"), max(1, args.repeat // 2))
    return [("10^6 values from CSV", "mlfit fit --dist normal", took, "R read.csv + fitdist(norm)", peer,
             took / peer, "", mem)]


def table(rows) -> str:
    lines = ["| case | mlfit | seconds | baseline | seconds | ratio | target | mlfit peak MB |",
             "|---|---|---|---|---|---|---|---|"]
    for case, what, took, baseline, base, ratio, target, mem in rows:
        lines.append("| " + " | ".join([
            case, what, _number(took), baseline, _number(base), "" if ratio is None else f"{ratio:.2f}", target,
            "" if mem is None else f"{mem:.0f}"]) + " |")
    return "\n".join(lines)


def _number(value) -> str:
    if value is None:
        return ""
    return f"{value:.3f}" if value >= 0.001 else f"{value * 1e6:.0f} µs"


def machine() -> str:
    import pandas
    import scipy

    return (f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, scipy {scipy.__version__}, pandas {pandas.__version__}")


def write_sequences(path: str, tokens: int, vocabulary: int, positions: int = 1000, seed: int = 0) -> None:
    """An .npz of float32 logits (B, T, V) and int64 targets, written a block of sequences at a time
    through numpy's .npy format inside an uncompressed zip (as np.savez writes it), so writing it
    never holds the whole array."""
    import zipfile

    sequences = max(1, tokens // positions)
    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        with archive.open("logits.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_2_0(member, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (sequences, positions, vocabulary)})
            for start in range(0, sequences, 10):
                count = min(10, sequences - start)
                member.write(rng.normal(0, 2, (count, positions, vocabulary)).astype(np.float32).tobytes())
        with archive.open("targets.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array(member, rng.integers(0, vocabulary, (sequences, positions)))


def sequence_cost(folder: str, args) -> list[tuple]:
    """score-sequence on B*T tokens against scipy's log_softmax over the same array plus a gather,
    each reading the same .npz in a fresh process."""
    path = os.path.join(folder, "tokens.npz")
    print(f"writing {args.sequence_tokens:,} tokens x {args.vocabulary:,} float32 logits ...", file=sys.stderr)
    write_sequences(path, args.sequence_tokens, args.vocabulary)
    baseline = [PYTHON, "-c", "import numpy as np, scipy.special as s, sys; d = np.load(sys.argv[1]); "
                "z = d['logits']; t = d['targets']; "
                "print(np.take_along_axis(s.log_softmax(z, axis=2), t[..., None], 2).sum())", path]
    base, base_mem = measure(baseline, args.repeat)
    took, mem = measure(mlfit_command("score-sequence", path, "--format", "json"), args.repeat)
    label = f"score-sequence, {args.sequence_tokens:,} tokens, V = {args.vocabulary:,} (float32)"
    return [("sequences", label, took, f"scipy log_softmax + gather ({base_mem:,.0f} MB)", base, took / base,
             "<= 1, <= 300 MB", mem)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="rows in the big CSV (default 10 million)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement; the median is shown")
    parser.add_argument("--peer-limit", type=int, default=10**6,
                        help="largest n at which scipy.stats.fit is timed (it takes seconds per million)")
    parser.add_argument("--family-rows", type=int, default=10**6,
                        help="values per family in the fit-cost rows of the families beyond the first five")
    parser.add_argument("--only-families", action="store_true",
                        help="measure only those fit-cost rows (a few minutes: scipy.stats.fit is slow)")
    parser.add_argument("--regress-rows", type=int, default=10**6, help="rows of the regression benchmark")
    parser.add_argument("--only-regress", action="store_true", help="measure only mlfit regress against statsmodels")
    parser.add_argument("--exponent-rows", type=int, default=5 * 10**6,
                        help="rows of the %%.6g file with exponents (default 5*10^6; 0: skip it)")
    parser.add_argument("--spill-rows", type=int, default=3 * 10**6,
                        help="rows of the weibull/logistic/cauchy/student_t files fitted past the in-memory limit "
                             "(0: skip; with --narrow-rows, weibull at that many rows too)")
    parser.add_argument("--only-dask-regress", action="store_true",
                        help="measure only regress --scheduler local (its passes) against one process")
    parser.add_argument("--only-spilled", action="store_true",
                        help="measure only the families with no sufficient statistic past the in-memory limit")
    parser.add_argument("--narrow-rows", type=int, default=10**8,
                        help="rows in the one-column CSV (default 10^8, 1.25 GB in the temporary folder; 0: skip it)")
    parser.add_argument("--dask", action="store_true",
                        help="measure only mlfit fit --scheduler local against one process (needs mlfit[dask])")
    parser.add_argument("--dask-rows", type=int, default=10**8, help="rows of the --dask data set (default 10^8)")
    parser.add_argument("--dask-files", type=int, default=50, help="files of the --dask data set (default 50)")
    parser.add_argument("--dask-regress-rows", type=int, default=2 * 10**6,
                        help="rows of the --dask regression data set, in 8 files (default 2*10^6)")
    parser.add_argument("--only-reader", action="store_true",
                        help="measure only start-up, the big files and the fit cost (issue 17's targets)")
    parser.add_argument("--sequences", action="store_true",
                        help="measure only mlfit score-sequence against scipy's log_softmax (a 4 GB .npz by default)")
    parser.add_argument("--sequence-tokens", type=int, default=10**6, help="tokens of the --sequences file (B*T)")
    parser.add_argument("--vocabulary", type=int, default=1000, help="vocabulary of the --sequences file")
    parser.add_argument("--write", metavar="FILE", help="also write the results as markdown to FILE")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead of a table")
    args = parser.parse_args()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None
    if args.only_regress or args.dask or args.sequences or args.only_spilled or args.only_dask_regress:
        folder = tempfile.mkdtemp(prefix="mlfit-bench-")
        try:
            rows = (dask_cost(folder, args) if args.dask else sequence_cost(folder, args) if args.sequences
                    else spilled_families(folder, args) if args.only_spilled
                    else regress_on_cluster(folder, args) if args.only_dask_regress else regress_cost(folder, args))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        rows = family_fit_cost(args) if args.only_families else run(args)
    if args.json:
        print(json.dumps(rows))
        return
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = (f"--dask --dask-rows {args.dask_rows} --dask-files {args.dask_files}" if args.dask
               else f"--sequences --sequence-tokens {args.sequence_tokens} --vocabulary {args.vocabulary}"
               if args.sequences
               else f"--only-regress --regress-rows {args.regress_rows}" if args.only_regress
               else f"--only-spilled --spill-rows {args.spill_rows} --narrow-rows {args.narrow_rows}"
               if args.only_spilled
               else f"--only-dask-regress --dask-regress-rows {args.dask_regress_rows}" if args.only_dask_regress
               else f"--only-families --family-rows {args.family_rows}" if args.only_families
               else f"--only-reader --rows {args.rows} --narrow-rows {args.narrow_rows}" if args.only_reader
               else f"--rows {args.rows} --narrow-rows {args.narrow_rows} --family-rows {args.family_rows} "
                    f"--regress-rows {args.regress_rows}")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    load_text = (f"; load average (1, 5, 15 min) {', '.join(f'{v:.2f}' for v in load_before)} before the run, "
                 f"{', '.join(f'{v:.2f}' for v in load)} after it" if load else "")
    report = (f"# mlfit benchmark\n\n{stamp}; {machine()}{load_text}.\n\n"
              f"`python benchmarks/run.py {command} --repeat {args.repeat}`: medians of {args.repeat} "
              f"runs, each command in a fresh process.\n\n{table(rows)}\n")
    print(report)
    if args.write:
        with open(args.write, "w") as handle:
            handle.write(report)


if __name__ == "__main__":
    main()
