"""``hamlet sweep``: every combination as an ordinary run beside a manifest; checked before
anything is written; resumed after a kill -9 with nothing lost or done twice."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest.mock import ANY

import pytest
import torch

from hamlet.runtime.cli import main
from hamlet.runtime.experiments.backends import RunTask, run_task
from hamlet.runtime.experiments.manifest import Manifest
from hamlet.runtime.experiments.sweep import plan_sweep, run_sweep, sweep_from_command_line
from hamlet.runtime.runs import (
    MetricsDB,
    RunOptions,
    read_episodes,
    read_evaluations,
    read_state,
    run_training,
)
from hamlet.schemas import SpecError
from hamlet.schemas.errors import HamletError, RunError, UsageError
from hamlet.schemas.source import parse_yaml
from hamlet.schemas.sweep import parse_sweep

from ..conftest import tiny_pack


def _spec(pack, **changes):
    options = {
        "seeds": 2, "sets": ["learning.learning_rate=1e-4,1e-3", "run.checkpoint_every=2"],
        "episodes": 4, "workers": 2,
    }  # fmt: skip
    return sweep_from_command_line([str(pack)], **{**options, **changes})


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A finished sweep of 2 settings x 2 seeds on 2 workers, and what made it."""
    folder = tmp_path_factory.mktemp("swept")
    pack = tiny_pack(folder)
    return run_sweep(_spec(pack), out=folder / "sweeps", quiet=True), pack


def test_a_sweep_runs_every_combination_as_an_ordinary_run(swept):
    result, pack = swept
    assert result.counts["finished"] == 4 and not result.interrupted
    runs = Manifest.read(result.folder).runs
    assert [(r["id"], r["seed"], r["settings"]["learning.learning_rate"]) for r in runs] == [
        ("r000", 0, 0.0001), ("r001", 1, 0.0001), ("r002", 0, 0.001), ("r003", 1, 0.001),
    ]  # fmt: skip
    for run in runs:
        run_dir = result.folder / run["run_dir"]
        assert run_dir == result.folder / "runs" / "tiny_L0_0_minimal" / run["id"]
        state = read_state(run_dir / "metrics.sqlite")
        assert state["seed"] == run["seed"] and state["overrides"] == run["settings"]
        assert [e["episode"] for e in read_episodes(run_dir / "metrics.sqlite")] == [0, 1, 2, 3]
        assert read_evaluations(run_dir / "metrics.sqlite")
    # the same command again: nothing left to do, nothing done twice
    again = run_sweep(_spec(pack), out=result.folder.parent, quiet=True)
    assert again.folder == result.folder and again.counts["finished"] == 4


def test_seeds_of_a_group_differ_and_settings_reach_the_runs(swept):
    result, _ = swept
    rewards = {}
    for run in Manifest.read(result.folder).runs:
        rows = read_episodes(result.folder / run["run_dir"] / "metrics.sqlite")
        rewards[run["id"]] = [r["reward"] for r in rows]
        config = (result.folder / run["run_dir"] / "config" / "brain.yaml").read_text()
        assert f'"learning_rate": {run["settings"]["learning.learning_rate"]}' in config
    assert rewards["r000"] != rewards["r001"]


def test_nothing_is_written_before_every_combination_checks_out(tmp_path):
    pack = tiny_pack(tmp_path)
    bad = _spec(pack, sets=["learning.learning_rate=1e-4,-5"])
    with pytest.raises(SpecError) as caught:
        run_sweep(bad, out=tmp_path / "sweeps", quiet=True)
    assert caught.value.code == "E113"
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"episodes": None}, "E300"),  # no budget
        ({"seed_list": [0, 1]}, "E300"),  # --seeds and --seed-list
        ({"sets": ["learning.learnin_rate=1,2"]}, "E110"),
        ({"name": "../elsewhere"}, "E300"),
        ({"agents": 10**9}, "E134"),  # their worlds would not fit in memory
        ({"agents": 401}, "E135"),  # the tiny pack's 400 replay steps leave them none each
        # a setting of the grid can make the shares too short: each combination is checked
        ({"agents": 8, "sets": ["learning.replay.capacity=400,7"]}, "E135"),
    ],
    ids=[
        "no-budget",
        "two-seed-options",
        "unknown-key",
        "name-is-a-path",
        "agents-memory",
        "agents-replay",
        "grid-replay",
    ],
)
def test_command_line_mistakes(tmp_path, changes, code):
    with pytest.raises(HamletError) as caught:
        plan_sweep(_spec(tiny_pack(tmp_path), **changes), out=tmp_path / "sweeps")
    assert caught.value.code == code
    assert not (tmp_path / "sweeps").exists()


