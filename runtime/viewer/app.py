"""The terminal viewer: watch an agent live its episodes in the town, step by step.

A worker reads the message source (``hello``, ``episode``, ``stats``, ``end`` from the
stream contract, plus local ``connection`` notes) while a timer plays the episodes back.
Widgets are built once and only ``update()``d, so playing at hundreds of steps per
second costs a few small texts per frame.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterable
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.geometry import Size
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Footer, Header, Static

from .controls import PlaybackControls
from .layout import Layout, plan_layout
from .model import Episode, World, evaluation_points
from .panels import (
    StatusLine,
    info_line,
    info_text,
    stats_text,
    status_text,
    trend_text,
)
from .playback import Playback, clamp_speed
from .render import grid_text, legend_text, meters_text, q_text
from .widgets import FittedLine, SurvivalChart

TREND_LENGTH = 400  # episodes the survival chart keeps: one a column, wider than any screen
CONNECTION_STATES = ("connecting", "connected", "lost", "closed")
PANEL_TITLES = {
    "town": "Town",
    "info": "Episode",
    "meters": "Meters",
    "qvalues": "Q-values",
    "trend-panel": "Survival",
}
WAITING = "waiting for the first episode…"
PLACEHOLDER = World(
    grid_size=8,
    meters=tuple(f"meter {i}" for i in range(8)),
    actions=("INTERACT",) * 6,
    symbols={},
    temporal=False,
    max_steps=1,
    stages=1,
)
"""The world laid out for until the source says which it is: the size of most packs'."""
LAID_OUT = ("body", "town", "middle", "legend", "info", "info-line", "trend-panel")


