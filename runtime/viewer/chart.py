"""The survival chart: how long each watched episode lasted, on a fixed scale with axes.

The y-axis always runs from 0 to the episode cap, so 149 against 150 looks like what it
is, and a bar's height can be read against the labels. Each column is one received
training episode (the newest on the right); the greedy evaluations the trainer reports in
its stats are drawn over them as ``◆``, in the column of the first episode at or after
the one they were taken at. Like :mod:`.render`, this turns plain values into a Rich
``Text`` the size of the widget, so tests read exactly what is drawn.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from math import ceil

from rich.text import Text

BLOCKS = " ▁▂▃▄▅▆▇█"
TRAINING_STYLE = "green"
EVALUATION = "◆"
EVALUATION_STYLE = "bold bright_magenta"
AXIS_STYLE = "grey50"
MIN_ROWS = 2
"""Plot rows below which the chart is not drawn (a caption says what there is instead)."""


def chart_width(width: int, cap: int) -> int:
    """Plot columns left in ``width`` once the y-axis labels and the axis are drawn."""
    return max(width - len(str(cap)) - 2, 0)


def survival_chart(
    training: Sequence[tuple[int, int]],
    evaluations: Sequence[tuple[int, float]],
    cap: int,
    width: int,
    height: int,
) -> Text:
    """``training`` as ``(episode, survival)`` in arrival order, ``evaluations`` as
    ``(episode, mean survival)``; drawn in ``width`` x ``height`` cells, two rows of which
    are the x-axis and its labels. Too small a space gives an empty text."""
    cap = max(cap, 1)
    rows, columns = height - 2, chart_width(width, cap)
    if rows < MIN_ROWS or columns < 8:
        return Text()
    top = rows % 2  # an even number of rows puts a row's edge at half the cap
    rows -= top
    shown = list(training)[-columns:]
    cells = [[(" ", "")] * columns for _ in range(rows)]
    for column, (_, survival) in enumerate(shown):
        eighths = round(min(max(survival / cap, 0.0), 1.0) * rows * 8)
        for row in range(rows):  # row 0 is the top
            fill = min(max(eighths - 8 * (rows - 1 - row), 0), 8)
            if fill:
                cells[row][column] = (BLOCKS[fill], TRAINING_STYLE)
    numbers = [episode for episode, _ in shown]
    for episode, survival in evaluations:
        column = bisect_left(numbers, episode)
        if not numbers or episode < numbers[0] or column >= len(numbers):
            continue  # before the window, or after the newest episode received
        # the row where a bar of this height would end, so labels read the same for both
        level = max(ceil(min(max(survival / cap, 0.0), 1.0) * rows) - 1, 0)
        cells[rows - 1 - level][column] = (EVALUATION, EVALUATION_STYLE)
    return Text("\n" * top).append_text(_with_axes(cells, cap, numbers))


def _with_axes(cells: list[list[tuple[str, str]]], cap: int, numbers: list[int]) -> Text:
    """The plot with the y labels (cap, half of it, 0) on the left and episodes below."""
    rows, columns = len(cells), len(cells[0])
    label_width = len(str(cap))
    labels = {0: str(cap)}
    if rows >= 4 and cap % 2 == 0:
        labels[rows // 2] = str(cap // 2)
    text = Text(no_wrap=True, overflow="crop")
    for row, line in enumerate(cells):
        label = labels.get(row)
        text.append(f"{label or '':>{label_width}} ", AXIS_STYLE)
        text.append("┤" if label else "│", AXIS_STYLE)
        for char, style in line:
            text.append(char, style)
        text.append("\n")
    text.append(f"{'0':>{label_width}} └" + "─" * columns + "\n", AXIS_STYLE)
    text.append(" " * (label_width + 2))
    text.append(_episode_labels(numbers, columns), AXIS_STYLE)
    return text


def _episode_labels(numbers: list[int], columns: int) -> str:
    """``episode FIRST`` under the first column and the newest number under its column."""
    if not numbers:
        return "episodes →"
    first = f"episode {numbers[0]}"
    if len(numbers) == 1:
        return first
    last = str(numbers[-1])
    gap = len(numbers) - len(first) - len(last)
    if gap < 1:  # not enough columns yet to place the newest under its own bar
        return f"episodes {numbers[0]}–{numbers[-1]}"[:columns]
    return first + " " * gap + last
