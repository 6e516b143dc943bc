"""Gradient steps in a second process: the same run as in one, and never a hang."""

from __future__ import annotations

import copy
import os
import signal

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.learning.pipeline import LearnerFailed
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.runs import RunOptions, read_episodes, run_training
from hamlet.schemas import load_pack

from ..conftest import tiny_pack


@pytest.fixture(autouse=True)
def one_thread():
    """Both processes compute with one thread: so must the trainer alone, to add up its
    floats in the same order (a learner process gives each process one)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _trainer(pack, process: bool, agents: int = 2) -> Trainer:
    model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
    return Trainer(pack, model, num_agents=agents, seed=0, learner_process=process)


def _train(trainer: Trainer, steps: int) -> list[tuple[int, int, int, float]]:
    """Steps the trainer, recording every episode and every loss it reports."""
    seen = []
    for _ in range(steps):
        for episode in trainer.step():
            seen.append((episode.number, episode.agent, episode.steps, episode.reward))
        seen.append(tuple(round(v, 5) for v in trainer.last_stats.values()))
    return seen


def _assert_same_state(a: Trainer, b: Trainer) -> None:
    """Networks, optimizer, replay memory, RND and generator, all alike."""
    left, right = a.learning_state(), b.learning_state()
    torch.testing.assert_close(left, right)
    for x, y in zip(a.acting.module.parameters(), b.acting.module.parameters(), strict=True):
        torch.testing.assert_close(x, y)


@pytest.mark.parametrize("source", ["L1_full_observability", "L2_partial_observability"])
def test_a_learner_process_trains_exactly_as_one_process_does(tmp_path, source):
    # feed-forward with RND, and recurrent (its acting state staged with each step)
    pack = load_pack(tiny_pack(tmp_path, source))
    alone, beside = _trainer(pack, process=False), _trainer(pack, process=True)
    try:
        assert _train(alone, 120) == _train(beside, 120)
        assert beside._process is not None and alone._process is None
        assert alone.gradient_steps == beside.gradient_steps > 20
        _assert_same_state(alone, beside)
        beside.settle()
        online = alone.model.module.parameters(), beside.model.module.parameters()
        for x, y in zip(*online, strict=True):
            torch.testing.assert_close(x, y)
        # what a recording shows of novelty comes from the learner's RND
        if alone.rnd is not None:
            obs = alone.obs.repeat(3, 1)
            torch.testing.assert_close(alone._recorded_novelty(obs), beside._recorded_novelty(obs))
    finally:
        beside.close()


def test_the_agents_act_with_the_weights_from_before_the_gradient_step_in_progress(tmp_path):
    pack = load_pack(tiny_pack(tmp_path, "L1_full_observability"))
    trainer = _trainer(pack, process=False, agents=1)
    weights = lambda module: [p.detach().clone() for p in module.parameters()]  # noqa: E731
    while trainer.gradient_steps < 3:
        before = weights(trainer.model.module)
        steps = trainer.gradient_steps
        trainer.step()
    assert trainer.gradient_steps == steps + 1  # the last step took a gradient step
    for acting, old in zip(trainer.acting.module.parameters(), before, strict=True):
        torch.testing.assert_close(acting, old)  # ... which the agents do not act with yet
    assert any(
        not torch.allclose(new, old)
        for new, old in zip(trainer.model.module.parameters(), before, strict=True)
    )


def test_a_checkpoint_of_a_learner_process_resumes_as_the_run_would_go_on(tmp_path):
    pack = load_pack(tiny_pack(tmp_path, "L1_full_observability"))
    straight = _trainer(pack, process=True)
    resumed = _trainer(pack, process=False)
    try:
        _train(straight, 70)
        # (a copy: a checkpoint holds the trainer's own tensors, as saving it would)
        checkpoint = copy.deepcopy(straight.checkpoint({}, {}))
        going_on = _train(straight, 70)
        resumed.restore(checkpoint)  # (torch's own generator too, as it was then)
        assert _train(resumed, 70) == going_on
        _assert_same_state(straight, resumed)
    finally:
        straight.close()


def test_an_error_in_the_learner_process_is_raised_in_the_trainer(tmp_path, monkeypatch):
    def fails(self, beta, weight):
        raise ValueError("the gradient step broke")

    pack = load_pack(tiny_pack(tmp_path, "L1_full_observability"))
    trainer = _trainer(pack, process=True)
    monkeypatch.setattr(Trainer, "gradient_step", fails)  # (the fork takes it along)
    try:
        with pytest.raises(LearnerFailed, match="raised ValueError: the gradient step broke"):
            _train(trainer, 200)
    finally:
        trainer.close()


def test_a_learner_process_that_dies_is_an_error_not_a_hang(tmp_path):
    pack = load_pack(tiny_pack(tmp_path, "L1_full_observability"))
    trainer = _trainer(pack, process=True)
    try:
        while trainer._process is None:
            trainer.step()
        os.kill(trainer._process._helper.pid, signal.SIGKILL)
        with pytest.raises(LearnerFailed, match="it was killed by SIGKILL"):
            _train(trainer, 200)
    finally:
        trainer.close()


def test_hamlet_run_gives_the_same_run_with_a_learner_process_or_without(tmp_path):
    tiny = tiny_pack(tmp_path, "L1_full_observability")
    runs = [
        run_training(RunOptions(pack=tiny, episodes=6, out=tmp_path / learner, learner=learner))
        for learner in ("process", "inline")
    ]
    rows = [
        [
            {k: v for k, v in row.items() if k != "timestamp"}
            for row in read_episodes(run.run_dir / "metrics.sqlite")
        ]
        for run in runs
    ]
    assert rows[0] == rows[1] and len(rows[0]) == 6
    models = [HamletModel.load(run.run_dir / "checkpoints" / "model_ep000006.pt") for run in runs]
    for x, y in zip(models[0].module.parameters(), models[1].module.parameters(), strict=True):
        torch.testing.assert_close(x, y)


def test_where_a_run_learns(monkeypatch):
    from hamlet.runtime.runs import plan
    from hamlet.schemas import UsageError

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    monkeypatch.setattr(plan.os, "sched_getaffinity", lambda pid: {0, 1})
    assert plan.learner_process("auto", cpu) and plan.learner_process("process", cpu)
    assert not plan.learner_process("inline", cpu)
    monkeypatch.setattr(plan.os, "sched_getaffinity", lambda pid: {3})  # one core for this run
    assert not plan.learner_process("auto", cpu) and plan.learner_process("process", cpu)
    assert not plan.learner_process("auto", cuda)
    with pytest.raises(UsageError, match="--learner process cannot be used"):
        plan.learner_process("process", cuda)
    with pytest.raises(UsageError, match="one of auto, process, inline"):
        plan.plan_run(RunOptions(pack="L1_full_observability", learner="threads"))
