"""Exploration schedules: epsilon (and the entropy of the policy it gives), and the
weight of the intrinsic (novelty) reward."""

from __future__ import annotations

from collections import deque
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.model.actions import NO_ACTION, random_valid_actions
from hamlet.schemas.pack import Epsilon, Intrinsic, Repeat


class EpsilonSchedule:
    """Epsilon, by one of two rules (training.yaml's ``exploration.epsilon``).

    - ``fraction`` (over the budget): epsilon falls in a straight line from ``start``
      to ``min`` over the first ``fraction`` of the run's budget, then stays at
      ``min``, as Stable-Baselines3's ``exploration_fraction`` does. The budget is the
      trainer's :attr:`~hamlet.runtime.learning.trainer.Trainer.progress`: episodes,
      agent-steps or time, whichever ends the run first. A short run explores for a
      short while and a long one for long, with any number of agents.
    - ``decay`` (per episode): ``epsilon = max(min, start * decay ** (episodes /
      agents))``. With one agent this is the reference's per-episode decay; with N
      agents sharing a learner epsilon decays once per N completed episodes, so it
      follows each agent's experience. How far it falls depends on how many episodes
      each agent plays, not on the run's budget.

    With ``on_advance``, each advance of the curriculum lifts epsilon to
    ``on_advance.value``, from where it falls in a straight line back to the rule's own
    value over ``on_advance.fraction`` of the budget: a harder stage is met exploring.
    """

    STEPS = 1000
    """Along the budget, epsilon moves in this many steps (each step of epsilon is a
    new entropy table for the trainer, so not at every environment step)."""

    def __init__(self, config: Epsilon, agents: int = 1) -> None:
        self.config = config
        self.agents = agents
        self.episodes = 0
        self.progress = 0.0
        """Where the run was (0 to 1) when epsilon last moved along the budget."""
        self.scheduled = config.start
        """The rule's own value, before any lift from an advance."""
        self.advanced_at: float | None = None
        """The run's progress at the curriculum's last advance (with ``on_advance``)."""
        self.value = config.start
        spans = [f for f in (config.fraction, _lift_span(config)) if f is not None]
        self._step = min(spans) / self.STEPS if spans else None
        self._table: tuple[float, Tensor] | None = None

    def episode_done(self) -> None:
        self.episodes += 1
        decay = self.config.per_episode_decay
        if decay is not None:
            decayed = self.config.start * decay ** (self.episodes / self.agents)
            self.scheduled = max(self.config.min, decayed)
            self.value = self._lifted()

    def advance(self, progress: float) -> None:
        """The run is ``progress`` (0 to 1) of the way through its budget."""
        if self._step is not None and progress >= self.progress + self._step:
            self._move(progress)

    def stage_advanced(self, progress: float) -> None:
        """The curriculum has just advanced a stage, ``progress`` into the run."""
        if self.config.on_advance is not None:
            self.advanced_at = progress
            self._move(progress)

    def _move(self, progress: float) -> None:
        self.progress = progress
        config = self.config
        if config.fraction is not None:
            start, floor = config.start, config.min
            if progress >= config.fraction:
                self.scheduled = floor
            else:
                self.scheduled = start + (floor - start) * progress / config.fraction
        self.value = self._lifted()

    def _lifted(self) -> float:
        """The rule's value, or the lift after the last advance where that is higher."""
        lift = self.config.on_advance
        if lift is None or self.advanced_at is None:
            return self.scheduled
        left = 1.0 - (self.progress - self.advanced_at) / lift.fraction
        if left <= 0.0:
            return self.scheduled
        return max(self.scheduled, self.scheduled + (lift.value - self.scheduled) * left)

    def entropy_table(self, actions: int, device: torch.device) -> Tensor:
        """:func:`policy_entropy` at this epsilon for every count of valid actions, 0 to
        ``actions``: made again only when epsilon moves (at most :attr:`STEPS` times along
        a budget, or once per episode with ``decay``)."""
        if self._table is None or self._table[0] != self.value:
            counts = torch.arange(actions + 1, device=device)
            self._table = (self.value, policy_entropy(self.value, counts))
        return self._table[1]

    def state_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "episodes": self.episodes,
            "progress": self.progress,
            "scheduled": self.scheduled,
            "advanced_at": self.advanced_at,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = float(state["value"])
        self.episodes = int(state["episodes"])
        self.progress = float(state.get("progress", 0.0))
        # (checkpoints from before ``on_advance`` had no lift: the value was the rule's)
        self.scheduled = float(state.get("scheduled", self.value))
        advanced_at = state.get("advanced_at")
        self.advanced_at = None if advanced_at is None else float(advanced_at)


def _lift_span(config: Epsilon) -> float | None:
    return None if config.on_advance is None else config.on_advance.fraction


