"""``hamlet eval``: how long does a trained brain survive at a fixed difficulty?

Each evaluated policy plays ``episodes`` episodes side by side (one agent per
episode, in one vectorized world) with the same seed, so the policies meet the same
spawns and layouts. Three baselines stand beside the model's greedy policy and put its
figure in context:

* ``heuristic``: a hand-written policy (:mod:`.heuristic`) that sees the true world
  state. It shows what competent play looks like and sets the learning targets.
* ``random``: a uniformly random choice among the valid actions.
* ``always-WAIT``: the WAIT action, every step.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from hamlet.runtime.model import HamletModel, select_actions
from hamlet.runtime.model.device import resolve_device
from hamlet.runtime.text import text_table
from hamlet.runtime.world import HeuristicPolicy, TownWorld
from hamlet.schemas import Pack, load_pack, observation_layout
from hamlet.schemas.errors import CheckpointError, Diagnostic, RunError, UsageError
from hamlet.schemas.layout import ObservationLayout

from .directory import newest_model

WAIT = 5

Policy = Callable[[Tensor, Tensor, object], tuple[Tensor, object]]
"""``(obs, mask, hidden) -> (actions, hidden)``: one step of every episode."""
HEURISTIC_NOTE = "heuristic: a hand-written rule that sees the true world state"


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
    max_steps: int
    """Where an episode stops (the pack's ``max_steps_per_episode``)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "model": str(self.model), "pack": self.pack, "multiplier": self.multiplier,
            "seed": self.seed, "training_layout": self.training_layout,
            "max_steps": self.max_steps,
            "scores": [s.summary() for s in self.scores],
        }  # fmt: skip

    def __str__(self) -> str:
        where = "its training layout" if self.training_layout else "layouts drawn from the seed"
        title = (
            f"{self.model} in {self.pack} at depletion multiplier {self.multiplier:g} "
            f"(seed {self.seed}, {self.scores[0].episodes} episodes, {where})"
        )
        table = format_scores(self.scores, title=title)
        table += (
            f"\nsurvival: steps an episode lasted (at most {self.max_steps}), higher is better; "
            "greedy: the trained network, always taking the action it values most"
        )
        if any(s.policy == "heuristic" for s in self.scores):
            table += f"\n({HEURISTIC_NOTE}, which a partially observing agent does not)"
        return table


MAX_EPISODES = 100_000
"""Evaluation plays its episodes side by side, one agent each: a bound on the world's size."""


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
    """Evaluate a saved model (a checkpoint, a run directory, its ``checkpoints/`` or a
    folder of runs: the newest model) in ``pack`` (default: the one it was trained in),
    at a curriculum ``stage`` or a depletion ``multiplier`` (default 1.0, full
    difficulty)."""
    if not 1 <= episodes <= MAX_EPISODES:
        raise UsageError.option(
            "--episodes", episodes, f"a whole number from 1 to {MAX_EPISODES:,}"
        )
    if multiplier is not None and not (math.isfinite(multiplier) and 0 <= multiplier <= 10):
        raise UsageError.option("--multiplier", multiplier, "a depletion multiplier from 0 to 10")
    path = newest_model(Path(path))
    model, world = load_with_pack(path, pack, device=device)
    if stage is not None:
        multiplier = stage_multiplier(world, stage)
    multiplier = 1.0 if multiplier is None else multiplier
    layout = None if new_layout else trained_layout(model, world, path)
    scores = evaluate(
        model, world, episodes=episodes, multiplier=multiplier, seed=seed, layout=layout
    )
    max_steps = world.training.environment.max_steps_per_episode
    return Evaluation(path, world.name, multiplier, seed, layout is not None, scores, max_steps)


def load_with_pack(
    path: Path, pack: str | Path | None, *, device: str | torch.device = "cpu"
) -> tuple[HamletModel, Pack]:
    """A saved model and the config pack to play it in, checked to fit each other:
    ``pack`` when given; else, for a checkpoint of a run directory, the run's own copy of
    its pack; else the pack it names (``metadata.pack_path``, then ``metadata.pack``)."""
    model = HamletModel.load(path, device=resolve_device(device))
    world = load_pack(pack) if pack is not None else _trained_pack(model, path)
    expected = observation_layout(world)
    if model.layout.to_dict() != expected.to_dict():
        raise RunError(
            Diagnostic(
                "E302",
                f"{path} was trained for a world of {model.obs_dim} observations and "
                f"{model.num_actions} actions ({_fields(model.layout)}); {world.name} has "
                f"{expected.obs_dim} and {expected.num_actions} ({_fields(expected)})",
                hint="evaluate it in the pack it was trained in (leave out --pack), or train "
                f"a brain for {world.name}",
                file=str(path),
                path="metadata.observation_layout",
            )
        )
    return model, world


