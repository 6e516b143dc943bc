"""Where a run's time goes, as the user sees it: the ``throughput`` table of
metrics.sqlite, the two status lines and ``hamlet run --json``."""

from __future__ import annotations

import io
import json
import re
import sqlite3

import pytest

from hamlet.runtime.cli import main
from hamlet.runtime.learning.phases import PHASES
from hamlet.runtime.runs import Progress, RunOptions, read_throughput, run_training, runner


@pytest.fixture
def every_episode(monkeypatch):
    """A throughput window closes at every batch of finished episodes (not every 5 s)."""
    monkeypatch.setattr(runner._Progress, "EVERY", 0.0)


@pytest.mark.parametrize("learner", ["inline", "process"])
def test_a_run_writes_throughput_rows_whose_shares_add_up(tiny, tmp_path, every_episode, learner):
    result = run_training(RunOptions(pack=tiny, episodes=8, out=tmp_path, learner=learner))
    rows = read_throughput(result.run_dir / "metrics.sqlite")
    assert len(rows) >= 4
    for row in rows:
        assert sum(row[name] for name in PHASES) == pytest.approx(1.0)
        assert row["agent_steps_per_s"] > 0
    assert [r["episode"] for r in rows] == sorted(r["episode"] for r in rows)
    assert max(r["gradient_steps_per_s"] for r in rows) > 0  # learning started
    assert max(r["learn"] for r in rows) > 0
    # with a learner process, `learn` is the wait for it: RND runs there
    assert (max(r["rnd"] for r in rows) > 0) == (learner == "inline")


def test_a_resume_forgets_the_rows_after_its_checkpoint(tiny, tmp_path, every_episode):
    first = run_training(RunOptions(pack=tiny, episodes=4, out=tmp_path, checkpoint_every=4))
    db = first.run_dir / "metrics.sqlite"
    before = read_throughput(db)
    # a row written after the last checkpoint, by a session that was then killed
    with sqlite3.connect(db) as connection:
        row = dict(before[-1], wall_time=before[-1]["wall_time"] + 1, episode=5)
        connection.execute(f"INSERT INTO throughput VALUES ({','.join('?' * len(row))})",
                           tuple(row.values()))  # fmt: skip
    run_training(RunOptions(pack=None, resume=first.run_dir, episodes=8))
    after = read_throughput(db)
    assert before and len(after) > len(before)
    assert not [r for r in after if r["wall_time"] == row["wall_time"]]
    walls = [r["wall_time"] for r in after]
    assert walls == sorted(walls)  # the resumed session's rows come after the first's


def test_the_progress_display_shows_rates_and_phases(tiny, tmp_path, every_episode):
    out = io.StringIO()
    progress = Progress(8, stream=out, interval=0.0)
    run_training(RunOptions(pack=tiny, episodes=8, out=tmp_path), on_episodes=progress)
    lines = out.getvalue().splitlines()
    assert any("agent-steps/s" in line and "grad-steps/s" in line for line in lines)
    timed = [
        re.search(r"^episode (\d+)/8 \| ([\dhms]+)(?: ETA ([\dhms]+))? \|", line) for line in lines
    ]
    assert all(timed[::2]), lines[::2]  # every first line: elapsed time, then the ETA
    assert any(m[3] is not None for m in timed[::2]), "no ETA once episodes ended"
    phase_lines = [line for line in lines if line.startswith("act ")]
    assert phase_lines and all(
        [word for word in line.split() if not word.endswith("%")] == list(PHASES)
        for line in phase_lines
    )


def test_run_json_prints_progress_lines_then_the_result(tiny, tmp_path, capsys, every_episode):
    code = main(["run", str(tiny), "--episodes", "6", "--out", str(tmp_path), "--json"])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("run directory: ")  # first, before any training
    records = [json.loads(line) for line in captured.out.splitlines()]  # every line is JSON
    progress, result = records[:-1], records[-1]
    assert progress, "no progress line"
    assert result["status"] == "finished" and result["episodes"] == 6
    last = progress[-1]
    assert last["episode"] == 6 and last["episodes_total"] == 6
    assert set(last["phases"]) == set(PHASES)
    assert sum(last["phases"].values()) == pytest.approx(1.0)
    assert last["agent_steps_per_s"] > 0
    assert last["elapsed_s"] > 0 and last["eta_s"] == 0.0  # the budget is spent


def test_run_json_refuses_quiet_and_watch(tiny, tmp_path, capsys):
    for flag in ("--quiet", "--watch"):
        with pytest.raises(SystemExit) as exit:
            main(["run", str(tiny), "--out", str(tmp_path), "--json", flag])
        assert exit.value.code == 2
        assert "--json" in capsys.readouterr().err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_live_display_wraps_to_an_80_column_terminal_without_cutting_figures(
    tiny, tmp_path, every_episode, monkeypatch
):
    import os

    monkeypatch.setattr("shutil.get_terminal_size", lambda *a: os.terminal_size((80, 24)))
    out = _Terminal()
    progress = Progress(8, stream=out)
    progress.interval = 0.0
    run_training(RunOptions(pack=tiny, episodes=8, out=tmp_path), on_episodes=progress)
    # each draw: rows, then (before the next clears the screen below it) the way back up
    draws = out.getvalue().split("\x1b[J")[1:]
    assert len(draws) >= 3
    for draw in draws[:-1]:
        rows, back = re.fullmatch(r"(.*?)((?:\x1b\[\d+A)?\r)", draw, re.S).groups()
        up = rows.count("\n")
        assert back == (f"\x1b[{up}A\r" if up else "\r"), (rows, back)
    last = draws[-1].rstrip("\n").split("\n")
    assert all(len(row) <= 79 for row in last), last
    text = " | ".join(last)
    for figure in ("episode 8/8", "agent-steps/s", "survival", "reward", "eps", "stage", "loss"):
        assert figure in text, (figure, last)
