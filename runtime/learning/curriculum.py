"""The adversarial curriculum: harder when the agent copes, easier when it struggles.

Decisions are made once per *completed* episode, from completed episodes only
(WORLD.md correction 1): the window holds the survival fraction (steps survived /
``max_steps_per_episode``) and the mean normalised policy entropy of the last
``window`` episodes played at the current stage (the entropy is that of the acting,
epsilon-greedy policy, so it does not depend on the scale of the Q-values, which kept
the original's gate shut; townlet-facts §6.4). A stage lasts at least
``min_episodes_at_stage`` episodes. Then:

* retreat when the mean survival fraction is below ``retreat_survival`` (not at the
  first stage);
* advance when it is above ``advance_survival`` and the policy is decided (mean
  entropy below ``entropy_gate``), not at the last stage.

An episode counts for the stage it was played at: an agent gets the current stage's
difficulty when its episode starts, and episodes still running when the stage
changes are not counted for the new stage.
"""

from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass
from typing import Any

from hamlet.schemas.pack import Curriculum


@dataclass(frozen=True)
class Transition:
    """A change of stage, as logged and stored in the run's database."""

    episode: int
    from_stage: int
    to_stage: int
    reason: str
    """``advance`` or ``retreat``."""
    survival: float
    entropy: float
    episodes_at_stage: int


class AdversarialCurriculum:
    """Tracks completed episodes and moves between the configured stages."""

    def __init__(self, config: Curriculum, max_steps: int) -> None:
        self.config = config
        self.max_steps = max_steps
        self.stage = config.initial_stage
        self.episodes_at_stage = 0
        # The window, one deque per measure (fmean reads a deque directly: no copies).
        self.survivals: deque[float] = deque(maxlen=config.window)
        self.entropies: deque[float] = deque(maxlen=config.window)

    @property
    def multiplier(self) -> float:
        """The current stage's depletion multiplier."""
        return self.config.stages[self.stage - 1].depletion_multiplier

    @property
    def stage_name(self) -> str:
        return self.config.stages[self.stage - 1].name

    def episode_done(
        self, episode: int, survival_steps: int, entropy: float, played_at: int
    ) -> Transition | None:
        """Count one completed episode (played at stage ``played_at``); maybe move."""
        if played_at != self.stage:
            return None  # began before the last change: it says nothing about this stage
        self.episodes_at_stage += 1
        self.survivals.append(min(1.0, survival_steps / self.max_steps))
        self.entropies.append(entropy)
        config = self.config
        if config.kind == "static" or self.episodes_at_stage < config.min_episodes_at_stage:
            return None
        if len(self.survivals) < config.window:
            return None
        survival = statistics.fmean(self.survivals)
        mean_entropy = statistics.fmean(self.entropies)
        if survival < config.retreat_survival and self.stage > 1:
            return self._move(episode, -1, "retreat", survival, mean_entropy)
        advance = survival > config.advance_survival and mean_entropy < config.entropy_gate
        if advance and self.stage < len(config.stages):
            return self._move(episode, +1, "advance", survival, mean_entropy)
        return None

    def _move(
        self, episode: int, step: int, reason: str, survival: float, entropy: float
    ) -> Transition:
        transition = Transition(
            episode, self.stage, self.stage + step, reason, survival, entropy,
            self.episodes_at_stage,
        )  # fmt: skip
        self.stage += step
        self.episodes_at_stage = 0
        self.survivals.clear()
        self.entropies.clear()
        return transition

    def state_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "episodes_at_stage": self.episodes_at_stage,
            "recent": [[s, e] for s, e in zip(self.survivals, self.entropies, strict=True)],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stage = int(state["stage"])
        self.episodes_at_stage = int(state["episodes_at_stage"])
        self.survivals.clear()
        self.entropies.clear()
        for survival, entropy in state["recent"]:
            self.survivals.append(float(survival))
            self.entropies.append(float(entropy))
