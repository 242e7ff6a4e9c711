"""One data set held as many files (a glob, a directory, a list), fitted on a Dask cluster: each
file is read where a worker runs, by mlfit's own reader (so its parsing, missing-value and support
rules and its messages are a local run's), and summarised into its family's mergeable statistics;
the summaries are merged pairwise in a tree, in file order, and only the merged statistics reach
the client, which fits them as it fits a file streamed chunk by chunk.

The raw product's report needs the rows in file order at the fitted parameters: the first file's
first rows come back with its summary (at most PREFIX_ROWS), and where the product has not
settled within them, a pass returns each part's log-likelihood sum and its lowest and highest
partial sums, which say where each precision's product can first come near its limits; from that
part on the parts feed the running products in turn, a task at a time, so that only their small
state travels. Laplace's median takes a second pass: each file sends the values inside
a bracket placed by pass one's sample (about 1.6 % of them) and sums for the rest. Families whose
statistic is their values (weibull, logistic, cauchy, student_t) gather them in the same tree, up
to the in-memory limit of one process (IN_MEMORY_ROWS); past it, the tree merges an evenly spread
sample and the values' count and range instead, the client fits the sample, and each of Newton's
steps on the whole data set is one distributed pass: a task per part reads its part again and sums
the NLL, its gradient and its Hessian over it, merged in the tree.

Dask (`pip install '.[dask]'` from a clone of mlfit) is imported here only.
"""

from __future__ import annotations

import functools
import glob
import os
import re
from dataclasses import dataclass, field, replace

import numpy as np

from .columns import DEFAULT, Column, Part, ReadOptions
from .data import iter_columns, iter_weighted, label_of, require_column_for_weights, support_values
from .csvtext import part_records, records_start
from .errors import DataError, MlfitError, UsageError
from .families import get_family, one_family
from .families.base import NeedsEveryValue
from .options import FitOptions
from .pipeline import Streamed, fit_statistics
from .families.statistics import NoSufficientStatistics, Values
from .families.on_disk import combined
from .streaming import IN_MEMORY_ROWS, PREFIX_ROWS, Gathering, Spilling
from .underflow import feed, joined_paths, log_paths, running_products, starting_points

PART_BYTES = 128 * 2 ** 20  # a CSV file bigger than this is read in parts of about this many bytes
DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".gz", ".bz2", ".xz", ".zip", ".parquet")


def expand_sources(sources: list[str]) -> list[str]:
    """The files of a data set, in order: a glob's matches and a directory's data files sorted by
    name, listed files as given."""
    paths = []
    for source in sources:
        if source == "-":
            raise UsageError("a data set on a cluster is read where the workers run: standard input (-) cannot be "
                             "one of its files")
        if "://" in source:
            paths += _expand_url(source)
        elif glob.has_magic(source):
            matched = sorted(glob.glob(source))
            if not matched:
                raise UsageError(f"{source}: no file matches", kind="file")
            paths += matched
        elif os.path.isdir(source):
            inside = sorted(os.path.join(source, name) for name in os.listdir(source)
                            if name.endswith(DATA_SUFFIXES) and os.path.isfile(os.path.join(source, name)))
            if not inside:
                raise UsageError(f"{source}: a directory with no data file (.csv, .parquet, ...) in it", kind="file")
            paths += inside
        elif not os.path.exists(source):
            raise UsageError(f"{source}: no such file", kind="file")
        else:
            paths.append(source)
    return paths


def _expand_url(source: str) -> list[str]:
    """A URL's files through fsspec: a glob's matches in name order, or the URL itself."""
    import contextlib

    from .remote import open_remote as _open_remote

    if not glob.has_magic(source):
        with contextlib.ExitStack() as opened:
            _open_remote(source, source, opened)  # (the error a missing file or protocol package gives)
        return [source]
    import fsspec

    filesystem, path = fsspec.core.url_to_fs(source)
    matched = sorted(filesystem.glob(path))
    if not matched:
        raise UsageError(f"{source}: no file matches", kind="file")
    protocol = source.split("://", 1)[0]
    return [f"{protocol}://{match}" if not match.startswith(f"{protocol}://") else match for match in matched]


