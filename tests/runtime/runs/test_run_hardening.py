"""A run never starts half-made, never continues a history it cannot trust, and ends with a
coded error, its last checkpoint intact, when the disk refuses a write."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
import torch

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.model.checkpoint import load_training_checkpoint
from hamlet.runtime.runs import RunOptions, run_training
from hamlet.schemas.errors import HamletError, RunError, StorageError, UsageError

from ..conftest import tiny_pack


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """A tiny run of 6 episodes with seed 7, finished (copy it before changing it)."""
    folder = tmp_path_factory.mktemp("finished")
    options = RunOptions(pack=tiny_pack(folder), episodes=6, seed=7, out=folder / "runs")
    return run_training(options).run_dir


@pytest.fixture
def run_copy(finished, tmp_path) -> Path:
    copy = tmp_path / "runs" / finished.parent.name / finished.name
    shutil.copytree(finished, copy)
    return copy


def _state(run_dir: Path) -> dict:
    with sqlite3.connect(run_dir / "metrics.sqlite") as db:
        return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM run_state")}


def _error(call, kind: type[HamletError] = HamletError) -> HamletError:
    with pytest.raises(kind) as caught:
        call()
    return caught.value


def _code(call) -> str:
    return _error(call).code


# --- nothing is made before everything is checked ------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"device": "gpu"}, "E300"),
        ({"device": "cuda:0"} if not torch.cuda.is_available() else {"device": "cuda:99"}, "E301"),
        ({"minutes": 0.0}, "E300"),
        ({"minutes": float("nan")}, "E300"),
        ({"episodes": 0}, "E300"),
        ({"agents": -2}, "E300"),
        ({"seed": 2**64}, "E300"),
        ({"pack": "L1_full_observabilty"}, "E103"),
    ],
    ids=[
        "gpu",
        "missing-cuda",
        "zero-minutes",
        "nan-minutes",
        "no-episodes",
        "agents",
        "seed",
        "pack",
    ],
)
def test_a_bad_option_leaves_no_run_folder(change, code, tiny, tmp_path):
    options = RunOptions(pack=tiny, episodes=2, out=tmp_path / "runs")
    for key, value in change.items():
        setattr(options, key, value)
    assert _code(lambda: run_training(options)) == code
    assert not (tmp_path / "runs").exists()


def test_a_usage_error_exits_2_with_the_flag_as_its_place(tiny, tmp_path, capsys):
    assert main(["run", str(tiny), "--device", "gpu", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "error[E300]: --device gpu cannot be used" in err
    assert "--> <command line>  (--device)" in err and "Traceback" not in err


# --- resuming -----------------------------------------------------------------------------


def test_resuming_a_finished_run_needs_more_episodes(run_copy):
    error = _error(lambda: run_training(RunOptions(pack=None, resume=run_copy)), RunError)
    assert error.code == "E311" and "larger than 6" in error.hint


def test_a_resumed_run_keeps_its_seed_everywhere(run_copy):
    result = run_training(RunOptions(pack=None, resume=run_copy, episodes=8))
    assert result.episodes == 8
    assert _state(run_copy)["seed"] == 7
    log = (run_copy / "run.log").read_text()
    assert "seed 7, to episode 6" in log and "seed 7, to episode 8" in log
    state = load_training_checkpoint(run_copy / "checkpoints" / "checkpoint_ep000008.pt")
    assert state.metadata["seed"] == 7
    assert HamletModel.load(run_copy / "checkpoints" / "model_ep000008.pt").metadata["seed"] == 7


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [
        ({"seed": 3}, "E311", "--seed 7, not 3"),
        ({"agents": 4}, "E311", "--agents 1, not 4"),
        ({"pack": "L0_5_dual_resource"}, "E311", "not of L0_5_dual_resource"),
    ],
    ids=["seed", "agents", "pack"],
)
def test_a_resume_that_contradicts_the_run_is_refused(run_copy, options, code, words):
    error = _error(lambda: run_training(RunOptions(resume=run_copy, episodes=9, **options)))
    assert error.code == code and words in error.errors[0].message


def test_resuming_something_that_is_not_a_run(tmp_path):
    assert _code(lambda: run_training(RunOptions(pack=None, resume=tmp_path))) == "E310"


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "empty", "missing", "no-tables"],
)
def test_a_damaged_database_stops_a_resume_and_is_kept(run_copy, damage):
    db = run_copy / "metrics.sqlite"
    for extra in ("metrics.sqlite-wal", "metrics.sqlite-shm"):
        (run_copy / extra).unlink(missing_ok=True)
    original = db.read_bytes()
    if damage == "garbage":
        db.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    elif damage == "truncated":
        db.write_bytes(original[: len(original) // 3])
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "missing":
        db.unlink()
    else:
        with sqlite3.connect(db) as connection:
            connection.execute("DROP TABLE episodes")
    before = db.read_bytes() if db.exists() else None
    assert _code(lambda: run_training(RunOptions(pack=None, resume=run_copy, episodes=9))) == "E312"
    assert (db.read_bytes() if db.exists() else None) == before  # never started afresh


@pytest.mark.parametrize("command", [["replay", "--list"], ["plot"], ["compare"]])
def test_an_empty_database_is_e312_for_every_reader(run_copy, command, capsys):
    (run_copy / "metrics.sqlite").write_bytes(b"")
    assert main([command[0], str(run_copy), *command[1:]]) == 1
    err = capsys.readouterr().err
    assert "error[E312]" in err and "the file is empty" in err
    assert "afresh" not in err  # (that is about resuming)


def test_a_kill_between_the_two_checkpoint_writes_is_mended_on_resume(run_copy):
    checkpoints = run_copy / "checkpoints"
    (checkpoints / "model_ep000006.pt").unlink()  # killed after the training checkpoint
    (checkpoints / ".checkpoint_ep000008.pt.abc123.tmp").write_bytes(b"half a checkpoint")
    run_training(RunOptions(pack=None, resume=run_copy, episodes=7))
    names = {p.name for p in checkpoints.iterdir()}
    assert {"model_ep000006.pt", "model_ep000007.pt"} <= names
    assert not [n for n in names if n.endswith(".tmp")]
    assert HamletModel.load(checkpoints / "model_ep000006.pt").metadata["episode"] == 6


def test_a_damaged_newest_checkpoint_names_the_one_a_resume_could_take(run_copy, tmp_path):
    checkpoints = run_copy / "checkpoints"
    run_training(RunOptions(pack=None, resume=run_copy, episodes=8, checkpoint_every=1))
    pairs = sorted(checkpoints.glob("checkpoint_ep*.pt"))
    newest, before = pairs[-1], pairs[-2]
    newest.write_bytes(newest.read_bytes()[:1000])  # a copy cut short
    error = _error(lambda: run_training(RunOptions(pack=None, resume=run_copy, episodes=9)))
    assert error.code == "E201"
    assert f"to resume from the one before, {before.name}" in error.hint
    # the advice works: moved aside, the resume goes on from the one before
    for path in (newest, checkpoints / newest.name.replace("checkpoint", "model")):
        path.rename(tmp_path / path.name)
    result = run_training(RunOptions(pack=None, resume=run_copy, episodes=9))
    assert result.episodes == 9


def test_a_run_config_edited_after_the_start_is_refused(run_copy):
    brain = run_copy / "config" / "brain.yaml"
    spec = json.loads(brain.read_text().split("\n", 2)[2])
    spec["learning"]["learning_rate"] = 0.5
    brain.write_text(json.dumps(spec))
    error = _error(lambda: run_training(RunOptions(resume=run_copy, episodes=9)), RunError)
    assert error.code == "E311" and "edited" in error.hint


# --- a disk that refuses writes -----------------------------------------------------------


def test_a_full_disk_ends_the_run_with_its_last_checkpoint_kept(tiny, tmp_path, monkeypatch):
    import hamlet.runtime.files as files

    real_fsync, writes = files.os.fsync, []

    def fsync(fd):
        writes.append(fd)
        if len(writes) > 4:  # the third checkpoint pair finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync)
    options = RunOptions(pack=tiny, episodes=40, checkpoint_every=2, out=tmp_path / "runs")
    error = _error(lambda: run_training(options), StorageError)
    assert error.code == "E313" and "No space left on device" in error.errors[0].message
    (run_dir,) = (tmp_path / "runs" / "tiny_L0_0_minimal").iterdir()
    assert _state(run_dir)["status"] == "failed"
    names = sorted(p.name for p in (run_dir / "checkpoints").iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    last_pair = [n for n in names if n.endswith("000004.pt")]
    assert last_pair == ["checkpoint_ep000004.pt", "model_ep000004.pt"]
    HamletModel.load(run_dir / "checkpoints" / "model_ep000004.pt")
    load_training_checkpoint(run_dir / "checkpoints" / "checkpoint_ep000004.pt")


def test_a_file_size_limit_ends_a_real_run_with_e313_and_no_traceback(tiny, tmp_path):
    """The operating system itself refuses the write (ulimit -f), in a separate process."""
    import subprocess
    import sys

    script = (
        "import resource, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))\n"
        "from hamlet.runtime.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    command = [sys.executable, "-c", script, "run", str(tiny), "--episodes", "20", "--quiet"]
    result = subprocess.run(
        [*command, "--out", str(tmp_path / "runs")], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1, result.stderr
    assert "error[E313]: could not write" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_read_only_output_folder_is_e313(tiny, tmp_path, monkeypatch):
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self.is_relative_to(tmp_path / "out"):
            raise PermissionError(errno.EROFS, "Read-only file system")
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    error = _error(lambda: run_training(RunOptions(pack=tiny, out=tmp_path / "out")), StorageError)
    assert error.code == "E313" and "read-only" in error.hint


def test_a_read_only_run_directory_cannot_resume(run_copy, tmp_path):
    """With a real read-only folder: permissions for a normal user; a read-only mount for
    root, whom permissions do not stop."""
    import os
    import subprocess

    if os.geteuid() != 0:
        for path in [run_copy, *run_copy.rglob("*")]:
            path.chmod(0o555 if path.is_dir() else 0o444)
        target = run_copy
    else:
        mount = tmp_path / "readonly"
        mount.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mount)]).returncode != 0:
            pytest.skip("running as root, and cannot mount a read-only file system here")
        try:
            target = mount / run_copy.name
            shutil.copytree(run_copy, target)
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
            error = _error(lambda: run_training(RunOptions(resume=target, episodes=9)))
        finally:
            subprocess.run(["umount", "-l", str(mount)])
        assert error.code == "E313" and "read-only" in error.hint
        return
    error = _error(lambda: run_training(RunOptions(resume=target, episodes=9)))
    assert error.code == "E313"


# --- recordings ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("recorded")
    pack = tiny_pack(folder, "L0_5_dual_resource")
    return run_training(RunOptions(pack=pack, episodes=6, out=folder / "runs")).run_dir


def test_a_recording_path_leading_outside_the_run_is_never_opened(recorded, tmp_path, capsys):
    from hamlet.runtime.runs import list_recordings, recording_file
    from hamlet.runtime.viewer.watch import replay_messages

    run = tmp_path / "run"
    shutil.copytree(recorded, run)
    rows = list_recordings(run)
    assert len(rows) >= 2
    with sqlite3.connect(run / "metrics.sqlite") as db:
        db.execute("UPDATE recordings SET path = '../../../../etc/passwd' WHERE episode = ?",
                   (rows[0]["episode"],))  # fmt: skip
    bad = list_recordings(run)[0]
    assert _code(lambda: recording_file(run, bad)) == "E314"
    with pytest.warns(UserWarning, match="points outside"):
        messages = replay_messages(run)
    assert [m["episode"] for m in messages[1:]] == [r["episode"] for r in rows[1:]]
    assert _code(lambda: replay_messages(run, episode=bad["episode"])) == "E314"


def test_one_missing_recording_does_not_stop_the_others(recorded, tmp_path):
    from hamlet.runtime.runs import list_recordings, recording_file
    from hamlet.runtime.viewer.watch import replay_messages

    run = tmp_path / "run"
    shutil.copytree(recorded, run)
    rows = list_recordings(run)
    recording_file(run, rows[-1]).unlink()
    with pytest.warns(UserWarning, match="not a readable HAMLET recording"):
        messages = replay_messages(run)
    assert len(messages) == len(rows)  # the hello and every recording but one


# --- the commands take a run directory where they take a checkpoint ------------------------


@pytest.mark.parametrize("where", ["run", "checkpoints"])
def test_inspect_export_and_eval_take_a_run_directory(finished, where, tmp_path, capsys):
    target = finished if where == "run" else finished / "checkpoints"
    assert main(["inspect", str(target), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["path"].endswith("model_ep000006.pt")
    assert main(["export", str(target), str(tmp_path / "m.onnx")]) == 0
    assert main(["eval", str(target), "--episodes", "2", "--json"]) == 0


def test_migrate_takes_a_run_directory(run_copy, capsys):
    for model in (run_copy / "checkpoints").glob("model_ep*.pt"):
        model.unlink()
    assert main(["migrate", str(run_copy)]) == 0
    assert "model_ep000006.pt" in capsys.readouterr().out


def test_eval_of_a_run_needs_no_pack_in_configs(tmp_path):
    pack = tiny_pack(tmp_path, "L0_5_dual_resource")
    run_dir = run_training(RunOptions(pack=pack, episodes=2, out=tmp_path / "runs")).run_dir
    shutil.rmtree(pack)  # the pack is gone: the run's own copy of it is enough
    assert main(["eval", str(run_dir), "--episodes", "2"]) == 0
    model = HamletModel.load(run_dir / "checkpoints" / "model_ep000002.pt")
    assert model.metadata["pack_path"] == str(pack.resolve())


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--multiplier", "-1"], "E300"),
        (["--multiplier", "inf"], "E300"),
        (["--stage", "9"], "E300"),
        (["--episodes", "1000000000"], "E300"),
        (["--pack", "L1_full_observability"], "E302"),
        (["--device", "gpu"], "E300"),
    ],
    ids=["negative", "infinite", "stage", "huge", "other-world", "gpu"],
)
def test_eval_refuses_what_cannot_work(finished, args, code, capsys):
    status = main(["eval", str(finished), *args])
    err = capsys.readouterr().err
    assert f"error[{code}]" in err and "Traceback" not in err
    assert status == (2 if code == "E300" else 1)


def test_eval_refuses_a_trained_layout_off_the_grid(finished, tmp_path):
    from hamlet.runtime.runs import evaluate_checkpoint

    model = HamletModel.load(finished / "checkpoints" / "model_ep000006.pt")
    model.metadata["affordance_layout"] = {"Bed": [7, 7]}  # the grid is 3x3
    path = model.save(tmp_path / "model_ep000006.pt")
    with pytest.raises(RunError) as caught:
        evaluate_checkpoint(path, pack=finished / "config", episodes=2)
    assert caught.value.code == "E302" and caught.value.path == "metadata.affordance_layout"
    assert isinstance(UsageError.option("--x", 1, "y"), ValueError)
