"""The viewer's own widgets: the survival chart, and a line drawn for its width."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.widget import Widget
from textual.widgets import Static

from .chart import survival_chart


class SurvivalChart(Widget):
    """The survival chart, drawn to whatever size the layout gives it."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.training: list[tuple[int, int]] = []
        self.evaluations: list[tuple[int, float]] = []
        self.cap = 1

    def show(
        self, training: list[tuple[int, int]], evaluations: list[tuple[int, float]], cap: int
    ) -> None:
        self.training, self.evaluations, self.cap = training, evaluations, cap
        self.refresh()

    def render(self) -> Text:
        return survival_chart(
            self.training, self.evaluations, self.cap, self.size.width, self.size.height
        )


class FittedLine(Static):
    """A line whose text is drawn for its width (the status line, the training figures):
    given ``draw(width)``, it draws again whenever its width changes."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self._draw: Callable[[int | None], Text] | None = None
        self._drawn: Text | None = None

    def fit(self, draw: Callable[[int | None], Text]) -> None:
        """Show ``draw``'s text for the width this line has (any, before it has one)."""
        self._draw = draw
        self._redraw()

    def on_resize(self) -> None:
        self._redraw()

    def _redraw(self) -> None:
        if self._draw is None:
            return
        text = self._draw(self.content_size.width or None)
        if text != self._drawn:  # between steps the status often stays put
            self._drawn = text
            self.update(text, layout=False)  # always one line
