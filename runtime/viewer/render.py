"""Drawing one step: the town grid, its legend, the meter bars and the Q-values.

Each function turns a step into a Rich ``Text`` and nothing else, so the app only has to
``update()`` its widgets, and tests can read exactly what a student would see.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter

from rich.text import Text

from .model import Episode, Step, World

# distinct, readable on dark and light themes; affordances take them in hello order
PALETTE = (
    "bright_cyan",
    "bright_magenta",
    "bright_green",
    "dark_orange",
    "dodger_blue1",
    "orchid",
    "gold1",
    "spring_green2",
    "hot_pink",
    "deep_sky_blue1",
    "chartreuse2",
    "salmon1",
    "medium_purple1",
    "turquoise2",
    "light_goldenrod1",
)
AGENT = "@"
AGENT_STYLE = "bold black on bright_yellow"
EMPTY = "·"
EMPTY_STYLE = "grey42"
BAR_WIDTH = 16
BAR_TRACK = "on grey19"
EIGHTHS = " ▏▎▍▌▋▊▉"
LOW_METER = 0.2
MID_METER = 0.5
CHOSEN = "▶"
MASKED = "✗"


def affordance_style(world: World, name: str) -> str:
    """The colour of an affordance: fixed by its place in the hello, so it never changes."""
    names = list(world.symbols)
    index = names.index(name) if name in names else sum(map(ord, name))
    return f"bold {PALETTE[index % len(PALETTE)]}"


def affordance_symbol(world: World, name: str) -> str:
    """The symbol the hello gives an affordance (its first letter if the hello has none)."""
    return world.symbols.get(name) or name[:1]


def grid_text(world: World, episode: Episode, step: Step) -> Text:
    """The town from above: affordances by symbol, the agent ``@`` on top, dots elsewhere.

    Cells are one character with a space between, which looks square in a terminal. Runs of
    cells in the same style share one span: fewer spans make the widget cheaper to draw.
    """
    placed = {cell: name for name, cell in episode.affordances.items()}
    text = Text(no_wrap=True)
    for y in range(world.grid_size):
        if y:
            text.append("\n")
        cells = [_cell(world, placed, (x, y), step.position) for x in range(world.grid_size)]
        for i, (style, run) in enumerate(groupby(cells, key=itemgetter(1))):
            if i:
                text.append(" ")
            text.append(" ".join(char for char, _ in run), style)
    return text


def _cell(
    world: World, placed: dict[tuple[int, int], str], cell: tuple[int, int], agent: tuple[int, int]
) -> tuple[str, str]:
    """Character and style of one grid cell."""
    if cell == agent:
        return AGENT, AGENT_STYLE
    if cell in placed:
        name = placed[cell]
        return affordance_symbol(world, name), affordance_style(world, name)
    return EMPTY, EMPTY_STYLE


def legend_entry_width(world: World) -> int:
    """Characters of the widest legend entry, ``S  name``."""
    return 3 + max(map(len, ["agent", *world.symbols]))


def legend_text(world: World, episode: Episode, columns: int = 1) -> Text:
    """``symbol  name`` for the agent and each placed affordance (hello order), down
    ``columns`` columns (a short terminal gets several, so the town stays low)."""
    placed = episode.affordances
    order = [name for name in world.symbols if name in placed]
    order += sorted(name for name in placed if name not in world.symbols)
    entries = [(AGENT, AGENT_STYLE, "agent")]
    entries += [(affordance_symbol(world, n), affordance_style(world, n), n) for n in order]
    rows = -(-len(entries) // max(columns, 1))
    width = max(legend_entry_width(world), *(3 + len(name) for *_, name in entries))
    text = Text(no_wrap=True)
    for row in range(rows):
        if row:
            text.append("\n")
        line = entries[row::rows]
        for i, (symbol, style, name) in enumerate(line):
            text.append(symbol, style)
            last = i == len(line) - 1
            text.append(f"  {name}" if last else f"  {name}".ljust(width))
    return text


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar ``width`` cells wide, filled to ``fraction`` in eighths of a cell."""
    fraction = min(max(fraction, 0.0), 1.0)
    full, part = divmod(round(fraction * width * 8), 8)
    return ("█" * full + (EIGHTHS[part] if part else "")).ljust(width)


def meter_style(value: float) -> str:
    """Red below ``LOW_METER`` (the agent is in danger), yellow below half, green above."""
    if value < LOW_METER:
        return "bold red"
    if value < MID_METER:
        return "yellow"
    return "green"


def meters_width(world: World) -> int:
    """Characters in a row of :func:`meters_text`."""
    return max(map(len, world.meters), default=0) + 1 + BAR_WIDTH + 6


def meters_text(world: World, step: Step) -> Text:
    """One row per meter: name, bar, value with two decimals."""
    width = max(map(len, world.meters), default=0)
    text = Text(no_wrap=True)
    for i, (name, value) in enumerate(zip(world.meters, step.meters, strict=False)):
        if i:
            text.append("\n")
        style = meter_style(value)
        text.append(f"{name:<{width}} ", style if value < LOW_METER else "")
        text.append(bar(value), f"{style} {BAR_TRACK}")
        text.append(f" {value:5.2f}", style)
    return text


def q_width(world: World) -> int:
    """Characters in the widest row of :func:`q_text` (one with a note after the number)."""
    return 2 + max(map(len, world.actions), default=0) + 1 + BAR_WIDTH + 10 + len(" explore")


def q_scale(q_values: Sequence[float], mask: Sequence[bool]) -> tuple[float, float]:
    """Lowest and highest Q-value of the actions the agent could take (all, if none could)."""
    valid = [q for q, ok in zip(q_values, mask, strict=False) if ok] or list(q_values)
    return (min(valid), max(valid)) if valid else (0.0, 0.0)


def q_text(world: World, step: Step) -> Text:
    """One row per action: marker, name, bar scaled over the valid Q-values, the number.

    The chosen action is bold with ``▶`` (and ``explore`` when it was not the best valid
    one); masked actions are dim, ``✗`` and ``masked``.
    """
    low, high = q_scale(step.q_values, step.action_mask)
    width = max(map(len, world.actions), default=0)
    text = Text(no_wrap=True)
    for i, (name, q) in enumerate(zip(world.actions, step.q_values, strict=False)):
        if i:
            text.append("\n")
        allowed = step.action_mask[i] if i < len(step.action_mask) else True
        fraction = (q - low) / (high - low) if high > low else 1.0
        _q_row(text, name.ljust(width), q, fraction, chosen=i == step.action, allowed=allowed)
    return text


def _q_row(
    text: Text, name: str, q: float, fraction: float, *, chosen: bool, allowed: bool
) -> None:
    """Append one action's row to ``text``."""
    if not allowed:
        text.append(f"{MASKED} {name} ", "dim")
        text.append(bar(0.0), f"dim {BAR_TRACK}")
        text.append(f" {q:+9.3f} masked", "dim")
        if chosen:
            text.append(f" {CHOSEN} chosen", "bold red")
        return
    if chosen:
        text.append(f"{CHOSEN} {name} ", "bold bright_white")
        text.append(bar(fraction), f"bold bright_yellow {BAR_TRACK}")
        text.append(f" {q:+9.3f}", "bold bright_yellow")
        if fraction < 1.0:
            text.append(" explore", "italic")  # not the greedy choice: ε at work
        return
    text.append(f"  {name} ")
    text.append(bar(fraction), f"cyan {BAR_TRACK}")
    text.append(f" {q:+9.3f}")
