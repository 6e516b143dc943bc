"""The world's state: the per-agent tensors, live attributes over them, saving and loading,
and what a step reports of it (:class:`StepResult`).

Each state tensor is owned by the world and updated in place, never replaced: the
world caches values derived from some of them (what is on each cell, each agent's
cell) and knows from their version counters when to recompute, so an edit by hand,
in place or by assignment, is always seen. The four per-agent counters are the rows
of one ``[4, N]`` tensor, so that a reset writes them in one operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from hamlet.schemas.errors import CheckpointError, Diagnostic

STATE_KEYS = (
    "positions",
    "meters",
    "alive",
    "step_count",
    "time_of_day",
    "interaction_progress",
    "interaction_affordance",
    "affordance_positions",
    "generator",
)
"""The entries of a world's ``state_dict()``: its state tensors, then the generator state."""


class TownState:
    """The state tensors of ``num_agents`` agents, each with ``num_affordances`` placed."""

    def __init__(
        self, num_agents: int, num_affordances: int, initial: Tensor, device: torch.device
    ) -> None:
        n, long = num_agents, torch.long
        self.initial = initial
        """``[M]``: the meters at the start of an episode."""
        # Made outside inference mode so that their version counters exist.
        with torch.inference_mode(False):
            self.positions = torch.zeros(n, 2, dtype=long, device=device)
            self.meters = initial.repeat(n, 1)
            self.alive = torch.zeros(n, dtype=torch.bool, device=device)
            self.counters = torch.zeros(4, n, dtype=long, device=device)
            self.layouts = torch.zeros(n, num_affordances, 2, dtype=long, device=device)
        self.step_count, self.time_of_day, self.progress, self.current = self.counters
        self.current.fill_(-1)
        self._fresh = torch.tensor([[0], [0], [0], [-1]], device=device)
        self.views: dict[str, Tensor] = {
            "positions": self.positions,
            "meters": self.meters,
            "alive": self.alive,
            "step_count": self.step_count,
            "time_of_day": self.time_of_day,
            "interaction_progress": self.progress,
            "interaction_affordance": self.current,
            "affordance_positions": self.layouts,
        }
        """The state tensors by public attribute name (:data:`STATE_KEYS` but the last)."""

    def restart(self, index: slice | Tensor, spawn: Tensor) -> None:
        """Start a new episode for the agents ``index`` on cells ``spawn [n, 2]``."""
        self.positions[index] = spawn
        self.meters[index] = self.initial
        self.alive[index] = True
        self.counters[:, index] = self._fresh

    def state_dict(self, generator: torch.Generator) -> dict[str, Tensor]:
        """Copies of every state tensor and the state of ``generator``."""
        state = {key: view.clone() for key, view in self.views.items()}
        state["generator"] = generator.get_state()
        return state

    def load_state_dict(self, state: Mapping[str, Any], generator: torch.Generator) -> None:
        """Copy a :meth:`state_dict` in; a :class:`CheckpointError` if it does not fit."""
        missing = [k for k in STATE_KEYS if k not in state]
        unexpected = [k for k in state if k not in STATE_KEYS]
        if missing or unexpected:
            raise CheckpointError(
                Diagnostic(
                    "E204",
                    f"world state: missing {missing}, unexpected {unexpected}",
                    hint="pass a dict made by TownWorld.state_dict()",
                )
            )
        for key, mine in self.views.items():
            theirs = state[key]
            if not isinstance(theirs, Tensor) or theirs.shape != mine.shape:
                shape = list(theirs.shape) if isinstance(theirs, Tensor) else type(theirs).__name__
                raise CheckpointError(
                    Diagnostic(
                        "E205",
                        f"world state '{key}' is {shape}, this world's is {list(mine.shape)}",
                        hint="load it into a world of the same config pack and num_agents",
                        path=key,
                    )
                )
        for key, view in self.views.items():
            view.copy_(state[key])
        generator.set_state(state["generator"])


class StateTensor:
    """A state tensor attribute of the world: reading gives the live tensor, assigning
    copies the new values into it."""

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, world: Any, owner: type | None = None) -> Any:
        if world is None:
            return self
        return world.state.views[self.name]

    def __set__(self, world: Any, value: Tensor) -> None:
        world.state.views[self.name].copy_(value)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one :meth:`TownWorld.step` returns, one row per agent."""

    obs: Tensor
    """``[N, obs_dim]`` float32: observations after the step (before any reset)."""
    reward: Tensor
    """``[N]`` float32: health x energy while alive, 0 on death, +1.0 on retiring."""
    done: Tensor
    """``[N]`` bool: the episode ended this step in death or retirement (terminal)."""
    truncated: Tensor
    """``[N]`` bool: the episode is at max_steps_per_episode, alive (not terminal)."""
    died: Tensor
    """``[N]`` bool: a death condition of bars.yaml became true this step."""
    retired: Tensor
    """``[N]`` bool: the agent reached agent_lifespan this step."""
    interactions: Tensor
    """``[N]`` long: vocabulary index of the affordance used (or ticked) this step, else -1."""

    def outcome(self, agent: int) -> str:
        """How ``agent``'s episode ended: ``died``, ``retired``, else ``cut_off``."""
        return _outcome(bool(self.died[agent]), bool(self.retired[agent]))

    def outcomes(self, agents: Tensor) -> list[str]:
        """:meth:`outcome` for each of ``agents`` (``[n]`` indices), read at once."""
        died, retired = self.died[agents].tolist(), self.retired[agents].tolist()
        return [_outcome(d, r) for d, r in zip(died, retired, strict=True)]


def _outcome(died: bool, retired: bool) -> str:
    if died:
        return "died"
    return "retired" if retired else "cut_off"
