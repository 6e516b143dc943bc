"""docs/EXPERIMENTS.md stays true: every command it shows is one hamlet takes, its
sweep.yaml is the sweep its command line describes, and its picture is there.

(The outputs it shows come from a 26-minute sweep on a 2-core machine, too long for
the suite: the commands on the page reproduce them.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from hamlet.runtime.cli import build_parser
from hamlet.runtime.experiments.sweep import sweep_from_command_line
from hamlet.schemas.source import parse_yaml
from hamlet.schemas.sweep import parse_sweep

from ...compiler.test_docs import fenced_blocks

DOCS = Path(__file__).resolve().parents[3] / "docs"
PAGE = (DOCS / "EXPERIMENTS.md").read_text()
COMMANDS = [
    line[2:].split(" | ")[0]
    for block in fenced_blocks(PAGE)
    if block.lang == "console"
    for line in block.text.splitlines()
    if line.startswith("$ hamlet ")
]


def test_the_page_shows_the_commands_of_every_step():
    used = {shlex.split(c)[1] for c in COMMANDS}
    assert {"run", "inspect", "plot", "sweep", "compare"} <= used


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_is_one_hamlet_takes(command):
    build_parser().parse_args(shlex.split(command)[1:])  # argparse exits on anything unknown


def test_the_sweep_file_is_the_sweep_of_the_command_line():
    (yaml,) = [b.text for b in fenced_blocks(PAGE) if b.lang == "yaml"]
    from_file = parse_sweep(parse_yaml(yaml, "sweep.yaml"))
    (command,) = [c for c in COMMANDS if c.startswith("hamlet sweep") and "--backend" not in c]
    args = build_parser().parse_args(shlex.split(command)[1:])
    from_line = sweep_from_command_line(
        args.sources, seeds=args.seeds, sets=args.set, agent_steps=args.agent_steps,
        agents=args.agents, name=args.name,
    )  # fmt: skip
    assert from_file.model_dump() == from_line.model_dump()


def test_the_picture_is_there():
    (image,) = re.findall(r"!\[[^]]*\]\((images/[^)]+)\)", PAGE)
    assert (DOCS / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
