"""Plain-text tables for the command line."""

from __future__ import annotations

from collections.abc import Sequence


def text_table(rows: Sequence[Sequence[str]], *, right_from: int | None = None) -> list[str]:
    """The rows (the first is the header) as aligned lines, two spaces between columns;
    columns from index ``right_from`` on are right-aligned (numbers), the others left.

    >>> text_table([("name", "n"), ("Bed", "12")], right_from=1)
    ['name   n', 'Bed   12']
    """
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if right_from is not None and i >= right_from else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines
