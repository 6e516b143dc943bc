"""docs/WATCHING.md stays true: every option it lists exists on the commands it names,
its recording example runs, and its recordings table matches the database."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from hamlet.runtime.cli import build_parser
from hamlet.runtime.runs import RunOptions, run_training

from ...compiler.test_docs import fenced_blocks
from ..conftest import tiny_pack

PAGE = (Path(__file__).resolve().parents[3] / "docs" / "WATCHING.md").read_text()


def _options(command: str) -> set[str]:
    commands = build_parser()._subparsers._group_actions[0].choices
    return {s for action in commands[command]._actions for s in action.option_strings}


def test_every_option_exists_on_the_commands_named():
    rows = re.findall(r"^\| `(--[a-z-]+)` \| ([^|]+) \|", PAGE, re.M)
    assert len(rows) >= 10
    for option, commands in rows:
        for command in re.findall(r"`(\w+)`", commands):
            assert option in _options(command), (option, command)


def test_recording_example_and_table(tmp_path):
    run = run_training(
        RunOptions(pack=tiny_pack(tmp_path, "L0_5_dual_resource"), episodes=3, out=tmp_path)
    )
    block = next(b for b in fenced_blocks(PAGE) if "load_recording" in b.text)
    exec(compile(block.text, "docs/WATCHING.md", "exec"), {"run_dir": str(run.run_dir)})
    documented = re.findall(r"^\| `(\w+)` \|", PAGE.split("## Recordings")[1], re.M)
    db = sqlite3.connect(run.run_dir / "metrics.sqlite")
    columns = [row[1] for row in db.execute("PRAGMA table_info(recordings)")]
    assert documented == columns


def test_the_yaml_example_is_l0_5s_recording_section():
    from hamlet.configs import pack_dir

    block = next(b for b in fenced_blocks(PAGE) if b.lang == "yaml")
    shipped = (pack_dir("L0_5_dual_resource") / "training.yaml").read_text()
    assert block.text.strip() in shipped
