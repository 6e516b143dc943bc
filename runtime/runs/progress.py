"""The live status line of ``hamlet run``: what training is doing, right now.

On a terminal one line is redrawn at most four times a second; elsewhere (a log, CI)
a full line is printed every ``interval`` seconds.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import deque
from typing import TextIO

from hamlet.runtime.learning.trainer import Episode, Trainer


class Progress:
    """Prints episodes, agent-steps/s, survival, reward, epsilon, stage and loss."""

    def __init__(self, total: int, stream: TextIO | None = None, interval: float = 10.0) -> None:
        self.total = total
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval = 0.25 if self.live else interval
        self.recent: deque[Episode] = deque(maxlen=50)
        self.started = time.perf_counter()
        self.start_steps: int | None = None
        self.last_print = 0.0

    def __call__(self, trainer: Trainer, episodes: list[Episode]) -> None:
        self.recent.extend(episodes)
        now = time.perf_counter()
        if self.start_steps is None:
            self.start_steps = trainer.env_steps
            self.started = now
        if now - self.last_print >= self.interval or trainer.episodes_done >= self.total:
            self.last_print = now
            self.show(trainer, now)

    def line(self, trainer: Trainer, now: float) -> str:
        steps = (trainer.env_steps - (self.start_steps or 0)) * trainer.num_agents
        rate = steps / max(now - self.started, 1e-9)
        survival = statistics.fmean(e.steps for e in self.recent) if self.recent else 0.0
        reward = statistics.fmean(e.reward for e in self.recent) if self.recent else 0.0
        loss = trainer.last_stats.get("loss")
        stage = trainer.curriculum
        return (
            f"episode {trainer.episodes_done}/{self.total} | {rate:,.0f} agent-steps/s | "
            f"survival {survival:.0f} | reward {reward:.1f} | eps {trainer.epsilon.value:.3f} | "
            f"stage {stage.stage} {stage.stage_name} | "
            + (f"loss {loss:.4f}" if loss is not None else "loss -")
        )

    def show(self, trainer: Trainer, now: float | None = None) -> None:
        text = self.line(trainer, time.perf_counter() if now is None else now)
        if self.live:
            self.stream.write("\r\x1b[2K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\n")
            self.stream.flush()
