"""The tables every view prints: rich's, with cells that fold onto more lines instead of being cut
with an ellipsis. A long file name, a method's description or a number wider than its share of
the terminal is then shown whole, whatever the terminal's width or the checkout's path."""

from __future__ import annotations

from rich.table import Table as RichTable


class Table(RichTable):
    def add_column(self, *args, overflow: str = "fold", **kwargs) -> None:
        super().add_column(*args, overflow=overflow, **kwargs)
