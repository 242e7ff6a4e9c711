"""A big file on a cluster is read in parts: a CSV file's bytes cut where records begin (a cut
inside a quoted cell moves to the next record), a Parquet file's row groups. Read part by part,
every cut gives the rows of the whole file, numbered as the whole file numbers them."""

import numpy as np
import pytest

import mlfit
from mlfit.columns import DEFAULT, Part, ReadOptions
from mlfit.data import iter_columns
from mlfit.csvtext import part_records, records_start
from mlfit.distributed import _record_parts, _row_group_parts

TRICKY = ('id,value,note\n'
          '1,1.5,"a note, with a comma"\n'
          '2,2.5,"two\nlines"\n'
          '3,,"a ""quoted"" word"\n'
          '4,4.5,"""\n""\n"\n'
          '5,5.5,plain\n'
          '\n'
          '7,7.5,"three\n\nlines"\n'
          '8,8.5,last')


def rows_of(path, options=DEFAULT, column="value"):
    values, rows, dropped = [], [], 0
    for [data] in iter_columns(str(path), [column], options=options):
        values += list(data.values)
        rows += list(data.rows)
        dropped += data.dropped
    return values, rows, dropped


def parts_of(path, size):
    start = records_start(str(path))
    total = path.stat().st_size
    edges = list(range(start, total, size))
    spans = list(zip(edges, [*edges[1:], total]))
    return _record_parts([part_records(str(path), a, b) for a, b in spans], total)


@pytest.mark.parametrize("ending", ["", "\n"])
def test_every_cut_of_a_file_with_quoted_newlines_gives_its_rows(tmp_path, ending):
    path = tmp_path / "tricky.csv"
    path.write_text(TRICKY + ending)
    whole = rows_of(path)
    assert whole[1] == [1, 2, 4, 5, 7, 8] and whole[2] == 2  # (row 3 and the blank row 6 are missing values)
    for size in range(1, len(TRICKY)):
        parts = parts_of(path, size)
        values, rows, dropped = [], [], 0
        for part in parts:
            v, r, d = rows_of(path, ReadOptions(part=part))
            values, rows, dropped = values + v, rows + r, dropped + d
        assert (values, rows, dropped) == whole, size
        notes = [n for part in parts for n in rows_of(path, ReadOptions(part=part), "note")[0]]
        assert notes == rows_of(path, column="note")[0], size


def test_a_part_numbers_a_bad_cell_by_its_row_in_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("x\n" + "".join(f"{i}.5\n" for i in range(1, 200)) + "oops\n1\n")
    parts = parts_of(path, 100)
    [holding] = [part for part, after in zip(parts, [*parts[1:], None])
                 if part.rows_before < 200 and (after is None or 200 <= after.rows_before)]
    assert holding.rows_before > 150
    from mlfit.data import support_values
    from mlfit.families import get_family

    with pytest.raises(mlfit.DataError, match=r"bad\.csv: column 'x', row 200: 'oops' is not a number"):
        for [data] in iter_columns(str(path), ["x"], options=ReadOptions(part=holding)):
            support_values(data, get_family("normal"))


def test_files_that_cannot_be_cut_are_read_whole(tmp_path):
    import gzip

    (tmp_path / "a.csv.gz").write_bytes(gzip.compress(b"x\n1\n2\n"))
    (tmp_path / "b.csv").write_text("# a comment\nx\n1\n")
    assert records_start(str(tmp_path / "a.csv.gz")) is None
    assert records_start(str(tmp_path / "b.csv"), ReadOptions(comment="#")) is None
    (tmp_path / "c.csv").write_text("title line\nx,y\n1,2\n")
    assert records_start(str(tmp_path / "c.csv"), ReadOptions(skip=1)) == len("title line\nx,y\n")


def test_row_groups_are_gathered_into_parts_with_their_rows_before():
    groups = [(10, 40), (20, 40), (5, 100), (7, 10), (3, 10)]
    parts = [options.part for _, options in _row_group_parts("f.parquet", groups, DEFAULT, 90)]
    assert parts == [Part(0, 2, 0), Part(2, 3, 30), Part(3, 5, 35)]


def test_a_parquet_part_reads_its_row_groups_numbered_as_in_the_file(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    values = np.arange(1.0, 101.0)
    values[57] = np.nan
    pq.write_table(pa.table({"x": values}), tmp_path / "x.parquet", row_group_size=25)
    whole = rows_of(tmp_path / "x.parquet", column="x")
    read = [rows_of(tmp_path / "x.parquet", ReadOptions(part=Part(k, k + 1, 25 * k)), "x") for k in range(4)]
    assert sum((r[0] for r in read), []) == whole[0] and sum((r[1] for r in read), []) == whole[1]
    assert read[2][1][0] == 51 and read[2][2] == 1


@pytest.mark.parametrize("weighted", [False, True])
def test_counting_passes_narrow_the_median_bracket_to_a_few_bins(weighted):
    from mlfit.families.median_statistics import (NARROWING_BINS, Bracket, BracketCounts, BracketPart, Sample,
                                                  Sketch, expected_inside, narrowed)

    rng = np.random.default_rng(11)
    values = np.round(rng.laplace(3, 2, 300_000), 3)  # (ties: many rows share a value)
    weights = rng.integers(0, 4, len(values)).astype(float) if weighted else None
    chunks = [(values[i:i + 50_000], None if weights is None else weights[i:i + 50_000])
              for i in range(0, len(values), 50_000)]
    sketch = Sketch.of(*chunks[0], seed=1)
    for k, chunk in enumerate(chunks[1:], start=2):
        sketch = sketch.merge(Sketch.of(*chunk, seed=k))
    edges = Bracket.edges(sketch)
    counted = BracketCounts.of(edges, chunks[:2]).merge(BracketCounts.of(edges, chunks[2:]))
    inside = counted.counts.sum()
    assert expected_inside(sketch, edges) == pytest.approx(inside, rel=0.1)
    narrower, held = narrowed(sketch, edges, counted)
    assert edges[0] <= narrower[0] < narrower[1] <= edges[1] and held <= 6 * inside / NARROWING_BINS + 100
    exact = Sample.of(values, weights)
    bracket = Bracket.completed(sketch, narrower, BracketPart.of(narrower, iter(chunks)))
    assert (bracket.lower_median, bracket.upper_median) == (exact.lower_median, exact.upper_median)
    for mu in (exact.lower_median, narrower[0], narrower[1]):
        assert bracket.mean_abs(mu) == pytest.approx(exact.mean_abs(mu), rel=1e-12)
