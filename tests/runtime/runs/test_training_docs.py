"""docs/TRAINING.md stays true: its Python examples run (after a tiny real run), and
every option, table and column it names exists."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from hamlet.configs import PACK_NAMES
from hamlet.runtime import HamletModel
from hamlet.runtime.cli import build_parser
from hamlet.runtime.runs import RunOptions, evaluate, run_training
from hamlet.schemas import load_pack

from ...compiler.test_docs import fenced_blocks
from ..conftest import tiny_pack

PAGE = (Path(__file__).resolve().parents[3] / "docs" / "TRAINING.md").read_text()


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_training(RunOptions(pack=tiny_pack(tmp_path), episodes=6, out=tmp_path / "runs"))
    namespace = {"run_dir": str(result.run_dir)}
    blocks = [b for b in fenced_blocks(PAGE) if b.lang == "python"]
    assert len(blocks) >= 2
    for block in blocks:
        exec(compile(block.text, f"docs/TRAINING.md:{block.line}", "exec"), namespace)


def test_every_run_option_in_the_table_exists():
    run = next(
        a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "run"
    )[1]
    known = {s for action in run._actions for s in action.option_strings}
    documented = set(re.findall(r"^\| `(--[a-z-]+)", PAGE, re.M))
    assert documented and documented <= known
    assert {"--episodes", "--agents", "--seed", "--resume", "--minutes"} <= documented


def test_the_database_tables_and_columns_are_as_documented(tmp_path):
    result = run_training(RunOptions(pack=tiny_pack(tmp_path), episodes=2, out=tmp_path / "runs"))
    db = sqlite3.connect(result.run_dir / "metrics.sqlite")
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", PAGE, re.M)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {table for table, _ in rows} == tables == {
        "episodes", "curriculum_transitions", "affordance_transitions", "recordings",
        "evaluations", "run_state", "throughput",
    }  # fmt: skip
    for table, columns in rows:
        actual = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        columns = columns.split(":")[0] if table == "run_state" else columns  # then its keys
        named = set(re.findall(r"`(\w+)`", columns)) - {"died", "retired", "cut_off"}
        assert actual and named <= actual, table


def test_the_baseline_table_is_what_hamlet_eval_measures():
    rows = re.findall(r"^\| (L\d_\w+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", PAGE, re.M)
    assert {name for name, *_ in rows} == set(PACK_NAMES)
    for name, *shown in rows:
        pack = load_pack(name)
        model = HamletModel.from_spec(pack.directory / "brain.yaml", seed=0)
        scores = {s.policy: s.mean_survival for s in evaluate(model, pack, episodes=100)}
        measured = [scores["heuristic"], scores["random"], scores["always-WAIT"]]
        assert measured == pytest.approx([float(v) for v in shown], abs=1.0), name
