"""``hamlet run``: run directories, checkpoints, metrics, resume, interruption, eval."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time

import pytest
import torch

from hamlet.configs import PACK_NAMES
from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.learning.trainer import Trainer
from hamlet.runtime.model.checkpoint import load_training_checkpoint
from hamlet.runtime.runs import RunOptions, read_episodes, read_state, run_training

from ..conftest import tiny_pack


def _rows(run_dir):
    return [
        {k: v for k, v in row.items() if k != "timestamp"}
        for row in read_episodes(run_dir / "metrics.sqlite")
    ]


@pytest.mark.numeric
def test_resume_is_exact(tiny, tmp_path):
    # stopped halfway (as Ctrl-C or q in the viewer would), then resumed to the same total:
    # the budget is part of the schedules (epsilon, beta), so it must not change
    halfway = threading.Event()

    def stop_at_five(trainer, finished):
        if trainer.episodes_done >= 5:
            halfway.set()

    first = run_training(
        RunOptions(pack=tiny, episodes=10, out=tmp_path / "a", checkpoint_every=5),
        stop_at_five, stop=halfway,
    )  # fmt: skip
    assert first.interrupted and first.episodes == 5
    resumed = run_training(RunOptions(pack=None, resume=first.run_dir))
    straight = run_training(
        RunOptions(pack=tiny, episodes=10, out=tmp_path / "b", checkpoint_every=5)
    )
    assert resumed.episodes == straight.episodes == 10
    assert _rows(resumed.run_dir) == _rows(straight.run_dir)
    assert resumed.env_steps == straight.env_steps
    a = HamletModel.load(resumed.run_dir / "checkpoints" / "model_ep000010.pt")
    b = HamletModel.load(straight.run_dir / "checkpoints" / "model_ep000010.pt")
    for x, y in zip(a.module.parameters(), b.module.parameters(), strict=True):
        assert torch.equal(x, y)


def test_a_stop_once_the_budget_is_spent_leaves_a_complete_run(tiny, tmp_path):
    # Ctrl-C (or a sweep's driver going away) with the last episodes: nothing is left to
    # resume, so the run is complete, not interrupted
    stop = threading.Event()

    def stop_at_the_end(trainer, finished):
        if trainer.episodes_done >= 4:
            stop.set()

    options = RunOptions(pack=tiny, episodes=4, out=tmp_path)
    result = run_training(options, stop_at_the_end, stop=stop)
    assert not result.interrupted and result.episodes == 4
    assert read_state(result.run_dir / "metrics.sqlite")["status"] == "completed"


def test_a_different_seed_gives_a_different_run(tiny, tmp_path):
    a = run_training(RunOptions(pack=tiny, episodes=3, out=tmp_path, seed=1))
    b = run_training(RunOptions(pack=tiny, episodes=3, out=tmp_path, seed=2))
    assert [r["reward"] for r in _rows(a.run_dir)] != [r["reward"] for r in _rows(b.run_dir)]


@pytest.mark.parametrize("learner", ["inline", "process"])
def test_what_is_learned_does_not_depend_on_how_often_checkpoints_are_taken(
    tiny, tmp_path, learner
):
    # The packs' cadence went from 100 episodes to 1000 for speed: sound only if saving
    # (which waits for the gradient step in progress) leaves the training as it was.
    runs = []
    for every in (1, 1000):
        options = RunOptions(
            pack=tiny, episodes=12, agents=2, learner=learner, checkpoint_every=every,
            out=tmp_path / str(every),
        )  # fmt: skip
        runs.append(run_training(options))
    assert len(list((runs[0].run_dir / "checkpoints").glob("checkpoint_*"))) > 1
    assert len(list((runs[1].run_dir / "checkpoints").glob("checkpoint_*"))) == 1  # the final
    assert _rows(runs[0].run_dir) == _rows(runs[1].run_dir)
    a, b = (sorted((r.run_dir / "checkpoints").glob("model_*"))[-1] for r in runs)
    for x, y in zip(
        HamletModel.load(a).module.parameters(), HamletModel.load(b).module.parameters(),
        strict=True,
    ):  # fmt: skip
        assert torch.equal(x, y)


def test_run_directory_layout_and_checkpoint_rotation(tiny, tmp_path):
    result = run_training(
        RunOptions(pack=tiny, episodes=14, out=tmp_path / "runs", checkpoint_every=2, agents=2)
    )
    run_dir = result.run_dir
    assert run_dir.parent.name == "tiny_L0_0_minimal" and run_dir.parent.parent == tmp_path / "runs"
    assert sorted(p.name for p in (run_dir / "config").iterdir()) == [
        "affordances.yaml", "bars.yaml", "brain.source.yaml", "brain.yaml", "cascades.yaml", "training.yaml",
    ]  # fmt: skip
    files = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    # two agents finish episodes together, so checkpoints fall on even episode counts
    # near every 2nd episode; keep_checkpoints (5) pairs remain, the final one included
    training = [f for f in files if f.startswith("checkpoint_")]
    assert len(training) == 5 and len(files) == 10
    assert training[-1] == f"checkpoint_ep{result.episodes:06d}.pt"
    log = (run_dir / "run.log").read_text()
    assert "training tiny_L0_0_minimal" in log and "checkpoint at episode" in log
    state = dict(
        sqlite3.connect(run_dir / "metrics.sqlite").execute("SELECT key, value FROM run_state")
    )
    assert json.loads(state["status"]) == "completed"


def test_checkpoints_are_complete_and_self_describing(tiny, tmp_path):
    result = run_training(RunOptions(pack=tiny, episodes=3, out=tmp_path, checkpoint_every=3))
    ckpt = load_training_checkpoint(result.run_dir / "checkpoints" / "checkpoint_ep000003.pt")
    assert ckpt.counters["episode"] == 3 and ckpt.counters["gradient_steps"] > 0
    assert ckpt.replay is not None and ckpt.rng is not None and ckpt.world is not None
    assert ckpt.curriculum is not None and ckpt.exploration["epsilon"]["value"] < 1.0
    assert set(ckpt.config) >= {"brain.yaml", "training.yaml"}
    model = HamletModel.load(result.run_dir / "checkpoints" / "model_ep000003.pt")
    meta = model.metadata
    assert meta["pack"] == "tiny_L0_0_minimal" and meta["episode"] == 3
    assert meta["action_names"] == ["UP", "DOWN", "LEFT", "RIGHT", "INTERACT", "WAIT"]
    assert meta["meter_names"][0] == "energy" and "observation_layout" in meta


def test_interruption_saves_a_final_checkpoint(tiny, tmp_path):
    def interrupt(trainer, episodes):
        if trainer.episodes_done >= 2:
            raise KeyboardInterrupt

    result = run_training(
        RunOptions(pack=tiny, episodes=50, out=tmp_path, checkpoint_every=100), interrupt
    )
    assert result.interrupted and result.episodes >= 2
    files = [p.name for p in (result.run_dir / "checkpoints").iterdir()]
    assert f"checkpoint_ep{result.episodes:06d}.pt" in files
    state = dict(
        sqlite3.connect(result.run_dir / "metrics.sqlite").execute(
            "SELECT key, value FROM run_state"
        )
    )
    assert json.loads(state["status"]) == "interrupted"


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "term"])
def test_a_stop_inside_a_step_that_ended_episodes_loses_none_of_them(
    tiny, tmp_path, monkeypatch, signal_number
):
    # The signal lands after the trainer has counted the episodes it ended and before the
    # runner has recorded them: the run must record them before it stops, or the final
    # checkpoint counts episodes that metrics.sqlite never got (CI saw a resumed run
    # with episode 5 missing).
    step = Trainer.step

    def step_then_signal(trainer):
        finished = step(trainer)
        if finished and trainer.episodes_done >= 3:
            os.kill(os.getpid(), signal_number)  # Python raises at the next bytecode
        return finished

    monkeypatch.setattr(Trainer, "step", step_then_signal)
    stopped = run_training(RunOptions(pack=tiny, episodes=12, out=tmp_path, checkpoint_every=100))
    assert stopped.interrupted
    episodes = [row["episode"] for row in read_episodes(stopped.run_dir / "metrics.sqlite")]
    assert episodes == list(range(stopped.episodes))
    monkeypatch.setattr(Trainer, "step", step)
    resumed = run_training(RunOptions(resume=stopped.run_dir, episodes=12))
    episodes = [row["episode"] for row in read_episodes(resumed.run_dir / "metrics.sqlite")]
    assert episodes == list(range(12))


def test_a_second_stop_during_the_final_checkpoint_does_not_cut_it_short(
    tiny, tmp_path, monkeypatch
):
    # A sweep's worker gets the terminal's Ctrl-C and then its driver's SIGTERM; a user
    # may press Ctrl-C twice. The final checkpoint must still be whole and resumable.
    from hamlet.runtime.runs import checkpoints

    step, save = Trainer.step, checkpoints.save_checkpoint

    def step_then_signal(trainer):
        finished = step(trainer)
        if finished and trainer.episodes_done >= 3:
            os.kill(os.getpid(), signal.SIGINT)
        return finished

    def signal_then_save(state, path):
        os.kill(os.getpid(), signal.SIGTERM)  # would end the process, or raise in the save
        save(state, path)

    def cut_short(signum, frame):
        raise AssertionError("the second stop reached the final checkpoint")

    monkeypatch.setattr(Trainer, "step", step_then_signal)
    monkeypatch.setattr(checkpoints, "save_checkpoint", signal_then_save)
    previous = signal.signal(signal.SIGTERM, cut_short)  # not this test process's end
    try:
        stopped = run_training(
            RunOptions(pack=tiny, episodes=12, out=tmp_path, checkpoint_every=100)
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert stopped.interrupted
    assert read_state(stopped.run_dir / "metrics.sqlite")["status"] == "interrupted"
    monkeypatch.undo()
    resumed = run_training(RunOptions(resume=stopped.run_dir, episodes=12))
    episodes = [row["episode"] for row in read_episodes(resumed.run_dir / "metrics.sqlite")]
    assert episodes == list(range(12))


def test_a_process_that_ignores_ctrl_c_trains_on_through_it(tiny, tmp_path, monkeypatch):
    # A sweep's worker ignores the SIGINT that Ctrl-C sends its whole process group (its
    # driver stops it with SIGTERM), and so does a script's background job: the run must
    # not take Ctrl-C back.
    step = Trainer.step

    def step_then_signal(trainer):
        finished = step(trainer)
        if finished and trainer.episodes_done == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return finished

    monkeypatch.setattr(Trainer, "step", step_then_signal)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        run = run_training(RunOptions(pack=tiny, episodes=8, out=tmp_path))
    finally:
        signal.signal(signal.SIGINT, previous)
    assert not run.interrupted and run.episodes == 8


def test_the_curriculum_really_moves_and_is_recorded(tmp_path):
    easy = tiny_pack(
        tmp_path,
        window="2",
        min_episodes_at_stage="2",
        advance_survival="0.1",
        retreat_survival="0.05",
        entropy_gate="1.0",
    )
    result = run_training(RunOptions(pack=easy, episodes=6, out=tmp_path))
    db = sqlite3.connect(result.run_dir / "metrics.sqlite")
    moves = db.execute("SELECT from_stage, to_stage, reason FROM curriculum_transitions").fetchall()
    assert moves[:2] == [(1, 2, "advance"), (2, 3, "advance")]
    stages = [row[0] for row in db.execute("SELECT stage FROM episodes ORDER BY episode")]
    assert stages[0] == 1 and max(stages) >= 2


def test_hamlet_run_and_eval_from_the_command_line(tiny, tmp_path, capsys):
    runs = tmp_path / "runs"
    assert main(["run", str(tiny), "--episodes", "2", "--out", str(runs), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "finished at episode 2" in out
    run_dir = next((runs / "tiny_L0_0_minimal").iterdir())
    model = run_dir / "checkpoints" / "model_ep000002.pt"
    assert main(["eval", str(model), "--pack", str(tiny), "--episodes", "4", "--json"]) == 0
    scores = json.loads(capsys.readouterr().out)["scores"]
    assert [s["policy"] for s in scores] == ["greedy", "heuristic", "random", "always-WAIT"]
    assert all(0 < s["mean_survival"] <= 40 for s in scores)
    assert main(["eval", str(model), "--pack", str(tiny), "--episodes", "4", "--stage", "2"]) == 0
    table = capsys.readouterr().out
    assert "depletion multiplier 0.5" in table and "always-WAIT" in table
    assert "sees the true world state" in table


def test_a_mistake_in_the_pack_stops_before_creating_anything(tmp_path, capsys):
    pack = tiny_pack(tmp_path)
    (pack / "training.yaml").write_text(
        (pack / "training.yaml").read_text().replace("grid_size", "grid_sise")
    )
    assert main(["run", str(pack), "--out", str(tmp_path / "runs"), "--quiet"]) == 1
    assert "error[E110]" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("pack", PACK_NAMES)
def test_every_pack_trains_end_to_end(pack, tmp_path):
    source = tiny_pack(tmp_path, pack)
    result = run_training(RunOptions(pack=source, episodes=2, agents=2, out=tmp_path))
    assert result.episodes == 2
    model = HamletModel.load(result.run_dir / "checkpoints" / "model_ep000002.pt")
    assert model.obs_dim == {"L0_0_minimal": 36, "L0_5_dual_resource": 76}.get(pack, model.obs_dim)


def test_eval_uses_the_layout_the_model_was_trained_on(tiny, tmp_path, capsys):
    runs = tmp_path / "runs"
    result = run_training(RunOptions(pack=tiny, episodes=2, out=runs))
    model = HamletModel.load(result.run_dir / "checkpoints" / "model_ep000002.pt")
    layout = model.metadata["affordance_layout"]
    assert list(layout) == ["Bed"] and len(layout["Bed"]) == 2
    from hamlet.runtime.world import TownWorld

    trained_on = TownWorld(tiny_pack(tmp_path / "again"), 1, seed=0).affordance_layout(0)
    assert tuple(layout["Bed"]) == trained_on["Bed"]
    # a folder of runs stands for its newest run's newest model
    assert (
        main(["eval", str(runs / "tiny_L0_0_minimal"), "--pack", str(tiny), "--episodes", "3"]) == 0
    )
    assert "its training layout" in capsys.readouterr().out
    assert (
        main(["eval", str(result.run_dir), "--pack", str(tiny), "--episodes", "3", "--new-layout"])
        == 0
    )
    assert "layouts drawn from the seed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "agents, demonstrating",
    [(1, "(no demonstrator: that takes 4 agents or more)"), (8, "(2 demonstrating)")],
)
def test_the_log_says_the_budget_and_who_demonstrates(tiny, tmp_path, agents, demonstrating):
    options = RunOptions(
        pack=tiny, agent_steps=400, minutes=5, agents=agents, out=tmp_path,
        overrides=["exploration.demonstrations={share: 0.25}"],
    )  # fmt: skip
    result = run_training(options)
    first = (result.run_dir / "run.log").read_text().splitlines()[0]
    assert f"with {agents} agent(s) {demonstrating}, seed 0, " in first
    assert first.endswith("for 400 agent-steps or for 5 minutes"), first
    episodes = read_episodes(result.run_dir / "metrics.sqlite")
    assert episodes and {e["agent"] for e in episodes} <= set(range(agents - agents // 4))


def test_a_stop_while_a_checkpoint_is_written_waits_for_it(tiny, tmp_path, monkeypatch):
    # SIGTERM (a sweep's driver stopping its worker) lands while torch.save writes a
    # checkpoint's bytes: torch turns a KeyboardInterrupt raised there into a RuntimeError
    # from its zip writer, which ended a run as a crash (CI saw it). A periodic checkpoint
    # is written by a thread the signal never reaches; the run stops, and its last
    # checkpoint, written in place, is whole.
    from hamlet.runtime.model import checkpoint

    save, writes = checkpoint.torch.save, []

    class SignalOnThirdWrite:  # (one in the first write leaves torch's writer consistent)
        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            writes.append(len(data))
            if len(writes) == 3:
                os.kill(os.getpid(), signal.SIGTERM)  # handled inside torch's write
            return self.handle.write(data)

        def flush(self):
            self.handle.flush()

    def save_with_a_stop(obj, handle, *args, **kwargs):
        return save(obj, SignalOnThirdWrite(handle), *args, **kwargs)

    monkeypatch.setattr(checkpoint.torch, "save", save_with_a_stop)
    stopped = run_training(RunOptions(pack=tiny, episodes=40, out=tmp_path, checkpoint_every=2))
    monkeypatch.undo()
    assert len(writes) > 3 and stopped.interrupted and 2 <= stopped.episodes < 40
    assert read_state(stopped.run_dir / "metrics.sqlite")["status"] == "interrupted"
    resumed = run_training(RunOptions(resume=stopped.run_dir, episodes=6))
    episodes = [row["episode"] for row in read_episodes(resumed.run_dir / "metrics.sqlite")]
    assert episodes == list(range(6))


@pytest.mark.numeric
def test_training_goes_on_while_a_checkpoint_is_written_and_the_checkpoint_is_exact(
    tiny, tmp_path, monkeypatch
):
    # Each periodic write waits until the agents have taken 20 more steps: written in
    # place, the run could not take them (the write gives up after 10 s and says so).
    # The files still hold the state of the episode they were taken at: a resume from
    # the one at episode 4 gives the episodes and weights of the run straight through.
    from hamlet.runtime.runs import checkpoints

    save, step, steps, went_on = checkpoints.save_checkpoint, Trainer.step, [0], []

    def counted_step(trainer):
        steps[0] += 1
        return step(trainer)

    def slow_save(state, path):
        if (
            path.name.startswith("checkpoint_ep")
            and threading.current_thread().name != "MainThread"
        ):
            start, deadline = steps[0], time.monotonic() + 10
            while steps[0] < start + 20 and time.monotonic() < deadline:
                time.sleep(0.001)
            went_on.append(steps[0] >= start + 20)
        return save(state, path)

    monkeypatch.setattr(Trainer, "step", counted_step)
    monkeypatch.setattr(checkpoints, "save_checkpoint", slow_save)
    options = {"pack": tiny, "episodes": 10, "checkpoint_every": 4}
    first = run_training(RunOptions(**options, out=tmp_path / "a"))
    monkeypatch.undo()
    assert went_on == [True, True]  # the writes at episodes 4 and 8; the final is in place
    saved = sorted(p.name for p in (first.run_dir / "checkpoints").iterdir())
    assert saved == [f"{kind}_ep{n:06d}.pt" for kind in ("checkpoint", "model") for n in (4, 8, 10)]
    for later in (8, 10):  # back to episode 4
        (first.run_dir / "checkpoints" / f"checkpoint_ep{later:06d}.pt").unlink()
    resumed = run_training(RunOptions(resume=first.run_dir))
    straight = run_training(RunOptions(**options, out=tmp_path / "b"))
    assert resumed.episodes == straight.episodes == 10
    assert _rows(resumed.run_dir) == _rows(straight.run_dir)
    a = HamletModel.load(resumed.run_dir / "checkpoints" / "model_ep000010.pt")
    b = HamletModel.load(straight.run_dir / "checkpoints" / "model_ep000010.pt")
    for x, y in zip(a.module.parameters(), b.module.parameters(), strict=True):
        assert torch.equal(x, y)


def test_a_state_over_the_copy_limit_is_written_in_place(tiny, tmp_path, monkeypatch):
    # (a large replay memory would need as much memory again for its copy)
    from hamlet.runtime.runs import checkpoints

    save, threads = checkpoints.save_checkpoint, []

    def noted(state, path):
        threads.append(threading.current_thread().name)
        return save(state, path)

    monkeypatch.setattr(checkpoints, "save_checkpoint", noted)
    for limit, beside in ((10**12, True), (0, False)):
        monkeypatch.setattr(checkpoints, "COPY_LIMIT", limit)
        threads.clear()
        run_training(
            RunOptions(pack=tiny, episodes=5, checkpoint_every=2, out=tmp_path / str(limit))
        )
        periodic, final = threads[:-2], threads[-2:]  # (episodes 2 and 4; 5)
        assert len(periodic) == 4 and final == ["MainThread"] * 2
        assert all((name != "MainThread") == beside for name in periodic), (limit, threads)
