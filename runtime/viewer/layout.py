"""Fitting the viewer to the terminal it finds, from 80x24 up.

The meters and the Q-values always stay, at full size: they are what the lesson is about.
What gives way, in order, as the terminal shrinks:

- the Episode panel becomes one line above the status line (narrower than the town,
  the bars and :data:`INFO_MIN_WIDTH` together);
- the town's legend flows into columns, so the town is no taller than the bars;
- the header goes, so the survival chart keeps :data:`CHART_MIN_HEIGHT` rows;
- the survival chart collapses to its caption and the training figures (and the header
  comes back if a row is left over).

:func:`plan_layout` decides from the world and the size alone, so tests can check every
size without starting the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import ceil

from .model import World
from .render import legend_entry_width, meters_width, q_width

TOWN_MIN_WIDTH = 24
BODY_MIN_HEIGHT = 14
INFO_MIN_WIDTH = 30
CHART_MIN_HEIGHT = 8
"""Rows of a survival panel worth drawing: borders, four plot rows, the axis and its
labels; below that it is a caption."""
COLLAPSED_HEIGHT = 2
"""Rows of the collapsed survival panel: its caption and the training figures."""
PANEL = 4
"""Columns of a panel's borders and padding (its rows: 2)."""


@dataclass(frozen=True)
class Layout:
    """Where things go at one terminal size."""

    info_panel: bool
    """The Episode panel on the right; otherwise a single line above the status line."""
    header: bool
    legend_columns: int
    legend_gap: int
    """Blank lines between the grid and its legend (0 when rows are short)."""
    body_height: int
    town_width: int
    middle_width: int
    chart: bool
    """The survival chart is drawn; otherwise only its caption and the figures show."""
    trend_height: int
    """Rows left for the survival panel (or its caption lines, when collapsed)."""


def plan_layout(world: World, width: int, height: int) -> Layout:
    """The layout of ``world`` in a ``width`` x ``height`` terminal."""
    middle_width = max(meters_width(world), q_width(world)) + PANEL
    town_width = max(TOWN_MIN_WIDTH, 2 * world.grid_size - 1 + PANEL)
    info_panel = width >= town_width + middle_width + INFO_MIN_WIDTH
    room = width - middle_width - (INFO_MIN_WIDTH if info_panel else 0)
    bars_height = len(world.meters) + len(world.actions) + 2 * 2
    entries = 1 + len(world.symbols)  # the agent, then each affordance
    entry = legend_entry_width(world) + 1  # a space between columns
    fit = max((max(room, town_width) - PANEL + 1) // entry, 1)
    legend_columns, legend_gap = 1, 1
    while legend_columns < fit and _town_height(world, entries, legend_columns) > bars_height:
        legend_columns += 1
    if _town_height(world, entries, legend_columns) > bars_height:
        legend_gap = 0  # the blank line between the grid and the legend
    town_width = max(town_width, legend_columns * entry - 1 + PANEL)
    if not info_panel:  # the town takes what the bars leave
        town_width = max(town_width, room)
    town_height = _town_height(world, entries, legend_columns) - 1 + legend_gap
    body = max(town_height, bars_height, BODY_MIN_HEIGHT)
    chrome = 2 + (0 if info_panel else 1)  # the status line, the footer, the episode line
    left = height - chrome - body
    chart = left >= CHART_MIN_HEIGHT
    # the header goes first, but not for a collapsed chart's two lines
    header = left > (CHART_MIN_HEIGHT if chart else COLLAPSED_HEIGHT)
    trend_height = max(left - header, 0)
    return Layout(
        info_panel=info_panel,
        header=header,
        legend_columns=legend_columns,
        legend_gap=legend_gap,
        body_height=body,
        town_width=town_width,
        middle_width=middle_width,
        chart=chart,
        trend_height=trend_height,
    )


def _town_height(world: World, entries: int, columns: int) -> int:
    """The grid, a blank line, the legend in ``columns`` and the panel's borders."""
    return world.grid_size + 1 + ceil(entries / columns) + 2
