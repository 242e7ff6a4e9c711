"""A small histogram of the data in the terminal, with the fitted curve marked: bars in eighths
of a line (unicode block characters), the fitted expected count as a dot. At most 12 lines."""

from __future__ import annotations

import numpy as np
from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"
HEIGHT = 10  # bar rows; with the axis and its labels the chart is 12 lines
WIDTH = 60


def chart_cells(result, width: int = WIDTH) -> tuple[np.ndarray, np.ndarray, str, str] | None:
    """Observed and fitted counts per column, and the labels of the first and last column; None
    when there is nothing to draw (the values were not kept, or there are too many cells)."""
    if result.values is None:
        return None
    family, values, params = result.family, result.values, result.estimate
    n = result.stats.n
    if family.continuous:
        edges = np.histogram_bin_edges(values, bins="auto")
        if len(edges) - 1 > width:
            edges = np.linspace(values.min(), values.max(), width + 1)
        observed, _ = np.histogram(values, edges, weights=result.weights)
        expected = n * np.diff(np.exp(family.log_cdf(edges, params)))
        return observed.astype(float), expected, f"{edges[0]:.4g}", f"{edges[-1]:.4g}"
    table = family.frequency_table(values, result.stats, params)
    if table is None:
        return None
    labels, observed, probabilities = table
    expected = probabilities * n
    if len(labels) > width:  # fold the far tail into the last column
        observed = np.append(observed[: width - 1], observed[width - 1:].sum())
        expected = np.append(expected[: width - 1], expected[width - 1:].sum())
        labels = [*labels[: width - 1], f"{labels[width - 1]}.."]
    return observed, expected, labels[0], labels[-1]


def chart(result, width: int = WIDTH) -> Text | None:
    cells = chart_cells(result, width)
    if cells is None:
        return None
    observed, expected, first, last = cells
    columns = len(observed)
    repeat = max(1, min(6, width // columns))
    top = max(observed.max(), expected.max()) or 1.0
    bars = np.rint(observed / top * HEIGHT * 8).astype(int)  # in eighths of a line
    marks = np.minimum((expected / top * HEIGHT).astype(int), HEIGHT - 1)  # the row holding the dot
    text = Text()
    for row in range(HEIGHT - 1, -1, -1):
        for column in range(columns):
            fill = int(np.clip(bars[column] - row * 8, 0, 8))
            bar = BLOCKS[fill] * repeat
            if marks[column] == row and expected[column] > 0:
                middle = repeat // 2
                text.append(bar[:middle], style="blue")
                text.append("•", style="bold red")
                text.append(bar[middle + 1:], style="blue")
            else:
                text.append(bar, style="blue")
        text.append("\n")
    span = columns * repeat
    text.append("└" + "─" * (span - 1) + "\n", style="dim")
    legend = "  █ data  • fitted"
    text.append(first + last.rjust(max(span - len(first), len(last) + 1)) + legend)
    return text
