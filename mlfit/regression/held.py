"""A big design held in memory a chunk at a time: the file is read once, each chunk of its used
columns becomes that chunk's design as it is read (the formula's encoding from the counts of the
chunks so far: which columns are categorical, their levels, the response's classes; so every chunk
has the same columns), and the fit by passes (mlfit.regression.streamed) goes over the held designs
instead of the file.

Whole-frame copies are what made a regression of 10^6 rows x 10 columns peak at 870 MB: the
columns joined, a DataFrame of them, formulaic's matrix, its float copy, the scaled copies of the
aliasing check and of the QR, and the extended-precision residuals. Chunk by chunk, memory holds
the design once (8 bytes a cell) and one chunk's working copies; the triangular factors merged
chunk by chunk (TSQR) are as accurate as one QR of the whole design.
"""

from __future__ import annotations

from ..errors import MlfitError
from .design import design_of
from .streamed import FileRows, _keeping
from .survey import layout_of, new_tally, tally_chunk

# Designs of more cells than this are fitted chunk by chunk (where the model streams); fewer are
# fitted whole, which also proves or rules out separation and takes every option.
HELD_CELLS = 1 << 22


class HeldRows(FileRows):
    """A file's rows read once and held as chunk designs: a pass is a fold over memory.

    Each chunk is counted (the first pass's tally) and built into its design as it is read, with
    the layout its counts so far give (which columns are categorical, their levels, the response's
    classes), and then let go: memory never holds the columns and the design together. Where a
    later chunk changes that layout (a level first seen late, a column mostly text after all), or
    its design meets an error, the designs are built again from a second reading of the file with
    the whole file's layout (and the error, if it is one, is met there, as one reading would)."""

    def __init__(self, source: str, options, chunks: list, rest, formula, family, sigma, weights, wanted):
        super().__init__([source], formula, family, sigma, weights, options, wanted)
        self.found = new_tally(self)
        self.provisional, self.built = None, []
        start = 0
        for chunk in _taken(chunks, rest):
            first = start
            start = tally_chunk(self, self.found, chunk, start)
            if self.built is None:
                continue
            layout = layout_of(self, self.found)
            self.provisional = self.provisional or layout
            if not _same(layout, self.provisional):
                self.built = None
                continue
            try:
                design = design_of(self.label, chunk, formula, family, sigma=sigma, weights=weights,
                                   layout=self.provisional, start=first)
            except MlfitError:
                self.built = None
                continue
            if design.n:
                self.built.append(design)

    def tally(self):
        return self.found

    def designs(self, source):
        if self.built is None or not _same(self.layout, self.provisional):
            self.built = self._read_again(source)
        for design in self.built:
            yield design if self.kept is None else _keeping(design, *self.kept)

    def _read_again(self, source) -> list:
        """The whole designs from a second reading of the file, with the whole file's layout."""
        kept, self.kept = self.kept, None  # (columns left out are left out as the designs are given)
        try:
            built = list(super().designs(source))
        finally:
            self.kept = kept
        self.provisional = self.layout
        return built


def _taken(chunks: list, rest):
    """The chunks read so far, each let go as it is taken, then the rest of the reading."""
    while chunks:
        yield chunks.pop(0)
    yield from rest


def _same(a, b) -> bool:
    return a.categorical == b.categorical and a.classes == b.classes
