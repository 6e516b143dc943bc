"""The Gymnasium adapters pass Gymnasium's checker and run a random-valid-action loop."""

from __future__ import annotations

import warnings

import gymnasium
import numpy as np
import pytest
import torch
from gymnasium.utils.env_checker import check_env

from hamlet.runtime.world import random_valid_actions
from hamlet.runtime.world.gym import HamletEnv, HamletVectorEnv


@pytest.mark.parametrize("name", ["L0_0_minimal", "L3_temporal_mechanics"])
def test_the_single_agent_env_passes_gymnasiums_checker(name):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The only warning: without a registry spec, other render modes are not tried.
        warnings.filterwarnings("ignore", message=".*not having a spec.*")
        check_env(HamletEnv(name, seed=0))
        check_env(HamletEnv(name, seed=0, render_mode="ansi"))


def test_the_registered_env_is_made_by_id():
    env = gymnasium.make("hamlet/Town-v0", pack="L1_full_observability")
    obs, info = env.reset(seed=0)
    assert obs.shape == (91,) and obs.dtype == np.float32
    assert info["action_mask"].dtype == np.bool_ and info["action_mask"].shape == (6,)


def test_an_episode_of_the_single_agent_env_ends_in_termination_or_truncation():
    env = HamletEnv("L0_5_dual_resource", seed=0, render_mode="ansi")
    obs, info = env.reset(seed=4)
    rng = np.random.default_rng(0)
    for _ in range(600):
        action = rng.choice(np.flatnonzero(info["action_mask"]))
        obs, _, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        if terminated or truncated:
            break
    assert terminated != truncated
    assert truncated == (env.world.step_count.item() == 500) and info["died"] == terminated
    assert "@" in env.render()


def test_the_vector_env_autoresets_and_reports_final_observations():
    env = HamletVectorEnv("L0_0_minimal", 8, seed=0)
    obs, info = env.reset(seed=0)
    assert obs.shape == (8, 36) and info["action_mask"].shape == (8, 6)
    policy = torch.Generator().manual_seed(0)
    finished = 0
    for _ in range(2000):
        actions = random_valid_actions(torch.from_numpy(info["action_mask"]), policy).numpy()
        obs, rewards, terminations, truncations, info = env.step(actions)
        assert env.observation_space.contains(obs)
        assert rewards.dtype == np.float32 and terminations.dtype == np.bool_
        if "_final_obs" in info:
            ended = terminations | truncations
            assert np.array_equal(info["_final_obs"], ended)
            for agent in np.flatnonzero(ended):
                assert info["final_obs"][agent].shape == (36,)
                assert obs[agent, -1] == 0.0  # a new episode: lifetime progress 0
            finished += int(ended.sum())
        assert info["action_mask"].any(axis=1).all()  # every agent is in an episode
    assert finished > 0


def test_the_vector_env_takes_one_multiplier_per_agent():
    env = HamletVectorEnv("L1_full_observability", 2, depletion_multiplier=np.array([0.0, 1.0]))
    env.reset(seed=0)
    env.step(np.array([5, 5]))
    energy = env.world.meters[:, 0]
    assert (energy[0] - energy[1]).item() == pytest.approx(0.005, abs=1e-6)
