"""How episodes end (death, retirement, truncation) and how agents are reset."""

from __future__ import annotations

import pytest
import torch

from hamlet.runtime.world import NO_ACTION

from .conftest import ENERGY, FITNESS, HEALTH, UP, WAIT, act, world


def _dying_world():
    town = world("L1", 2)
    town.meters[0, HEALTH] = 0.002
    town.meters[0, FITNESS] = 0.0  # the modulation drains 0.003: health reaches 0
    return town


def test_death_ends_the_episode_with_no_reward_and_freezes_the_agent():
    town = _dying_world()
    result = act(town, WAIT, WAIT)
    assert result.died.tolist() == [True, False]
    assert result.done.tolist() == [True, False]
    assert result.reward[0].item() == 0.0
    assert result.reward[1].item() > 0.99
    assert town.alive.tolist() == [False, True]
    frozen = (town.meters[0].clone(), town.positions[0].clone(), town.step_count[0].item())
    result = act(town, UP, WAIT)
    assert torch.equal(town.meters[0], frozen[0])
    assert torch.equal(town.positions[0], frozen[1])
    assert town.step_count[0].item() == frozen[2]
    assert result.reward[0].item() == 0.0
    assert not result.done[0] and not result.died[0] and not result.truncated[0]


def test_agents_out_of_an_episode_accept_no_action():
    town = _dying_world()
    act(town, WAIT, WAIT)
    act(town, NO_ACTION, WAIT)
    assert town.alive.tolist() == [False, True]


def test_energy_at_zero_kills_too():
    town = world("L1")
    town.meters[0, ENERGY] = 0.0005
    result = act(town, WAIT)  # WAIT costs 0.001 energy
    assert result.died.item() and town.meters[0, ENERGY].item() == 0.0


def test_retirement_ends_the_episode_with_a_bonus_of_one():
    town = world("L1")
    town.step_count = torch.tensor([999])
    result = act(town, WAIT)
    assert result.retired.item() and result.done.item() and not result.died.item()
    energy, health = town.meters[0, ENERGY].item(), town.meters[0, HEALTH].item()
    assert result.reward.item() == pytest.approx(1.0 + energy * health, abs=1e-6)
    assert not town.alive.item()


def test_the_step_limit_truncates_an_episode_without_ending_the_agent():
    town = world("L1")
    town.step_count = torch.tensor([498])
    assert not act(town, WAIT).truncated.item()
    result = act(town, WAIT)
    assert result.truncated.item() and not result.done.item()
    assert town.step_count.item() == 500 and town.alive.item()


def test_l0_0_retires_at_its_step_limit_rather_than_truncating():
    town = world("L0_0")
    town.step_count = torch.tensor([999])
    result = act(town, WAIT)
    assert result.retired.item() and not result.truncated.item()


def test_reset_restores_the_initial_meters_and_counters_of_the_masked_agents_only():
    town = world("L3", 3, seed=5)
    for _ in range(30):
        town.step(torch.tensor([0, 1, 5]), 1.0)
    before = town.state_dict()
    obs = town.reset(torch.tensor([False, True, False]))
    after = town.state_dict()
    for key in ("positions", "meters", "step_count", "time_of_day", "interaction_progress"):
        assert torch.equal(after[key][[0, 2]], before[key][[0, 2]]), key
    assert town.step_count.tolist() == [30, 0, 30]
    assert town.time_of_day.tolist() == [6, 0, 6]
    assert town.meters[1].tolist() == pytest.approx([1, 1, 1, 0.5, 1, 1, 1, 1])
    assert torch.equal(obs, town.observe())


def test_reset_with_the_last_observations_rebuilds_only_the_reset_rows():
    for name in ("L1", "L3"):
        town = world(name, 6, seed=2)
        for _ in range(10):
            result = town.step(torch.tensor([0, 1, 2, 3, 4, 5]), 1.0)
        mask = torch.tensor([True, False, False, True, False, True])
        obs = town.reset(mask, obs=result.obs)
        assert obs is result.obs
        assert torch.equal(obs, town.observe())
