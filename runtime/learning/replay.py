"""Replay memory: one stream per agent, shared by all agents, for every kind of brain.

Each agent's transitions are kept in time order in its own ring (the configured
capacity is split evenly between the agents), so that n-step returns and recurrent
training windows can read consecutive steps. Every step stores its own next
observation and next action mask, so a window may stop at any point (an episode's
end, or the newest step) and still bootstrap correctly.

Sampling is uniform, or prioritized (proportional to ``priority ** alpha``, with
importance weights) when the brain asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass
class Batch:
    """Sampled windows, ``[batch, time]`` (time 1 for feed-forward brains)."""

    obs: Tensor
    actions: Tensor
    rewards: Tensor
    """The world's (extrinsic) reward; the learner adds the weighted novelty when it
    samples, so that the reward follows the novelty predictor as it learns."""
    next_obs: Tensor
    next_mask: Tensor
    terminal: Tensor
    """The step ended in death or retirement: nothing to bootstrap from."""
    end: Tensor
    """The step ended its episode (terminal, or cut off by the step limit)."""
    agent: Tensor
    """``[batch]``: whose stream each window comes from."""
    start: Tensor
    """``[batch]``: position of each window's first step in its stream."""
    weights: Tensor
    """``[batch]``: importance-sampling weights (ones for uniform sampling)."""
    hidden: tuple[Tensor, Tensor] | None = None
    """Recurrent brains: the acting state before each window's first step,
    each ``[layers, batch, hidden]``."""
    length: Tensor | None = None
    """``[batch, time]`` bool: the step exists (was written) in the stream."""


