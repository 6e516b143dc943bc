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
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.model import HamletModel, select_actions
from hamlet.runtime.text import text_table
from hamlet.runtime.world import TownWorld
from hamlet.schemas import Pack, load_pack
from hamlet.schemas.errors import CheckpointError, Diagnostic, SpecError

from .directory import newest_model

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


@dataclass(frozen=True)
class Evaluation:
    """``hamlet eval``'s answer: the scores of a saved model and the baselines, and the
    conditions they were measured under."""

    model: Path
    pack: str
    multiplier: float
    seed: int
    training_layout: bool
    """Whether the affordances stood where the model was trained (fixed-layout packs)."""
    scores: list[Score]

    def to_json(self) -> dict[str, Any]:
        return {
            "model": str(self.model), "pack": self.pack, "multiplier": self.multiplier,
            "seed": self.seed, "training_layout": self.training_layout,
            "scores": [s.summary() for s in self.scores],
        }  # fmt: skip

    def __str__(self) -> str:
        where = "its training layout" if self.training_layout else "layouts drawn from the seed"
        title = (
            f"{self.model} in {self.pack} at depletion multiplier {self.multiplier:g} "
            f"(seed {self.seed}, {self.scores[0].episodes} episodes, {where})"
        )
        return format_scores(self.scores, title=title)


def evaluate_checkpoint(
    path: str | Path,
    *,
    pack: str | Path | None = None,
    stage: int | None = None,
    multiplier: float | None = None,
    episodes: int = 100,
    seed: int = 0,
    device: str = "cpu",
    new_layout: bool = False,
) -> Evaluation:
    """Evaluate a saved model (a checkpoint, a run directory or a folder of runs: the
    newest model) in ``pack`` (default: the one it was trained in), at a curriculum
    ``stage`` or a depletion ``multiplier`` (default 1.0, full difficulty)."""
    path = newest_model(Path(path))
    model, world = load_with_pack(path, pack, device=device)
    if stage is not None:
        multiplier = stage_multiplier(world, stage)
    multiplier = 1.0 if multiplier is None else multiplier
    layout = model.metadata.get("affordance_layout")
    fixed = world.training.environment.affordance_layout == "fixed"
    use_layout = layout if fixed and not new_layout else None
    scores = evaluate(
        model, world, episodes=episodes, multiplier=multiplier, seed=seed, layout=use_layout
    )
    return Evaluation(path, world.name, multiplier, seed, use_layout is not None, scores)


def load_with_pack(
    path: Path, pack: str | Path | None, *, device: str = "cpu"
) -> tuple[HamletModel, Pack]:
    """A saved model and the config pack to play it in: ``pack`` when given, else the
    one the model was trained in (its ``metadata.pack``)."""
    model = HamletModel.load(path, device=device)
    pack_name = pack or model.metadata.get("pack")
    if pack_name is None:
        raise CheckpointError(
            Diagnostic(
                "E204",
                f"{path} does not name the pack it was trained in",
                hint="give the pack whose world to play in: --pack PACK",
                file=str(path),
                path="metadata.pack",
            )
        )
    return model, load_pack(pack_name)


def stage_multiplier(pack: Pack, stage: int) -> float:
    """The depletion multiplier of curriculum ``stage`` (1-based) of ``pack``."""
    stages = pack.training.curriculum.stages
    if not 1 <= stage <= len(stages):
        raise SpecError(
            Diagnostic(
                "E113",
                f"--stage {stage} is not a curriculum stage of {pack.name}",
                hint=f"give a stage from 1 to {len(stages)}",
            )
        )
    return stages[stage - 1].depletion_multiplier


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
