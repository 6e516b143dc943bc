"""Episodes as pictures to keep: each step a frame, the episode a GIF (or an MP4).

A frame shows what the terminal viewer shows, in its colours: the town with its lettered
affordances and the agent, the meter bars, the Q-values as bars with the chosen action
marked, and a line with the episode, step, reward, epsilon, stage, clock and action.
Frames are drawn with Pillow (the ``pictures`` extra) on a fixed palette, so a GIF needs
no colour quantization and a 500-step episode takes a few seconds (tools/bench/render.py).
What does not change within an episode (the town, the legend, the names) is drawn once
and copied for every step.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from rich.color import Color

from hamlet.runtime.experiments.extras import require
from hamlet.runtime.files import refused_writes, storage_error, write_atomically

from .model import Episode, Step, World
from .render import (
    AGENT,
    LOW_METER,
    MID_METER,
    PALETTE,
    affordance_symbol,
    q_scale,
)

CELL = 24
MARGIN = 12
ROW = 18
BAR = 150
FONT_SIZE = 13
TITLE_HEIGHT = 28
FPS = 10

# named colours of the terminal viewer (render.py); their RGB as Rich defines it
COLOURS = {
    "background": (18, 18, 18),
    "text": (230, 230, 230),
    "dim": (128, 128, 128),
    "track": (48, 48, 48),
    "dot": (90, 90, 90),
    "agent": Color.parse("bright_yellow").get_truecolor(),
    "agent_text": (0, 0, 0),
    "good": Color.parse("green").get_truecolor(),
    "mid": Color.parse("yellow").get_truecolor(),
    "low": Color.parse("red").get_truecolor(),
    "q": Color.parse("cyan").get_truecolor(),
    "chosen": Color.parse("bright_yellow").get_truecolor(),
}
NAMES = [*COLOURS, *PALETTE]
INDEX = {name: i for i, name in enumerate(NAMES)}


def _palette() -> list[int]:
    """The frames' palette: the named colours, then the affordances' (``render.PALETTE``)."""
    rgb = [*COLOURS.values(), *(Color.parse(name).get_truecolor() for name in PALETTE)]
    return [channel for colour in rgb for channel in colour]


def pillow() -> tuple[ModuleType, ModuleType, ModuleType]:
    """Pillow's Image, ImageDraw and ImageFont, or E303 naming the extra that installs it."""
    require("PIL", "pictures", "drawing episodes as pictures", "--gif")
    from PIL import Image, ImageDraw, ImageFont

    return Image, ImageDraw, ImageFont


@cache
def _font() -> Any:
    _, _, image_font = pillow()
    return image_font.load_default(size=FONT_SIZE)


