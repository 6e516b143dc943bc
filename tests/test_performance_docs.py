"""docs/PERFORMANCE.md stays true to the code: its benchmark commands exist with the
flags it shows, and its status lines have the shape ``hamlet run`` prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hamlet.runtime.learning.phases import PHASES

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "PERFORMANCE.md").read_text(encoding="utf-8")
COMMANDS = sorted(set(re.findall(r"^python (tools/bench/\w+\.py)(.*)$", PAGE, re.M)))


@pytest.mark.parametrize(("script", "args"), COMMANDS)
def test_every_benchmark_command_shown_exists_with_its_flags(script, args):
    assert (ROOT / script).is_file()
    usage = subprocess.run(
        [sys.executable, str(ROOT / script), "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert usage.returncode == 0, usage.stderr
    for flag in re.findall(r"--[a-z-]+", args):
        assert flag in usage.stdout, f"{script} has no {flag}"


def test_the_page_shows_the_commands_it_talks_about():
    shown = {script for script, _ in COMMANDS}
    assert {"tools/bench/env.py", "tools/bench/train.py", "tools/bench/versions.py"} <= shown


def test_the_status_lines_shown_are_the_ones_hamlet_run_prints():
    found = re.search(r"^\$ hamlet run .*\nrun directory: .*\n(.*)\n(.*)$", PAGE, re.M)
    first, second = found.groups()
    time = r"[\dhms]+(?: ETA [\dhms]+)?"  # this session's training time, then what is left
    assert re.match(
        rf"^episode \d+/\d+ \| {time} \| [\d,]+ agent-steps/s \| [\d.]+ grad-steps/s \| ", first
    )
    assert [word for word in second.split() if not word.endswith("%")] == list(PHASES)
