"""One step of the town, pinned to the reference's numbers (townlet-facts §1.3-§1.5)."""

from __future__ import annotations

import pytest
import torch

from hamlet.runtime.world import TownWorld

from .conftest import (
    DOWN,
    ENERGY,
    FITNESS,
    HEALTH,
    HYGIENE,
    INTERACT,
    MONEY,
    MOOD,
    RIGHT,
    SATIATION,
    SOCIAL,
    WAIT,
    act,
    pack,
    place,
    world,
)


def test_first_wait_in_l0_5_at_multiplier_0_2_matches_the_reference():
    town = world("L0_5")
    result = act(town, WAIT, multiplier=0.2)
    expected = {
        ENERGY: 0.9941,
        HYGIENE: 0.9994,
        SATIATION: 0.9992,
        MONEY: 1.0,
        MOOD: 0.9998,
        SOCIAL: 0.9988,
        HEALTH: 0.999499,
        FITNESS: 0.9996,
    }
    for meter, value in expected.items():
        assert town.meters[0, meter].item() == pytest.approx(value, abs=1e-6), meter
    assert result.reward.item() == pytest.approx(0.999499 * 0.9941, abs=1e-6)
    assert result.reward.item() == pytest.approx(0.99360, abs=1e-5)


def test_a_cascade_below_its_threshold_drains_in_proportion_to_the_deficit():
    town = world("L1")
    town.meters[0, SATIATION] = 0.15  # deficit (0.3 - 0.15) / 0.3 = 0.5
    act(town, WAIT)  # multiplier 0: no base depletion, so satiation stays at 0.15
    wait_energy, modulation = 0.001, 0.001 * 0.5  # fitness 1: 0.001 x (0.5 + 2.5 x 0)
    assert town.meters[0, SATIATION].item() == pytest.approx(0.15, abs=1e-7)
    assert town.meters[0, ENERGY].item() == pytest.approx(1 - wait_energy - 0.005 * 0.5, abs=1e-6)
    assert town.meters[0, HEALTH].item() == pytest.approx(1 - modulation - 0.004 * 0.5, abs=1e-6)


def test_cascades_apply_in_category_order_each_seeing_the_previous_values():
    town = world("L1")
    town.meters[0, HYGIENE] = 0.0  # deficit 1: every hygiene cascade drains its full strength
    town.meters[0, SATIATION] = 0.3  # at the threshold: no drain from satiation
    act(town, WAIT)
    meters = town.meters[0]
    # hygiene_to_satiation (secondary_to_primary) runs after satiation_to_* (primary_to_
    # pivotal), which saw 0.3 and drained nothing.
    assert meters[SATIATION].item() == pytest.approx(0.3 - 0.002, abs=1e-6)
    assert meters[ENERGY].item() == pytest.approx(1 - 0.001 - 0.0005, abs=1e-6)
    # The modulation ran first, on fitness 1 (0.0005), then hygiene_to_health (0.0005).
    assert meters[HEALTH].item() == pytest.approx(1 - 0.0005 - 0.0005, abs=1e-6)
    assert meters[FITNESS].item() == pytest.approx(1 - 0.002, abs=1e-6)
    assert meters[MOOD].item() == pytest.approx(1 - 0.003, abs=1e-6)


def test_the_drain_waves_equal_modulations_and_cascades_applied_one_by_one():
    town = world("L1")
    meters = torch.rand(8, 500, generator=torch.Generator().manual_seed(0)) * 0.6
    expected = meters.clone()
    names = pack("L1").meter_names
    for m in pack("L1").cascades.modulations:
        source, target = names.index(m.source), names.index(m.target)
        drain = m.baseline_depletion * (m.base_multiplier + m.range * (1 - expected[source]))
        expected[target] = (expected[target] - drain).clamp(0, 1)
    for c in pack("L1").cascades.in_application_order():
        source, target = names.index(c.source), names.index(c.target)
        deficit = ((c.threshold - expected[source]) / c.threshold).clamp(min=0)
        expected[target] = (expected[target] - c.strength * deficit).clamp(0, 1)
    assert torch.allclose(town.drains.cascade_(meters), expected, atol=1e-6)


def test_an_instant_interaction_adds_its_effects_clamped_then_subtracts_its_costs():
    town = world("L0_5")  # INTERACT costs 0.0029 energy here, paid with Bed's costs
    place(town, {"Bed": (0, 0)})
    town.positions[0] = torch.tensor([0, 0])
    town.meters[0, ENERGY] = 0.7
    result = act(town, INTERACT)
    meters = town.meters[0]
    assert result.interactions.tolist() == [0]  # Bed's vocabulary index
    assert meters[ENERGY].item() == pytest.approx(1.0 - 0.0029, abs=1e-6)  # 0.7 + 0.5 -> 1.0
    assert meters[MONEY].item() == pytest.approx(1.0 - 0.05, abs=1e-6)
    assert meters[HEALTH].item() == pytest.approx(1.0 - 0.0005, abs=1e-6)  # +0.02 clamped


def test_an_unaffordable_interaction_does_nothing_but_its_action_costs_apply():
    town = world("L0_5")
    place(town, {"Hospital": (3, 3)})
    town.positions[0] = torch.tensor([3, 3])
    town.meters[0, MONEY] = 0.1  # Hospital costs 0.15
    town.meters[0, HEALTH] = 0.5
    result = act(town, INTERACT)
    meters = town.meters[0]
    assert result.interactions.tolist() == [-1]
    assert meters[MONEY].item() == pytest.approx(0.1, abs=1e-7)
    assert meters[HEALTH].item() == pytest.approx(0.5 - 0.0005, abs=1e-6)
    assert meters[ENERGY].item() == pytest.approx(1.0 - 0.0029, abs=1e-6)


