"""Exploration schedules: epsilon, and the weight of the intrinsic (novelty) reward."""

from __future__ import annotations

import statistics
from collections import deque
from typing import Any

from hamlet.schemas.pack import Epsilon, Intrinsic


class EpsilonSchedule:
    """``epsilon = max(min, start * decay ** (episodes / agents))``.

    With one agent this is the reference's per-episode decay. With N agents sharing a
    learner, N episodes end in the time one agent plays one, so epsilon decays once
    per N completed episodes: the schedule follows experience per agent, not the
    number of agents.
    """

    def __init__(self, config: Epsilon, agents: int = 1) -> None:
        self.config = config
        self.agents = agents
        self.episodes = 0
        self.value = config.start

    def episode_done(self) -> None:
        self.episodes += 1
        decayed = self.config.start * self.config.decay ** (self.episodes / self.agents)
        self.value = max(self.config.min, decayed)

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value, "episodes": self.episodes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = float(state["value"])
        self.episodes = int(state["episodes"])


class IntrinsicWeight:
    """The novelty weight, annealed once survival has become long and steady (§4.5).

    After each completed episode its survival joins a window of ``survival_window``
    episodes; when the window is full, its mean exceeds ``min_mean_survival`` and its
    variance is below ``variance_threshold``, the weight is multiplied by
    ``decay_rate`` (never below ``min_weight``).
    """

    def __init__(self, config: Intrinsic) -> None:
        self.config = config
        self.value = config.initial_weight
        self.history: deque[int] = deque(maxlen=config.survival_window)

    def episode_done(self, survival_steps: int) -> None:
        self.history.append(survival_steps)
        if len(self.history) < self.config.survival_window or len(self.history) < 2:
            return
        steady = statistics.variance(self.history) < self.config.variance_threshold
        if steady and statistics.fmean(self.history) > self.config.min_mean_survival:
            self.value = max(self.config.min_weight, self.value * self.config.decay_rate)

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value, "history": list(self.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = float(state["value"])
        self.history.clear()
        self.history.extend(int(v) for v in state["history"])
