"""``hamlet eval``: how long does a trained brain survive at a fixed difficulty?

Each evaluated policy plays ``episodes`` episodes side by side (one agent per
episode, in one vectorized world) with the same seed, so the policies meet the same
spawns and layouts. Besides the model's greedy policy, two baselines put the figure
in context: a uniformly random choice among the valid actions, and always WAIT.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor

from hamlet.schemas import Pack

from .actions import select_actions
from .model import HamletModel
from .text import text_table
from .world import TownWorld

WAIT = 5

Policy = Callable[[Tensor, Tensor, object], tuple[Tensor, object]]


@dataclass(frozen=True)
class Score:
    """Survival and return of one policy over the evaluation episodes."""

    policy: str
    episodes: int
    mean_survival: float
    median_survival: float
    mean_return: float
    median_return: float
    survivals: list[int]

    def summary(self) -> dict[str, float | int | str]:
        data = asdict(self)
        data.pop("survivals")
        return data


def evaluate(
    model: HamletModel,
    pack: Pack,
    *,
    episodes: int = 100,
    multiplier: float = 1.0,
    seed: int = 0,
    layout: dict[str, list[int]] | None = None,
) -> list[Score]:
    """Greedy model, random-valid and always-WAIT, each over ``episodes`` episodes.

    ``layout`` (``{affordance: [x, y]}``, as training checkpoints record it) places the
    affordances where the model learned them; without it the seed draws the layout.
    """
    device = model.device
    generator = torch.Generator(device).manual_seed(seed + 1)

    def greedy(obs: Tensor, mask: Tensor, hidden: object) -> tuple[Tensor, object]:
        out = model.predict(obs, hidden, action_mask=mask)  # type: ignore[arg-type]
        return out["actions"], out["hidden"]

    def random(obs: Tensor, mask: Tensor, hidden: object) -> tuple[Tensor, object]:
        q = torch.zeros(mask.shape, device=device)
        return select_actions(q, epsilon=1.0, action_mask=mask, generator=generator), None

    def wait(obs: Tensor, mask: Tensor, hidden: object) -> tuple[Tensor, object]:
        return torch.full((obs.shape[0],), WAIT, device=device), None

    policies: list[tuple[str, Policy, object]] = [
        ("greedy", greedy, model.initial_state(episodes)),
        ("random", random, None),
        ("always-WAIT", wait, None),
    ]
    return [
        _play(name, policy, hidden, pack, episodes, multiplier, seed, device, layout)
        for name, policy, hidden in policies
    ]


def _play(
    name: str,
    policy: Policy,
    hidden: object,
    pack: Pack,
    episodes: int,
    multiplier: float,
    seed: int,
    device: torch.device,
    layout: dict[str, list[int]] | None,
) -> Score:
    world = TownWorld(pack, num_agents=episodes, device=device, seed=seed)
    if layout is not None:
        place(world, layout)
    obs = world.reset()
    running = torch.ones(episodes, dtype=torch.bool, device=device)
    survival = torch.zeros(episodes, dtype=torch.long, device=device)
    returns = torch.zeros(episodes, device=device)
    with torch.no_grad():
        while bool(running.any()):
            mask = world.action_mask()
            actions, hidden = policy(obs, mask, hidden)
            result = world.step(actions, multiplier)
            returns += torch.where(running, result.reward, 0.0)
            survival = torch.where(running, world.step_count, survival)
            running = running & ~(result.done | result.truncated)
            obs = result.obs
    steps = survival.tolist()
    values = returns.tolist()
    return Score(
        policy=name,
        episodes=episodes,
        mean_survival=statistics.fmean(steps),
        median_survival=statistics.median(steps),
        mean_return=statistics.fmean(values),
        median_return=statistics.median(values),
        survivals=steps,
    )


def place(world: TownWorld, layout: dict[str, list[int]]) -> None:
    """Put every agent's affordances where ``layout`` (``{name: [x, y]}``) says."""
    names = [world.vocabulary[i] for i in world.rules.deployed.tolist()]
    cells = torch.tensor([layout[name] for name in names], device=world.device)
    world.affordance_positions = cells.expand(world.num_agents, -1, -1).clone()


def format_scores(scores: list[Score], *, title: str) -> str:
    """The scores as a table, the model's first."""
    rows = [("policy", "episodes", "survival mean", "median", "return mean", "median")]
    rows += [
        (
            s.policy,
            str(s.episodes),
            f"{s.mean_survival:.1f}",
            f"{s.median_survival:.0f}",
            f"{s.mean_return:.1f}",
            f"{s.median_return:.1f}",
        )
        for s in scores
    ]
    return "\n".join([title, *text_table(rows, right_from=1)])
