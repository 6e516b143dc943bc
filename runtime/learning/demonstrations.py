"""Demonstrators (``exploration.demonstrations``): some agents of a run act by the
hand-written policy instead of the network, and every agent learns from their steps.

DQN learns off-policy: a transition teaches the Q-values whatever chose its action. So
a few agents that follow :class:`~hamlet.runtime.world.HeuristicPolicy` (``hamlet
eval``'s heuristic) put into the shared replay what the others' exploration may take
long to find: a walk across the town to the Job, and what the wage then buys. This is
the idea of learning from demonstrations (Hester et al. 2018, "Deep Q-learning from
Demonstrations"), with the demonstrator playing beside the learners rather than before
them, so that its steps keep coming at every stage of the curriculum.

A demonstrator's episodes are not the learners': they do not count towards the
curriculum, the exploration schedules, the episode budget or the metrics. The network
still runs on a demonstrator's observations, so its stored memory (the recurrent state
a training window starts from) is what the network made of that episode.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.world import HeuristicPolicy, TownWorld
from hamlet.schemas.pack import Demonstrations as Config


class Demonstrators:
    """The last ``floor(agents * share)`` agents of ``world``; each demonstrates for
    whole episodes, those that start before ``until`` of the run's budget."""

    def __init__(self, config: Config, world: TownWorld) -> None:
        n = world.num_agents
        self.count = int(n * config.share)
        self.until = config.until
        self.policy = HeuristicPolicy(world)
        self.members = [agent >= n - self.count for agent in range(n)]
        """Which agents demonstrate while the budget allows."""
        self.flags = list(self.members)
        """Which agents demonstrate in their current episode (Python, so that closing
        episodes reads it without a wait for the device)."""
        self.acting = torch.tensor(self.flags, dtype=torch.bool, device=world.device)
        self.any = any(self.flags)
        """Whether anyone demonstrates now (read every step, so kept, not derived)."""

    def choose(self, actions: Tensor, obs: Tensor, mask: Tensor) -> Tensor:
        """The step's actions ``[N]``: the heuristic's for the demonstrating agents."""
        if not self.any:
            return actions
        shown, _ = self.policy(obs, mask, None)
        return torch.where(self.acting, shown, actions)

    def episodes_started(self, agents: list[int], progress: float) -> None:
        """``agents`` begin new episodes, ``progress`` of the way through the budget."""
        on = progress < self.until
        for agent in agents:
            self.flags[agent] = self.members[agent] and on
        self._flags_changed()

    def state_dict(self) -> dict[str, Any]:
        return {"flags": list(self.flags)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        flags = [bool(flag) for flag in state["flags"]]
        if len(flags) != len(self.members):
            raise ValueError(f"demonstrators of {len(flags)} agents, not {len(self.members)}")
        self.flags = flags
        self._flags_changed()

    def _flags_changed(self) -> None:
        self.acting = torch.tensor(self.flags, dtype=torch.bool, device=self.acting.device)
        self.any = any(self.flags)
