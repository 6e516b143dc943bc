"""The live progress display of ``hamlet run``: what training is doing, right now, and
where its time goes.

Two lines. The first shows episodes, the time this session has trained and how long
it has left (from how far the run is through its budget: episodes, agent-steps or
minutes, whichever ends it first), agent-steps/s, gradient steps/s, survival, reward,
epsilon, stage and loss. The second shows each phase's share of the wall time
(``act 18% world 4% store 1% learn 69% rnd 8% record 0% evaluate 0% other 0%``; the
phases are those of :mod:`hamlet.runtime.learning.phases`). Rates and shares come from
the run's last throughput window (about 5 s). On a terminal both lines are redrawn at
most four times a second, wrapped to its width between fields (a narrow terminal gets
more rows, never cut figures). Elsewhere (a log, CI) they are printed every
``interval`` seconds. ``hamlet run --json`` prints the same figures as one JSON
object per line on stdout.
"""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import time
from collections import deque
from typing import Any, TextIO

from hamlet.runtime.learning.trainer import Episode, Trainer

from .plan import UNLIMITED


def format_duration(seconds: float) -> str:
    """``45s``, ``2m13s``, ``1h02m``: short enough for a status line."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def fit(fields: list[str], separator: str, width: int) -> list[str]:
    """``fields`` joined by ``separator`` into rows of at most ``width`` characters, a
    field never split between two rows (one wider than a row is cut).

    >>> fit(["episode 12/100", "3s ETA 20s", "1,234 agent-steps/s"], " | ", 32)
    ['episode 12/100 | 3s ETA 20s', '1,234 agent-steps/s']
    """
    rows: list[str] = []
    for field in fields:
        if rows and len(rows[-1]) + len(separator) + len(field) <= width:
            rows[-1] += separator + field
        else:
            rows.append(field[:width])
    return rows


def _pairs(shares: str) -> list[str]:
    """``act 36% world 25% ...`` as ``["act 36%", "world 25%", ...]`` (a line that is not
    such pairs, whole)."""
    words = shares.split(" ")
    if len(words) % 2:
        return [shares]
    return [f"{name} {share}" for name, share in zip(words[::2], words[1::2], strict=True)]


class Progress:
    """Prints where training stands: two lines for people, or JSON lines for scripts."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        interval: float = 10.0,
        *,
        as_json: bool = False,
    ) -> None:
        self.total = total
        self.as_json = as_json
        self.stream = stream or (sys.stdout if as_json else sys.stderr)
        self.live = self.stream.isatty() and not as_json
        self.interval = 0.25 if self.live else interval
        self.recent: deque[Episode] = deque(maxlen=50)
        self.began = time.perf_counter()
        """When the display was made (just before training): the elapsed time's zero."""
        self.started = self.began
        self.start_steps: int | None = None
        self.start_progress = 0.0
        self.last_print = 0.0
        self.drawn = 0
        """Rows the live display drew last (0: none yet)."""

    def __call__(self, trainer: Trainer, episodes: list[Episode]) -> None:
        self.recent.extend(episodes)
        now = time.perf_counter()
        if self.start_steps is None:
            self.start_steps = trainer.env_steps
            self.start_progress = trainer.progress
            self.started = now
        first_window = self.live or trainer.phases.latest is not None  # (logs: whole figures)
        due = first_window and now - self.last_print >= self.interval
        if due or trainer.episodes_done >= self.total:
            self.last_print = now
            self.show(trainer, now)

    def figures(self, trainer: Trainer, now: float) -> dict[str, Any]:
        """What the display shows, as numbers (the JSON line's keys)."""
        window = trainer.phases.latest
        if window is not None:
            rate, grad_rate = window.agent_steps_per_s, window.gradient_steps_per_s
        else:  # before the first window closes: the average since the display started
            elapsed = max(now - self.started, 1e-9)
            rate = (trainer.env_steps - (self.start_steps or 0)) * trainer.num_agents / elapsed
            grad_rate = None
        recent = self.recent
        return {
            "episode": trainer.episodes_done,
            "episodes_total": self.total,
            "elapsed_s": now - self.began,
            "eta_s": self.eta(trainer, now),
            "agent_steps": trainer.env_steps * trainer.num_agents,
            "agent_steps_per_s": rate,
            "gradient_steps_per_s": grad_rate,
            "phases": dict(window.shares) if window is not None else None,
            "survival": statistics.fmean(e.steps for e in recent) if recent else None,
            "reward": statistics.fmean(e.reward for e in recent) if recent else None,
            "epsilon": trainer.epsilon.value,
            "stage": trainer.curriculum.stage,
            "stage_name": trainer.curriculum.stage_name,
            "loss": trainer.last_stats.get("loss"),
        }

    def eta(self, trainer: Trainer, now: float) -> float | None:
        """Seconds left at this session's pace through the budget (None: no pace yet)."""
        done = trainer.progress - self.start_progress
        if done <= 0 or now <= self.started:
            return None
        return (1.0 - trainer.progress) * (now - self.started) / done

    def lines(self, trainer: Trainer, now: float) -> tuple[str, str]:
        f = self.figures(trainer, now)
        survival = f"{f['survival']:.0f}" if f["survival"] is not None else "-"
        reward = f"{f['reward']:.1f}" if f["reward"] is not None else "-"
        loss = f"{f['loss']:.4f}" if f["loss"] is not None else "-"
        grads = f["gradient_steps_per_s"]
        of = f"/{self.total}" if self.total < UNLIMITED else ""
        eta = f" ETA {format_duration(f['eta_s'])}" if f["eta_s"] is not None else ""
        first = (
            f"episode {f['episode']}{of} | {format_duration(f['elapsed_s'])}{eta} | "
            f"{f['agent_steps_per_s']:,.0f} agent-steps/s | "
            + (f"{grads:,.1f} grad-steps/s | " if grads is not None else "")
            + f"survival {survival} | reward {reward} | eps {f['epsilon']:.3f} | "
            f"stage {f['stage']} {f['stage_name']} | loss {loss}"
        )
        window = trainer.phases.latest
        return first, window.describe() if window is not None else "(time shares after ~5 s)"

    def show(self, trainer: Trainer, now: float | None = None) -> None:
        now = time.perf_counter() if now is None else now
        if self.as_json:
            self.stream.write(json.dumps(self.figures(trainer, now)) + "\n")
        elif self.live:
            width = max(20, shutil.get_terminal_size().columns - 1)
            first, second = self.lines(trainer, now)
            rows = fit(first.split(" | "), " | ", width) + fit(_pairs(second), " ", width)
            # back to the first row drawn last time, then clear what was there
            back = f"\x1b[{self.drawn - 1}A\r" if self.drawn > 1 else "\r"
            self.stream.write(f"{back}\x1b[J" + "\n".join(rows))
            self.drawn = len(rows)
        else:
            self.stream.write("\n".join(self.lines(trainer, now)) + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.live and self.drawn:
            self.stream.write("\n")
            self.stream.flush()
