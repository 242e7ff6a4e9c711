"""mlfit describe: a column's shape before any fit, as fitdistrplus's descdist shows it.

The summary (n, min, max, median, mean, sd), skewness and kurtosis by descdist's two methods
("unbiased", its default, and "sample", the plain moment ratios), and the Cullen-Frey graph:
the data's (skewness^2, kurtosis) among each family's point (normal, uniform, logistic,
exponential), line (gamma, lognormal, weibull) or region (beta), with a bootstrap cloud of the
same point for resamples of the rows. Distances in that plane are what the graph shows, not a
test: the cloud says how far the point itself moves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .columns import DEFAULT, ReadOptions, joined
from .data import iter_columns, to_support
from .errors import DataError
from .estimates import HTMLSummary
from .families.distribution import power_of_two

KINDS = ("point", "line", "region")  # the order the loci are listed and drawn in


def loci(largest: float = 100.0) -> list[tuple[str, str, dict]]:
    """(family, kind, locus) of every registered family with a place in the Cullen-Frey plane
    (`Family.cullen_frey`), points then lines then regions; lines sampled up to skewness^2 `largest`."""
    from .families import registered_families

    found = []
    for family in registered_families():
        locus = family.cullen_frey(largest)
        if locus is None:
            continue
        kind = next(k for k in KINDS if k in locus)
        if kind == "line":
            line = locus["line"]
            locus = {**locus, "line": line[line[:, 0] <= largest * 1.5]}
        found.append((family.name, kind, locus))
    return sorted(found, key=lambda entry: KINDS.index(entry[1]))


def unit_scale(values: np.ndarray) -> float:
    """The power of two at the column's largest magnitude: dividing by it is exact and puts every
    value in [-2, 2], so that sums and powers neither overflow (values near 1e308) nor underflow
    (subnormal values, whose squares are 0 in float64). (2^1023 is the largest power float64 holds.)"""
    return power_of_two(float(np.max(np.abs(values))) if len(values) else 0.0) or 1.0


def scaled_moments(values: np.ndarray) -> tuple[float, float | None]:
    """The mean and the sample standard deviation (n - 1), computed on the values divided by their
    unit scale and scaled back, so both are right at any finite scale."""
    scale = unit_scale(values)
    unit = values / scale
    mean = float(np.mean(unit)) * scale
    sd = float(np.std(unit, ddof=1)) * scale if len(values) > 1 else None
    return mean, sd


def shape(values: np.ndarray) -> dict:
    """Skewness and kurtosis (not excess: 3 for the normal) by descdist's methods: "sample" is
    m3 / m2^1.5 and m4 / m2^2 with 1/n central moments; "unbiased" corrects them for n. Both are
    free of scale, so they are computed on the values in unit scale."""
    n = len(values)
    values = values / unit_scale(values)
    centred = values - values.mean()
    m2 = float(np.mean(centred ** 2))
    if n < 4 or m2 == 0:
        return {"skewness": {"unbiased": None, "sample": None}, "kurtosis": {"unbiased": None, "sample": None}}
    m3, m4 = float(np.mean(centred ** 3)), float(np.mean(centred ** 4))
    skewness, kurtosis = m3 / m2 ** 1.5, m4 / m2 ** 2
    return {"skewness": {"unbiased": math.sqrt(n * (n - 1)) / (n - 2) * skewness, "sample": skewness},
            "kurtosis": {"unbiased": (n - 1) / ((n - 2) * (n - 3)) * ((n + 1) * kurtosis - 3 * (n - 1)) + 3,
                         "sample": kurtosis}}


def in_region(region, skew2: float, kurtosis: float) -> bool:
    (a, b), (c, d) = region
    return a + b * skew2 < kurtosis < c + d * skew2


def in_beta_region(skew2: float, kurtosis: float) -> bool:
    """Between the bound every distribution obeys (kurtosis > skewness^2 + 1) and the gamma line:
    the beta family's region."""
    from .families import get_family

    return in_region(get_family("beta").cullen_frey(0.0)["region"], skew2, kurtosis)


