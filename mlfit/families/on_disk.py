"""The values of a column too big to hold, for a family whose NLL needs every one of them (weibull,
logistic, cauchy, student_t): kept in a temporary file and read back a part at a time.

`ValuesOnDisk` answers what `Values` answers, but a sum over rows costs a pass over the file, so a
caller asks for everything a step needs at once: `over_rows(of, combine)` evaluates `of` on each
part (a `Values`) and combines the parts' answers. The NLL, its gradient and its Hessian are sums
over rows, so one pass gives a Newton step. Starting values and the optimiser's units come from an
evenly spread sample held in memory; the smallest and largest values are exact.
"""

from __future__ import annotations

from functools import reduce

from .statistics import Values


def added(a, b):
    """Two parts of a sum: numbers, arrays, or tuples and dicts of them (None stays None)."""
    if a is None:
        return None
    if isinstance(a, tuple):
        return tuple(added(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return {key: added(a[key], b[key]) for key in a}
    return a + b


class ValuesOnDisk:
    in_memory = False

    def __init__(self, n: float, low: float, high: float, sample: Values, parts, rows: int, visit=None):
        self.n, self.low, self.high = n, low, high  # (low and high over rows that weigh something)
        self.sample = sample  # evenly spread over the file: for starts and units only
        self.parts = parts  # parts() -> an iterator of (values, weights) over every row, in file order
        self.rows = rows
        # visit(of, combine): a pass run elsewhere (on a cluster: a task per part of the data set,
        # the answers combined in a tree in file order), instead of reading parts() here
        self.visit = visit
        self.passes = 0  # over every value, counted for the report
        self.last = None  # (parameters, order, sums) of the last pass over the NLL's derivatives

    def over_rows(self, of, combine=added):
        """of(part) for each part of the rows, combined: one pass."""
        self.passes += 1
        if self.visit is not None:
            return self.visit(of, combine)
        return combined(of, combine, self.parts())

    def extremes(self) -> tuple[float, float]:
        return self.low, self.high

    def heaviest(self) -> tuple[float, float]:
        # A value more than half the rows hold is the median: the sample's most frequent value then,
        # whose weight is counted exactly (the callers ask whether it exceeds half).
        value, _ = self.sample.heaviest()
        return value, float(self.over_rows(lambda part: part.total(part.values == value)))

    def nearest(self, mu: float) -> tuple[float, float]:
        def closer(a, b):
            if a[0] == b[0]:
                return a[0], a[1] + b[1]
            return a if abs(a[0] - mu) <= abs(b[0] - mu) else b

        return self.over_rows(lambda part: part.nearest(mu), closer)

    def quantile(self, q: float) -> float:
        return self.low if q <= 0 else self.high if q >= 1 else self.sample.quantile(q)

    @property
    def mad(self) -> float:
        return self.sample.mad

    @property
    def mean_log(self) -> float:
        return self.sample.mean_log

    def __getstate__(self) -> dict:
        # Sent to another process (a worker following the raw product), it goes without the means of
        # a pass, which read a file or reach a cluster from here: what needs no pass it still answers.
        return {**self.__dict__, "parts": None, "visit": None}

    def __repr__(self) -> str:
        return f"ValuesOnDisk(rows={self.rows}, passes={self.passes})"


def combined(of, combine, chunks):
    """of(part) of each chunk of (values, weights) that has a row weighing something, combined; None
    where none has (a part of a data set whose rows all weigh nothing)."""
    answers = (of(Values(values, weights)) for values, weights in chunks
               if len(values) and (weights is None or (weights > 0).any()))
    first = next(answers, None)
    return first if first is None else reduce(combine, answers, first)
