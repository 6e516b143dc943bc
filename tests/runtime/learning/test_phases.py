"""The phase clock: laps give each phase the time since the last lap, windows turn that
into shares and rates, and a trainer's step laps every phase it runs."""

from __future__ import annotations

import time

import pytest

from hamlet.runtime import HamletModel
from hamlet.runtime.learning import phases
from hamlet.runtime.learning.phases import PHASES, PhaseClock
from hamlet.runtime.learning.trainer import Trainer
from hamlet.schemas import load_pack

from ..conftest import FakeTime, tiny_pack


@pytest.fixture
def fake_time(monkeypatch):
    clock = FakeTime()
    monkeypatch.setattr(phases.time, "perf_counter", clock)
    return clock


def test_each_lap_gives_its_phase_the_time_since_the_last_lap(fake_time):
    clock = PhaseClock()
    fake_time.now += 2.0
    clock.lap("act")
    fake_time.now += 3.0
    clock.lap("learn")
    fake_time.now += 1.0
    clock.lap("act")
    assert clock.seconds["act"] == pytest.approx(3.0)
    assert clock.seconds["learn"] == pytest.approx(3.0)
    assert sum(clock.seconds.values()) == pytest.approx(6.0)


def test_a_window_gives_shares_and_rates_of_its_own_time_only(fake_time):
    clock = PhaseClock()
    fake_time.now += 10.0
    clock.lap("world")  # before the window: not counted in it
    clock.restart_window(agent_steps=1000, gradient_steps=7)
    fake_time.now += 1.0
    clock.lap("act")
    fake_time.now += 3.0
    clock.lap("learn")
    window = clock.window(agent_steps=1800, gradient_steps=27)
    assert window.seconds == pytest.approx(4.0)
    assert window.agent_steps_per_s == pytest.approx(200.0)
    assert window.gradient_steps_per_s == pytest.approx(5.0)
    assert list(window.shares) == list(PHASES)
    assert window.shares["act"] == pytest.approx(0.25)
    assert window.shares["learn"] == pytest.approx(0.75)
    assert window.shares["world"] == 0.0
    assert clock.latest is window
    assert window.describe().startswith("act 25% world 0% store 0% learn 75%")
    # the next window starts where this one ended
    fake_time.now += 2.0
    clock.lap("store")
    following = clock.window(agent_steps=2000, gradient_steps=27)
    assert following.shares["store"] == pytest.approx(1.0)
    assert following.agent_steps_per_s == pytest.approx(100.0)


def test_a_trainer_step_laps_every_phase_it_runs_and_the_laps_add_up_to_the_wall_time(
    tmp_path,
):
    pack = load_pack(tiny_pack(tmp_path))  # L0_0 has RND on
    assert pack.training.exploration.rnd.enabled
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    trainer = Trainer(pack, model, num_agents=2, seed=0)
    started = time.perf_counter()
    trainer.phases = PhaseClock()
    for _ in range(60):
        trainer.step()
    trainer.phases.lap("other")
    elapsed = time.perf_counter() - started
    spent = trainer.phases.seconds
    assert trainer.learner.gradient_steps > 0
    assert all(spent[name] > 0 for name in ("act", "world", "store", "learn", "rnd", "other"))
    assert spent["record"] == spent["evaluate"] == 0.0  # no recorder, no runner here
    assert sum(spent.values()) == pytest.approx(elapsed, rel=0.05)


def test_counting_gives_a_block_to_its_phase_and_what_came_before_to_other(fake_time):
    clock = PhaseClock()
    fake_time.now += 1.0  # the runner's own bookkeeping
    with clock.counting("record"):
        fake_time.now += 2.0
    assert clock.seconds["other"] == pytest.approx(1.0)
    assert clock.seconds["record"] == pytest.approx(2.0)
