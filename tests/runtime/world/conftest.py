"""Shared helpers of the world tests: packs loaded once, worlds with hand-set states."""

from __future__ import annotations

import pytest
import torch

from hamlet.configs import PACK_NAMES
from hamlet.runtime.world import TownWorld
from hamlet.schemas import Pack, load_pack

UP, DOWN, LEFT, RIGHT, INTERACT, WAIT = range(6)
ENERGY, HYGIENE, SATIATION, MONEY, MOOD, SOCIAL, HEALTH, FITNESS = range(8)
VOCABULARY = (
    "Bed",
    "LuxuryBed",
    "Shower",
    "HomeMeal",
    "FastFood",
    "Doctor",
    "Hospital",
    "Therapist",
    "Recreation",
    "Bar",
    "Job",
    "Labor",
    "Gym",
    "Park",
)

_PACKS: dict[str, Pack] = {}


def pack(name: str) -> Pack:
    """The shipped pack ``name`` (short names such as ``L1`` work), loaded once."""
    full = next(p for p in PACK_NAMES if p.startswith(name))
    if full not in _PACKS:
        _PACKS[full] = load_pack(full)
    return _PACKS[full]


def with_environment(base: Pack, **changes: object) -> Pack:
    """``base`` with some ``training.environment`` values replaced."""
    env = base.training.environment.model_copy(update=changes)
    return base.model_copy(
        update={"training": base.training.model_copy(update={"environment": env})}
    )


def world(name: str | Pack, num_agents: int = 1, seed: int = 0) -> TownWorld:
    """A world of the pack whose agents were all reset."""
    town = TownWorld(name if isinstance(name, Pack) else pack(name), num_agents, seed=seed)
    town.reset()
    return town


def place(town: TownWorld, cells: dict[str, tuple[int, int]]) -> None:
    """Put the named deployed affordances on the given (x, y) cells for every agent; the
    others fill the free cells from the bottom-right corner backwards."""
    deployed = [town.vocabulary[i] for i in town.rules.deployed.tolist()]
    size = town.grid_size
    free = [(x, y) for y in range(size) for x in range(size) if (x, y) not in cells.values()]
    spare = reversed(free)
    layout = [cells[name] if name in cells else next(spare) for name in deployed]
    town.affordance_positions = torch.tensor(layout).expand(town.num_agents, -1, -1)


def act(town: TownWorld, *actions: int, multiplier: float = 0.0):
    """One step with the given actions (one per agent); base depletion off by default."""
    return town.step(torch.tensor(actions), multiplier)


@pytest.fixture
def l1() -> TownWorld:
    return world("L1")
