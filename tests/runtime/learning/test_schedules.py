"""Curriculum, epsilon and the intrinsic weight: decisions from completed episodes."""

from __future__ import annotations

import random
import statistics

from hamlet.runtime.learning.curriculum import AdversarialCurriculum
from hamlet.runtime.learning.exploration import EpsilonSchedule, IntrinsicWeight
from hamlet.schemas import load_pack
from hamlet.schemas.pack import Curriculum, Epsilon, Intrinsic, OnAdvance

STAGES = load_pack("L1_full_observability").training.curriculum.stages


def _curriculum(**overrides) -> AdversarialCurriculum:
    settings = {
        "window": 4, "advance_survival": 0.7, "retreat_survival": 0.3, "entropy_gate": 0.5,
        "min_episodes_at_stage": 4, "stages": STAGES, **overrides,
    }  # fmt: skip
    config = Curriculum(**settings)
    return AdversarialCurriculum(config, max_steps=100)


def test_advances_when_survival_is_high_and_the_policy_decided():
    c = _curriculum()
    moves = [c.episode_done(i, 90, 0.1, c.stage) for i in range(4)]
    assert moves[:3] == [None] * 3
    assert (moves[3].reason, moves[3].from_stage, moves[3].to_stage) == ("advance", 1, 2)
    assert c.stage == 2 and c.multiplier == STAGES[1].depletion_multiplier


def test_does_not_advance_while_the_policy_is_undecided():
    c = _curriculum()
    assert all(c.episode_done(i, 90, 0.9, 1) is None for i in range(10))
    assert c.stage == 1


def test_retreats_when_survival_collapses_and_never_below_stage_one():
    c = _curriculum(initial_stage=3)
    moves = [c.episode_done(i, 10, 0.1, 3) for i in range(4)]
    assert moves[3].reason == "retreat" and c.stage == 2
    c = _curriculum()
    assert all(c.episode_done(i, 0, 0.1, 1) is None for i in range(10))


def test_waits_for_min_episodes_and_ignores_episodes_of_an_earlier_stage():
    c = _curriculum(min_episodes_at_stage=6)
    assert all(c.episode_done(i, 90, 0.1, 1) is None for i in range(5))
    assert c.episode_done(5, 90, 0.1, 1).to_stage == 2
    assert c.episode_done(6, 0, 0.1, played_at=1) is None  # began at stage 1
    assert c.episodes_at_stage == 0


def test_static_never_moves():
    c = _curriculum(kind="static")
    assert all(c.episode_done(i, 100, 0.0, 1) is None for i in range(20))


def test_curriculum_state_round_trip():
    c = _curriculum()
    for i in range(3):
        c.episode_done(i, 90, 0.1, 1)
    d = _curriculum()
    d.load_state_dict(c.state_dict())
    assert c.episode_done(3, 90, 0.1, 1) == d.episode_done(3, 90, 0.1, 1)


def test_epsilon_decays_per_episode_to_its_floor():
    e = EpsilonSchedule(Epsilon(start=1.0, decay=0.5, min=0.2))
    for _ in range(5):
        e.episode_done()
    assert e.value == 0.2


def test_with_many_agents_epsilon_decays_per_agent_episode():
    e = EpsilonSchedule(Epsilon(start=1.0, decay=0.5, min=0.0), agents=4)
    for _ in range(4):
        e.episode_done()
    assert e.value == 0.5  # four agents each finished one episode
    e.episode_done()
    assert e.value == 0.5**1.25


def test_over_a_fraction_of_the_budget_epsilon_falls_linearly_then_stays_at_min():
    e = EpsilonSchedule(Epsilon(start=1.0, fraction=0.5, min=0.1), agents=16)
    for _ in range(100):
        e.episode_done()  # episodes alone do not move it
    assert e.value == 1.0
    e.advance(0.25)
    assert abs(e.value - 0.55) < 1e-9  # halfway down
    e.advance(0.2)  # progress never goes back
    assert abs(e.value - 0.55) < 1e-9
    e.advance(0.9)
    assert e.value == 0.1


def test_a_budget_schedule_moves_in_small_steps_and_survives_a_checkpoint():
    e = EpsilonSchedule(Epsilon(start=1.0, fraction=1.0, min=0.0))
    e.advance(0.0001)  # under a thousandth of the way: no new value
    assert e.value == 1.0
    e.advance(0.3)
    again = EpsilonSchedule(Epsilon(start=1.0, fraction=1.0, min=0.0))
    again.load_state_dict(e.state_dict())
    again.advance(0.3002)  # too little to move from where it was
    assert again.value == e.value and abs(e.value - 0.7) < 1e-9


