"""One completed episode of one agent, as the trainer reports it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .curriculum import Transition


@dataclass(frozen=True)
class Episode:
    """One completed episode of one agent."""

    number: int
    """Completed episodes of the run before this one (0-based, over all agents)."""
    agent: int
    steps: int
    reward: float
    """Sum of the extrinsic rewards."""
    outcome: str
    """``died``, ``retired`` or ``cut_off`` (reached max_steps_per_episode)."""
    stage: int
    multiplier: float
    epsilon: float
    intrinsic_weight: float
    entropy: float
    """Mean normalised entropy of the acting policy over the valid actions, per step."""
    affordance_transitions: dict[tuple[str, str], int] = field(default_factory=dict)
    """Counts of consecutive successful interactions, ``(from, to) -> n``."""
    transition: Transition | None = None
    """The curriculum change this episode caused, if any."""

    def with_transition(self, transition: Transition | None) -> Episode:
        """This episode, with the curriculum change it caused (if any)."""
        return self if transition is None else replace(self, transition=transition)