def _trained_pack(model: HamletModel, path: Path) -> Pack:
    run = path.resolve().parent.parent
    if path.resolve().parent.name == "checkpoints" and (run / "config" / "brain.yaml").is_file():
        return load_pack(run / "config").model_copy(update={"name": run.parent.name})
    source = model.metadata.get("pack_path")
    if isinstance(source, str) and Path(source, "training.yaml").is_file():
        return load_pack(source)
    name = model.metadata.get("pack")
    if name is None:
        raise CheckpointError(
            Diagnostic(
                "E204",
                f"{path} does not name the pack it was trained in",
                hint="give the pack whose world to play in: --pack PACK",
                file=str(path),
                path="metadata.pack",
            )
        )
    return load_pack(name)


def _fields(layout: ObservationLayout) -> str:
    return ", ".join(f"{f.name} {'x'.join(map(str, f.shape))}" for f in layout.fields)


def trained_layout(model: HamletModel, pack: Pack, path: Path) -> dict[str, list[int]] | None:
    """Where the model's affordances stood in training, when its pack keeps them fixed and
    the checkpoint records them (None otherwise); checked against the pack's grid."""
    layout = model.metadata.get("affordance_layout")
    if layout is None or pack.training.environment.affordance_layout != "fixed":
        return None
    names = sorted(a.name for a in pack.deployed_affordances)
    size = pack.training.environment.grid_size

    def is_cell(cell: object) -> bool:
        return (
            isinstance(cell, list | tuple)
            and len(cell) == 2
            and all(type(v) is int and 0 <= v < size for v in cell)
        )

    problem = None
    if not isinstance(layout, dict) or sorted(layout) != names:
        problem = f"it places {sorted(layout) if isinstance(layout, dict) else layout!r}, "
        problem += f"and {pack.name} has {names}"
    elif not all(is_cell(cell) for cell in layout.values()):
        problem = f"its cells must be [x, y] in 0..{size - 1}: {layout}"
    elif len({tuple(cell) for cell in layout.values()}) != len(layout):
        problem = f"two affordances share a cell: {layout}"
    if problem is not None:
        raise RunError(
            Diagnostic(
                "E302",
                f"the affordance layout {path} records does not fit {pack.name}: {problem}",
                hint="evaluate with --new-layout to place the affordances anew, or in the "
                "pack the model was trained in",
                file=str(path),
                path="metadata.affordance_layout",
            )
        )
    return {name: list(cell) for name, cell in layout.items()}


def stage_multiplier(pack: Pack, stage: int) -> float:
    """The depletion multiplier of curriculum ``stage`` (1-based) of ``pack``."""
    stages = pack.training.curriculum.stages
    if not 1 <= stage <= len(stages):
        raise UsageError.option(
            "--stage", stage, f"a stage of {pack.name}, from 1 to {len(stages)}"
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
    baselines: bool = True,
) -> list[Score]:
    """Greedy model, heuristic, random-valid and always-WAIT (or, without ``baselines``,
    the greedy model alone), each over ``episodes`` episodes.

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

    # each made for the world it plays in (the heuristic reads that world's state)
    policies: list[tuple[str, Callable[[TownWorld], Policy], object]] = [
        ("greedy", lambda world: greedy, model.initial_state(episodes)),
        ("heuristic", HeuristicPolicy, None),
        ("random", lambda world: random, None),
        ("always-WAIT", lambda world: wait, None),
    ]
    return [
        _play(name, policy, hidden, pack, episodes, multiplier, seed, device, layout)
        for name, policy, hidden in (policies if baselines else policies[:1])
    ]


def _play(
    name: str,
    make_policy: Callable[[TownWorld], Policy],
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
    policy = make_policy(world)
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
