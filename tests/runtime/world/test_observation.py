"""Observations and action masks, checked element by element on hand-built states."""

from __future__ import annotations

import math

import pytest
import torch

from hamlet.configs import PACK_NAMES
from hamlet.schemas import observation_layout

from .conftest import FITNESS, HEALTH, INTERACT, MONEY, VOCABULARY, WAIT, act, pack, place, world


def test_a_full_observation_reads_grid_meters_one_hot_and_temporal_fields():
    town = world("L0_5")
    place(town, {"Bed": (0, 0), "HomeMeal": (1, 0), "Hospital": (2, 0), "Job": (3, 0)})
    town.positions[0] = torch.tensor([1, 0])  # on HomeMeal
    town.meters[0] = torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2])
    town.step_count = torch.tensor([250])
    grid = [0.0] * 49
    grid[0] = grid[2] = grid[3] = 1.0  # affordances
    grid[1] = 2.0  # the agent on an affordance
    one_hot = [0.0] * 15
    one_hot[VOCABULARY.index("HomeMeal")] = 1.0
    temporal = [0.0, 1.0, 0.0, 0.25]  # no clock: t = 0; 250 of 1000 steps lived
    expected = [*grid, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, *one_hot, *temporal]
    assert town.observe()[0].tolist() == pytest.approx(expected, abs=1e-7)
    assert [f.name for f in town.layout.fields] == ["grid", "meters", "affordance", "temporal"]


def test_a_full_observation_marks_an_agent_on_an_empty_cell_with_one():
    town = world("L0_0")
    place(town, {"Bed": (2, 2)})
    town.positions[0] = torch.tensor([0, 1])
    obs = town.observe()[0]
    assert obs[:9].tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert obs[9 + 8 + 14].item() == 1.0  # the "none" slot


def _window(layout: dict[str, tuple[int, int]], x: int, y: int, size: int, reach: int) -> list:
    """The partial-observability window, computed cell by cell."""
    occupied = set(layout.values())
    return [
        1.0 if (cx, cy) in occupied and 0 <= cx < size and 0 <= cy < size else 0.0
        for cy in range(y - reach, y + reach + 1)
        for cx in range(x - reach, x + reach + 1)
    ]


def test_a_partial_observation_reads_the_window_position_and_temporal_features():
    town = world("L3")
    place(town, {"Bed": (0, 0), "Shower": (1, 2), "Bar": (2, 1), "Job": (4, 4)})
    town.positions[0] = torch.tensor([0, 0])  # on Bed, in a corner
    town.time_of_day = torch.tensor([6])
    town.interaction_affordance = torch.tensor([0])
    town.interaction_progress = torch.tensor([2])  # 2 of Bed's 5 ticks
    town.step_count = torch.tensor([1500])  # past the lifespan: lifetime progress stays 1
    window = _window(town.affordance_layout(0), 0, 0, 8, 2)
    assert window[12] == 1.0  # the centre: the agent's cell holds Bed
    assert sum(window) == 3.0  # Bed, Shower and Bar are in reach; Job is not
    one_hot = [1.0] + [0.0] * 14
    angle = 2 * math.pi * 6 / 24
    temporal = [math.sin(angle), math.cos(angle), 2 / 5, 1.0]
    expected = window + [0.0, 0.0] + [1.0] * 3 + [0.5] + [1.0] * 4 + one_hot + temporal
    assert town.observe()[0].tolist() == pytest.approx(expected, abs=1e-6)
    names = [f.name for f in town.layout.fields]
    assert names == ["grid", "position", "meters", "affordance", "temporal"]


def test_a_partial_observation_normalizes_the_position_and_reads_off_grid_cells_as_empty():
    town = world("L2")
    place(town, {})
    town.positions[0] = torch.tensor([7, 3])
    obs = town.observe()[0]
    window = _window(town.affordance_layout(0), 7, 3, 8, 2)
    assert obs[:25].tolist() == window
    assert obs[25:27].tolist() == pytest.approx([1.0, 3 / 7])


@pytest.mark.parametrize("name", PACK_NAMES)
def test_observations_stay_within_the_declared_bounds(name):
    town = world(name, 32, seed=3)
    low, high = (torch.tensor(b) for b in town.observation_bounds())
    generator = torch.Generator().manual_seed(0)
    for _ in range(60):
        actions = torch.randint(0, 6, (32,), generator=generator)
        obs = town.step(actions, 1.0).obs
        assert bool(((obs >= low) & (obs <= high)).all())


def test_the_mask_blocks_moves_off_the_grid():
    town = world("L1", 3)
    place(town, {})  # the affordances fill the bottom rows, from (7, 7) backwards
    town.positions = torch.tensor([[0, 0], [7, 7], [3, 0]])
    assert town.action_mask().tolist() == [
        [False, True, False, True, False, True],
        [True, False, True, False, True, True],
        [False, True, True, True, False, True],
    ]


def test_the_mask_allows_interact_only_on_a_deployed_affordance():
    town = world("L0_5", 2)
    place(town, {"Bed": (0, 0)})
    town.positions = torch.tensor([[0, 0], [4, 4]])
    assert town.action_mask()[:, INTERACT].tolist() == [True, False]
    town.meters[0, MONEY] = 0.0  # affordability is not part of the mask
    assert town.action_mask()[0, INTERACT].item()


def test_the_mask_of_an_agent_that_died_is_all_false():
    town = world("L1", 2)
    town.meters[0, HEALTH] = 0.0001
    town.meters[0, FITNESS] = 0.0  # the modulation drains 0.003
    result = act(town, WAIT, WAIT)
    assert result.died.tolist() == [True, False]
    mask = town.action_mask()
    assert not mask[0].any()
    assert mask[1, WAIT].item()


def test_the_layout_matches_the_shared_observation_layout():
    for name, dim in zip(PACK_NAMES, (36, 76, 91, 54, 54), strict=True):
        town = world(name)
        assert town.obs_dim == dim
        assert town.observe().shape == (1, dim)
        assert town.layout == observation_layout(pack(name))


@pytest.mark.parametrize("name", ["L1", "L3"])
def test_agents_with_different_layouts_see_what_single_agents_with_them_see(name):
    pair = world(name, 2, seed=0)
    singles = [world(name, 1, seed=seed) for seed in (1, 2)]
    pair.affordance_positions = torch.cat([s.affordance_positions for s in singles])
    pair.positions = torch.tensor([[3, 4], [6, 1]])
    for agent, single in enumerate(singles):
        single.positions[0] = pair.positions[agent]
    expected = torch.cat([s.observe() for s in singles])
    assert torch.equal(pair.observe(), expected)
    result = pair.step(torch.tensor([WAIT, WAIT]), 1.0)
    stepped = torch.cat([s.step(torch.tensor([WAIT]), 1.0).obs for s in singles])
    assert torch.equal(result.obs, stepped)
    mask = torch.tensor([True, False])
    assert torch.equal(pair.reset(mask, obs=result.obs), pair.observe())