def nearest(skew2: float, kurtosis: float) -> list[dict]:
    """Every family's distance from the point in the (skewness^2, kurtosis) plane, nearest first."""
    out = []
    for name, kind, locus in loci(max(skew2 * 2, 10.0)):
        if kind == "point":
            a, b = locus["point"]
            distance = math.hypot(skew2 - a, kurtosis - b)
        elif kind == "line":
            line = locus["line"]
            distance = float(np.min(np.hypot(line[:, 0] - skew2, line[:, 1] - kurtosis)))
        elif in_region(locus["region"], skew2, kurtosis):
            distance = 0.0
        else:  # to the nearer of the region's two edges
            distance = min(abs(kurtosis - a - b * skew2) / math.sqrt(1 + b * b) for a, b in locus["region"])
        out.append({"family": name, "locus": kind, "distance": distance})
    return sorted(out, key=lambda entry: entry["distance"])


@dataclass(frozen=True, repr=False)
class Description(HTMLSummary):
    source: str
    column: str
    values: np.ndarray
    dropped: int
    boot: np.ndarray | None  # (skewness^2, kurtosis), unbiased, of each resample
    seed: int

    @property
    def n(self) -> int:
        return len(self.values)

    def to_dict(self) -> dict:
        x = self.values
        shapes = shape(x)
        skew, kurt = shapes["skewness"]["unbiased"], shapes["kurtosis"]["unbiased"]
        mean, sd = scaled_moments(x)
        out = {"file": self.source, "column": self.column, "n": self.n, "dropped": self.dropped,
               "min": float(x.min()), "max": float(x.max()), "median": _median(x), "mean": mean, "sd": sd, **shapes}
        if skew is not None:
            out["cullen_frey"] = {"skewness_squared": skew * skew, "kurtosis": kurt,
                                  "in_beta_region": in_beta_region(skew * skew, kurt),
                                  "nearest": nearest(skew * skew, kurt)}
            if self.boot is not None:
                finite = self.boot[np.all(np.isfinite(self.boot), axis=1)]
                out["cullen_frey"]["bootstrap"] = {
                    "replicates": len(self.boot), "seed": self.seed,
                    "skewness_squared_5_95": np.quantile(finite[:, 0], [0.05, 0.95]).tolist() if len(finite) else None,
                    "kurtosis_5_95": np.quantile(finite[:, 1], [0.05, 0.95]).tolist() if len(finite) else None}
        return out

    def summary(self) -> str:
        """The description as the table view prints it, as text."""
        from .report import print_description, printed_text

        return printed_text(print_description, self)

    def plot(self, path: str | None = None):
        """The Cullen-Frey graph (`mlfit describe --plot`), to `path`, or returned as a matplotlib Figure."""
        return draw_cullen_frey(self, path)

    def __repr__(self) -> str:
        return f"<Description of '{self.column}' in {self.source}: n={self.n:,}; {self.verdict()}>"[:400]

    def verdict(self) -> str:
        data = self.to_dict()
        if "cullen_frey" not in data:
            return "fewer than four rows, or no spread: no skewness or kurtosis to place"
        cf = data["cullen_frey"]
        close = ", ".join(f"{e['family']} ({e['locus']}, {e['distance']:.3g})" for e in cf["nearest"][:3])
        region = "inside the beta region" if cf["in_beta_region"] else "outside the beta region"
        return (f"skewness^2 {cf['skewness_squared']:.4g}, kurtosis {cf['kurtosis']:.4g} (unbiased): nearest "
                f"{close}; {region}")