def test_a_sweep_file_and_its_located_errors(tmp_path):
    pack = tiny_pack(tmp_path)
    text = f"packs: [{pack}]\nseeds: [3]\ngrid:\n  learning.learning_rate: [0.001]\nbudget: {{episodes: 2}}\n"
    (tmp_path / "sweep.yaml").write_text(text)
    spec = sweep_from_command_line([str(tmp_path / "sweep.yaml")], workers=1)
    assert (spec.seed_list, spec.grid, spec.workers) == (
        [3],
        {"learning.learning_rate": [0.001]},
        1,
    )
    with pytest.raises(UsageError):  # the file defines the seeds
        sweep_from_command_line([str(tmp_path / "sweep.yaml")], seeds=2)
    with pytest.raises(SpecError) as caught:
        parse_sweep(parse_yaml("packs: [a]\nseeds: 2\nbudget: {agent_step: 5}\n", "sweep.yaml"))
    assert (caught.value.code, caught.value.path, caught.value.line) == (
        "E110",
        "budget.agent_step",
        3,
    )


def test_the_same_name_with_other_settings_is_refused(tmp_path):
    pack = tiny_pack(tmp_path)
    plan_sweep(_spec(pack, name="study"), out=tmp_path)
    with pytest.raises(RunError) as caught:
        plan_sweep(_spec(pack, name="study", seeds=3), out=tmp_path)
    assert caught.value.code == "E311"


