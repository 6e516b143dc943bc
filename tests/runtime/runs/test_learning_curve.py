"""The learning curve a run writes as it trains, and the budgets that end a run."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import time

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.runs import (
    RunOptions,
    read_episodes,
    read_evaluations,
    read_state,
    run_training,
)
from hamlet.schemas.errors import RunError

from ..conftest import tiny_pack


def curve_pack(folder, every: int = 2, episodes: int = 3):
    pack = tiny_pack(folder)
    training = pack / "training.yaml"
    text = re.sub(r"every_episodes: \d+", f"every_episodes: {every}", training.read_text())
    training.write_text(re.sub(r"(?m)^  episodes: \d+", f"  episodes: {episodes}", text))
    return pack


def _curve(run_dir):
    keep = ("episode", "agent_steps", "env_steps", "stage", "episodes", "mean_survival")
    return [{k: row[k] for k in keep} for row in read_evaluations(run_dir / "metrics.sqlite")]


def test_a_run_evaluates_before_it_starts_every_n_episodes_and_at_its_end(tmp_path):
    result = run_training(RunOptions(pack=curve_pack(tmp_path), episodes=5, out=tmp_path / "r"))
    rows = read_evaluations(result.run_dir / "metrics.sqlite")
    assert [r["episode"] for r in rows] == [0, 2, 4, 5]
    assert rows[0]["agent_steps"] == 0 and rows[-1]["agent_steps"] == result.env_steps
    assert all(r["episodes"] == 3 and r["multiplier"] == 1.0 for r in rows)
    assert all(0 < r["mean_survival"] <= 40 for r in rows)  # tiny pack: 40-step episodes
    times = [r["wall_time"] for r in rows]
    assert times == sorted(times) and times[0] >= 0
    state = read_state(result.run_dir / "metrics.sqlite")
    assert 0 < state["evaluation_seconds"] < state["train_seconds"]


def test_evaluating_changes_nothing_the_run_learns(tmp_path):
    on = run_training(
        RunOptions(pack=curve_pack(tmp_path / "a", every=1), episodes=6, out=tmp_path / "a")
    )
    off = run_training(
        RunOptions(pack=curve_pack(tmp_path / "b", every=0), episodes=6, out=tmp_path / "b")
    )
    assert read_evaluations(off.run_dir / "metrics.sqlite") == []
    assert len(read_evaluations(on.run_dir / "metrics.sqlite")) == 7

    def strip(rows):
        return [{k: v for k, v in r.items() if k != "timestamp"} for r in rows]

    assert strip(read_episodes(on.run_dir / "metrics.sqlite")) == strip(
        read_episodes(off.run_dir / "metrics.sqlite")
    )
    a = HamletModel.load(on.run_dir / "checkpoints" / "model_ep000006.pt")
    b = HamletModel.load(off.run_dir / "checkpoints" / "model_ep000006.pt")
    assert all(
        torch.equal(x, y) for x, y in zip(a.module.parameters(), b.module.parameters(), strict=True)
    )


def test_a_resumed_run_has_the_curve_of_one_run_straight_through(tmp_path):
    pack = curve_pack(tmp_path, every=2)
    first = run_training(RunOptions(pack=pack, episodes=5, out=tmp_path / "a", checkpoint_every=5))
    run_training(RunOptions(resume=first.run_dir, episodes=9))
    straight = run_training(
        RunOptions(pack=pack, episodes=9, out=tmp_path / "b", checkpoint_every=5)
    )
    resumed = _curve(first.run_dir)
    # the first session's end (episode 5) is a point of its own; the rest coincide
    assert [r for r in resumed if r["episode"] != 5] == _curve(straight.run_dir)


def test_an_agent_steps_budget_ends_the_run_and_a_resume_needs_a_larger_one(tmp_path):
    options = RunOptions(pack=curve_pack(tmp_path), agents=2, agent_steps=150, out=tmp_path / "r")
    result = run_training(options)
    assert 150 <= result.env_steps * 2 < 150 + 2
    assert read_state(result.run_dir / "metrics.sqlite")["agent_steps_budget"] == 150
    with pytest.raises(RunError) as caught:
        run_training(RunOptions(resume=result.run_dir))
    assert caught.value.code == "E311" and "--agent-steps larger than" in caught.value.hint
    more = run_training(RunOptions(resume=result.run_dir, agent_steps=300))
    assert 300 <= more.env_steps * 2 < 302


def test_a_time_budget_counts_the_sessions_before(tmp_path):
    result = run_training(RunOptions(pack=curve_pack(tmp_path), episodes=4, out=tmp_path / "r"))
    db = result.run_dir / "metrics.sqlite"
    with sqlite3.connect(db) as connection:  # as if the run had trained for an hour already
        connection.execute("UPDATE run_state SET value = '3600.0' WHERE key = 'train_seconds'")
    with pytest.raises(RunError) as caught:
        run_training(RunOptions(resume=result.run_dir, episodes=10, minutes=30))
    assert caught.value.code == "E311" and "minutes of training" in caught.value.errors[0].message


def test_an_agent_steps_budget_alone_is_not_cut_short_by_max_episodes(tmp_path):
    pack = curve_pack(tmp_path)
    training = pack / "training.yaml"
    training.write_text(re.sub(r"max_episodes: \d+", "max_episodes: 3", training.read_text()))
    steps = 40 * 8  # 40-step episodes: about 8 episodes' worth, far past max_episodes
    result = run_training(RunOptions(pack=pack, agent_steps=steps, out=tmp_path / "r"))
    assert result.env_steps >= steps and result.episodes > 3
    capped = run_training(RunOptions(pack=pack, agent_steps=steps, episodes=3, out=tmp_path / "r"))
    assert capped.episodes == 3  # --episodes still caps it when given


def _steps_counted(monkeypatch) -> torch.Tensor:
    """Count the run's steps in shared memory, where an evaluator process can read them."""
    steps, step = torch.zeros((), dtype=torch.long).share_memory_(), Trainer.step

    def counted(trainer):
        steps.add_(1)
        return step(trainer)

    monkeypatch.setattr(Trainer, "step", counted)
    return steps


