"""Gymnasium adapters: the town as a single-agent ``Env`` and as a ``VectorEnv``.

Observations are float32 numpy arrays in the field order of ``world.layout``; actions
are the six of :data:`~hamlet.schemas.layout.ACTION_NAMES`. ``info["action_mask"]``
(numpy bool) says which actions are valid in the returned state; an invalid action
is harmless (it only pays its action costs). Death and retirement terminate an
episode; ``max_steps_per_episode`` truncates it.

>>> env = HamletEnv("L0_0_minimal", seed=0)
>>> obs, info = env.reset(seed=1)
>>> obs.shape, info["action_mask"].tolist()[-1]
((36,), True)
>>> obs, reward, terminated, truncated, info = env.step(5)  # WAIT
>>> terminated, truncated
(False, False)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import gymnasium
import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from hamlet.schemas import Pack

from .state import StepResult
from .town import TownWorld


def _spaces(world: TownWorld) -> tuple[spaces.Box, spaces.Discrete]:
    low, high = world.observation_bounds()
    observation = spaces.Box(
        np.array(low, dtype=np.float32), np.array(high, dtype=np.float32), dtype=np.float32
    )
    return observation, spaces.Discrete(world.num_actions)


class HamletEnv(gymnasium.Env):
    """One agent in the town of a config pack (a :class:`TownWorld` of one agent).

    ``render_mode="ansi"`` makes :meth:`render` return the grid as text.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi"], "render_fps": 4}

    def __init__(
        self,
        pack: Pack | str | Path,
        *,
        seed: int = 0,
        depletion_multiplier: float = 1.0,
        render_mode: str | None = None,
        device: str | torch.device = "cpu",
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.world = TownWorld(pack, 1, device=device, seed=seed)
        """The simulated town."""
        self.depletion_multiplier = depletion_multiplier
        """Factor on the meters' base depletion (the curriculum stage's)."""
        self.render_mode = render_mode
        self.observation_space, self.action_space = _spaces(self.world)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode; a ``seed`` reseeds the world as if it were built with it."""
        super().reset(seed=seed)
        if seed is not None:
            self.world.seed(seed)
        obs = self.world.reset()
        return obs[0].cpu().numpy(), {"action_mask": self.action_masks()}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        actions = torch.tensor([int(action)], device=self.world.device)
        result = self.world.step(actions, self.depletion_multiplier)
        return (
            result.obs[0].cpu().numpy(),
            float(result.reward[0]),
            bool(result.done[0]),
            bool(result.truncated[0]),
            _info(self.world, result, 0) | {"action_mask": self.action_masks()},
        )

    def action_masks(self) -> np.ndarray:
        """``[6]`` bool: the valid actions now (the name MaskablePPO of sb3-contrib calls)."""
        return self.world.action_mask()[0].cpu().numpy()

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        return render_text(self.world, 0)


def _info(world: TownWorld, result: StepResult, agent: int) -> dict[str, Any]:
    used = int(result.interactions[agent])
    return {
        "interaction": world.vocabulary[used] if used >= 0 else None,
        "died": bool(result.died[agent]),
        "retired": bool(result.retired[agent]),
    }


def render_text(world: TownWorld, agent: int = 0) -> str:
    """The grid of ``agent`` as text: ``@`` the agent, letters the affordances (legend
    below), ``.`` empty; then its meters, step and hour."""
    size = world.grid_size
    cells = [["." for _ in range(size)] for _ in range(size)]
    legend = []
    for i, (name, (x, y)) in enumerate(world.affordance_layout(agent).items()):
        letter = chr(ord("A") + i)
        cells[y][x] = letter
        legend.append(f"{letter}={name}")
    x, y = world.positions[agent].tolist()
    cells[y][x] = "@"
    meters = world.meters[agent].tolist()
    lines = [" ".join(row) for row in cells]
    lines.append(" ".join(legend))
    lines.append(" ".join(f"{n}={v:.2f}" for n, v in zip(world.meter_names, meters, strict=True)))
    lines.append(f"step={int(world.step_count[agent])} hour={int(world.time_of_day[agent])}")
    return "\n".join(lines)


class HamletVectorEnv(VectorEnv):
    """``num_envs`` agents in one :class:`TownWorld`, reset automatically when done.

    Autoreset is Gymnasium's "same step" mode: when an episode ends, the step returns
    the first observation of the next episode, and the last one of the finished episode
    is in ``infos["final_obs"]`` (an object array, set where ``infos["_final_obs"]``).
    ``depletion_multiplier`` may be a float or one value per agent.
    """

    metadata: ClassVar[dict[str, Any]] = {
        "autoreset_mode": AutoresetMode.SAME_STEP,
        "render_modes": [],
    }

    def __init__(
        self,
        pack: Pack | str | Path,
        num_envs: int,
        *,
        seed: int = 0,
        depletion_multiplier: float | np.ndarray = 1.0,
        device: str | torch.device = "cpu",
    ) -> None:
        self.world = TownWorld(pack, num_envs, device=device, seed=seed)
        """The simulated town, one agent per sub-environment."""
        self.num_envs = num_envs
        self.depletion_multiplier = depletion_multiplier
        """Factor on the meters' base depletion: a float, or ``[num_envs]``."""
        self.single_observation_space, self.single_action_space = _spaces(self.world)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start an episode in every sub-environment; a ``seed`` (an int) reseeds the world."""
        if seed is not None:
            if not isinstance(seed, int):
                raise TypeError("HamletVectorEnv.reset takes one int seed for the whole world")
            self.world.seed(seed)
        obs = self.world.reset()
        return obs.cpu().numpy(), {"action_mask": self.world.action_mask().cpu().numpy()}

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        multiplier = self.depletion_multiplier
        if isinstance(multiplier, np.ndarray):
            multiplier = torch.as_tensor(multiplier, dtype=torch.float32, device=self.world.device)
        result = self.world.step(torch.as_tensor(actions, device=self.world.device), multiplier)
        ended = result.done | result.truncated
        infos: dict[str, Any] = {}
        obs = result.obs
        if bool(ended.any()):
            finished = ended.cpu().numpy()
            final = np.empty(self.num_envs, dtype=object)
            for agent, row in zip(np.flatnonzero(finished), obs[ended].cpu().numpy(), strict=True):
                final[agent] = row
            infos |= {"final_obs": final, "_final_obs": finished}
            obs = self.world.reset(ended, obs=obs)
        infos["action_mask"] = self.world.action_mask().cpu().numpy()
        return (
            obs.cpu().numpy(),
            result.reward.cpu().numpy(),
            result.done.cpu().numpy(),
            result.truncated.cpu().numpy(),
            infos,
        )


gymnasium.register(id="hamlet/Town-v0", entry_point="hamlet.runtime.world.gym:HamletEnv")
