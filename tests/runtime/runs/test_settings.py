"""``hamlet run --set``: a run trains with the settings it was given, keeps them in its
config snapshot, its run_state and its checkpoints, and shows them in ``hamlet inspect``."""

from __future__ import annotations

import sqlite3

import pytest

from hamlet.runtime import HamletModel
from hamlet.runtime.cli import main
from hamlet.runtime.runs import RunOptions, read_state, run_training
from hamlet.schemas import load_pack
from hamlet.schemas.errors import HamletError, RunError

from ..conftest import tiny_pack

SETS = ["learning.learning_rate=3e-4", "exploration.epsilon.fraction=0.9", "run.seed=5"]


@pytest.fixture(scope="module")
def set_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("set")
    options = RunOptions(pack=tiny_pack(folder), episodes=2, out=folder / "runs", overrides=SETS)
    return run_training(options).run_dir


def test_the_settings_are_what_the_run_trained_with_and_kept(set_run):
    snapshot = load_pack(set_run / "config")  # the copy alone, without the --sets
    assert snapshot.training.exploration.epsilon.fraction == 0.9
    assert snapshot.training.run.seed == 5
    assert '"learning_rate": 0.0003' in (set_run / "config" / "brain.yaml").read_text()
    assert (
        "--set exploration.epsilon.fraction=0.9"
        in (set_run / "config" / "training.yaml").read_text()
    )
    expected = {
        "learning.learning_rate": 0.0003,
        "exploration.epsilon.fraction": 0.9,
        "run.seed": 5,
    }
    state = read_state(set_run / "metrics.sqlite")
    assert state["overrides"] == expected and state["seed"] == 5  # run.seed is the seed
    model = HamletModel.load(set_run / "checkpoints" / "model_ep000002.pt")
    assert model.metadata["overrides"] == expected


def test_inspect_shows_the_settings(set_run, capsys):
    assert main(["inspect", str(set_run)]) == 0
    out = capsys.readouterr().out
    assert (
        "settings     learning.learning_rate=0.0003 exploration.epsilon.fraction=0.9 run.seed=5"
        in out
    )


def test_a_resume_keeps_the_settings_and_refuses_new_ones(set_run):
    with pytest.raises(RunError) as caught:
        run_training(RunOptions(resume=set_run, episodes=3, overrides=["learning.gamma=0.5"]))
    assert caught.value.code == "E311"


def test_a_bad_setting_is_placed_on_the_command_line_and_makes_no_run(tmp_path, capsys):
    pack = tiny_pack(tmp_path)
    argv = ["run", str(pack), "--out", str(tmp_path / "runs"), "--set", "learning.gama=0.5"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "error[E110]" in err and "--> <command line>:1:" in err and "did you mean 'gamma'" in err
    assert "--set learning.gama=0.5" in err  # the snippet
    assert not (tmp_path / "runs").exists()
    with pytest.raises(HamletError):
        run_training(RunOptions(pack=pack, out=tmp_path / "r", overrides=["run.seed=-1"]))


def test_the_pack_sets_the_agent_count_a_plain_run_uses(tmp_path):
    pack = tiny_pack(tmp_path)
    training = pack / "training.yaml"
    training.write_text(training.read_text().replace("  agents: 1\n", "  agents: 3\n"))
    plain = run_training(RunOptions(pack=pack, episodes=3, out=tmp_path / "a"))
    assert read_state(plain.run_dir / "metrics.sqlite")["agents"] == 3
    chosen = run_training(RunOptions(pack=pack, episodes=3, agents=2, out=tmp_path / "b"))
    assert read_state(chosen.run_dir / "metrics.sqlite")["agents"] == 2


@pytest.mark.parametrize("budget", ["agent_steps", "episodes"])
def test_epsilon_follows_the_budget_of_the_run_not_the_agent_count(budget, tmp_path):
    pack = tiny_pack(tmp_path)  # 40-step episodes
    limit = {"agent_steps": 4000} if budget == "agent_steps" else {"episodes": 100}
    result = run_training(
        RunOptions(pack=pack, agents=4, out=tmp_path / "runs", **limit,
                   overrides=["exploration.epsilon.fraction=0.5"])
    )  # fmt: skip
    db = sqlite3.connect(result.run_dir / "metrics.sqlite")
    rows = db.execute(
        "SELECT episode, env_steps, epsilon FROM episodes ORDER BY episode"
    ).fetchall()
    db.close()
    for episode, env_steps, epsilon in rows:
        done = 4 * env_steps / 4000 if budget == "agent_steps" else episode / 100
        expected = max(0.01, 1.0 - 0.99 * done / 0.5)
        assert epsilon == pytest.approx(expected, abs=0.01), (episode, env_steps)
    assert rows[-1][2] == 0.01  # the floor, from half the budget on