class Excursions:
    """Temporally extended epsilon-greedy (``exploration.epsilon.repeat``; Dabney,
    Ostrovski and Barreto, 2020): a random action, once drawn, is kept for ``n`` steps.

    An agent that is not on an excursion starts one with probability epsilon: a random
    valid action, and a length ``n`` with ``P(n)`` proportional to ``n ** -mu`` for
    ``n`` up to ``max``. Otherwise it acts greedily. An excursion ends when its steps
    are done, when its action becomes invalid (a wall), or with the episode. Plain
    epsilon-greedy is the case ``max: 1``. With ``mu: 2`` most excursions last one or
    two steps, and some cross the town: the walks a one-step random action almost
    never makes.

    Every step draws the same random numbers, excursion or not, so a run is the same
    for a seed whatever its agents do.
    """

    def __init__(self, config: Repeat, num_agents: int, device: torch.device) -> None:
        lengths = torch.arange(1, config.max + 1, device=device, dtype=torch.float64)
        chances = lengths.pow(-config.mu)
        self._cdf = (chances.cumsum(0) / chances.sum()).float()
        self.left = torch.zeros(num_agents, dtype=torch.long, device=device)
        """Steps each agent's excursion has still to run (0: not on one)."""
        self.action = torch.zeros(num_agents, dtype=torch.long, device=device)
        """Each agent's excursion action."""

    def choose(
        self, greedy: Tensor, mask: Tensor, epsilon: float, generator: torch.Generator
    ) -> Tensor:
        """The actions ``[N]`` to take, from the greedy ones and the valid ``mask [N, A]``."""
        valid = mask.bool()
        kept = valid.gather(1, self.action.unsqueeze(1)).squeeze(1)
        going_on = (self.left > 0) & kept
        starting = torch.rand(greedy.shape, generator=generator, device=greedy.device) < epsilon
        starting &= ~going_on
        drawn = random_valid_actions(valid, generator)
        length = torch.searchsorted(
            self._cdf, torch.rand(greedy.shape, generator=generator, device=greedy.device)
        ).clamp(max=self._cdf.numel() - 1)  # (0 for a length of 1 step)
        self.action = torch.where(starting, drawn.clamp(min=0), self.action)
        self.left = torch.where(starting, length, (self.left - 1).clamp(min=0) * going_on)
        actions = torch.where(starting | going_on, self.action, greedy)
        return actions.masked_fill(~valid.any(dim=1), NO_ACTION)

    def forget(self, ended: Tensor) -> None:
        """A new episode starts without an excursion."""
        self.left.masked_fill_(ended, 0)

    def state_dict(self) -> dict[str, Any]:
        return {"left": self.left, "action": self.action}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.left = state["left"].to(self.left)
        self.action = state["action"].to(self.action)


def policy_entropy(epsilon: float, valid: Tensor) -> Tensor:
    """Normalised entropy of the acting policy over ``valid`` actions (a count per row).

    The policy is epsilon-greedy: the greedy action with probability
    ``1 - epsilon + epsilon / n``, each other valid action ``epsilon / n``. Unlike the
    entropy of softmax(Q) that the original used, it does not depend on the scale of
    the Q-values (townlet-facts §6.4), which made its gate impossible to pass.
    """
    n = valid.clamp(min=2).float()
    greedy = 1.0 - epsilon + epsilon / n
    other = epsilon / n
    entropy = -(greedy * torch.log(greedy) + (n - 1) * other * torch.log(other.clamp(min=1e-12)))
    return entropy / torch.log(n)


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
        # Running integer sums of the window: its mean and variance in O(1), exactly.
        self._sum = self._squares = 0

    def episode_done(self, survival_steps: int) -> None:
        self._remember(survival_steps)
        n = len(self.history)
        if n < self.config.survival_window or n < 2:
            return
        # Exact integers, one correctly rounded division each: statistics.variance and
        # fmean give these very values, at a hundredth of the price per episode.
        variance = (n * self._squares - self._sum**2) / (n * (n - 1))
        steady = variance < self.config.variance_threshold
        if steady and self._sum / n > self.config.min_mean_survival:
            self.value = max(self.config.min_weight, self.value * self.config.decay_rate)

    def _remember(self, steps: int) -> None:
        if len(self.history) == self.history.maxlen:
            oldest = self.history[0]
            self._sum -= oldest
            self._squares -= oldest * oldest
        self.history.append(steps)
        self._sum += steps
        self._squares += steps * steps

    def state_dict(self) -> dict[str, Any]:
        return {"value": self.value, "history": list(self.history)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.value = float(state["value"])
        self.history.clear()
        self._sum = self._squares = 0
        for steps in state["history"]:
            self._remember(int(steps))