def connect(scheduler: str):
    """A dask.distributed Client: the scheduler at an address (tcp://host:8786), a LocalCluster sized
    to this machine ("local"), or the one DASK_SCHEDULER_ADDRESS names ("auto")."""
    address = os.environ.get("DASK_SCHEDULER_ADDRESS") if scheduler == "auto" else scheduler
    if not address:
        raise UsageError("--scheduler auto reads DASK_SCHEDULER_ADDRESS, which is not set")
    if address != "local":
        check_address(address, "DASK_SCHEDULER_ADDRESS" if scheduler == "auto" else "--scheduler")
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise UsageError("--scheduler needs dask's distributed package: pip install dask distributed (from a clone of mlfit, "
                         "pip install '.[dask]' installs them)") from None
    try:
        if address == "local":
            return Client(LocalCluster(processes=True, threads_per_worker=1, dashboard_address=":0"))
        return Client(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {' '.join(str(error).split())}") from None


def disconnect(client) -> None:
    """Close the client, and the LocalCluster of --scheduler local with it."""
    cluster = getattr(client, "cluster", None)
    client.close()
    if cluster is not None:
        cluster.close()


SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
_ADDRESS = re.compile(r"(?:(?P<scheme>[A-Za-z][\w+.-]*)://)?(?P<host>\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):(?P<port>\d{1,5})")


def check_address(address: str, what: str) -> None:
    """Refuse, as bad usage, an address that names no scheduler (garbage, tcp://, http://host):
    [SCHEME://]HOST:PORT, the scheme one dask speaks."""
    match = _ADDRESS.fullmatch(address.strip())
    scheme = match and (match.group("scheme") or "tcp").lower()
    if not match or scheme not in SCHEMES or not 0 < int(match.group("port")) < 65536:
        why = f"dask does not speak {scheme}://" if match and scheme not in SCHEMES else "it is not an address"
        raise UsageError(f"{what} {address!r}: {why}; give tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786), local or "
                         "auto", kind="usage")


@dataclass
class Summary:
    """What one file (or a run of files, merged) sends back: statistics, never rows, except the
    data set's first rows for the raw product."""

    stats: object = None
    dropped: int = 0
    whole_weights: bool = True
    prefix: list = field(default_factory=list)  # Columns: the data set's first rows (the first file's)
    error: MlfitError | None = None  # the first error met, in file order


def summarize(path: str, first: bool, families: tuple, column: str | None, weights: str | None,
              read_options: ReadOptions, values_limit: int = IN_MEMORY_ROWS) -> dict:
    """One file's summary for each family (the family objects, built once on the client), from one
    reading of it (a task on a worker)."""
    text = any(not family.support.numeric for family in families)  # (numeric families parse text cells too)
    gatherings = {family.name: Gathering(family, column, keep_all=False,
                                         limit=0 if family.sufficient_statistics else values_limit,
                                         prefix_limit=PREFIX_ROWS if first else 0, spill_values=False)
                  for family in families}
    errors = {}
    try:
        for data in iter_weighted(path, column, weights, text=text, options=read_options):
            for name, gathering in gatherings.items():
                if name not in errors:
                    try:
                        gathering.add(data)
                    except MlfitError as error:  # (this family's: the others go on)
                        errors[name] = error
        for name, gathering in gatherings.items():
            if name not in errors:
                gathering.merge_held()
    except MlfitError as error:  # the file's own: every family meets it
        return {name: Summary(error=error) for name in gatherings}
    return {name: Summary(error=errors[name]) if name in errors else
            Summary(g.stats, g.dropped, g.whole_weights, g.prefix)
            for name, g in gatherings.items()}


def returned(task):
    """A task whose MlfitError comes back as its value, to be raised on the client (see `outcome`):
    raised on a worker, dask logs it there with a traceback, which mlfit never prints. The merges
    pass the first error, in file order, through."""
    @functools.wraps(task)
    def run(*args):
        if any(isinstance(arg, MlfitError) for arg in args):
            return next(arg for arg in args if isinstance(arg, MlfitError))
        try:
            return task(*args)
        except MlfitError as error:
            return error

    return run


def outcome(future):
    """A returned task's value on the client, its MlfitError raised."""
    value = future.result()
    if isinstance(value, MlfitError):
        raise value
    return value


@returned
def surveyed(path: str, column: str | None, trials: int | None, read_options: ReadOptions):
    """One file's survey of which supports hold its values (a task; see mlfit.ranking.Survey)."""
    from .families import registered_families
    from .ranking import Survey

    found = Survey(registered_families(trials))
    for [data] in iter_columns(path, None if column is None else [column], options=read_options,
                               only_one=column is None):
        found.add(data)
    return found


@returned
def merged_surveys(a, b):
    return a.merge(b)


def merged_by_family(a: dict, b: dict, values_limit: int = IN_MEMORY_ROWS) -> dict:
    return {name: merged(a[name], b[name], values_limit) for name in a}


def merged(a: Summary, b: Summary, values_limit: int = IN_MEMORY_ROWS) -> Summary:
    """Two summaries in file order (a task of the tree reduction)."""
    if a.error is not None or b.error is not None:
        return a if a.error is not None else b
    if a.stats is None or b.stats is None:
        stats = b.stats if a.stats is None else a.stats
    elif isinstance(a.stats, Values) and isinstance(b.stats, Values):
        try:
            stats = a.stats.joined(b.stats, values_limit)
        except NoSufficientStatistics:  # past the limit: a sample, and Newton's passes part by part
            stats = Spilling.of(a.stats).merge(Spilling.of(b.stats))
    elif isinstance(a.stats, (Values, Spilling)):
        stats = _spilling(a.stats).merge(_spilling(b.stats))
    else:
        stats = a.stats.merge(b.stats)
    prefix = a.prefix if a.prefix else b.prefix
    return Summary(stats, a.dropped + b.dropped, a.whole_weights and b.whole_weights, prefix)


@returned
def log_path(path: str, family, column: str | None, weights: str | None, read_options: ReadOptions, stats,
             params: dict, whole_weights: bool) -> dict:
    """One part's rows' log-likelihoods at the fitted parameters, summed in order, for each
    precision (a task)."""
    found = log_paths(np.zeros(0), None, True)
    for log_probs, row_weights in _log_probs(path, family, column, weights, read_options, stats, params):
        found = joined_paths(found, log_paths(log_probs, row_weights, whole_weights))
    return found


@returned
def follow(products: dict, path: str, index: int, starts: dict, family, column: str | None, weights: str | None,
           read_options: ReadOptions, stats, params: dict, whole_weights: bool) -> dict:
    """The running products carried through part `index` at the fitted parameters (a task): those
    that start here resume from their logarithm, those not yet started or settled are left alone."""
    for name, (start, log_product, rows) in starts.items():
        if start == index:
            products[name].resume(log_product, rows)
    active = {name: product for name, product in products.items()
              if name in starts and starts[name][0] <= index and not product.settled}
    if not active:
        return products
    for log_probs, row_weights in _log_probs(path, family, column, weights, read_options, stats, params):
        feed(active, log_probs, row_weights, whole_weights)
        if all(product.settled for product in active.values()):
            break
    return products


def _values(path: str, family, column: str | None, weights: str | None, read_options: ReadOptions):
    """A part's checked values and their weights, a chunk at a time."""
    for data in iter_weighted(path, column, weights, text=not family.support.numeric, options=read_options):
        yield support_values(data, family), data.weights


def _log_probs(path, family, column, weights, read_options, stats, params):
    """A part's rows' log-likelihoods at `params` and their weights, a chunk at a time."""
    for values, row_weights in _values(path, family, column, weights, read_options):
        with np.errstate(all="ignore"):
            yield family.log_prob(family.encode(values, stats), params), row_weights


@returned
def extra_pass_part(path: str, read, plan, family, column: str | None, weights: str | None,
                    read_options: ReadOptions):
    """One part's share of a family's extra pass (a task): `read(plan, chunks)`, the family's method
    that reads the part's values against `plan` (two_pass.TwoPass)."""
    return read(plan, _values(path, family, column, weights, read_options))


def _spilling(stats) -> Spilling:
    return stats if isinstance(stats, Spilling) else Spilling.of(stats)


@returned
def merged_parts(a, b):
    return a.merge(b)


@returned
def over_part(path: str, of, combine, family, column: str | None, weights: str | None, read_options: ReadOptions):
    """One part's share of a pass over values no process holds (a task): of(chunk) of its chunks,
    combined (see families.on_disk)."""
    return combined(of, combine, _values(path, family, column, weights, read_options))


@returned
def combined_parts(combine, a, b):
    return a if b is None else b if a is None else combine(a, b)


def tree_reduce(delayed, items: list, merge=merged):
    """Pairwise merges, level by level, adjacent items only: file order is kept and the depth is
    log2 of the number of files."""
    while len(items) > 1:
        items = [delayed(merge, pure=False)(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
                 for i in range(0, len(items), 2)]
    return items[0]


class DistributedRows(Streamed):
    """A data set's rows on the cluster: its first rows at hand, the rest followed file by file by
    tasks when the raw product has not settled within them."""

    def __init__(self, first: Column, prefix: list[Column], whole_weights: bool, chain):
        super().__init__(first, prefix, lambda: iter(()), whole_weights, 0)
        self.chain = chain

    def underflow(self, family, stats, numerical):
        from .underflow import report
        from .weights import count

        products = running_products()
        for part in self.prefix:
            feed(products, family.log_prob(family.encode(part.values, stats), numerical.params), part.weights,
                 self.whole_weights)
        if not all(product.settled for product in products.values()):
            products = self.chain(numerical.params)
        return report(products, numerical.nll, count(stats.n), self.first.weights is not None)

    def goodness_of_fit(self, family, stats, params, options, fixed):
        if family.continuous:
            from .gof import GoodnessOfFit

            return GoodnessOfFit({}, note="no KS, CvM or AD on a distributed data set: they would need every "
                                          "value sorted in one place")
        return super().goodness_of_fit(family, stats, params, options, fixed)


def fit_distributed(sources: list[str], distribution: str, column: str | None = None, *, client,
                    weights: str | None = None, read_options: ReadOptions = DEFAULT, progress=None,
                    **options):
    """Fit one data set (files, globs, directories) on the cluster `client` is connected to."""
    [(_, outcome)] = fit_families(expand_sources(sources), [distribution], column, client=client, weights=weights,
                                  read_options=read_options, progress=progress, **options)
    if isinstance(outcome, MlfitError):
        raise outcome
    return outcome


def fit_families(paths: list[str], distributions: list[str], column: str | None = None, *, client,
                 weights: str | None = None, read_options: ReadOptions = DEFAULT, progress=None,
                 part_bytes: int = PART_BYTES, pieces: list | None = None, values_limit: int = IN_MEMORY_ROWS,
                 **options) -> list[tuple[str, object]]:
    """Fit several families to the data set of `paths` (as `expand_sources` gives them), reading each part
    (`pieces`, as `partition` gives them) once: (name, FitResult or the MlfitError that family
    met) per family, in order."""
    from dask import delayed

    require_column_for_weights(column, weights)
    settings = FitOptions.of(**options)
    families = [get_family(name, settings.trials) for name in distributions]
    label = label_of(paths)
    pieces = pieces or partition(paths, read_options, client, part_bytes)
    parts = client.compute([delayed(summarize, pure=False)(path, i == 0, tuple(families), column, weights,
                                                           reading, values_limit)
                            for i, (path, reading) in enumerate(pieces)])
    if progress is not None:
        progress(parts)
    merge = functools.partial(merged_by_family, values_limit=values_limit)
    summaries = client.compute(tree_reduce(delayed, parts, merge=merge)).result()
    name = column or _only_column(paths[0], read_options)
    outcomes = []
    for family in families:
        try:
            outcomes.append((family.name, _fitted(family, summaries[family.name], pieces, label, name, client,
                                                  (column, weights), settings)))
        except MlfitError as error:
            outcomes.append((family.name, error))
    return outcomes


def _fitted(family, summary: Summary, pieces, label, name, client, reading, settings):
    """One family's fit from its merged summary: laplace's second pass, then the fit itself, with
    the raw product followed part by part when the first rows do not settle it."""
    from dask import delayed

    if summary.error is not None:
        raise summary.error
    if summary.stats is None:
        raise DataError(f"{label}: column '{name}': no value to fit ({summary.dropped:,} missing skipped)",
                        kind="empty")
    column, weights = reading
    first = Column(label, name, np.zeros(0), np.zeros(0, dtype=np.int64), 0,
                   weights=np.zeros(0) if weights else None)
    stats = summary.stats

    def extra_pass(read, plan):  # a task per part, the parts merged in a tree
        tasks = [delayed(extra_pass_part, pure=False)(path, read, plan, family, column, weights, part)
                 for path, part in pieces]
        return outcome(client.compute(tree_reduce(delayed, tasks, merge=merged_parts)))

    if isinstance(stats, Spilling):  # more values than one process holds: a task per part on each pass
        def visit(of, combine):
            tasks = [delayed(over_part, pure=False)(path, of, combine, family, column, weights, part)
                     for path, part in pieces]
            return outcome(client.compute(tree_reduce(delayed, tasks, merge=functools.partial(combined_parts,
                                                                                               combine))))

        stats = stats.on_disk(None, visit)
    if family.second_pass:  # laplace's median: the family's two passes, each a task per part
        try:
            stats = family.complete(stats, extra_pass)
        except NeedsEveryValue:
            raise DataError(f"{label}: column '{name}': the first pass's sample misplaced the bracket around the "
                            "median (a rare draw); run the fit again, or on one machine", kind="size") from None

    def chain(params):
        """The raw products in file order: every part's log path in parallel says where each
        precision's product comes near its limits; from there on, part after part, it is multiplied
        for real (in practice within the first part: the chain is short)."""
        paths = client.compute([delayed(log_path, pure=False)(path, family, column, weights, part,
                                                              stats, params, summary.whole_weights)
                                for path, part in pieces])
        starts = starting_points([outcome(future) for future in paths])
        products = delayed(running_products, pure=False)()
        for index, (path, part) in enumerate(pieces):
            if starts and index >= min(start for start, _, _ in starts.values()):
                products = delayed(follow, pure=False)(products, path, index, starts, family, column,
                                                       weights, part, stats, params, summary.whole_weights)
        return outcome(client.compute(products))

    rows = DistributedRows(first, summary.prefix, summary.whole_weights, chain)
    return fit_statistics(family, stats, label, name, summary.dropped, rows, settings)


def survey_distributed(paths: list[str], column: str | None, *, client, trials: int | None = None,
                       read_options: ReadOptions = DEFAULT, part_bytes: int = PART_BYTES,
                       pieces: list | None = None):
    """Which families' supports hold every value of the data set of `paths` (as `expand_sources` gives
    them): a survey task per part, merged."""
    from dask import delayed

    tasks = [delayed(surveyed, pure=False)(path, column, trials, part)
             for path, part in pieces or partition(paths, read_options, client, part_bytes)]
    return outcome(client.compute(tree_reduce(delayed, tasks, merge=merged_surveys)))


def partition(paths: list[str], read_options: ReadOptions, client, part_bytes: int = PART_BYTES) -> list:
    """The data set's parts, in order, as (path, read options naming the part): a Parquet file's
    row groups gathered up to `part_bytes`; a plain CSV file bigger than that cut about every
    `part_bytes` where records begin (tasks on the cluster count each stretch's quotes, so that
    a cut inside a quoted cell moves to the record after it, and its records, so that every part
    numbers its rows as the whole file does); other files (compressed, ...) whole."""
    from dask import delayed

    from .parquet import is_parquet, row_groups

    whole = [[(path, read_options)] for path in paths]
    cuts = {}
    for i, path in enumerate(paths):
        if is_parquet(path):
            whole[i] = _row_group_parts(path, row_groups(path), read_options, part_bytes)
            continue
        size = _size_of(path)
        start = records_start(path, read_options) if size > part_bytes else None
        if start is not None and size - start > part_bytes:
            edges = list(range(start, size, part_bytes))
            cuts[i] = list(zip(edges, [*edges[1:], size]))
    if cuts:
        counts = client.compute([delayed(returned(part_records), pure=False)(paths[i], a, b)
                                 for i, spans in cuts.items() for a, b in spans])
        counted = iter(outcome(future) for future in counts)
        for i, spans in cuts.items():
            whole[i] = [(paths[i], replace(read_options, part=part))
                        for part in _record_parts([next(counted) for _ in spans], spans[-1][1])]
    return [piece for pieces in whole for piece in pieces]


def _record_parts(counted: list, size: int) -> list:
    """Parts that begin where records begin: each cut's line, or, where the quotes before it are odd
    in number (the line begins inside a quoted cell), the first record after it, the record the
    cut fell in counted before it; the records before each part summed. A stretch that begins no
    record (inside one long quoted cell) is the part before's."""
    starts, before, inside, rows = [], [], 0, 0
    for quotes, outside_first, inside_first in counted:
        first, records = inside_first if inside else outside_first
        if first is not None:
            starts.append(first)
            before.append(rows + inside)
        rows += records
        inside = (inside + quotes) % 2
    return [Part(a, b, n) for a, b, n in zip(starts, [*starts[1:], size], before) if b > a]


def _row_group_parts(path: str, groups: list, read_options: ReadOptions, part_bytes: int) -> list:
    """A Parquet file's row groups gathered into parts of up to `part_bytes` (uncompressed; a
    bigger group is a part alone)."""
    parts, start, before, rows, size = [], 0, 0, 0, 0
    for k, (group_rows, group_bytes) in enumerate(groups):
        if k > start and size + group_bytes > part_bytes:
            parts.append(Part(start, k, before))
            start, before, rows, size = k, before + rows, 0, 0
        rows, size = rows + group_rows, size + group_bytes
    parts.append(Part(start, len(groups), before))
    return [(path, replace(read_options, part=part)) for part in parts]


def _size_of(path: str) -> int:
    if "://" in path:
        import fsspec

        filesystem, inside = fsspec.core.url_to_fs(path)
        return int(filesystem.size(inside))
    return os.path.getsize(path)


def _only_column(path: str, read_options: ReadOptions) -> str:
    from .data import column_names

    names = column_names(path, read_options)
    return names[0] if len(names) == 1 else "?"


class ClusterRunner:
    """A regression's passes over a data set's files on the cluster: a task per file, the parts
    merged in a tree in file order (mlfit.regression.streamed.FileRows takes it as its runner)."""

    def __init__(self, client, progress=None):
        self.client, self.progress = client, progress

    def each_file(self, rows, per_file, merge):
        from dask import delayed

        parts = self.client.compute([delayed(returned(per_file), pure=False)(rows, source)
                                     for source in rows.sources])
        if self.progress is not None:
            self.progress(parts)
        return outcome(self.client.compute(tree_reduce(delayed, parts, merge=returned(merge))))

    def carry(self, rows, state, step, done):
        """A chain of tasks, a file each: the state reaches file k only once files 1..k-1 have
        carried it (a task whose state is already done returns at once)."""
        from dask import delayed

        from .regression.streamed import carry_file

        for source in rows.sources:
            state = delayed(returned(carry_file), pure=False)(rows, source, state, step, done)
        return outcome(self.client.compute(state))


def regress_distributed(sources: list[str], formula: str, distribution: str, *, client, sigma: str | None = None,
                        weights: str | None = None, level: float = 0.95, read_options: ReadOptions = DEFAULT,
                        progress=None, part_bytes: int = PART_BYTES, trials: int | None = None):
    """Fit `formula` to the data set of `sources` (files, globs, directories) on the cluster: least
    squares from triangular factors merged across files (TSQR), the other models by Newton's
    method with a distributed pass per step (IRLS). `trials`: binomial's, the same for every row."""
    from .regression import streamed
    from .regression.design import wanted_columns
    from .regression.fit import check_model

    paths = expand_sources(sources)
    family = one_family(distribution, trials)
    check_model(family, sigma)
    wanted = wanted_columns(paths[0], formula, sigma=sigma, weights=weights, options=read_options)
    rows = streamed.FileRows(partition(paths, read_options, client, part_bytes), formula, family, sigma, weights,
                             read_options, wanted,
                             runner=ClusterRunner(client, progress))
    return streamed.fit_rows(family, rows, level=level)


def compare_distributed(sources: list[str], column: str | None = None, distributions=None, *, client,
                        weights: str | None = None, read_options: ReadOptions = DEFAULT, level: float = 0.95,
                        **options):
    """ranking.compare_file over a data set of many files on a Dask cluster: a
    survey pass, then one pass that summarises every candidate family, each fitted on the client
    (those without sufficient statistics up to the in-memory limit)."""
    from .data import require_column_for_weights
    from .families import canonical
    from .ranking import _ranking, _sorted_out

    require_column_for_weights(column, weights)
    trials = options.get("trials")
    paths = expand_sources(sources)  # (once: a URL is opened to check it)
    pieces = partition(paths, read_options, client, options.pop("part_bytes", PART_BYTES))
    if distributions:
        names = list(dict.fromkeys(canonical(d) for d in distributions))
        found = None
    else:
        found = survey_distributed(paths, column, client=client, trials=trials, pieces=pieces)
        names = found.candidates
    fitted, unranked, failed = _sorted_out(fit_families(paths, names, column, client=client, weights=weights,
                                                        read_options=read_options, level=level, pieces=pieces,
                                                        **options))
    name = (found.column if found else None) or column or ""
    return _ranking(label_of(paths), name, fitted, unranked, failed, level, [])