class FramePainter:
    """Draws the steps of one world's episodes; ``frame(episode, index)`` is a Pillow
    image in palette mode, every frame of a world the same size."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.image, self.draw, _ = pillow()
        self.font = _font()
        grid = world.grid_size * CELL
        self.grid_origin = (MARGIN, TITLE_HEIGHT + MARGIN)
        self.bars_x = MARGIN + grid + 2 * MARGIN
        name_width = max((len(n) for n in (*world.meters, *world.actions)), default=4)
        self.bar_x = self.bars_x + 16 + 8 * name_width
        self.meters_y = self.grid_origin[1]
        self.q_y = self.meters_y + (len(world.meters) + 1) * ROW
        legend_rows = -(-(1 + len(world.symbols)) // 2)
        self.legend_y = self.grid_origin[1] + grid + MARGIN
        height = max(self.legend_y + legend_rows * ROW, self.q_y + len(world.actions) * ROW)
        width, height = self.bar_x + BAR + 110, height + MARGIN
        self.size = (width + width % 2, height + height % 2)  # even sides, as H.264 wants
        self._base: tuple[int, Any] | None = None

    def frame(self, episode: Episode, index: int) -> Any:
        """The picture of step ``index`` of ``episode``."""
        base = self._episode_base(episode)
        image = base.copy()
        draw = self._drawer(image)
        step = episode.step(index)
        self._agent(draw, step)
        self._meters(draw, step)
        self._q_values(draw, step)
        self._title(draw, episode, step)
        return image

    def frames(self, episode: Episode) -> Iterator[Any]:
        for index in range(episode.length):
            yield self.frame(episode, index)

    # what stays put during an episode

    def _episode_base(self, episode: Episode) -> Any:
        if self._base is not None and self._base[0] == id(episode):
            return self._base[1]
        image = self.image.new("P", self.size, INDEX["background"])
        image.putpalette(_palette())
        draw = self._drawer(image)
        placed = {cell: name for name, cell in episode.affordances.items()}
        for y in range(self.world.grid_size):
            for x in range(self.world.grid_size):
                name = placed.get((x, y))
                if name is None:
                    cx, cy = self._cell_centre((x, y))
                    draw.rectangle((cx - 1, cy - 1, cx + 1, cy + 1), fill=INDEX["dot"])
                else:
                    self._letter(draw, (x, y), affordance_symbol(self.world, name), name)
        self._legend(draw, episode)
        for i, name in enumerate(self.world.meters):
            draw.text((self.bars_x + 12, self.meters_y + i * ROW), name, INDEX["text"], self.font)
        for i, name in enumerate(self.world.actions):
            draw.text((self.bars_x + 12, self.q_y + i * ROW), name, INDEX["text"], self.font)
        self._base = (id(episode), image)
        return image

    def _legend(self, draw: Any, episode: Episode) -> None:
        order = [name for name in self.world.symbols if name in episode.affordances]
        entries = [(AGENT, "agent", "agent")]
        entries += [(affordance_symbol(self.world, n), n, n) for n in order]
        rows = -(-len(entries) // 2)
        column_width = (self.world.grid_size * CELL) // 2 + MARGIN
        for i, (symbol, name, colour) in enumerate(entries):
            x = MARGIN + (i // rows) * column_width
            y = self.legend_y + (i % rows) * ROW
            draw.text((x, y), symbol, self._colour_of(colour), self.font)
            draw.text((x + 16, y), name, INDEX["text"], self.font)

    # what changes every step

    def _agent(self, draw: Any, step: Step) -> None:
        x, y = self._cell_corner(step.position)
        draw.rectangle((x + 2, y + 2, x + CELL - 3, y + CELL - 3), fill=INDEX["agent"])
        self._centred(draw, step.position, AGENT, INDEX["agent_text"])

    def _meters(self, draw: Any, step: Step) -> None:
        for i, value in enumerate(step.meters):
            y = self.meters_y + i * ROW
            colour = "low" if value < LOW_METER else "mid" if value < MID_METER else "good"
            self._bar(draw, y, value, INDEX[colour])
            draw.text((self.bar_x + BAR + 8, y), f"{value:5.2f}", INDEX[colour], self.font)

    def _q_values(self, draw: Any, step: Step) -> None:
        low, high = q_scale(step.q_values, step.action_mask)
        for i, q in enumerate(step.q_values):
            y = self.q_y + i * ROW
            allowed = step.action_mask[i] if i < len(step.action_mask) else True
            chosen = i == step.action
            fraction = (q - low) / (high - low) if high > low else 1.0
            colour = INDEX["chosen" if chosen else "q" if allowed else "dim"]
            self._bar(draw, y, fraction if allowed else 0.0, colour)
            note = "" if allowed else " masked"
            if chosen and allowed and fraction < 1.0:
                note = " explore"  # not the greedy choice: epsilon at work
            draw.text((self.bar_x + BAR + 8, y), f"{q:+.3f}{note}", colour, self.font)
            if chosen:  # ▶, drawn: the default font has no such glyph
                x, mid = self.bars_x, y + ROW // 2
                draw.polygon([(x, mid - 5), (x, mid + 5), (x + 8, mid)], fill=INDEX["chosen"])

    def _title(self, draw: Any, episode: Episode, step: Step) -> None:
        message, world = episode.message, self.world
        parts = [
            f"Episode {episode.number}",
            f"step {step.index + 1}/{episode.length}",
            f"reward {step.cumulative_reward:+.2f}",
            f"epsilon {step.epsilon:.2f}",  # the default font has no Greek
            f"stage {message['stage']}/{world.stages}",
        ]
        if step.time_of_day is not None:
            parts.append(f"{step.time_of_day:02d}:00")
        if 0 <= step.action < len(world.actions):
            parts.append(world.actions[step.action])
        if step.index == episode.last_index:
            parts.append(str(message["outcome"]).replace("_", " "))
        draw.text((MARGIN, MARGIN // 2), "  ·  ".join(parts), INDEX["text"], self.font)

    # helpers

    def _drawer(self, image: Any) -> Any:
        draw = self.draw.Draw(image)
        draw.fontmode = "1"  # no anti-aliasing: palette indices must not be blended
        return draw

    def _bar(self, draw: Any, y: int, fraction: float, colour: int) -> None:
        top, bottom = y + 3, y + ROW - 4
        draw.rectangle((self.bar_x, top, self.bar_x + BAR - 1, bottom), fill=INDEX["track"])
        filled = round(min(max(fraction, 0.0), 1.0) * BAR)
        if filled:
            draw.rectangle((self.bar_x, top, self.bar_x + filled - 1, bottom), fill=colour)

    def _cell_corner(self, cell: tuple[int, int]) -> tuple[int, int]:
        return self.grid_origin[0] + cell[0] * CELL, self.grid_origin[1] + cell[1] * CELL

    def _cell_centre(self, cell: tuple[int, int]) -> tuple[int, int]:
        x, y = self._cell_corner(cell)
        return x + CELL // 2, y + CELL // 2

    def _centred(self, draw: Any, cell: tuple[int, int], text: str, colour: int) -> None:
        draw.text(self._cell_centre(cell), text, colour, self.font, anchor="mm")

    def _letter(self, draw: Any, cell: tuple[int, int], symbol: str, name: str) -> None:
        x, y = self._cell_corner(cell)
        colour = self._colour_of(name)
        draw.rectangle((x + 2, y + 2, x + CELL - 3, y + CELL - 3), outline=colour)
        self._centred(draw, cell, symbol, colour)

    def _colour_of(self, name: str) -> int:
        """An affordance's palette index (as ``render.affordance_style``); the agent's."""
        if name == "agent":
            return INDEX["agent"]
        names = list(self.world.symbols)
        index = names.index(name) if name in names else sum(map(ord, name))
        return INDEX[PALETTE[index % len(PALETTE)]]


def save_animation(
    world: World, episode: Episode, path: str | Path, *, fps: float = FPS, video: bool = False
) -> int:
    """Write ``episode`` to ``path`` as a GIF, or with ``video`` an MP4 (H.264, the
    ``video`` extra); returns the number of frames."""
    path = Path(path)
    if path.exists() and not path.is_file():  # a folder, or a device such as /dev/null
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise storage_error(path, f"it is {kind}", "give the name of a new file, e.g. episode.gif")
    painter = FramePainter(world)
    frames = list(painter.frames(episode))
    if not frames:
        return 0
    if video:
        _save_mp4(frames, path, fps)
    else:
        duration = round(1000 / fps)

        def write(handle: Any) -> None:
            frames[0].save(
                handle, format="GIF", save_all=True, append_images=frames[1:],
                duration=duration, loop=0, optimize=False,
            )  # fmt: skip

        write_atomically(path, write)
    return len(frames)


def _save_mp4(frames: Sequence[Any], path: Path, fps: float) -> None:
    """H.264 through imageio's ffmpeg (the ``video`` extra: its wheel carries ffmpeg)."""
    ffmpeg = require("imageio_ffmpeg", "video", "writing episodes as MP4", "--mp4")
    with refused_writes(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = ffmpeg.write_frames(
            str(path), frames[0].size, fps=fps, codec="libx264", macro_block_size=1,
            pix_fmt_in="rgb24", quality=8, ffmpeg_log_level="error",
        )  # fmt: skip
        writer.send(None)  # the generator starts ffmpeg
        for frame in frames:
            writer.send(frame.convert("RGB").tobytes())
        writer.close()