def test_with_a_learner_process_the_curve_is_played_beside_training(tmp_path, monkeypatch):
    # A third process, at the lowest CPU priority, plays each evaluation while the agents
    # go on: each here waits until they have taken 20 more steps (played in the run's
    # own process, it could not: it would give up after 10 s and say so). The rows are
    # those a run that learns in one process writes.
    from hamlet.runtime.runs import curve

    steps, play, log = _steps_counted(monkeypatch), curve._Game.play, tmp_path / "played"

    def play_while_training_goes_on(game, model, layout):
        start, deadline = int(steps), time.monotonic() + 10
        while int(steps) < start + 20 and time.monotonic() < deadline:
            time.sleep(0.001)
        with log.open("a") as out:
            out.write(f"{os.getpid()} {os.nice(0)} {int(steps) >= start + 20}\n")
        return play(game, model, layout)

    monkeypatch.setattr(curve._Game, "play", play_while_training_goes_on)
    pack = curve_pack(tmp_path)
    beside = run_training(RunOptions(pack=pack, episodes=6, out=tmp_path / "a", learner="process"))
    played = [line.split() for line in log.read_text().splitlines()]
    assert [r["episode"] for r in read_evaluations(beside.run_dir / "metrics.sqlite")] == [
        0, 2, 4, 6,
    ]  # fmt: skip
    assert {pid for pid, _, _ in played} != {str(os.getpid())} and len(played) == 4
    assert all(nice == "19" for _, nice, _ in played)
    assert [went_on for _, _, went_on in played[:3]] == ["True"] * 3  # (the last: the end)
    monkeypatch.undo()
    inline = run_training(RunOptions(pack=pack, episodes=6, out=tmp_path / "b", learner="inline"))
    assert _curve(beside.run_dir) == _curve(inline.run_dir)


def test_a_failed_evaluator_leaves_the_curve_to_the_run_itself(tmp_path, monkeypatch):
    from hamlet.runtime.runs import curve

    made, start = [], curve.Evaluator.__init__

    def kept(evaluator, *args):
        start(evaluator, *args)
        made.append(evaluator)

    def kill_it(trainer, episodes):
        if trainer.episodes_done == 3:
            os.kill(made[0]._helper.pid, signal.SIGKILL)

    monkeypatch.setattr(curve.Evaluator, "__init__", kept)
    pack = curve_pack(tmp_path)
    options = {"pack": pack, "episodes": 6}
    killed = run_training(RunOptions(**options, out=tmp_path / "a", learner="process"), kill_it)
    monkeypatch.undo()
    inline = run_training(RunOptions(**options, out=tmp_path / "b", learner="inline"))
    assert len(made) == 1 and _curve(killed.run_dir) == _curve(inline.run_dir)
    log = (killed.run_dir / "run.log").read_text()
    assert (
        "the evaluation process failed: it was killed by SIGKILL; the run evaluates in its own "
        "process from now on" in log
    )