def _median(values: np.ndarray) -> float:
    """The middle value, or the midpoint of the middle two computed without overflow (their sum
    can exceed float64's largest number)."""
    ordered = np.partition(values, [(len(values) - 1) // 2, len(values) // 2])
    low, high = float(ordered[(len(values) - 1) // 2]), float(ordered[len(values) // 2])
    return low + (high - low) / 2 if math.isfinite(high - low) else low / 2 + high / 2


def bootstrap_shapes(values: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """(skewness^2, kurtosis), unbiased, of `replicates` resamples of the rows with replacement."""
    rng = np.random.default_rng(seed)
    n = len(values)
    out = np.empty((replicates, 2))
    for i in range(replicates):
        shapes = shape(values[rng.integers(0, n, n)])
        skew, kurt = shapes["skewness"]["unbiased"], shapes["kurtosis"]["unbiased"]
        out[i] = (np.nan, np.nan) if skew is None else (skew * skew, kurt)
    return out


def describe_file(source: str, column: str | None, *, boot: int = 0, seed: int = 0,
                  read_options: ReadOptions = DEFAULT) -> Description:
    names = None if column is None else [column]
    chunks = [chunk[0] for chunk in iter_columns(source, names, options=read_options, only_one=column is None)]
    return _described(joined(chunks), boot, seed)


def describe_values(values, name: str | None = None, *, boot: int = 0, seed: int = 0) -> Description:
    """`mlfit.describe`: the column's shape before any fit for values in memory (a list, an array, a
    pandas Series, whose name is the column's); None and NaN are missing cells. `to_dict()` is the
    CLI's JSON."""
    from .columns import column_name, memory_column

    return _described(memory_column(values, column_name(values, name), text=True), boot, seed)


def _described(data, boot: int, seed: int) -> Description:
    from .families import get_family

    values = to_support(data, get_family("normal"))  # numbers, with fit's messages for what is not
    if len(values) < 2:
        raise DataError(f"{data.source}: column '{data.name}' has {len(values)} value: describe needs two at least",
                        kind="empty")
    return Description(data.source, data.name, values, data.dropped, bootstrap_shapes(values, boot, seed) if boot else None,
                       seed)


def draw_cullen_frey(description: Description, path: str | None = None):
    """The skewness-kurtosis plane as descdist draws it (kurtosis downwards), with the families'
    points, lines and the beta region, the data's point and the bootstrap cloud."""
    from .errors import UsageError
    from .plots import _pyplot, finished

    data = description.to_dict()
    if "cullen_frey" not in data:
        raise UsageError("no Cullen-Frey graph for a column without spread or of fewer than four rows")
    cf = data["cullen_frey"]
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 6))
    points = [(cf["skewness_squared"], cf["kurtosis"])]
    if description.boot is not None:
        points += [tuple(p) for p in description.boot if np.all(np.isfinite(p))]
    largest = max(4.5, 1.2 * max(p[0] for p in points))
    top = max(10.0, 1.1 * max(p[1] for p in points))
    grid = np.linspace(0, largest, 400)
    for name, kind, locus in sorted(loci(largest), key=lambda entry: -KINDS.index(entry[1])):  # regions first
        if kind == "region":
            (a, b), (c, d) = locus["region"]
            axis.fill_between(grid, a + b * grid, c + d * grid, color="lightgrey", label=name)
        elif kind == "line":
            axis.plot(locus["line"][:, 0], locus["line"][:, 1], label=name, linestyle=locus.get("style", "-"))
        else:
            axis.plot(*locus["point"], marker=locus.get("style", "o"), linestyle="none", markersize=10, label=name)
    if description.boot is not None:
        axis.plot(description.boot[:, 0], description.boot[:, 1], "o", color="orange", alpha=0.3, markersize=3,
                  label=f"bootstrap ({len(description.boot)})")
    axis.plot(cf["skewness_squared"], cf["kurtosis"], "o", color="blue", markersize=8, label="observation")
    axis.set(xlim=(0, largest), ylim=(top, 0), xlabel="square of skewness", ylabel="kurtosis",
             title=f"Cullen and Frey graph: '{description.column}'")
    axis.legend(fontsize=8, loc="lower left")
    figure.tight_layout()
    return finished(figure, path)