class Replay:
    """Per-agent ring buffers of transitions, sampled as windows of consecutive steps."""

    def __init__(
        self,
        capacity: int,
        num_agents: int,
        obs_dim: int,
        num_actions: int,
        *,
        hidden_shape: tuple[int, int] | None = None,
        prioritized: dict[str, float] | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        self.num_agents = num_agents
        self.size = max(1, capacity // num_agents)
        """Steps kept per agent."""
        self.device = torch.device(device)
        shape = (num_agents, self.size)
        zeros = lambda *s, dtype=torch.float32: torch.zeros(*s, dtype=dtype, device=device)  # noqa: E731
        self.obs = zeros(*shape, obs_dim)
        self.next_obs = zeros(*shape, obs_dim)
        self.actions = zeros(*shape, dtype=torch.long)
        self.rewards = zeros(*shape)
        self.next_mask = zeros(*shape, num_actions, dtype=torch.bool)
        self.terminal = zeros(*shape, dtype=torch.bool)
        self.end = zeros(*shape, dtype=torch.bool)
        self.hidden = (
            (zeros(*shape, *hidden_shape), zeros(*shape, *hidden_shape)) if hidden_shape else None
        )
        self.written = 0
        """Steps ever written (by every agent: all agents step together), so the ring
        position of the next step is ``written % size``."""
        self.prioritized = prioritized
        self.priority = zeros(*shape) if prioritized else None
        self.max_priority = torch.ones((), device=device)
        """The highest priority yet, which new steps get (a tensor: kept on the device)."""

    @property
    def filled(self) -> int:
        """Steps stored per agent."""
        return min(self.written, self.size)

    def __len__(self) -> int:
        return self.filled * self.num_agents

    def add(
        self,
        obs: Tensor,
        actions: Tensor,
        rewards: Tensor,
        next_obs: Tensor,
        next_mask: Tensor,
        terminal: Tensor,
        end: Tensor,
        hidden: tuple[Tensor, Tensor] | None = None,
    ) -> None:
        """Append one step of every agent (rows in agent order; hidden ``[layers, n, hidden]``)."""
        slot = self.written % self.size
        self.obs[:, slot] = obs
        self.next_obs[:, slot] = next_obs
        self.actions[:, slot] = actions
        self.rewards[:, slot] = rewards
        self.next_mask[:, slot] = next_mask
        self.terminal[:, slot] = terminal
        self.end[:, slot] = end
        if self.hidden is not None and hidden is not None:
            self.hidden[0][:, slot] = hidden[0].transpose(0, 1)
            self.hidden[1][:, slot] = hidden[1].transpose(0, 1)
        if self.priority is not None:
            self.priority[:, slot] = self.max_priority
        self.written += 1

    def extend(self, *steps: Tensor, hidden: tuple[Tensor, Tensor] | None = None) -> None:
        """Append ``count`` steps of every agent at once, as :meth:`add` would one after
        the other: each of its arguments with a first axis of ``count`` (hidden
        ``[count, layers, agents, hidden]``)."""
        count = steps[0].shape[0]
        if count > self.size:  # (a step would overwrite one of the same call)
            for t in range(count):
                self.add(*(field[t] for field in steps), None if hidden is None else
                         (hidden[0][t], hidden[1][t]))  # fmt: skip
            return
        slots = (self.written + torch.arange(count, device=self.device)) % self.size
        stored = (self.obs, self.actions, self.rewards, self.next_obs, self.next_mask,
                  self.terminal, self.end)  # fmt: skip
        for into, field in zip(stored, steps, strict=True):
            into[:, slots] = field.transpose(0, 1)
        if self.hidden is not None and hidden is not None:  # -> [agents, count, layers, hidden]
            self.hidden[0][:, slots] = hidden[0].permute(2, 0, 1, 3)
            self.hidden[1][:, slots] = hidden[1].permute(2, 0, 1, 3)
        if self.priority is not None:
            self.priority[:, slots] = self.max_priority
        self.written += count

    def sample(self, batch: int, time: int, generator: torch.Generator, beta: float = 0.4) -> Batch:
        """``batch`` windows of ``time`` consecutive steps, each starting at a stored step;
        steps past the newest are marked absent in ``length``."""
        filled = self.filled
        if self.priority is not None:
            agent, start, weights = self._prioritized(batch, filled, generator, beta)
        else:
            agent = torch.randint(
                0, self.num_agents, (batch,), generator=generator, device=self.device
            )
            start = torch.randint(0, filled, (batch,), generator=generator, device=self.device)
            weights = torch.ones(batch, device=self.device)
        # `start` counts from the oldest stored step; a window runs towards the newest.
        position = start[:, None] + torch.arange(time, device=self.device)[None, :]
        present = position < filled
        slot = (position + (self.written - filled)) % self.size
        rows = agent[:, None].expand_as(slot)
        hidden = None
        if self.hidden is not None:
            first = slot[:, 0]
            hidden = (
                self.hidden[0][agent, first].transpose(0, 1).contiguous(),
                self.hidden[1][agent, first].transpose(0, 1).contiguous(),
            )
        return Batch(
            obs=self.obs[rows, slot],
            actions=self.actions[rows, slot],
            rewards=self.rewards[rows, slot],
            next_obs=self.next_obs[rows, slot],
            next_mask=self.next_mask[rows, slot],
            terminal=self.terminal[rows, slot],
            end=self.end[rows, slot] | ~present,
            agent=agent,
            start=start,
            weights=weights,
            hidden=hidden,
            length=present,
        )

    def update_priorities(self, batch: Batch, priorities: Tensor) -> None:
        """New priorities for the first step of each sampled window."""
        if self.priority is None:
            return
        assert self.prioritized is not None
        slot = (batch.start + (self.written - self.filled)) % self.size
        value = priorities.detach().abs().to(self.priority) + float(self.prioritized["epsilon"])
        self.priority[batch.agent, slot] = value
        self.max_priority = torch.maximum(self.max_priority, value.max())

    def _prioritized(
        self, batch: int, filled: int, generator: torch.Generator, beta: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        assert self.priority is not None and self.prioritized is not None
        # Priorities are kept by ring slot; read them oldest-first, as `start` counts.
        order = (torch.arange(filled, device=self.device) + (self.written - filled)) % self.size
        priority = self.priority[:, order]
        probs = priority.flatten() ** float(self.prioritized["alpha"])
        probs = probs / probs.sum()
        flat = torch.multinomial(probs, batch, replacement=True, generator=generator)
        agent, start = flat // filled, flat % filled
        weights = (probs.numel() * probs[flat]) ** (-beta)
        return agent, start, weights / weights.max()

    def share_memory(self) -> None:
        """Move the stored steps to shared memory (a process forked after this sees them
        change): a learner process writes them, its trainer saves them."""
        for tensor in self._stored():
            tensor.share_memory_()

    def _stored(self) -> list[Tensor]:
        tensors = [self.obs, self.next_obs, self.actions, self.rewards, self.next_mask,
                   self.terminal, self.end]  # fmt: skip
        tensors += list(self.hidden or ()) + ([self.priority] if self.priority is not None else [])
        return tensors

    def state_dict(self) -> dict[str, Any]:
        state = {
            "obs": self.obs,
            "next_obs": self.next_obs,
            "actions": self.actions,
            "rewards": self.rewards,
            "next_mask": self.next_mask,
            "terminal": self.terminal,
            "end": self.end,
            "written": self.written,
            "max_priority": float(self.max_priority),
        }
        if self.hidden is not None:
            state["hidden_h"], state["hidden_c"] = self.hidden
        if self.priority is not None:
            state["priority"] = self.priority
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("obs", "next_obs", "actions", "rewards", "next_mask", "terminal", "end"):
            getattr(self, key).copy_(state[key])
        self.written = int(state["written"])
        self.max_priority = torch.tensor(float(state["max_priority"]), device=self.device)
        if self.hidden is not None:
            self.hidden[0].copy_(state["hidden_h"])
            self.hidden[1].copy_(state["hidden_c"])
        if self.priority is not None:
            self.priority.copy_(state["priority"])