class ViewerApp(PlaybackControls, App[None]):
    """Plays the episodes of a message source; keys pause, step, skip and change speed.

    ``live`` keeps at most three episodes waiting and skips older ones, so students see
    what the agent does now; replays pass ``live=False`` to see every episode. ``paused``
    starts with playback stopped (``s`` steps), which makes screenshots repeatable.
    """

    CSS_PATH = "viewer.tcss"
    TITLE = "HAMLET"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_play", "Play/pause"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("s", "single_step", "Step"),
        Binding("n", "next_episode", "Next episode"),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        source: AsyncIterable[dict[str, Any]],
        *,
        speed: float = 10.0,
        live: bool = True,
        title: str | None = None,
        paused: bool = False,
    ) -> None:
        super().__init__()
        self._source = source
        self._speed = clamp_speed(speed)
        self._playing = not paused
        self._playback = Playback(live=live)
        self._world: World | None = None
        self._stats: dict[str, Any] | None = None
        self._survivals: deque[tuple[int, int]] = deque(maxlen=TREND_LENGTH)
        self._evaluations: list[tuple[int, float]] = []
        self._layout: Layout | None = None
        self._connection = "connecting"
        self._detail = ""
        self._retrying = False
        self._notice = ""
        self._finished = False
        self._end_reason: str | None = None
        self._timer: Timer | None = None
        self._interval = 1.0
        self._carry = 0.0
        self._drawn_episode: Episode | None = None
        self._widgets: dict[str, Static] = {}
        self._boxes: dict[str, Widget] = {}
        """What :meth:`_apply_layout` sizes and shows, found once at mount."""
        self._chart = SurvivalChart(id="trend")
        self._stats_line = FittedLine(id="stats")
        self._caption = FittedLine(id="trend-caption")
        self._info_line = FittedLine(id="info-line")
        self._status_line = FittedLine(id="status")
        self._shown: dict[str, Text] = {}
        if title:
            self.title = title

    # state the tests and the command line read

    @property
    def playing(self) -> bool:
        """Whether the timer advances steps."""
        return self._playing

    @property
    def speed(self) -> float:
        """Playback speed in steps per second."""
        return self._speed

    @property
    def episode(self) -> dict[str, Any] | None:
        """The ``episode`` message on screen, or None before the first one."""
        current = self._playback.episode
        return None if current is None else current.message

    @property
    def step_index(self) -> int:
        """Index of the step on screen within the current episode."""
        return self._playback.step_index

    @property
    def queued(self) -> int:
        """Episodes received and waiting their turn."""
        return len(self._playback.queue)

    @property
    def skipped(self) -> int:
        """Episodes this viewer left out to keep up (live mode only)."""
        return self._playback.skipped

    @property
    def world(self) -> World | None:
        """The world of the latest ``hello`` (or guessed from an episode)."""
        return self._world

    @property
    def connection(self) -> str:
        """``connecting``, ``connected``, ``lost`` or ``closed``."""
        return self._connection

    @property
    def evaluations(self) -> list[tuple[int, float]]:
        """``(episode, mean survival)`` of the greedy evaluations the latest stats gave."""
        return list(self._evaluations)

    @property
    def finished(self) -> bool:
        """Whether the source has no more episodes to give."""
        return self._finished

    # layout

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="town", classes="panel"):
                yield Static(WAITING, id="grid")
                yield Static(id="legend")
            with Vertical(id="middle"):
                yield Static(id="meters", classes="panel")
                yield Static(id="qvalues", classes="panel")
            yield Static(id="info", classes="panel")
        with Vertical(id="trend-panel", classes="panel"):
            yield self._chart
            yield self._caption
            yield self._stats_line
        yield self._info_line
        yield self._status_line
        yield Footer()

    def on_mount(self) -> None:
        for widget_id, title in PANEL_TITLES.items():
            self.query_one(f"#{widget_id}").border_title = title
        for widget in self.query(Static):
            if widget.id:
                self._widgets[widget.id] = widget
        self._boxes = {name: self.query_one(f"#{name}") for name in LAID_OUT}
        self._boxes["header"] = self.query_one(Header)
        self._apply_layout()
        self._restart_timer()
        self._draw_trend()
        self._draw_status()
        self._consume()

    # the source

    @work(exclusive=True, group="source")
    async def _consume(self) -> None:
        """Read every message of the source; a failing source shows in the status line."""
        try:
            async for message in self._source:
                self.receive(message)
        except Exception as error:
            # a broken connection must not close the window students are watching
            self.log.error(f"viewer source failed: {error!r}")
            self._connection, self._detail = "lost", f"{type(error).__name__}: {error}"
        self._finished = True
        if self._connection in ("connecting", "connected"):
            self._connection = "closed"
        self._draw_trend()
        self._draw_status()

    def receive(self, message: dict[str, Any]) -> None:
        """Take one message (on the app's event loop, as the source worker does).

        Unknown types are ignored, so a newer source still plays in an older viewer.
        """
        handler = {
            "hello": self._on_hello,
            "episode": self._on_episode,
            "stats": self._on_stats,
            "end": self._on_end,
            "connection": self._on_connection,
        }.get(message.get("type", ""))
        if handler is not None:
            handler(message)
            self._draw_status()

    def _on_hello(self, message: dict[str, Any]) -> None:
        world = World.from_hello(message)
        self._set_world(world)
        self._name_source()
        if self._connection == "connecting":
            self._connection = "connected"
        self._drawn_episode = None
        self._draw_step()
        self._draw_trend()  # what to expect of training figures depends on the source

    def _on_episode(self, message: dict[str, Any]) -> None:
        episode = Episode(message)
        if self._world is None:
            self._set_world(World.infer(message))
        self._survivals.append((episode.number, episode.survival))
        self._draw_trend()
        if self._playback.add(episode):
            self._draw_step()

    def _on_stats(self, message: dict[str, Any]) -> None:
        self._stats = message
        self._evaluations = evaluation_points(message)
        self._stats_line.fit(lambda width: stats_text(message, width=width))
        self._draw_trend()

    def _on_end(self, message: dict[str, Any]) -> None:
        self._finished = True
        self._end_reason = str(message.get("reason", "")) or None
        self._name_source()
        self._draw_trend()

    def _name_source(self) -> None:
        """The header's second part: what is shown (``training``, ``replay``, ...) and in
        which pack; a training that has ended is no longer called ``training``."""
        if self._world is None:
            return
        source = self._world.source
        if source == "training" and self._finished:
            source = "training ended"
        self.sub_title = " · ".join(filter(None, (source, self._world.pack)))

    def _on_connection(self, message: dict[str, Any]) -> None:
        state = str(message.get("state", ""))
        if state in CONNECTION_STATES:
            self._connection, self._detail = state, str(message.get("detail", ""))
            self._retrying = self._retrying or state == "lost"

    def _set_world(self, world: World) -> None:
        """Adopt a world, and fit the panels to it and to the terminal."""
        self._world = world
        self._apply_layout()

    def on_resize(self, event: events.Resize) -> None:
        # (this runs before Textual's own handler takes the new size: self.size is the old)
        self._apply_layout(event.size)

    def _apply_layout(self, size: Size | None = None) -> None:
        """Size and show the panels as :func:`.layout.plan_layout` says for this terminal
        (the town to its grid, the bars to the longest names, the rest to what is left)."""
        width, height = size or self.size
        layout = plan_layout(self._world or PLACEHOLDER, width, height)
        if layout == self._layout or not self._boxes:  # not mounted yet: on_mount lays out
            return
        old, self._layout = self._layout, layout
        box = self._boxes
        box["body"].styles.height = layout.body_height
        box["town"].styles.width = layout.town_width
        box["middle"].styles.width = layout.middle_width
        box["legend"].styles.margin = (layout.legend_gap, 0, 0, 0)
        box["info"].display = layout.info_panel
        box["info-line"].display = not layout.info_panel
        box["header"].display = layout.header
        panel = box["trend-panel"]
        panel.set_class(not layout.chart, "-collapsed")
        panel.styles.height = "1fr" if layout.chart else layout.trend_height
        panel.display = layout.trend_height > 0
        if old is None or (old.legend_columns, old.info_panel) != (
            layout.legend_columns,
            layout.info_panel,
        ):
            self._drawn_episode = None  # the legend and the episode figures move
            self._draw_step()

    # drawing

    def _draw_step(self) -> None:
        """Redraw the grid, meters, Q-values and episode panel for the step on screen.

        Within an episode every panel keeps its size, so only a new episode (or world)
        pays for a layout pass; a step just repaints.
        """
        episode, world = self._playback.episode, self._world
        if episode is None or world is None:
            return
        step = episode.step(self._playback.step_index)
        layout = episode is not self._drawn_episode
        columns = self._layout.legend_columns if self._layout else 1
        if layout:
            self._drawn_episode = episode
            self._show("legend", legend_text(world, episode, columns))
        self._show("grid", grid_text(world, episode, step), layout=layout)
        self._show("meters", meters_text(world, step), layout=layout)
        self._show("qvalues", q_text(world, step), layout=layout)
        if self._layout is None or self._layout.info_panel:
            self._show("info", info_text(world, episode, step), layout=layout)
        else:
            self._info_line.fit(lambda width: info_line(world, episode, step, width))

    def _show(self, widget_id: str, text: Text, layout: bool = True) -> None:
        """Put ``text`` in a widget, unless it already shows exactly that: every update
        costs Textual a repaint, and between steps the grid and status often stay put."""
        if self._shown.get(widget_id) == text:
            return
        self._shown[widget_id] = text
        self._widgets[widget_id].update(text, layout=layout)

    def _draw_trend(self) -> None:
        max_steps = self._world.max_steps if self._world else 1
        training = list(self._survivals)
        self._chart.show(training, self._evaluations, max_steps)
        evaluation = self._evaluations[-1] if self._evaluations else None
        survivals = [s for _, s in training]
        self._caption.fit(lambda width: trend_text(survivals, max_steps, evaluation, width))
        if self._stats is None:
            training_source = self._world is not None and self._world.source == "training"
            note = stats_text(None, training_source, self._finished)
            self._stats_line.fit(lambda width: note)

    def _draw_status(self) -> None:
        dropped = self._stats["dropped"] if self._stats else {}
        status = StatusLine(
            connection=self._connection,
            detail=self._detail,
            playing=self._playing,
            speed=self._speed,
            queued=self.queued,
            stream_dropped=int(dropped.get("queue", 0)) + int(dropped.get("viewer", 0)),
            skipped=self.skipped,
            finished=self._finished,
            end_reason=self._end_reason,
            showing=self._playback.episode is not None,
            at_end=self._caught_up(),
            retrying=self._retrying,
            notice=self._notice,
        )
        self._status_line.fit(lambda width: status_text(status, width))
