"""Which step of which episode is on screen, and what comes next.

Kept free of Textual so that the rules students rely on (live mode shows what the agent
does *now*; a replay shows everything) are plain Python, tested without a terminal.
"""

from __future__ import annotations

from collections import deque

from .model import Episode

MIN_SPEED = 0.5
MAX_SPEED = 1000.0
LIVE_QUEUE = 3


def clamp_speed(speed: float) -> float:
    """Keep a playback speed (steps per second) within what the keys may reach."""
    return min(max(float(speed), MIN_SPEED), MAX_SPEED)


class Playback:
    """The current episode, the step shown, and the episodes waiting their turn.

    In live mode at most ``limit`` episodes wait; a newer one pushes the oldest out and
    it counts as ``skipped``, so a slow viewer never drifts minutes behind the trainer.
    Without live mode (replays) every episode waits its turn.
    """

    def __init__(self, *, live: bool = True, limit: int = LIVE_QUEUE) -> None:
        self.live = live
        self.limit = limit
        self.episode: Episode | None = None
        self.step_index = 0
        self.queue: deque[Episode] = deque()
        self.skipped = 0

    @property
    def at_last_step(self) -> bool:
        """Whether the final step of the current episode is shown (or nothing is)."""
        return self.episode is None or self.step_index >= self.episode.last_index

    def add(self, episode: Episode) -> bool:
        """Receive an episode; returns whether it went straight on screen.

        Empty episodes (survival 0) have no step to show and are left out.
        """
        if episode.length == 0:
            return False
        if self.episode is None:
            self._show(episode)
            return True
        self.queue.append(episode)
        while self.live and len(self.queue) > self.limit:
            self.queue.popleft()
            self.skipped += 1
        return False

    def advance(self) -> bool:
        """Move one step on, into the next queued episode after the last step.

        Returns whether anything moved; at the end with nothing queued it waits.
        """
        if self.episode is None:
            return False
        if not self.at_last_step:
            self.step_index += 1
            return True
        if self.queue:
            self._show(self.queue.popleft())
            return True
        return False

    def next_episode(self) -> bool:
        """Jump to the start of the next queued episode (live: the newest; older ones count
        as skipped). Returns whether there was one."""
        if not self.queue:
            return False
        if self.live:
            self.skipped += len(self.queue) - 1
            episode = self.queue.pop()
            self.queue.clear()
        else:
            episode = self.queue.popleft()
        self._show(episode)
        return True

    def _show(self, episode: Episode) -> None:
        self.episode = episode
        self.step_index = 0
