"""The hand-written yardstick: it plays every shipped pack competently, with valid
actions only, and ``hamlet eval`` puts it beside the other baselines."""

from __future__ import annotations

import statistics

import pytest
import torch

from hamlet.configs import PACK_NAMES
from hamlet.runtime.world import HeuristicPolicy, TownWorld, random_valid_actions

EPISODES = 16
WAIT = 5


def play(pack: str, choose) -> list[int]:
    """Survival of ``EPISODES`` side-by-side episodes at full difficulty, seed 0."""
    world = TownWorld(pack, EPISODES, seed=0)
    obs = world.reset()
    running = torch.ones(EPISODES, dtype=torch.bool)
    survival = torch.zeros(EPISODES, dtype=torch.long)
    while bool(running.any()):
        mask = world.action_mask()
        actions = choose(world, obs, mask)
        chosen = mask.gather(1, actions.clamp(min=0)[:, None]).squeeze(1)
        assert bool(chosen[running].all()), "an invalid action"
        result = world.step(actions, 1.0)
        survival = torch.where(running, world.step_count, survival)
        running &= ~(result.done | result.truncated)
        obs = result.obs
    return survival.tolist()


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_the_heuristic_outlives_random_and_waiting_by_far(pack):
    policies: dict[str, HeuristicPolicy] = {}

    def heuristic(world, obs, mask):
        policy = policies.setdefault("p", HeuristicPolicy(world))
        return policy(obs, mask, None)[0]

    generator = torch.Generator().manual_seed(1)
    clever = statistics.fmean(play(pack, heuristic))
    rand = statistics.fmean(play(pack, lambda w, o, mask: random_valid_actions(mask, generator)))
    wait = statistics.fmean(play(pack, lambda w, o, mask: torch.full((EPISODES,), WAIT)))
    assert clever >= 1.5 * max(rand, wait), (clever, rand, wait)
    if pack != "L0_0_minimal":  # (there the money for the one Bed runs out: ~280 at best)
        assert clever >= 450, clever
