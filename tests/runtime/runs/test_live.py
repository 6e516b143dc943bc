"""The training figures a run streams to its viewers (runs/live.py)."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest

from hamlet.runtime.runs import live as live_module
from hamlet.runtime.runs.live import Live

from ..conftest import FakeTime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    clock = FakeTime()
    monkeypatch.setattr(live_module.time, "perf_counter", clock)
    return clock


def streaming(clock: FakeTime, agents: int = 4) -> tuple[Live, list[dict], SimpleNamespace]:
    """A Live that streams, over a stand-in trainer and stream (no world, no sockets)."""
    trainer = SimpleNamespace(
        env_steps=0, num_agents=agents, episodes_done=0, last_stats={},
        epsilon=SimpleNamespace(value=0.5), curriculum=SimpleNamespace(stage=0),
    )  # fmt: skip
    sent: list[dict] = []
    live = Live.__new__(Live)
    live.trainer, live.stream = trainer, SimpleNamespace(publish_stats=sent.append)
    live.survival, live.evaluations = deque(maxlen=100), deque(maxlen=50)
    live.last_stats, live.rate = (clock(), 0), 0.0
    return live, sent, trainer


def test_an_evaluation_moments_after_the_stats_keeps_the_windows_rate(clock: FakeTime) -> None:
    live, sent, trainer = streaming(clock)
    clock.now += 2.0
    trainer.env_steps = 100
    live._stats()
    assert sent[-1]["agent_steps_per_second"] == pytest.approx(200.0)  # 100 x 4 agents / 2 s
    clock.now += 0.01  # no step between: a window of its own would read 0
    live.evaluated({"episode": 7, "mean_survival": 50.0})
    assert sent[-1]["evaluations"] == [{"episode": 7, "survival": 50.0}]
    assert sent[-1]["agent_steps_per_second"] == pytest.approx(200.0)
    clock.now += 1.0  # the next window starts where the last whole one ended
    trainer.env_steps = 160
    live._stats()
    assert sent[-1]["agent_steps_per_second"] == pytest.approx(60 * 4 / 1.01)


def test_no_rate_before_a_whole_window(clock: FakeTime) -> None:
    live, sent, trainer = streaming(clock)
    clock.now += 0.2
    trainer.env_steps = 3
    live._stats()
    assert sent == []  # at most once a second
    live.evaluated({"episode": 1, "mean_survival": 3.0})
    assert sent[-1]["agent_steps_per_second"] == 0.0  # the viewer shows '…', not a rate
