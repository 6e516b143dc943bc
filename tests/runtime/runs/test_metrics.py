"""The run's database: episodes written in batches, never lost, never seen half-written."""

from __future__ import annotations

import pytest

from hamlet.runtime.learning.curriculum import Transition
from hamlet.runtime.learning.episode import Episode
from hamlet.runtime.runs import metrics as metrics_module
from hamlet.runtime.runs.metrics import FLUSH_SECONDS, MetricsDB, read_episodes, read_rows

from ..conftest import FakeTime


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    clock = FakeTime()
    monkeypatch.setattr(metrics_module.time, "perf_counter", clock)
    return clock


def episode(number: int, transition: Transition | None = None) -> Episode:
    return Episode(
        number=number, agent=number % 4, steps=10 + number, reward=1.5, outcome="died",
        stage=1, multiplier=1.0, epsilon=0.5, intrinsic_weight=0.0, entropy=0.25,
        affordance_transitions={("Bed", "Job"): 2, ("Job", "Bed"): 1}, transition=transition,
    )  # fmt: skip


def test_episodes_are_written_together_within_the_flush_interval(tmp_path, clock) -> None:
    db = MetricsDB(tmp_path / "metrics.sqlite")
    commits: list[str] = []
    db.connection.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    for number in range(20):  # twenty steps that each ended an episode, in a moment
        db.add_episodes([episode(number)], env_steps=number, loss=0.1)
        clock.now += FLUSH_SECONDS / 40
    assert read_episodes(tmp_path / "metrics.sqlite") == []  # none written yet
    clock.now += FLUSH_SECONDS / 2
    db.add_episodes([episode(20)], env_steps=20, loss=0.1)  # the interval has passed
    assert [r["episode"] for r in read_episodes(tmp_path / "metrics.sqlite")] == list(range(21))
    assert len(commits) == 1  # one transaction for all of them
    pairs = read_rows(tmp_path / "metrics.sqlite", "SELECT * FROM affordance_transitions")
    assert len(pairs) == 42
    db.close()


def test_nothing_pending_is_lost_or_written_after_what_follows(tmp_path, clock) -> None:
    path = tmp_path / "metrics.sqlite"
    db = MetricsDB(path)
    change = Transition(
        episode=3, from_stage=1, to_stage=2, reason="advance", survival=40.0, entropy=0.3,
        episodes_at_stage=4,
    )  # fmt: skip
    db.add_episodes([episode(3, change)], env_steps=3, loss=None)
    db.set_state(last_checkpoint="checkpoint_ep000004.pt")  # a checkpoint: its rows first
    assert [r["episode"] for r in read_episodes(path)] == [3]
    assert read_rows(path, "SELECT to_stage FROM curriculum_transitions") == [{"to_stage": 2}]
    db.add_episodes([episode(4), episode(5)], env_steps=5, loss=0.2)
    db.forget_after(5)  # a resume drops what followed its checkpoint, pending rows included
    assert [r["episode"] for r in read_episodes(path)] == [3, 4]
    db.add_episodes([episode(5)], env_steps=5, loss=0.2)
    db.close()  # the run's end
    assert [r["episode"] for r in read_episodes(path)] == [3, 4, 5]