def test_the_sweep_command(tmp_path, capsys):
    pack = tiny_pack(tmp_path)
    argv = ["sweep", str(pack), "--seeds", "1", "--agent-steps", "80", "--workers", "1"]
    assert main([*argv, "--out", str(tmp_path / "s"), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "sweep done: 1 finished" in out and "hamlet compare" in out
    assert main(["sweep", str(pack), "--seeds", "1", "--out", str(tmp_path)]) == 2  # no budget


def test_a_run_killed_after_its_last_checkpoint_counts_as_finished(tmp_path):
    # its process died before it could record "completed": resuming it finds nothing left
    pack = tiny_pack(tmp_path)
    done = run_training(RunOptions(pack=pack, episodes=3, out=tmp_path, name="r000"))
    db = MetricsDB(done.run_dir / "metrics.sqlite")
    db.set_state(status="running")
    db.close()
    task = RunTask(
        id="r000", pack=str(pack), seed=0, settings={}, out=str(tmp_path),
        run_dir=str(done.run_dir), episodes=3,
    )  # fmt: skip
    threads = torch.get_num_threads()  # a worker's task runs on one thread
    try:
        assert run_task(task)["status"] == "finished"
        # a larger budget trains it further, as a sweep with more episodes would
        longer = run_task(dataclasses.replace(task, episodes=5))
    finally:
        torch.set_num_threads(threads)
    assert longer == {"status": "finished", "episodes": 5, "env_steps": ANY}


def _sweep_command(pack, out, name: str, *, seeds: int, episodes: int) -> list[str]:
    """``hamlet sweep`` of the tiny pack on 2 workers, checkpointing every 2 episodes."""
    return [
        sys.executable, "-m", "hamlet.runtime.cli", "sweep", str(pack), "--seeds", str(seeds),
        "--set", "run.checkpoint_every=2", "--episodes", str(episodes), "--workers", "2",
        "--out", str(out), "--name", name, "--quiet",
    ]  # fmt: skip


def _resume_to_the_end(pack, out, name: str, *, seeds: int, episodes: int) -> None:
    """The same sweep again: every run finishes, with every episode once."""
    spec = sweep_from_command_line(
        [str(pack)], seeds=seeds, sets=["run.checkpoint_every=2"], episodes=episodes,
        workers=2, name=name,
    )  # fmt: skip
    result = run_sweep(spec, out=out, quiet=True)
    runs = Manifest.read(result.folder).runs
    assert result.counts["finished"] == seeds, [r for r in runs if r["status"] != "finished"]
    for run in runs:
        rows = read_episodes(result.folder / run["run_dir"] / "metrics.sqlite")
        assert [r["episode"] for r in rows] == list(range(episodes)), run["id"]


def _wait_for(condition, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_kill_9_of_the_driver_then_the_same_command_resumes_the_sweep(tmp_path):
    pack = tiny_pack(tmp_path)
    out = tmp_path / "sweeps"
    command = _sweep_command(pack, out, "killed", seeds=3, episodes=30)
    driver = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    folder = out / "killed"

    def one_finished_and_one_with_a_checkpoint() -> bool:
        try:
            runs = json.loads((folder / "manifest.json").read_text())["runs"]
        except (OSError, ValueError):
            return False
        started = [
            r for r in runs
            if r["status"] == "running"
            and list((folder / r["run_dir"] / "checkpoints").glob("checkpoint_ep*.pt"))
        ]  # fmt: skip
        return any(r["status"] == "finished" for r in runs) and bool(started)

    try:
        _wait_for(one_finished_and_one_with_a_checkpoint, 120)
        workers = _children_of(driver.pid)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait()
    finished = {r["id"] for r in Manifest.read(folder).runs if r["status"] == "finished"}
    before = {
        r: (folder / "runs" / "tiny_L0_0_minimal" / r / "metrics.sqlite").stat().st_mtime_ns
        for r in finished
    }
    # the orphaned runs notice the driver is gone, save and stop
    _wait_for(lambda: not [pid for pid in workers if _alive(pid)], 60)
    _resume_to_the_end(pack, out, "killed", seeds=3, episodes=30)
    for run_id, mtime in before.items():  # finished runs were left alone
        path = folder / "runs" / "tiny_L0_0_minimal" / run_id / "metrics.sqlite"
        assert path.stat().st_mtime_ns == mtime


def _children_of(pid: int) -> list[int]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        if f"\nPPid:\t{pid}\n" in text:
            found.append(int(status.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in state


def test_ctrl_c_stops_every_run_cleanly_and_the_sweep_resumes(tmp_path):
    pack = tiny_pack(tmp_path)
    out = tmp_path / "sweeps"
    command = _sweep_command(pack, out, "stopped", seeds=2, episodes=60)
    # A terminal's foreground job takes Ctrl-C; a background job of a script (`.ci/run &`)
    # inherits SIGINT ignored, and would rightly train on. Start as the foreground would.
    driver = subprocess.Popen(
        command, start_new_session=True, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    folder = out / "stopped"

    def both_have_a_checkpoint() -> bool:
        found = list(folder.glob("runs/*/*/checkpoints/checkpoint_ep*.pt"))
        return len({p.parent.parent for p in found}) == 2

    _wait_for(both_have_a_checkpoint, 120)
    os.killpg(driver.pid, signal.SIGINT)  # what Ctrl-C in its terminal sends
    assert driver.wait(timeout=60) == 130, driver.stderr.read()
    assert "Traceback" not in driver.stderr.read()
    runs = Manifest.read(folder).runs
    assert {r["status"] for r in runs} <= {"interrupted", "finished"}
    for run in runs:
        state = read_state(folder / run["run_dir"] / "metrics.sqlite")
        log = (folder / run["run_dir"] / "run.log").read_text()
        assert state["status"] in ("interrupted", "completed"), (run, log)
    _resume_to_the_end(pack, out, "stopped", seeds=2, episodes=60)


def test_a_sweep_without_a_budget_says_so(tmp_path, capsys):
    from hamlet.runtime.cli import main

    assert main(["sweep", str(tiny_pack(tmp_path)), "--out", str(tmp_path / "sweeps")]) == 2
    err = capsys.readouterr().err
    assert "error[E300]: a budget is needed" in err and "--agent-steps N" in err
    assert "(none)" not in err