def test_a_move_into_the_border_leaves_the_agent_in_place_and_pays_the_move():
    town = world("L1")
    town.positions[0] = torch.tensor([3, 7])
    act(town, DOWN)
    assert town.positions[0].tolist() == [3, 7]
    meters = town.meters[0]
    assert meters[ENERGY].item() == pytest.approx(1 - 0.005, abs=1e-6)
    assert meters[HYGIENE].item() == pytest.approx(1 - 0.003, abs=1e-6)
    assert meters[SATIATION].item() == pytest.approx(1 - 0.004, abs=1e-6)


def test_interact_on_an_empty_cell_does_nothing_but_pay_its_cost():
    town = world("L0_5")
    place(town, {"Bed": (0, 0), "HomeMeal": (1, 0), "Hospital": (2, 0), "Job": (3, 0)})
    town.positions[0] = torch.tensor([5, 5])
    result = act(town, INTERACT)
    assert result.interactions.tolist() == [-1]
    assert town.meters[0, ENERGY].item() == pytest.approx(1 - 0.0029, abs=1e-6)
    assert town.meters[0, MONEY].item() == 1.0


def test_moves_go_where_their_names_say():
    town = world("L1", 4)
    town.positions = torch.tensor([[3, 3]] * 4)
    act(town, 0, 1, 2, 3)  # UP, DOWN, LEFT, RIGHT
    assert town.positions.tolist() == [[3, 2], [3, 4], [2, 3], [4, 3]]


def test_the_depletion_multiplier_may_differ_per_agent():
    town = world("L1", 2)
    town.step(torch.tensor([WAIT, WAIT]), torch.tensor([0.0, 1.0]))
    energy = town.meters[:, ENERGY]
    assert (energy[0] - energy[1]).item() == pytest.approx(0.005, abs=1e-6)
    assert town.meters[1, SOCIAL].item() == pytest.approx(1 - 0.006, abs=1e-6)


def _bed_world() -> TownWorld:
    town = world("L3")
    place(town, {"Bed": (2, 2)})
    town.positions[0] = torch.tensor([2, 2])
    town.meters[0, ENERGY] = 0.5
    town.meters[0, HEALTH] = 0.5
    return town


def test_multi_tick_bed_counts_ticks_pays_each_and_adds_the_bonus_on_the_last():
    town = _bed_world()
    progress, money, energy, health, used = [], [], [], [], []
    for _ in range(6):
        result = act(town, INTERACT)
        progress.append(town.interaction_progress.item())
        money.append(town.meters[0, MONEY].item())
        energy.append(town.meters[0, ENERGY].item())
        health.append(town.meters[0, HEALTH].item())
        used.append(result.interactions.item())
    assert progress == [1, 2, 3, 4, 0, 1]  # tick 6 starts a new cycle
    assert money == pytest.approx([0.49, 0.48, 0.47, 0.46, 0.45, 0.44], abs=1e-6)
    assert energy[:5] == pytest.approx([0.575, 0.65, 0.725, 0.8, 1.0], abs=1e-6)
    # Health drains 0.0005 a step (the modulation); the completion bonus adds 0.02.
    assert health[:5] == pytest.approx([0.4995, 0.499, 0.4985, 0.498, 0.498 + 0.02 - 0.0005])
    assert used == [0] * 6


def test_moving_away_resets_multi_tick_progress_and_waiting_keeps_it():
    town = _bed_world()
    act(town, INTERACT)
    act(town, INTERACT)
    act(town, WAIT)
    assert town.interaction_progress.item() == 2
    act(town, INTERACT)
    assert town.interaction_progress.item() == 3
    act(town, RIGHT)
    assert town.interaction_progress.item() == 0
    assert town.interaction_affordance.item() == -1


def test_a_tick_that_cannot_be_paid_keeps_the_progress():
    town = _bed_world()
    town.meters[0, MONEY] = 0.015
    act(town, INTERACT)
    result = act(town, INTERACT)  # 0.005 left, a tick costs 0.01
    assert result.interactions.item() == -1
    assert town.interaction_progress.item() == 1
    assert town.meters[0, MONEY].item() == pytest.approx(0.005, abs=1e-6)


def test_the_bar_is_open_from_18_to_3_and_closed_from_4_to_17():
    town = world("L3", 24)
    place(town, {"Bar": (4, 4), "Job": (5, 5)})
    town.positions = torch.tensor([[4, 4]] * 24)
    town.time_of_day = torch.arange(24)
    open_hours = town.action_mask()[:, INTERACT].tolist()
    assert open_hours == [h >= 18 or h < 4 for h in range(24)]
    result = town.step(torch.full((24,), INTERACT), 0.0)
    assert result.interactions.tolist() == [9 if h >= 18 or h < 4 else -1 for h in range(24)]
    town.reset()
    town.positions = torch.tensor([[5, 5]] * 24)
    town.time_of_day = torch.arange(24)
    assert town.action_mask()[:, INTERACT].tolist() == [8 <= h < 18 for h in range(24)]


def test_the_clock_advances_one_hour_per_step_and_wraps():
    town = world("L3")
    town.time_of_day = torch.tensor([23])
    act(town, WAIT)
    assert town.time_of_day.tolist() == [0]
    assert world("L1").time_of_day.tolist() == [0]