def test_an_advance_lifts_epsilon_which_falls_back_to_the_schedule():
    lift = OnAdvance(value=0.4, fraction=0.1)
    e = EpsilonSchedule(Epsilon(start=1.0, fraction=0.25, min=0.1, on_advance=lift))
    e.advance(0.5)
    assert e.value == 0.1
    e.stage_advanced(0.5)
    assert abs(e.value - 0.4) < 1e-9
    e.advance(0.55)  # half of the lift's span: halfway back
    assert abs(e.value - 0.25) < 1e-9
    again = EpsilonSchedule(e.config)
    again.load_state_dict(e.state_dict())
    again.advance(0.575)
    assert abs(again.value - 0.175) < 1e-9  # the lift survives a checkpoint
    e.advance(0.6)
    assert abs(e.value - 0.1) < 1e-9


def test_a_lift_never_lowers_epsilon_and_is_off_by_default():
    lift = OnAdvance(value=0.3, fraction=0.1)
    e = EpsilonSchedule(Epsilon(start=1.0, fraction=0.5, min=0.0, on_advance=lift))
    e.stage_advanced(0.05)  # the schedule is still at 0.9: the lift is below it
    assert abs(e.value - 0.9) < 1e-9
    e.advance(0.1)
    assert abs(e.value - 0.8) < 1e-9
    plain = EpsilonSchedule(Epsilon(start=1.0, fraction=0.25, min=0.1))
    plain.advance(0.5)
    plain.stage_advanced(0.5)
    assert plain.value == 0.1


def test_a_lift_falls_back_to_a_per_episode_schedule():
    lift = OnAdvance(value=0.5, fraction=0.2)
    e = EpsilonSchedule(Epsilon(start=1.0, decay=0.5, min=0.05, on_advance=lift))
    for _ in range(10):
        e.episode_done()
    assert e.value == 0.05
    e.stage_advanced(0.3)
    assert abs(e.value - 0.5) < 1e-9
    e.episode_done()  # episodes do not undo the lift; the budget lowers it
    assert abs(e.value - 0.5) < 1e-9
    e.advance(0.4)
    assert abs(e.value - 0.275) < 1e-9
    e.advance(0.5)
    assert e.value == 0.05


def test_per_episode_decay_ignores_the_budget():
    e = EpsilonSchedule(Epsilon(start=1.0, decay=0.5, min=0.0))
    e.advance(0.9)
    assert e.value == 1.0


def test_intrinsic_weight_anneals_only_when_survival_is_long_and_steady():
    w = IntrinsicWeight(
        Intrinsic(
            initial_weight=1.0,
            decay_rate=0.5,
            variance_threshold=10,
            survival_window=3,
            min_mean_survival=50,
        )
    )
    for steps in (100, 100):
        w.episode_done(steps)
    assert w.value == 1.0  # window not full yet
    w.episode_done(100)
    assert w.value == 0.5
    w.episode_done(10)  # variance jumps: no change
    assert w.value == 0.5


def test_intrinsic_weight_decides_as_the_window_statistics_say_through_a_checkpoint():
    # The window's mean and variance are kept as running sums: every decision must be
    # the one statistics.variance and fmean give on the last `survival_window` values.
    config = Intrinsic(
        initial_weight=1.0, decay_rate=0.9, variance_threshold=30, survival_window=8,
        min_mean_survival=50,
    )  # fmt: skip
    rng = random.Random(0)
    weight, expected, window = IntrinsicWeight(config), 1.0, []
    decays = 0
    for episode in range(600):
        steps = rng.choice([rng.randint(40, 200), rng.randint(97, 105)])
        if episode % 50 < 25:  # long steady spells, where the weight anneals
            steps = rng.randint(98, 104)
        window = [*window, steps][-8:]
        if len(window) == 8 and statistics.variance(window) < 30 and statistics.fmean(window) > 50:
            expected *= 0.9
            decays += 1
        weight.episode_done(steps)
        assert weight.value == expected
        if episode == 300:  # continue from a checkpoint
            state = weight.state_dict()
            weight = IntrinsicWeight(config)
            weight.load_state_dict(state)
    assert 20 < decays < 580  # both decisions were taken many times
