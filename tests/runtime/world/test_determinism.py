"""Seeds decide everything; saved states resume exactly; agents do not affect each other."""

from __future__ import annotations

import torch

from hamlet.runtime.world import TownWorld, random_valid_actions

from .conftest import pack, with_environment, world


def _run(town: TownWorld, steps: int, seed: int = 7) -> list[torch.Tensor]:
    """Observations and rewards of ``steps`` steps with random valid actions (resets
    included), the actions drawn from a generator of their own."""
    policy = torch.Generator().manual_seed(seed)
    trace = []
    for _ in range(steps):
        result = town.step(random_valid_actions(town.action_mask(), policy), 0.5)
        trace += [result.obs, result.reward]
        town.reset(result.done | result.truncated, obs=result.obs)
    return trace


def test_the_same_seed_gives_the_same_run():
    first, second = world("L3", 8, seed=11), world("L3", 8, seed=11)
    assert all(torch.equal(a, b) for a, b in zip(_run(first, 150), _run(second, 150), strict=True))


def test_different_seeds_give_different_layouts_spawns_and_runs():
    first, second = world("L1", 8, seed=1), world("L1", 8, seed=2)
    assert not torch.equal(first.affordance_positions, second.affordance_positions)
    assert not torch.equal(first.positions, second.positions)
    assert not all(
        torch.equal(a, b) for a, b in zip(_run(first, 20), _run(second, 20), strict=True)
    )


def test_reseeding_a_world_is_like_building_it_with_that_seed():
    built = TownWorld(pack("L2"), 4, seed=9)
    reseeded = TownWorld(pack("L2"), 4, seed=0)
    reseeded.seed(9)
    assert torch.equal(built.reset(), reseeded.reset())


def test_a_fixed_layout_is_shared_by_all_agents_and_kept_on_reset():
    town = world("L1", 5)
    layout = town.affordance_positions.clone()
    assert all(torch.equal(layout[i], layout[0]) for i in range(5))
    town.reset()
    assert torch.equal(town.affordance_positions, layout)
    cells = layout[0, :, 1] * 8 + layout[0, :, 0]
    assert len(set(cells.tolist())) == 14


def test_a_per_episode_layout_is_redrawn_for_the_reset_agents_only():
    town = world(with_environment(pack("L1"), affordance_layout="per_episode"), 4, seed=3)
    layout = town.affordance_positions.clone()
    town.reset(torch.tensor([False, True, False, False]))
    changed = [not torch.equal(town.affordance_positions[i], layout[i]) for i in range(4)]
    assert changed == [False, True, False, False]
    cells = town.affordance_positions[1, :, 1] * 8 + town.affordance_positions[1, :, 0]
    assert len(set(cells.tolist())) == 14
    obs = town.reset(torch.tensor([True, False, False, True]), obs=town.observe())
    assert torch.equal(obs, town.observe())


def test_a_saved_state_resumes_exactly():
    town = world("L3", 6, seed=4)
    _run(town, 40)
    state = town.state_dict()
    expected = _run(town, 60, seed=8)
    restored = TownWorld(pack("L3"), 6, seed=123)
    restored.load_state_dict(state)
    assert all(torch.equal(a, b) for a, b in zip(expected, _run(restored, 60, seed=8), strict=True))


def test_agents_are_independent():
    alone = world("L0_5", 1, seed=0)
    crowd = world("L0_5", 3, seed=0)
    crowd.positions[0] = alone.positions[0]
    for step in range(50):
        action = step % 6
        solo = alone.step(torch.tensor([action]), 1.0)
        many = crowd.step(torch.tensor([action, (action + 1) % 6, 4]), 1.0)
        assert torch.equal(solo.obs[0], many.obs[0])
        assert torch.equal(solo.reward[0], many.reward[0])
