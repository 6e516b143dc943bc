"""The viewer's keys and its step timer: play, pause, step, skip and change speed.

:class:`~.app.ViewerApp` takes these methods from :class:`PlaybackControls`, so that the
app module reads as the screen and its messages. A key that cannot act says why in the
status line instead of doing nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.timer import Timer

from .playback import MAX_SPEED, MIN_SPEED, Playback, clamp_speed

FRAME_RATE = 30.0  # redraws per second at most; faster speeds move several steps a frame


class PlaybackControls:
    """The timer that plays steps back and the key actions, over the parts below."""

    _playback: Playback
    _playing: bool
    _speed: float
    _finished: bool
    _notice: str
    _timer: Timer | None
    _interval: float
    _carry: float
    set_interval: Callable[..., Timer]
    """(these three are the app's: a repeating timer, and redrawing the step and the
    status line)"""
    _draw_step: Callable[[], None]
    _draw_status: Callable[[], None]

    def _restart_timer(self) -> None:
        """(Re)start the step timer at the current speed, capped at ``FRAME_RATE`` ticks."""
        if self._timer is not None:
            self._timer.stop()
        self._carry = 0.0
        self._interval = max(1.0 / self._speed, 1.0 / FRAME_RATE)
        self._timer = self.set_interval(self._interval, self._tick, pause=not self._playing)

    def _tick(self) -> None:
        """Advance as many steps as the speed asks for since the last tick, then redraw."""
        self._carry += self._speed * self._interval
        steps = int(self._carry + 1e-9)  # speed × (1 / speed) may come out a hair below 1
        self._carry -= steps
        moved = False
        for _ in range(steps):
            moved = self._playback.advance() or moved
        if moved:
            self._draw_step()
            self._draw_status()

    def _set_playing(self, playing: bool) -> None:
        self._playing = playing
        if self._timer is not None:
            (self._timer.resume if playing else self._timer.pause)()
        self._draw_status()

    def _set_speed(self, speed: float) -> None:
        self._speed = clamp_speed(speed)
        self._restart_timer()
        self._draw_status()

    def _refuse(self, notice: str) -> None:
        """A key that cannot act says why, in the status line, until the next key."""
        self._notice = notice
        self._draw_status()

    def _nothing_waiting(self) -> str:
        return "the stream has ended" if self._finished else "the next has not arrived yet"

    def action_toggle_play(self) -> None:
        """Pause or resume playback."""
        self._notice = ""
        if not self._playing and self._finished and self._caught_up():
            self._refuse("space: nothing left to play, the stream has ended")
            return
        self._set_playing(not self._playing)

    def action_faster(self) -> None:
        """Double the speed (up to 1000 steps/s)."""
        self._notice = ""
        if self._speed >= MAX_SPEED:
            self._refuse(f"+: already at the top speed, {MAX_SPEED:g} steps/s")
            return
        self._set_speed(self._speed * 2)

    def action_slower(self) -> None:
        """Halve the speed (down to 0.5 steps/s)."""
        self._notice = ""
        if self._speed <= MIN_SPEED:
            self._refuse(f"-: already at the lowest speed, {MIN_SPEED:g} steps/s")
            return
        self._set_speed(self._speed / 2)

    def action_single_step(self) -> None:
        """Pause, then show exactly the next step (the next episode's first, at the end)."""
        self._notice = ""
        self._set_playing(False)
        if self._playback.advance():
            self._draw_step()
            self._draw_status()
        elif self._playback.episode is None:
            self._refuse("s: no episode yet to step through")
        else:
            self._refuse(f"s: this is the episode's last step; {self._nothing_waiting()}")

    def action_next_episode(self) -> None:
        """Jump to the start of the next queued episode (live: the newest)."""
        self._notice = ""
        if self._playback.next_episode():
            self._draw_step()
            self._draw_status()
        else:
            self._refuse(f"n: no episode is waiting; {self._nothing_waiting()}")

    def _caught_up(self) -> bool:
        """The last step of the last episode is on screen, and nothing waits."""
        return self._playback.at_last_step and not self._playback.queue
